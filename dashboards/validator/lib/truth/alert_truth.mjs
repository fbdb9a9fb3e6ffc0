// alert_truth: the truth of ALERTS over a recorded run — when each alert should have been pending
// and firing, predicted by the alert predictor of `validator alerts` (lib/alerts/predict.mjs, one
// predictor for both) from the rules the run's Prometheus ran and the twins of the series they read.
//
// The predictor sweeps what nobody controls (each rule group's evaluation phase) over runs; here
// each run also picks every sample inside what the run allows: the twin of a series is an interval
// per scrape (lo..hi, maybe absent), and a run takes all lows, all highs, or a seeded random choice
// (counters kept monotone within a process). An alert is *certainly* pending or firing at an
// evaluation where it is in every run, *possibly* where it is in some: alertWindows() turns the
// runs into those windows. The twin of ALERTS{alertname, alertstate, ...} is then 1 at each of the
// group's evaluations inside a possible window (certain where every run agrees, else "may be
// absent"), a stale marker at the next one, nothing elsewhere. Alertmanager plays no part in ALERTS.
//
// The group's evaluation ticks are read from the run's own Prometheus (the times of its ALERTS,
// ALERTS_FOR_STATE and recorded samples of the group); a group that left none is sampled on a grid
// of unknown phase, and one evaluation interval at each edge of a certain window becomes "maybe".

import { alertWindows, predictAlerts } from '../alerts/predict.mjs';
import { RecordedSeries, Storage } from '../alerts/series.mjs';
import { compilePromQL, selectorsOf } from './promql_bounds.mjs';

// Counters as PromQL treats them: rate() sees a drop as a reset, so a run's choice inside the
// intervals must not go down within one process.
const COUNTER = /(_total|_count|_sum|_bucket)$/;
const OWN_SERIES = new Set(['ALERTS', 'ALERTS_FOR_STATE']);
const DEFAULT_RUNS = 24;
const RESEND_DELAY_MS = 60000; // Prometheus's default; ALERTS does not depend on it

function bareSelector(name) {
  return { kind: 'selector', name, matchers: [{ label: '__name__', op: '=', value: name }], offsetMs: 0 };
}

function matcherOk(m, labels) {
  const v = labels[m.label] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return new RegExp(`^(?:${m.value})$`).test(v);
    case '!~':
      return !new RegExp(`^(?:${m.value})$`).test(v);
    default:
      return false;
  }
}

export class AlertTruth {
  // twins: the Twins of the run (prepared on demand); record: the loaded run record; model: the
  // truth model (faults, processes: marks that keep episodes apart).
  constructor({ twins, record, model, groups, error = null, runs = DEFAULT_RUNS }) {
    this.groups = groups; // lib/alerts/rule_set.mjs groups of the run's rule files
    this.error = error;
    this.twins = twins;
    this.record = record;
    this.model = model;
    this.runs = runs;
    this.reason = null; // why no alert can be predicted at all
    this.unknown = new Map(); // alertname -> why its windows cannot be predicted
    this.absent = new Set(); // metrics neither the record nor the run's Prometheus has
    this.firstOutput = Infinity; // the time of the first sample any rule wrote
    this.windows = [];
    this.groupOf = new Map(); // alertname -> { name, interval }
    this.ticks = new Map(); // group name -> { phase, interval, known }
    this.stats = null;
  }

  prepare() {
    if (!this.ready) this.ready = this.predict();
    return this.ready;
  }

  async predict() {
    if (!this.record.prometheus.rules) {
      this.reason = 'the run record names no rule files (prometheus.rules): nothing says when an alert should have fired';
      return;
    }
    if (this.error) {
      this.reason = `the run's rule files cannot be read: ${this.error}`;
      return;
    }
    const { groups } = this;
    const rules = groups.flatMap((g) => g.rules.map((r) => ({ ...r, groupInterval: g.interval })));
    const recorded = new Map(rules.filter((r) => r.kind === 'record').map((r) => [r.name, r]));
    const evaluation = this.record.prometheus.evaluationMs;
    for (const g of groups) {
      for (const r of g.rules) if (r.kind === 'alert') this.groupOf.set(r.name, { name: g.name, interval: g.interval ?? evaluation });
    }

    // The metrics the rules read, through recorded series to what was scraped.
    const reads = (rule, seen = new Set()) => {
      const out = new Set();
      let names;
      try {
        names = selectorsOf(compilePromQL(rule.expr)).map((s) => s.name);
      } catch (e) {
        throw new Error(`${rule.name}: ${e.message}`);
      }
      for (const n of names) {
        if (!n || OWN_SERIES.has(n)) continue;
        if (recorded.has(n) && !seen.has(n)) {
          seen.add(n);
          for (const m of reads(recorded.get(n), seen)) out.add(m);
        } else if (!recorded.has(n)) out.add(n);
      }
      return out;
    };
    const metrics = new Set();
    const readsOf = new Map();
    for (const r of rules) {
      try {
        const m = reads(r);
        readsOf.set(r, m);
        for (const n of m) metrics.add(n);
      } catch (e) {
        if (r.kind === 'alert') this.unknown.set(r.name, `its expression cannot be read: ${e.message}`);
      }
    }
    const sels = [...metrics].sort().map(bareSelector);
    await this.twins.prepare(sels);
    // A series the record cannot tell, of which the run's Prometheus holds none either (loadgen's
    // when no loadgen ran), is an empty input, as it was for Prometheus: the rule's other inputs
    // still decide. One it holds but the record cannot tell leaves the alert unpredicted.
    const gaps = new Set();
    for (const s of sels) {
      if (!this.twins.missing.has(s.name)) continue;
      const held = await this.twins.query(s.name).catch(() => [{}]);
      if (held.length) gaps.add(s.name);
      else this.absent.add(s.name);
    }
    for (const r of rules) {
      if (r.kind !== 'alert' || !readsOf.has(r)) continue;
      const gap = [...readsOf.get(r)].find((n) => gaps.has(n));
      if (gap) this.unknown.set(r.name, `its rule reads ${gap}: ${this.twins.missing.get(gap)}`);
    }
    const inputs = sels.filter((s) => !this.twins.missing.has(s.name)).flatMap((s) => this.twins.series(s));

    // Prometheus evaluates its rules from its start, scraped or not (an absent() alert may be
    // pending before the first scrape). Its first evaluation that wrote something, or the first
    // sample read, starts the simulation: an earlier evaluation wrote nothing, so it left no state.
    await this.readTicks(groups, recorded);
    let start = this.firstOutput;
    for (const s of inputs) if (s.samples.length) start = Math.min(start, s.samples[0].t);
    if (!Number.isFinite(start)) start = this.record.window.from;
    start -= 1;
    const end = this.record.window.to;
    const marks = {};
    this.model.faults.forEach((f, i) => {
      if (f.injected !== null) marks[`fault${i + 1}`] = [f.injected];
    });
    for (const svc of this.model.services) {
      svc.processes.forEach((p, i) => {
        marks[`${svc.job}${i + 1}`] = [p.start];
      });
    }
    const groupPhases = groups.map((g) => (this.ticks.get(g.name).known ? this.ticks.get(g.name).phase : null));
    const storageFor = ({ kind, frac }) => buildStorage(inputs, kind, frac);
    const t0 = Date.now();
    const prediction = predictAlerts({
      groups,
      am: null,
      timings: { scrape: this.record.prometheus.scrapeMs, evaluation, lookback: this.record.prometheus.lookbackMs, resendDelay: RESEND_DELAY_MS },
      start,
      end,
      runs: this.runs,
      marks,
      storageFor,
      groupPhases,
    });
    for (const e of prediction.errors) {
      const name = e.split(':')[0];
      if (!this.unknown.has(name)) this.unknown.set(name, `the predictor cannot evaluate its rule (${e.slice(name.length + 2)})`);
    }
    this.windows = alertWindows(prediction, end);
    this.stats = { runs: prediction.runs, ms: Date.now() - t0, start, end, alerts: prediction.alerts.length };
  }

  // Each group's evaluation phase, from what its rules wrote into the run's Prometheus.
  async readTicks(groups, recorded) {
    const names = ['ALERTS', 'ALERTS_FOR_STATE', ...recorded.keys()];
    const re = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
    let series = [];
    try {
      series = await this.twins.query(`{__name__=~${JSON.stringify(re)}}`);
    } catch {
      series = [];
    }
    const evaluation = this.record.prometheus.evaluationMs;
    this.firstOutput = Math.min(Infinity, ...series.filter((s) => s.values.length).map((s) => s.values[0][0]));
    for (const g of groups) {
      const interval = g.interval ?? evaluation;
      const mine = series.find((s) => g.rules.some((r) => (r.kind === 'alert' ? s.metric.alertname === r.name && OWN_SERIES.has(s.metric.__name__) : s.metric.__name__ === r.name)) && s.values.length);
      const t = mine ? mine.values[0][0] : null; // ms, as instantQuery gives them
      this.ticks.set(g.name, { interval, phase: t === null ? 0 : ((t % interval) + interval) % interval, known: t !== null });
    }
  }

  // Why a selection of ALERTS cannot be checked (null when it can).
  reasonFor(sel) {
    if (this.reason) return this.reason;
    for (const [name, why] of this.unknown) {
      const labels = { __name__: 'ALERTS', alertname: name };
      const relevant = sel.matchers.filter((m) => m.label === '__name__' || m.label === 'alertname');
      if (relevant.every((m) => matcherOk(m, labels))) return `alert ${name} cannot be predicted: ${why}`;
    }
    return null;
  }

  // The twin series of ALERTS that `sel` selects (prepare() first).
  series(sel) {
    const bySeries = new Map();
    for (const w of this.windows) {
      const labels = { __name__: 'ALERTS', ...w.labels, alertstate: w.state };
      if (!sel.matchers.every((m) => matcherOk(m, labels))) continue;
      const key = JSON.stringify(Object.entries(labels).sort());
      if (!bySeries.has(key)) bySeries.set(key, { labels, windows: [] });
      bySeries.get(key).windows.push(w);
    }
    const out = [];
    for (const { labels, windows } of bySeries.values()) {
      const g = this.groupOf.get(labels.alertname);
      const tk = this.ticks.get(g?.name) || { interval: this.record.prometheus.evaluationMs, phase: 0, known: false };
      const at = new Map(); // tick -> certain?
      for (const w of windows) {
        const [p0, p1] = w.possible;
        let c0 = w.certain ? w.certain[0] : Infinity;
        let c1 = w.certain ? w.certain[1] : -Infinity;
        if (!tk.known) [c0, c1] = [c0 + tk.interval, c1 - tk.interval];
        for (let t = tk.phase + Math.ceil((p0 - tk.phase) / tk.interval) * tk.interval; t < p1; t += tk.interval) {
          const certain = t >= c0 && t < c1;
          at.set(t, (at.get(t) || false) || certain);
        }
      }
      const ticks = [...at.keys()].sort((a, b) => a - b);
      if (!ticks.length) continue; // a window between two evaluations: never written
      const samples = ticks.map((t) => ({ t, lo: 1, hi: 1, maybe: !at.get(t) }));
      const staleAt = ticks.filter((t, i) => ticks[i + 1] !== t + tk.interval).map((t) => t + tk.interval);
      out.push({ labels, samples, staleAt });
    }
    return out;
  }
}

// One run's storage: every twin series as recorded samples, each value chosen inside its interval.
function buildStorage(inputs, kind, frac) {
  const storage = new Storage();
  for (const s of inputs) {
    const rs = new RecordedSeries(s.labels);
    const counter = COUNTER.test(s.labels.__name__ || '');
    const events = [...s.samples.map((x) => ({ t: x.t, x })), ...(s.staleAt || []).map((t) => ({ t, x: null }))].sort((a, b) => a.t - b.t);
    let prev = -Infinity;
    let seg;
    for (const { t, x } of events) {
      if (!x) {
        rs.append(t, null);
        continue;
      }
      if (x.maybe && (kind === 'min' || (kind === 'random' && frac() < 0.5))) {
        rs.append(t, null);
        continue;
      }
      // An end of the interval: a rule compares with a threshold, so the ends are the extremes
      // (and a gauge such as taskd_db_up is 0 or 1, never between).
      let v;
      if (Number.isNaN(x.lo) || Number.isNaN(x.hi)) v = NaN;
      else if (kind === 'min') v = x.lo;
      else if (kind === 'max') v = x.hi;
      else v = frac() < 0.5 ? x.lo : x.hi;
      if (counter && x.seg !== undefined && Number.isFinite(v)) {
        if (x.seg !== seg) [prev, seg] = [-Infinity, x.seg];
        v = Math.min(Math.max(v, prev), Math.max(x.hi, prev));
        prev = v;
      }
      rs.append(t, v);
    }
    storage.add(rs);
  }
  return storage;
}
