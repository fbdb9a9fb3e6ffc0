// model: the ground truth of a run, assembled from its record — what the services logged (their
// requests, processes and database states), when chaos injected and rolled back each fault and
// what it expected of the service, what loadgen did second by second, and how many rows each
// database holds at the end. Everything the twins (twins.mjs) and the log stand-in read.
//
// Times are unix ms. A fault's window comes from the chaos journal (outside the service), not
// from the service's own log: the log says when taskd noticed, the journal says when it happened.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parseTaskdLogs } from './taskd_log.mjs';

const run = promisify(execFile);

// Rows in a taskd database, read-only (never a live database: the record is read after the run).
async function countRows(dbPath) {
  try {
    const { stdout } = await run('sqlite3', ['-readonly', dbPath, 'SELECT count(*) FROM tasks;'], { timeout: 10000 });
    const n = Number(stdout.trim());
    return Number.isInteger(n) ? { rows: n } : { error: `sqlite3 printed ${JSON.stringify(stdout.trim())}` };
  } catch (e) {
    if (e.code === 'ENOENT') return { error: 'the sqlite3 command is not installed (make deps)' };
    return { error: `sqlite3 could not read it: ${String(e.stderr || e.message).trim().split('\n')[0]}` };
  }
}

function faultsOf(journal, file) {
  const out = [];
  for (const e of journal.experiments || []) {
    if (!e.start_unix_ns || !e.times || e.times.injected_s === null || e.times.injected_s === undefined) continue;
    const t0 = Number(BigInt(e.start_unix_ns) / 1000n) / 1000;
    const at = (s) => (s === null || s === undefined ? null : t0 + s * 1000);
    const x = e.expected || {};
    out.push({
      scenario: e.scenario,
      file,
      status: e.status,
      start: t0,
      injected: at(e.times.injected_s),
      detected: at(e.times.detected_s),
      rolledBack: at(e.times.rolled_back_s),
      recovered: at(e.times.recovered_s),
      ended: at(e.times.ended_s),
      fileState: x.file_state || null,
      errorCode: x.error_code || null,
      readinessDrop: !!x.readiness_drop,
      detect: x.detect || null,
      alerts: x.alerts || [],
      mechanism: e.mechanism || '',
    });
  }
  return out;
}

// A loadgen --json result, versions 1 and 2 (2 added targets, success rules and connections; the
// fields read here — header, series, routes' classes, totals' transport errors — did not change).
function loadgenOf(j, source) {
  if (j.schema !== 'taskbench.loadgen.result' || (j.version !== 1 && j.version !== 2)) {
    throw new Error(`${source.result} is not a loadgen --json result (schema taskbench.loadgen.result version 1 or 2; docs/loadgen-json.md)`);
  }
  const start = Number(BigInt(j.start_unix_ns) / 1000n) / 1000;
  return {
    job: source.job,
    instance: source.instance,
    file: source.result,
    start,
    end: start + Number(j.duration_seconds) * 1000,
    series: j.series || [],
    routes: j.routes || [],
    totals: j.totals || {},
    rate: j.rate || {},
    mode: j.mode,
  };
}

// Builds the model. Returns { window, services, faults, loadgen, notes }.
export async function buildModel(record) {
  const notes = [];
  const services = [];
  for (const s of record.services) {
    if (s.kind !== 'taskd') {
      notes.push(`service ${s.job}: kind "${s.kind}" has no log reader; its metrics have no ground truth here`);
      services.push({ ...s, processes: [], requests: [], entries: [], dbRows: new Map() });
      continue;
    }
    const files = [];
    for (const f of s.logs) files.push({ name: f, text: await readFile(f, 'utf8') });
    const parsed = parseTaskdLogs(files);
    const dbRows = new Map();
    for (const p of parsed.processes) {
      if (p.dbPath && !dbRows.has(p.dbPath)) dbRows.set(p.dbPath, await countRows(p.dbPath));
    }
    for (const [db, r] of dbRows) if (r.error) notes.push(`${db}: rows not known (${r.error}): tasks stored is not checked`);
    let samples = null;
    if (s.samples) {
      samples = [];
      for (const line of (await readFile(s.samples, 'utf8')).split('\n')) {
        if (!line.trim()) continue;
        try {
          const o = JSON.parse(line);
          // A process with no virtual memory has exited and waits to be reaped (samplers before
          // they said so sampled it): no process, as a line without "pid" says.
          if (Number.isFinite(o.t)) samples.push(o.pid && o.vsize_bytes === 0 ? { t: o.t * 1000 } : { ...o, t: o.t * 1000 });
        } catch {
          // a line cut short when the sampler was stopped
        }
      }
      samples.sort((a, b) => a.t - b.t);
    }
    if (!parsed.processes.length) notes.push(`service ${s.job}: its logs hold no "listening" line: no process to check against`);
    services.push({ ...s, ...parsed, dbRows, samples });
  }
  const faults = [];
  for (const f of record.chaos) {
    let j;
    try {
      j = JSON.parse(await readFile(f, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read the chaos journal ${f}: ${e.message}`);
    }
    faults.push(...faultsOf(j, f));
  }
  faults.sort((a, b) => a.injected - b.injected);
  const loadgen = [];
  for (const l of record.loadgen) {
    let j;
    try {
      j = JSON.parse(await readFile(l.result, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read the loadgen result ${l.result}: ${e.message}`);
    }
    loadgen.push(loadgenOf(j, l));
  }
  return { window: record.window, services, faults, loadgen, notes };
}

// The process of a service alive at t (between its first line and its end), or null.
export function processAt(service, t) {
  for (const p of service.processes) if (t >= p.start && t <= p.end) return p;
  return null;
}
