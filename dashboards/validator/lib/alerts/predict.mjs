// predict: when each alert should be pending, firing, resolved and notified, predicted from the
// rules (expressions, windows, thresholds, for), the stack's timings (scrape and evaluation
// intervals, lookback, resend delay), Alertmanager's routes, group timings and inhibitions, and a
// model of what happened (model.mjs). The phases nobody controls — where each target's scrape
// ticks and each group's evaluation ticks fall, when Alertmanager's cleanup runs, how late a
// service reports a change within its detection delay — are swept: two corner runs (all phases
// at 0, all at their maximum) and seeded random ones. Each result is the [earliest, latest] over
// the runs, with how many runs it happened in: "in 64 of 64" is a prediction, "in 20 of 64" says
// the scenario sits on an edge (a burst as long as `for`) and cannot be judged.
//
// The shared entry point for every check of alerts against what happened (validator alerts, and
// the ALERTS panels of the truth report): predictAlerts() below.

import { buildStorage } from './model.mjs';
import { labelsKey } from './series.mjs';
import { simulate } from './simulate.mjs';

const AM_CLEANUP = 30000;
// A muted flush belongs to an episode until this long after its resolution (the resolved alert
// is still in the group at the next flush).
const AM_FLUSH_SLACK = 3600000;

// A small seeded generator (mulberry32): the same phases on every run of the same prediction.
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Range {
  constructor() {
    this.min = Infinity;
    this.max = -Infinity;
    this.n = 0;
  }

  add(v) {
    if (v === undefined || v === null) return;
    this.n++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  toJSON() {
    return this.n ? { min: this.min, max: this.max, runs: this.n } : null;
  }
}

function phaseChooser(kind, rnd) {
  if (kind === 'min') return { frac: () => 0, pick: (d) => d[0] };
  if (kind === 'max') return { frac: () => 0.999999, pick: (d) => d[1] };
  return { frac: rnd, pick: (d) => d[0] + Math.round(rnd() * (d[1] - d[0])) };
}

// The slot an episode belongs to: the latest mark at or before its pending time, so that "the episode after `freeze`" is the same one in every
// run even when an earlier, borderline episode fired in some runs and not in others.
export function episodeSlot(t, markList) {
  let best = { name: 'start', t: -Infinity };
  for (const m of markList) if (m.t <= t && m.t >= best.t) best = m;
  return best;
}

// The marks that split episodes: those made once (a mark repeated in a cycle, such as the
// flapping database's away/back, would scatter one episode over many slots), not `.done`.
export function slotMarks(marks) {
  const out = [];
  for (const [name, times] of Object.entries(marks || {})) {
    const list = [].concat(times);
    if (name.includes('.') || list.length !== 1) continue;
    out.push({ name, occurrence: 0, t: list[0], key: name });
  }
  return out;
}

// groups: rule_set groups; am: routing.mjs config or null; timings (ms): {scrape, evaluation,
// lookback, resendDelay}; model: model.mjs readModel(); start/end: ms on the model's clock;
// marks: {name: [ms]} to align episodes on (optional).
// Returns {runs, alerts: [AlertPrediction], errors: [sentences]} where AlertPrediction =
// {key, labels, rule, episodes: [Episode], notified: [...first notification per receiver],
// muted, mutedBy} and Episode = {slot: {name, occurrence, t}, runs, pending, firing, resolved,
// dropped, notified: [{receiver, groupKey, firing, resolved}], muted, mutedBy}; every time is a
// {min, max, runs} or null.
export function predictAlerts({ groups, am = null, timings, model, start, end, runs = 64, seed = 1, marks = null }) {
  const rnd = random(seed);
  const slots = slotMarks(marks);
  const byKey = new Map();
  const errors = new Map();
  const alertSlot = (key, labels, rule) => {
    if (!byKey.has(key)) byKey.set(key, { key, labels, rule, episodes: new Map(), seenRuns: 0 });
    const a = byKey.get(key);
    if (!a.rule && rule) a.rule = rule;
    return a;
  };
  const episodeOf = (a, slot) => {
    if (!a.episodes.has(slot.key)) {
      a.episodes.set(slot.key, { slot, runs: 0, pending: new Range(), firing: new Range(), resolved: new Range(), dropped: 0, notified: new Map(), muted: new Range(), mutedBy: new Set() });
    }
    return a.episodes.get(slot.key);
  };
  for (let run = 0; run < runs; run++) {
    const kind = run === 0 ? 'min' : run === 1 ? 'max' : 'random';
    const ch = phaseChooser(kind, rnd);
    const storage = buildStorage(model, {
      interval: timings.scrape,
      scrape: model.targets.map(() => Math.floor(ch.frac() * timings.scrape)),
      pick: ch.pick,
    });
    const result = simulate({
      groups,
      storage,
      timings,
      am,
      start,
      end,
      blackouts: (model.reloads || []).map((r) => [r.t, r.t + ch.pick(r.blackout)]),
      phases: {
        groups: groups.map((g) => Math.floor(ch.frac() * (g.interval ?? timings.evaluation))),
        amCleanup: Math.floor(ch.frac() * AM_CLEANUP),
      },
    });
    for (const e of result.errors) errors.set(`${e.rule.name}: ${e.error.message}`, e);
    // This run's episodes, by alert key, each with the time it fired (to find its notifications).
    const runEpisodes = new Map();
    for (const [key, h] of result.history) {
      const a = alertSlot(key, h.labels, h.rule);
      a.seenRuns++;
      // One episode per slot and run: the first that fires (a brief pending that came to
      // nothing before it, in some runs only, must not shadow it), else the first.
      const bySlot = new Map();
      for (const sp of h.spans) {
        const slot = slots.length ? episodeSlot(sp.pending, slots) : { name: 'episode', occurrence: bySlot.size, t: 0, key: `#${bySlot.size}` };
        const cur = bySlot.get(slot.key);
        if (!cur || (cur.sp.firing === undefined && sp.firing !== undefined)) bySlot.set(slot.key, { slot, sp });
      }
      const list = [];
      for (const { slot, sp } of bySlot.values()) {
        const ep = episodeOf(a, slot);
        ep.runs++;
        ep.pending.add(sp.pending);
        ep.firing.add(sp.firing);
        ep.resolved.add(sp.resolved);
        if (sp.dropped) ep.dropped++;
        list.push({ ep, sp });
      }
      runEpisodes.set(key, list);
    }
    // A notification's alert carries StartsAt = the firing time of its episode.
    const first = new Map();
    for (const n of result.notifications) {
      for (const na of n.alerts) {
        const key = labelsKey(na.labels);
        const e = (runEpisodes.get(key) || []).find((x) => x.sp.firing === na.startsAt);
        if (!e) continue;
        const k2 = `${key}\u0000${e.ep.slot.key}\u0000${n.receiver}`;
        if (!first.has(k2)) first.set(k2, { ep: e.ep, receiver: n.receiver, groupKey: n.groupKey, firing: undefined, resolved: undefined });
        const f = first.get(k2);
        if (na.status === 'firing' && f.firing === undefined) f.firing = n.t;
        if (na.status === 'resolved' && f.firing !== undefined && f.resolved === undefined) f.resolved = n.t;
      }
    }
    for (const f of first.values()) {
      if (!f.ep.notified.has(f.receiver)) f.ep.notified.set(f.receiver, { receiver: f.receiver, groupKey: f.groupKey, firing: new Range(), resolved: new Range() });
      const nr = f.ep.notified.get(f.receiver);
      nr.firing.add(f.firing);
      nr.resolved.add(f.resolved);
    }
    for (const [key, list] of result.muted) {
      for (const e of runEpisodes.get(key) || []) {
        const mine = list.filter((m) => m.t >= e.sp.firing && (e.sp.resolved === undefined || m.t <= e.sp.resolved + AM_FLUSH_SLACK));
        if (!mine.length) continue;
        e.ep.muted.add(mine[0].t);
        for (const m of mine) e.ep.mutedBy.add(m.by);
      }
    }
  }
  const alerts = [...byKey.values()].map((s) => {
    const episodes = [...s.episodes.values()].sort((x, y) => x.slot.t - y.slot.t || x.pending.min - y.pending.min).map((e) => ({
      slot: { name: e.slot.name, occurrence: e.slot.occurrence, t: e.slot.t },
      runs: e.runs,
      pending: e.pending.toJSON(),
      firing: e.firing.toJSON(),
      resolved: e.resolved.toJSON(),
      dropped: e.dropped,
      notified: [...e.notified.values()].map((n) => ({ receiver: n.receiver, groupKey: n.groupKey, firing: n.firing.toJSON(), resolved: n.resolved.toJSON() })),
      muted: e.muted.toJSON(),
      mutedBy: [...e.mutedBy],
    }));
    return { key: s.key, labels: s.labels, rule: s.rule, seenRuns: s.seenRuns, episodes };
  });
  alerts.sort((a, b) => (a.labels.alertname < b.labels.alertname ? -1 : a.labels.alertname > b.labels.alertname ? 1 : a.key < b.key ? -1 : 1));
  return { runs, alerts, errors: [...errors.keys()] };
}

// The windows in which each alert must be, and may be, pending and firing (for a panel that
// draws ALERTS): certain = in every run, [latest start, earliest end]; possible = in some run,
// [earliest start, latest end]. `end` closes windows still open at the end of the prediction.
export function alertWindows(prediction, end) {
  const out = [];
  for (const a of prediction.alerts) {
    for (const ep of a.episodes) {
      const all = ep.runs === prediction.runs;
      const close = ep.firing ?? ep.resolved;
      if (ep.pending) {
        const stop = close ?? { min: end, max: end, runs: ep.runs };
        const certain = all && (ep.firing ? ep.firing.runs : ep.resolved?.runs ?? ep.runs) === ep.runs && ep.pending.max < stop.min;
        out.push({ alertname: a.labels.alertname, labels: a.labels, state: 'pending', certain: certain ? [ep.pending.max, stop.min] : null, possible: [ep.pending.min, stop.max] });
      }
      if (ep.firing) {
        const stop = ep.resolved ?? { min: end, max: end, runs: ep.runs };
        const resolvedEverywhere = !ep.resolved || ep.resolved.runs === ep.firing.runs;
        const certain = all && ep.firing.runs === ep.runs && resolvedEverywhere && ep.firing.max < stop.min;
        out.push({ alertname: a.labels.alertname, labels: a.labels, state: 'firing', certain: certain ? [ep.firing.max, stop.min] : null, possible: [ep.firing.min, ep.resolved && ep.resolved.runs === ep.firing.runs ? stop.max : end] });
      }
    }
  }
  return out;
}
