// Positions and substitution: an offset in the query Grafana would send maps back to the line
// and column of the characters the user wrote (JSON escapes and YAML blocks counted).
import assert from 'node:assert/strict';
import test from 'node:test';
import { createRequire } from 'node:module';
import { SourceFile, jsonStringRef, yamlScalarRef } from '../../../dashboards/validator/lib/source_text.mjs';
import { substitute } from '../../../dashboards/validator/lib/substitute.mjs';

// yaml is one of the validator's packages (dashboards/validator/node_modules).
const { parseDocument } = createRequire(new URL('../../../dashboards/validator/package.json', import.meta.url))('yaml');

test('a JSON string with escapes maps each decoded character to its file offset', () => {
  const text = '{"expr": "a{x=\\"\\u00e9\\"}\\nb"}';
  const src = new SourceFile('f.json', text);
  const ref = jsonStringRef(src, text.indexOf('"a'));
  assert.equal(ref.text, 'a{x="\u00e9"}\nb');
  assert.equal(text[ref.fileOffset(0)], 'a');
  assert.equal(text.slice(ref.fileOffset(4), ref.fileOffset(4) + 2), '\\"');
  assert.equal(text.slice(ref.fileOffset(5), ref.fileOffset(5) + 6), '\\u00e9');
  assert.equal(text[ref.fileOffset(9)], 'b');
  assert.deepEqual(ref.span(0, 1), { line: 1, column: 11, end_line: 1, end_column: 12 });
});

test('a YAML block literal maps its lines to the indented source lines', () => {
  const text = 'rules:\n  - expr: |\n      sum(x)\n        > 1\n    for: 5m\n';
  const doc = parseDocument(text);
  const node = doc.getIn(['rules', 0, 'expr'], true);
  const ref = yamlScalarRef(new SourceFile('r.yml', text), node);
  assert.equal(ref.text, 'sum(x)\n  > 1\n');
  const gt = ref.text.indexOf('>');
  assert.deepEqual(ref.span(gt, gt + 1), { line: 4, column: 9, end_line: 4, end_column: 10 });
});

test('a quoted YAML scalar starts after its quote', () => {
  const text = "a: 'up == 0'\nb: \"x{y=\\\"z\\\"}\"\n";
  const doc = parseDocument(text);
  const src = new SourceFile('r.yml', text);
  const a = yamlScalarRef(src, doc.get('a', true));
  assert.equal(a.span(0, 2).column, 5);
  const b = yamlScalarRef(src, doc.get('b', true));
  assert.equal(b.text, 'x{y="z"}');
  assert.equal(b.span(5, 6).column, 11);
});

test('substitution keeps the map back to the raw query', () => {
  const raw = 'rate(x{job=~"$job"}[$__rate_interval]) + ${v:raw} + [[w]]';
  const s = substitute(raw, (n) => ({ job: 'taskd', __rate_interval: '1m', v: '10', w: '2' })[n]);
  assert.equal(s.text, 'rate(x{job=~"taskd"}[1m]) + 10 + 2');
  assert.equal(s.toRaw(s.text.indexOf(' + 10')), raw.indexOf(' + ${v'));
  assert.deepEqual(s.rawSpan(s.text.indexOf('1m'), s.text.indexOf('1m') + 2), { from: raw.indexOf('$__rate'), to: raw.indexOf(']') });
  assert.deepEqual(s.referencesIn(13, 18).map((r) => r.name), ['job']);
});

test('an unknown variable stays as written and is listed', () => {
  const s = substitute('up{a="$nope"}', () => undefined);
  assert.equal(s.text, 'up{a="$nope"}');
  assert.deepEqual(s.unknown, [{ name: 'nope', from: 6, to: 11 }]);
});
