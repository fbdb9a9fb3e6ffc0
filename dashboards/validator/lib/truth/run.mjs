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
import { loadRuleFiles } from '../alerts/rule_set.mjs';
import { parseAlloy } from '../alloy.mjs';
import { lokiRequest, panelResolution, prometheusRequest } from '../grafana_time.mjs';
import { EntryCache, PipelineError, UnsupportedLogQL, compileLogQL, evalLogQuery, evalMetricRange } from '../logql_eval.mjs';
import { httpGet } from '../http.mjs';
import { rangeQuery, startPrometheus } from '../prometheus.mjs';
import { AlertTruth } from './alert_truth.mjs';
import { alloyLabeler } from './alloy_standin.mjs';
import { compareSeries, formatBand, formatFailure, unitConversion } from './compare.mjs';
import { buildModel } from './model.mjs';
import { BoundsEvaluator, UnsupportedPromQL, compilePromQL, selectorsOf } from './promql_bounds.mjs';
import { Twins } from './twins.mjs';

// What stands in for the parts that cannot run here, said in every report.
export const STANDINS = {
  grafana: 'lib/grafana_time.mjs computes each query as Grafana 10/11 sends it: the step from the panel\'s max data points (or its width) and min interval, $__interval, $__rate_interval = max($__interval + scrape interval, 4 x scrape interval), $__range, Loki\'s $__auto, the range aligned to the step; variables come from the run\'s Prometheus (label_values) as Grafana finds them',
  loki: 'lib/logql_eval.mjs evaluates LogQL with Loki\'s semantics (windows (t - range, t], rate = count / range, | json with _extracted renames, numeric filters, unwrap, quantile_over_time, the pipeline error) over the lines Alloy would have shipped (lib/truth/alloy_standin.mjs applies stack/alloy/config.alloy\'s stages to the log file)',
  prometheus: 'the run\'s own Prometheus (reopened from its data directory) answers the panels\' queries; the truth side is lib/truth/promql_bounds.mjs, PromQL over intervals, which agrees with Prometheus 2.42 point for point on exact inputs',
};

const DATA_PANELS = new Set(['timeseries', 'stat', 'state-timeline', 'gauge', 'bargauge', 'table', 'barchart', 'graph', 'status-history', 'heatmap', 'piechart', 'logs']);

// The unit a target's numbers are shown in: the panel's, or a per-query override.
function unitFor(panel, refId) {
  let unit = panel.unit || '';
  for (const o of panel.overrides || []) {
    if (o.matcher?.id === 'byFrameRefID' && o.matcher.options === refId) {
      const p = (o.properties || []).find((x) => x.id === 'unit');
      if (p) unit = p.value;
    }
  }
  return unit;
}

async function answers(url) {
  try {
    return (await httpGet(`${url}/-/ready`, 2000)).status === 200;
  } catch {
    return false;
  }
}

function hasRangeMacro(text) {
  return /\$\{?__(rate_interval|interval|range|auto)\b/.test(text);
}

// The rule files the run's Prometheus evaluated (the record's prometheus.rules, loaded in the
// glob's sorted order, as Prometheus does): { groups } or { groups: [], error }.
async function runRules(dir) {
  if (!dir) return { groups: [] };
  try {
    const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
    return { groups: await loadRuleFiles(files.map((f) => path.join(dir, f)), { labels: files }) };
  } catch (e) {
    return { groups: [], error: e.message };
  }
}

export class TruthRun {
  // opts: { record, provisioned, alloyConfig (text), dashboardWidth, overrides, prometheusBin }
  constructor(opts) {
    this.o = opts;
    this.notes = [];
    this.memo = new Map(); // the same query over the same grid (a dashboard and its copies) is evaluated once
  }

  async once(key, fn) {
    if (!this.memo.has(key)) this.memo.set(key, fn().catch((e) => ({ error: e })));
    const v = await this.memo.get(key);
    if (v && v.error) throw v.error;
    return v;
  }

  // A LogQL query over the lines, once per text and grid: { value } or { error } (a PipelineError).
  logRange(text, grid) {
    const key = `loki|${text}|${grid.start}|${grid.end}|${grid.step}`;
    if (!this.memo.has(key)) {
      try {
        this.memo.set(key, { value: evalMetricRange(compileLogQL(text), this.entries, { ...grid, cache: this.cache }) });
      } catch (e) {
        this.memo.set(key, { error: e });
      }
    }
    return this.memo.get(key);
  }

  panelRange(query, grid) {
    return this.once(`prom|${query}|${grid.start}|${grid.end}|${grid.step}`, () => rangeQuery(this.promUrl, query, grid));
  }

  async truthRange(claimQuery, grid) {
    return this.once(`truth|${claimQuery}|${grid.start}|${grid.end}|${grid.step}`, async () => {
      const ast = compilePromQL(claimQuery);
      const sels = selectorsOf(ast);
      await this.twins.prepare(sels);
      const missing = [...new Set(sels.map((x) => x.name).filter((n) => this.twins.missing.has(n)))];
      if (missing.length) return { missing };
      return { series: this.evaluator.evalRange(ast, grid) };
    });
  }

  async setup() {
    const r = this.o.record;
    this.model = await buildModel(r);
    this.notes.push(...this.model.notes);
    if (r.prometheus.url && (!r.prometheus.data || (await answers(r.prometheus.url)))) {
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
    const rules = await runRules(r.prometheus.rules);
    if (rules.error) this.notes.push(`the run's rule files (${r.prometheus.rules}) cannot be read: ${rules.error}`);
    for (const rule of rules.groups.flatMap((g) => g.rules).filter((x) => x.kind === 'record')) {
      try {
        const ast = compilePromQL(rule.expr);
        this.twins.addRecordingRule(rule.name, ast, selectorsOf(ast));
      } catch (e) {
        this.notes.push(`recording rule ${rule.name} cannot be evaluated over the truth: ${e.message}`);
      }
    }
    if (r.prometheus.rules) this.twins.alerts = new AlertTruth({ twins: this.twins, record: r, groups: rules.groups, error: rules.error });
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

  // Checks one dashboard (a Dashboard of dashboard_model.mjs). claims: a loaded claims file for it,
  // or null (each query is then held to itself). Returns { file, uid, title, claims, panels }.
  async checkDashboard(dash, claims) {
    const out = { file: dash.file, uid: dash.uid, title: dash.title, claims: claims?.file || null, panels: [] };
    await dash.resolveVariables({
      overrides: this.o.overrides || {},
      prometheus: this.promUrl,
      range: { start: this.o.record.window.from / 1000, end: this.o.record.window.to / 1000 },
      onProblem: (v, m) => this.notes.push(`${dash.file} variable $${v.name}: ${m}`),
    });
    const seen = new Set();
    for (const panel of dash.panels) {
      seen.add(panel.title);
      out.panels.push(await this.checkPanel(dash, panel, claims?.panels.get(panel.title) || null, !!claims));
    }
    for (const title of claims ? claims.panels.keys() : []) {
      if (!seen.has(title)) this.notes.push(`${claims.file}: a claim for panel "${title}", which ${dash.file} does not have (renamed?)`);
    }
    return out;
  }

  async checkPanel(dash, panel, claims, haveClaims) {
    const res = { id: panel.id, title: panel.title, type: panel.type, where: panel.where, targets: [], verdict: 'not checked', reason: null };
    if (panel.missingLibrary) {
      res.reason = `library panel ${panel.library.uid} is not in the export (pass --library-panel FILE)`;
      return res;
    }
    if (!DATA_PANELS.has(panel.type)) {
      res.reason = `a ${panel.type} panel shows no query results`;
      return res;
    }
    const targets = panel.targets.filter((t) => !t.hide);
    if (!targets.length) {
      res.reason = 'the panel has no query';
      return res;
    }
    for (const t of targets) {
      let claim = claims?.get(t.refId) || null;
      if (!claim && haveClaims) claim = { missing: true };
      res.targets.push(await this.checkTarget(dash, panel, t, claim));
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

  async checkTarget(dash, panel, target, claim) {
    const r = this.o.record;
    const out = { refId: target.refId, where: target.where, verdict: 'not checked', reason: null, failures: [], windows: 0 };
    const ds = target.datasource || panel.datasource;
    const dsType = ds && !ds.error ? ds.type : null;
    out.datasource = dsType;
    out.means = claim?.means || null;
    if (claim?.none) {
      out.reason = `no ground truth: ${claim.none}`;
      out.claimNone = claim.none;
      return out;
    }
    if (claim?.missing) {
      out.reason = 'its claims file has no claim for this query (add one, or "none" with the reason)';
      return out;
    }
    if (!target.expr) {
      out.reason = 'the query has no expression';
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
    out.factor = conv.factor;
    out.claimUnit = claimUnit;
    const claimExpr = claim ? claim.expr : target.expr.text;
    out.claim = claimExpr;
    out.derived = !claim;
    const fromMs = r.window.from;
    const toMs = r.window.to;
    const resolution = panelResolution({ maxDataPoints: panel.maxDataPoints, gridPos: panel.json.gridPos }, this.o.dashboardWidth);
    const ctx = { dash, panel, target, claimExpr, fromMs, toMs, resolution, factor: conv.factor, out };
    try {
      if (dsType === 'prometheus') return await this.checkPrometheus(ctx);
      if (dsType === 'loki') return this.checkLoki(ctx);
    } catch (e) {
      if (e instanceof UnsupportedPromQL || e instanceof UnsupportedLogQL) {
        out.reason = e.message;
        return out;
      }
      throw e;
    }
    out.reason = ds?.error ? `its datasource: ${ds.error}` : `a ${dsType || 'unknown'} datasource: only Prometheus and Loki queries are evaluated`;
    return out;
  }

  async checkPrometheus({ dash, panel, target, claimExpr, fromMs, toMs, resolution, factor, out }) {
    const r = this.o.record;
    const req = prometheusRequest({
      fromMs,
      toMs,
      resolution,
      panelInterval: panel.interval,
      targetInterval: target.interval,
      intervalFactor: target.json.intervalFactor,
      scrapeInterval: `${r.prometheus.scrapeMs}ms`,
    });
    const query = dash.substitute(target.expr, req.macros).text;
    const claimQuery = dash.substitute(claimExpr, req.macros).text;
    const instant = target.instant && !target.range;
    out.query = query;
    out.claimQuery = claimQuery;
    out.step = req.step;
    out.rateInterval = req.rateIntervalMs;
    const grid = instant ? { start: toMs, end: toMs, step: 1 } : { start: req.start, end: req.end, step: req.step };
    out.grid = grid;
    // The truth first: a claim that needs what the run did not record is not checked, whatever
    // the panel shows.
    const tr = await this.truthRange(claimQuery, grid);
    if (tr.missing) {
      out.reason = `no ground truth for ${tr.missing.map((n) => `${n} (${this.twins.missing.get(n)})`).join(', ')}`;
      return out;
    }
    let panelSeries;
    try {
      panelSeries = await this.panelRange(query, grid);
    } catch (e) {
      if (!e.prometheus) throw e;
      out.verdict = 'FAIL';
      out.reason = `Prometheus refuses the query Grafana would send: ${e.message}`;
      out.failures.push({ text: out.reason });
      return out;
    }
    const truth = tr.series;
    const cmp = compareSeries(panelSeries.map((x) => ({ labels: x.metric, points: x.values })), truth, { factor });
    out.windows = cmp.windows;
    out.series = { panel: panelSeries.map((s) => ({ labels: s.metric, points: s.values })), truth };
    this.judge(out, cmp, req.rateIntervalMs, instant);
    if (!instant && hasRangeMacro(target.expr.text)) await this.wholeRun({ dash, target, claimExpr, out, fromMs, toMs, factor });
    return out;
  }

  // The same check over the whole run as one window: the range macros set to its length, one
  // evaluation at its end. Exact counts show here when the windows' bands are wide.
  async wholeRun({ dash, target, claimExpr, out, fromMs, toMs, factor }) {
    const span = Math.ceil((toMs - fromMs) / 1000) * 1000;
    const s = `${span / 1000}s`;
    const macros = { __rate_interval: s, __interval: s, __range: s, __auto: s, __interval_ms: String(span), __rate_interval_ms: String(span), __range_ms: String(span), __range_s: String(span / 1000) };
    const t = fromMs + span;
    const grid = { start: t, end: t, step: 1 };
    let panelSeries;
    try {
      panelSeries = await this.panelRange(dash.substitute(target.expr, macros).text, grid);
    } catch {
      return;
    }
    const tr = await this.truthRange(dash.substitute(claimExpr, macros).text, grid);
    if (tr.missing) return;
    const truth = tr.series;
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

  checkLoki({ dash, panel, target, claimExpr, fromMs, toMs, resolution, factor, out }) {
    if (!this.entries.length) {
      out.reason = 'no log lines: the record names no log, or no Alloy configuration says how they reach Loki';
      return out;
    }
    const instant = target.queryType === 'instant';
    const req = lokiRequest({ fromMs, toMs, resolution, panelInterval: panel.interval, lokiResolution: target.json.resolution, targetStep: target.json.step, instant });
    const query = dash.substitute(target.expr, req.macros).text;
    const claimQuery = dash.substitute(claimExpr, req.macros).text;
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
    const t = this.logRange(claimQuery, grid);
    if (t.error) {
      if (!(t.error instanceof PipelineError)) throw t.error;
      out.reason = `its claim fails in Loki: ${t.error.message}`;
      return out;
    }
    const truth = t.value;
    const p = this.logRange(query, grid);
    if (p.error) {
      if (!(p.error instanceof PipelineError)) throw p.error;
      out.verdict = 'FAIL';
      out.reason = `Loki would refuse it: ${p.error.message}`;
      out.failures.push({ text: out.reason });
      return out;
    }
    const panelSeries = p.value;
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
    return `${lines}${whole}${t.derived ? ' (against its own query: no claim)' : ''}`;
  }
  if (t.verdict === 'FAIL') {
    const head = t.failures[0]?.text || t.reason;
    const more = t.failedWindows > 1 ? `; ${t.failedWindows} of ${t.windows} points off` : '';
    return `${t.reason && !t.failures[0]?.t ? t.reason : head}${more}`;
  }
  return `not checked: ${t.reason}`;
}
