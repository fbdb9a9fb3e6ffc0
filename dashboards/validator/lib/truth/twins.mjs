// twins: for each series Prometheus stored, its "twin" — the same labels, sampled at the same
// scrape timestamps, but with values taken from what the run recorded instead of from the
// service's /metrics. A claim evaluated over twins is what the panel should have shown.
//
// Each metric the catalog knows maps to a record: taskd's counters count the request lines of
// its log (the counter is incremented microseconds before the line is written, so an event is
// certainly in a scrape when it was logged more than a millisecond before the scrape began, and
// possibly when logged before the scrape ended: the value is that interval); its database gauges
// follow chaos's fault windows, widened at each edge by what taskd may take to notice (its check
// interval, plus the busy timeout for a held lock, plus 200 ms of scheduling); loadgen's follow
// its per-second results. A metric with no record behind it has no twin, and a claim that needs
// one is reported as not checked, with the reason.
//
// When Prometheus scraped and which series it had (a series is born at its first sample, ends
// with a stale marker) come from Prometheus itself: those are facts about sampling, not values.

import { instantQuery } from '../prometheus.mjs';
import { processAt } from './model.mjs';
import { labelKey } from './promql_bounds.mjs';

const EDGE_SLACK_MS = 200;
// How far from a scrape's timestamp an event may be and still fall on either side of it: taskd's
// log has millisecond timestamps (truncated), and Prometheus moves a sample's timestamp by up to
// 2 ms onto its schedule (--scrape.timestamp-tolerance).
const SCRAPE_EDGE_MS = 3;

function upperIndex(sorted, t) {
  // number of elements <= t
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
function lowerIndex(sorted, t) {
  // number of elements < t
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Events (sorted timestamps) counted by a counter of a process: [lo, hi] at a scrape that began
// at tau and took d ms. Only the events of the process alive at tau (a restart resets counters).
// `seg` names the process, so that rate() knows two samples cannot straddle a restart.
function countAt(times, p, tau, d) {
  const from = lowerIndex(times, p.start - 1);
  const lo = Math.max(0, lowerIndex(times, tau - SCRAPE_EDGE_MS) - from);
  const hi = Math.max(0, upperIndex(times, tau + d + SCRAPE_EDGE_MS) - from);
  return { lo, hi: Math.max(lo, hi), seg: p.start };
}

// The same for events known only to lie within their request, between its start and its end
// (an SQLite operation, a commit): certainly counted once the request ended before the scrape,
// possibly once it started before the scrape ended. `list` holds requests sorted by end.
function countSpanAt(list, p, tau, d) {
  let lo = 0;
  let hi = 0;
  for (const r of list) {
    if (r.start > tau + d + SCRAPE_EDGE_MS + 60000) break;
    if (r.start < p.start - 1 || r.ts > p.end + 1) continue;
    if (r.ts < tau - SCRAPE_EDGE_MS) lo++;
    if (r.start <= tau + d + SCRAPE_EDGE_MS) hi++;
  }
  return { lo, hi: Math.max(lo, hi), seg: p.start };
}

function selectorText(sel) {
  const parts = sel.matchers.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`);
  return `{${parts.join(', ')}}`;
}

const HAS_TWIN = new Set([
  'http_requests_total', 'http_request_duration_seconds_bucket', 'http_request_duration_seconds_count',
  'http_request_duration_seconds_sum', 'taskd_db_up', 'taskd_db_file_state', 'taskd_db_errors_total', 'taskd_tasks',
  'taskd_db_created_total', 'process_start_time_seconds', 'http_requests_in_flight', 'up',
  'taskd_db_query_duration_seconds_count', 'taskd_db_query_duration_seconds_bucket', 'taskd_db_writes_total',
  'loadgen_requests_total', 'loadgen_target_rate', 'loadgen_achieved_rate', 'loadgen_requests_in_flight',
  'loadgen_backlog', 'loadgen_not_started_total', 'loadgen_transport_errors_total',
  'loadgen_request_duration_seconds_bucket', 'loadgen_service_duration_seconds_bucket', 'loadgen_lag_seconds_bucket',
]);
// What a sampler of the process from outside (scripts/proc_sampler.py) gives a truth for, and
// the field of its lines that says it.
const SAMPLED_FIELD = {
  process_cpu_seconds_total: 'cpu_s', process_resident_memory_bytes: 'rss_bytes', process_virtual_memory_bytes: 'vsize_bytes',
  process_open_fds: 'open_fds', process_max_fds: 'max_fds', taskd_connections_open: 'conns', taskd_connections_refused_total: 'conns',
  taskd_data_dir_free_bytes: 'free_bytes', taskd_data_dir_free_inodes: 'free_inodes',
};
const SAMPLED = new Set(Object.keys(SAMPLED_FIELD));

// Why a metric has no twin: said in the report for each claim that needs it.
export const NO_TWIN = {
  taskd_db_write_transactions_total: 'taskd groups writes into transactions internally; nothing outside taskd counts its commits',
  scrape_duration_seconds: 'Prometheus\'s own measurement of its scrape; nothing else times the scrape from Prometheus\'s side',
};
const NEEDS_SAMPLES = 'the run record has no samples of the process from outside it (services[].samples, from scripts/proc_sampler.py)';
for (const m of ['taskd_connections_open', 'taskd_connections_refused_total', 'taskd_data_dir_free_bytes', 'taskd_data_dir_free_inodes', 'process_cpu_seconds_total',
  'process_resident_memory_bytes', 'process_virtual_memory_bytes', 'process_open_fds', 'process_max_fds']) NO_TWIN[m] = NEEDS_SAMPLES;

export class Twins {
  // opts: { model, prometheus (url of the run's Prometheus), fetchFromMs, fetchToMs (the span of
  // raw samples to read) }
  constructor({ model, prometheus, fetchFromMs, fetchToMs, evaluationMs = 15000 }) {
    this.model = model;
    this.evaluationMs = evaluationMs;
    this.url = prometheus;
    this.fetchFrom = fetchFromMs;
    this.fetchTo = fetchToMs;
    this.raw = new Map(); // selector text -> [{ labels, times }]
    this.targets = new Map(); // job|instance -> { times, up: Map t->value, duration: Map t->ms }
    this.rules = new Map(); // recorded metric name -> { ast, selectors }
    this.evaluator = null; // the BoundsEvaluator that evaluates recording rules over twins
    this.missing = new Map(); // metric -> reason
    this.alerts = null; // an AlertTruth: the twin of ALERTS
  }

  // Recording rules (as the run's Prometheus had them): their series' twins are their expressions
  // evaluated over twins at the times Prometheus evaluated them.
  addRecordingRule(name, ast, selectors) {
    this.rules.set(name, { ast, selectors });
  }

  static knows(name) {
    return HAS_TWIN.has(name) || SAMPLED.has(name);
  }

  hasTwin(name) {
    if (this.rules.has(name)) return true;
    if (name === 'ALERTS') return !!this.alerts;
    if (name.startsWith('loadgen_')) return HAS_TWIN.has(name) && this.model.loadgen.length > 0;
    if (HAS_TWIN.has(name)) return true;
    const field = SAMPLED_FIELD[name];
    return !!field && this.model.services.some((s) => s.samples && s.samples.some((x) => x[field] !== undefined));
  }

  async query(q) {
    const secs = Math.ceil((this.fetchTo - this.fetchFrom) / 1000);
    return instantQuery(this.url, `${q}[${secs}s]`, this.fetchTo / 1000);
  }

  async target(job, instance) {
    const key = `${job}|${instance}`;
    if (this.targets.has(key)) return this.targets.get(key);
    const sel = `{job=${JSON.stringify(job)}, instance=${JSON.stringify(instance)}}`;
    const up = await this.query(`up${sel}`);
    const dur = await this.query(`scrape_duration_seconds${sel}`);
    const t = { times: [], up: new Map(), duration: new Map() };
    for (const s of up) for (const [ts, v] of s.values) t.up.set(ts, v);
    for (const s of dur) for (const [ts, v] of s.values) t.duration.set(ts, v * 1000);
    t.times = [...t.up.keys()].sort((a, b) => a - b);
    this.targets.set(key, t);
    return t;
  }

  // Fetches what the selectors need (raw sample times, the targets' scrapes). Selectors with a
  // metric that has no twin are recorded in this.missing.
  async prepare(selectors) {
    for (const sel of selectors) {
      const text = selectorText(sel);
      if (this.raw.has(text)) continue;
      if (!sel.name) throw new Error(`a claim selects ${text} without a metric name`);
      if (this.rules.has(sel.name)) await this.prepare(this.rules.get(sel.name).selectors);
      if (sel.name === 'ALERTS' && this.alerts) {
        // Predicted from the rules over the other twins (alert_truth.mjs), not read back.
        await this.alerts.prepare();
        const why = this.alerts.reasonFor(sel);
        if (why) this.missing.set(sel.name, why);
        this.raw.set(text, why ? [] : 'alerts');
        continue;
      }
      if (!this.hasTwin(sel.name)) {
        const why = sel.name.startsWith('loadgen_') && HAS_TWIN.has(sel.name) ? 'the run record names no loadgen result' : NO_TWIN[sel.name];
        this.missing.set(sel.name, why || `the run record has nothing that measures ${sel.name}`);
        this.raw.set(text, []);
        continue;
      }
      const series = await this.query(text);
      const out = [];
      for (const s of series) {
        const labels = s.metric;
        const times = s.values.map(([t]) => t);
        let staleAt = [];
        if (this.rules.has(sel.name)) {
          // A recorded series goes stale at the first evaluation that does not produce it.
          staleAt = times.filter((t, i) => times[i + 1] === undefined || times[i + 1] - t > 1.5 * this.evaluationMs).map((t) => t + this.evaluationMs);
        } else if (labels.job && labels.instance) {
          const tg = await this.target(labels.job, labels.instance);
          staleAt = staleMarkers(times, tg.times);
        }
        out.push({ labels, times, staleAt });
      }
      this.raw.set(text, out);
    }
  }

  // The twin series of a selector (prepare() first).
  series(sel) {
    const text = selectorText(sel);
    const raw = this.raw.get(text);
    if (!raw) throw new Error(`twins for ${text} were not prepared`);
    if (raw === 'alerts') return this.alerts.series(sel);
    const out = [];
    for (const r of raw) {
      const fn = this.valueFn(r.labels);
      if (!fn) continue;
      const tg = this.targets.get(`${r.labels.job}|${r.labels.instance}`);
      const samples = [];
      for (const t of r.times) {
        const v = fn(t, tg?.duration.get(t) ?? 10);
        if (v) samples.push({ t, ...v });
      }
      out.push({ labels: r.labels, samples, staleAt: r.staleAt });
    }
    return out;
  }

  serviceOf(labels) {
    return this.model.services.find((s) => s.job === labels.job && (!s.instance || s.instance === labels.instance)) || null;
  }

  loadgenOf(labels) {
    return this.model.loadgen.find((l) => l.job === labels.job && (!l.instance || l.instance === labels.instance)) || null;
  }

  // fn(tau, scrapeMs) -> { lo, hi, maybe } | null for one series.
  valueFn(labels) {
    const name = labels.__name__;
    if (this.rules.has(name)) {
      const { ast } = this.rules.get(name);
      const own = labelKey(Object.fromEntries(Object.entries(labels).filter(([k]) => k !== '__name__')));
      return (t) => {
        const v = this.evaluator.eval(ast, t);
        const e = (Array.isArray(v) ? v : [{ labels: {}, ...v }]).find((x) => labelKey(x.labels) === own);
        return e ? { lo: e.lo, hi: e.hi, maybe: e.maybe } : null;
      };
    }
    if (name.startsWith('loadgen_')) {
      const lg = this.loadgenOf(labels);
      const fn = lg ? loadgenValue(lg, labels) : null;
      // One loadgen process: its counters never reset inside the run.
      return fn && ((t, d) => {
        const v = fn(t, d);
        return v && { ...v, seg: lg.start };
      });
    }
    if (name === 'up') {
      const svc = this.serviceOf(labels);
      if (svc) return upValue(svc);
      const lg = this.loadgenOf(labels);
      return lg ? (t) => (t >= lg.start && t <= lg.end ? { lo: 1, hi: 1 } : { lo: 0, hi: 1 }) : null;
    }
    const svc = this.serviceOf(labels);
    if (!svc) return null;
    if (SAMPLED.has(name)) return svc.samples ? sampledValue(svc, labels) : null;
    if (name === 'process_start_time_seconds' && svc.samples?.length) return sampledValue(svc, labels);
    return taskdValue(svc, this.model, labels);
  }
}

// Stale markers: a series absent from a scrape of its target after being present goes stale at
// that scrape (Prometheus writes the marker); so does every series of a target whose scrape failed.
function staleMarkers(times, scrapes) {
  const out = [];
  const have = new Set(times);
  let present = false;
  for (const s of scrapes) {
    if (have.has(s)) present = true;
    else if (present) {
      out.push(s);
      present = false;
    }
  }
  return out;
}

function upValue(svc) {
  return (t) => {
    for (const p of svc.processes) {
      const ready = p.listen;
      const stop = p.shutdown ?? p.end;
      if (t >= ready + 5 && t <= stop - 5) return { lo: 1, hi: 1 };
      if (t >= p.start - 5 && t <= p.end + 50) return { lo: 0, hi: 1 };
    }
    return { lo: 0, hi: 0 };
  };
}

// ---- taskd ----

function indexRequests(svc) {
  if (svc.index) return svc.index;
  const byKey = new Map();
  const add = (k, r) => {
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k).push(r);
  };
  for (const r of svc.requests) {
    add(`${r.method}|${r.route}|${r.code}`, r);
    add(`mr|${r.method}|${r.route}`, r);
    if (r.sqliteCode) add(`err|${r.sqliteCode}`, r);
    const op = dbOp(r);
    if (op) {
      add(`op?|${op.op}`, r);
      if (op.certain) add(`op|${op.op}`, r);
    }
  }
  svc.index = { byKey };
  return svc.index;
}

// Which SQLite operation a request ran, as taskd's store counts them in
// taskd_db_query_duration_seconds{op}, and whether the log makes it certain. A read is counted
// once it got past the availability check: an answer, or an SQLite error (a read refused as
// unavailable never ran). A write is counted by the writer thread for every write it ran in a
// batch, failed batches included: certain for an answer, possible for a 503 (refused when
// submitted, or run and rolled back — the log does not tell). Validation errors never run.
function dbOp(r) {
  if (['400', '405', '413', '415'].includes(r.code)) return null;
  let op = null;
  if (r.route === '/tasks/{id}') {
    if (r.method === 'GET' || r.method === 'HEAD') op = 'get';
    else if (r.method === 'PUT') op = 'update';
    else if (r.method === 'DELETE') op = 'delete';
  } else if (r.route === '/tasks') {
    if (r.method === 'POST') op = 'create';
    else if (r.method === 'GET' || r.method === 'HEAD') op = 'list';
  }
  if (!op) return null;
  const answered = !r.code.startsWith('5');
  if (op === 'get' || op === 'list') return answered || r.sqliteCode ? { op, certain: true } : null;
  return { op, certain: answered };
}

function timesOf(list) {
  return list.map((r) => r.ts);
}

// [lo, hi] of a gauge that a fault drives: inside, certain; at each edge, either.
function faultPhase(svc, model, t) {
  for (const f of model.faults) {
    if (!f.readinessDrop || f.injected === null) continue;
    const p = processAt(svc, f.injected);
    const onset = p && p.start > f.injected - 2000 && p.start <= f.injected ? Math.min(p.start, f.injected) : f.injected;
    const detect = svc.checkIntervalMs + (f.errorCode ? svc.busyTimeoutMs : 0) + EDGE_SLACK_MS;
    const end = f.rolledBack ?? f.ended ?? onset;
    const recover = svc.checkIntervalMs + EDGE_SLACK_MS;
    if (t < onset || t > end + recover) continue;
    if (t >= onset + detect && t <= end) return { fault: f, phase: 'in' };
    return { fault: f, phase: 'edge' };
  }
  return null;
}

function taskdValue(svc, model, labels) {
  const name = labels.__name__;
  const ix = indexRequests(svc);
  const at = (t) => processAt(svc, t) || nearestProcess(svc, t);
  const counter = (list) => {
    const times = timesOf(list);
    return (t, d) => {
      const p = at(t);
      return p ? countAt(times, p, t, d) : null;
    };
  };
  switch (name) {
    case 'http_requests_total':
      return counter(ix.byKey.get(`${labels.method}|${labels.route}|${labels.code}`) || []);
    case 'http_request_duration_seconds_count':
      return counter(ix.byKey.get(`mr|${labels.method}|${labels.route}`) || []);
    case 'http_request_duration_seconds_bucket': {
      const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
      const list = ix.byKey.get(`mr|${labels.method}|${labels.route}`) || [];
      // duration_ms is printed to the microsecond: a value within half of one of the bound may be
      // on either side of it.
      const sure = timesOf(list.filter((r) => (r.durationMs + 0.0005) / 1000 <= le));
      const maybe = timesOf(list.filter((r) => (r.durationMs - 0.0005) / 1000 <= le));
      return (t, d) => {
        const p = at(t);
        if (!p) return null;
        const a = countAt(sure, p, t, d);
        const b = countAt(maybe, p, t, d);
        return { lo: a.lo, hi: b.hi, seg: p.start };
      };
    }
    case 'http_request_duration_seconds_sum': {
      const list = ix.byKey.get(`mr|${labels.method}|${labels.route}`) || [];
      const times = timesOf(list);
      const prefix = [0];
      for (const r of list) prefix.push(prefix[prefix.length - 1] + r.durationMs / 1000);
      return (t, d) => {
        const p = at(t);
        if (!p) return null;
        const from = lowerIndex(times, p.start - 1);
        const a = lowerIndex(times, t - SCRAPE_EDGE_MS);
        const b = upperIndex(times, t + d + SCRAPE_EDGE_MS);
        return { lo: Math.max(0, prefix[a] - prefix[from] - 0.0000005 * (a - from)), hi: prefix[b] - prefix[from] + 0.0000005 * (b - from), seg: p.start };
      };
    }
    case 'taskd_db_up':
      return (t) => {
        const f = faultPhase(svc, model, t);
        if (!f) return { lo: 1, hi: 1 };
        return f.phase === 'in' ? { lo: 0, hi: 0 } : { lo: 0, hi: 1 };
      };
    case 'taskd_db_file_state': {
      // Every state taskd exports is 0 but the one the fault puts the file in (ok outside faults).
      const state = labels.state;
      return (t) => {
        const f = faultPhase(svc, model, t);
        const during = f?.fault.fileState || 'ok';
        if (!f) return state === 'ok' ? { lo: 1, hi: 1 } : { lo: 0, hi: 0 };
        if (f.phase === 'edge' && f.fault.fileState) return { lo: 0, hi: 1 };
        return state === during ? { lo: 1, hi: 1 } : { lo: 0, hi: 0 };
      };
    }
    case 'taskd_db_errors_total': {
      // Each failed SQLite call counts once; several requests of a batch share one, and the
      // monitor's probe writes (one per check interval while the fault lasts) count too. So at
      // least one error once a request saw the code, at most one per request plus one per probe.
      const list = ix.byKey.get(`err|${labels.code}`) || [];
      return (t, d) => {
        const p = at(t);
        if (!p) return null;
        const seen = countSpanAt(list, p, t, d);
        let probes = 0;
        for (const f of model.faults) {
          if (f.injected === null || f.injected > t + d) continue;
          const s = Math.max(f.injected, p.start);
          const e = Math.min(t + d, (f.rolledBack ?? t) + svc.checkIntervalMs + EDGE_SLACK_MS);
          if (e > s && seen.hi > 0) probes += Math.ceil((e - s) / svc.checkIntervalMs) + 1;
        }
        return { lo: Math.min(1, seen.lo), hi: seen.hi + probes, seg: p.start };
      };
    }
    case 'taskd_db_created_total':
      return (t) => {
        const p = at(t);
        if (!p) return null;
        const v = p.created && p.createdAt <= t ? 1 : 0;
        return { lo: v, hi: v, seg: p.start };
      };
    case 'process_start_time_seconds':
      // /proc's start time is the boot time (whole seconds) plus jiffies: up to a second early.
      return (t) => {
        const p = at(t);
        return p ? { lo: (p.start - 1100) / 1000, hi: (p.start + 10) / 1000 } : null;
      };
    case 'http_requests_in_flight': {
      const reqs = svc.requests; // sorted by their end
      const ends = reqs.map((r) => r.ts);
      const longest = reqs.reduce((a, r) => Math.max(a, r.durationMs), 0);
      return (t, d) => {
        // Certainly in flight during the whole render, or possibly at some moment of it; the
        // scrape's own request is in flight while /metrics is rendered.
        const e = SCRAPE_EDGE_MS;
        let lo = 1;
        let hi = 1;
        for (let i = lowerIndex(ends, t - e); i < reqs.length && reqs[i].ts <= t + d + e + longest; i++) {
          const r = reqs[i];
          if (r.start > t + d + e) continue;
          hi++;
          if (r.start < t - e && r.ts > t + d + e) lo++;
        }
        return { lo, hi: Math.max(lo, hi) };
      };
    }
    case 'taskd_db_query_duration_seconds_count':
    case 'taskd_db_query_duration_seconds_bucket': {
      if (labels.op === 'open' || labels.op === 'probe') {
        // Not logged: at most one per check interval since the process started (taskd's
        // monitor reopens or probes once per interval), and one more at start.
        return (t) => {
          const p = at(t);
          return p ? { lo: 0, hi: Math.ceil(Math.max(0, t - p.start) / svc.checkIntervalMs) + 2, seg: p.start } : null;
        };
      }
      if (!['get', 'list', 'create', 'update', 'delete'].includes(labels.op)) return null;
      const certain = ix.byKey.get(`op|${labels.op}`) || [];
      const possible = ix.byKey.get(`op?|${labels.op}`) || [];
      let sure = certain;
      if (name.endsWith('_bucket')) {
        // The SQLite time of a request is part of its duration: a request that took at most le
        // had its query take at most le; one that took longer may have had a quick query.
        const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
        sure = certain.filter((r) => (r.durationMs + 0.0005) / 1000 <= le);
      }
      return (t, d) => {
        const p = at(t);
        if (!p) return null;
        return { lo: countSpanAt(sure, p, t, d).lo, hi: countSpanAt(possible, p, t, d).hi, seg: p.start };
      };
    }
    case 'taskd_db_writes_total': {
      const sure = ['create', 'update', 'delete'].flatMap((op) => ix.byKey.get(`op|${op}`) || []).sort((a, b) => a.ts - b.ts);
      const possible = ['create', 'update', 'delete'].flatMap((op) => ix.byKey.get(`op?|${op}`) || []).sort((a, b) => a.ts - b.ts);
      return (t, d) => {
        const p = at(t);
        if (!p) return null;
        return { lo: countSpanAt(sure, p, t, d).lo, hi: countSpanAt(possible, p, t, d).hi, seg: p.start };
      };
    }
    case 'taskd_tasks': {
      // "last known count": the rows its database holds at the end, minus the net writes of the
      // processes on that database after t. A write commits somewhere inside its request: one
      // that spans the scrape may be on either side of it.
      const byDb = new Map();
      for (const r of svc.requests) {
        const db = r.process.dbPath;
        const d = r.method === 'POST' && r.code === '201' ? 1 : r.method === 'DELETE' && r.code === '204' ? -1 : 0;
        if (!d || !db) continue;
        if (!byDb.has(db)) byDb.set(db, []);
        byDb.get(db).push({ start: r.start, end: r.ts, d });
      }
      return (t, d) => {
        const p = at(t);
        const rows = p?.dbPath ? svc.dbRows.get(p.dbPath) : null;
        if (!rows || rows.rows === undefined) return null;
        let after = 0; // net writes certainly after the scrape
        let up = 0; // creates that may be either side
        let down = 0; // deletes that may be either side
        for (const w of byDb.get(p.dbPath) || []) {
          if (w.start > t + d + SCRAPE_EDGE_MS) after += w.d;
          else if (w.end >= t - SCRAPE_EDGE_MS) {
            if (w.d > 0) up += w.d;
            else down += w.d;
          }
        }
        const base = rows.rows - after;
        return { lo: base - up, hi: base - down };
      };
    }
    default:
      return null;
  }
}

function nearestProcess(svc, t) {
  let best = null;
  let dist = Infinity;
  for (const p of svc.processes) {
    const d = t < p.start ? p.start - t : t - p.end;
    if (d < dist && d < 1000) {
      dist = d;
      best = p;
    }
  }
  return best;
}

// ---- sampled from outside the process ----

// The samples of one process (the pid the sampler saw) around t: every one within `w` ms, and
// the nearest one on each side.
function around(samples, t, w, pid) {
  const own = pid === undefined ? samples.filter((x) => x.pid) : samples.filter((x) => x.pid === pid);
  const times = own.map((x) => x.t);
  const i = lowerIndex(times, t);
  const out = new Set();
  if (i > 0) out.add(own[i - 1]);
  if (i < own.length) out.add(own[i]);
  for (let k = i - 1; k >= 0 && own[k].t >= t - w; k--) out.add(own[k]);
  for (let k = i; k < own.length && own[k].t <= t + w; k++) out.add(own[k]);
  return { before: i > 0 ? own[i - 1] : null, after: i < own.length ? own[i] : null, near: [...out] };
}

// A sampled gauge moves between samples: its value at a scrape is taken as anywhere between the
// samples of that process within 300 ms, widened by `slack` (the churn one scrape can see:
// a connection opened and closed, a buffer allocated).
const SAMPLE_WINDOW_MS = 300;

// A scrape before the sampler's first sample (it started after the process): the value is not
// known, only that it is a value — anything, for a counter at least 0.
const UNKNOWN = { lo: 0, hi: Infinity };

function sampledValue(svc, labels) {
  const name = labels.__name__;
  const fn = sampledValueSeen(svc, labels);
  if (!fn || name === 'process_cpu_seconds_total' || name === 'process_start_time_seconds') return fn;
  const from = svc.samples.length ? svc.samples[0].t : Infinity;
  return (t, d) => (t + d < from ? { ...UNKNOWN } : fn(t, d));
}

function sampledValueSeen(svc, labels) {
  const name = labels.__name__;
  const pidAt = (t) => {
    const { before, after } = around(svc.samples, t, 0);
    const p = processAt(svc, t);
    // The sampled process whose /proc start is nearest the logged one (a process may take a while
    // to log its first line under load, and the one before may have started only seconds earlier).
    const off = (x) => (p ? Math.abs(x.start * 1000 - p.start) : 0);
    const cand = [before, after].filter(Boolean).filter((x) => !p || off(x) < 5000).sort((a, b) => off(a) - off(b));
    return cand.length ? cand[0].pid : before?.pid ?? after?.pid;
  };
  // `last`: how much more the value may have grown after the process's last sample (a process
  // that stopped before the sampler came back, e.g. a new thread's 64 MiB malloc arena). A scrape
  // the sampler did not see the process on both sides of (it had just started, its clients not
  // yet connected; or it was stopping) may have found less than any sample: bounded below by 0.
  const gauge = (field, slack, last = 0) => (t, d) => {
    const pid = pidAt(t);
    const { near, after } = around(svc.samples, t + d / 2, SAMPLE_WINDOW_MS + d / 2, pid);
    const v = near.map((x) => x[field]).filter((x) => Number.isFinite(x));
    if (!v.length) return null;
    const grow = after && after.t >= t + d ? 0 : last;
    const seenBefore = around(svc.samples, t, 0, pid).before;
    const lo = seenBefore && after && after.t >= t + d ? Math.max(0, Math.min(...v) - slack(Math.min(...v))) : 0;
    return { lo, hi: Math.max(...v) + slack(Math.max(...v)) + grow };
  };
  switch (name) {
    case 'process_cpu_seconds_total':
      // A counter: the samples just before the scrape began and just after it ended bracket it.
      return (t, d) => {
        const pid = pidAt(t);
        const a = around(svc.samples, t, 0, pid).before;
        const b = around(svc.samples, t + d, 0, pid).after;
        if (!a && !b) return null;
        const lo = a ? a.cpu_s : 0;
        const hi = b ? b.cpu_s : lo + (t + d - (a?.t ?? t)) / 1000 * 4;
        return { lo, hi: Math.max(lo, hi), seg: pid };
      };
    case 'process_resident_memory_bytes':
      return gauge('rss_bytes', (v) => 0.02 * v + 1048576, 8 * 1048576);
    case 'process_virtual_memory_bytes':
      return gauge('vsize_bytes', (v) => 0.02 * v + 1048576, 128 * 1048576);
    case 'process_open_fds':
      return gauge('open_fds', () => 3);
    case 'process_max_fds':
      return gauge('max_fds', () => 0);
    case 'taskd_connections_open':
      return gauge('conns', () => 2);
    case 'taskd_data_dir_free_bytes':
    case 'taskd_data_dir_free_inodes': {
      // The file system is shared (the run's other files grow on it too): within a second and
      // 1 MiB, or 64 inodes, of what the sampler saw.
      const field = name === 'taskd_data_dir_free_bytes' ? 'free_bytes' : 'free_inodes';
      const slack = field === 'free_bytes' ? 1048576 : 64;
      return (t) => {
        const { near } = around(svc.samples, t, 1000);
        const v = near.map((x) => x[field]).filter((x) => Number.isFinite(x));
        return v.length ? { lo: Math.max(0, Math.min(...v) - slack), hi: Math.max(...v) + slack } : null;
      };
    }
    case 'process_start_time_seconds':
      return (t) => {
        const pid = pidAt(t);
        const s = svc.samples.find((x) => x.pid === pid && x.start);
        return s ? { lo: s.start - 0.02, hi: s.start + 0.02 } : null;
      };
    case 'taskd_connections_refused_total':
      // taskd refuses a connection only when --max-connections are open; while the sampler never
      // saw the process near that many, nothing can have been refused.
      return (t) => {
        const pid = pidAt(t);
        const seen = svc.samples.filter((x) => x.pid === pid && x.t <= t + 1000);
        if (!seen.length) return null;
        const most = Math.max(...seen.map((x) => x.conns || 0));
        return most < svc.maxConnections - 10 ? { lo: 0, hi: 0, seg: pid } : { lo: 0, hi: Infinity, seg: pid };
      };
    default:
      return null;
  }
}

// ---- loadgen ----

// Per-second rows: cumulative counts at the start of each second; a scrape saw something
// between the count at the start of the second it began in and the count at the end of the
// second it ended in (Prometheus stamps the sample with the scrape's start; loadgen renders it
// up to the scrape's duration d later, which a busy machine stretches to tenths of a second).
function cumulative(lg, rowValue) {
  const c = [0];
  for (const row of lg.series) c.push(c[c.length - 1] + rowValue(row));
  return (t, d = 0) => {
    const x = (t - lg.start) / 1000;
    const y = (t + d - lg.start) / 1000;
    if (y <= 0) return { lo: 0, hi: 0 };
    const i = Math.min(lg.series.length, Math.max(0, Math.floor(x)));
    const j = Math.min(lg.series.length, Math.ceil(y));
    return { lo: c[i], hi: c[j] };
  };
}

function classCount(row, cls) {
  return Number(row.classes?.[cls] || 0);
}

function loadgenValue(lg, labels) {
  const name = labels.__name__;
  const rowAt = (t) => {
    const i = Math.floor((t - lg.start) / 1000);
    return { i, rows: lg.series.slice(Math.max(0, i - 1), Math.max(0, i + 2)) };
  };
  switch (name) {
    case 'loadgen_requests_total': {
      const route = lg.routes.find((r) => r.name === labels.route);
      if (!route) return null;
      const cls = labels.class;
      const totalRoute = Number(route.classes?.[cls] || 0);
      const otherRoutes = lg.routes.filter((r) => r !== route).reduce((a, r) => a + Number(r.classes?.[cls] || 0), 0);
      const cum = cumulative(lg, (row) => classCount(row, cls));
      // A row counts a class over all routes: this route had at most all of it, and at least
      // what the other routes cannot have had.
      return (t, d) => {
        if (t >= lg.end) return { lo: totalRoute, hi: totalRoute };
        const c = cum(t, d);
        return { lo: Math.max(0, c.lo - otherRoutes), hi: Math.min(totalRoute, c.hi) };
      };
    }
    case 'loadgen_transport_errors_total': {
      const total = Number(lg.totals.errors?.[labels.kind] || 0);
      const allErrors = Object.values(lg.totals.errors || {}).reduce((a, b) => a + Number(b), 0);
      const cum = cumulative(lg, (row) => classCount(row, 'error'));
      return (t, d) => {
        if (t >= lg.end) return { lo: total, hi: total };
        const c = cum(t, d);
        return { lo: Math.max(0, c.lo - (allErrors - total)), hi: Math.min(total, c.hi) };
      };
    }
    case 'loadgen_not_started_total': {
      const total = Number(lg.totals.not_started || 0);
      return (t) => (t >= lg.end ? { lo: total, hi: total } : { lo: 0, hi: total });
    }
    case 'loadgen_target_rate': {
      // The pacer's rate while the run lasts, 0 after it.
      const target = Number(lg.rate.target || lg.series[0]?.target_rate || 0);
      return (t) => {
        if (t < lg.start - 50 || t > lg.end + 50) return { lo: 0, hi: t < lg.start ? target : 0 };
        if (t < lg.start + 50 || t > lg.end - 50) return { lo: 0, hi: target };
        const { i } = rowAt(t);
        const v = Number(lg.series[i]?.target_rate ?? target);
        return { lo: v, hi: v };
      };
    }
    case 'loadgen_achieved_rate':
      // The completions of the last second folded (one or two seconds back), 0 before the first.
      return (t) => {
        const i = Math.floor((t - lg.start) / 1000);
        const v = [];
        for (const k of [i - 2, i - 1]) v.push(k >= 0 && k < lg.series.length ? Number(lg.series[k].completed || 0) : 0);
        if (i >= lg.series.length) v.push(Number(lg.series[lg.series.length - 1]?.completed || 0));
        return { lo: Math.min(...v), hi: Math.max(...v) };
      };
    case 'loadgen_requests_in_flight':
    case 'loadgen_backlog': {
      // The rows say the value at each second's end; between, at most what arrived during the
      // longest answer of those seconds on top of it.
      const field = name === 'loadgen_backlog' ? 'backlog' : 'in_flight';
      return (t) => {
        if (t > lg.end + 1000) return { lo: 0, hi: 0 };
        const { rows } = rowAt(t);
        if (!rows.length) return { lo: 0, hi: 0 };
        const top = Math.max(...rows.map((r) => Number(r[field] || 0)));
        const burst = field === 'in_flight' ? Math.ceil(Math.max(...rows.map((r) => Number(r.target_rate || r.completed || 0) * Number(r.latency?.max || 0)))) + 1 : 0;
        return { lo: 0, hi: top + burst };
      };
    }
    case 'loadgen_request_duration_seconds_bucket':
    case 'loadgen_service_duration_seconds_bucket':
    case 'loadgen_lag_seconds_bucket':
      return latencyBuckets(lg, labels);
    default:
      return null;
  }
}

// Cumulative count of recordings at most le, from each second's summary (count, p50, p90, p99,
// max): a percentile pQ is the upper bound of the log-linear bucket of the recording of rank
// ceil(Q n), at most 0.1% above it; so at least that many are <= le when pQ <= le, and fewer
// when pQ / 1.001 > le. A route's share of a second is not recorded: for one route, at most all
// of it, at least what the other routes cannot have had; at the end, its whole-run histogram.
function latencyBuckets(lg, labels) {
  const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
  const name = labels.__name__;
  const quantiles = (row) => {
    if (name === 'loadgen_request_duration_seconds_bucket') {
      const l = row.latency || {};
      return [[0.5, l.p50], [0.9, l.p90], [0.99, l.p99], [1, l.max]];
    }
    if (name === 'loadgen_service_duration_seconds_bucket') return [[0.99, row.service_p99]];
    return [[0.99, row.lag_p99]];
  };
  const n = (row) => Number(row.completed || 0);
  const bounds = (row) => {
    const count = n(row);
    if (!count) return [0, 0];
    let lo = 0;
    let hi = count;
    for (const [q, v] of quantiles(row)) {
      if (v === null || v === undefined) continue;
      const rank = Math.ceil(q * count);
      if (v <= le) lo = Math.max(lo, rank);
      else if (v / 1.001 > le) hi = Math.min(hi, rank - 1);
    }
    return [lo, Math.max(lo, hi)];
  };
  const cLo = [0];
  const cHi = [0];
  for (const row of lg.series) {
    const [a, b] = bounds(row);
    cLo.push(cLo[cLo.length - 1] + a);
    cHi.push(cHi[cHi.length - 1] + b);
  }
  let totalAt = null;
  let routeTotal = null;
  if (labels.route !== undefined) {
    const r = lg.routes.find((x) => x.name === labels.route);
    if (!r) return null;
    routeTotal = Number(r.requests || 0);
    totalAt = histogramCountBelow(r, name, le);
  } else if (name === 'loadgen_lag_seconds_bucket') {
    totalAt = { lo: 0, hi: 0 };
    for (const r of lg.routes) {
      const c = histogramCountBelow(r, name, le);
      if (!c) {
        totalAt = null;
        break;
      }
      totalAt.lo += c.lo;
      totalAt.hi += c.hi;
    }
  }
  const allCompleted = lg.series.reduce((a, r) => a + n(r), 0);
  return (t, d = 0) => {
    if (t >= lg.end && totalAt) return { lo: totalAt.lo, hi: totalAt.hi };
    const x = (t - lg.start) / 1000;
    const y = (t + d - lg.start) / 1000; // rendered up to the scrape's duration later (cumulative())
    if (y <= 0) return { lo: 0, hi: 0 };
    const i = Math.min(lg.series.length, Math.max(0, Math.floor(x)));
    const j = Math.min(lg.series.length, Math.ceil(y));
    let lo = cLo[i];
    let hi = cHi[j];
    if (routeTotal !== null) {
      lo = Math.max(0, lo - (allCompleted - routeTotal));
      hi = Math.min(hi, totalAt ? totalAt.hi : routeTotal);
    }
    return { lo, hi: Math.max(lo, hi) };
  };
}

// From a route's exact log-linear histograms (docs/loadgen-json.md): how many recordings are <=
// le, as [lo, hi] (a bucket straddling le may be on either side).
function histogramCountBelow(route, name, le) {
  const view = name === 'loadgen_request_duration_seconds_bucket' ? 'corrected' : name === 'loadgen_service_duration_seconds_bucket' ? 'service' : 'lag';
  let lo = 0;
  let hi = 0;
  let any = false;
  for (const c of route.by_class || []) {
    const h = c.histograms?.[view];
    if (!h) continue;
    any = true;
    for (const [i, count] of h.buckets) {
      const [a, b] = bucketRange(i);
      if (b / 1e9 <= le) lo += count;
      if (a / 1e9 <= le) hi += count;
    }
  }
  return any ? { lo, hi } : null;
}

function bucketRange(i) {
  if (i < 2048) return [i, i];
  const k = i - 2048;
  const e = 11 + Math.floor(k / 1024);
  const m = 1024 + (k % 1024);
  return [m * 2 ** (e - 10), (m + 1) * 2 ** (e - 10) - 1];
}

export { labelKey };
