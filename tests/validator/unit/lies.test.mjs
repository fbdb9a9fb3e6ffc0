// The lie suite's edits.
import assert from 'node:assert/strict';
import test from 'node:test';
import { applyEdits, matchesExpectation } from '../../../dashboards/validator/lib/lie_suite.mjs';

const d = JSON.stringify({ panels: [{ title: 'P', fieldConfig: { defaults: { unit: 's' } }, targets: [{ refId: 'A', expr: 'rate(x[1m])', legendFormat: '{{a}}' }] }, { type: 'row', title: 'R', panels: [{ title: 'Q', targets: [] }] }], templating: { list: [{ name: 'v', query: 'q' }] } });

test('edits of targets, panels in rows, variables and text', () => {
  const out = JSON.parse(applyEdits(d, [
    { panel: 'P', target: 'A', replace: ['1m', '5m'] },
    { panel: 'P', target: 'A', field: 'legendFormat', replace: ['{{a}}', '{{b}}'] },
    { panel: 'P', set: { 'fieldConfig.defaults.unit': null, description: 'x' } },
    { panel: 'Q', set: { unit: 'ms' } },
    { variable: 'v', set: { query: 'r' } },
  ], 'd.json'));
  assert.equal(out.panels[0].targets[0].expr, 'rate(x[5m])');
  assert.equal(out.panels[0].targets[0].legendFormat, '{{b}}');
  assert.equal(out.panels[0].fieldConfig.defaults.unit, undefined);
  assert.equal(out.panels[1].panels[0].unit, 'ms');
  assert.equal(out.templating.list[0].query, 'r');
  assert.equal(applyEdits('a: 1\nb: 2\n', { text: { replace: ['b: 2', 'b: 3'] } }, 'r.yml'), 'a: 1\nb: 3\n');
});

test('an edit that does not match exactly once is a suite error', () => {
  assert.throws(() => applyEdits(d, { panel: 'P', target: 'A', replace: ['nope', 'x'] }, 'd.json'), /occurs 0 times/);
  assert.throws(() => applyEdits('a a', { text: { replace: ['a', 'b'] } }, 'f'), /occurs 2 times/);
  assert.throws(() => applyEdits(d, { panel: 'Nope', set: {} }, 'd.json'), /no panel/);
});

test('expectations match check, place and message', () => {
  const f = { check: 'unit', panel: { title: 'P' }, target: 'A', message: 'unit "ms" but the query returns seconds' };
  assert.ok(matchesExpectation(f, { check: 'unit', panel: 'P', target: 'A', message: 'returns seconds' }));
  assert.ok(matchesExpectation(f, { check: 'unit', message: '/ret.rns/' }));
  assert.ok(!matchesExpectation(f, { check: 'unit', panel: 'Q' }));
  assert.ok(!matchesExpectation(f, { check: 'legend-label' }));
});
