// truth: the dashboards' numbers against a workload whose numbers are known — the panels'
// own queries, evaluated by the Prometheus that scraped the run, compared with what the run
// recorded (a loadgen --json result or a truth file). The checks themselves are in
// lib/truth.mjs; this file is the command: options, inputs, the report.

import { UsageError, nonNegativeNumber } from '../lib/cli.mjs';
import { loadDashboard } from '../lib/dashboard_model.mjs';
import { DatasourceDirectory } from '../lib/datasources.mjs';
import { ROOT, displayPath } from '../lib/paths.mjs';
import { loadTruth, runTruth, timeArg } from '../lib/truth.mjs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

export const options = [
  { name: '--prometheus', value: 'URL', help: 'the Prometheus that scraped the service during the run (required)' },
  { name: '--truth', value: 'FILE', help: '{"from","to","requests":{"total","by_route","by_class"},"tasks","db_errors"}' },
  { name: '--loadgen-result', value: 'FILE', help: 'a loadgen --json result (run with --warmup 0 for exact counts)' },
  { name: '--from', value: 'T', help: 'override the run window (unix seconds or RFC 3339)' },
  { name: '--to', value: 'T', help: 'override the run window (unix seconds or RFC 3339)' },
  { name: '--var', value: 'NAME=VALUE', map: true, help: 'dashboard variable values (default job=taskd, instance=.*)' },
  { name: '--wait', value: 'SECONDS', parse: nonNegativeNumber, help: 'how long to wait for the first scrape after the run (default 30)' },
  { name: '--settle', value: 'MS', parse: nonNegativeNumber, help: 'margin after the run before that scrape (default 500)' },
  { name: '--rate-tolerance', value: 'R', parse: nonNegativeNumber, help: 'relative tolerance of displayed rates (default 0.02)' },
  { name: '--json', value: 'FILE|-', help: 'also write the JSON report there (- : to stdout, instead of the text)' },
];

export const usage = `usage: validator truth --prometheus URL (--truth FILE | --loadgen-result FILE) [options] [DASHBOARD.json ...]

Evaluates the dashboards' panels (default: this repository's dashboards/) with the Prometheus
that scraped a known workload and compares them with what the workload recorded.
Exit 0 every number matches, 1 one does not, 2 usage or setup error.`;

async function defaultDashboards() {
  const dir = path.join(ROOT, 'dashboards');
  return (await readdir(dir)).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
}

export async function run(o, positional, report) {
  if (!o.prometheus) throw new UsageError('truth needs --prometheus URL');
  if (!o.truth === !o.loadgenResult) throw new UsageError('truth needs exactly one of --truth FILE and --loadgen-result FILE');
  const truth = await loadTruth({ truthFile: o.truth, loadgenResult: o.loadgenResult });
  if (o.from !== undefined) truth.from = timeArg(o.from, '--from');
  if (o.to !== undefined) truth.to = timeArg(o.to, '--to');
  if (!(truth.to > truth.from)) throw new UsageError('the run window is empty: --to must be after --from');
  const overrides = { job: 'taskd', instance: '.*', loadgen_job: 'loadgen', ...o.var };
  const directory = new DatasourceDirectory([], {});
  const dashboards = new Map();
  const files = positional.length ? positional : await defaultDashboards();
  for (const f of files) {
    const dash = await loadDashboard(f, { label: displayPath(f), directory, report });
    if (!dash) continue;
    await dash.resolveVariables({ overrides });
    dashboards.set(dash.uid, dash);
  }
  report.inputs = { files: files.map(displayPath), prometheus: o.prometheus, truth: o.truth || null, loadgen_result: o.loadgenResult || null };
  const r = await runTruth({
    prometheus: o.prometheus.replace(/\/$/, ''), dashboards, overrides, truth, report,
    waitMs: (o.wait ?? 30) * 1000, settleMs: o.settle ?? 500, rateTolerance: o.rateTolerance ?? 0.02,
  });
  report.summary(`${r.failures ? 'FAIL' : 'ok'}: ${r.passes} numbers match the workload, ${r.failures} do not`);
  return report.exitCode();
}
