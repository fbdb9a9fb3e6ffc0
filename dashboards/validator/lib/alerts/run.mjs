// run: the scenarios live (validator alerts run). Every scenario at once, each with its own taskd
// (a fresh database, on a tmpfs in a private mount namespace when it asks), its loadgen, and one
// native stack per compression it names (stack/local/stack.sh: real Prometheus and Alertmanager,
// their own ports), all posting to one webhook receiver; the steps run on the clock and mark
// when each fault began and ended. Afterwards, per stack: the ALERTS history, the notifications,
// the held-back alerts and the counters are read; the prediction is made for the marks as they
// really fell; then, per alert, predicted vs measured, the scenario's expectations against what
// was measured, every payload, and Prometheus's and Alertmanager's counters against the receiver.
//
// API: runScenarios({ inputs, opts, work, report, print }) -> { tables }

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { displayPath, ROOT } from '../paths.mjs';
import { performAction } from './actions.mjs';
import { whereOf } from './check.mjs';
import { compareOutcomes, measuredOutcome } from './compare.mjs';
import { seconds } from './duration.mjs';
import { judgeExpectations, labelText } from './judge.mjs';
import { alertEpisodes, metricValue, notificationCounters, pollSuppressed, startedAt, waitStackReady } from './observe.mjs';
import { parseBytes, scrapedJobs } from './plan.mjs';
import { predictInWorkers } from './predict_worker.mjs';
import { Cleanup, MountNamespace, stackDown, stackRunning, stackUp, startLoadgen, startTaskd } from './processes.mjs';
import { apiGet } from '../prometheus.mjs';
import { checkPayload, startReceiver } from './receiver.mjs';
import { expectationApplies, expectationSelects, substitute } from './scenario.mjs';
import { degenerateLookup, ruleOf } from './compression.mjs';
import { ruleLabel } from './rule_set.mjs';
import { readStack } from './stack_config.mjs';
import { httpGet } from '../http.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function scrapeValue(url, name) {
  try {
    return metricValue((await httpGet(`${url}/metrics`, 5000)).body, name);
  } catch {
    return null;
  }
}

// Reads everything a stack did between `from` and now, while it still runs.
async function collectStack(st, from) {
  const to = Date.now();
  st.end = to;
  st.episodes = await alertEpisodes(st.env.PROMETHEUS_URL, from, to, st.config.timings.evaluation);
  // The counters settle once nothing is in flight: read until two readings agree.
  let prev = null;
  for (let i = 0; i < 10; i++) {
    const c = await notificationCounters(st.env.PROMETHEUS_URL, st.env.ALERTMANAGER_URL);
    if (prev && JSON.stringify(prev) === JSON.stringify(c)) break;
    prev = c;
    await sleep(300);
  }
  st.counters = prev;
  const rules = await apiGet(st.env.PROMETHEUS_URL, '/api/v1/rules');
  st.ruleErrors = rules.groups.flatMap((g) => g.rules).filter((r) => r.health === 'err').map((r) => `${r.name}: ${r.lastError}`);
  st.alive = false;
  await stackDown(st.dir);
  st.stopped = !(await stackRunning(st.dir));
}

async function runOne(scenario, { inputs, bins, receiver, work, log }) {
  const cleanup = new Cleanup();
  const dir = path.join(work, scenario.name);
  const data = path.join(dir, 'data');
  await mkdir(data, { recursive: true });
  const marks = { start: [] };
  const out = { scenario, marks, stacks: [], errors: [], dir };
  const background = new Map();
  let polling = false;
  let poller = Promise.resolve();
  try {
    let namespace = null;
    if (scenario.taskd.tmpfs) {
      namespace = await MountNamespace.create(dir, cleanup);
      await namespace.mountTmpfs(data, { size: `${Math.round(parseBytes(scenario.taskd.tmpfs, 'taskd.tmpfs'))}`, inodes: scenario.taskd.inodes });
    }
    const db = path.join(data, 'tasks.db');
    const args = [...(scenario.taskd.args || [])];
    // A database made by an earlier start, so that this taskd did not create one.
    const first = await startTaskd({ bin: bins.taskd, dir, db, args, namespace, cleanup });
    await first.stop();
    let taskd = await startTaskd({ bin: bins.taskd, dir, db, args, port: first.port, namespace, cleanup });
    const taskdAddr = `127.0.0.1:${taskd.port}`;
    marks.start.push(Date.now());
    // The load outlasts the stacks' start (up to 300 s, see stackUp) and the steps.
    const budget = scenario.plan.duration / 1000 + 360;
    const load = await startLoadgen({ bin: bins.loadgen, url: taskd.url, rate: scenario.rate, seconds: budget, mix: scenario.load.mix || null, cleanup });
    const free = await scrapeValue(taskd.url, 'taskd_data_dir_free_bytes');
    const inodes = await scrapeValue(taskd.url, 'taskd_data_dir_free_inodes');
    out.stacks = scenario.stacks.map((st) => ({ ...st, id: `${scenario.name}-${st.compress}x`, dir: path.join(dir, `stack-${st.compress}x`), alive: true, suppressed: [] }));
    await Promise.all(out.stacks.map(async (st) => {
      st.env = await stackUp({
        dir: st.dir, compress: st.compress, taskd: taskdAddr, loadgen: st.scrapeLoadgen ? load.metrics : null,
        webhook: receiver.url(st.id), rulesDir: inputs.rulesDir, alertmanagerConfig: inputs.alertmanagerConfig, cleanup,
      });
      st.config = await readStack(st.dir);
      st.prometheusStart = await startedAt(st.env.PROMETHEUS_URL);
      // Every target up: taskd (and loadgen), Prometheus itself and Alertmanager.
      await waitStackReady(st.env.PROMETHEUS_URL, [...scrapedJobs(st), 'prometheus', 'alertmanager']);
      // From here on the stack is judged: what a starting Prometheus does before it has scraped
      // its targets (absent() true, alerts sent before Alertmanager is discovered and dropped)
      // belongs to its start, not to the scenario.
      st.readyAt = Date.now();
      // What Prometheus loaded: every rule of the files, none failing to evaluate.
      const loaded = await apiGet(st.env.PROMETHEUS_URL, '/api/v1/rules');
      st.loadedRules = loaded.groups.flatMap((g) => g.rules.map((r) => ({ name: r.name, health: r.health, lastError: r.lastError })));
      st.countersAtReady = await notificationCounters(st.env.PROMETHEUS_URL, st.env.ALERTMANAGER_URL);
    }));
    out.vars = {
      taskd: taskdAddr, loadgen: load.metrics, rate: scenario.rate, db, data, work: dir,
      free_bytes: free ?? 50e9, free_inodes: inodes ?? 1e6,
      scrape_timeout: `${out.stacks[0].config.timings.scrapeTimeout / 1000}s`,
      scrape_interval: out.stacks[0].config.timings.scrape / 1000,
    };
    // Alertmanager's held-back alerts, every half second while the scenario runs.
    polling = true;
    poller = (async () => {
      while (polling) {
        await Promise.all(out.stacks.filter((st) => st.alive).map(async (st) => {
          try {
            const t = Date.now();
            for (const s of await pollSuppressed(st.env.ALERTMANAGER_URL)) st.suppressed.push({ ...s, t });
          } catch {
            // a stack going down
          }
        }));
        await sleep(500);
      }
    })();
    let failure = null;
    const ctx = {
      vars: out.vars, dir, namespace, cleanup, background, stacks: out.stacks,
      get taskd() {
        return taskd;
      },
      async restartTaskd({ db: other = null } = {}) {
        if (taskd.child.exitCode === null && taskd.child.signalCode === null) await taskd.stop();
        taskd = await startTaskd({ bin: bins.taskd, dir, db: other || db, args, port: taskd.port, namespace, cleanup });
      },
      done: null,
      fail: (e) => {
        failure ||= e;
      },
    };
    const t0 = Date.now();
    log(`${scenario.name}: steps begin (${seconds(scenario.plan.duration)} s)`);
    for (const step of scenario.plan.steps) {
      await sleep(t0 + step.at - Date.now());
      if (failure) throw failure;
      if (step.mark) (marks[step.mark] ||= []).push(Date.now());
      if (step.do) {
        const name = step.mark ? `${step.mark}.done` : null;
        ctx.done = (t = Date.now()) => {
          if (name) (marks[name] ||= []).push(t);
        };
        // What the action measured about itself: when a helper really began, when Prometheus
        // really stopped scraping (a stack's own marks, over the scenario's in its prediction).
        ctx.mark = (sub, t, stack = null) => {
          if (!step.mark) return;
          const into = stack ? (stack.marks ||= {}) : marks;
          (into[`${step.mark}.${sub}`] ||= []).push(t);
        };
        await performAction(substitute(step.do, out.vars, `${scenario.file} steps`), ctx);
        if (name && !Object.keys(step.do).some((k) => k === 'fill')) (marks[name] ||= []).push(Date.now());
      }
      for (const st of out.stacks.filter((s) => s.alive && s.until && step.mark === s.until)) {
        await collectStack(st, st.prometheusStart);
      }
    }
    await sleep(t0 + scenario.plan.duration - Date.now());
    polling = false;
    await poller;
    if (failure) throw failure;
    for (const st of out.stacks.filter((s) => s.alive)) await collectStack(st, st.prometheusStart);
    log(`${scenario.name}: done`);
  } catch (e) {
    out.errors.push(e.message);
  } finally {
    polling = false;
    await poller;
    for (const h of background.values()) await h.stop();
    await cleanup.run();
  }
  for (const st of out.stacks) st.posts = receiver.posts(st.id);
  return out;
}

function deltaCounters(end, start) {
  const out = {};
  for (const [side, values] of Object.entries(end)) {
    out[side] = {};
    for (const [k, v] of Object.entries(values)) out[side][k] = v === null ? null : v - (start[side][k] ?? 0);
  }
  return out;
}

function rulesByName(groups) {
  const m = new Map();
  for (const g of groups) for (const r of g.rules) if (r.kind === 'alert') (m.get(r.name) || m.set(r.name, []).get(r.name)).push(r);
  return m;
}

// The marks of a run as one stack saw them: the scenario's, and its own (a target's last scrape).
function stackMarks(res, st) {
  return { ...res.marks, ...st.marks };
}

// What buildPrediction() needs for one stack of a finished run (run in a worker thread).
function predictionJob(res, st, { runs, templates }) {
  return {
    scenario: res.scenario, templates, stackDir: st.dir, marks: stackMarks(res, st), vars: res.vars, end: st.end,
    prometheusStart: st.prometheusStart, simulateFrom: st.prometheusStart, runs, jobs: scrapedJobs(st),
  };
}

// Everything about one stack of one scenario, into the report; returns the per-alert rows.
function judgeStack(res, st, prediction, { report, tolerance, runs }) {
  const { scenario } = res;
  const marks = stackMarks(res, st);
  const where = { file: displayPath(scenario.file), item: `scenario ${scenario.name} at ${st.compress}x` };
  for (const e of prediction.errors) report.note(`prediction: ${e}`, where);
  const measured = measuredOutcome({ episodes: st.episodes, posts: st.posts, suppressed: st.suppressed, marks });
  const named = (labels) => scenario.expect.some((e) => expectationApplies(e, st.compress) && expectationSelects(e, labels));
  const degenerate = degenerateLookup(st.config.groups, st.config.timings, named);
  const rows = compareOutcomes(prediction, measured, { tolerance, end: st.end, runs, degenerate, from: st.readyAt });
  for (const r of rows) {
    report.result('alert-timing', whereOf(scenario, r.labels), r.verdict, `[${st.compress}x] ${r.message}`, { compress: st.compress, slot: r.slot.name, items: r.items });
  }
  const afterReady = { runs: 1, alerts: measured.alerts.map((a) => ({ ...a, episodes: a.episodes.filter((e) => !e.pending || e.pending.max >= st.readyAt) })) };
  for (const v of judgeExpectations({ outcome: afterReady, scenario, compress: st.compress, marks, end: st.end, degenerate })) {
    report.result('alert-expectation', whereOf(scenario, v.alert), v.verdict, `[${st.compress}x, measured] ${v.message}`);
  }
  // The stack itself: every rule loaded and evaluated without error, stopped at the end.
  const expected = st.config.groups.flatMap((g) => g.rules.map((r) => r.name)).sort();
  const loaded = (st.loadedRules || []).map((r) => r.name).sort();
  const stackProblems = [];
  if (JSON.stringify(expected) !== JSON.stringify(loaded)) stackProblems.push(`Prometheus loaded ${loaded.length} rules, the files have ${expected.length}`);
  if (st.ruleErrors?.length) stackProblems.push(`rules failing to evaluate: ${st.ruleErrors.join('; ')}`);
  if (!st.stopped) stackProblems.push('stack.sh down left Prometheus or Alertmanager running');
  report.result('alert-stack', where, stackProblems.length ? 'fail' : 'ok', `[${st.compress}x] ${stackProblems.length ? stackProblems.join('; ') : `Prometheus loaded all ${expected.length} rules (compressed ${st.compress}x: scrape and evaluation every ${seconds(st.config.timings.scrape)} s) and evaluated them without error; stack.sh down stopped both servers`}`);
  // Payloads.
  const rules = rulesByName(st.config.groups);
  let bad = 0;
  for (const p of st.posts) {
    const problems = p.error ? [p.error] : checkPayload(p.body, { am: st.config.am, rules });
    if (problems.length) {
      bad++;
      report.result('alert-payload', where, 'fail', `[${st.compress}x] the notification to ${p.body?.receiver} at ${seconds(p.t - marks.start[0])} s: ${problems.join('; ')}`);
    }
  }
  if (st.posts.length && !bad) report.result('alert-payload', where, 'ok', `[${st.compress}x] ${st.posts.length} notifications, each a version 4 payload with the route's receiver, group key and group labels, its rule's labels, no unrendered template, startsAt/endsAt right`);
  // Counters: what was sent against what arrived, over the stack's whole life; errors, drops and
  // failures since it was ready (a starting Prometheus drops what it sends before it has found
  // its Alertmanager).
  const c = st.counters;
  const since = st.counters && st.countersAtReady ? deltaCounters(st.counters, st.countersAtReady) : null;
  if (c) {
    const alertsSent = c.prometheus.sent;
    const received = c.alertmanager.received;
    const notes = c.alertmanager.notifications - (c.alertmanager.failed || 0);
    const problems = [];
    if (alertsSent !== received) problems.push(`Prometheus sent ${alertsSent} alerts, Alertmanager received ${received}`);
    if (notes !== st.posts.length) problems.push(`Alertmanager counts ${notes} webhook notifications, the receiver got ${st.posts.length}`);
    for (const [k, v] of [['prometheus_notifications_errors_total', since.prometheus.errors], ['prometheus_notifications_dropped_total', since.prometheus.dropped], ['alertmanager_notifications_failed_total', since.alertmanager.failed], ['alertmanager_alerts_invalid_total', since.alertmanager.invalid]]) {
      // A reload replaces Prometheus's set of Alertmanagers, which is empty until discovery has
      // run again: what it sends meanwhile is dropped (and sent again at the next resend).
      if (v && k.includes('dropped') && st.reloads) report.note(`[${st.compress}x] ${k} grew by ${v} across ${st.reloads} configuration reloads (alerts sent while Prometheus had not found its Alertmanager again)`, where);
      else if (v) problems.push(`${k} grew by ${v}`);
    }
    report.result('alert-counters', where, problems.length ? 'fail' : 'ok', `[${st.compress}x] ${problems.length ? problems.join('; ') : `Prometheus sent ${alertsSent} alerts and Alertmanager received them all (${c.alertmanager.receivedFiring} firing, ${c.alertmanager.receivedResolved} resolved); it sent ${notes} webhook notifications and the receiver got ${st.posts.length}; no errors, drops or failures`}`, c);
  }
  return rows.map((r) => ({ scenario: scenario.name, compress: st.compress, ...r }));
}

// The per-alert table: each alert rule of the files, every live episode of it that fired (where
// and after which mark), the notification and firing windows predicted and the times measured.
function table(rows, groups) {
  const alertRules = groups.flatMap((g) => g.rules).filter((r) => r.kind === 'alert');
  const out = [['alert rule (and instance)', 'scenario', 'after', 'notified: predicted', 'measured', 'firing: predicted', 'measured', 'resolved: predicted', 'measured', 'verdict']];
  for (const rule of alertRules) {
    const name = ruleLabel(rule, alertRules);
    const mine = rows.filter((r) => r.predicted?.firing && ruleOf(groups, r.labels) === rule);
    if (!mine.length) {
      out.push([name, '(not fired live here)', '', '', '', '', '', '', '', '']);
      continue;
    }
    for (const r of mine) {
      const inst = Object.entries(r.labels).filter(([k]) => ['method', 'route', 'state', 'code'].includes(k)).map(([k, v]) => `${k}=${v}`).join(' ');
      const n = r.items.find((i) => i.what.startsWith('notified')) || null;
      const f = r.items.find((i) => i.what === 'firing');
      const res = r.items.find((i) => i.what === 'resolved');
      out.push([`${name}${inst ? ` ${inst}` : ''}`, `${r.scenario}@${r.compress}x`, r.slot.name,
        n ? `${n.what.replace('notified ', '')} ${n.predicted}` : 'nobody (held back or silent)', n ? n.measured : '-',
        f.predicted, f.measured, res ? res.predicted : r.predicted?.resolved ? 'in some runs' : 'after the run', res ? res.measured : '-',
        r.verdict === 'ok' ? 'ok' : r.verdict === 'fail' ? 'FAIL' : 'not decidable']);
    }
  }
  const widths = out[0].map((_, c) => Math.min(60, Math.max(...out.map((row) => row[c].length))));
  return ['', ...out.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd())];
}

export async function runScenarios({ inputs, opts, work, report, print }) {
  const binDir = opts.bin || path.join(ROOT, 'build/bin');
  const bins = { taskd: path.join(binDir, 'taskd'), loadgen: path.join(binDir, 'loadgen') };
  const log = (m) => {
    if (print) console.error(`alerts: ${m}`);
  };
  const root = process.getuid?.() === 0;
  const live = inputs.scenarios.filter((s) => !s.whatIf && (root || !s.needsRoot));
  for (const s of inputs.scenarios.filter((x) => x.needsRoot && !root)) {
    report.result('alert-scenario', { file: displayPath(s.file), item: `scenario ${s.name}` }, 'not_checked', 'needs root (a tmpfs in a private mount namespace); run as root');
  }
  const tolerance = opts.tolerance ?? 500;
  const runs = opts.runs || 32;
  const receiver = await startReceiver();
  const stop = () => receiver.stop();
  // Each scenario is predicted for its marks as they fell as soon as it is done; while others
  // still run, in niced threads, so that their stacks keep their timing.
  let running = live.length;
  let results;
  try {
    results = await Promise.all(live.map(async (s) => {
      const res = await runOne(s, { inputs, bins, receiver, work, log });
      running--;
      if (!res.errors.length) {
        log(`${s.name}: predicting ${res.stacks.length} stack${res.stacks.length > 1 ? 's' : ''} for the marks as they fell${running ? ' (niced: other scenarios still run)' : ''}`);
        res.predictions = predictInWorkers(res.stacks.map((st) => predictionJob(res, st, { runs, templates: inputs.templates })), undefined, { nice: running ? 10 : 0 });
        res.predictions.catch(() => {}); // awaited below
      }
      return res;
    }));
  } finally {
    await stop();
  }
  const rows = [];
  for (const res of results) {
    for (const e of res.errors) report.finding('alert-run', { file: displayPath(res.scenario.file), item: `scenario ${res.scenario.name}` }, `the run failed: ${e}`);
    if (res.errors.length) continue;
    const predictions = await res.predictions;
    res.stacks.forEach((st, i) => rows.push(...judgeStack(res, st, predictions[i], { report, tolerance, runs })));
  }
  const decided = rows.filter((r) => r.verdict !== 'not_checked');
  const groups = results.find((r) => r.stacks[0]?.config)?.stacks[0].config.groups || [];
  const alertRules = groups.flatMap((g) => g.rules).filter((r) => r.kind === 'alert');
  // Alert rules (each burn-rate pair its own) that fired live inside their predicted windows.
  const identity = (labels) => {
    const rule = ruleOf(groups, labels);
    return rule ? ruleLabel(rule, alertRules) : labels.alertname;
  };
  const timed = new Set(rows.filter((r) => r.verdict === 'ok' && r.predicted?.firing && r.measured?.firing).map((r) => identity(r.labels)));
  const total = alertRules.length;
  if (print) for (const l of table(rows, groups)) console.log(l);
  const outside = rows.flatMap((r) => r.items.map((i) => i.outside)).filter((x) => x !== null && x !== undefined);
  const inside = outside.filter((x) => x === 0).length;
  const worst = outside.length ? Math.max(...outside) : 0;
  report.stats.alerts = { timed_live: timed.size, total_alert_rules: total, rows: rows.length, failed: rows.filter((r) => r.verdict === 'fail').length, times_measured: outside.length, times_inside: inside, worst_outside_ms: worst };
  if (print) console.log(`\n${outside.length} measured times: ${inside === outside.length ? 'all' : inside} inside their predicted windows${inside === outside.length ? '' : `, the rest at most ${worst} ms outside`} (tolerance ${tolerance} ms)`);
  report.stats.alerts.timed_rules = [...timed].sort();
  // What each run did when (epoch ms): enough to predict it again, or to read a kept stack's data.
  report.stats.alerts.runs = results.map((res) => ({
    scenario: res.scenario.name, marks: res.marks, vars: res.vars,
    stacks: res.stacks.map((st) => ({ compress: st.compress, dir: st.dir, marks: st.marks || {}, prometheus_start: st.prometheusStart, ready_at: st.readyAt ?? null, end: st.end ?? null })),
  }));
  report.summary(`${report.findings.length ? 'FAIL' : 'ok'}: ${live.length} scenarios on ${results.reduce((n, r) => n + r.stacks.length, 0)} stacks; ${timed.size} of ${total} alert rules fired live inside their predicted windows; ${decided.filter((r) => r.verdict === 'ok').length} of ${decided.length} predicted episodes matched (tolerance ${tolerance} ms)`);
  return { rows };
}
