// receiver: the webhook every stack's Alertmanager posts to during a live run — one HTTP server,
// one path per stack (/hook/<id>) — recording each notification with the time it arrived; and
// the checks of a notification's payload against what Alertmanager must have sent.
//
// API: startReceiver() -> { url(id), posts(id) -> [{ t, body, error }], stop() }
//      checkPayload(body, { am, rules, prometheusUrl }) -> [problem sentences]

import http from 'node:http';
import { expandLabel } from './rule_set.mjs';

const MAX_BODY = 1 << 20;
const ZERO_TIME = '0001-01-01T00:00:00Z';

export async function startReceiver() {
  const byId = new Map();
  const server = http.createServer((req, res) => {
    const t = Date.now();
    const m = /^\/hook\/([\w.-]+)$/.exec(req.url || '');
    if (!m || req.method !== 'POST') {
      res.writeHead(m ? 405 : 404).end();
      return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body = null;
      let error = null;
      try {
        body = JSON.parse(raw);
      } catch (e) {
        error = `not JSON: ${e.message}`;
      }
      if (!byId.has(m[1])) byId.set(m[1], []);
      byId.get(m[1]).push({ t, body, error, raw: raw.slice(0, 65536) });
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: (id) => `http://127.0.0.1:${port}/hook/${id}`,
    posts: (id) => byId.get(id) || [],
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const isTime = (s) => typeof s === 'string' && !Number.isNaN(Date.parse(s));
const unrendered = (s) => /\{\{|\}\}|<error expanding template|<no value>/.test(s);

// What is wrong with one notification (Alertmanager's webhook payload, version 4): its envelope
// against the route the alerts take, each alert's labels against its rule's, templates left
// unrendered, StartsAt/EndsAt. `rules`: the alerting rules by name (several for a shared name).
export function checkPayload(body, { am, rules }) {
  const problems = [];
  const say = (s) => problems.push(s);
  if (!body || typeof body !== 'object') return ['the body is not a JSON object'];
  if (body.version !== '4') say(`version is ${JSON.stringify(body.version)}, not "4"`);
  if (!['firing', 'resolved'].includes(body.status)) say(`status is ${JSON.stringify(body.status)}`);
  if (!Array.isArray(body.alerts) || !body.alerts.length) return [...problems, 'no alerts'];
  const anyFiring = body.alerts.some((a) => a.status === 'firing');
  if (body.status !== (anyFiring ? 'firing' : 'resolved')) say(`status "${body.status}" although ${anyFiring ? 'an alert fires' : 'every alert is resolved'}`);
  if (body.truncatedAlerts) say(`${body.truncatedAlerts} alerts were truncated`);
  for (const k of ['groupLabels', 'commonLabels', 'commonAnnotations']) if (!body[k] || typeof body[k] !== 'object') say(`no ${k}`);
  if (typeof body.externalURL !== 'string' || !/^https?:\/\//.test(body.externalURL)) say(`externalURL ${JSON.stringify(body.externalURL)}`);
  // The route: every alert of one notification takes the route that names its receiver and key.
  const first = body.alerts[0].labels || {};
  const routes = am.routes(first);
  const route = routes.find((r) => r.opts.receiver === body.receiver);
  if (!route) say(`receiver "${body.receiver}", but Alertmanager's routes send ${first.alertname} to ${routes.map((r) => r.opts.receiver).join(', ')}`);
  else {
    const { groupLabels, key } = am.group(route, first);
    if (body.groupKey !== key) say(`groupKey ${JSON.stringify(body.groupKey)}, expected ${JSON.stringify(key)}`);
    if (JSON.stringify(Object.entries(body.groupLabels || {}).sort()) !== JSON.stringify(Object.entries(groupLabels).sort())) {
      say(`groupLabels ${JSON.stringify(body.groupLabels)}, expected ${JSON.stringify(groupLabels)} (the route's group_by)`);
    }
  }
  for (const [k, v] of Object.entries(body.commonLabels || {})) {
    if (!body.alerts.every((a) => a.labels?.[k] === v)) say(`commonLabels has ${k}="${v}", which not every alert carries`);
  }
  for (const a of body.alerts) {
    const name = a.labels?.alertname;
    const where = `alert ${name || '(no alertname)'}`;
    if (!name) say('an alert without alertname');
    if (!['firing', 'resolved'].includes(a.status)) say(`${where}: status ${JSON.stringify(a.status)}`);
    const candidates = (rules.get(name) || []).filter((r) => Object.entries(r.labels).every(([k, v]) => v.includes('{{') || a.labels?.[k] === v));
    if (!candidates.length) say(`${where}: its labels ${JSON.stringify(a.labels)} carry the labels of no rule named ${name}`);
    for (const [k, v] of Object.entries({ ...a.labels, ...a.annotations })) {
      if (typeof v !== 'string') say(`${where}: ${k} is not a string`);
      else if (unrendered(v)) say(`${where}: ${k} has an unrendered template: ${v.slice(0, 120)}`);
    }
    const rule = candidates[0];
    if (rule) {
      for (const k of Object.keys(rule.annotations)) if (!(k in (a.annotations || {}))) say(`${where}: annotation ${k} of its rule is missing`);
      for (const [k, v] of Object.entries(rule.labels)) if (!v.includes('{{') && a.labels[k] !== expandLabel(v, a.labels, 0)) say(`${where}: label ${k}`);
    }
    if (!isTime(a.startsAt)) say(`${where}: startsAt ${JSON.stringify(a.startsAt)}`);
    if (a.status === 'firing' && a.endsAt !== ZERO_TIME) say(`${where}: firing, but endsAt is ${a.endsAt} (Alertmanager sends ${ZERO_TIME} while an alert fires)`);
    if (a.status === 'resolved' && !(isTime(a.endsAt) && Date.parse(a.endsAt) >= Date.parse(a.startsAt))) say(`${where}: resolved, but endsAt ${a.endsAt} is not after startsAt ${a.startsAt}`);
    if (typeof a.fingerprint !== 'string' || !/^[0-9a-f]{16}$/.test(a.fingerprint)) say(`${where}: fingerprint ${JSON.stringify(a.fingerprint)}`);
    if (typeof a.generatorURL !== 'string' || !a.generatorURL.includes('/graph?g0.expr=')) say(`${where}: generatorURL ${JSON.stringify(a.generatorURL)} does not lead to the rule's expression`);
  }
  return problems;
}
