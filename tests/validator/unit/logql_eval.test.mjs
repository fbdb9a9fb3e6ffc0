// The LogQL stand-in against hand-counted answers: Loki's window (t - range, t], count and rate
// without extrapolation, quantile interpolation, `| json` with the _extracted rename, numeric
// filters on missing and unparsable labels, unwrap, the pipeline error, log queries' [start, end).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineError, UnsupportedLogQL, compileLogQL, evalLogQuery, evalMetricRange } from '../../../dashboards/validator/lib/logql_eval.mjs';

const T0 = 1_790_000_000_000;
// Ten request lines, one every 100 ms from T0 + 100, and two non-request lines. Stream labels as
// Alloy sets them: job, and level taken from the line.
function entries() {
  const out = [];
  const add = (ms, obj) => out.push({ ts: T0 + ms, line: JSON.stringify(obj), labels: { job: 'taskd', level: obj.level } });
  const routes = ['/tasks', '/tasks/{id}', '/readyz'];
  for (let i = 1; i <= 10; i++) {
    const status = i % 4 === 0 ? 503 : i % 5 === 0 ? 404 : 200;
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    add(i * 100, { ts: 'x', level, msg: 'request', route: routes[i % 3], status, duration_ms: i });
  }
  add(550, { ts: 'x', level: 'error', msg: 'database unavailable', db_state: 'unlinked' });
  add(1000, { ts: 'x', level: 'info', msg: 'database available' });
  return out;
}
const points = (m) => Object.fromEntries(m.map((s) => [JSON.stringify(s.labels), s.points.map(([t, v]) => [t - T0, v])]));
const run = (q, start, end, step) => evalMetricRange(compileLogQL(q), entries(), { start: T0 + start, end: T0 + end, step });

test('count_over_time counts the lines in (t - range, t]: a line at t - range is out, one at t is in', () => {
  const m = run('count_over_time({job="taskd"} | json | msg="request" [300ms])', 300, 300, 100);
  // lines at 100, 200, 300 ms: the one at 0 would be out, 300 is in. Each line is its own series
  // (request ids aside, the labels differ), so sum them.
  const total = m.reduce((a, s) => a + s.points[0][1], 0);
  assert.equal(total, 3);
  const s = run('sum(count_over_time({job="taskd"} | json | msg="request" [300ms]))', 400, 1000, 300);
  assert.deepEqual(points(s), { '{}': [[400, 3], [700, 3], [1000, 3]] });
});

test('rate is the count divided by the range, without extrapolation', () => {
  const s = run('sum(rate({job="taskd"} | json | msg="request" [500ms]))', 1000, 1000, 100);
  assert.deepEqual(points(s), { '{}': [[1000, 10]] }, '5 lines in 0.5 s');
});

test('sum by a stream label; `| json` renames a field that collides with a stream label', () => {
  const s = run('sum by (level) (count_over_time({job="taskd"} | json [1s]))', 1000, 1000, 100);
  assert.deepEqual(points(s), {
    '{"level":"info"}': [[1000, 7]],
    '{"level":"error"}': [[1000, 3]],
    '{"level":"warn"}': [[1000, 2]],
  });
  // 7 info: six 200s and "database available"; 3 error: two 503s and "database unavailable".
  const ext = run('sum by (level_extracted) (count_over_time({job="taskd"} | json | level="error" [1s]))', 1000, 1000, 100);
  assert.deepEqual(points(ext), { '{"level_extracted":"error"}': [[1000, 3]] });
});

test('a numeric filter drops lines without the label and compares numbers', () => {
  const s = run('sum(count_over_time({job="taskd"} | json | status >= 500 [1s]))', 1000, 1000, 100);
  assert.deepEqual(points(s), { '{}': [[1000, 2]] }, 'the 503s at 400 and 800 ms; the database lines have no status');
  const route = run('sum(count_over_time({job="taskd"} | json | status >= 500 and route=~"/tasks.*" [1s]))', 1000, 1000, 100);
  assert.deepEqual(points(route), { '{}': [[1000, 1]] }, 'the 503 at 800 ms is on /readyz');
});

test('an unparsable number sets __error__, and a metric query then fails as Loki does', () => {
  assert.throws(() => run('sum(count_over_time({job="taskd"} | json | db_state > 1 [1s]))', 1000, 1000, 100), PipelineError);
  const s = run('sum(count_over_time({job="taskd"} | json | db_state > 1 | __error__="" [1s]))', 1000, 1000, 100);
  assert.deepEqual(points(s), {}, 'the one line with db_state is dropped with its error');
  // A window that does not reach the bad line does not fail.
  const early = run('sum(count_over_time({job="taskd"} | json | db_state > 1 [200ms]))', 400, 500, 100);
  assert.deepEqual(points(early), {}, 'no line matched and no error in (200, 500] ms');
});

test('unwrap skips lines without the label; quantile_over_time interpolates like Prometheus', () => {
  const s = run('quantile_over_time(0.5, {job="taskd"} | json | msg="request" | unwrap duration_ms | __error__="" [1s]) by (route)', 1000, 1000, 100);
  // /tasks/{id}: i = 1, 4, 7, 10; /readyz: 2, 5, 8; /tasks: 3, 6, 9
  assert.deepEqual(points(s), {
    '{"route":"/tasks/{id}"}': [[1000, 5.5]],
    '{"route":"/readyz"}': [[1000, 5]],
    '{"route":"/tasks"}': [[1000, 6]],
  });
  const p99 = run('quantile_over_time(0.99, {job="taskd"} | json | unwrap duration_ms | __error__="" [1s]) by (job)', 1000, 1000, 100);
  assert.equal(Math.round(points(p99)['{"job":"taskd"}'][0][1] * 1000) / 1000, 9.91);
});

test('line filters: |= != |~ !~', () => {
  const q = (f) => points(run(`sum(count_over_time({job="taskd"} ${f} [1s]))`, 1000, 1000, 100))['{}']?.[0][1] ?? 0;
  assert.equal(q('|= "database"'), 2);
  assert.equal(q('!= "request"'), 2);
  assert.equal(q('|~ "\\"status\\":5\\\\d\\\\d"'), 2);
  assert.equal(q('!~ "info|warn"'), 3);
});

test('binary operators: a ratio, and `or vector(0)` where no line matched', () => {
  const s = run('sum(rate({job="taskd"} | json | status >= 500 [1s])) / sum(rate({job="taskd"} | json | msg="request" [1s]))', 1000, 1000, 100);
  assert.deepEqual(points(s), { '{}': [[1000, 0.2]] });
  const none = run('sum(rate({job="taskd"} | json | status >= 600 [1s])) or vector(0)', 1000, 1000, 100);
  assert.deepEqual(points(none), { '{}': [[1000, 0]] });
});

test('a log query returns the lines in [start, end) after the pipeline', () => {
  const r = evalLogQuery(compileLogQL('{job="taskd"} | json | level="error"'), entries(), { start: T0 + 400, end: T0 + 800 });
  assert.deepEqual(r.entries.map((e) => e.ts - T0), [400, 550], '800 is the end, excluded');
  assert.equal(r.entries[0].labels.status, '503');
  assert.equal(r.entries[0].labels.level_extracted, 'error');
});

test('constructs outside the subset are refused, not guessed', () => {
  assert.throws(() => compileLogQL('{job="taskd"} | pattern "<ip> <_>"'), UnsupportedLogQL);
  assert.throws(() => compileLogQL('sum(rate({job="taskd"}[1m]'), UnsupportedLogQL);
});
