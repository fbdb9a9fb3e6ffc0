// dashboard_model: any Grafana dashboard export, read into one model that every command (check,
// truth, alerts) walks: panels with their resolved datasource, targets with their query as a
// TextRef (positions in the file), variables with values, annotations.
//
// What it accepts, because that is what Grafanas export:
//   - the classic model (`panels[]`, rows as `type: "row"` panels, collapsed rows holding their
//     children in `panels`) and the pre-5.0 `rows[].panels`;
//   - "Export for sharing externally": `__inputs` (`${DS_PROMETHEUS}` references), `__requires`,
//     `__elements` (library panel models), `"id": null`;
//   - API exports wrapped as { "dashboard": {...}, "meta": {...} };
//   - datasources as names (strings), as { type, uid } refs, as variables, mixed per target;
//   - library panels referenced by uid: their model comes from `__elements` or from files given
//     with --library-panel (Grafana's /api/library-elements answers); a missing one is a finding
//     on that panel, and the rest of the dashboard is still checked.
// Loading never throws for a bad dashboard: problems go to the report (check "dashboard" or
// "library-panel" or "datasource"), and the model holds what could be read.
//
// API (for the subcommands):
//   loadDashboard(file, { label, directory, libraryPanels, report }) -> Dashboard | null
//   Dashboard: { file, source, json, uid, title, schemaVersion, variables (VariableSet), inputs,
//     panels: [Panel], annotations: [Annotation], datasources (DatasourceResolver),
//     substitute(ref|string, macros) -> Substituted, resolveVariables(opts) }
//   Panel: { id, title, type, row, library, json, node, where, datasource, targets: [Target],
//     unit, description, links, overrides, interval, maxDataPoints }
//   Target: { refId, json, node, where, datasource, expr: TextRef|null, legend: TextRef|null,
//     instant, range, interval, hide, panel }
//   `where` objects go straight into report.finding()/result().

import { readFile } from 'node:fs/promises';
import { findNodeAtLocation, parseTree, printParseErrorCode } from 'jsonc-parser';
import { DatasourceResolver } from './datasources.mjs';
import { SourceFile, TextRef, jsonStringRef } from './source_text.mjs';
import { substitute } from './substitute.mjs';
import { VariableSet } from './variables.mjs';

// A parsed JSON file with positions.
export class JsonDocument {
  constructor(source, tree, value) {
    this.source = source;
    this.tree = tree;
    this.value = value;
  }

  static parse(label, text) {
    const errors = [];
    const tree = parseTree(text, errors, { disallowComments: false, allowTrailingComma: false });
    const source = new SourceFile(label, text);
    if (errors.length || !tree) {
      const e = errors[0] || { error: 0, offset: 0 };
      const pos = source.position(e.offset);
      return { error: `is not JSON: ${printParseErrorCode(e.error)} at line ${pos.line}, column ${pos.column}`, offset: e.offset, source };
    }
    return { doc: new JsonDocument(source, tree, JSON.parse(text)) };
  }

  node(path) {
    return findNodeAtLocation(this.tree, path) || null;
  }

  // { source, offset } of the value at path (or of the closest existing parent).
  position(path) {
    for (let p = [...path]; p.length >= 0; p.pop()) {
      const n = this.node(p);
      if (n) return { source: this.source, offset: n.offset };
      if (p.length === 0) break;
    }
    return { source: this.source, offset: 0 };
  }

  // TextRef of the string at path; a value that is not a string in the file gets a detached ref.
  stringRef(path) {
    const n = this.node(path);
    if (n && n.type === 'string') return jsonStringRef(this.source, n.offset);
    if (n && typeof n.value === 'string') return TextRef.detached(n.value);
    return null;
  }
}

function panelIdentity(json) {
  return { id: json.id ?? null, title: json.title || json.libraryPanel?.name || `#${json.id ?? '?'}` };
}

// Library panel models: Map uid -> { name, model, doc, path } from __elements and given files.
export async function loadLibraryPanels(files, report) {
  const out = new Map();
  for (const f of files) {
    let parsed;
    try {
      parsed = JsonDocument.parse(f, await readFile(f, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read the library panel file ${f}: ${e.message}`);
    }
    if (parsed.error) {
      report.finding('dashboard', { file: f, node: { source: parsed.source, offset: parsed.offset } }, `library panel file ${parsed.error}`);
      continue;
    }
    const { doc } = parsed;
    const v = doc.value;
    // /api/library-elements/:uid -> { result: {...} }; the list endpoint -> { result: { elements: [...] } }
    const candidates = [];
    if (Array.isArray(v)) v.forEach((e, i) => candidates.push([e, [i]]));
    else if (v.result?.elements) v.result.elements.forEach((e, i) => candidates.push([e, ['result', 'elements', i]]));
    else if (v.result) candidates.push([v.result, ['result']]);
    else candidates.push([v, []]);
    for (const [e, path] of candidates) {
      if (e && e.uid && e.model) out.set(e.uid, { name: e.name || e.model.title, model: e.model, doc, path: [...path, 'model'] });
    }
  }
  return out;
}

export class Dashboard {
  constructor(file, doc, rootPath, json, directory) {
    this.file = file;
    this.doc = doc;
    this.rootPath = rootPath; // [] or ['dashboard'] for API exports
    this.json = json;
    this.source = doc.source;
    this.uid = json.uid ?? null;
    this.title = json.title ?? null;
    this.schemaVersion = json.schemaVersion ?? null;
    this.inputs = new Map();
    for (const i of Array.isArray(json.__inputs) ? json.__inputs : []) if (i?.name) this.inputs.set(i.name, i);
    const list = Array.isArray(json.templating?.list) ? json.templating.list : [];
    this.variables = new VariableSet(list, list.map((_, i) => doc.position([...rootPath, 'templating', 'list', i])));
    this.rawVariables = new Map([...this.variables].map((v) => [v.name, v.raw]));
    this.datasources = new DatasourceResolver({ directory, variables: this.rawVariables, inputs: this.inputs, requires: json.__requires });
    this.panels = [];
    this.annotations = [];
    this.where = { file, dashboard: { uid: this.uid, title: this.title } };
  }

  path(...p) {
    return [...this.rootPath, ...p];
  }

  // Substitutes variables (formatted as Grafana would) and the macros given
  // ({ __rate_interval: '1m', ... }); unknown names stay as written and are listed.
  substitute(refOrText, macros) {
    const raw = typeof refOrText === 'string' ? refOrText : refOrText.text;
    return substitute(raw, (name, { format }) => {
      if (Object.prototype.hasOwnProperty.call(macros, name)) return macros[name];
      const v = this.variables.get(name);
      if (!v) return undefined;
      const text = v.format(format);
      // An interval variable set to "auto" stands for Grafana's $__interval.
      if (v.type === 'interval' && /^\$__auto_interval/.test(text)) return macros.__interval;
      return text;
    });
  }

  // Resolves the variables' values (see variables.mjs). opts: { overrides, prometheus, range, macros, onProblem }.
  async resolveVariables(opts = {}) {
    const macros = opts.macros || {};
    await this.variables.resolve({ ...opts, substituteIn: (text) => this.substitute(text, macros).text });
  }
}

// The unit of a panel: fieldConfig (Grafana 7+), or the old graph panel's left y axis and
// singlestat's format. A graph that puts series on its right axis (seriesOverrides yaxis: 2)
// has two units: which target gets which is not checked (unitAmbiguous).
function legacyAwareUnit(model) {
  const modern = model.fieldConfig?.defaults?.unit;
  if (modern !== undefined && modern !== null && modern !== '') return { unit: modern, unitAmbiguous: false };
  if (model.type === 'graph' && Array.isArray(model.yaxes) && model.yaxes[0]?.format) {
    const right = (model.seriesOverrides || []).some((o) => o.yaxis === 2);
    return { unit: model.yaxes[0].format, unitAmbiguous: right };
  }
  if (model.type === 'singlestat' && model.format) return { unit: model.format, unitAmbiguous: false };
  return { unit: modern ?? null, unitAmbiguous: false };
}

function loadTarget(dash, panel, doc, path, t, i) {
  const tpath = [...path, 'targets', i];
  const refId = t.refId ?? null;
  const where = { ...panel.where, target: refId ?? `#${i + 1}`, node: doc.position(tpath) };
  // Grafana runs every query of a panel on the panel's datasource unless the panel is "mixed";
  // a target's own datasource counts only then (or when the panel names none).
  const own = t.datasource ? dash.datasources.resolve(t.datasource, null) : null;
  const panelDs = panel.datasource;
  const usePanel = panelDs && panelDs.type !== 'mixed' && !(panelDs.via === 'the default datasource' && own);
  const resolved = usePanel ? panelDs : own || panelDs;
  const overruled = usePanel && own && !own.error && own.type && panelDs.type && own.type !== panelDs.type ? own : null;
  const expr = typeof t.expr === 'string' ? doc.stringRef([...tpath, 'expr']) : null;
  const legend = typeof t.legendFormat === 'string' ? doc.stringRef([...tpath, 'legendFormat']) : null;
  return {
    refId, json: t, node: where.node, where, datasource: resolved, ownDatasource: !!t.datasource, overruledDatasource: overruled, expr, legend, panel,
    instant: t.instant === true || t.format === 'table' && t.instant !== false && t.range === false,
    range: t.range !== false && t.instant !== true,
    interval: t.interval || null, hide: t.hide === true, queryType: t.queryType || null, index: i,
  };
}

function loadPanel(dash, json, doc, path, row, libraryPanels, report) {
  let model = json;
  let mdoc = doc;
  let mpath = path;
  let library = null;
  if (json.libraryPanel && typeof json.libraryPanel === 'object') {
    const { uid, name } = json.libraryPanel;
    const el = dash.json.__elements?.[uid];
    if (el?.model) {
      model = { ...el.model, id: json.id ?? el.model.id, gridPos: json.gridPos ?? el.model.gridPos, title: el.model.title || json.title };
      mpath = dash.path('__elements', uid, 'model');
      library = { uid, name: name || el.name, found: 'export __elements' };
    } else if (libraryPanels.has(uid)) {
      const lp = libraryPanels.get(uid);
      model = { ...lp.model, id: json.id ?? lp.model.id, gridPos: json.gridPos ?? lp.model.gridPos, title: lp.model.title || json.title };
      mdoc = lp.doc;
      mpath = lp.path;
      library = { uid, name: name || lp.name, found: lp.doc.source.label };
    } else {
      library = { uid, name, found: null };
    }
  }
  const identity = panelIdentity(model);
  const where = { ...dash.where, panel: identity, node: doc.position(path) };
  const panel = {
    ...identity, type: model.type || null, row, library, json: model, node: where.node, where, doc: mdoc, path: mpath,
    ...legacyAwareUnit(model),
    description: typeof model.description === 'string' ? model.description : null,
    links: Array.isArray(model.links) ? model.links : [],
    overrides: Array.isArray(model.fieldConfig?.overrides) ? model.fieldConfig.overrides : [],
    interval: model.interval || null, maxDataPoints: model.maxDataPoints || null,
    targets: [], datasource: null,
  };
  if (library && !library.found) {
    report.finding('library-panel', where, `uses library panel uid "${library.uid}"${library.name ? ` ("${library.name}")` : ''}, which is neither in the export's __elements nor in a --library-panel file: export the dashboard with "Export for sharing externally" or pass --library-panel FILE (GET /api/library-elements/${library.uid}); its queries are not checked`);
    panel.missingLibrary = true;
    return panel;
  }
  panel.datasource = dash.datasources.resolve(model.datasource, null);
  const targets = Array.isArray(model.targets) ? model.targets : [];
  panel.targets = targets.map((t, i) => loadTarget(dash, panel, mdoc, mpath, t || {}, i));
  return panel;
}

// Walks panels, rows (collapsed or not, new and pre-5.0 models) and their children.
function collectPanels(dash, libraryPanels, report) {
  const j = dash.json;
  const add = (p, path, row) => {
    if (!p || typeof p !== 'object') return;
    if (p.type === 'row') {
      const r = { title: p.title || '', collapsed: !!p.collapsed };
      (p.panels || []).forEach((c, i) => add(c, [...path, 'panels', i], r));
      dash.currentRow = r;
      return;
    }
    dash.panels.push(loadPanel(dash, p, dash.doc, path, row, libraryPanels, report));
  };
  dash.currentRow = null;
  (Array.isArray(j.panels) ? j.panels : []).forEach((p, i) => {
    if (p?.type === 'row') add(p, dash.path('panels', i), null);
    else add(p, dash.path('panels', i), dash.currentRow);
  });
  (Array.isArray(j.rows) ? j.rows : []).forEach((r, ri) => {
    const row = { title: r.title || '', collapsed: !!r.collapse };
    (r.panels || []).forEach((p, i) => add(p, dash.path('rows', ri, 'panels', i), row));
  });
  delete dash.currentRow;
}

function collectAnnotations(dash) {
  (dash.json.annotations?.list || []).forEach((a, i) => {
    if (!a || typeof a !== 'object') return;
    const path = dash.path('annotations', 'list', i);
    const where = { ...dash.where, annotation: a.name || `#${i + 1}`, node: dash.doc.position(path) };
    dash.annotations.push({
      name: a.name || null, json: a, where, node: where.node,
      builtIn: a.builtIn === 1 || a.builtIn === true,
      datasource: dash.datasources.resolve(a.datasource, null),
      expr: typeof a.expr === 'string' ? dash.doc.stringRef([...path, 'expr']) : typeof a.target?.expr === 'string' ? dash.doc.stringRef([...path, 'target', 'expr']) : null,
    });
  });
}

function attachVariableDatasources(dash) {
  for (const v of dash.variables) {
    if (v.type === 'query') v.datasource = dash.datasources.resolve(v.raw.datasource, null);
    if (v.type === 'datasource') v.datasource = { type: v.query || null };
    v.where = { ...dash.where, variable: v.name, node: v.node };
    v.queryRef = typeof v.raw.query === 'string' ? dash.doc.stringRef(dash.path('templating', 'list', [...dash.variables].indexOf(v), 'query'))
      : typeof v.raw.query?.query === 'string' ? dash.doc.stringRef(dash.path('templating', 'list', [...dash.variables].indexOf(v), 'query', 'query')) : null;
  }
}

// Reads one dashboard file. label: the path as shown in reports. Returns a Dashboard, or null
// (with a finding) when the file is not a dashboard at all.
export async function loadDashboard(file, { label = file, directory, libraryPanels = new Map(), report }) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  return dashboardFromText(label, text, { directory, libraryPanels, report });
}

export function dashboardFromText(label, text, { directory, libraryPanels = new Map(), report }) {
  const parsed = JsonDocument.parse(label, text);
  if (parsed.error) {
    report.finding('dashboard', { file: label, node: { source: parsed.source, offset: parsed.offset } }, parsed.error);
    return null;
  }
  const { doc } = parsed;
  let json = doc.value;
  let rootPath = [];
  if (json && typeof json === 'object' && json.dashboard && typeof json.dashboard === 'object' && !json.panels) {
    json = json.dashboard;
    rootPath = ['dashboard'];
  }
  if (!json || typeof json !== 'object' || Array.isArray(json) || (!Array.isArray(json.panels) && !Array.isArray(json.rows))) {
    report.finding('dashboard', { file: label }, 'is not a Grafana dashboard: no "panels" (or "rows") list');
    return null;
  }
  const dash = new Dashboard(label, doc, rootPath, json, directory);
  attachVariableDatasources(dash);
  collectPanels(dash, libraryPanels, report);
  collectAnnotations(dash);
  return dash;
}
