// What a PromQL expression means: the labels its result carries, what its numbers are, counters
// left raw, and the problems found on the way.
import assert from 'node:assert/strict';
import test from 'node:test';
import { describeDim } from '../../../dashboards/validator/lib/dimension.mjs';
import { analyzePromQL } from '../../../dashboards/validator/lib/promql.mjs';

const METRICS = {
  http_requests_total: { type: 'counter', labels: ['method', 'route', 'code'] },
  req_seconds_bucket: { type: 'counter', labels: ['route', 'le'] },
  req_seconds_sum: { type: 'counter', labels: ['route'] },
  req_seconds_count: { type: 'counter', labels: ['route'] },
  in_flight: { type: 'gauge', labels: [] },
  free_bytes: { type: 'gauge', labels: ['mount'] },
  sent_bytes_total: { type: 'counter', labels: ['device'] },
  cpu_seconds_total: { type: 'counter', labels: ['mode'] },
  boot_time_seconds: { type: 'gauge', labels: [] },
};
const lookup = (n) => (METRICS[n] ? { ...METRICS[n], labels: new Set(METRICS[n].labels) } : null);
const a = (q) => analyzePromQL(q, { lookup });
const labels = (q) => [...a(q).root.labels].sort();
const dim = (q) => describeDim(a(q).root.dim);
const checks = (q) => a(q).problems.map((p) => p.check);

test('labels follow by, without, on/group_left, label_replace and histogram_quantile', () => {
  assert.deepEqual(labels('sum by (route) (rate(http_requests_total[5m]))'), ['route']);
  assert.deepEqual(labels('sum without (code) (rate(http_requests_total[5m]))'), ['instance', 'job', 'method', 'route']);
  assert.deepEqual(labels('histogram_quantile(0.9, sum by (le, route) (rate(req_seconds_bucket[5m])))'), ['route']);
  assert.deepEqual(labels('label_replace(in_flight, "x", "$1", "job", "(.*)")'), ['instance', 'job', 'x']);
  assert.deepEqual(labels('sum by (route) (rate(http_requests_total[5m])) / on (route) group_left (mount) free_bytes'), ['mount', 'route']);
  assert.deepEqual(labels('sum(rate(http_requests_total[5m])) or vector(0)'), []);
});

test('what the numbers are', () => {
  assert.equal(dim('histogram_quantile(0.99, sum by (le) (rate(req_seconds_bucket[5m])))'), 'seconds');
  assert.equal(dim('rate(req_seconds_sum[5m]) / rate(req_seconds_count[5m])'), 'seconds');
  assert.equal(dim('sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'), 'a ratio (0–1)');
  assert.equal(dim('100 * sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'), 'a percentage (ratio × 100)');
  assert.equal(dim('sum(rate(http_requests_total[5m]))'), 'a rate (per second)');
  assert.equal(dim('increase(http_requests_total[1h])'), 'a count');
  assert.equal(dim('rate(sent_bytes_total[5m])'), 'bytes per second');
  assert.equal(dim('rate(cpu_seconds_total[5m])'), 'a ratio (0–1)');
  assert.equal(dim('time() - boot_time_seconds'), 'seconds');
  assert.equal(dim('free_bytes / 1024'), 'bytes × 0.0009765625');
  assert.equal(dim('in_flight'), 'unknown');
});

test('counters left raw, except in "ever counted" comparisons', () => {
  assert.deepEqual(a('sum(http_requests_total)').root.rawCounters.map((c) => c.name), ['http_requests_total']);
  assert.deepEqual(a('http_requests_total > 100').root.rawCounters.map((c) => c.name), ['http_requests_total']);
  assert.deepEqual(a('http_requests_total > 0').root.rawCounters, []);
  assert.deepEqual(a('sum(rate(http_requests_total[5m]))').root.rawCounters, []);
  assert.deepEqual(a('count(http_requests_total)').root.rawCounters, []);
});

test('problems: rate over a gauge, deriv over a counter, quantile range and le, by labels', () => {
  assert.deepEqual(checks('rate(in_flight[5m])'), ['rate-over-gauge']);
  assert.deepEqual(checks('deriv(http_requests_total[5m])'), ['gauge-function-over-counter']);
  assert.deepEqual(checks('histogram_quantile(1.5, sum by (le) (rate(req_seconds_bucket[5m])))'), ['quantile-range']);
  assert.deepEqual(checks('histogram_quantile(0.5, sum by (route) (rate(req_seconds_bucket[5m])))'), ['quantile-no-le']);
  assert.deepEqual(checks('histogram_quantile(0.5, rate(req_seconds_sum[5m]))'), ['quantile-no-le']);
  assert.deepEqual(checks('sum by (status) (rate(http_requests_total[5m]))'), ['by-label']);
  assert.deepEqual(checks('rate(sum(http_requests_total)[5m:1m])'), ['rate-over-subquery']);
  assert.deepEqual(checks('sum by (le) (rate(req_seconds_bucket[5m]))'), []);
});

test('a metric nobody describes is open: no label or unit claims', () => {
  const r = a('sum by (anything) (rate(unknown_total[5m]))');
  assert.deepEqual(r.problems, []);
  assert.deepEqual([...r.root.labels], ['anything']);
});

test('range selectors under rate() are listed with their text', () => {
  assert.deepEqual(a('rate(x_total[30s]) + increase(y_total[5m] offset 1h)').ranges.map((r) => [r.fn, r.text]), [['rate', '30s'], ['increase', '5m']]);
});
