// prometheus: Prometheus's own PromQL parser (/api/v1/format_query) and query API.
//
// The grammar a dashboard is written against is the server's, so queries are parsed by a real
// Prometheus: either one the caller names, or a throwaway one started here on 127.0.0.1 port 0
// with an empty configuration and a temporary data directory, stopped and removed on exit.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { httpGet, httpPostForm } from './http.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts `bin` and resolves to { url, stop() } once /-/ready answers 200. Rejects with a sentence
// when the binary is missing or does not come up within timeoutMs. opts.dataDir: serve the TSDB
// in that directory (a run's recorded data; it scrapes nothing) instead of an empty one;
// opts.lookbackDelta: --query.lookback-delta, as the run's Prometheus had it.
export async function startPrometheus(bin = 'prometheus', timeoutMs = 15000, opts = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'taskbench-promparse-'));
  const config = path.join(dir, 'prometheus.yml');
  await writeFile(config, '# throwaway: it only answers queries\nscrape_configs: []\n');
  const args = [
    `--config.file=${config}`,
    `--storage.tsdb.path=${opts.dataDir || path.join(dir, 'data')}`,
    '--web.listen-address=127.0.0.1:0',
    '--log.level=info',
  ];
  if (opts.dataDir) args.push('--storage.tsdb.retention.time=100y');
  if (opts.lookbackDelta) args.push(`--query.lookback-delta=${opts.lookbackDelta}`);
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let exited = null;
  let spawnError = null;
  child.stderr.on('data', (d) => {
    if (log.length < 65536) log += d.toString();
  });
  child.on('exit', (code, signal) => {
    exited = signal || code;
  });
  child.on('error', (e) => {
    spawnError = e;
  });
  const stop = async () => {
    if (exited === null && !spawnError) {
      child.kill('SIGTERM');
      for (let i = 0; i < 50 && exited === null; i++) await sleep(100);
      if (exited === null) child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };
  const onExit = () => {
    if (exited === null) child.kill('SIGKILL');
  };
  process.once('exit', onExit);

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawnError) {
      await stop();
      throw new Error(
        `cannot start ${bin} to parse PromQL: ${spawnError.code === 'ENOENT' ? 'not installed' : spawnError.message}` +
          ' (install Debian\'s prometheus package, or pass --prometheus-parser URL of a running Prometheus)',
      );
    }
    if (exited !== null) {
      await stop();
      throw new Error(`${bin} exited (${exited}) before it was ready; its log:\n${log.slice(-2000)}`);
    }
    // Prometheus 2.x logs the address it really bound: msg="Listening on" address=127.0.0.1:PORT
    const m = /msg="Listening on" address=(127\.0\.0\.1:\d+)/.exec(log);
    if (m && !m[1].endsWith(':0')) {
      const url = `http://${m[1]}`;
      try {
        const res = await httpGet(`${url}/-/ready`, 2000);
        if (res.status === 200) return { url, stop };
      } catch {
        // not listening yet
      }
    }
    await sleep(50);
  }
  await stop();
  throw new Error(`${bin} did not become ready within ${timeoutMs} ms; its log:\n${log.slice(-2000)}`);
}

// Parses one query with Prometheus. Resolves to { ok: true, formatted } or { ok: false, error }.
export async function formatQuery(url, query) {
  const res = await httpPostForm(`${url}/api/v1/format_query`, { query }, 10000);
  let body;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new Error(`${url}/api/v1/format_query answered HTTP ${res.status} with no JSON: is it Prometheus 2.42 or newer?`);
  }
  if (body.status === 'success') return { ok: true, formatted: body.data };
  if (res.status === 404) throw new Error(`${url} has no /api/v1/format_query: Prometheus 2.42 or newer is needed`);
  // "invalid parameter \"query\": 1:6: parse error: ..." -> keep the parser's own words
  const error = String(body.error || `HTTP ${res.status}`).replace(/^invalid parameter "query": /, '');
  return { ok: false, error };
}

// Runs an instant query at `time` (unix seconds). Resolves to the result vector (array of
// { metric, value: number }) or a scalar ({ scalar: number }); rejects with Prometheus's error.
export async function instantQuery(url, query, time) {
  const params = { query };
  if (time !== undefined) params.time = String(time);
  const res = await httpPostForm(`${url}/api/v1/query`, params, 30000);
  let body;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new Error(`${url}/api/v1/query answered HTTP ${res.status} with no JSON`);
  }
  if (body.status !== 'success') throw new Error(`query failed: ${body.error}: ${query}`);
  const { resultType, result } = body.data;
  if (resultType === 'scalar') return { scalar: Number(result[1]) };
  if (resultType === 'matrix') return result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]) }));
  if (resultType !== 'vector') throw new Error(`expected an instant vector, got a ${resultType}: ${query}`);
  return result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

// Runs a range query as Grafana sends it (start, end, step in ms). Resolves to
// [{ metric, values: [[t (ms), value]] }]; rejects with Prometheus's error sentence (the error
// has .prometheus set when Prometheus refused the query itself).
export async function rangeQuery(url, query, { start, end, step }) {
  const params = { query, start: String(start / 1000), end: String(end / 1000), step: String(step / 1000) };
  const res = await httpPostForm(`${url}/api/v1/query_range`, params, 60000);
  let body;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new Error(`${url}/api/v1/query_range answered HTTP ${res.status} with no JSON`);
  }
  if (body.status !== 'success') {
    const e = new Error(`${body.error}`);
    e.prometheus = true;
    throw e;
  }
  return body.data.result.map((r) => ({ metric: r.metric || {}, values: r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]) }));
}

// GETs a Prometheus API path with query parameters; resolves to `data`, rejects with a sentence.
export async function apiGet(url, apiPath, params = {}, timeoutMs = 15000) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) for (const x of v) qs.append(k, x);
    else if (v !== undefined && v !== null) qs.append(k, String(v));
  }
  const full = `${url}${apiPath}${qs.toString() ? `?${qs}` : ''}`;
  const res = await httpGet(full, timeoutMs);
  let body;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new Error(`${url}${apiPath} answered HTTP ${res.status} without JSON: is ${url} a Prometheus?`);
  }
  if (body.status !== 'success') throw new Error(`${apiPath}: ${body.error || `HTTP ${res.status}`}`);
  return body.data;
}

function rangeParams(range) {
  return range ? { start: range.start, end: range.end } : {};
}

// A Grafana variable query against Prometheus, as Grafana's Prometheus datasource runs it:
// label_values(label), label_values(selector, label), label_names(), metrics(regex) and
// query_result(expr). Resolves to the list of values (strings), in Prometheus's order.
export async function labelValuesQuery(url, query, range) {
  const q = String(query).trim();
  let m;
  if ((m = /^label_values\(\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/s.exec(q))) {
    return apiGet(url, `/api/v1/label/${encodeURIComponent(m[1])}/values`, rangeParams(range));
  }
  if ((m = /^label_values\(\s*(.+)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/s.exec(q))) {
    return apiGet(url, `/api/v1/label/${encodeURIComponent(m[2])}/values`, { 'match[]': m[1], ...rangeParams(range) });
  }
  if (/^label_names\(\s*\)$/.test(q)) return apiGet(url, '/api/v1/labels', rangeParams(range));
  if ((m = /^metrics\(\s*(.*)\s*\)$/s.exec(q))) {
    const names = await apiGet(url, '/api/v1/label/__name__/values', rangeParams(range));
    const re = new RegExp(m[1] || '.*');
    return names.filter((n) => re.test(n));
  }
  if ((m = /^query_result\(\s*(.+)\s*\)$/s.exec(q))) {
    const rows = await instantQuery(url, m[1], range?.end);
    if (rows.scalar !== undefined) return [String(rows.scalar)];
    return rows.map((r) => {
      const { __name__: name = '', ...labels } = r.metric;
      const ls = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(', ');
      return `${name}{${ls}} ${r.value} ${Math.floor(range?.end || Date.now() / 1000) * 1000}`;
    });
  }
  throw new Error(`"${q}" is not a variable query this validator can run (label_values, label_names, metrics, query_result)`);
}

// The global scrape interval of a running Prometheus (from /api/v1/status/config), in seconds,
// or null when it cannot be read.
export async function scrapeIntervalOf(url) {
  try {
    const data = await apiGet(url, '/api/v1/status/config');
    const m = /^\s*scrape_interval:\s*(\S+)/m.exec(data.yaml || '');
    return m ? m[1] : null;
  } catch {
    return null;
  }
}
