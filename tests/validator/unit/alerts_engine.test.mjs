// The alert evaluator against Prometheus itself: every expression of our rule files (and the
// functions and operators other rule files use) evaluated at every minute over series that
// change, restart and disappear, compared with what promtool's engine returns; and every alert of
// our rules, pending and firing through their `for`, compared with promtool's alert tests.
// Run: node --test tests/validator/unit/alerts_engine.test.mjs (needs promtool).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { Evaluator } from '../../../dashboards/validator/lib/alerts/promql_eval.mjs';
import { parsePromQL } from '../../../dashboards/validator/lib/alerts/promql_ast.mjs';
import { loadRuleFiles } from '../../../dashboards/validator/lib/alerts/rule_set.mjs';
import { labelsKey } from '../../../dashboards/validator/lib/alerts/series.mjs';
import { simulate } from '../../../dashboards/validator/lib/alerts/simulate.mjs';
import { promtoolFiring, promtoolValues, storageFromSeries } from './promtool_oracle.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const RULES = ['slo.yml', 'taskd.yml', 'loadgen.yml'].map((f) => path.join(ROOT, 'stack/prometheus/rules', f));
const MIN = 60000;
let hasPromtool = true;
try {
  execFileSync('promtool', ['--version'], { stdio: 'ignore' });
} catch {
  hasPromtool = false;
}
const skip = hasPromtool ? false : 'promtool is not installed (make deps)';

const T = 'job="taskd", instance="a:1"';
const L = 'job="loadgen", instance="l:1"';
// Forty minutes of a service that runs, fails, restarts and recovers.
const INPUTS = [
  { series: `http_requests_total{${T}, method="GET", route="/tasks", code="200"}`, values: '0+100x10 1000+30x10 1300+100x20' },
  { series: `http_requests_total{${T}, method="GET", route="/tasks", code="503"}`, values: '_x10 0+70x10 700x20' },
  { series: `http_requests_total{${T}, method="POST", route="/tasks", code="201"}`, values: '0+20x15 300+1x5 305+20x20' },
  { series: `http_requests_total{${T}, method="POST", route="/tasks", code="500"}`, values: '_x15 0+19x5 95x20' },
  { series: `http_requests_total{${T}, method="GET", route="/readyz", code="503"}`, values: '0+5x40' },
  { series: 'http_requests_total{job="taskd", instance="b:1", method="GET", route="/tasks/{id}", code="200"}', values: '0+50x10 0+50x29' },
  { series: 'http_requests_total{job="taskd", instance="b:1", method="GET", route="/tasks/{id}", code="503"}', values: '0+1x10 0+1x29' },
  { series: `http_request_duration_seconds_bucket{${T}, method="GET", route="/tasks", le="0.1"}`, values: '0+99x12 1188+50x10 1688+99x17' },
  { series: `http_request_duration_seconds_bucket{${T}, method="GET", route="/tasks", le="0.5"}`, values: '0+99x12 1188+60x10 1788+99x17' },
  { series: `http_request_duration_seconds_bucket{${T}, method="GET", route="/tasks", le="1"}`, values: '0+100x12 1200+100x10 2200+100x17' },
  { series: `http_request_duration_seconds_bucket{${T}, method="GET", route="/tasks", le="+Inf"}`, values: '0+100x12 1200+100x10 2200+100x17' },
  { series: `taskd_db_up{${T}}`, values: '1x10 0x5 1 0 1x22' },
  { series: `taskd_db_file_state{${T}, state="ok"}`, values: '1x10 0x5 1x24' },
  { series: `taskd_db_file_state{${T}, state="unlinked"}`, values: '0x10 1x5 0x24' },
  { series: `taskd_db_errors_total{${T}, code="SQLITE_BUSY"}`, values: '0x10 1+3x5 16x24' },
  { series: `taskd_db_errors_total{${T}, code="SQLITE_CONSTRAINT"}`, values: '0x15 1+19x5 96x19' },
  { series: `taskd_db_created_total{${T}}`, values: '0x20 1x19' },
  { series: `process_start_time_seconds{${T}}`, values: '1000x20 2200x19' },
  { series: `taskd_data_dir_free_bytes{${T}}`, values: '2e9x5 2e9-2e7x20 1.6e9x14' },
  { series: `up{${T}}`, values: '1x15 0x5 1x19' },
  { series: 'up{job="taskd", instance="b:1"}', values: '1x25 stale' },
  { series: `loadgen_target_rate{${L}}`, values: '100x30 0x9' },
  { series: `loadgen_achieved_rate{${L}}`, values: '100x10 80x10 100x10 0x9' },
  { series: `loadgen_backlog{${L}}`, values: '0x10 0+5x10 0x19' },
];

const EXTRA = [
  'deriv(taskd_data_dir_free_bytes[10m])',
  'predict_linear(taskd_data_dir_free_bytes[10m], 3600)',
  'irate(http_requests_total[5m])',
  'delta(taskd_data_dir_free_bytes[7m])',
  'increase(http_requests_total{instance="b:1"}[7m])',
  'resets(http_requests_total[15m])',
  'changes(taskd_db_up[15m])',
  'avg_over_time(taskd_db_up[6m])',
  'max_over_time(loadgen_backlog[4m]) - min_over_time(loadgen_backlog[4m])',
  'count_over_time(up[10m])',
  'absent(up{job="nothere", env="x"})',
  'absent(nonexistent_metric{job="taskd"})',
  'absent_over_time(up{job="taskd", instance="b:1"}[3m])',
  'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[3m])))',
  'histogram_quantile(0.5, rate(http_request_duration_seconds_bucket[5m]))',
  'sum without (code) (rate(http_requests_total[5m]))',
  'count by (route) (http_requests_total)',
  'max by (instance) (rate(http_requests_total[2m])) > bool 1',
  'rate(http_requests_total{code=~"5.."}[5m]) / ignoring (code) group_left sum without (code) (rate(http_requests_total[5m]))',
  'sum(rate(http_requests_total[5m])) by (instance) / on (instance) group_right sum by (instance, route) (rate(http_requests_total[5m]))',
  'up offset 5m',
  'taskd_db_up unless on (instance) up == 0',
  'topk(2, rate(http_requests_total[5m]))',
  'quantile(0.5, rate(http_requests_total[5m]))',
  'label_replace(up, "host", "$1", "instance", "(.*):.*")',
  'clamp_max(loadgen_backlog, 20) + 1',
  'vector(1) + 1',
  'time() - process_start_time_seconds',
  'max_over_time(rate(http_requests_total{route="/tasks"}[2m])[10m:1m])',
  '-taskd_db_up',
  '2 ^ 3 * 0.5',
];

test('every expression of our rules, and the functions rule files use, evaluate as Prometheus does', { skip }, async () => {
  const groups = await loadRuleFiles(RULES);
  const exprs = [...new Set([...groups.flatMap((g) => g.rules.map((r) => r.expr)), ...EXTRA])];
  const times = Array.from({ length: 40 }, (_, i) => i * MIN);
  const questions = exprs.flatMap((expr) => times.map((t) => ({ expr, t })));
  // Recording rules' outputs are inputs here: promtool does not run rules in promql_expr_test.
  const answers = await promtoolValues(INPUTS, MIN, questions);
  const storage = storageFromSeries(INPUTS, MIN);
  const ev = new Evaluator(storage, { lookback: 5 * MIN, evalInterval: MIN });
  const problems = [];
  questions.forEach((q, i) => {
    const r = ev.evaluate(parsePromQL(q.expr), q.t);
    const mine = r.kind === 'scalar' ? [{ labels: {}, v: r.v }] : r.samples;
    const theirs = answers[i];
    const key = (s) => labelsKey(Object.fromEntries(Object.entries(s.labels).filter(([, v]) => v !== '')));
    const a = new Map(mine.map((s) => [key(s), s.v]));
    const b = new Map(theirs.map((s) => [key(s), s.v]));
    const same = a.size === b.size && [...b].every(([k, v]) => a.has(k) && (Object.is(a.get(k), v) || Math.abs(a.get(k) - v) <= 1e-9 * Math.max(1, Math.abs(v))));
    if (!same) problems.push(`${q.expr} at ${q.t / MIN}m: mine ${JSON.stringify(mine)}, Prometheus ${JSON.stringify(theirs)}`);
  });
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} of ${questions.length} evaluations differ`);
});

test('every alert of our rules is pending and firing at the evaluations promtool says', { skip }, async () => {
  const groups = await loadRuleFiles(RULES);
  const names = [...new Set(groups.flatMap((g) => g.rules.filter((r) => r.kind === 'alert').map((r) => r.name)))];
  const times = Array.from({ length: 40 }, (_, i) => i * MIN);
  const oracle = await promtoolFiring(RULES, groups.map((g) => g.name), INPUTS, MIN, names, times);
  const storage = storageFromSeries(INPUTS, MIN);
  const run = simulate({ groups, storage, timings: { evaluation: MIN, lookback: 5 * MIN, resendDelay: MIN }, start: 0, end: 39 * MIN });
  assert.deepEqual(run.errors.map((e) => `${e.rule.name}: ${e.error.message}`), []);
  const problems = [];
  let firingSeen = 0;
  for (const t of times) {
    for (const name of names) {
      const mine = [];
      for (const h of run.history.values()) {
        if (h.labels.alertname !== name) continue;
        if (h.spans.some((s) => s.firing !== undefined && s.firing <= t && (s.resolved === undefined || s.resolved > t))) mine.push(labelsKey(h.labels));
      }
      const theirs = oracle.get(name, t).map((l) => labelsKey(l));
      firingSeen += theirs.length;
      if (JSON.stringify(mine.sort()) !== JSON.stringify(theirs.sort())) problems.push(`${name} at ${t / MIN}m: mine ${mine.length} firing, promtool ${theirs.length}`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(firingSeen > 40, `the series make alerts fire (${firingSeen} firing alert-evaluations)`);
});
