// scenario: a scenario file read and checked — what to run (the service, the load, the steps and
// their actions, the stacks that watch it and their time compressions), what it does to the
// metrics (the model, built on the templates of models.yml) and what must happen (expect). The
// format is described in docs/validator.md; stack/prometheus/scenarios/ holds ours.
//
// Values may use ${name} (the runner's variables: taskd, loadgen, db, data, rate, free_bytes,
// scrape_timeout...) and simple arithmetic once substituted ("${rate} * 0.2").

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from './duration.mjs';

const STEP_ACTIONS = new Set([
  'move', 'sql', 'hold_lock', 'release_lock', 'signal_taskd', 'start_taskd', 'remove_target', 'restore_target',
  'fill', 'unfill', 'exec',
]);
const EXPECT_KEYS = new Set(['alert', 'labels', 'notify', 'silent', 'inhibited_by', 'never', 'within', 'after', 'stacks']);

export class ScenarioError extends Error {}

function fail(file, msg) {
  return new ScenarioError(`${file}: ${msg}`);
}

// Replaces ${name} everywhere in a parsed YAML value; a string that becomes pure arithmetic
// ("50 * 0.2") becomes its number.
export function substitute(value, vars, where = 'scenario') {
  if (typeof value === 'string') {
    const out = value.replace(/\$\{([a-zA-Z_][a-zA-Z0-9_]*)\}/g, (_, n) => {
      if (!(n in vars)) throw new ScenarioError(`${where}: \${${n}} is not a variable (known: ${Object.keys(vars).sort().join(', ')})`);
      return String(vars[n]);
    });
    if (out !== value && /^[\d\s.e+\-*/()]+$/.test(out) && /\d/.test(out)) {
      // eslint-disable-next-line no-new-func
      const n = Function(`"use strict"; return (${out});`)();
      if (Number.isFinite(n)) return n;
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars, where));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars, where)]));
  }
  return value;
}

function checkSteps(steps, file, where = 'steps') {
  if (!Array.isArray(steps)) throw fail(file, `${where} must be a list`);
  steps.forEach((s, i) => {
    const w = `${where}[${i}]`;
    if (s && typeof s === 'object' && 'repeat' in s) {
      if (!(Number.isInteger(s.repeat) && s.repeat > 0)) throw fail(file, `${w}.repeat must be a positive whole number`);
      checkSteps(s.steps, file, `${w}.steps`);
      return;
    }
    if (s && typeof s === 'object' && 'wait' in s) {
      parseDuration(s.wait, `${file} ${w}.wait`);
      return;
    }
    if (!s || typeof s !== 'object' || !('mark' in s || 'do' in s)) throw fail(file, `${w} is not a wait, a mark, an action (do) or a repeat`);
    if (s.do) {
      const keys = Object.keys(s.do);
      if (keys.length !== 1 || !STEP_ACTIONS.has(keys[0])) {
        throw fail(file, `${w}.do must be one of ${[...STEP_ACTIONS].join(', ')}, not ${keys.join(', ') || 'nothing'}`);
      }
    }
  });
}

// The steps with repeats unrolled and each step's nominal start (ms after the steps begin).
export function planSteps(steps) {
  const out = [];
  let t = 0;
  const walk = (list) => {
    for (const s of list) {
      if ('repeat' in s) {
        for (let i = 0; i < s.repeat; i++) walk(s.steps);
      } else if ('wait' in s) {
        out.push({ ...s, at: t });
        t += parseDuration(s.wait);
      } else {
        out.push({ ...s, at: t });
      }
    }
  };
  walk(steps);
  return { steps: out, duration: t };
}

function checkExpect(list, file) {
  if (!Array.isArray(list)) throw fail(file, 'expect must be a list (it may be empty: nothing may be notified)');
  return list.map((e, i) => {
    const w = `expect[${i}]`;
    for (const k of Object.keys(e)) if (!EXPECT_KEYS.has(k)) throw fail(file, `${w} has an unknown key ${k} (known: ${[...EXPECT_KEYS].join(', ')})`);
    if (!e.alert) throw fail(file, `${w} names no alert`);
    const kinds = ['notify', 'silent', 'inhibited_by', 'never'].filter((k) => e[k] !== undefined);
    if (kinds.length !== 1) throw fail(file, `${w} (${e.alert}) must say exactly one of notify, silent, inhibited_by, never`);
    return {
      alert: String(e.alert),
      labels: Object.fromEntries(Object.entries(e.labels || {}).map(([k, v]) => [k, String(v)])),
      kind: kinds[0],
      receiver: e.notify ? String(e.notify) : null,
      inhibitedBy: e.inhibited_by ? [].concat(e.inhibited_by).map(String) : null,
      within: e.within !== undefined ? parseDuration(e.within, `${file} ${w}.within`) : null,
      after: e.after ? String(e.after) : null,
      stacks: e.stacks ? [].concat(e.stacks).map(Number) : null,
    };
  });
}

// Reads and checks one scenario file. Returns the scenario with `file`, `plan` and `expect`
// normalized; the model stays raw until the runner knows its variables.
export async function loadScenario(file) {
  let doc;
  try {
    doc = parseYaml(await readFile(file, 'utf8'));
  } catch (e) {
    throw fail(file, e.code === 'ENOENT' ? 'no such file' : `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object') throw fail(file, 'is empty');
  if (!doc.name || !/^[a-z0-9][a-z0-9-]*$/.test(doc.name)) throw fail(file, 'needs a name of lowercase letters, digits and dashes');
  if (!Array.isArray(doc.stacks) || !doc.stacks.length) throw fail(file, 'needs at least one stack (stacks: [{compress: 30}])');
  const stacks = doc.stacks.map((s, i) => {
    const f = Number(s.compress ?? 1);
    if (!(f >= 1)) throw fail(file, `stacks[${i}].compress must be a number of at least 1`);
    return { compress: f, scrapeLoadgen: !!s.scrape_loadgen, until: s.until ? String(s.until) : null };
  });
  const whatIf = doc.kind === 'what-if';
  if (!whatIf) checkSteps(doc.steps || [], file);
  const plan = whatIf ? null : planSteps(doc.steps || []);
  if (whatIf && !doc.timeline) throw fail(file, 'a what-if scenario needs a timeline (events, end)');
  return {
    file,
    name: doc.name,
    summary: String(doc.summary || '').trim(),
    whatIf,
    rate: Number(doc.rate ?? 50),
    needsRoot: !!doc.needs_root,
    taskd: doc.taskd || {},
    load: doc.load || {},
    stacks,
    steps: doc.steps || [],
    plan,
    timeline: doc.timeline || null,
    expect: checkExpect(doc.expect ?? [], file),
    model: doc.model || { targets: [] },
  };
}

// Every *.yml scenario in a directory except the templates (models.yml), sorted by name.
export async function loadScenarioDir(dir) {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.yml') && f !== 'models.yml').sort();
  return Promise.all(names.map((f) => loadScenario(path.join(dir, f))));
}

export async function loadTemplates(dir) {
  try {
    const doc = parseYaml(await readFile(path.join(dir, 'models.yml'), 'utf8'));
    return doc?.templates || {};
  } catch (e) {
    if (e.code === 'ENOENT') return {};
    throw new ScenarioError(`${path.join(dir, 'models.yml')}: ${e.message.split('\n')[0]}`);
  }
}

const seriesKey = (s) => `${s.metric}${JSON.stringify(Object.entries(s.labels || {}).sort())}`;

// The model spec for model.mjs readModel(): templates merged, answers accumulated phase by
// phase, variables substituted.
export function modelSpec(scenario, templates, vars) {
  const targets = (scenario.model.targets || []).map((t, i) => {
    const where = `${scenario.file} model.targets[${i}]`;
    const base = t.template ? templates[t.template] : {};
    if (t.template && !base) throw new ScenarioError(`${where}: no template named ${t.template} in models.yml`);
    const merged = { ...structuredClone(base), ...t };
    delete merged.template;
    const series = new Map();
    for (const s of [...(base.series || []), ...(t.series || [])]) series.set(seriesKey(s), s);
    merged.series = [...series.values()];
    if (base.requests || t.answers || t.latency) {
      const req = structuredClone(base.requests || { rate: vars.rate, phases: [] });
      let answers = { ...(req.phases?.[req.phases.length - 1]?.answers || {}) };
      for (const a of t.answers || []) {
        answers = { ...answers, ...a.set };
        req.phases.push({ at: a.at, delay: a.delay, answers: { ...answers } });
      }
      if (t.latency) {
        req.latency ||= { phases: [] };
        req.latency.phases = [...(req.latency.phases || []), ...t.latency];
      }
      merged.requests = req;
    }
    delete merged.answers;
    delete merged.latency;
    return merged;
  });
  const spec = { ...scenario.model, targets };
  return substitute(spec, vars, `${scenario.file} model`);
}

// Whether an expectation applies to a stack of this compression.
export function expectationApplies(e, compress) {
  return !e.stacks || e.stacks.includes(compress);
}

// Whether an alert's labels are the ones an expectation selects.
export function expectationSelects(e, labels) {
  if (labels.alertname !== e.alert) return false;
  return Object.entries(e.labels).every(([k, v]) => labels[k] === v);
}
