// check: every scenario's expectations against the prediction alone (validator alerts check):
// for each scenario and each stack it names, the rules and Alertmanager configuration compressed
// as that stack would run them, the model at the scenario's nominal times, the prediction, and
// the verdict of every expectation. No service or stack runs, so it is quick, and it catches an
// edit that makes an alert miss its scenario (a threshold, window or `for` off, a route to the
// wrong receiver, an inhibition that hides a page) before anything runs. Plus coverage: every
// alert rule must be fired by some scenario.
//
// API: stackFor(compress, inputs) (cached), checkScenarios({ inputs, runs, report })
//      coverage(groups, scenarios) -> [{ rule, label, covered: [scenario names] }]

import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { displayPath } from '../paths.mjs';
import { degenerateLookup } from './compression.mjs';
import { judgeExpectations } from './judge.mjs';
import { nominalMarks, nominalVars, scrapedJobs } from './plan.mjs';
import { predictInWorkers } from './predict_worker.mjs';
import { loadRuleFiles, ruleLabel } from './rule_set.mjs';
import { generateStack, readStack, STACK_SH } from './stack_config.mjs';

const stacks = new Map();
const CACHE = path.join(tmpdir(), 'taskbench-alerts-stacks');

// What a generated configuration depends on: the compression, every rule file and the
// Alertmanager configuration, and the two scripts that derive it.
async function configHash(compress, inputs) {
  const h = createHash('sha256');
  h.update(`${compress}\n`);
  const files = (await readdir(inputs.rulesDir)).filter((f) => f.endsWith('.yml')).sort();
  for (const f of files) h.update(`${f}\n`).update(await readFile(path.join(inputs.rulesDir, f)));
  for (const f of [inputs.alertmanagerConfig, STACK_SH, path.join(path.dirname(STACK_SH), 'compress.py')]) h.update(await readFile(f));
  return h.digest('hex').slice(0, 24);
}

// The configuration a stack of this compression runs, generated once: kept in a cache under the
// temporary directory, keyed by everything it is made from, so repeated checks (the lie suite
// runs one per lie) do not derive it again.
export async function stackFor(compress, inputs) {
  const key = `${compress}\u0000${inputs.rulesDir}\u0000${inputs.alertmanagerConfig}`;
  if (!stacks.has(key)) {
    stacks.set(key, (async () => {
      const dir = path.join(CACHE, `${compress}x-${await configHash(compress, inputs)}`);
      try {
        return await readStack(dir);
      } catch {
        // not cached yet
      }
      await mkdir(CACHE, { recursive: true });
      const tmp = await mkdtemp(path.join(CACHE, 'new-'));
      await generateStack({ dir: tmp, compress, rulesDir: inputs.rulesDir, alertmanagerConfig: inputs.alertmanagerConfig });
      try {
        await rename(tmp, dir);
      } catch {
        await rm(tmp, { recursive: true, force: true }); // another check made it meanwhile
      }
      return readStack(dir);
    })());
  }
  return stacks.get(key);
}

// Which scenarios fire each alert rule (an expectation that it notifies, fires silently or is
// held back by an inhibition).
export function coverage(groups, scenarios) {
  const rules = groups.flatMap((g) => g.rules).filter((r) => r.kind === 'alert');
  return rules.map((rule) => {
    const covered = [];
    for (const s of scenarios) {
      for (const e of s.expect) {
        if (e.alert !== rule.name || e.kind === 'never') continue;
        if (Object.entries(e.labels).every(([k, v]) => rule.labels[k] === undefined || rule.labels[k] === v)) covered.push(s.name);
      }
    }
    return { rule, label: ruleLabel(rule, rules), covered: [...new Set(covered)] };
  });
}

export function whereOf(scenario, labels) {
  return { file: displayPath(scenario.file), rule: { kind: 'alert', name: labels.alertname }, item: `scenario ${scenario.name}` };
}

export async function checkScenarios({ inputs, runs, report }) {
  const rows = [];
  // Every compression the scenarios need, generated at once.
  await Promise.all([...new Set(inputs.scenarios.flatMap((s) => s.stacks.map((st) => st.compress)))].map((f) => stackFor(f, inputs)));
  // One prediction per scenario and stack, spread over every core.
  const jobs = [];
  for (const scenario of inputs.scenarios) {
    for (const st of scenario.stacks) {
      const stack = await stackFor(st.compress, inputs);
      const vars = nominalVars(scenario, stack);
      const nominal = nominalMarks(scenario, st.compress, vars);
      const { marks, prometheusStart, simulateFrom } = nominal;
      // A stack that stops at a mark (`until`) is judged until then.
      const end = st.until ? marks[st.until]?.[0] ?? nominal.end : nominal.end;
      jobs.push({ scenario, st, stack, job: { scenario, templates: inputs.templates, stackDir: stack.dir, marks, vars, end, prometheusStart, simulateFrom, runs, jobs: scrapedJobs(st) } });
    }
  }
  const predictions = await predictInWorkers(jobs.map((j) => j.job), undefined, { settle: true });
  jobs.forEach(({ scenario, st, stack, job }, i) => {
    const { marks, end } = job;
    const prediction = predictions[i];
    const where = { file: displayPath(scenario.file), item: `scenario ${scenario.name}` };
    if (prediction instanceof Error) {
      report.finding('alert-scenario', where, `cannot predict at ${st.compress}x: ${prediction.message}`);
      return;
    }
    for (const err of prediction.errors) report.note(`at ${st.compress}x: ${err}`, where);
    const degenerate = degenerateLookup(stack.groups, stack.timings);
    const verdicts = judgeExpectations({ outcome: prediction, scenario, compress: st.compress, marks, end, degenerate });
    for (const v of verdicts) {
      report.result('alert-expectation', whereOf(scenario, v.alert), v.verdict, `[${st.compress}x] ${v.message}`);
      rows.push({ scenario: scenario.name, compress: st.compress, ...v });
    }
  });
  const files = (await readdir(inputs.rulesDir)).filter((f) => f.endsWith('.yml')).sort();
  const groups = await loadRuleFiles(files.map((f) => path.join(inputs.rulesDir, f)), { labels: files.map((f) => displayPath(path.join(inputs.rulesDir, f))) });
  for (const c of coverage(groups, inputs.allScenarios)) {
    const where = { file: c.rule.file, rule: { kind: 'alert', name: c.label } };
    if (c.covered.length) report.result('alert-coverage', where, 'ok', `fired by scenario ${c.covered.join(', ')}`);
    else report.result('alert-coverage', where, 'fail', 'no scenario fires it: add one that does (docs/validator.md, "Truth for every alert")');
  }
  return rows;
}
