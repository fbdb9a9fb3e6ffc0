// promtool_oracle: asks Prometheus's own engine (through `promtool test rules`) what an
// expression returns, or which alerts fire, at given times over given input series — the truth
// the alert evaluator is checked against. Each question is a test case with an empty
// expectation; promtool's failure report lists what it got, which is parsed back.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatDuration } from '../../../dashboards/validator/lib/alerts/duration.mjs';
import { RecordedSeries, Storage } from '../../../dashboards/validator/lib/alerts/series.mjs';

// Label sets as promtool prints them: {a="x", b="y"} with Go-quoted values.
export function parseLabelSet(text) {
  const labels = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  let m;
  while ((m = re.exec(text))) labels[m[1]] = JSON.parse(`"${m[2]}"`);
  return labels;
}

// "{...} 1.5E+00, {...} 3E+00" -> [{labels, v}]
function parseSamples(text) {
  const out = [];
  const re = /\{((?:[^"}]|"(?:[^"\\]|\\.)*")*)\}\s+(\S+?)(?:,|$)/g;
  let m;
  while ((m = re.exec(text.trim()))) out.push({ labels: parseLabelSet(m[1]), v: Number(m[2]) });
  return out;
}

// promtool's series notation ('0+10x5 _x2 stale 3') -> values per interval (undefined: none,
// null: stale marker).
export function expandValues(spec) {
  const out = [];
  for (const tok of spec.trim().split(/\s+/)) {
    let m;
    if (tok === '_') out.push(undefined);
    else if (tok === 'stale') out.push(null);
    else if ((m = /^_x(\d+)$/.exec(tok))) for (let i = 0; i < Number(m[1]); i++) out.push(undefined);
    else if ((m = /^(-?[\d.e+]+)([+-])([\d.e+]+)x(\d+)$/.exec(tok))) {
      const [a, sign, b, n] = [Number(m[1]), m[2], Number(m[3]), Number(m[4])];
      for (let i = 0; i <= n; i++) out.push(a + (sign === '-' ? -1 : 1) * i * b);
    } else if ((m = /^(-?[\d.e+]+)x(\d+)$/.exec(tok))) for (let i = 0; i <= Number(m[2]); i++) out.push(Number(m[1]));
    else out.push(Number(tok));
  }
  return out;
}

// A Storage holding the input series exactly as promtool loads them (a sample every interval).
export function storageFromSeries(inputs, intervalMs) {
  const storage = new Storage();
  for (const { series, values } of inputs) {
    const labels = parseLabelSet(series);
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(series);
    if (name) labels.__name__ = name[1];
    const s = new RecordedSeries(labels);
    expandValues(values).forEach((v, i) => {
      if (v !== undefined) s.append(i * intervalMs, v);
    });
    storage.add(s);
  }
  return storage;
}

function run(dir, file) {
  return new Promise((resolve) => {
    execFile('promtool', ['test', 'rules', file], { cwd: dir, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve(`${stdout}\n${stderr}`);
    });
  });
}

const minutes = (ms) => `${ms / 60000}m`;

// questions: [{expr, t (ms)}]. Resolves to the samples promtool got for each, in order.
export async function promtoolValues(inputs, intervalMs, questions) {
  const dir = await mkdtemp(path.join(tmpdir(), 'taskbench-oracle-'));
  try {
    await writeFile(path.join(dir, 'rules.yml'), 'groups: []\n');
    const test = {
      rule_files: ['rules.yml'],
      evaluation_interval: minutes(intervalMs),
      tests: [{
        interval: minutes(intervalMs),
        input_series: inputs,
        promql_expr_test: questions.map((q) => ({ expr: q.expr, eval_time: minutes(q.t), exp_samples: [{ labels: 'never_matches_anything', value: 0 }] })),
      }],
    };
    await writeFile(path.join(dir, 'test.yml'), JSON.stringify(test)); // JSON is YAML
    const out = await run(dir, 'test.yml');
    const answers = [];
    const re = /expr: "((?:[^"\\]|\\.)*)", time: (\S+),\n\s+exp: .*\n\s+got: (.*)/g;
    let m;
    while ((m = re.exec(out))) answers.push(m[3].trim() === 'nil' ? [] : parseSamples(m[3]));
    if (answers.length !== questions.length) throw new Error(`promtool answered ${answers.length} of ${questions.length} questions:\n${out.slice(0, 3000)}`);
    return answers;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// The firing alerts (label sets) at each time, over rule files (absolute paths) and inputs.
export async function promtoolFiring(ruleFiles, groupOrder, inputs, intervalMs, alertnames, times) {
  const dir = await mkdtemp(path.join(tmpdir(), 'taskbench-oracle-'));
  try {
    const cases = [];
    for (const t of times) for (const a of alertnames) cases.push({ eval_time: minutes(t), alertname: a, exp_alerts: [{ exp_labels: { never: 'matches' } }] });
    const test = {
      rule_files: ruleFiles,
      evaluation_interval: minutes(intervalMs),
      group_eval_order: groupOrder,
      tests: [{ interval: minutes(intervalMs), input_series: inputs, alert_rule_test: cases }],
    };
    await writeFile(path.join(dir, 'test.yml'), JSON.stringify(test)); // JSON is YAML
    const out = await run(dir, 'test.yml');
    const got = new Map(); // "alertname@minutes" -> [labels]
    const blocks = out.split(/\n\s+alertname: /).slice(1);
    for (const b of blocks) {
      const head = /^(\S+), time: (\S+?),/.exec(b);
      if (!head) continue;
      const gotPart = b.slice(b.indexOf('got:'));
      const labels = [...gotPart.matchAll(/Labels:\{(.*)\}/g)].map((x) => parseLabelSet(x[1]));
      got.set(`${head[1]}@${head[2]}`, labels);
    }
    if (got.size !== cases.length) throw new Error(`promtool answered ${got.size} of ${cases.length} alert questions:\n${out.slice(0, 3000)}`);
    // promtool prints times as Prometheus durations: 0s, 1m, 1h1m.
    return { get: (alertname, t) => got.get(`${alertname}@${formatDuration(t)}`) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
