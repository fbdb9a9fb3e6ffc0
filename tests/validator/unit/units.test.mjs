// A panel's unit against what its query returns.
import assert from 'node:assert/strict';
import test from 'node:test';
import { unitMismatch } from '../../../dashboards/validator/lib/checks/units.mjs';
import { DIM } from '../../../dashboards/validator/lib/dimension.mjs';

const per = (base) => ({ base, perSecond: 1, scale: 1 });
const ok = (d, u) => assert.equal(unitMismatch(d, u), null, `${u} should be fine`);
const bad = (d, u, re) => assert.match(unitMismatch(d, u) || '', re, `${u} should be reported`);

test('seconds', () => {
  ok(DIM.seconds, 's');
  ok(DIM.seconds, 'dtdurations');
  ok({ base: 'seconds', perSecond: 0, scale: 1000 }, 'ms');
  bad(DIM.seconds, 'ms', /returns seconds/);
  bad({ base: 'seconds', perSecond: 0, scale: 1000 }, 's', /milliseconds/);
  bad(DIM.seconds, 'bytes', /returns seconds/);
});

test('bytes, per second or not', () => {
  ok(DIM.bytes, 'bytes');
  ok(per('bytes'), 'Bps');
  bad(DIM.bytes, 'short', /plain number/);
  bad(per('bytes'), 'bytes', /per-second unit/);
  bad(DIM.bytes, 'Bps', /not a rate/);
});

test('ratios', () => {
  ok(DIM.ratio, 'percentunit');
  ok({ base: 'ratio', perSecond: 0, scale: 100 }, 'percent');
  ok(DIM.ratio, 'short');
  bad(DIM.ratio, 'percent', /0–100/);
  bad({ base: 'ratio', perSecond: 0, scale: 100 }, 'percentunit', /500%/);
  bad(DIM.ratio, 'reqps', /a ratio/);
});

test('counts and rates', () => {
  ok(per('count'), 'reqps');
  ok(per('count'), 'ops');
  ok(DIM.count, 'short');
  bad(per('count'), 'rpm', /per minute/);
  bad(per('count'), 'short', /count unit/);
  bad(DIM.count, 'reqps', /not per second/);
});

test('unknown dimensions and custom units are left alone', () => {
  ok(DIM.unknown, 'ms');
  ok(DIM.seconds, 'suffix:×');
  ok(DIM.none, 'percentunit');
  bad(DIM.timestamp, 'dateTimeAsIso', /milliseconds/);
  ok({ base: 'timestamp', perSecond: 0, scale: 1000 }, 'dateTimeAsIso');
});

test('scaled queries: × 1000 into ms, × 8 into bits, / 1024 into kbytes, × 60 per minute', () => {
  ok({ base: 'seconds', perSecond: 0, scale: 1000 }, 'ms');
  ok({ base: 'bytes', perSecond: 1, scale: 8 }, 'bps');
  ok({ base: 'bytes', perSecond: 0, scale: 1 / 1024 }, 'kbytes');
  ok({ base: 'bytes', perSecond: 0, scale: 1 / 1000 }, 'kbytes');
  bad(DIM.bytes, 'kbytes', /1024x/);
  ok({ base: 'count', perSecond: 1, scale: 60 }, 'rpm');
  bad({ base: 'count', perSecond: 1, scale: 60 }, 'reqps', /60x/);
  bad({ base: 'bits', perSecond: 0, scale: 1 }, 'bytes', /8x/);
});
