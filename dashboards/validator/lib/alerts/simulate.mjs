// simulate: one run of Prometheus's rule evaluation and Alertmanager's notification pipeline over
// modelled series, with every phase fixed (each target's scrape ticks are in the storage, each
// group's evaluation ticks and Alertmanager's cleanup tick are given). predict.mjs runs it over
// many phases to get windows.
//
// Prometheus (rules/manager.go, rules/alerting.go, v2.42): every group evaluates its rules in
// order at phase + k * interval; a recording rule's output is stored at the evaluation time (stale
// markers for series that left it); an alert is pending at the first evaluation whose result holds
// its labels, firing at the first evaluation at least `for` after that, inactive (resolved) at the
// first evaluation without them (or after keep_firing_for); firing and just-resolved alerts are
// sent after each evaluation, again every resend delay, with StartsAt = the firing time.
// Alertmanager (dispatch/dispatch.go, notify/notify.go, inhibit/inhibit.go, v0.25): an alert
// joins an aggregation group per matching route and group labels; a new group flushes group_wait
// later (at once when its StartsAt is more than group_wait old), then every group_interval; a
// flush drops inhibited alerts, and notifies when a firing alert is new to that receiver, when the
// last firing one resolved, when a resolved one is new (send_resolved) or after repeat_interval;
// resolved alerts leave the group after the flush; empty groups are removed by a cleanup every 30 s.
//
// Times are milliseconds on one clock (the model's). Returns what happened: alert state intervals,
// Alertmanager notifications, and the flushes at which each alert was muted.

import { allMatch } from './routing.mjs';
import { Evaluator } from './promql_eval.mjs';
import { expandLabel } from './rule_set.mjs';
import { labelsKey } from './series.mjs';

const RESOLVED_RETENTION = 15 * 60000;
const AM_CLEANUP = 30000;

// An alert's labels: the sample's without __name__, the rule's (templates expanded), alertname.
// Cached per sample label object unless a label template reads the value.
const ALERT_LABELS = new WeakMap();
function alertLabels(rule, sampleLabels, value) {
  const dynamic = Object.values(rule.labels).some((v) => v.includes('{{'));
  let perRule = ALERT_LABELS.get(rule);
  if (!perRule) ALERT_LABELS.set(rule, (perRule = new WeakMap()));
  if (!dynamic && perRule.has(sampleLabels)) return perRule.get(sampleLabels);
  const { __name__: _, ...labels } = sampleLabels;
  for (const [k, v] of Object.entries(rule.labels)) labels[k] = expandLabel(v, sampleLabels, value);
  labels.alertname = rule.name;
  if (!dynamic) perRule.set(sampleLabels, labels);
  return labels;
}

class PrometheusRules {
  constructor(groups, storage, { globalInterval, lookback, resendDelay, phases, start }) {
    this.storage = storage;
    this.resendDelay = resendDelay;
    this.groups = groups.map((g, i) => {
      const interval = g.interval ?? globalInterval;
      const phase = (phases?.[i] ?? 0) % interval;
      const first = phase + Math.ceil((start - phase) / interval) * interval;
      return {
        g, interval, next: first,
        evaluator: new Evaluator(storage, { lookback, evalInterval: interval }),
        recordedLast: new Map(), // rule index -> Set of series keys written at the last evaluation
        active: new Map(), // rule index -> Map(labels key -> alert state)
        alertsLast: new Map(), // rule index -> Map(ALERTS key -> series)
      };
    });
    this.history = new Map(); // alert key -> {labels, rule, spans: [{pending, firing, resolved}]}
    this.outputs = new Map(); // recording rule -> WeakMap(sample labels -> RecordedSeries)
    this.errors = [];
  }

  nextTime() {
    return Math.min(...this.groups.map((x) => x.next));
  }

  // Evaluates every group due at t; returns the alerts to send to Alertmanager.
  evaluateDue(t) {
    const send = [];
    for (const grp of this.groups) {
      if (grp.next !== t) continue;
      grp.next += grp.interval;
      grp.g.rules.forEach((rule, ri) => {
        let result;
        try {
          result = grp.evaluator.evaluate(rule.ast, t);
        } catch (e) {
          this.errors.push({ rule, t, error: e });
          result = { kind: 'vector', samples: [] };
        }
        if (result.kind === 'scalar') result = { kind: 'vector', samples: [{ labels: {}, v: result.v }] };
        if (rule.kind === 'record') this.record(grp, ri, rule, result.samples, t);
        else this.alert(grp, ri, rule, result.samples, t);
      });
      for (const [ri, active] of grp.active) {
        const rule = grp.g.rules[ri];
        for (const a of active.values()) {
          if (a.state === 'pending') continue;
          const needs = a.resolvedAt > a.lastSentAt || a.lastSentAt + this.resendDelay < t;
          if (!needs) continue;
          a.lastSentAt = t;
          const validUntil = t + 4 * Math.max(this.resendDelay, grp.interval);
          send.push({ labels: a.labels, startsAt: a.firedAt, endsAt: a.state === 'inactive' ? a.resolvedAt : validUntil, rule });
        }
      }
    }
    return send;
  }

  record(grp, ri, rule, samples, t) {
    const now = new Set();
    if (!this.outputs.has(rule)) this.outputs.set(rule, new WeakMap()); // sample labels -> its recorded series
    const outputs = this.outputs.get(rule);
    for (const s of samples) {
      let series = outputs.get(s.labels);
      if (!series) {
        series = this.storage.recordedSeries({ ...s.labels, ...rule.labels, __name__: rule.name });
        outputs.set(s.labels, series);
      }
      series.append(t, s.v);
      now.add(labelsKey(series.labels));
    }
    this.staleOut(grp.recordedLast.get(ri), now, t);
    grp.recordedLast.set(ri, now);
  }

  staleOut(before, now, t) {
    for (const key of before || []) {
      if (now.has(key)) continue;
      const s = this.storage.recorded.get(key);
      if (s && s.live()) s.append(t, null);
    }
  }

  alert(grp, ri, rule, samples, t) {
    if (!grp.active.has(ri)) grp.active.set(ri, new Map());
    const active = grp.active.get(ri);
    const present = new Set();
    for (const s of samples) {
      const labels = alertLabels(rule, s.labels, s.v);
      const key = labelsKey(labels);
      present.add(key);
      const a = active.get(key);
      if (a && a.state !== 'inactive') {
        a.value = s.v;
        continue;
      }
      active.set(key, { labels, key, state: 'pending', activeAt: t, firedAt: 0, resolvedAt: 0, lastSentAt: 0, keepFiringSince: 0, value: s.v });
    }
    for (const [key, a] of active) {
      if (!present.has(key)) {
        let keep = false;
        if (a.state === 'firing' && rule.keepFiringForMs > 0) {
          if (!a.keepFiringSince) a.keepFiringSince = t;
          keep = t - a.keepFiringSince < rule.keepFiringForMs;
        }
        if (a.state === 'pending' || (a.resolvedAt && t - a.resolvedAt > RESOLVED_RETENTION)) active.delete(key);
        if (a.state !== 'inactive' && !keep) {
          this.span(a, rule).resolved = t;
          if (a.state === 'pending') this.span(a, rule).dropped = true;
          a.state = 'inactive';
          a.resolvedAt = t;
        }
        if (!keep) continue;
      } else {
        a.keepFiringSince = 0;
      }
      if (a.state === 'pending' && this.span(a, rule, t).pending === undefined) this.span(a, rule).pending = a.activeAt;
      if (a.state === 'pending' && t - a.activeAt >= rule.forMs) {
        a.state = 'firing';
        a.firedAt = t;
        this.span(a, rule).firing = t;
      }
    }
    this.writeAlertsSeries(grp, ri, active, t);
  }

  // The span of the alert's current pending/firing episode (a new one after it resolved).
  span(a, rule, t) {
    if (!this.history.has(a.key)) this.history.set(a.key, { labels: a.labels, rule, spans: [] });
    const h = this.history.get(a.key);
    let last = h.spans[h.spans.length - 1];
    if (t !== undefined && (!last || last.resolved !== undefined)) {
      last = { pending: undefined, firing: undefined, resolved: undefined };
      h.spans.push(last);
    }
    return last;
  }

  writeAlertsSeries(grp, ri, active, t) {
    const now = new Set();
    for (const a of active.values()) {
      if (a.state === 'inactive') continue;
      a.series ||= {};
      a.series[a.state] ||= this.storage.recordedSeries({ ...a.labels, __name__: 'ALERTS', alertstate: a.state });
      a.series[a.state].append(t, 1);
      now.add(labelsKey(a.series[a.state].labels));
    }
    this.staleOut(grp.alertsLast.get(ri), now, t);
    grp.alertsLast.set(ri, now);
  }
}

class Alertmanager {
  constructor(config, { cleanupPhase = 0, start = 0 } = {}) {
    this.config = config;
    this.store = new Map(); // fp -> {labels, startsAt, endsAt}
    this.groups = new Map(); // route key + group key -> group
    this.nflog = new Map(); // receiver + group key -> {firing: Set, resolved: Set, t}
    this.notifications = [];
    this.muted = new Map(); // alert key -> [flush times]
    this.received = { firing: 0, resolved: 0 };
    this.nextCleanup = start + (((cleanupPhase % AM_CLEANUP) + AM_CLEANUP) % AM_CLEANUP || AM_CLEANUP);
  }

  nextTime() {
    let t = this.nextCleanup;
    for (const g of this.groups.values()) if (g.timerAt < t) t = g.timerAt;
    return t;
  }

  receive(alerts, t) {
    for (const a of alerts) {
      const fp = labelsKey(a.labels);
      const old = this.store.get(fp);
      let startsAt = a.startsAt;
      if (old && old.endsAt > t && old.startsAt < startsAt) startsAt = old.startsAt;
      const alert = { labels: a.labels, startsAt, endsAt: a.endsAt, updatedAt: t, fp };
      this.store.set(fp, alert);
      this.received[a.endsAt <= t ? 'resolved' : 'firing']++;
      for (const route of this.config.routes(a.labels)) {
        const { groupLabels, key } = this.config.group(route, a.labels);
        let g = this.groups.get(key);
        if (!g) {
          g = { route, key, groupLabels, alerts: new Map(), timerAt: t + route.opts.groupWait, hasFlushed: false };
          this.groups.set(key, g);
        }
        g.alerts.set(fp, alert);
        if (!g.hasFlushed && alert.startsAt + route.opts.groupWait < t) g.timerAt = t;
      }
    }
  }

  // Runs what is due at t: group flushes, then the cleanup tick.
  runDue(t) {
    for (const g of [...this.groups.values()]) if (g.timerAt === t) this.flush(g, t);
    if (this.nextCleanup === t) {
      this.nextCleanup += AM_CLEANUP;
      for (const [k, g] of this.groups) if (g.alerts.size === 0) this.groups.delete(k);
    }
  }

  inhibitedBy(labels, t) {
    for (const r of this.config.inhibitRules) {
      if (!allMatch(r.target, labels)) continue;
      const twoSided = allMatch(r.source, labels);
      for (const src of this.store.values()) {
        if (src.endsAt <= t || !allMatch(r.source, src.labels)) continue;
        if (!r.equal.every((n) => (src.labels[n] ?? '') === (labels[n] ?? ''))) continue;
        if (twoSided && allMatch(r.target, src.labels)) continue;
        return src.labels.alertname || labelsKey(src.labels);
      }
    }
    return null;
  }

  flush(g, t) {
    g.timerAt = t + g.route.opts.groupInterval;
    g.hasFlushed = true;
    if (g.alerts.size === 0) return;
    const snapshot = [...g.alerts.values()].map((a) => ({ ...a, resolved: a.endsAt <= t }));
    const shown = [];
    for (const a of snapshot) {
      const by = this.inhibitedBy(a.labels, t);
      if (by) {
        if (!this.muted.has(a.fp)) this.muted.set(a.fp, []);
        this.muted.get(a.fp).push({ t, by, group: g.key });
      } else {
        shown.push(a);
      }
    }
    const receiver = g.route.opts.receiver;
    const firing = new Set(shown.filter((a) => !a.resolved).map((a) => a.fp));
    const resolved = new Set(shown.filter((a) => a.resolved).map((a) => a.fp));
    const logKey = `${receiver}\u0000${g.key}`;
    const entry = this.nflog.get(logKey);
    const integrations = this.config.receivers.get(receiver)?.integrations || [];
    const sendResolved = integrations.some((i) => i.sendResolved);
    let update;
    if (!entry) update = firing.size > 0;
    else if ([...firing].some((f) => !entry.firing.has(f))) update = true;
    else if (firing.size === 0) update = entry.firing.size > 0;
    else if (sendResolved && [...resolved].some((f) => !entry.resolved.has(f))) update = true;
    else update = entry.t < t - g.route.opts.repeatInterval;
    if (update && integrations.length) {
      this.nflog.set(logKey, { firing, resolved, t });
      const alerts = shown.filter((a) => !a.resolved || sendResolved);
      if (alerts.length) {
        this.notifications.push({
          t, receiver, groupKey: g.key, groupLabels: g.groupLabels,
          status: alerts.some((a) => !a.resolved) ? 'firing' : 'resolved',
          alerts: alerts.map((a) => ({ labels: a.labels, status: a.resolved ? 'resolved' : 'firing', startsAt: a.startsAt, endsAt: a.resolved ? a.endsAt : null })),
        });
      }
    }
    for (const a of snapshot) {
      const now = g.alerts.get(a.fp);
      if (a.resolved && now && now.updatedAt === a.updatedAt) g.alerts.delete(a.fp);
    }
  }
}

// One simulation. groups: rule_set groups; storage: series.mjs Storage holding the modelled
// series; timings: {evaluation, lookback, resendDelay} in ms; phases: {groups: [ms per group],
// amCleanup: ms}; am: routing.mjs config or null; start/end: the span in ms.
// blackouts: [[from, to)] in which what Prometheus sends is dropped (after a configuration
// reload its set of Alertmanagers is empty until discovery runs again); it is sent again at the
// next resend, as Prometheus does.
export function simulate({ groups, storage, timings, phases = {}, am = null, start, end, blackouts = [] }) {
  const prom = new PrometheusRules(groups, storage, {
    globalInterval: timings.evaluation, lookback: timings.lookback, resendDelay: timings.resendDelay,
    phases: phases.groups, start,
  });
  const manager = am ? new Alertmanager(am, { cleanupPhase: phases.amCleanup ?? 0, start }) : null;
  for (;;) {
    const t = Math.min(prom.nextTime(), manager ? manager.nextTime() : Infinity);
    if (t > end) break;
    if (prom.nextTime() === t) {
      const sent = prom.evaluateDue(t);
      const dropped = blackouts.some(([a, b]) => t >= a && t < b);
      if (manager && sent.length && !dropped) manager.receive(sent, t);
    }
    if (manager) manager.runDue(t);
  }
  return {
    history: prom.history,
    errors: prom.errors,
    notifications: manager ? manager.notifications : [],
    muted: manager ? manager.muted : new Map(),
    received: manager ? manager.received : null,
  };
}
