// run: the truth mode — every panel of every dashboard, evaluated as Grafana would over the run,
// compared window by window with what the run recorded, and a verdict per panel: ok, FAIL (with
// the panel's number, the truth and the window) or not checked (with the reason).
//
// The panel side: Grafana's request (grafana_time.mjs: the step from the panel's resolution and
// min interval, $__interval, $__rate_interval, $__auto) sent to the run's Prometheus as a
// query_range, or evaluated by the LogQL stand-in (logql_eval.mjs) on the lines Alloy would have
// shipped (alloy_standin.mjs). The truth side: the panel's claim (claims.mjs) evaluated over the
// twins (twins.mjs) by promql_bounds.mjs, or by the LogQL stand-in on the same lines. Then
// compare.mjs. Each check also runs once over the whole run (the range macros set to its length).

import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseAlloy } from '../alloy.mjs';
import { allPanels, variables } from '../grafana.mjs';
import { lokiRequest, panelResolution, prometheusRequest } from '../grafana_time.mjs';
import { EntryCache, PipelineError, UnsupportedLogQL, compileLogQL, evalLogQuery, evalMetricRange } from '../logql_eval.mjs';
import { instantQuery, rangeQuery, startPrometheus } from '../prometheus.mjs';
import { alloyLabeler } from './alloy_standin.mjs';
import { claimsFileFor, loadClaims } from './claims.mjs';
import { compareSeries, formatBand, formatFailure, unitConversion } from './compare.mjs';
import { buildModel } from './model.mjs';
import { BoundsEvaluator, UnsupportedPromQL, compilePromQL, selectorsOf } from './promql_bounds.mjs';
import { Twins } from './twins.mjs';

const DATA_PANELS = new Set(['timeseries', 'stat', 'state-timeline', 'gauge', 'bargauge', 'table', 'barchart', 'graph', 'status-history', 'heatmap', 'piechart', 'logs']);

// Substitutes Grafana's macros and the dashboard's variables ($x, ${x}, ${x:fmt}, [[x]]).
export function substituteAll(text, values) {
  const look = (name, whole) => (Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole);
  return text
    .replace(/\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-zA-Z]+)?\}/g, (w, n) => look(n, w))
    .replace(/\[\[([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-zA-Z]+)?\]\]/g, (w, n) => look(n, w))
    .replace(/\$([a-zA-Z_][a-zA-Z0-9_]*)/g, (w, n) => look(n, w));
}

// A variable's value as Grafana interpolates it into a query: a text box as typed (empty
// included), "All" as its custom all value or the regex of every option, several values as a
// regex alternation; --var NAME=VALUE wins.
export function grafanaValue(v, overrides) {
  if (Object.prototype.hasOwnProperty.call(overrides, v.name)) return overrides[v.name];
  const cur = v.current?.value;
  if (v.type === 'datasource') return cur || v.query;
  if (v.type === 'textbox') return String(cur ?? v.query ?? '');
  if (v.type === 'constant') return String(v.query ?? '');
  const list = Array.isArray(cur) ? cur : cur === undefined ? [] : [cur];
  const escape = (x) => String(x).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  if (list.includes('$__all') || (v.includeAll && !list.length)) {
    if (v.allValue) return v.allValue;
    let options = (v.options || []).map((o) => o.value).filter((x) => x !== '$__all');
    if (!options.length && v.type === 'custom') options = String(v.query || '').split(',').map((x) => x.trim()).filter(Boolean);
    return options.length ? `(${options.map(escape).join('|')})` : '.*';
  }
  if (list.length > 1) return `(${list.map(escape).join('|')})`;
  return list.length ? String(list[0]) : '';
}

// The datasource type of a target: the target's own reference, else the panel's, through the
// dashboard's datasource variables; names and uids of provisioned ones when given.
function datasourceType(ref, vars, provisioned) {
  if (!ref) return null;
  if (typeof ref === 'string') {
    const ds = provisioned.find((d) => d.name === ref || d.uid === ref);
    if (ds) return ds.type;
    const m = /^\$\{?([a-zA-Z_]\w*)\}?$/.exec(ref);
    if (m && vars.get(m[1])?.type === 'datasource') return vars.get(m[1]).query;
    return /loki/i.test(ref) ? 'loki' : /prom/i.test(ref) ? 'prometheus' : null;
  }
  if (ref.type && ref.type !== 'datasource') return ref.type;
  const m = /^\$\{?([a-zA-Z_]\w*)\}?$/.exec(ref.uid || '');
  if (m && vars.get(m[1])?.type === 'datasource') return vars.get(m[1]).query;
  const ds = provisioned.find((d) => d.uid === ref.uid);
  return ds ? ds.type : ref.type || null;
}

function unitFor(panel, refId) {
  let unit = panel.fieldConfig?.defaults?.unit || '';
  for (const o of panel.fieldConfig?.overrides || []) {
    if (o.matcher?.id === 'byFrameRefID' && o.matcher.options === refId) {
      const p = (o.properties || []).find((x) => x.id === 'unit');
      if (p) unit = p.value;
    }
  }
  return unit;
}

function hasRangeMacro(text) {
  return /\$\{?__(rate_interval|interval|range|auto)\b/.test(text);
}

async function recordingRules(dir) {
  const rules = [];
  if (!dir) return rules;
  let files = [];
  try {
    files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch {
    return rules;
  }
  for (const f of files) {
    const doc = parseYaml(await readFile(path.join(dir, f), 'utf8'));
    for (const g of doc?.groups || []) for (const r of g.rules || []) if (r.record) rules.push(r);
  }
  return rules;
}

export class TruthRun {
  // opts: { record, provisioned, alloyConfig (text), dashboardWidth, overrides, prometheusBin }
  constructor(opts) {
    this.o = opts;
    this.notes = [];
  }

  async setup() {
    const r = this.o.record;
    this.model = await buildModel(r);
    this.notes.push(...this.model.notes);
    if (r.prometheus.url) {
      this.promUrl = r.prometheus.url;
    } else {
      // A copy: opening a TSDB replays and may compact it; the record stays as it was.
      this.tmp = await mkdtemp(path.join(tmpdir(), 'taskbench-truth-'));
      await cp(r.prometheus.data, path.join(this.tmp, 'data'), { recursive: true });
      await rm(path.join(this.tmp, 'data', 'lock'), { force: true });
      this.prom = await startPrometheus(this.o.prometheusBin || 'prometheus', 30000, {
        dataDir: path.join(this.tmp, 'data'),
        lookbackDelta: `${Math.round(r.prometheus.lookbackMs)}ms`,
      });
      this.promUrl = this.prom.url;
    }
    const { from, to } = r.window;
    this.twins = new Twins({ model: this.model, prometheus: this.promUrl, fetchFromMs: from - 3 * 3600e3, fetchToMs: to + 2 * r.prometheus.scrapeMs, evaluationMs: r.prometheus.evaluationMs });
    this.evaluator = new BoundsEvaluator({ twins: this.twins, lookbackMs: r.prometheus.lookbackMs });
    this.evaluator.defaultSubqueryStep = r.prometheus.evaluationMs;
    this.twins.evaluator = this.evaluator;
    for (const rule of await recordingRules(r.prometheus.rules)) {
      try {
        const ast = compilePromQL(rule.expr);
        this.twins.addRecordingRule(rule.record, ast, selectorsOf(ast));
      } catch (e) {
        this.notes.push(`recording rule ${rule.record} cannot be evaluated over the truth: ${e.message}`);
      }
    }
    // The lines Loki would hold: every service log through the Alloy pipeline.
    this.entries = [];
    if (this.o.alloyConfig) {
      const items = parseAlloy(this.o.alloyConfig);
      for (const s of this.model.services) {
        for (const file of s.logs || []) {
          const label = alloyLabeler(items, file);
          for (const e of s.entries.filter((x) => x.file === file)) {
            const { labels, ts } = label(e.line, e.ts);
            this.entries.push({ ts, line: e.line, labels });
          }
        }
      }
      this.entries.sort((a, b) => a.ts - b.ts);
    }
    this.cache = new EntryCache();
  }

  async close() {
    if (this.prom) await this.prom.stop();
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
  }

  variableValues(dashboard) {
    const vars = variables(dashboard);
    const values = {};
    for (const v of vars.values()) values[v.name] = grafanaValue(v, this.o.overrides || {});
    return { vars, values };
  }

  // Checks one dashboard. Returns { file, uid, title, claimsFile, panels: [...] }.
  async checkDashboard(file, dashboard, claimsOverride) {
    const claimsFile = claimsOverride || (await claimsFileFor(file));
    const claims = claimsFile ? await loadClaims(claimsFile) : null;
    const out = { file, uid: dashboard.uid, title: dashboard.title, claims: claimsFile, panels: [] };
    if (claims && claims.dashboard && claims.dashboard !== dashboard.uid) {
      this.notes.push(`${claimsFile} is for dashboard ${claims.dashboard}, not ${dashboard.uid}: not used`);
    }
    const useClaims = claims && (!claims.dashboard || claims.dashboard === dashboard.uid) ? claims : null;
    const { vars, values } = this.variableValues(dashboard);
    const seenTitles = new Set();
    for (const panel of allPanels(dashboard)) {
      if (panel.type === 'row') continue;
      seenTitles.add(panel.title);
      out.panels.push(await this.checkPanel(panel, vars, values, useClaims?.panels.get(panel.title) || null, !!useClaims));
    }
    if (useClaims) {
      for (const title of useClaims.panels.keys()) {
        if (!seenTitles.has(title)) this.notes.push(`${useClaims.file}: a claim for panel "${title}", which ${file} does not have (renamed?)`);
      }
    }
    return out;
  }

  async checkPanel(panel, vars, values, claims, haveClaims) {
    const res = { id: panel.id, title: panel.title || `#${panel.id}`, type: panel.type, targets: [], verdict: 'not checked', reason: null };
    if (!DATA_PANELS.has(panel.type)) {
      res.reason = `a ${panel.type} panel shows no data`;
      return res;
    }
    if (panel.libraryPanel && !panel.targets) {
      res.reason = `library panel ${panel.libraryPanel.uid} is not resolved (export the dashboard with its library panels)`;
      return res;
    }
    const targets = (panel.targets || []).filter((t) => !t.hide);
    if (!targets.length) {
      res.reason = 'the panel has no query';
      return res;
    }
    for (const t of targets) {
      let claim = claims?.get(t.refId) || null;
      if (!claim && haveClaims) claim = { missing: true };
      res.targets.push(await this.checkTarget(panel, t, vars, values, claim));
    }
    const v = res.targets.map((t) => t.verdict);
    if (v.includes('FAIL')) res.verdict = 'FAIL';
    else if (v.every((x) => x === 'ok')) res.verdict = 'ok';
    else if (v.includes('ok')) {
      res.verdict = 'not checked';
      res.reason = `only ${v.filter((x) => x === 'ok').length} of ${v.length} queries checked: ${res.targets.filter((t) => t.verdict !== 'ok').map((t) => `${t.refId}: ${t.reason}`).join('; ')}`;
    } else {
      res.reason = [...new Set(res.targets.map((t) => t.reason))].join('; ');
    }
    return res;
  }

  async checkTarget(panel, target, vars, values, claim) {
    const r = this.o.record;
    const out = { refId: target.refId, verdict: 'not checked', reason: null, failures: [], windows: 0 };
    const dsType = datasourceType(target.datasource, vars, this.o.provisioned) || datasourceType(panel.datasource, vars, this.o.provisioned);
    out.datasource = dsType;
    if (claim?.none) {
      out.reason = `no ground truth: ${claim.none}`;
      out.claimNone = claim.none;
      return out;
    }
    if (claim?.missing) {
      out.reason = 'its claims file has no claim for this query (add one, or "none" with the reason)';
      return out;
    }
    const unit = unitFor(panel, target.refId);
    out.unit = unit;
    const claimUnit = claim ? claim.unit ?? unit : unit;
    const conv = unitConversion(unit, claimUnit);
    if (conv.error) {
      out.verdict = 'FAIL';
      out.reason = conv.error;
      out.failures.push({ text: conv.error });
      return out;
    }
    if (conv.note) out.note = conv.note;
    const claimExpr = claim ? claim.expr : target.expr;
    out.claim = claimExpr;
    out.derived = !claim;
    const fromMs = r.window.from;
    const toMs = r.window.to;
    const resolution = panelResolution(panel, this.o.dashboardWidth);
    try {
      if (dsType === 'prometheus') return await this.checkPrometheus(panel, target, values, claimExpr, { fromMs, toMs, resolution, factor: conv.factor, out });
      if (dsType === 'loki') return this.checkLoki(panel, target, values, claimExpr, { fromMs, toMs, resolution, factor: conv.factor, out });
    } catch (e) {
      if (e instanceof UnsupportedPromQL || e instanceof UnsupportedLogQL) {
        out.reason = e.message;
        return out;
      }
      throw e;
    }
    out.reason = `a ${dsType || 'unknown'} datasource: only Prometheus and Loki queries are evaluated`;
    return out;
  }

  async checkPrometheus(panel, target, values, claimExpr, { fromMs, toMs, resolution, factor, out }) {
    const r = this.o.record;
    const req = prometheusRequest({
      fromMs,
      toMs,
      resolution,
      panelInterval: panel.interval,
      targetInterval: target.interval,
      intervalFactor: target.intervalFactor,
      scrapeInterval: `${r.prometheus.scrapeMs}ms`,
    });
    const all = { ...values, ...req.macros };
    const query = substituteAll(target.expr, all);
    const claimQuery = substituteAll(claimExpr, all);
    const instant = target.instant === true && target.range !== true;
    out.query = query;
    out.claimQuery = claimQuery;
    out.step = req.step;
    out.rateInterval = req.rateIntervalMs;
    const grid = instant ? { start: toMs, end: toMs, step: 1 } : { start: req.start, end: req.end, step: req.step };
    out.grid = grid;
    // The truth first: a claim that needs what the run did not record is not checked, whatever
    // the panel shows.
    const ast = compilePromQL(claimQuery);
    const sels = selectorsOf(ast);
    await this.twins.prepare(sels);
    const missing = sels.map((s) => s.name).filter((n) => this.twins.missing.has(n));
    if (missing.length) {
      out.reason = `no ground truth for ${[...new Set(missing)].map((n) => `${n} (${this.twins.missing.get(n)})`).join(', ')}`;
      return out;
    }
    let panelSeries;
    try {
      panelSeries = await rangeQuery(this.promUrl, query, grid);
    } catch (e) {
      if (!e.prometheus) throw e;
      out.verdict = 'FAIL';
      out.reason = `Prometheus refuses the query Grafana would send: ${e.message}`;
      out.failures.push({ text: out.reason });
      return out;
    }
    const truth = this.evaluator.evalRange(ast, grid);
    const cmp = compareSeries(panelSeries.map((x) => ({ labels: x.metric, points: x.values })), truth, { factor });
    out.windows = cmp.windows;
    out.series = { panel: panelSeries.map((s) => ({ labels: s.metric, points: s.values })), truth };
    this.judge(out, cmp, req.rateIntervalMs, instant);
    if (!instant && hasRangeMacro(target.expr)) await this.wholeRun(target, values, claimExpr, out, { fromMs, toMs, factor });
    return out;
  }

  // The same check over the whole run as one window: the range macros set to its length, one
  // evaluation at its end. Exact counts show here when the windows' bands are wide.
  async wholeRun(target, values, claimExpr, out, { fromMs, toMs, factor }) {
    const span = Math.ceil((toMs - fromMs) / 1000) * 1000;
    const s = `${span / 1000}s`;
    const macros = { __rate_interval: s, __interval: s, __range: s, __auto: s, __interval_ms: String(span), __rate_interval_ms: String(span), __range_ms: String(span), __range_s: String(span / 1000) };
    const all = { ...values, ...macros };
    const t = fromMs + span;
    const grid = { start: t, end: t, step: 1 };
    let panelSeries;
    try {
      panelSeries = await rangeQuery(this.promUrl, substituteAll(target.expr, all), grid);
    } catch {
      return;
    }
    const ast = compilePromQL(substituteAll(claimExpr, all));
    await this.twins.prepare(selectorsOf(ast));
    const truth = this.evaluator.evalRange(ast, grid);
    const cmp = compareSeries(panelSeries.map((x) => ({ labels: x.metric, points: x.values })), truth, { factor });
    out.wholeRun = {
      span,
      ok: cmp.failures.length === 0,
      panel: panelSeries.map((x) => ({ labels: x.metric, value: x.values[0]?.[1] })),
      truth: truth.map((x) => ({ labels: x.labels, band: x.points[0]?.[1] })),
      failures: cmp.failures.slice(0, 5).map((f) => formatFailure(f, span)),
    };
    if (!out.wholeRun.ok) {
      out.verdict = 'FAIL';
      out.failures.push({ text: `over the whole run (${span / 1000} s): ${out.wholeRun.failures[0]}` });
    }
  }

  checkLoki(panel, target, values, claimExpr, { fromMs, toMs, resolution, factor, out }) {
    if (!this.entries.length) {
      out.reason = 'no log lines: the record names no log, or no Alloy configuration says how they reach Loki';
      return out;
    }
    const instant = target.queryType === 'instant';
    const req = lokiRequest({ fromMs, toMs, resolution, panelInterval: panel.interval, lokiResolution: target.resolution, targetStep: target.step, instant });
    const all = { ...values, ...req.macros };
    const query = substituteAll(target.expr, all);
    const claimQuery = substituteAll(claimExpr, all);
    out.query = query;
    out.claimQuery = claimQuery;
    out.step = req.step;
    const q = compileLogQL(query);
    const c = compileLogQL(claimQuery);
    if (q.kind === 'log' || panel.type === 'logs') {
      return this.compareLogLines(panel, q, c, { fromMs, toMs, resolution, out });
    }
    const grid = instant ? { start: toMs, end: toMs, step: 1 } : { start: req.start, end: req.end, step: req.step };
    out.grid = grid;
    let truth;
    try {
      truth = evalMetricRange(c, this.entries, { ...grid, cache: this.cache });
    } catch (e) {
      if (e instanceof PipelineError) {
        out.reason = `its claim fails in Loki: ${e.message}`;
        return out;
      }
      throw e;
    }
    let panelSeries;
    try {
      panelSeries = evalMetricRange(q, this.entries, { ...grid, cache: this.cache });
    } catch (e) {
      if (!(e instanceof PipelineError)) throw e;
      out.verdict = 'FAIL';
      out.reason = `Loki would refuse it: ${e.message}`;
      out.failures.push({ text: out.reason });
      return out;
    }
    const exact = truth.map((s) => ({ labels: s.labels, points: s.points.map(([t, v]) => [t, { lo: v, hi: v, maybe: false }]) }));
    const cmp = compareSeries(panelSeries, exact, { factor });
    out.windows = cmp.windows;
    out.series = { panel: panelSeries, truth: exact };
    this.judge(out, cmp, null, instant);
    return out;
  }

  // A logs panel: the lines its query selects against the lines its claim selects, in the
  // panel's time buckets (exact: both read the same lines).
  compareLogLines(panel, q, c, { fromMs, toMs, resolution, out }) {
    if (q.kind !== 'log' || c.kind !== 'log') {
      out.reason = 'a logs panel needs a log query (and a log query claim)';
      return out;
    }
    const shown = evalLogQuery(q, this.entries, { start: fromMs, end: toMs, cache: this.cache }).entries;
    const truth = evalLogQuery(c, this.entries, { start: fromMs, end: toMs, cache: this.cache }).entries;
    const req = lokiRequest({ fromMs, toMs, resolution });
    const bucket = Math.max(1000, req.intervalMs);
    const count = (list) => {
      const m = new Map();
      for (const e of list) {
        const b = Math.floor(e.ts / bucket) * bucket;
        m.set(b, (m.get(b) || 0) + 1);
      }
      return m;
    };
    const a = count(shown);
    const b = count(truth);
    const keys = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => x - y);
    const shownSet = new Set(shown.map((e) => e.source));
    const truthSet = new Set(truth.map((e) => e.source));
    const extra = shown.filter((e) => !truthSet.has(e.source));
    const lost = truth.filter((e) => !shownSet.has(e.source));
    out.windows = keys.length;
    out.lines = { panel: shown.length, truth: truth.length, extra: extra.length, missing: lost.length, bucketMs: bucket };
    out.series = {
      panel: [{ labels: { lines: 'shown' }, points: keys.map((k) => [k, a.get(k) || 0]) }],
      truth: [{ labels: { lines: 'shown' }, points: keys.map((k) => [k, { lo: b.get(k) || 0, hi: b.get(k) || 0, maybe: false }]) }],
    };
    for (const k of keys) {
      if ((a.get(k) || 0) !== (b.get(k) || 0)) {
        out.failures.push({ text: `${new Date(k).toISOString().slice(11, 23)}..+${bucket / 1000}s: panel ${a.get(k) || 0} lines, truth ${b.get(k) || 0}` });
      }
    }
    if (extra.length || lost.length) {
      out.verdict = 'FAIL';
      const sample = (extra[0] || lost[0]).line.slice(0, 160);
      out.reason = `${shown.length} lines where the claim selects ${truth.length} (${extra.length} that should not be there, ${lost.length} missing; e.g. ${extra.length ? 'shown' : 'missing'}: ${sample})`;
    } else {
      out.verdict = 'ok';
    }
    return out;
  }

  judge(out, cmp, windowMs, instant) {
    if (!cmp.failures.length) {
      out.verdict = cmp.windows ? 'ok' : 'ok';
      if (!cmp.windows) out.empty = true;
      return;
    }
    out.verdict = 'FAIL';
    for (const f of cmp.failures.slice(0, 5)) out.failures.push({ text: formatFailure(f, instant ? null : windowMs), t: f.t, panel: f.panel, truth: f.truth });
    out.failedWindows = cmp.failures.length;
  }
}

// Formats a target's one-line summary.
export function describeTarget(t) {
  if (t.verdict === 'ok') {
    const whole = t.wholeRun ? `; whole run: ${t.wholeRun.truth.map((x) => formatBand(x.band)).join(', ') || 'nothing'}` : '';
    const lines = t.lines ? `${t.lines.panel} lines as claimed` : `${t.windows} points within the truth${t.empty ? ' (nothing to show, as the truth says)' : ''}`;
    return `${t.refId}: ${lines}${whole}${t.derived ? ' (against its own query: no claim)' : ''}`;
  }
  if (t.verdict === 'FAIL') {
    const head = t.failures[0]?.text || t.reason;
    const more = t.failedWindows > 1 ? `; ${t.failedWindows} of ${t.windows} points off` : '';
    return `${t.refId}: ${t.reason && !t.failures[0]?.t ? t.reason : head}${more}`;
  }
  return `${t.refId}: not checked: ${t.reason}`;
}
