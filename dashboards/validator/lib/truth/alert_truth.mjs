// alert_truth: the truth of ALERTS over a recorded run — when each alert should have been pending
// and firing: the rules the run's Prometheus ran, evaluated by the rule engine of `validator
// alerts` (lib/alerts/simulate.mjs: groups, `for`, keep_firing_for, staleness, ALERTS as
// Prometheus writes it; one engine for both) over the twins of the series they read.
//
// The twin of a series is an interval per scrape (lo..hi, maybe absent). Each of 24 runs picks
// every sample inside it: all lows, all highs, or a seeded mix of the two ends (a rule compares
// with a threshold, so the ends are the extremes; counters kept monotone within a process). Each
// group is evaluated at the phase its samples in the run's Prometheus show, so every run
// evaluates at the real evaluation times; a group that left none is evaluated at a swept phase.
// The twin of ALERTS{alertname, alertstate, ...} is then 1 at each of the group's evaluations
// where every run had the alert in that state (certain), "may be absent" where some run did, a
// stale marker at the next evaluation, nothing elsewhere. Alertmanager plays no part in ALERTS.

import { random } from '../alerts/predict.mjs';
import { simulate } from '../alerts/simulate.mjs';
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
  // twins: the Twins of the run (prepared on demand); record: the loaded run record; groups:
  // lib/alerts/rule_set.mjs groups of the run's rule files (error: why they could not be read).
  constructor({ twins, record, groups, error = null, runs = DEFAULT_RUNS }) {
    this.groups = groups;
    this.error = error;
    this.twins = twins;
    this.record = record;
    this.runs = runs;
    this.reason = null; // why no alert can be predicted at all
    this.unknown = new Map(); // alertname -> why its windows cannot be predicted
    this.absent = new Set(); // metrics neither the record nor the run's Prometheus has
    this.firstOutput = Infinity; // the time of the first sample any rule wrote
    this.spans = new Map(); // alert key + state -> { labels, runs: run -> [[from, to)] }
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
    const known = groups.map((g) => this.ticks.get(g.name));
    const timings = { scrape: this.record.prometheus.scrapeMs, evaluation, lookback: this.record.prometheus.lookbackMs, resendDelay: RESEND_DELAY_MS };
    const rnd = random(1);
    const inFlight = this.inFlight(known.filter((k) => k.known));
    const t0 = Date.now();
    for (let run = 0; run < this.runs; run++) {
      const kind = run === 0 ? 'min' : run === 1 ? 'max' : 'random';
      const result = simulate({
        groups,
        storage: buildStorage(inputs, kind, rnd, inFlight),
        timings,
        start,
        end,
        // A group that left no sample in the run's Prometheus is evaluated at a swept phase.
        phases: { groups: known.map((k) => (k.known ? k.phase : Math.floor(rnd() * k.interval))) },
      });
      for (const e of result.errors) {
        if (!this.unknown.has(e.rule.name)) this.unknown.set(e.rule.name, `the rule engine cannot evaluate its rule (${e.error.message})`);
      }
      for (const [key, h] of result.history) {
        for (const sp of h.spans) {
          if (sp.pending === undefined) continue;
          const firing = sp.firing ?? Infinity;
          const resolved = sp.resolved ?? Infinity;
          this.addSpan(key, h.labels, 'pending', run, sp.pending, Math.min(firing, resolved));
          if (sp.firing !== undefined) this.addSpan(key, h.labels, 'firing', run, sp.firing, resolved);
        }
      }
    }
    this.stats = { runs: this.runs, ms: Date.now() - t0, start, end, alerts: this.spans.size };
  }

  // A scrape's samples carry its start time but are stored when it ends: an evaluation between
  // the two may or may not see them (a scrape and a rule group at the same phase race). Returns
  // (labels, t) -> the first evaluation tick in [t, t + the scrape's duration], or null.
  inFlight(ticks) {
    return (labels, t) => {
      const d = this.twins.targets?.get(`${labels.job}|${labels.instance}`)?.duration.get(t);
      if (!(d >= 0)) return null;
      let first = null;
      for (const k of ticks) {
        const tick = k.phase + Math.ceil((t - k.phase) / k.interval) * k.interval;
        if (tick <= t + Math.ceil(d) && (first === null || tick < first)) first = tick;
      }
      return first;
    };
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

  // The times at which one simulated run had the alert in `state`: [from, to) per episode.
  addSpan(key, labels, state, run, from, to) {
    const k = `${key}\u0000${state}`;
    if (!this.spans.has(k)) this.spans.set(k, { labels: { __name__: 'ALERTS', ...labels, alertstate: state }, runs: new Map() });
    const e = this.spans.get(k);
    if (!e.runs.has(run)) e.runs.set(run, []);
    e.runs.get(run).push([from, to]);
  }

  // The twin series of ALERTS that `sel` selects (prepare() first): at each of the group's
  // evaluations, certain where every run had the alert in that state, "may be" where some did.
  // With the evaluation phase unknown, a run counts for an evaluation when its state covers one
  // interval around it (certain) or touches it (possible).
  series(sel) {
    const out = [];
    const end = this.record.window.to;
    for (const { labels, runs } of this.spans.values()) {
      if (!sel.matchers.every((m) => matcherOk(m, labels))) continue;
      const g = this.groupOf.get(labels.alertname);
      const tk = this.ticks.get(g?.name) || { interval: this.record.prometheus.evaluationMs, phase: 0, known: false };
      const w = tk.known ? 0 : tk.interval;
      const all = [...runs.values()].flat();
      const first = Math.min(...all.map(([a]) => a)) - w;
      const last = Math.min(end, Math.max(...all.map(([, b]) => b)) + w);
      const samples = [];
      for (let t = tk.phase + Math.ceil((first - tk.phase) / tk.interval) * tk.interval; t <= last; t += tk.interval) {
        const covers = (list) => list.some(([a, b]) => a <= t - w && t + w < b);
        const touches = (list) => list.some(([a, b]) => (w ? a < t + w && t - w < b : a <= t && t < b));
        const possible = [...runs.values()].some(touches);
        if (!possible) continue;
        const certain = runs.size === this.runs && [...runs.values()].every(covers);
        samples.push({ t, lo: 1, hi: 1, maybe: !certain });
      }
      if (!samples.length) continue; // between two evaluations: never written
      const staleAt = samples.filter((x, i) => samples[i + 1]?.t !== x.t + tk.interval).map((x) => x.t + tk.interval);
      out.push({ labels, samples, staleAt });
    }
    return out;
  }
}

// One run's storage: every twin series as recorded samples, each value chosen inside its interval;
// a sample an evaluation may not have seen yet (inFlight) is stored as seen (the first run), just
// after that evaluation (the second) or either (the others).
function buildStorage(inputs, kind, frac, inFlight = () => null) {
  const storage = new Storage();
  for (const s of inputs) {
    const rs = new RecordedSeries(s.labels);
    const counter = COUNTER.test(s.labels.__name__ || '');
    const events = [...s.samples.map((x) => ({ t: x.t, x })), ...(s.staleAt || []).map((t) => ({ t, x: null }))].sort((a, b) => a.t - b.t);
    let prev = -Infinity;
    let seg;
    events.forEach(({ t, x }, i) => {
      if (!x) {
        rs.append(t, null);
        return;
      }
      if (x.maybe && (kind === 'min' || (kind === 'random' && frac() < 0.5))) {
        rs.append(t, null);
        return;
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
      const tick = inFlight(s.labels, t);
      const late = tick !== null && tick + 1 < (events[i + 1]?.t ?? Infinity) && (kind === 'max' || (kind === 'random' && frac() < 0.5));
      rs.append(late ? tick + 1 : t, v);
    });
    storage.add(rs);
  }
  return storage;
}
