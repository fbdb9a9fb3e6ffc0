// The truth side's PromQL: with exact inputs it must compute what Prometheus 2.42 computes — a
// real Prometheus serves a TSDB built here (promtool tsdb create-blocks-from openmetrics) and
// both answer the same range queries; with interval inputs the bounds must hold what any exact
// choice inside them gives.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { rangeQuery, startPrometheus } from '../../../dashboards/validator/lib/prometheus.mjs';
import { bucketQuantile } from '../../../dashboards/validator/lib/quantile.mjs';
import { extrapolate } from '../../../dashboards/validator/lib/extrapolated_rate.mjs';
import { BoundsEvaluator, compilePromQL } from '../../../dashboards/validator/lib/truth/promql_bounds.mjs';

const T0 = 1_790_000_000; // seconds
// Series as (labels, [[offset s, value]]): scraped every 1 s with gaps, a counter reset
// (a restart), a series born late, a histogram, a gauge going 1 -> 0 -> 1.
function fixture() {
  const s = [];
  const counter = [];
  let v = 0;
  for (let i = 0; i <= 60; i++) {
    if (i === 30) v = 0; // restart
    if (i >= 28 && i < 30) continue; // down: no scrapes
    v += (i % 7) + 1;
    counter.push([i, v]);
  }
  s.push({ name: 'req_total', type: 'counter', labels: { code: '200', route: '/a' }, points: counter });
  s.push({ name: 'req_total', type: 'counter', labels: { code: '503', route: '/a' }, points: counter.filter(([i]) => i >= 20).map(([i, x]) => [i, Math.floor(x / 3)]) });
  s.push({ name: 'req_total', type: 'counter', labels: { code: '200', route: '/b' }, points: counter.map(([i, x]) => [i, 2 * x]) });
  const les = ['0.001', '0.01', '0.1', '1', '+Inf'];
  les.forEach((le, k) => {
    s.push({ name: 'dur_bucket', type: 'counter', labels: { le, route: '/a' }, points: counter.map(([i, x]) => [i, Math.round(x * [0.2, 0.7, 0.9, 0.99, 1][k])]) });
  });
  s.push({ name: 'db_up', type: 'gauge', labels: {}, points: counter.map(([i]) => [i, i >= 10 && i < 20 ? 0 : 1]) });
  return s;
}

let prom;
let dir;
const series = fixture();
const found = (bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
const noPrometheus = !found('prometheus') || !found('promtool') ? 'prometheus and promtool are not installed (make deps)' : false;
before(async () => {
  if (noPrometheus) return;
  dir = mkdtempSync(path.join(tmpdir(), 'taskbench-bounds-'));
  const lines = [];
  const byName = new Map();
  for (const x of series) {
    if (!byName.has(x.name)) byName.set(x.name, []);
    byName.get(x.name).push(x);
  }
  for (const [name, list] of byName) {
    const family = list[0].type === 'counter' && name.endsWith('_total') ? name.slice(0, -6) : name;
    lines.push(`# TYPE ${family} ${list[0].type === 'counter' && name.endsWith('_total') ? 'counter' : 'gauge'}`);
    for (const x of list) {
      const l = Object.entries(x.labels).map(([k, v]) => `${k}="${v}"`).join(',');
      for (const [i, v] of x.points) lines.push(`${name}{${l}} ${v} ${T0 + i}`);
    }
  }
  lines.push('# EOF');
  writeFileSync(path.join(dir, 'data.om'), `${lines.join('\n')}\n`);
  execFileSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', path.join(dir, 'data.om'), path.join(dir, 'tsdb')], { stdio: 'ignore' });
  prom = await startPrometheus('prometheus', 20000, { dataDir: path.join(dir, 'tsdb'), lookbackDelta: '10s' });
});
after(async () => {
  if (prom) await prom.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function exactTwins() {
  return {
    series(sel) {
      return series
        .map((x) => ({ labels: { __name__: x.name, ...x.labels }, samples: x.points.map(([i, v]) => ({ t: (T0 + i) * 1000, lo: v, hi: v })) }))
        .filter((x) => sel.matchers.every((m) => m.test(x.labels[m.label] ?? '')));
    },
  };
}

const QUERIES = [
  'sum by (route, code) (rate(req_total[4s]))',
  'sum(rate(req_total{route="/a"}[4s]))',
  'sum(increase(req_total[10s]))',
  '(sum(rate(req_total{code=~"5.."}[4s])) or vector(0)) / sum(rate(req_total[4s]))',
  'histogram_quantile(0.9, sum by (le) (rate(dur_bucket[5s])))',
  'histogram_quantile(0.5, sum by (le, route) (rate(dur_bucket[5s])))',
  'min(db_up)',
  'db_up == 0',
  'max_over_time(db_up[3s])',
  'sum(rate(req_total[4s])) > 10',
  'sum by (code) (rate(req_total[4s])) / on () group_left sum(rate(req_total[4s]))',
  'changes(db_up[5s])',
  'max_over_time((sum(rate(req_total[4s])))[6s:1s])',
];

test('with exact inputs, every query gives what Prometheus gives, point for point', { skip: noPrometheus }, async () => {
  const grid = { start: (T0 + 2) * 1000, end: (T0 + 62) * 1000, step: 1000 };
  const ev = new BoundsEvaluator({ twins: exactTwins(), lookbackMs: 10000 });
  for (const q of QUERIES) {
    const real = await rangeQuery(prom.url, q, grid);
    const mine = ev.evalRange(compilePromQL(q), grid);
    const key = (labels) => JSON.stringify(Object.fromEntries(Object.entries(labels).filter(([k]) => k !== '__name__').sort()));
    const want = new Map(real.map((s) => [key(s.metric), new Map(s.values)]));
    const got = new Map(mine.map((s) => [key(s.labels), new Map(s.points.map(([t, v]) => [t, v]))]));
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${q}: the same series`);
    for (const [k, points] of want) {
      for (const [t, v] of points) {
        const m = got.get(k).get(t);
        assert.ok(m, `${q} ${k} at +${t / 1000 - T0}s: Prometheus has ${v}, the evaluator nothing`);
        if (Number.isNaN(v)) assert.ok(Number.isNaN(m.lo), `${q} ${k}: NaN`);
        else {
          assert.equal(m.lo, m.hi, `${q}: exact inputs give an exact value`);
          assert.ok(Math.abs(m.lo - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${q} ${k} at +${t / 1000 - T0}s: Prometheus ${v}, evaluator ${m.lo}`);
        }
      }
      assert.equal(got.get(k).size, points.size, `${q} ${k}: the same number of points`);
    }
  }
});

test('extrapolation matches promql/functions.go on a worked example', () => {
  // 5 samples 1 s apart from 10 to 18, window [0.5 s, 5 s]: no zero clamp (value 10 over 8 is far),
  // 0.5 s to the start is under 1.1 s, 1 s to the end too: 8 * (4 + 0.5 + 1) / 4 / 4.5
  const r = extrapolate([1000, 2000, 3000, 4000, 5000].map((t) => t - 1000 + 1000), [10, 12, 14, 16, 18], 6000, 5500, true, true);
  assert.ok(Math.abs(r - (8 * 5.5) / 4 / 5.5) < 1e-12, `rate ${r}`);
});

test('interval inputs: rate bounds contain every exact choice, comparisons say maybe', () => {
  const twin = (vals) => ({
    series: () => [{ labels: { __name__: 'x_total' }, samples: vals.map(([t, lo, hi]) => ({ t, lo, hi })) }],
  });
  const ev = new BoundsEvaluator({ twins: twin([[1000, 10, 11], [2000, 20, 22], [3000, 30, 30], [4000, 39, 41]]), lookbackMs: 5000 });
  const [r] = ev.eval(compilePromQL('rate(x_total[4s])'), 4000);
  for (const choice of [[10, 20, 30, 39], [11, 22, 30, 41], [11, 20, 30, 39], [10, 22, 30, 41]]) {
    const v = extrapolate([1000, 2000, 3000, 4000], choice, 4000, 4000, true, true);
    assert.ok(v >= r.lo - 1e-9 && v <= r.hi + 1e-9, `${choice}: ${v} outside [${r.lo}, ${r.hi}]`);
  }
  const cmp = ev.eval(compilePromQL('x_total > 40'), 4000);
  assert.equal(cmp.length, 1);
  assert.equal(cmp[0].maybe, true);
  assert.equal(ev.eval(compilePromQL('x_total > 41'), 4000).length, 0);
});

test('a counter sample whose value is not known (0..+Inf) bounds the rate instead of making it NaN', () => {
  const twin = (vals) => ({
    series: () => [{ labels: { __name__: 'x_total' }, samples: vals.map(([t, lo, hi, seg]) => ({ t, lo, hi, seg })) }],
  });
  // Not known, then 0 in one process: it was 0 all along.
  let ev = new BoundsEvaluator({ twins: twin([[1000, 0, Infinity], [2000, 0, 0, 7], [3000, 0, 0, 7]]), lookbackMs: 5000 });
  assert.deepEqual(ev.eval(compilePromQL('rate(x_total[4s])'), 3000).map((r) => [r.lo, r.hi]), [[0, 0]]);
  // Not known, then 5 and 9: whatever the first was (below 5, or above: a reset), inside.
  ev = new BoundsEvaluator({ twins: twin([[1000, 0, Infinity], [2000, 5, 5, 7], [3000, 9, 9, 7]]), lookbackMs: 5000 });
  const [r] = ev.eval(compilePromQL('increase(x_total[4s])'), 3000);
  assert.ok(Number.isFinite(r.lo) && Number.isFinite(r.hi), `[${r.lo}, ${r.hi}]`);
  for (const first of [0, 3, 5, 100, 1e9]) {
    const v = extrapolate([1000, 2000, 3000], [first, 5, 9], 3000, 4000, true, false);
    assert.ok(v >= r.lo - 1e-9 && v <= r.hi + 1e-9, `first ${first}: ${v} outside [${r.lo}, ${r.hi}]`);
  }
});

test('histogram_quantile over interval counts is bounded by its two extreme corners, inside the buckets the rank can fall in', () => {
  const buckets = { 0.1: [5, 5], 0.2: [40, 60], 0.5: [90, 95], '+Inf': [100, 100] };
  const ev = new BoundsEvaluator({
    twins: {
      series: () => Object.entries(buckets).map(([le, [lo, hi]]) => ({ labels: { __name__: 'h_bucket', le: String(le) }, samples: [{ t: 1000, lo, hi }] })),
    },
    lookbackMs: 5000,
  });
  const [q] = ev.eval(compilePromQL('histogram_quantile(0.5, h_bucket)'), 1000);
  // lowest: 5, 60, 95 below a total of 100 -> 0.1 + 0.1 x 45/55; highest: 5, 40, 90 -> 0.2 + 0.3 x 10/50
  assert.ok(Math.abs(q.lo - (0.1 + (0.1 * 45) / 55)) < 1e-12 && Math.abs(q.hi - 0.26) < 1e-12, `[${q.lo}, ${q.hi}]`);
  for (const c of [[5, 40, 90], [5, 60, 95], [5, 50, 92], [5, 45, 95]]) {
    const v = bucketQuantile(0.5, [{ le: 0.1, count: c[0] }, { le: 0.2, count: c[1] }, { le: 0.5, count: c[2] }, { le: Infinity, count: 100 }]);
    assert.ok(v >= q.lo && v <= q.hi, `${c}: ${v}`);
  }
});
