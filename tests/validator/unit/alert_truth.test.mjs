// The truth of ALERTS (lib/truth/alert_truth.mjs) on a known case: one rule `taskd_db_up == 0`
// for 2s, evaluated every second at a phase the run's Prometheus shows, over a twin of
// taskd_db_up that is 1, then unknown (0 or 1) for one scrape, then 0, then unknown, then 1. The
// windows are worked out by hand: the earliest run takes the unknown scrapes as 0, the latest as 1.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadRuleFiles } from '../../../dashboards/validator/lib/alerts/rule_set.mjs';
import { AlertTruth } from '../../../dashboards/validator/lib/truth/alert_truth.mjs';

const RULES = `groups:
  - name: db
    rules:
      - alert: DbDown
        expr: taskd_db_up == 0
        for: 2s
        labels:
          severity: page
      - alert: SlowDisk
        expr: taskd_data_dir_free_bytes < 100
        for: 1s
`;

// Scrapes at x.100 s from 0 to 20 s: 1 until 4.1, unknown at 5.1, 0 from 6.1 to 12.1, unknown at
// 13.1, 1 from 14.1.
function dbUp() {
  const samples = [];
  for (let t = 100; t <= 20100; t += 1000) {
    const v = t === 5100 || t === 13100 ? { lo: 0, hi: 1 } : t >= 6100 && t <= 12100 ? { lo: 0, hi: 0 } : { lo: 1, hi: 1 };
    samples.push({ t, ...v });
  }
  return [{ labels: { __name__: 'taskd_db_up', job: 'taskd', instance: 'i' }, samples, staleAt: [] }];
}

function fakeTwins({ phaseSample }) {
  return {
    missing: new Map([['taskd_data_dir_free_bytes', 'the run record has no samples of the process from outside it']]),
    async prepare() {},
    series(sel) {
      return sel.name === 'taskd_db_up' ? dbUp() : [];
    },
    async query() {
      // What the run's Prometheus holds of the group: one ALERTS sample gives its phase.
      return phaseSample === null ? [] : [{ metric: { __name__: 'ALERTS', alertname: 'DbDown', alertstate: 'pending' }, values: [[phaseSample, 1]] }];
    },
  };
}

async function truth(phaseSample) {
  const dir = await mkdtemp(path.join(tmpdir(), 'alert-truth-'));
  await writeFile(path.join(dir, 'db.yml'), RULES);
  const record = { prometheus: { rules: dir, evaluationMs: 1000, scrapeMs: 1000, lookbackMs: 300000 }, window: { from: 0, to: 20000 } };
  const groups = await loadRuleFiles([path.join(dir, 'db.yml')]);
  const at = new AlertTruth({ twins: fakeTwins({ phaseSample }), record, groups });
  await at.prepare();
  await rm(dir, { recursive: true, force: true });
  return at;
}

const sel = (state) => ({
  kind: 'selector',
  name: 'ALERTS',
  matchers: [{ label: '__name__', op: '=', value: 'ALERTS' }, { label: 'alertname', op: '=', value: 'DbDown' }, { label: 'alertstate', op: '=', value: state }],
});
const text = (series) => series.map((s) => ({
  labels: s.labels,
  samples: s.samples.map((x) => `${x.t}${x.maybe ? '?' : ''}`).join(' '),
  staleAt: s.staleAt,
}));

test('pending and firing at the evaluations the run\'s Prometheus made: certain where every choice agrees', async () => {
  const at = await truth(7600);
  assert.deepEqual(at.ticks.get('db'), { interval: 1000, phase: 600, known: true });
  const labels = (state) => ({ __name__: 'ALERTS', job: 'taskd', instance: 'i', severity: 'page', alertname: 'DbDown', alertstate: state });
  // Pending from 5.6 (unknown scrape read as 0) or 6.6; firing 2 s later; resolved at 13.6 or 14.6.
  assert.deepEqual(text(at.series(sel('pending'))), [{ labels: labels('pending'), samples: '5600? 6600 7600?', staleAt: [8600] }]);
  assert.deepEqual(text(at.series(sel('firing'))), [{ labels: labels('firing'), samples: '7600? 8600 9600 10600 11600 12600 13600?', staleAt: [14600] }]);
});

test('a group that left no sample is sampled on a grid, one evaluation at each edge of a certain window made uncertain', async () => {
  const at = await truth(null);
  assert.equal(at.ticks.get('db').known, false);
  const firing = at.series(sel('firing'))[0];
  // Over every phase it fires by 9.1 s at the latest (pending at the first tick after 6.1 s) and
  // resolves at 13.1 s at the earliest: certain in [9.1, 13.1), less one second at each edge.
  assert.deepEqual(firing.samples.filter((x) => !x.maybe).map((x) => x.t), [11000, 12000]);
  assert.ok(firing.samples[0].t <= 8000 && firing.samples.at(-1).t >= 14000);
});

test('an alert whose rule reads a series the run cannot tell is not predicted, and says why', async () => {
  const at = await truth(7600);
  const all = { kind: 'selector', name: 'ALERTS', matchers: [{ label: '__name__', op: '=', value: 'ALERTS' }] };
  assert.match(at.reasonFor(all), /alert SlowDisk cannot be predicted: its rule reads taskd_data_dir_free_bytes: the run record has no samples/);
  assert.equal(at.reasonFor(sel('firing')), null);
});
