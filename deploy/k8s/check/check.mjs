#!/usr/bin/env node
// check: validates rendered Kubernetes manifests offline (no cluster, no API server).
//
//   node check.mjs schema FILE...            every object against its schema (schema.mjs), unknown
//                                            fields included: one line per object
//   node check.mjs conventions FILE...       what the schemas cannot know: taskd's probes, user,
//                                            resources and data directory; Services, monitors and
//                                            job labels that find each other; the monitoring
//                                            objects equal to stack/prometheus/rules and dashboards/
//   node check.mjs rules FILE... --out DIR   writes each PrometheusRule's spec to DIR/NAME.yml for
//                                            promtool
//
// FILE is the output of `kubectl kustomize` (several YAML documents), or - for stdin. Prints
// "PASS<TAB>what" or "FAIL<TAB>what<TAB>problem; problem" per check, for
// tests/k8s/test_manifests.sh to turn into TAP. Exit 0 when all pass, 1 otherwise, 2 on misuse.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { packageVersions, validateObject } from "./schema.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const RULES_DIR = "stack/prometheus/rules";
const DASHBOARDS_DIR = "dashboards";

function readObjects(file) {
  const text = readFileSync(file === "-" ? 0 : file, "utf8");
  const objects = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj !== null) objects.push(obj);
  }
  return objects;
}

const id = (o) => `${o.kind}/${o.metadata?.name ?? "?"}`;

let failures = 0;
function report(what, problems) {
  if (problems.length) failures++;
  console.log(problems.length ? `FAIL\t${what}\t${problems.join("; ")}` : `PASS\t${what}`);
}

// ---- schema -----------------------------------------------------------------------------------

async function checkSchemas(objects, label) {
  const v = packageVersions();
  for (const o of objects) {
    const via = o.apiVersion?.startsWith("monitoring.coreos.com/")
      ? `@kubernetes-models/prometheus-operator ${v["@kubernetes-models/prometheus-operator"]}`
      : `kubernetes-models ${v["kubernetes-models"]}`;
    report(`${label}${id(o)} validates against its schema (${via}, unknown fields refused)`, await validateObject(o));
  }
}

// ---- conventions ------------------------------------------------------------------------------

const matches = (selector, labels) =>
  !!selector && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const envValue = (container, name) => container.env?.find((e) => e.name === name)?.value;

function checkTaskd(sts, objects) {
  const problems = [];
  const spec = sts.spec ?? {};
  const pod = spec.template?.spec ?? {};
  const c = pod.containers?.find((x) => x.name === "taskd");
  if (!c) return ["no container named taskd"];
  if (spec.replicas !== 1) problems.push(`replicas is ${spec.replicas}: SQLite has one writer, keep exactly 1`);
  const probe = (p, want) => {
    const get = c[p]?.httpGet;
    if (!get || get.path !== want) problems.push(`${p} must be an HTTP GET of ${want}, is ${JSON.stringify(c[p] ?? null)}`);
    else if (!c.ports?.some((x) => x.name === get.port || x.containerPort === get.port))
      problems.push(`${p} probes port ${get.port}, which the container does not declare`);
  };
  probe("livenessProbe", "/livez");
  probe("readinessProbe", "/readyz");
  const sc = { ...pod.securityContext, ...c.securityContext };
  if (sc.runAsNonRoot !== true) problems.push("runAsNonRoot is not true");
  if (!(sc.runAsUser > 0)) problems.push("runAsUser is not a non-root uid");
  if (sc.allowPrivilegeEscalation !== false) problems.push("allowPrivilegeEscalation is not false");
  if (!c.securityContext?.capabilities?.drop?.includes("ALL")) problems.push("capabilities are not all dropped");
  for (const kind of ["requests", "limits"])
    for (const r of ["cpu", "memory"])
      if (!c.resources?.[kind]?.[r]) problems.push(`no ${r} in resources.${kind}`);
  // The database's directory is a mounted claim, never the file itself (the blog's fault).
  const db = envValue(c, "TASKD_DB");
  if (!db) problems.push("TASKD_DB is not set");
  else {
    const mount = (c.volumeMounts ?? []).find((m) => path.posix.dirname(db) === m.mountPath);
    const claims = (spec.volumeClaimTemplates ?? []).map((t) => t.metadata?.name);
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === db))
      problems.push(`a volume is mounted at the database file ${db}; mount its directory`);
    if (!mount) problems.push(`nothing is mounted at ${path.posix.dirname(db)}, the directory of ${db}`);
    else if (mount.subPath || mount.subPathExpr) problems.push(`the data mount uses subPath ${mount.subPath ?? mount.subPathExpr}`);
    else if (!claims.includes(mount.name)) problems.push(`${mount.mountPath} is not a volumeClaimTemplate (data would not persist)`);
  }
  const podLabels = spec.template?.metadata?.labels;
  if (!matches(spec.selector?.matchLabels, podLabels)) problems.push("the selector does not match the pod's labels");
  const governing = objects.find((o) => o.kind === "Service" && o.metadata?.name === spec.serviceName);
  if (!governing) problems.push(`serviceName ${spec.serviceName} names no Service`);
  else if (governing.spec?.clusterIP !== "None") problems.push(`the governing Service ${spec.serviceName} is not headless`);
  return problems;
}

// A Service that selects `podLabels` and exposes a port the pods declare.
function checkService(svc, workloads) {
  const target = workloads.find((w) => matches(svc.spec?.selector, w.spec?.template?.metadata?.labels));
  if (!target) return [`its selector ${JSON.stringify(svc.spec?.selector)} matches no workload's pods`];
  const ports = target.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
  return (svc.spec?.ports ?? [])
    .filter((p) => !ports.some((cp) => cp.name === p.targetPort || cp.containerPort === (p.targetPort ?? p.port)))
    .map((p) => `port ${p.name} targets ${p.targetPort ?? p.port}, which ${id(target)} does not declare`);
}

// The rules and dashboards select job="taskd" and job="loadgen": the monitors must produce them.
function checkMonitor(m, objects, wantJob) {
  const problems = [];
  const isPod = m.kind === "PodMonitor";
  const candidates = isPod
    ? objects.filter((o) => o.spec?.template?.metadata?.labels).map((o) => ({ obj: o, labels: o.spec.template.metadata.labels, ports: o.spec.template.spec.containers.flatMap((c) => c.ports ?? []) }))
    : objects.filter((o) => o.kind === "Service").map((o) => ({ obj: o, labels: o.metadata?.labels, ports: o.spec?.ports ?? [] }));
  const selected = candidates.filter((c) => matches(m.spec?.selector?.matchLabels, c.labels));
  if (selected.length === 0) return [`selects nothing in this overlay (${JSON.stringify(m.spec?.selector)})`];
  if (selected.length > 1) problems.push(`selects ${selected.map((c) => id(c.obj)).join(", ")}: each target would be scraped twice`);
  const endpoints = isPod ? m.spec.podMetricsEndpoints : m.spec.endpoints;
  for (const s of selected) {
    const job = m.spec.jobLabel ? s.labels?.[m.spec.jobLabel] : isPod ? undefined : s.obj.metadata.name;
    if (job !== wantJob) problems.push(`the job label would be ${JSON.stringify(job ?? `${m.metadata.namespace ?? "ns"}/${m.metadata.name}`)} for ${id(s.obj)}, but the alert rules and dashboards select job="${wantJob}"`);
    for (const e of endpoints ?? [])
      if (!s.ports.some((p) => p.name === e.port)) problems.push(`endpoint port ${e.port} is not a named port of ${id(s.obj)}`);
  }
  return problems;
}

function sourceFiles(dir, exts) {
  return readdirSync(path.join(ROOT, dir))
    .filter((f) => exts.some((e) => f.endsWith(e)))
    .sort()
    .map((f) => path.join(dir, f));
}

// Every rule file and dashboard is in the rendered output, exactly, and nothing else is.
function checkSources(objects) {
  const rules = objects.filter((o) => o.kind === "PrometheusRule");
  const boards = objects.filter((o) => o.kind === "ConfigMap" && o.metadata?.labels?.grafana_dashboard === "1");
  const problems = [];
  const seenRules = new Set();
  for (const file of sourceFiles(RULES_DIR, [".yml", ".yaml"])) {
    const want = parseYaml(readFileSync(path.join(ROOT, file), "utf8"));
    const got = rules.find((r) => isDeepStrictEqual(r.spec, want));
    if (!got) problems.push(`${file} has no PrometheusRule with the same groups (run make k8s)`);
    else seenRules.add(got);
  }
  for (const r of rules) if (!seenRules.has(r)) problems.push(`${id(r)} comes from no file in ${RULES_DIR} (run make k8s)`);
  const seenBoards = new Set();
  for (const file of sourceFiles(DASHBOARDS_DIR, [".json"])) {
    const want = readFileSync(path.join(ROOT, file), "utf8");
    const key = path.basename(file);
    const got = boards.find((b) => b.data?.[key] === want);
    if (!got) problems.push(`${file} is in no dashboard ConfigMap byte for byte (run make k8s)`);
    else seenBoards.add(got);
  }
  for (const b of boards) if (!seenBoards.has(b)) problems.push(`${id(b)} comes from no file in ${DASHBOARDS_DIR} (run make k8s)`);
  return { problems, rules: rules.length, boards: boards.length };
}

function checkConventions(objects, label) {
  const workloads = objects.filter((o) => ["StatefulSet", "Deployment", "Job", "DaemonSet"].includes(o.kind));
  const sts = objects.find((o) => o.kind === "StatefulSet" && o.metadata?.name === "taskd");
  if (sts) report(`${label}taskd: one replica, /livez and /readyz probes, non-root, resources, database directory on a claim`, checkTaskd(sts, objects));
  for (const svc of objects.filter((o) => o.kind === "Service"))
    report(`${label}${id(svc)} selects pods that declare its ports`, checkService(svc, workloads));
  for (const m of objects.filter((o) => o.kind === "ServiceMonitor" || o.kind === "PodMonitor")) {
    const want = m.metadata?.labels?.["app.kubernetes.io/name"];
    const inOverlay = m.kind === "ServiceMonitor" || workloads.some((w) => matches(m.spec?.selector?.matchLabels, w.spec?.template?.metadata?.labels));
    if (inOverlay) report(`${label}${id(m)} finds its targets and labels them job="${want}"`, checkMonitor(m, objects, want));
  }
  const monitoring = objects.filter((o) => ["PrometheusRule", "ServiceMonitor", "PodMonitor"].includes(o.kind));
  if (monitoring.length) {
    const unlabelled = monitoring.filter((o) => !o.metadata?.labels?.release).map(id);
    report(`${label}rules and monitors carry the release label kube-prometheus-stack's Prometheus selects`, unlabelled.map((n) => `${n} has no release label`));
    const s = checkSources(objects);
    report(`${label}the ${s.rules} PrometheusRules and ${s.boards} dashboard ConfigMaps are exactly ${RULES_DIR}/ and ${DASHBOARDS_DIR}/`, s.problems);
  }
  for (const job of objects.filter((o) => o.kind === "Job" && o.spec?.completionMode === "Indexed")) {
    const problems = [];
    if (job.spec.parallelism !== job.spec.completions) problems.push(`parallelism ${job.spec.parallelism} differs from completions ${job.spec.completions}: the shards would not run together`);
    const c = job.spec.template.spec.containers[0];
    const shards = envValue(c, "LOADGEN_SHARDS");
    if (shards !== String(job.spec.completions)) problems.push(`LOADGEN_SHARDS is ${shards}, completions ${job.spec.completions}`);
    for (const other of objects.filter((o) => o.kind === "Job" && o !== job)) {
      const n = envValue(other.spec.template.spec.containers[0], "LOADGEN_SHARDS");
      if (n !== undefined && n !== String(job.spec.completions)) problems.push(`${id(other)} waits for ${n} shards, the Indexed Job runs ${job.spec.completions}`);
    }
    report(`${label}${id(job)}: every pod runs together and the merge step waits for all ${job.spec.completions} shards`, problems);
  }
}

function writeRules(objects, out) {
  mkdirSync(out, { recursive: true });
  for (const r of objects.filter((o) => o.kind === "PrometheusRule")) {
    writeFileSync(path.join(out, `${r.metadata.name}.yml`), JSON.stringify(r.spec, null, 2) + "\n");
    console.log(path.join(out, `${r.metadata.name}.yml`));
  }
}

async function main(argv) {
  const [command, ...rest] = argv;
  const outAt = rest.indexOf("--out");
  const out = outAt >= 0 ? rest.splice(outAt, 2)[1] : undefined;
  if (!["schema", "conventions", "rules"].includes(command) || rest.length === 0 || (command === "rules") !== !!out) {
    console.error("usage: check.mjs schema|conventions FILE... | check.mjs rules FILE... --out DIR");
    return 2;
  }
  for (const file of rest) {
    const objects = readObjects(file);
    const label = rest.length > 1 ? `${file}: ` : "";
    if (command === "schema") await checkSchemas(objects, label);
    else if (command === "conventions") checkConventions(objects, label);
    else writeRules(objects, out);
  }
  return failures ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`check.mjs: ${err.message}`);
    process.exit(2);
  },
);
