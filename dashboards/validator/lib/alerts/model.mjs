// model: what a scenario does to the metrics, as functions of time, and the storage a simulated
// Prometheus scrapes from it.
//
// A model (usually written in a scenario file, in seconds and event names) has named instants
// (`events`: inject, rollback...), the time Prometheus started, and targets (job, instance, scrape
// health over time) with series: gauges that take values or slopes at events, counters that grow
// at rates that change at events (or reset to 0: a restart). Every change may land a detection
// delay after its event ([min, max]: a service reports a fault up to one check interval late).
// A `requests` block expands to the http_requests_total series (and a latency histogram) of a
// load with a given mix of answers per phase. A counter the service creates on its first event
// (`first_seen`, and every answer series) appears a random wait (its first event) after its rate
// turns positive; every change of a counter's rate lands early or late by what the counts'
// randomness amounts to (countJitter). Everything here is in milliseconds once read.
//
// buildStorage(model, phases) gives the series.mjs Storage for one choice of phases: each
// target's scrape phase and, per change, where in its delay range it lands.

import { parseDuration } from './duration.mjs';
import { Piecewise, ScrapedSeries, Storage } from './series.mjs';

// "inject", "inject+2s", "rollback.done-500ms", "12s", 30 (seconds) -> the times in ms it names,
// given the events (name -> [ms, ...]: a mark that repeats names every occurrence).
export function resolveTimes(at, events, what = 'time') {
  if (typeof at === 'number') return [Math.round(at * 1000)];
  const m = /^\s*([a-zA-Z_][\w.-]*?)?\s*(?:([+-])\s*(\S+))?\s*$/.exec(String(at));
  if (!m || (!m[1] && !m[3])) return [parseDuration(at, what)];
  let base = [0];
  if (m[1]) {
    if (!(m[1] in events)) throw new Error(`${what} '${at}' names no event (known: ${Object.keys(events).join(', ') || 'none'})`);
    base = [].concat(events[m[1]]);
  }
  const shift = m[3] ? (m[2] === '-' ? -1 : 1) * parseDuration(m[3], what) : 0;
  return base.map((t) => t + shift);
}

// The one time `at` names (the first occurrence of a repeated mark).
export function resolveTime(at, events, what = 'time') {
  return resolveTimes(at, events, what)[0];
}

// A signed duration: "-1s" is -1000.
function signedDuration(x, what) {
  const t = String(x).trim();
  return t.startsWith('-') ? -parseDuration(t.slice(1), what) : parseDuration(typeof x === 'number' ? x : t, what);
}

function delayRange(d, what) {
  if (d === undefined || d === null) return [0, 0];
  const pair = Array.isArray(d) ? d : [d, d];
  const [a, b] = pair.map((x) => signedDuration(x, `${what} delay`));
  if (b < a) throw new Error(`${what}: delay [${pair.join(', ')}] ends before it starts`);
  return [a, b];
}

function routeKey(spec) {
  const parts = spec.trim().split(/\s+/);
  if (parts.length !== 3) throw new Error(`answer '${spec}' is not "METHOD ROUTE CODE"`);
  return { method: parts[0], route: parts[1], code: parts[2] };
}

// The CDF of a latency spec ({"0.001": 0.5, "1": 1}) at bound x: linear between points, 0 at 0.
function cdfAt(points, x) {
  const pts = Object.entries(points).map(([b, s]) => [Number(b), Number(s)]).sort((a, b) => a[0] - b[0]);
  let [px, py] = [0, 0];
  for (const [bx, by] of pts) {
    if (x <= bx) return bx === px ? by : py + ((by - py) * (x - px)) / (bx - px);
    [px, py] = [bx, by];
  }
  return 1;
}

// Expands a target's `requests` block into explicit counter series: one per answer (method,
// route, code) and, with `latency`, one per histogram bucket of each method and route.
function requestSeries(req, what) {
  const metric = req.metric || 'http_requests_total';
  const rate = Number(req.rate);
  if (!(rate >= 0)) throw new Error(`${what}: requests.rate must be a number of requests per second`);
  const phases = req.phases || [];
  const keys = new Map();
  for (const p of phases) for (const k of Object.keys(p.answers || {})) keys.set(k, routeKey(k));
  const out = [];
  for (const [k, labels] of keys) {
    const steps = phases.map((p) => ({ at: p.at, delay: p.delay, rate: rate * Number(p.answers?.[k] ?? 0) }));
    out.push({ metric, labels, kind: 'counter', steps, bornWhenPositive: true });
  }
  if (!req.latency) return out;
  const lat = req.latency;
  const bucketMetric = `${lat.metric || 'http_request_duration_seconds'}_bucket`;
  const bounds = [...(lat.bounds || []).map(Number), Infinity];
  const latencyPhases = lat.phases || [];
  const routes = new Map();
  for (const l of keys.values()) routes.set(`${l.method} ${l.route}`, { method: l.method, route: l.route });
  const times = [...phases, ...latencyPhases].map((p) => ({ at: p.at, delay: p.delay }));
  for (const [mr, lbl] of routes) {
    const share = (p) => Object.entries(p.answers || {}).filter(([k]) => k.startsWith(`${mr} `)).reduce((n, [, v]) => n + Number(v), 0);
    for (const le of bounds) {
      out.push({
        metric: bucketMetric,
        labels: { ...lbl, le: le === Infinity ? '+Inf' : String(le) },
        kind: 'counter',
        latency: { phases, latencyPhases, mr, le, rate, share },
        steps: times,
        bornWhenPositive: true,
      });
    }
  }
  return out;
}

// Reads a model from its scenario form (seconds, event names). vars are already substituted.
export function readModel(spec, events, what = 'model') {
  const ev = { start: [0] };
  for (const [k, v] of Object.entries(events || {})) ev[k] = [].concat(v);
  const model = {
    events: ev,
    prometheusStart: resolveTime(spec.prometheus_start ?? 'start', ev, `${what}.prometheus_start`),
    targets: [],
    // Configuration reloads: what Prometheus sends is dropped for a while after each.
    reloads: (spec.reloads || []).flatMap((r, i) => resolveTimes(r.at, ev, `${what}.reloads[${i}].at`).map((t) => ({ t, blackout: delayRange(r.blackout ?? ['0s', '5s'], `${what}.reloads[${i}] blackout`) }))),
  };
  for (const [ti, t] of (spec.targets || []).entries()) {
    const tw = `${what}.targets[${ti}]`;
    if (!t.job) throw new Error(`${tw} has no job`);
    const target = {
      job: String(t.job),
      instance: String(t.instance ?? ''),
      health: (t.health || [{ at: 'start', state: 'up' }]).flatMap((h, i) => resolveTimes(h.at, ev, `${tw}.health[${i}].at`).map((time) => ({
        t: time,
        state: String(h.state),
        restart: h.restart !== false,
        delay: delayRange(h.delay, `${tw}.health[${i}]`),
      }))),
      series: [],
    };
    for (const h of target.health) {
      if (!['up', 'down', 'gone'].includes(h.state)) throw new Error(`${tw}: health state '${h.state}' is not up, down or gone`);
    }
    const list = [...(t.series || [])];
    if (t.requests) list.push(...requestSeries(t.requests, tw));
    for (const [si, s] of list.entries()) {
      const sw = `${tw} series ${s.metric || `#${si + 1}`}`;
      if (!s.metric) throw new Error(`${sw} has no metric name`);
      const kind = s.kind || (s.rate !== undefined || (s.steps || []).some((x) => x.rate !== undefined) ? 'counter' : 'gauge');
      const initial = s.initial ?? s.value ?? 0;
      const first = [];
      if (s.rate !== undefined || s.slope !== undefined) first.push({ at: 'start', rate: s.rate, slope: s.slope });
      const steps = [...first, ...(s.steps || [])].flatMap((x, i) => resolveTimes(x.at, ev, `${sw} steps[${i}].at`).map((time) => ({
        ...x,
        t: time,
        delay: delayRange(x.delay, `${sw} steps[${i}]`),
      })));
      target.series.push({
        metric: s.metric,
        labels: Object.fromEntries(Object.entries(s.labels || {}).map(([k, v]) => [k, String(v)])),
        kind,
        initial: Number(initial),
        born: s.born !== undefined ? resolveTime(s.born, ev, `${sw}.born`) : null,
        // A counter the service creates on its first event (a 5xx code, an error code not
        // exported at 0): the series appears with that event, not before.
        bornWhenPositive: !!(s.bornWhenPositive || s.first_seen),
        latency: s.latency || null,
        steps,
      });
    }
    model.targets.push(target);
  }
  return model;
}

// The rate of a latency bucket after step `i`: the route's answered rate times the share of its
// answers at or under `le` in the latency phase in force.
function bucketRate(lat, t, events) {
  const latest = (phases) => {
    let best = null;
    let bestT = -Infinity;
    for (const p of phases) {
      for (const pt of resolveTimes(p.at, events)) if (pt <= t && pt >= bestT) [best, bestT] = [p, pt];
    }
    return best;
  };
  const req = latest(lat.phases);
  const latp = latest(lat.latencyPhases);
  const routeRate = req ? lat.rate * lat.share(req) : 0;
  const cdf = latp?.routes?.[lat.mr] ?? latp?.routes?.['*'] ?? { 0.001: 1 };
  return routeRate * (lat.le === Infinity ? 1 : Math.min(1, cdfAt(cdf, lat.le)));
}

// One series' value function, with each change at its event plus a delay picked by `pick`. Flat
// at its initial value before the first change.
function valueFunction(s, pick, events) {
  const changes = s.steps.map((x) => ({ ...x, when: x.t + pick(x.delay) })).sort((a, b) => a.when - b.when);
  for (const c of changes) c.base = c.when;
  if (s.kind === 'counter' && !s.latency) countJitter(changes, pick);
  const segs = [{ from: -1e15, v0: s.initial, slope: 0 }];
  let v = s.initial;
  let slope = 0;
  let last = null;
  let born = s.born;
  for (const c of changes) {
    if (last !== null) v += (slope * (c.when - last)) / 1000;
    if (c.reset) v = 0;
    if (c.value !== undefined) v = Number(c.value);
    if (s.kind === 'counter') {
      if (s.latency && !c.restart) slope = bucketRate(s.latency, c.t, events);
      else if (c.rate !== undefined) slope = Number(c.rate);
    } else if (c.slope !== undefined) slope = Number(c.slope);
    else if (c.value !== undefined) slope = 0;
    // Its first event comes a random wait after the rate turns positive: up to three mean gaps
    // (1/rate), which covers 95% of them.
    if (s.bornWhenPositive && born === null && slope > 0) born = c.base + pick([0, Math.round(3000 / slope)]);
    segs.push({ from: c.when, v0: v, slope });
    last = c.when;
  }
  return { fn: new Piecewise(segs), born };
}

// A counter counts events, and events fall at random: around a change of its rate, the count
// runs ahead of or behind its mean, as if the change came earlier or later. In a second at r
// events a second the count is off by about sqrt(r) events, or 1/sqrt(r) s of events; with few
// events, by a gap or two between them. So each change of rate moves by up to the larger of two
// such deviations (2/sqrt(r) s) and three mean gaps (3/r s), at the higher rate of the two sides,
// either way, never past the changes next to it. (Seen live: the first 0.58 s of a 503 series at
// 15/s counted 5 errors, not 9, enough to keep a ratio under its threshold for one more period.)
// Resets (restarts) stay where they are.
function countJitter(changes, pick) {
  let rate = 0;
  const moved = changes.map((c, i) => {
    const before = rate;
    if (c.rate !== undefined && !c.reset) rate = Number(c.rate);
    const top = Math.max(before, rate);
    if (i === 0 || c.reset || c.rate === undefined || !(top > 0) || before === rate) return c.when;
    let g = Math.round(Math.max(3000 / top, 2000 / Math.sqrt(top)));
    g = Math.min(g, Math.floor((c.when - changes[i - 1].when) / 2));
    if (i + 1 < changes.length) g = Math.min(g, Math.floor((changes[i + 1].when - c.when) / 2));
    return g > 0 ? c.when + pick([-g, g]) : c.when;
  });
  moved.forEach((w, i) => {
    changes[i].when = w;
  });
}

// The scrape ticks of a target: [[from, to), state] spans from its health list.
function healthSpans(target, pick) {
  const spans = target.health.map((h) => ({ from: h.t + pick(h.delay), state: h.state, restart: h.restart })).sort((a, b) => a.from - b.from);
  return spans.map((s, i) => [s.from, i + 1 < spans.length ? spans[i + 1].from : Infinity, s.state, s.restart]);
}

// phases: {scrape: [ms per target], interval: scrape interval ms, pick: (delay [min,max]) -> ms}.
export function buildStorage(model, phases) {
  const storage = new Storage();
  const pick = phases.pick || ((d) => d[0]);
  model.targets.forEach((target, ti) => {
    const interval = phases.interval;
    const phase = (phases.scrape?.[ti] ?? 0) % interval;
    const spans = healthSpans(target, pick);
    const after = (from) => Math.max(from, model.prometheusStart);
    const upSpans = spans.filter(([, , st]) => st !== 'gone').map(([a, b]) => [after(a), b]).filter(([a, b]) => a < b);
    const upSegs = [{ from: -1e15, v0: 0, slope: 0 }];
    for (const [a, , st] of spans) upSegs.push({ from: a, v0: st === 'up' ? 1 : 0, slope: 0 });
    const base = { job: target.job, instance: target.instance };
    storage.add(new ScrapedSeries({ __name__: 'up', ...base }, new Piecewise(upSegs), merge(upSpans), phase, interval));
    const live = spans.filter(([, , st]) => st === 'up').map(([a, b]) => [a, b]);
    // Counters restart from 0 when the target comes back after being down or gone: a new process.
    const restarts = spans.slice(1).filter(([, , st, restart], i) => st === 'up' && restart && spans[i][2] !== 'up').map(([a]) => a);
    for (const s of target.series) {
      const withRestarts = s.kind === 'counter' && restarts.length
        ? { ...s, steps: [...s.steps, ...restarts.map((r) => ({ at: null, t: r, delay: [0, 0], reset: true, restart: true }))] }
        : s;
      const { fn, born } = valueFunction(withRestarts, pick, model.events);
      let presence = live.map(([a, b]) => [after(Math.max(a, born ?? -Infinity)), b]).filter(([a, b]) => a < b);
      if (s.bornWhenPositive && born === null) presence = [];
      storage.add(new ScrapedSeries({ __name__: s.metric, ...base, ...s.labels }, fn, merge(presence), phase, interval));
    }
  });
  return storage;
}

function merge(spans) {
  const out = [];
  for (const [a, b] of [...spans].sort((x, y) => x[0] - y[0])) {
    if (out.length && a <= out[out.length - 1][1]) out[out.length - 1][1] = Math.max(out[out.length - 1][1], b);
    else out.push([a, b]);
  }
  return out;
}
