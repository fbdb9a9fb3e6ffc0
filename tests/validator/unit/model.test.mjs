// The dashboard model: any export's panels, rows, library panels, datasources and variables.
import assert from 'node:assert/strict';
import test from 'node:test';
import { dashboardFromText } from '../../../dashboards/validator/lib/dashboard_model.mjs';
import { DatasourceDirectory, DatasourceResolver } from '../../../dashboards/validator/lib/datasources.mjs';
import { Report } from '../../../dashboards/validator/lib/report.mjs';
import { Variable } from '../../../dashboards/validator/lib/variables.mjs';

const load = (d, directory = new DatasourceDirectory()) => {
  const report = new Report('check');
  const dash = dashboardFromText('d.json', JSON.stringify(d, null, 2), { directory, report });
  return { dash, report };
};
const P = (id, title, extra = {}) => ({ id, title, type: 'timeseries', targets: [{ refId: 'A', expr: 'up' }], ...extra });

test('rows, collapsed or not, and the pre-5.0 rows model', () => {
  const { dash } = load({ panels: [P(1, 'a'), { type: 'row', title: 'r', collapsed: true, panels: [P(2, 'b')] }, { type: 'row', title: 'open', panels: [] }, P(3, 'c')] });
  assert.deepEqual(dash.panels.map((p) => [p.title, p.row?.title ?? null]), [['a', null], ['b', 'r'], ['c', 'open']]);
  const old = load({ rows: [{ title: 'x', panels: [P(1, 'old')] }] }).dash;
  assert.deepEqual(old.panels.map((p) => p.title), ['old']);
});

test('library panels from __elements, and a missing one as a finding', () => {
  const { dash, report } = load({
    __elements: { u1: { name: 'Lib', uid: 'u1', kind: 1, model: P(undefined, 'Lib', { datasource: { type: 'prometheus', uid: 'x' } }) } },
    panels: [{ id: 7, libraryPanel: { uid: 'u1', name: 'Lib' } }, { id: 8, libraryPanel: { uid: 'gone', name: 'Gone' } }],
  });
  assert.equal(dash.panels[0].title, 'Lib');
  assert.equal(dash.panels[0].id, 7);
  assert.equal(dash.panels[0].targets[0].datasource.type, 'prometheus');
  assert.deepEqual(report.findings.map((f) => [f.check, f.panel.title]), [['library-panel', 'Gone']]);
});

test('an API answer wrapped in {"dashboard": ...} and a file that is no dashboard', () => {
  assert.equal(load({ dashboard: { uid: 'w', panels: [P(1, 'a')] }, meta: {} }).dash.uid, 'w');
  const { dash, report } = load({ hello: 1 });
  assert.equal(dash, null);
  assert.equal(report.findings[0].check, 'dashboard');
});

test('datasources: inputs, variables, names, mixed, default, __requires', () => {
  const variables = new Map([['ds', { type: 'datasource', query: 'loki', current: { value: 'L1' } }], ['job', { type: 'custom' }]]);
  const inputs = new Map([['DS_PROM', { name: 'DS_PROM', pluginId: 'prometheus', label: 'Prom' }]]);
  const r = new DatasourceResolver({ directory: new DatasourceDirectory([{ uid: 'p1', name: 'Main', type: 'prometheus' }]), variables, inputs, requires: [] });
  assert.equal(r.resolve('${DS_PROM}').type, 'prometheus');
  assert.equal(r.resolve({ type: 'prometheus', uid: '${DS_PROM}' }).type, 'prometheus');
  assert.match(r.resolve({ uid: '${DS_OTHER}' }).error, /does not declare/);
  assert.equal(r.resolve('$ds').type, 'loki');
  assert.match(r.resolve('$job').error, /custom variable/);
  assert.match(r.resolve({ type: 'prometheus', uid: '$ds' }).error, /selects loki/);
  assert.equal(r.resolve('Main').uid, 'p1');
  assert.equal(r.resolve('-- Mixed --').type, 'mixed');
  assert.equal(r.resolve({ type: 'datasource', uid: '-- Mixed --' }).type, 'mixed');
  assert.match(r.resolve({ type: 'prometheus', uid: 'nope' }).error, /not provisioned/);
  assert.equal(r.resolve('Elsewhere').type, null);
  const sole = new DatasourceResolver({ directory: new DatasourceDirectory(), variables: new Map(), inputs: new Map(), requires: [{ type: 'datasource', id: 'prometheus' }] });
  assert.equal(sole.resolve('Elsewhere').type, 'prometheus');
  assert.equal(sole.resolve(null).type, 'prometheus');
});

test('a non-mixed panel runs every target on its own datasource', () => {
  const { dash } = load({ panels: [P(1, 'a', { datasource: { type: 'prometheus', uid: 'p' }, targets: [{ refId: 'A', expr: '{job="x"}', datasource: { type: 'loki', uid: 'l' } }] })] });
  assert.equal(dash.panels[0].targets[0].datasource.type, 'prometheus');
  assert.equal(dash.panels[0].targets[0].overruledDatasource.type, 'loki');
});

test('variables are formatted as Grafana formats them for Prometheus', () => {
  const v = (raw, values) => Object.assign(new Variable({ name: 'v', ...raw }), { values });
  assert.equal(v({ type: 'custom' }, ['a.b']).format(null), 'a.b');
  // Grafana's Prometheus datasource writes each regex backslash twice inside the string literal
  // (prometheusSpecialRegexEscape): the query text says (a\\.b|c), PromQL reads the regex (a\.b|c).
  assert.equal(v({ type: 'custom', multi: true }, ['a.b', 'c']).format(null), '(a\\\\.b|c)');
  assert.equal(v({ type: 'custom', includeAll: true, allValue: '.+' }, ['$__all']).format(null), '.+');
  assert.equal(Object.assign(v({ type: 'query', includeAll: true }, ['$__all']), { options: ['x', 'y'] }).format(null), '(x|y)');
  assert.equal(v({ type: 'custom', multi: true }, ['a', 'b']).format('csv'), 'a,b');
});

test('the report: JSON envelope, and a baseline that accepts and goes stale', () => {
  const r = new Report('check');
  r.finding('unit', { file: 'dashboards/a.json', panel: { id: 1, title: 'P' }, target: 'A' }, 'wrong');
  r.finding('unit', { file: 'dashboards/a.json', panel: { id: 2, title: 'Q' }, target: 'A' }, 'wrong too');
  r.applyBaseline([{ check: 'unit', file: 'dashboards/a.json', panel: 'P' }, { check: 'unit', file: 'dashboards/a.json', panel: 'Gone' }, { check: 'unit', file: 'other.json' }], 'baseline.json', ['dashboards/a.json']);
  const j = r.toJSON();
  assert.equal(j.schema, 'taskbench.validator.report');
  assert.deepEqual(j.findings.map((f) => f.check).sort(), ['baseline-stale', 'unit']);
  assert.equal(j.known.length, 1);
  assert.equal(j.exit_code, 1);
  r.result('truth', { item: 'x' }, 'fail', 'off');
  assert.equal(r.findings.filter((f) => f.from_result).length, 1);
});

test('the unit of an old graph panel is its left y axis, of a singlestat its format', () => {
  const { dash } = load({ panels: [
    P(1, 'g', { type: 'graph', yaxes: [{ format: 'ms' }, { format: 'short' }] }),
    P(2, 'g2', { type: 'graph', yaxes: [{ format: 'bytes' }, { format: 'short' }], seriesOverrides: [{ alias: 'x', yaxis: 2 }] }),
    P(3, 's', { type: 'singlestat', format: 'percentunit' }),
    P(4, 't', { fieldConfig: { defaults: { unit: 'reqps' } } }),
  ] });
  assert.deepEqual(dash.panels.map((p) => [p.unit, p.unitAmbiguous]), [['ms', false], ['bytes', true], ['percentunit', false], ['reqps', false]]);
});
