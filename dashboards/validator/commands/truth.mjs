// truth: every panel of the dashboards evaluated as Grafana would over a recorded run, and held
// to what the run really did — a verdict per query (ok, FAIL with the panel's number, the truth
// and the window, or not checked with the reason) and per panel, "checked N of M panels", an
// HTML report with each panel's series over the truth. The checks are in lib/truth/; this file is
// the command: options, inputs, the report.

import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { SetupError, UsageError } from '../lib/cli.mjs';
import { loadDashboard, loadLibraryPanels } from '../lib/dashboard_model.mjs';
import { DatasourceDirectory } from '../lib/datasources.mjs';
import { ROOT, displayPath } from '../lib/paths.mjs';
import { exists, provisionedDatasources } from '../lib/provisioning.mjs';
import { claimsFor } from '../lib/truth/claims.mjs';
import { writeTruthHtml } from '../lib/truth/html.mjs';
import { RecordError, loadRecord } from '../lib/truth/record.mjs';
import { STANDINS, TruthRun, describeTarget } from '../lib/truth/run.mjs';

export const options = [
  { name: '--record', value: 'FILE', help: 'the run record: the run\'s window, Prometheus, logs, loadgen results and chaos\njournals (docs/validator.md; scripts/truth_run.sh writes one)' },
  { name: '--claims', value: 'DIR', help: 'claims for dashboards without a claims/NAME.json beside them (matched by\nuid, then by file name)' },
  { name: '--var', value: 'NAME=VALUE', map: true, help: 'a variable\'s value, put into queries as given' },
  { name: '--provisioning', value: 'DIR', help: 'Grafana provisioning: datasource uids and types (default: this repository\'s)' },
  { name: '--datasource', value: 'NAME=TYPE', map: true, help: 'the type of a datasource named by a string or uid' },
  { name: '--library-panel', value: 'FILE', repeat: true, help: 'library panels (GET /api/library-elements/UID answers)' },
  { name: '--alloy', value: 'FILE', help: 'how logs reach Loki (default: the record\'s, else stack/alloy/config.alloy)' },
  { name: '--dashboard-width', value: 'PX', parse: (v, n) => { const x = Number(v); if (!(x >= 100 && x <= 10000)) throw new UsageError(`${n} takes a width in pixels, not "${v}"`); return x; }, help: 'the width Grafana lays panels out in (default 1840): a panel\'s pixels are\nits max data points when it sets none' },
  { name: '--prometheus-bin', value: 'PATH', help: 'the prometheus that reopens a recorded data directory (default prometheus)' },
  { name: '--html', value: 'FILE', help: 'write the HTML truth report there' },
  { name: '--json', value: 'FILE|-', help: 'also write the JSON report there (- : to stdout, instead of the text)' },
];

export const usage = `usage: validator truth --record RUN.json [options] [DASHBOARD.json ...]

Evaluates every panel of the dashboards (default: this repository's dashboards/) as Grafana
would over a recorded run, and compares each with what the run recorded, window by window.
Exit 0 every checked panel tells the truth, 1 one does not, 2 usage or setup error.`;

async function defaultDashboards() {
  const dir = path.join(ROOT, 'dashboards');
  return (await readdir(dir)).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
}

export async function run(o, positional, report) {
  if (!o.record) throw new UsageError('truth needs --record FILE: the run to check the dashboards against');
  let record;
  try {
    record = await loadRecord(o.record);
  } catch (e) {
    if (e instanceof RecordError) throw new SetupError(e.message);
    throw e;
  }
  const provisioningDir = o.provisioning || path.join(ROOT, 'stack/grafana/provisioning');
  const provisioned = (await exists(path.join(provisioningDir, 'datasources'))) || o.provisioning ? await provisionedDatasources(provisioningDir).catch((e) => {
    throw new SetupError(e.message);
  }) : [];
  const directory = new DatasourceDirectory(provisioned, o.datasource || {});
  const alloyFile = o.alloy || record.alloy || path.join(ROOT, 'stack/alloy/config.alloy');
  const alloyConfig = (await exists(alloyFile)) ? await readFile(alloyFile, 'utf8') : null;
  const files = positional.length ? positional : await defaultDashboards();
  const libraryPanels = await loadLibraryPanels(o.libraryPanel || [], report);
  report.inputs = { record: displayPath(record.file), files: files.map(displayPath), window: { from: new Date(record.window.from).toISOString(), to: new Date(record.window.to).toISOString() }, alloy: alloyConfig ? displayPath(alloyFile) : null, standins: STANDINS };
  const tr = new TruthRun({ record, alloyConfig, dashboardWidth: o.dashboardWidth || 1840, overrides: o.var || {}, prometheusBin: o.prometheusBin });
  const dashboards = [];
  try {
    await tr.setup();
    for (const f of files) {
      const dash = await loadDashboard(f, { label: displayPath(f), directory, libraryPanels, report });
      if (!dash) continue;
      const claims = await claimsFor(f, dash.uid, o.claims);
      dashboards.push(await tr.checkDashboard(dash, claims));
    }
  } finally {
    await tr.close();
  }
  let panels = 0;
  let checked = 0;
  let failed = 0;
  const notChecked = [];
  for (const d of dashboards) {
    for (const p of d.panels) {
      panels++;
      if (p.verdict === 'ok' || p.verdict === 'FAIL') checked++;
      if (p.verdict === 'FAIL') failed++;
      if (p.verdict === 'not checked') notChecked.push(p);
      if (!p.targets.length) {
        report.result('truth', p.where, 'not_checked', p.reason);
        continue;
      }
      for (const t of p.targets) {
        const verdict = t.verdict === 'ok' ? 'ok' : t.verdict === 'FAIL' ? 'fail' : 'not_checked';
        report.result('truth', t.where, verdict, describeTarget(t), { windows: t.windows, failed: t.failedWindows || 0, claim: t.claim, derived: t.derived, query: t.query, step_ms: t.step, rate_interval_ms: t.rateInterval, whole_run: t.wholeRun ? { ok: t.wholeRun.ok, span_ms: t.wholeRun.span } : undefined, failures: t.failures.map((f) => f.text) });
      }
    }
  }
  for (const n of [...record.notes || [], ...tr.notes]) report.note(n);
  report.count('panels', panels);
  report.count('checked', checked);
  report.count('failed', failed);
  report.count('not_checked', notChecked.length);
  report.stats.not_checked_panels = notChecked.map((p) => ({ file: p.where.file, panel: p.title, reason: p.reason }));
  const head = failed ? 'FAIL' : 'ok';
  report.summary(`${head}: checked ${checked} of ${panels} panels against the run (${checked - failed} tell the truth, ${failed} do not); ${notChecked.length} not checked`);
  if (o.html) await writeTruthHtml(o.html, { record, model: tr.model, dashboards, summary: report.summaryText, notes: [...tr.notes], standins: STANDINS });
  return report.exitCode();
}
