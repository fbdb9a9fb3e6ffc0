// The Grafana stand-in's arithmetic against values Grafana itself produces (the brackets of
// rangeutil.roundInterval, the Prometheus backend's step and $__rate_interval, Loki's step and
// $__auto), each case worked out by hand from Grafana's code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatInterval, frontendInterval, goDuration, intervalToMs, lokiRequest, panelResolution, prometheusRequest, roundInterval,
} from '../../../dashboards/validator/lib/grafana_time.mjs';

test('roundInterval snaps to Grafana\'s nice intervals at the bracket edges', () => {
  assert.equal(roundInterval(9), 1);
  assert.equal(roundInterval(10), 10);
  assert.equal(roundInterval(133), 100);
  assert.equal(roundInterval(749), 500);
  assert.equal(roundInterval(750), 1000);
  assert.equal(roundInterval(2400), 2000);
  assert.equal(roundInterval(86400), 60000);
  assert.equal(roundInterval(4e9), 31536000000);
});

test('intervals parse as Grafana does: integer counts, bare numbers are seconds', () => {
  assert.equal(intervalToMs('15s'), 15000);
  assert.equal(intervalToMs('500ms'), 500);
  assert.equal(intervalToMs('2m'), 120000);
  assert.equal(intervalToMs('30'), 30000);
  assert.equal(intervalToMs('1.5s'), 1000);
  assert.throws(() => intervalToMs('fast'), /not an interval/);
  assert.equal(formatInterval(90000), '1m');
  assert.equal(formatInterval(1500), '1s');
  assert.equal(goDuration(75000), '1m15s');
  assert.equal(goDuration(4000), '4s');
  assert.equal(goDuration(1500), '1.5s');
});

test('the frontend interval never goes below the datasource\'s scrape interval', () => {
  assert.deepEqual(frontendInterval(3600000, 1500, '15s'), { intervalMs: 15000, interval: '15s' });
  assert.deepEqual(frontendInterval(86400000, 1000, '15s'), { intervalMs: 60000, interval: '1m' });
  assert.deepEqual(frontendInterval(120000, 900, undefined), { intervalMs: 100, interval: '100ms' });
});

test('a panel\'s resolution is its maxDataPoints, else its width in pixels', () => {
  assert.equal(panelResolution({ maxDataPoints: 300, gridPos: { w: 12 } }), 300);
  const half = panelResolution({ gridPos: { w: 12 } }, 1840);
  const full = panelResolution({ gridPos: { w: 24 } }, 1840);
  assert.ok(half > 880 && half < 920, `half width ${half}`);
  assert.ok(full > 1800 && full < 1840, `full width ${full}`);
});

test('Prometheus: 1h at a 15s scrape interval gives a 15s step and a 1m rate interval', () => {
  const r = prometheusRequest({ fromMs: 1_700_000_000_000, toMs: 1_700_003_600_000, resolution: 1500, scrapeInterval: '15s' });
  assert.equal(r.step, 15000);
  assert.equal(r.macros.__interval, '15s');
  assert.equal(r.macros.__rate_interval, '1m0s');
  assert.equal(r.macros.__range, '3600s');
  assert.equal(r.start % 15000, 0);
});

test('Prometheus: 24h on a 1000 px panel gives a 1m step and a 1m15s rate interval', () => {
  const r = prometheusRequest({ fromMs: 0, toMs: 86_400_000, resolution: 1000, scrapeInterval: '15s' });
  assert.equal(r.step, 60000);
  assert.equal(r.macros.__rate_interval, '1m15s');
});

test('Prometheus: a compressed 2-minute run at a 1s scrape interval gives 1s steps and a 4s rate interval', () => {
  const from = 1_790_000_000_300;
  const r = prometheusRequest({ fromMs: from, toMs: from + 120_000, resolution: 900, scrapeInterval: '1s' });
  assert.equal(r.step, 1000);
  assert.equal(r.rateIntervalMs, 4000);
  assert.equal(r.macros.__rate_interval, '4s');
  assert.equal(r.start, 1_790_000_000_000, 'start aligned down to the step');
});

test('Prometheus: a target min step of $__rate_interval makes the step the rate interval', () => {
  const r = prometheusRequest({ fromMs: 0, toMs: 120_000, resolution: 900, scrapeInterval: '1s', targetInterval: '$__rate_interval' });
  assert.equal(r.step, 4000);
  assert.equal(r.rateIntervalMs, 4000);
});

test('Prometheus: a target min step of 10s raises the step and the rate interval', () => {
  const r = prometheusRequest({ fromMs: 0, toMs: 120_000, resolution: 900, scrapeInterval: '1s', targetInterval: '10s' });
  assert.equal(r.step, 10000);
  assert.equal(r.rateIntervalMs, 40000, 'max(1s + 10s, 4 x 10s)');
});

test('Prometheus: without a datasource scrape interval Grafana assumes 15s', () => {
  const r = prometheusRequest({ fromMs: 0, toMs: 600_000, resolution: 1000 });
  assert.equal(r.macros.__rate_interval, '1m0s');
});

test('Loki: $__auto is the step, the frontend interval without a lower limit', () => {
  const r = lokiRequest({ fromMs: 0, toMs: 120_000, resolution: 900 });
  assert.equal(r.step, 100);
  assert.equal(r.macros.__auto, '100ms');
  const day = lokiRequest({ fromMs: 0, toMs: 86_400_000, resolution: 900 });
  assert.equal(day.macros.__auto, '2m', '86.4e6 / 900 = 96 s, rounded to 2m');
  const inst = lokiRequest({ fromMs: 0, toMs: 120_000, resolution: 900, instant: true });
  assert.equal(inst.macros.__auto, '120s');
  const res = lokiRequest({ fromMs: 0, toMs: 120_000, resolution: 900, lokiResolution: 2 });
  assert.equal(res.step, 200);
});
