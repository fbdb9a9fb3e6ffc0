#!/usr/bin/env node
// job_local: runs loadgen's Indexed Job and its merge Job from rendered manifests on this machine,
// as Kubernetes would run them: each Job's exact command and args, the environment built from the
// container's env (values, and ConfigMap keys resolved from the rendered ConfigMaps), $(VAR)
// references expanded the way the kubelet expands them, and in pod i of the Indexed Job
// JOB_COMPLETION_INDEX=i, as the Job controller sets it. The N shard processes and the merge run
// at the same time; the merge's exit code is the verdict and this script's exit code.
//
//   node job_local.mjs RENDERED.yaml [--set CONFIGMAP.KEY=VALUE]... [--start-in SECONDS]
//                      [--merge-only] [--timeout SECONDS]
//
// --set changes a ConfigMap value (say loadgen-config.TARGET=http://127.0.0.1:5000): the
// parameters a user's overlay would change, never the commands. The ConfigMap loadgen-start,
// which a user creates just before applying the Jobs, gets start-at = now + --start-in (3 s).
// Commands run with the PATH of this process (put build/bin first to use a local loadgen).
// Prints each process's output, prefixed by its pod's name, then "verdict: exit N".
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

function usage(message) {
  console.error(`job_local.mjs: ${message}`);
  console.error("usage: job_local.mjs RENDERED.yaml [--set CONFIGMAP.KEY=VALUE]... [--start-in SECONDS] [--merge-only] [--timeout SECONDS]");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { sets: [], startIn: 3, mergeOnly: false, timeout: 300 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--set" && i + 1 < argv.length) o.sets.push(argv[++i]);
    else if (a === "--start-in" && i + 1 < argv.length) o.startIn = Number(argv[++i]);
    else if (a === "--timeout" && i + 1 < argv.length) o.timeout = Number(argv[++i]);
    else if (a === "--merge-only") o.mergeOnly = true;
    else if (!a.startsWith("-") && !o.file) o.file = a;
    else usage(`bad argument ${a}`);
  }
  if (!o.file) usage("name the rendered manifests");
  return o;
}

// The kubelet's expansion of $(VAR) in command and args: a defined variable is replaced, $$ is a
// literal $, and a reference to an undefined variable stays as written.
function expand(text, env) {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name) =>
    m === "$$" ? "$" : Object.hasOwn(env, name) ? env[name] : m);
}

// The container's environment as the kubelet builds it, in order; JOB_COMPLETION_INDEX from the
// Job controller's fieldRef to the pod's completion-index annotation.
function containerEnv(container, configMaps, index) {
  const env = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = expand(String(e.value), env);
    else if (e.valueFrom?.configMapKeyRef) {
      const { name, key } = e.valueFrom.configMapKeyRef;
      const value = configMaps.get(name)?.[key];
      if (value === undefined) throw new Error(`${container.name}: env ${e.name} needs ConfigMap ${name} key ${key}, which does not exist (the pod would not start)`);
      env[e.name] = value;
    } else throw new Error(`${container.name}: env ${e.name}: only values and configMapKeyRef are emulated`);
  }
  if (index !== undefined) env.JOB_COMPLETION_INDEX = String(index);
  return env;
}

function run(podName, container, env, timeoutMs) {
  const argv = [...(container.command ?? []), ...(container.args ?? [])].map((a) => expand(a, env));
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("error", (err) => (output += `cannot run ${argv[0]}: ${err.message}\n`));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      for (const line of output.split("\n").filter(Boolean)) console.log(`${podName}: ${line}`);
      resolve(code ?? (signal ? 128 + 15 : 1));
    });
  });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const objects = parseAllDocuments(readFileSync(o.file, "utf8")).map((d) => d.toJS()).filter(Boolean);
  const configMaps = new Map(objects.filter((x) => x.kind === "ConfigMap").map((c) => [c.metadata.name, { ...c.data }]));
  if (!configMaps.has("loadgen-start")) {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + o.startIn * 1000);
    configMaps.set("loadgen-start", { "start-at": at.toISOString().replace(/\.000Z$/, "Z") });
  }
  for (const s of o.sets) {
    const m = /^([^.=]+)\.([^=]+)=(.*)$/s.exec(s);
    if (!m || !configMaps.has(m[1])) usage(`--set ${s}: expected CONFIGMAP.KEY=VALUE with a ConfigMap of the manifests (or loadgen-start)`);
    configMaps.get(m[1])[m[2]] = m[3];
  }
  const jobs = objects.filter((x) => x.kind === "Job");
  const shards = jobs.find((j) => j.spec.completionMode === "Indexed");
  const merge = jobs.find((j) => j !== shards);
  if (!shards || !merge) usage("the manifests need an Indexed Job and a merge Job");
  const timeoutMs = o.timeout * 1000;
  const runs = [];
  if (!o.mergeOnly) {
    for (let i = 0; i < shards.spec.completions; i++) {
      const c = shards.spec.template.spec.containers[0];
      runs.push(run(`${shards.metadata.name}-${i}`, c, containerEnv(c, configMaps, i), timeoutMs));
    }
  }
  const mc = merge.spec.template.spec.containers[0];
  const verdict = run(merge.metadata.name, mc, containerEnv(mc, configMaps), timeoutMs);
  const codes = await Promise.all(runs);
  codes.forEach((code, i) => console.log(`${shards.metadata.name}-${i}: exit ${code}`));
  const code = await verdict;
  console.log(`start-at: ${configMaps.get("loadgen-start")["start-at"]}`);
  console.log(`verdict: exit ${code}`);
  return codes.some((c) => c !== 0) && code === 0 ? 1 : code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`job_local.mjs: ${err.message}`);
    process.exit(2);
  },
);
