// record: the run record — one JSON file that names everything a run left behind, so that any
// user's run (not only ours) can be checked against its dashboards: the time window, the
// Prometheus that scraped it (a URL, or its data directory to reopen), each service's job and
// instance with its log files, the loadgen results, the chaos journals. Paths are relative to the
// record. docs/validator.md documents the format; scripts/truth_run.sh writes one.
//
//   { "schema": "taskbench.run/1",
//     "window": { "from": unix s | RFC 3339, "to": ... },
//     "prometheus": { "url": "http://…" | "data": "dir", "scrape_interval": "1s",
//                     "evaluation_interval": "1s", "lookback_delta": "5m", "rules": "dir" },
//     "services": [{ "kind": "taskd", "job": "taskd", "instance": "host:port", "logs": ["taskd.log"],
//                    "check_interval": "250ms", "busy_timeout": "500ms", "max_connections": 1000,
//                    "samples": "proc.jsonl" (scripts/proc_sampler.py: /proc and statvfs from outside) }],
//     "loadgen": [{ "result": "load.json", "job": "loadgen", "instance": "host:port" }],
//     "chaos": ["journal.json"],
//     "loki": { "alloy": "config.alloy" } }

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promDurationMs } from './promql_bounds.mjs';

export class RecordError extends Error {}

function time(v, what) {
  if (v === undefined || v === null) return undefined;
  // Prometheus keeps milliseconds: so does the window.
  const n = Number(v);
  if (Number.isFinite(n)) return Math.round(n * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new RecordError(`${what} "${v}" is neither unix seconds nor an RFC 3339 time`);
  return t;
}

function duration(v, what, dflt) {
  if (v === undefined || v === null || v === '') return dflt;
  try {
    return promDurationMs(String(v));
  } catch {
    throw new RecordError(`${what} "${v}" is not a duration like 1s, 250ms or 5m`);
  }
}

async function mustExist(p, what) {
  try {
    await stat(p);
  } catch {
    throw new RecordError(`${what} ${p} does not exist`);
  }
  return p;
}

// Reads and checks a run record. Times come back in unix ms, durations in ms, paths absolute.
export async function loadRecord(file) {
  let j;
  try {
    j = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new RecordError(`cannot read the run record ${file}: ${e.message}`);
  }
  if (j.schema !== 'taskbench.run/1') {
    throw new RecordError(`${file} is not a run record (schema ${JSON.stringify(j.schema)}, expected "taskbench.run/1"; see docs/validator.md)`);
  }
  const dir = path.dirname(path.resolve(file));
  const abs = (p) => path.resolve(dir, p);
  const p = j.prometheus || {};
  if (!p.url && !p.data) throw new RecordError(`${file}: prometheus needs "url" (a running Prometheus) or "data" (its data directory)`);
  const rec = {
    file: path.resolve(file),
    dir,
    description: j.description || '',
    window: { from: time(j.window?.from, 'window.from'), to: time(j.window?.to, 'window.to') },
    prometheus: {
      // Both may be given: the running one is used while it answers, else its data directory.
      url: p.url ? String(p.url).replace(/\/$/, '') : null,
      data: p.data ? await mustExist(abs(p.data), 'prometheus.data') : null,
      scrapeMs: duration(p.scrape_interval, 'prometheus.scrape_interval', 15000),
      evaluationMs: duration(p.evaluation_interval, 'prometheus.evaluation_interval', 15000),
      lookbackMs: duration(p.lookback_delta, 'prometheus.lookback_delta', 300000),
      rules: p.rules ? abs(p.rules) : null,
    },
    services: [],
    loadgen: [],
    chaos: [],
    alloy: j.loki?.alloy ? abs(j.loki.alloy) : null,
  };
  for (const [i, s] of (j.services || []).entries()) {
    if (!s.job) throw new RecordError(`${file}: services[${i}] has no job (the job label Prometheus gave it)`);
    const logs = [];
    for (const l of s.logs || []) logs.push(await mustExist(abs(l), `services[${i}].logs`));
    const samples = s.samples ? await mustExist(abs(s.samples), `services[${i}].samples`) : null;
    rec.services.push({
      kind: s.kind || 'taskd',
      job: s.job,
      instance: s.instance || null,
      logs,
      samples,
      maxConnections: Number(s.max_connections ?? 1000),
      checkIntervalMs: duration(s.check_interval, `services[${i}].check_interval`, 250),
      busyTimeoutMs: duration(s.busy_timeout, `services[${i}].busy_timeout`, 500),
    });
  }
  for (const [i, l] of (j.loadgen || []).entries()) {
    rec.loadgen.push({
      result: await mustExist(abs(l.result || l), `loadgen[${i}].result`),
      job: l.job || 'loadgen',
      instance: l.instance || null,
    });
  }
  for (const [i, c] of (j.chaos || []).entries()) rec.chaos.push(await mustExist(abs(c), `chaos[${i}]`));
  if (rec.window.from === undefined || rec.window.to === undefined || !(rec.window.to > rec.window.from)) {
    throw new RecordError(`${file}: window needs "from" before "to" (unix seconds or RFC 3339)`);
  }
  return rec;
}
