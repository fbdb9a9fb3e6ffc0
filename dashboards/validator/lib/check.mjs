// check: the static validation of dashboard files — every rule a panel must pass before anyone
// opens Grafana.
//
// For each dashboard: uid/title/schema, template variables, and for each panel its description,
// unit, runbook links and datasource; for each Prometheus target: parses with Prometheus's parser,
// names only metrics a live scrape shows (with the labels it matches on), rate() over counters,
// histogram_quantile() keeping le, $__rate_interval ranges, filters by the dashboard's job and
// instance variables; for each Loki target: parses with Grafana's LogQL grammar, selects streams
// by labels the collector sets and filters on fields taskd logs.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  Findings, allPanels, panelWhere, resolveDatasource, runbookLinks, substitute, unitProblem, variableValue, variables,
} from './grafana.mjs';
import { inspectLogQL } from './logql.mjs';
import { formatQuery } from './prometheus.mjs';
import { inspectPromQL, literalRateRanges } from './promql.mjs';
import { SYNTHETIC_METRICS, TARGET_LABELS, guessType } from './scrape.mjs';

// Metrics whose selectors need not carry the dashboard's job/instance filter: they describe
// alerts, not one target.
const UNFILTERED_METRICS = new Set(['ALERTS', 'ALERTS_FOR_STATE']);

function levenshtein(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

export function didYouMean(name, candidates) {
  let best = null;
  let bestDist = Infinity;
  for (const c of candidates) {
    const dist = levenshtein(name, c);
    if (dist < bestDist) {
      best = c;
      bestDist = dist;
    }
  }
  return best !== null && bestDist <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean ${best}?)` : '';
}

export class StaticChecker {
  // opts: { taskd, loadgen (Inventory|null), provisioned: [{uid,type,name}], runbookAnchors:
  // Set|null, records: Set, lokiLabels: Set, logFields: Set|null, parserUrl: string|null }
  constructor(opts) {
    this.o = opts;
    this.f = new Findings();
    this.promQueries = []; // { where, text }
    this.uids = new Map();
    this.titles = new Map();
    this.stats = { dashboards: 0, panels: 0, promql: 0, logql: 0, skippedLoadgen: new Set() };
  }

  metricInfo(name) {
    if (SYNTHETIC_METRICS.has(name)) return { type: SYNTHETIC_METRICS.get(name), labels: null };
    if (this.o.records.has(name)) return { type: 'gauge', labels: null };
    for (const inv of [this.o.taskd, this.o.loadgen]) {
      if (inv && inv.has(name)) {
        const e = inv.get(name);
        return { type: e.type, labels: e.sampled ? e.labels : null };
      }
    }
    return null;
  }

  typeOf(name) {
    const info = this.metricInfo(name);
    return info ? info.type : guessType(name);
  }

  hasLe(name) {
    const info = this.metricInfo(name);
    if (info && info.labels) return info.labels.has('le');
    return name.endsWith('_bucket');
  }

  checkMetric(where, sel, dashboardVars) {
    const { name } = sel;
    if (!name) {
      this.f.error(where, `selector ${sel.text} names no metric: select a metric by name`);
      return;
    }
    const info = this.metricInfo(name);
    if (!info) {
      if (name.startsWith('loadgen_') && !this.o.loadgen) {
        this.stats.skippedLoadgen.add(name);
        return;
      }
      const scrapes = this.o.loadgen ? 'the taskd and loadgen scrapes' : 'the taskd scrape';
      const candidates = [...this.o.taskd.names(), ...(this.o.loadgen ? this.o.loadgen.names() : []), ...this.o.records];
      this.f.error(where, `metric ${name} not found in ${scrapes}${didYouMean(name, candidates)}`);
      return;
    }
    if (info.labels) {
      for (const m of sel.matchers) {
        if (m.label === '__name__' || TARGET_LABELS.has(m.label) || info.labels.has(m.label)) continue;
        const known = [...info.labels].sort();
        this.f.error(where, `${name} has no label "${m.label}" in the scrape (its labels: ${known.join(', ') || 'none'})${didYouMean(m.label, known)}`);
      }
    }
    if (!UNFILTERED_METRICS.has(name)) {
      const filters = (label) => sel.matchers.some((m) => m.label === label && /tbvar_/.test(m.value));
      if (!filters('job')) this.f.error(where, `selector ${sel.text} does not filter by the dashboard's job variable: add job=~"$job"`);
      const isLoadgen = name.startsWith('loadgen_');
      if (!isLoadgen && dashboardVars.has('instance') && !filters('instance')) {
        this.f.error(where, `selector ${sel.text} does not filter by the dashboard's instance variable: add instance=~"$instance"`);
      }
    }
  }

  checkPromTarget(where, raw, values, dashboardVars) {
    const { text, unknown } = substitute(raw, values);
    for (const u of unknown) this.f.error(where, `uses $${u}, which is neither a Grafana macro nor a variable of this dashboard`);
    for (const p of literalRateRanges(raw)) this.f.error(where, p);
    this.stats.promql++;
    this.promQueries.push({ where, text });
    const r = inspectPromQL(text, { typeOf: (n) => this.typeOf(n), hasLe: (n) => this.hasLe(n) });
    if (r.syntax.length) {
      // Prometheus's own parser has the last word when it runs; without it, this is the verdict.
      if (!this.o.parserUrl) for (const s of r.syntax) this.f.error(where, `PromQL does not parse (lezer-promql): ${s}: ${text}`);
      return;
    }
    for (const sel of r.selectors) this.checkMetric(where, sel, dashboardVars);
    for (const p of r.problems) this.f.error(where, p);
  }

  checkLokiTarget(where, raw, values) {
    const { text, unknown } = substitute(raw, values);
    for (const u of unknown) this.f.error(where, `uses $${u}, which is neither a Grafana macro nor a variable of this dashboard`);
    this.stats.logql++;
    const r = inspectLogQL(text);
    if (r.syntax.length) {
      for (const s of r.syntax) this.f.error(where, `LogQL does not parse (@grafana/lezer-logql): ${s}: ${text}`);
      return;
    }
    for (const l of r.streamLabels) {
      if (!this.o.lokiLabels.has(l)) {
        this.f.error(where, `stream selector uses label "${l}", which the log collector does not set (labels: ${[...this.o.lokiLabels].join(', ')}); filter on it after | json instead`);
      }
    }
    if (r.fields.size && !r.parsers.has('json') && !r.parsers.has('logfmt')) {
      this.f.error(where, `filters on ${[...r.fields].join(', ')} without a parser: add | json after the stream selector`);
    }
    if (this.o.logFields) {
      for (const field of r.fields) {
        if (field.startsWith('__') || this.o.lokiLabels.has(field) || this.o.logFields.has(field)) continue;
        const hint = didYouMean(field, [...this.o.logFields]) || ' (fields written only on errors need a log of a run with a fault: --taskd-log may be repeated)';
        this.f.error(where, `field "${field}" is not in taskd's log lines${hint}`);
      }
    }
  }

  checkTargets(file, panel, ds, vars, values) {
    const targets = panel.targets || [];
    if (targets.length === 0) this.f.error(panelWhere(file, panel), 'has no query targets');
    const refIds = new Set();
    for (const t of targets) {
      const where = panelWhere(file, panel, t.refId ?? '?');
      if (!t.refId) this.f.error(where, 'has no refId');
      else if (refIds.has(t.refId)) this.f.error(where, `refId ${t.refId} is used twice in this panel`);
      refIds.add(t.refId);
      let tds = ds;
      if (t.datasource) {
        tds = resolveDatasource(t.datasource, vars, this.o.provisioned);
        if (tds.error) {
          this.f.error(where, `target datasource ${tds.error}`);
          continue;
        }
      }
      if (!tds || tds.error) continue;
      if (typeof t.expr !== 'string' || t.expr.trim() === '') {
        this.f.error(where, 'has no expr');
        continue;
      }
      if (tds.type === 'prometheus') this.checkPromTarget(where, t.expr, values, vars);
      else if (tds.type === 'loki') this.checkLokiTarget(where, t.expr, values);
      else this.f.error(where, `queries a ${tds.type} datasource, which this validator cannot check`);
    }
  }

  checkPanel(file, panel, vars, values, panelIds) {
    const where = panelWhere(file, panel);
    if (panel.type === 'row') return;
    this.stats.panels++;
    if (panel.id === undefined) this.f.error(where, 'has no id');
    else if (panelIds.has(panel.id)) this.f.error(where, `id ${panel.id} is used by another panel of this dashboard`);
    panelIds.add(panel.id);
    if (!panel.title) this.f.error(where, 'has no title');
    if (!panel.gridPos) this.f.error(where, 'has no gridPos');
    if (typeof panel.description !== 'string' || panel.description.trim().length < 10) {
      this.f.error(where, 'has no description: say what the panel shows and how to read it');
    }
    const unit = unitProblem(panel);
    if (unit) this.f.error(where, unit);
    const links = runbookLinks(panel);
    if (links.length === 0) this.f.error(where, 'has no runbook link: add a panel link to docs/runbooks.md#<alert>');
    if (this.o.runbookAnchors) {
      for (const l of links) {
        if (l.anchor && !this.o.runbookAnchors.has(l.anchor)) {
          this.f.error(where, `links to runbooks.md#${l.anchor}, but docs/runbooks.md has no such heading${didYouMean(l.anchor, [...this.o.runbookAnchors])}`);
        }
      }
    }
    if (panel.type === 'text') return;
    const ds = resolveDatasource(panel.datasource, vars, this.o.provisioned);
    if (ds.error) {
      this.f.error(where, `panel datasource ${ds.error}`);
      return;
    }
    this.checkTargets(file, panel, ds, vars, values);
  }

  checkVariables(file, vars, values, hasProm) {
    const where = `${file} variables`;
    const dsVars = [...vars.values()].filter((v) => v.type === 'datasource');
    if (hasProm) {
      if (!dsVars.some((v) => v.query === 'prometheus')) this.f.error(where, 'no datasource variable of type prometheus (name it "datasource")');
      for (const name of ['job', 'instance']) if (!vars.has(name)) this.f.error(where, `no "${name}" variable`);
    }
    for (const v of dsVars) {
      const uid = v.current?.value;
      const ds = this.o.provisioned.find((d) => d.uid === uid);
      if (!ds) this.f.error(`${where} $${v.name}`, `defaults to datasource uid "${uid}", which is not provisioned`);
      else if (ds.type !== v.query) this.f.error(`${where} $${v.name}`, `selects ${v.query} but defaults to "${uid}", a ${ds.type} datasource`);
    }
    for (const v of vars.values()) {
      if (v.type !== 'query') continue;
      const w = `${file} variable $${v.name}`;
      const ds = resolveDatasource(v.datasource, vars, this.o.provisioned);
      if (ds.error) {
        this.f.error(w, `datasource ${ds.error}`);
        continue;
      }
      const q = typeof v.query === 'string' ? v.query : v.query?.query;
      const m = /^\s*label_values\(\s*(.+?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(q || '');
      if (ds.type !== 'prometheus' || !m) {
        this.f.error(w, `query "${q}" is not label_values(selector, label) on Prometheus, which this validator checks`);
        continue;
      }
      const { text } = substitute(m[1], values);
      this.promQueries.push({ where: w, text });
      const r = inspectPromQL(text, { typeOf: (n) => this.typeOf(n), hasLe: (n) => this.hasLe(n) });
      for (const sel of r.selectors) {
        const info = sel.name ? this.metricInfo(sel.name) : null;
        if (!info) {
          if ((sel.name || '').startsWith('loadgen_') && !this.o.loadgen) this.stats.skippedLoadgen.add(sel.name);
          else this.f.error(w, `metric ${sel.name} not found in the ${this.o.loadgen ? 'taskd and loadgen scrapes' : 'taskd scrape'}`);
        }
        const label = m[2];
        if (info && info.labels && !TARGET_LABELS.has(label) && !info.labels.has(label)) {
          this.f.error(w, `${sel.name} has no label "${label}"`);
        }
      }
    }
  }

  checkAnnotations(file, dashboard, vars, values) {
    for (const a of dashboard.annotations?.list || []) {
      const where = `${file} annotation "${a.name}"`;
      const ds = resolveDatasource(a.datasource, vars, this.o.provisioned);
      if (ds.error) {
        this.f.error(where, `datasource ${ds.error}`);
        continue;
      }
      if (ds.type === 'prometheus') {
        if (!a.expr) this.f.error(where, 'has no expr');
        else this.checkPromTarget(where, a.expr, values, vars);
      }
    }
  }

  async checkFile(file) {
    const rel = path.relative(process.cwd(), file);
    const label = rel && !rel.startsWith('..') ? rel : file;
    let dashboard;
    try {
      dashboard = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      this.f.error(label, `is not a readable JSON dashboard: ${e.message}`);
      return;
    }
    this.stats.dashboards++;
    if (typeof dashboard.uid !== 'string' || !/^[a-zA-Z0-9_-]{1,40}$/.test(dashboard.uid)) {
      this.f.error(label, 'needs a fixed uid (1–40 letters, digits, - or _) so links and provisioning stay stable');
    } else if (this.uids.has(dashboard.uid)) {
      this.f.error(label, `uid "${dashboard.uid}" is also used by ${this.uids.get(dashboard.uid)}`);
    } else this.uids.set(dashboard.uid, label);
    if (!dashboard.title) this.f.error(label, 'has no title');
    else if (this.titles.has(dashboard.title)) this.f.error(label, `title "${dashboard.title}" is also used by ${this.titles.get(dashboard.title)}`);
    else this.titles.set(dashboard.title, label);
    if (!(Number(dashboard.schemaVersion) >= 36)) this.f.error(label, `schemaVersion ${dashboard.schemaVersion} is older than 36 (Grafana 9.3)`);
    if (dashboard.id !== null && dashboard.id !== undefined) this.f.error(label, `has "id": ${dashboard.id}; provisioned dashboards need "id": null`);

    const vars = variables(dashboard);
    const values = (name) => {
      const v = vars.get(name);
      return v ? variableValue(v, { placeholders: true }) : undefined;
    };
    const panels = allPanels(dashboard);
    const hasProm = panels.some((p) => {
      const ds = resolveDatasource(p.datasource, vars, this.o.provisioned);
      return ds.type === 'prometheus';
    });
    this.checkVariables(label, vars, values, hasProm);
    this.checkAnnotations(label, dashboard, vars, values);
    const panelIds = new Set();
    for (const p of panels) this.checkPanel(label, p, vars, values, panelIds);
  }

  // Parses every collected query with Prometheus, a few at a time.
  async parseWithPrometheus() {
    if (!this.o.parserUrl) return;
    const queue = [...this.promQueries];
    const worker = async () => {
      while (queue.length) {
        const q = queue.shift();
        const r = await formatQuery(this.o.parserUrl, q.text);
        if (!r.ok) this.f.error(q.where, `PromQL does not parse (Prometheus): ${r.error}: ${q.text}`);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
  }

  async run(files) {
    for (const file of files) await this.checkFile(file);
    await this.parseWithPrometheus();
    if (this.stats.skippedLoadgen.size) {
      this.f.note('loadgen metrics', `not checked against a scrape (no --loadgen-scrape given): ${[...this.stats.skippedLoadgen].sort().join(', ')}`);
    }
    if (!this.o.runbookAnchors) this.f.note('runbook links', 'anchors not checked: docs/runbooks.md not found');
    if (!this.o.logFields) this.f.note('LogQL fields', 'not checked against taskd\'s log lines (no --taskd-log given)');
    return this.f;
  }
}
