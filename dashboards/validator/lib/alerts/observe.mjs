// observe: what a live stack did, read from the servers themselves — when each alert was
// pending and firing (the ALERTS series: one sample per evaluation, exact to the millisecond),
// which alerts Alertmanager held back and by what (its alert list, polled), the phases of its
// scrapes and evaluations, and the notification counters of Prometheus and Alertmanager.
//
// API: waitStackReady(url, jobs, timeoutMs), startedAt(url) -> ms
//      alertEpisodes(url, from, to, evalMs) -> Map(labels key -> { labels, episodes })
//      pollSuppressed(amUrl) -> [{ labels, fingerprint, inhibitedBy: [alertname] }]
//      notificationCounters(promUrl, amUrl) -> { prometheus: {...}, alertmanager: {...} }
//      metricValue(text, name, labels) -> number (summed over matching series)

import { httpGet } from '../http.mjs';
import { apiGet } from '../prometheus.mjs';
import { labelsKey } from './series.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Until every job's targets are up and every rule group has been evaluated once.
export async function waitStackReady(url, jobs, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let why = 'no answer';
  while (Date.now() < deadline) {
    try {
      const t = await apiGet(url, '/api/v1/targets');
      const up = new Set(t.activeTargets.filter((x) => x.health === 'up').map((x) => x.labels.job));
      const r = await apiGet(url, '/api/v1/rules');
      const evaluated = r.groups.every((g) => g.lastEvaluation && !g.lastEvaluation.startsWith('0001'));
      const missing = jobs.filter((j) => !up.has(j));
      if (!missing.length && evaluated) return;
      why = missing.length ? `targets not up: ${missing.join(', ')}` : 'rules not evaluated yet';
    } catch (e) {
      why = e.message;
    }
    await sleep(100);
  }
  throw new Error(`the stack at ${url} did not become ready within ${timeoutMs / 1000} s (${why})`);
}

export async function startedAt(url) {
  const info = await apiGet(url, '/api/v1/status/runtimeinfo');
  return Date.parse(info.startTime);
}

// Every ALERTS sample between from and to (ms), grouped per alert (its labels without
// alertstate) into episodes: pending from the first pending sample, firing from the first firing
// sample, resolved at the evaluation after the last sample (the first one without it).
export async function alertEpisodes(url, from, to, evalMs) {
  const seconds = Math.ceil((to - from) / 1000) + 1;
  const data = await apiGet(url, '/api/v1/query', { query: `ALERTS[${seconds}s]`, time: (to / 1000).toFixed(3) });
  const byKey = new Map();
  for (const s of data.result || []) {
    const { __name__: _, alertstate, ...labels } = s.metric;
    const key = labelsKey(labels);
    if (!byKey.has(key)) byKey.set(key, { labels, samples: [] });
    for (const [t, v] of s.values) if (v === '1') byKey.get(key).samples.push({ t: Math.round(Number(t) * 1000), state: alertstate });
  }
  for (const a of byKey.values()) {
    a.samples.sort((x, y) => x.t - y.t);
    a.episodes = [];
    let cur = null;
    let last = -Infinity;
    for (const s of a.samples) {
      // A gap of more than 1.5 evaluations ends an episode; so does a firing sample after firing
      // ended and pending began again.
      if (!cur || s.t - last > 1.5 * evalMs || (cur.firing !== undefined && s.state === 'pending')) {
        if (cur) cur.resolved = last + evalMs;
        cur = { pending: undefined, firing: undefined, resolved: undefined };
        a.episodes.push(cur);
      }
      if (s.state === 'pending' && cur.pending === undefined) cur.pending = s.t;
      if (s.state === 'firing' && cur.firing === undefined) {
        cur.firing = s.t;
        if (cur.pending === undefined) cur.pending = s.t; // for: 0
      }
      last = s.t;
    }
    if (cur && last + 1.5 * evalMs < to) cur.resolved = last + evalMs;
  }
  return byKey;
}

// Alertmanager's alerts that are held back, with the alert names that hold them.
export async function pollSuppressed(amUrl) {
  const res = await httpGet(`${amUrl}/api/v2/alerts?active=true&silenced=false&inhibited=true&unprocessed=false`, 5000);
  const list = JSON.parse(res.body);
  const byFp = new Map(list.map((a) => [a.fingerprint, a]));
  return list.filter((a) => a.status?.state === 'suppressed' && a.status.inhibitedBy?.length).map((a) => ({
    labels: a.labels,
    fingerprint: a.fingerprint,
    inhibitedBy: a.status.inhibitedBy.map((fp) => byFp.get(fp)?.labels?.alertname || fp),
  }));
}

// The sum of a metric's samples whose labels match, from a text-format scrape.
export function metricValue(text, name, labels = {}) {
  let sum = 0;
  let seen = false;
  const re = new RegExp(`^${name}(\\{([^}]*)\\})?\\s+(\\S+)`, 'gm');
  let m;
  while ((m = re.exec(text))) {
    const ls = {};
    for (const lm of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) ls[lm[1]] = lm[2];
    if (Object.entries(labels).every(([k, v]) => ls[k] === v)) {
      sum += Number(m[3]);
      seen = true;
    }
  }
  return seen ? sum : null;
}

export async function notificationCounters(promUrl, amUrl) {
  const p = (await httpGet(`${promUrl}/metrics`, 5000)).body;
  const a = (await httpGet(`${amUrl}/metrics`, 5000)).body;
  return {
    prometheus: {
      sent: metricValue(p, 'prometheus_notifications_sent_total'),
      errors: metricValue(p, 'prometheus_notifications_errors_total'),
      dropped: metricValue(p, 'prometheus_notifications_dropped_total'),
      queue: metricValue(p, 'prometheus_notifications_queue_length'),
    },
    alertmanager: {
      received: metricValue(a, 'alertmanager_alerts_received_total'),
      receivedFiring: metricValue(a, 'alertmanager_alerts_received_total', { status: 'firing' }),
      receivedResolved: metricValue(a, 'alertmanager_alerts_received_total', { status: 'resolved' }),
      invalid: metricValue(a, 'alertmanager_alerts_invalid_total'),
      notifications: metricValue(a, 'alertmanager_notifications_total', { integration: 'webhook' }),
      failed: metricValue(a, 'alertmanager_notifications_failed_total', { integration: 'webhook' }),
      requests: metricValue(a, 'alertmanager_notification_requests_total', { integration: 'webhook' }),
      requestsFailed: metricValue(a, 'alertmanager_notification_requests_failed_total', { integration: 'webhook' }),
    },
  };
}
