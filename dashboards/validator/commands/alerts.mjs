// alerts: truth for every alert. Each scenario (stack/prometheus/scenarios/, or the user's) is a
// fault, a load shape or a configuration change that must fire some alerts and not others;
// its model says what it does to the metrics, and the prediction (lib/alerts/predict.mjs) says
// from the rules — expressions, windows, thresholds, `for` — the stack's timings and
// Alertmanager's routes, group timings and inhibitions, when each alert must be pending,
// firing, notified and resolved.
//
//   validator alerts check   the prediction against each scenario's expectations (no stack runs)
//   validator alerts run     the scenarios on native stacks (stack/local), time-compressed:
//                            predicted vs measured for every alert, the webhook payloads, and
//                            Prometheus's and Alertmanager's notification counters
//
// The checks live in lib/alerts/ (check.mjs, run.mjs); this file is the command.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SetupError, UsageError, nonNegativeNumber } from '../lib/cli.mjs';
import { checkScenarios } from '../lib/alerts/check.mjs';
import { resolveInputs } from '../lib/alerts/inputs.mjs';
import { displayPath } from '../lib/paths.mjs';

export const options = [
  { name: '--scenarios', value: 'DIR|FILE', repeat: true, help: 'scenario files, or directories of them (default stack/prometheus/scenarios)' },
  { name: '--only', value: 'NAME', repeat: true, help: 'only this scenario (repeatable)' },
  { name: '--rules', value: 'DIR', help: 'the Prometheus rule files (*.yml) to test (default stack/prometheus/rules)' },
  { name: '--alertmanager-config', value: 'FILE', help: 'the Alertmanager configuration (default stack/alertmanager/alertmanager.yml)' },
  { name: '--with', value: 'FILE', repeat: true, help: 'use FILE in place of the rule file of the same name, or of the\nAlertmanager configuration (to try an edit)' },
  { name: '--runs', value: 'N', parse: nonNegativeNumber, help: 'phase combinations each prediction sweeps (default 24; run: 32)' },
  { name: '--bin', value: 'DIR', help: 'run: where taskd, loadgen and chaos are (default build/bin)' },
  { name: '--keep', value: 'DIR', help: 'run: keep every stack, log and payload under DIR' },
  { name: '--tolerance', value: 'MS', parse: nonNegativeNumber, help: 'run: how far a measured time may fall outside its predicted window\n(default 500 ms: process scheduling and HTTP round trips on a busy machine)' },
  { name: '--json', value: 'FILE|-', help: 'also write the JSON report there (- : to stdout, instead of the text)' },
];

export const usage = `usage: validator alerts check [options]
       validator alerts run [options]

check: predicts, for every scenario and each stack compression it names, when each alert of the
  rules fires and is notified, and judges the scenario's expectations (nothing runs; seconds).
run: runs the scenarios on native Prometheus + Alertmanager stacks (stack/local/stack.sh), time-
  compressed, all at once: taskd, loadgen, the faults; then compares the measured firing and
  notification times with the predicted windows, checks every webhook payload and the
  notification counters, and prints a table per alert.
Exit 0 everything holds, 1 something does not, 2 usage or setup error.`;

export async function run(o, positional, report) {
  const [mode, ...extra] = positional;
  if (mode !== 'check' && mode !== 'run') throw new UsageError(`say what to do: validator alerts check, or validator alerts run${mode ? ` (not "${mode}")` : ''}`);
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')} (scenario files go after --scenarios)`);
  const work = o.keep ? path.resolve(o.keep) : await mkdtemp(path.join(tmpdir(), 'taskbench-alerts-'));
  try {
    let inputs;
    try {
      inputs = await resolveInputs(o, work);
    } catch (e) {
      throw new SetupError(e.message);
    }
    report.inputs = {
      mode,
      scenarios: inputs.scenarios.map((s) => displayPath(s.file)),
      rules: displayPath(inputs.rulesDir),
      alertmanager_config: displayPath(inputs.alertmanagerConfig),
      with: inputs.replaced,
    };
    if (mode === 'check') {
      const rows = await checkScenarios({ inputs, runs: o.runs || 24, report });
      const by = (v) => rows.filter((r) => r.verdict === v).length;
      report.summary(`${report.findings.length ? 'FAIL' : 'ok'}: ${inputs.scenarios.length} scenarios predicted, ${by('ok')} expectations met, ${by('fail')} not, ${by('not_checked')} not decidable`);
      return report.exitCode();
    }
    const { runScenarios } = await import('../lib/alerts/run.mjs');
    await runScenarios({ inputs, opts: o, work, report, print: o.json !== '-' });
    return report.exitCode();
  } finally {
    if (!o.keep) await rm(work, { recursive: true, force: true });
  }
}
