// plan: a scenario turned into what a prediction needs, for one stack — the events (marks) on
// one clock, the variables, the model (model.mjs), the span to predict over — either nominal
// (from the scenario's steps and waits alone, for `validator alerts check`) or as they really
// happened (marks and measurements of a live run).
//
// API: nominalMarks(scenario, compress) -> { marks, end, prometheusStart, simulateFrom }
//      nominalVars(scenario, stack) -> variables for the model
//      buildPrediction({ scenario, templates, stack, marks, vars, end, prometheusStart,
//                        simulateFrom, runs, phases }) -> { prediction, model }

import { parseDuration } from './duration.mjs';
import { readModel } from './model.mjs';
import { predictAlerts } from './predict.mjs';
import { modelSpec } from './scenario.mjs';

// How long an action takes before its `.done` mark, when nothing measured it.
const NOMINAL_DONE_MS = { start_taskd: 150, signal_taskd: 0, fill: null, remove_target: 300, restore_target: 300 };

const BYTES = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, KB: 1e3, MB: 1e6, GB: 1e9 };

// "900MiB" -> bytes; "40MiB/s" -> bytes per second.
export function parseBytes(text, what) {
  const m = /^\s*([\d.]+)\s*(B|KiB|MiB|GiB|KB|MB|GB)(\/s)?\s*$/.exec(String(text));
  if (!m) throw new Error(`${what} '${text}' is not a size (like 900MiB or 40MiB/s)`);
  return Number(m[1]) * BYTES[m[2]];
}

// How long a background helper (actions.mjs: a Python process) takes to start and take its
// inodes, when nothing measured it.
const NOMINAL_HELPER_START_MS = 200;

function doneAfter(action, vars) {
  const [kind] = Object.keys(action);
  if (kind === 'fill') {
    const spec = action.fill;
    if (!spec.rate) return NOMINAL_HELPER_START_MS;
    const free = Number(vars.free_bytes);
    return NOMINAL_HELPER_START_MS + Math.max(0, Math.round(((free - parseBytes(spec.leave, 'fill.leave')) / parseBytes(spec.rate, 'fill.rate')) * 1000));
  }
  return NOMINAL_DONE_MS[kind] ?? 0;
}

// The marks an action makes about itself (`STEP.NAME`, actions.mjs), after the step's mark,
// when nothing measured them: when the fill took its inodes and began filling; the last scrape
// of a dropped target (within the interval before the drop), the first of one put back.
function subMarksAfter(action, vars) {
  const [kind] = Object.keys(action);
  const interval = Number(vars.scrape_interval) * 1000;
  if (kind === 'fill') return { ...(action.fill.leave_inodes !== undefined ? { inodes: NOMINAL_HELPER_START_MS } : {}), filling: NOMINAL_HELPER_START_MS };
  if (kind === 'remove_target') return { last_scrape: NOMINAL_DONE_MS.remove_target - interval / 2 };
  if (kind === 'restore_target') return { first_scrape: NOMINAL_DONE_MS.restore_target + interval / 2 };
  return {};
}

export function nominalVars(scenario, stack) {
  const tmpfs = scenario.taskd.tmpfs ? parseBytes(scenario.taskd.tmpfs, 'taskd.tmpfs') : null;
  return {
    taskd: '127.0.0.1:5000',
    loadgen: '127.0.0.1:9102',
    rate: scenario.rate,
    db: '/nominal/data/tasks.db',
    data: '/nominal/data',
    work: '/nominal',
    free_bytes: tmpfs ? tmpfs - 4 * 1024 ** 2 : 50e9,
    free_inodes: scenario.taskd.inodes ? Number(scenario.taskd.inodes) - 10 : 1e6,
    scrape_timeout: `${stack.timings.scrapeTimeout / 1000}s`,
    scrape_interval: stack.timings.scrape / 1000,
  };
}

// The marks a scenario's steps would make, at their nominal times: t = 0 when the steps start,
// Prometheus started a few seconds before (the stacks come up first).
export function nominalMarks(scenario, compress, vars) {
  const marks = {};
  const add = (name, t) => (marks[name] ||= []).push(t);
  if (scenario.whatIf) {
    const tl = scenario.timeline;
    const scaled = (v) => Math.round(parseDuration(v, 'timeline') / compress);
    const signed = (v) => (String(v).trim().startsWith('-') ? -scaled(String(v).trim().slice(1)) : scaled(v));
    for (const [k, v] of Object.entries(tl.events || {})) for (const t of [].concat(v)) add(k, signed(t));
    const prometheusStart = signed(tl.prometheus_start ?? '0s');
    marks.start = [prometheusStart];
    return { marks, end: signed(tl.end), prometheusStart, simulateFrom: tl.simulate_from !== undefined ? signed(tl.simulate_from) : prometheusStart };
  }
  for (const s of scenario.plan.steps) {
    if (s.mark) add(s.mark, s.at);
    if (s.mark && s.do) {
      add(`${s.mark}.done`, s.at + doneAfter(s.do, vars));
      for (const [name, after] of Object.entries(subMarksAfter(s.do, vars))) add(`${s.mark}.${name}`, s.at + after);
    }
  }
  // The service and its load start first (start), the stacks about 4 s before the steps.
  marks.start = [-6000];
  return { marks, end: scenario.plan.duration, prometheusStart: -4000, simulateFrom: -4000 };
}

// The jobs a stack of a scenario scrapes: taskd, and loadgen when it says so.
export function scrapedJobs(stackDef) {
  return stackDef.scrapeLoadgen ? ['taskd', 'loadgen'] : ['taskd'];
}

export function buildPrediction({ scenario, templates, stack, marks, vars, end, prometheusStart, simulateFrom, runs = 24, jobs = null }) {
  const spec = modelSpec(scenario, templates, vars);
  if (jobs) spec.targets = spec.targets.filter((t) => jobs.includes(t.job));
  spec.prometheus_start = prometheusStart / 1000;
  const model = readModel(spec, marks, `${scenario.file} model`);
  const prediction = predictAlerts({
    groups: stack.groups,
    am: stack.am,
    timings: stack.timings,
    model,
    start: simulateFrom,
    end,
    runs,
    marks,
  });
  return { prediction, model };
}
