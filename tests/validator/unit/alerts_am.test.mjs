// The Alertmanager side of the alert prediction: the routing tree against amtool (Alertmanager's
// own router) for every alert of our rules, the notification pipeline's timing rules
// (group_wait, group_interval, the flush of an alert that fired and resolved before it, an
// inhibition's `equal`), the payload checks, and which rules a compression makes degenerate.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { degenerateRules } from '../../../dashboards/validator/lib/alerts/compression.mjs';
import { checkPayload } from '../../../dashboards/validator/lib/alerts/receiver.mjs';
import { parseAlertmanagerConfig } from '../../../dashboards/validator/lib/alerts/routing.mjs';
import { loadRuleFiles, parseRuleText } from '../../../dashboards/validator/lib/alerts/rule_set.mjs';
import { RecordedSeries, Storage } from '../../../dashboards/validator/lib/alerts/series.mjs';
import { simulate } from '../../../dashboards/validator/lib/alerts/simulate.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const AM_FILE = path.join(ROOT, 'stack/alertmanager/alertmanager.yml');
const RULES = ['slo.yml', 'taskd.yml', 'loadgen.yml'].map((f) => path.join(ROOT, 'stack/prometheus/rules', f));
let hasAmtool = true;
try {
  execFileSync('amtool', ['--version'], { stdio: 'ignore' });
} catch {
  hasAmtool = false;
}

test('every alert of our rules takes the route amtool says', { skip: hasAmtool ? false : 'amtool is not installed' }, async () => {
  const am = parseAlertmanagerConfig(readFileSync(AM_FILE, 'utf8'));
  const groups = await loadRuleFiles(RULES);
  for (const r of groups.flatMap((g) => g.rules).filter((x) => x.kind === 'alert')) {
    const labels = { ...r.labels, alertname: r.name, instance: 'taskd:5000', job: 'taskd' };
    const args = ['config', 'routes', 'test', `--config.file=${AM_FILE}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)];
    const theirs = execFileSync('amtool', args, { encoding: 'utf8' }).trim().split(',').map((s) => s.trim());
    const mine = am.routes(labels).map((route) => route.opts.receiver);
    assert.deepEqual(mine, theirs, `${r.name}${JSON.stringify(r.labels)}`);
  }
});

test('group keys and group labels follow the route', () => {
  const am = parseAlertmanagerConfig(readFileSync(AM_FILE, 'utf8'));
  const labels = { alertname: 'TaskdDatabaseDown', severity: 'page', service: 'taskd', instance: 'a' };
  const [route] = am.routes(labels);
  assert.deepEqual(am.group(route, labels), {
    groupLabels: { alertname: 'TaskdDatabaseDown', service: 'taskd' },
    key: '{}/{severity="page"}:{alertname="TaskdDatabaseDown", service="taskd"}',
  });
  assert.equal(am.posts('blackhole'), false);
  assert.equal(am.posts('page'), true);
});

// x{instance} is 1 from `from` to `to` (ms), sampled every second.
function storageOf(series) {
  const s = new Storage();
  for (const { labels, from, to, end = 60000 } of series) {
    const r = new RecordedSeries({ __name__: 'x', ...labels });
    for (let t = 0; t <= end; t += 1000) r.append(t, t >= from && t < to ? 1 : 0);
    s.add(r);
  }
  return s;
}

const RULE = `groups:
  - name: g
    rules:
      - alert: Cause
        expr: x{role="cause"} == 1
        labels: {severity: page}
      - alert: Symptom
        expr: x{role="symptom"} == 1
        for: 2s
        labels: {severity: page}
`;
const AM = `route:
  receiver: page
  group_by: [alertname]
  group_wait: 3s
  group_interval: 10s
inhibit_rules:
  - source_matchers: ['alertname="Cause"']
    target_matchers: ['alertname="Symptom"']
    equal: [instance]
receivers:
  - name: page
    webhook_configs: [{url: 'http://x/', send_resolved: true}]
`;
const timings = { evaluation: 1000, lookback: 5000, resendDelay: 1000 };

test('a new group notifies group_wait after the alert fired, its resolution at the next group_interval', () => {
  const run = simulate({
    groups: parseRuleText(RULE, 'r.yml'), am: parseAlertmanagerConfig(AM), timings, start: 0, end: 40000,
    storage: storageOf([{ labels: { role: 'symptom', instance: 'a' }, from: 5000, to: 15000 }]),
  });
  const notes = run.notifications.map((n) => [n.t, n.status]);
  // pending at 5 s, firing at 7 s (for 2s), first flush at 10 s; resolved at 15 s, flushed at 20 s
  assert.deepEqual(notes, [[10000, 'firing'], [20000, 'resolved']]);
});

test('an alert that fires and resolves within group_wait is never notified', () => {
  const run = simulate({
    groups: parseRuleText(RULE, 'r.yml'), am: parseAlertmanagerConfig(AM), timings, start: 0, end: 40000,
    storage: storageOf([{ labels: { role: 'symptom', instance: 'a' }, from: 5000, to: 8500 }]),
  });
  assert.deepEqual(run.notifications, []);
  const [h] = [...run.history.values()];
  assert.deepEqual(h.spans[0], { pending: 5000, firing: 7000, resolved: 9000 });
});

test('an inhibition holds back the symptom only where `equal` labels match', () => {
  const run = simulate({
    groups: parseRuleText(RULE, 'r.yml'), am: parseAlertmanagerConfig(AM), timings, start: 0, end: 30000,
    storage: storageOf([
      { labels: { role: 'cause', instance: 'a' }, from: 2000, to: 30000 },
      { labels: { role: 'symptom', instance: 'a' }, from: 5000, to: 30000 },
      { labels: { role: 'symptom', instance: 'b' }, from: 5000, to: 30000 },
    ]),
  });
  const notified = run.notifications.flatMap((n) => n.alerts.filter((a) => a.status === 'firing').map((a) => `${a.labels.alertname}/${a.labels.instance}`));
  assert.ok(notified.includes('Cause/a'));
  assert.ok(notified.includes('Symptom/b'));
  assert.ok(!notified.includes('Symptom/a'));
  assert.equal([...run.muted.values()][0][0].by, 'Cause');
});

const PAYLOAD = {
  receiver: 'page', status: 'firing', version: '4', truncatedAlerts: 0, externalURL: 'http://127.0.0.1:9093',
  groupKey: '{}/{severity="page"}:{alertname="TaskdDatabaseDown", service="taskd"}',
  groupLabels: { alertname: 'TaskdDatabaseDown', service: 'taskd' },
  commonLabels: { alertname: 'TaskdDatabaseDown', service: 'taskd', severity: 'page' },
  commonAnnotations: {},
  alerts: [{
    status: 'firing', startsAt: '2026-12-07T03:40:00.123Z', endsAt: '0001-01-01T00:00:00Z', fingerprint: '0123456789abcdef',
    generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=taskd_db_up+%3D%3D+0',
    labels: { alertname: 'TaskdDatabaseDown', service: 'taskd', severity: 'page', instance: 'a', job: 'taskd' },
    annotations: { summary: 'taskd a cannot use its database', description: 'd', runbook_url: 'u' },
  }],
};

test('payload checks: a right notification passes, each kind of wrong one is named', async () => {
  const am = parseAlertmanagerConfig(readFileSync(AM_FILE, 'utf8'));
  const groups = await loadRuleFiles(RULES);
  const rules = new Map();
  for (const r of groups.flatMap((g) => g.rules).filter((x) => x.kind === 'alert')) (rules.get(r.name) || rules.set(r.name, []).get(r.name)).push(r);
  assert.deepEqual(checkPayload(PAYLOAD, { am, rules }), []);
  const bad = (edit) => {
    const p = structuredClone(PAYLOAD);
    edit(p);
    return checkPayload(p, { am, rules }).join('; ');
  };
  assert.match(bad((p) => { p.version = '3'; }), /version/);
  assert.match(bad((p) => { p.receiver = 'ticket'; }), /routes send TaskdDatabaseDown to page/);
  assert.match(bad((p) => { p.groupKey = 'x'; }), /groupKey/);
  assert.match(bad((p) => { p.alerts[0].annotations.summary = 'taskd {{ $labels.instance }} down'; }), /unrendered template/);
  assert.match(bad((p) => { p.alerts[0].endsAt = '2026-12-07T03:41:00Z'; }), /endsAt/);
  assert.match(bad((p) => { p.alerts[0].labels.severity = 'ticket'; }), /labels of no rule/);
  assert.match(bad((p) => { p.status = 'resolved'; }), /status "resolved" although an alert fires/);
});

test('a compression makes degenerate the rules whose ranges or for it squeezes under two intervals', async () => {
  const text = readFileSync(path.join(ROOT, 'stack/prometheus/rules/taskd.yml'), 'utf8');
  // The rules as compressed 300 times: 5m ranges become 1 s, `for: 1m` 200 ms.
  const squeezed = text.replace(/\[5m\]/g, '[1s]').replace(/for: 1m/g, 'for: 200ms').replace(/for: 5m/g, 'for: 1s');
  const groups = parseRuleText(squeezed, 'taskd.yml');
  const bad = degenerateRules(groups, { scrape: 1000, evaluation: 1000 });
  const names = [...bad.keys()].map((r) => r.name);
  assert.ok(names.includes('TaskdHighErrorRatio'), 'a 1 s rate range');
  assert.ok(names.includes('TaskdDown'), 'a 200 ms for');
  assert.ok(!names.includes('TaskdDatabaseCreated'), 'no range, no for');
  assert.match(bad.get(groups.flatMap((g) => g.rules).find((r) => r.name === 'TaskdHighErrorRatio')), /fewer than three scrapes/);
});
