// What a LogQL query means: metric or not, parse errors dropped or not, result labels, units.
import assert from 'node:assert/strict';
import test from 'node:test';
import { describeDim } from '../../../dashboards/validator/lib/dimension.mjs';
import { analyzeLogQL } from '../../../dashboards/validator/lib/logql.mjs';

const a = (q) => analyzeLogQL(q);

test('metric queries, parsers and the __error__ filter', () => {
  assert.equal(a('{job="x"} | json | level="error"').isMetric, false);
  const m = a('sum by (level) (count_over_time({job="x"} | json [5m]))');
  assert.equal(m.isMetric, true);
  assert.deepEqual(m.parsers.map((p) => p.name), ['json']);
  assert.equal(m.errorFiltered, false);
  assert.equal(a('sum(rate({job="x"} | logfmt | __error__="" [5m]))').errorFiltered, true);
  assert.equal(a('sum(rate({job="x"} | json | drop __error__ [5m]))').errorFiltered, true);
  assert.ok(a('{job="x" | json').syntax.length > 0);
});

test('stream labels and fields', () => {
  const r = a('{job="x", level=~"warn|error"} | json | route="/tasks" | duration_ms > 100');
  assert.deepEqual(r.streamLabels.map((l) => l.name), ['job', 'level']);
  assert.deepEqual(r.fields.map((f) => f.name).sort(), ['duration_ms', 'route']);
});

test('result labels and what the numbers are', () => {
  const lbl = (q) => (a(q).labels ? [...a(q).labels] : null);
  assert.deepEqual(lbl('sum by (level) (count_over_time({job="x"}[1m]))'), ['level']);
  assert.deepEqual(lbl('topk(3, sum by (path) (rate({job="x"}[1m])))'), ['path']);
  assert.deepEqual(lbl('sum(rate({job="x"}[1m]))'), []);
  assert.equal(lbl('rate({job="x"}[1m])'), null);
  const dim = (q) => describeDim(a(q).dim);
  assert.equal(dim('sum(rate({job="x"}[1m]))'), 'a rate (per second)');
  assert.equal(dim('sum(count_over_time({job="x"}[1m]))'), 'a count');
  assert.equal(dim('quantile_over_time(0.99, {job="x"} | json | unwrap duration_ms | __error__="" [1m]) by (route)'), 'milliseconds');
  assert.equal(dim('avg_over_time({job="x"} | json | unwrap duration(latency) | __error__="" [1m]) by (route)'), 'seconds');
  assert.equal(dim('sum(bytes_rate({job="x"}[1m]))'), 'bytes per second');
  assert.equal(dim('sum(count_over_time({job="x"}[1m])) / sum(count_over_time({job="y"}[1m]))'), 'unknown');
});
