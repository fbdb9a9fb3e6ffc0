// check: the static validation of anyone's dashboards, Prometheus rule files and Alertmanager
// configs — everything that can be proven wrong without running Grafana or waiting for data.
//
// Inputs are named on the command line (files or directories); each is recognised by content: a
// Grafana dashboard (any export), a rule file (`groups:`), an Alertmanager config (`route:`).
// What the user can add makes the checks sharper, and nothing is claimed without it: scrapes or a
// Prometheus say which metrics exist with which types and labels; a Prometheus also runs the
// variables' label_values() queries and parses every PromQL query with its own parser;
// provisioning says which datasources exist and their scrape intervals; log files say which
// fields LogQL may filter on. `--profile taskbench` adds the house rules and this repository's
// defaults.

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { checkAlertmanagerConfig, looksLikeAlertmanagerConfig } from '../lib/alertmanager_config.mjs';
import { lokiLabels as alloyLokiLabels, parseAlloy } from '../lib/alloy.mjs';
import { checkLegend, checkOverrides } from '../lib/checks/legend.mjs';
import { checkLogQL } from '../lib/checks/logql.mjs';
import { checkMetrics } from '../lib/checks/metrics.mjs';
import { checkPromQLMeaning } from '../lib/checks/promql_meaning.mjs';
import { checkRateRanges } from '../lib/checks/rate_ranges.mjs';
import { checkUnit, checkUnitKnown } from '../lib/checks/units.mjs';
import { SetupError, UsageError, durationOption, durationSeconds, formatDuration } from '../lib/cli.mjs';
import { loadDashboard, loadLibraryPanels } from '../lib/dashboard_model.mjs';
import { DatasourceDirectory } from '../lib/datasources.mjs';
import { logFields } from '../lib/logql.mjs';
import { MetricCatalog } from '../lib/metric_catalog.mjs';
import { taskbenchProfile } from '../lib/profiles/taskbench.mjs';
import { formatQuery, scrapeIntervalOf, startPrometheus } from '../lib/prometheus.mjs';
import { provisionedDatasources } from '../lib/provisioning.mjs';
import { analyzePromQL } from '../lib/promql.mjs';
import { prepareQuery } from '../lib/query.mjs';
import { checkRuleTemplates, looksLikeRuleFile, promtoolCheckRules, registerRecords, ruleFileFromText } from '../lib/rule_files.mjs';
import { ROOT, displayPath } from '../lib/paths.mjs';

export const PROFILES = { taskbench: taskbenchProfile };

export const options = [
  { name: '--profile', value: 'NAME', help: 'add house rules and their defaults: taskbench (this repository\'s)' },
  { name: '--prometheus', value: 'URL', help: 'a Prometheus: metric types and labels (/api/v1/metadata, /api/v1/labels),\nlabel_values() variables, its PromQL parser, its scrape interval' },
  { name: '--scrape', value: 'FILE|URL', repeat: true, help: 'a /metrics scrape (file or URL): metric names, types, labels (repeatable)' },
  { name: '--taskd-scrape', value: 'FILE|URL', key: 'scrape', repeat: true, help: 'the same as --scrape (taskd\'s /metrics)' },
  { name: '--loadgen-scrape', value: 'FILE|URL', repeat: true, help: 'a scrape of loadgen --metrics-listen (taskbench profile: without one,\nloadgen_* metrics are listed as not checked)' },
  { name: '--rules', value: 'FILE|DIR', repeat: true, help: 'rule files whose recording rules panels may use (read, not checked)' },
  { name: '--var', value: 'NAME=VALUE', map: true, help: 'a variable\'s value, put into queries as given (a regex such as a|b;\nAll for its All value)' },
  { name: '--datasource', value: 'NAME=TYPE', map: true, help: 'the type of a datasource named by a string or uid (default=TYPE for\nthe default datasource), e.g. --datasource Prometheus=prometheus' },
  { name: '--provisioning', value: 'DIR', help: 'Grafana provisioning: datasource uids, types and scrape intervals' },
  { name: '--library-panel', value: 'FILE', repeat: true, help: 'library panels (GET /api/library-elements/UID answers, or arrays)' },
  { name: '--scrape-interval', value: 'D', parse: durationOption, help: 'scrape interval when the datasource does not say (default: the\nPrometheus\'s, else Grafana\'s 15s)' },
  { name: '--log', value: 'FILE', repeat: true, help: 'JSON log lines: fields LogQL filters on must be in them (repeatable)' },
  { name: '--taskd-log', value: 'FILE', key: 'log', repeat: true, help: 'the same as --log' },
  { name: '--loki-labels', value: 'L1,L2', help: 'the labels your log collector sets on streams' },
  { name: '--alloy', value: 'FILE', help: 'read those labels from a Grafana Alloy config' },
  { name: '--runbooks', value: 'FILE', help: 'runbook anchors for the taskbench profile (default docs/runbooks.md)' },
  { name: '--prometheus-parser', value: 'URL', help: 'parse PromQL with this running Prometheus (2.42+) only' },
  { name: '--prometheus-bin', value: 'PATH', help: 'else start this prometheus on 127.0.0.1:0 to parse (default prometheus)' },
  { name: '--no-prometheus-parser', help: 'parse PromQL with lezer-promql only (Prometheus\'s grammar, not its parser)' },
  { name: '--no-prometheus', key: 'noPrometheusParser', help: 'the same as --no-prometheus-parser' },
  { name: '--baseline', value: 'FILE', help: 'accepted findings ([{check, file, panel, target, rule, reason}]): reported as\nknown, not failing; an entry that matches nothing is a finding' },
  { name: '--no-baseline', help: 'ignore the profile\'s baseline' },
  { name: '--json', value: 'FILE|-', help: 'also write the JSON report there (- : to stdout, instead of the text)' },
];

export const usage = `usage: validator check [options] DASHBOARD.json|RULES.yml|ALERTMANAGER.yml|DIR ...
       validator check --profile taskbench [options]        (this repository's files)

Checks dashboards exported from any Grafana, Prometheus rule files and Alertmanager configs
without running Grafana. Exit 0 clean, 1 findings, 2 usage or setup error.`;

// Files named, and the *.json/*.yml of directories named (those marked fromDir: a file there
// that is none of the three kinds is skipped with a note, not reported).
async function expandInputs(inputs, fromDir = false) {
  const out = [];
  for (const input of inputs) {
    let st;
    try {
      st = await stat(input);
    } catch {
      throw new SetupError(`cannot read ${input}: no such file or directory`);
    }
    if (st.isDirectory()) {
      const names = (await readdir(input)).sort();
      out.push(...(await expandInputs(names.filter((n) => /\.(json|ya?ml)$/.test(n)).map((n) => path.join(input, n)), true)));
    } else out.push({ path: input, fromDir });
  }
  return out;
}

// Sorts inputs into dashboards, rule files and Alertmanager configs by what they contain.
async function classify(files, report) {
  const kinds = { dashboards: [], rules: [], alertmanager: [] };
  for (const { path: f, fromDir } of files) {
    const label = displayPath(f);
    if (/\.json$/.test(f)) {
      kinds.dashboards.push({ path: f, label });
      continue;
    }
    const text = await readFile(f, 'utf8');
    let doc;
    try {
      doc = parseYaml(text);
    } catch (e) {
      report.finding('input', { file: label }, `is neither JSON nor valid YAML: ${e.message.split('\n')[0]}`);
      continue;
    }
    if (looksLikeRuleFile(doc)) kinds.rules.push({ path: f, label, text });
    else if (looksLikeAlertmanagerConfig(doc)) kinds.alertmanager.push({ path: f, label });
    else if (fromDir) report.note('skipped: neither a Prometheus rule file nor an Alertmanager config', { file: label });
    else report.finding('input', { file: label }, 'is not a Grafana dashboard, a Prometheus rule file (groups:) or an Alertmanager config (route:, receivers:)');
  }
  return kinds;
}

// The macros' values for parsing: what Grafana would send for a 6-hour dashboard at the
// smallest interval the datasource allows.
function staticMacros(scrapeSeconds) {
  const s = scrapeSeconds;
  return {
    __interval: formatDuration(s), __interval_ms: String(Math.round(s * 1000)),
    __rate_interval: formatDuration(4 * s), __rate_interval_ms: String(Math.round(4 * s * 1000)),
    __range: '6h', __range_s: '21600', __range_ms: '21600000', __auto: formatDuration(Math.max(60, s)),
    __from: '1700000000000', __to: '1700021600000', __dashboard: 'dashboard', __org: '1', __user: 'viewer', __name: 'series',
  };
}

class CheckRun {
  constructor(o, report) {
    this.o = o;
    this.report = report;
    this.catalog = new MetricCatalog();
    this.uncovered = new Set();
    this.promQueries = [];
    this.notChecked = new Map(); // reason -> count
    this.profile = o.profile ? PROFILES[o.profile] : null;
  }

  notCheck(reason) {
    this.notChecked.set(reason, (this.notChecked.get(reason) || 0) + 1);
  }

  scrapeInterval(ds) {
    const ti = ds?.jsonData?.timeInterval;
    if (ti && durationSeconds(ti)) return { seconds: durationSeconds(ti), source: `datasource ${ds.name || ds.uid} timeInterval` };
    if (this.o.scrapeInterval) return { seconds: this.o.scrapeInterval, source: '--scrape-interval' };
    if (this.promScrape) return { seconds: this.promScrape, source: `the scrape_interval of ${this.o.prometheus}` };
    return { seconds: 15, source: 'Grafana\'s default' };
  }

  async setup() {
    const o = this.o;
    const provisioned = o.provisioning ? await provisionedDatasources(o.provisioning) : [];
    this.directory = new DatasourceDirectory(provisioned, o.datasource);
    for (const s of [...o.scrape, ...o.loadgenScrape]) {
      try {
        await this.catalog.addScrape(s);
      } catch (e) {
        throw new SetupError(e.message);
      }
    }
    if (o.prometheus) {
      try {
        await this.catalog.addPrometheus(o.prometheus);
      } catch (e) {
        throw new SetupError(`cannot read metric metadata from ${o.prometheus}: ${e.message}`);
      }
      const si = await scrapeIntervalOf(o.prometheus);
      this.promScrape = si ? durationSeconds(si) : null;
    }
    if (o.lokiLabels) this.lokiLabels = new Set(o.lokiLabels.split(',').map((s) => s.trim()).filter(Boolean));
    else if (o.alloy) {
      try {
        this.lokiLabels = alloyLokiLabels(parseAlloy(await readFile(o.alloy, 'utf8'))).labels;
      } catch (e) {
        throw new SetupError(`${o.alloy}: ${e.message}`);
      }
    } else this.lokiLabels = null;
    if (o.log.length) {
      this.logFields = new Set();
      for (const f of o.log) {
        let text;
        try {
          text = await readFile(f, 'utf8');
        } catch (e) {
          throw new SetupError(`cannot read the log file ${f}: ${e.message}`);
        }
        for (const k of logFields(text, f)) this.logFields.add(k);
      }
    }
    this.libraryPanels = await loadLibraryPanels(o.libraryPanel, this.report);
    this.ctx = {
      report: this.report, catalog: this.catalog, directory: this.directory, options: o, uncovered: this.uncovered,
      scrapeInterval: (ds) => this.scrapeInterval(ds), lokiLabels: this.lokiLabels, logFields: this.logFields || null, logFiles: o.log,
    };
    if (this.profile) await this.profile.prepare(this.ctx);
  }

  // Prepares one query for its datasource's language; reports language and syntax problems.
  prepare({ ref, datasource, where, sub, context }) {
    const type = datasource?.type;
    const language = type === 'prometheus' ? 'promql' : type === 'loki' ? 'logql' : null;
    if (!language) return null;
    const q = prepareQuery({ ref, language, where, sub, context: { ...context, datasource }, lookup: (n) => this.catalog.lookup(n) });
    for (const u of sub?.unknown || []) {
      this.report.finding('variable', q.atRaw(u.from, u.to), `uses $${u.name}, which is neither a Grafana macro nor a variable of this dashboard`);
    }
    if (q.syntax.length) {
      if (q.otherLanguageParses) {
        const other = language === 'promql' ? 'LogQL' : 'PromQL';
        this.report.finding('datasource-language', q.at(0, q.text.length), `this is ${other}, but the target's datasource (${datasource.via || datasource.name}) is ${type}: ${type} cannot run it; point the target at a ${other === 'LogQL' ? 'loki' : 'prometheus'} datasource`);
        return null;
      }
      if (language === 'logql' || !this.parserUrl) {
        for (const s of q.syntax) this.report.finding(language === 'promql' ? 'promql-syntax' : 'logql-syntax', q.at(s.from, s.to), `${language === 'promql' ? 'PromQL' : 'LogQL'} does not parse (${language === 'promql' ? 'lezer-promql' : '@grafana/lezer-logql'}): ${s.message}`);
      }
    }
    if (language === 'promql') {
      this.report.count('promql_queries');
      this.promQueries.push(q);
    } else this.report.count('logql_queries');
    return q;
  }

  runQueryChecks(q) {
    if (!q || q.syntax.length) return;
    if (q.language === 'promql') {
      checkPromQLMeaning(q, this.ctx);
      checkMetrics(q, this.ctx);
      checkRateRanges(q, this.ctx);
    } else checkLogQL(q, this.ctx);
    if (q.context.kind === 'panel') {
      checkUnit(q, this.ctx);
      checkLegend(q, this.ctx);
    }
    if (this.profile) this.profile.checkQuery(q, this.ctx);
  }

  dashboardQueries(dash) {
    const out = [];
    const macrosFor = (ds) => staticMacros(this.scrapeInterval(ds).seconds);
    for (const panel of dash.panels) {
      const queries = [];
      for (const t of panel.targets) {
        const ds = t.datasource;
        if (ds?.error) {
          this.report.finding('datasource', t.where, `target datasource ${ds.error}`);
          queries.push(null);
          continue;
        }
        if (t.overruledDatasource) {
          this.report.finding('datasource', t.where, `names a ${t.overruledDatasource.type} datasource (${t.overruledDatasource.via}), but its panel's datasource is ${ds.type} (${ds.via}) and Grafana runs the query there; make the panel "-- Mixed --" or point both at the same datasource`);
        }
        if (!t.expr || !t.expr.text.trim()) {
          if (['prometheus', 'loki'].includes(ds?.type)) this.report.finding('panel', t.where, 'has no expr');
          queries.push(null);
          continue;
        }
        if (!['prometheus', 'loki'].includes(ds?.type)) {
          this.notCheck(ds?.unknown || `queries of ${ds?.type || 'unknown'} datasources`);
          queries.push(null);
          continue;
        }
        const sub = dash.substitute(t.expr, macrosFor(ds));
        queries.push(this.prepare({ ref: t.expr, datasource: ds, where: t.where, sub, context: { kind: 'panel', dashboard: dash, panel, target: t } }));
      }
      out.push({ panel, queries });
    }
    for (const a of dash.annotations) {
      if (a.builtIn || !a.expr || a.datasource?.error || !['prometheus', 'loki'].includes(a.datasource?.type)) continue;
      const sub = dash.substitute(a.expr, macrosFor(a.datasource));
      out.push({ annotation: a, queries: [this.prepare({ ref: a.expr, datasource: a.datasource, where: a.where, sub, context: { kind: 'annotation', dashboard: dash, allowRawCounters: false } })] });
    }
    return out;
  }

  checkPanelStructure(panel) {
    const ids = new Set();
    for (const t of panel.targets) {
      if (!t.refId) this.report.finding('panel', t.where, 'has no refId');
      else if (ids.has(t.refId)) this.report.finding('panel', t.where, `refId ${t.refId} is used twice in this panel`);
      ids.add(t.refId);
    }
    if (panel.datasource?.error) this.report.finding('datasource', panel.where, `panel datasource ${panel.datasource.error}`);
    if (panel.datasource?.type === 'mixed') {
      for (const t of panel.targets) if (!t.ownDatasource) this.report.finding('datasource', t.where, 'is in a panel with mixed datasources but names no datasource of its own');
    }
  }

  async checkDashboards(list) {
    const dashboards = [];
    for (const d of list) {
      const dash = await loadDashboard(d.path, { label: d.label, directory: this.directory, libraryPanels: this.libraryPanels, report: this.report });
      if (!dash) continue;
      this.report.count('dashboards');
      await dash.resolveVariables({
        overrides: this.o.var, prometheus: this.o.prometheus || null, macros: staticMacros(this.scrapeInterval(null).seconds),
        range: { start: Math.floor(Date.now() / 1000) - 6 * 3600, end: Math.floor(Date.now() / 1000) },
        onProblem: (v, m) => this.report.note(m, v.where),
      });
      this.report.inputs.variables ||= {};
      this.report.inputs.variables[dash.file] = Object.fromEntries([...dash.variables].map((v) => [v.name, { values: v.values, source: v.source }]));
      dashboards.push(dash);
    }
    // Labels of every metric the queries name, from the Prometheus, before the checks use them.
    if (this.catalog.prometheus) {
      const names = new Set();
      for (const dash of dashboards) for (const n of this.metricNames(dash)) names.add(n);
      await this.catalog.prefetch([...names]);
    }
    for (const dash of dashboards) {
      const seenPanelIds = new Map();
      if (this.profile) this.profile.checkDashboard(dash, this.ctx);
      for (const p of dash.panels) {
        this.report.count('panels');
        if (p.id !== null && seenPanelIds.has(p.id)) this.report.finding('panel', p.where, `id ${p.id} is also used by panel "${seenPanelIds.get(p.id)}"`);
        seenPanelIds.set(p.id, p.title);
        checkUnitKnown(p, this.ctx);
        this.checkPanelStructure(p);
        if (this.profile) this.profile.checkPanel(p, this.ctx);
      }
      for (const v of dash.variables) if (v.datasource?.error) this.report.finding('datasource', v.where, `variable datasource ${v.datasource.error}`);
      for (const a of dash.annotations) if (a.datasource?.error && !a.builtIn) this.report.finding('datasource', a.where, `annotation datasource ${a.datasource.error}`);
      for (const { panel, queries } of this.dashboardQueries(dash)) {
        for (const q of queries) this.runQueryChecks(q);
        if (panel) checkOverrides(panel, queries, this.ctx);
      }
    }
  }

  // The metrics a dashboard's PromQL names (to fetch their labels before the checks run).
  metricNames(dash) {
    const names = new Set();
    for (const p of dash.panels) {
      for (const t of p.targets) {
        if (t.datasource?.type !== 'prometheus' || !t.expr) continue;
        const sub = dash.substitute(t.expr, staticMacros(this.scrapeInterval(t.datasource).seconds));
        for (const sel of analyzePromQL(sub.text, { lookup: () => null }).selectors) if (sel.name) names.add(sel.name);
      }
    }
    return names;
  }

  async loadRules(list) {
    const files = [];
    for (const r of list) {
      const rf = ruleFileFromText(r.label, r.text ?? (await readFile(r.path, 'utf8')), this.report);
      if (rf) files.push(rf);
    }
    return files;
  }

  async checkRules(list, ruleFiles) {
    if (!list.length) return;
    const promtool = await promtoolCheckRules(list, this.report);
    if (!promtool) this.report.note('promtool is not installed: rule files were not loaded by Prometheus\'s own checker (install Debian\'s prometheus package)');
    for (const rf of ruleFiles) {
      this.report.count('rule_files');
      for (const g of rf.groups) {
        for (const rule of g.rules) {
          this.report.count('rules');
          if (!rule.expr) continue;
          const q = this.prepare({ ref: rule.expr, datasource: { type: 'prometheus', name: 'Prometheus' }, where: rule.where, sub: null, context: { kind: 'rule', rule } });
          this.runQueryChecks(q);
          if (q && !q.syntax.length) checkRuleTemplates(rule, q, this.ctx);
        }
      }
    }
  }

  async parseWithPrometheus() {
    if (!this.parserUrl) return;
    const queue = [...this.promQueries];
    const worker = async () => {
      while (queue.length) {
        const q = queue.shift();
        const r = await formatQuery(this.parserUrl, q.text);
        if (r.ok) continue;
        // "1:10: parse error: ..." -> a position in the substituted text
        const m = /^(\d+):(\d+): (.*)$/s.exec(r.error);
        let at = q.at(0, q.text.length);
        if (m) {
          const lines = q.text.split('\n');
          const off = lines.slice(0, Number(m[1]) - 1).reduce((n, l) => n + l.length + 1, 0) + Number(m[2]) - 1;
          at = q.at(Math.min(off, q.text.length), Math.min(off + 1, q.text.length));
        }
        this.report.finding('promql-syntax', at, `PromQL does not parse (Prometheus): ${r.error}`);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
  }

  async startParser() {
    const o = this.o;
    if (o.noPrometheusParser) return null;
    if (o.prometheusParser) return { url: o.prometheusParser.replace(/\/$/, ''), stop: async () => {} };
    if (o.prometheus) {
      const probe = await formatQuery(o.prometheus, 'up').catch(() => null);
      if (probe?.ok) return { url: o.prometheus, stop: async () => {} };
    }
    try {
      return await startPrometheus(o.prometheusBin || 'prometheus');
    } catch (e) {
      throw new SetupError(`${e.message}; or pass --no-prometheus-parser to parse with lezer-promql only`);
    }
  }

  notes() {
    for (const [reason, n] of this.notChecked) this.report.note(`${n} ${n === 1 ? 'query' : 'queries'} not checked: ${reason}`);
    if (this.uncovered.size) this.report.note(`not checked against a scrape (none of the scrapes has loadgen's metrics; give --loadgen-scrape): ${[...this.uncovered].sort().join(', ')}`);
    if (!this.catalog.hasSources && this.report.stats.promql_queries) {
      this.report.note('metric names, types and labels not checked: give --scrape FILE|URL or --prometheus URL (types were read from naming conventions only)');
    }
    if (!this.logFields && this.ctx.logFieldQueries) this.report.note('LogQL fields not checked against log lines: give --log FILE');
  }

  summarize(parserName) {
    const s = this.report.stats;
    const parts = [];
    if (s.dashboards) parts.push(`${s.dashboards} dashboard${s.dashboards > 1 ? 's' : ''} (${s.panels || 0} panels)`);
    const q = [];
    if (s.promql_queries) q.push(`${s.promql_queries} PromQL (${parserName})`);
    if (s.logql_queries) q.push(`${s.logql_queries} LogQL`);
    if (s.rule_files) parts.push(`${s.rule_files} rule file${s.rule_files > 1 ? 's' : ''} (${s.rules} rules)`);
    if (s.alertmanager_configs) parts.push(`${s.alertmanager_configs} Alertmanager config${s.alertmanager_configs > 1 ? 's' : ''}`);
    const n = this.report.findings.length;
    const k = this.report.known.length;
    this.report.summary(`${n ? 'FAIL' : 'ok'}: ${parts.join(', ') || 'nothing'}${q.length ? `; ${q.join(' and ')} queries` : ''}; ${n} finding${n === 1 ? '' : 's'}${k ? ` (and ${k} known, accepted by the baseline)` : ''}`);
  }
}

async function applyBaseline(report, file, checkedFiles) {
  let entries;
  try {
    entries = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new SetupError(`cannot read the baseline ${file}: ${e.message}`);
  }
  if (!Array.isArray(entries)) entries = entries.accepted;
  if (!Array.isArray(entries)) throw new SetupError(`${file}: a baseline is a list of {check, file, panel, target, rule, reason}`);
  report.applyBaseline(entries, displayPath(file), checkedFiles);
}

export async function run(o, positional, report) {
  if (o.profile && !PROFILES[o.profile]) throw new UsageError(`unknown profile "${o.profile}" (known: ${Object.keys(PROFILES).join(', ')})`);
  if (o.profile) {
    const d = PROFILES[o.profile].defaults(ROOT);
    o.provisioning ??= d.provisioning;
    o.runbooks ??= d.runbooks;
    if (!o.noBaseline) o.baseline ??= d.baseline;
    if (!o.rules.length) o.rules = [d.rules];
    if (!o.lokiLabels) o.alloy ??= d.alloy;
    if (!positional.length) positional = d.files;
  }
  if (!positional.length) throw new UsageError('name the dashboards, rule files or Alertmanager configs to check (or use --profile taskbench for this repository\'s)');
  report.inputs = { files: positional.map(displayPath), profile: o.profile || null, prometheus: o.prometheus || null, scrapes: o.scrape };
  const r = new CheckRun(o, report);
  await r.setup();
  const kinds = await classify(await expandInputs(positional), report);
  const extraRules = await r.loadRules((await expandInputs(o.rules)).filter((f) => /\.ya?ml$/.test(f.path)).map((f) => ({ path: f.path, label: displayPath(f.path) })));
  const checkedRules = await r.loadRules(kinds.rules);
  registerRecords([...extraRules, ...checkedRules], r.catalog);
  r.parser = kinds.dashboards.length || kinds.rules.length ? await r.startParser() : null;
  r.parserUrl = r.parser?.url || null;
  try {
    await r.checkDashboards(kinds.dashboards);
    await r.checkRules(kinds.rules, checkedRules);
    for (const am of kinds.alertmanager) {
      report.count('alertmanager_configs');
      if (!(await checkAlertmanagerConfig(am, report))) report.note('amtool is not installed: Alertmanager configs were not loaded by Alertmanager\'s own checker (install Debian\'s prometheus-alertmanager package)');
    }
    await r.parseWithPrometheus();
  } finally {
    if (r.parser) await r.parser.stop();
  }
  if (o.baseline) await applyBaseline(report, o.baseline, [...kinds.dashboards, ...kinds.rules, ...kinds.alertmanager].map((k) => k.label));
  r.notes();
  r.summarize(r.parserUrl ? 'Prometheus\'s parser and lezer-promql' : 'lezer-promql only');
  return report.exitCode();
}
