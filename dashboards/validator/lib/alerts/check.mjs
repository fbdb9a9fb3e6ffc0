// check: every scenario's expectations against the prediction alone (validator alerts check):
// for each scenario and each stack it names, the rules and Alertmanager configuration compressed
// as that stack would run them, the model at the scenario's nominal times, the prediction, and
// the verdict of every expectation. No service or stack runs, so it is quick, and it catches an
// edit that makes an alert miss its scenario (a threshold, window or `for` off, a route to the
// wrong receiver, an inhibition that hides a page) before anything runs. Plus coverage: every
// alert rule must be fired by some scenario.
//
// API: stackFor(compress, inputs, work) (cached), checkScenarios({ inputs, runs, work, report })
//      coverage(groups, scenarios) -> [{ rule, label, covered: [scenario names] }]

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { displayPath } from '../paths.mjs';
import { judgeExpectations } from './judge.mjs';
import { buildPrediction, nominalMarks, nominalVars } from './plan.mjs';
import { loadRuleFiles, ruleLabel } from './rule_set.mjs';
import { generateStack, readStack } from './stack_config.mjs';

const stacks = new Map();

export async function stackFor(compress, inputs, work) {
  const key = `${compress}\u0000${inputs.rulesDir}\u0000${inputs.alertmanagerConfig}`;
  if (!stacks.has(key)) {
    stacks.set(key, (async () => {
      const dir = path.join(work, `stack-${compress}x-${stacks.size}`);
      await generateStack({ dir, compress, rulesDir: inputs.rulesDir, alertmanagerConfig: inputs.alertmanagerConfig });
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

export async function checkScenarios({ inputs, runs, work, report }) {
  const rows = [];
  // Every compression the scenarios need, generated at once.
  await Promise.all([...new Set(inputs.scenarios.flatMap((s) => s.stacks.map((st) => st.compress)))].map((f) => stackFor(f, inputs, work)));
  for (const scenario of inputs.scenarios) {
    for (const st of scenario.stacks) {
      const stack = await stackFor(st.compress, inputs, work);
      const vars = nominalVars(scenario, stack);
      const nominal = nominalMarks(scenario, st.compress, vars);
      const { marks, prometheusStart, simulateFrom } = nominal;
      // A stack that stops at a mark (`until`) is judged until then.
      const end = st.until ? marks[st.until]?.[0] ?? nominal.end : nominal.end;
      let prediction;
      try {
        ({ prediction } = buildPrediction({ scenario, templates: inputs.templates, stack, marks, vars, end, prometheusStart, simulateFrom, runs }));
      } catch (e) {
        report.finding('alert-scenario', { file: displayPath(scenario.file), item: `scenario ${scenario.name}` }, `cannot predict at ${st.compress}x: ${e.message}`);
        continue;
      }
      for (const err of prediction.errors) report.note(`at ${st.compress}x: ${err}`, { file: displayPath(scenario.file), item: `scenario ${scenario.name}` });
      const verdicts = judgeExpectations({ outcome: prediction, scenario, compress: st.compress, marks, end });
      for (const v of verdicts) {
        report.result('alert-expectation', whereOf(scenario, v.alert), v.verdict, `[${st.compress}x] ${v.message}`);
        rows.push({ scenario: scenario.name, compress: st.compress, ...v });
      }
    }
  }
  const files = (await readdir(inputs.rulesDir)).filter((f) => f.endsWith('.yml')).sort();
  const groups = await loadRuleFiles(files.map((f) => path.join(inputs.rulesDir, f)), { labels: files.map((f) => displayPath(path.join(inputs.rulesDir, f))) });
  for (const c of coverage(groups, inputs.allScenarios)) {
    const where = { file: c.rule.file, rule: { kind: 'alert', name: c.label } };
    if (c.covered.length) report.result('alert-coverage', where, 'ok', `fired by scenario ${c.covered.join(', ')}`);
    else report.result('alert-coverage', where, 'fail', 'no scenario fires it: add one that does (docs/validator.md, "Truth for every alert")');
  }
  return rows;
}
