// truth: checks the dashboards' numbers against a workload whose numbers are known — what the
// panels would show after a loadgen (or scripted) run, evaluated by the Prometheus that scraped it.
//
// Exact where exactness is possible: a panel's rate()/increase() over a counter is rewritten into
// the counter's delta between the last sample before the run and the first sample after it
// (no extrapolation, and series born during the run count from 0), so "Request rate by route and
// code" must add up to exactly the requests the client saw. Rates as displayed are compared with
// a tolerance; gauges at the end of the run exactly. A counter reset inside the window (a restart)
// breaks exactness: such runs are reported, not compared.

import { readFile } from 'node:fs/promises';
import { parser } from '@prometheus-io/lezer-promql';
import { instantQuery } from './prometheus.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function timeArg(v, what) {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (Number.isFinite(n)) return n;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`${what} "${v}" is neither unix seconds nor an RFC 3339 time`);
  return t / 1000;
}

function addTo(obj, key, n) {
  obj[key] = (obj[key] || 0) + n;
}

// The truth file: { from, to, requests: { total, by_route, by_class }, tasks, db_errors }.
export function normalizeTruth(j, source) {
  const req = j.requests || {};
  if (!Number.isFinite(Number(req.total))) throw new Error(`${source} has no requests.total: see dashboards/README.md for the truth file format`);
  const t = {
    from: timeArg(j.from, `${source} from`),
    to: timeArg(j.to, `${source} to`),
    total: Number(req.total),
    byRoute: req.by_route || null,
    byClass: req.by_class || null,
    clientCompleted: null,
    tasks: j.tasks ?? null,
    dbErrors: j.db_errors ?? null,
    notes: [],
  };
  if (t.from === undefined || t.to === undefined || !(t.to > t.from)) throw new Error(`${source} needs "from" < "to" (unix seconds or RFC 3339)`);
  return t;
}

// A loadgen --json result (schema taskbench.loadgen.result, versions 1 and 2: 2 added targets,
// failures and connections, none of which the truth reads; docs/loadgen-json.md):
// start_unix_ns and duration_seconds give the window, totals and routes[] the counts. Transport
// errors (class "error") never reached taskd, so the server-side truth leaves them out; the
// client-side truth (loadgen's own counter) keeps them.
export function truthFromLoadgen(j, source) {
  if (j.schema !== 'taskbench.loadgen.result' || (j.version !== 1 && j.version !== 2)) {
    throw new Error(`${source} is not a loadgen --json result of schema taskbench.loadgen.result version 1 or 2 (schema ${JSON.stringify(j.schema)}, version ${JSON.stringify(j.version)})`);
  }
  const need = (v, what) => {
    if (v === undefined || v === null) throw new Error(`${source} has no ${what}`);
    return v;
  };
  if (j.mode !== 'tasks') throw new Error(`${source} is a ${j.mode} run: only the task workload (not --raw or --targets) maps onto taskd's routes`);
  const ns = BigInt(need(j.start_unix_ns, 'start_unix_ns'));
  const from = Number(ns / 1000n) / 1e6;
  const totals = need(j.totals, 'totals');
  const classes = totals.classes || {};
  const completed = Number(need(totals.completed, 'totals.completed'));
  const t = {
    from,
    to: from + Number(need(j.duration_seconds, 'duration_seconds')),
    total: completed - Number(classes.error || 0),
    clientCompleted: completed,
    byRoute: {},
    byClass: {},
    tasks: null,
    dbErrors: null,
    notes: ['a loadgen result covers the measured period only: exact counts need a run without warm-up, and taskd idle before and after it'],
  };
  for (const [k, v] of Object.entries(classes)) if (k !== 'error') t.byClass[k] = Number(v);
  for (const r of j.routes || []) {
    let n = 0;
    for (const [k, v] of Object.entries(r.classes || {})) if (k !== 'error') n += Number(v);
    addTo(t.byRoute, need(r.route, `routes[${r.name}].route`), n);
  }
  if (Number(classes.error || 0) > 0) {
    t.notes.push(`${classes.error} requests ended in a transport error: taskd may have answered some of them (a timeout after the answer), so its counts may exceed the truth by as many`);
  }
  if (Number(totals.cancelled || 0) > 0) {
    t.notes.push(`${totals.cancelled} requests were still in flight when the run ended: taskd may have answered them`);
  }
  return t;
}

export async function loadTruth({ truthFile, loadgenResult }) {
  const file = truthFile || loadgenResult;
  let j;
  try {
    j = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${file}: ${e.message}`);
  }
  return truthFile ? normalizeTruth(j, file) : truthFromLoadgen(j, file);
}

// Rewrites every rate()/irate()/increase() of a plain range selector into the exact counter delta
// over `offsetMs` ending at the evaluation time: its last sample in the window minus its sample at
// the window's start (0 for a series born inside the window).
export function counterDeltaForm(expr, offsetMs) {
  const tree = parser.parse(expr);
  const edits = [];
  tree.iterate({
    enter(n) {
      if (n.type.name !== 'FunctionCall') return;
      const id = n.node.getChild('FunctionIdentifier');
      const fn = expr.slice(id.from, id.to);
      if (!['rate', 'irate', 'increase'].includes(fn)) return;
      const body = n.node.getChild('FunctionCallBody');
      const ms = body?.getChild('MatrixSelector');
      const vs = ms?.getChild('VectorSelector');
      if (!vs) throw new Error(`${fn}() of something other than a plain range selector cannot be made exact: ${expr}`);
      const sel = expr.slice(vs.from, vs.to);
      // last_over_time: the last sample in the window even when the target has stopped since
      // (loadgen exits at the end of its run, and its series go stale).
      const last = `last_over_time(${sel}[${offsetMs}ms])`;
      edits.push({ from: n.from, to: n.to, text: `(${last} - (${sel} offset ${offsetMs}ms or ${last} * 0))` });
      return false;
    },
  });
  let out = expr;
  for (const e of edits.sort((a, b) => b.from - a.from)) out = out.slice(0, e.from) + e.text + out.slice(e.to);
  return out;
}

// The plain selectors under rate()/irate()/increase() in an expression.
function rateSelectors(expr) {
  const out = [];
  parser.parse(expr).iterate({
    enter(n) {
      if (n.type.name !== 'FunctionCall') return;
      const id = n.node.getChild('FunctionIdentifier');
      if (!['rate', 'irate', 'increase'].includes(expr.slice(id.from, id.to))) return;
      const vs = n.node.getChild('FunctionCallBody')?.getChild('MatrixSelector')?.getChild('VectorSelector');
      if (vs) out.push(expr.slice(vs.from, vs.to));
    },
  });
  return out;
}

// The checks: which panel, which number of the truth. `select(truth)` returns the expected value
// or null when the truth does not know it.
const CHECKS = [
  {
    dashboard: 'taskbench-red', panel: 'Request rate by route and code', refId: 'A', kind: 'delta',
    groups: [
      { what: 'requests', by: null, expect: (t) => t.total },
      { what: 'requests on route', by: 'route', expect: (t) => t.byRoute },
      { what: 'responses of class', by: 'code', classOf: true, expect: (t) => t.byClass },
    ],
  },
  { dashboard: 'taskbench-red', panel: 'Error ratio', refId: 'A', kind: 'ratio', expect: (t) => (t.byClass ? (t.byClass['5xx'] || 0) / t.total : null) },
  { dashboard: 'taskbench-red', panel: 'Request rate', refId: 'A', kind: 'rate', expect: (t) => t.total },
  {
    dashboard: 'taskbench-client-server', panel: 'Request rate: client vs server', refId: 'A', kind: 'delta', optional: true,
    groups: [{ what: 'requests loadgen completed', by: null, expect: (t) => t.clientCompleted }],
  },
  { dashboard: 'taskbench-db', panel: 'Tasks stored', refId: 'A', kind: 'gauge', expect: (t) => t.tasks },
  { dashboard: 'taskbench-db', panel: 'Database errors by code', refId: 'A', kind: 'delta', groups: [{ what: 'database errors', by: null, expect: (t) => t.dbErrors }] },
];

function fmt(v) {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

// Runs the truth checks. opts: { prometheus, dashboards: Map uid -> Dashboard (dashboard_model,
// variables resolved), overrides, truth, waitMs, settleMs, rateTolerance, report }. Every number
// compared becomes a report result (ok or fail, check "truth"); what cannot be compared, a note.
// Resolves to { failures, passes }.
export async function runTruth(opts) {
  const { prometheus, truth, report } = opts;
  const job = opts.overrides.job ?? 'taskd';
  const result = { failures: 0, passes: 0 };
  let current = {};
  const fail = (m) => {
    result.failures++;
    report.result('truth', current, 'fail', m);
  };
  const pass = (m) => {
    result.passes++;
    report.result('truth', current, 'ok', m);
  };
  const log = (m) => report.note(m);
  const here = (m) => report.note(m, current);
  for (const n of truth.notes) log(n);

  // The first scrape of taskd that started after the run ended (plus a settle margin, since a
  // response can reach the client just before taskd counts it).
  const wanted = truth.to + opts.settleMs / 1000;
  const deadline = Date.now() + opts.waitMs;
  let tEnd = null;
  for (;;) {
    const r = await instantQuery(prometheus, `max(timestamp(up{job=~"${job}"}))`);
    const ts = r.length ? r[0].value : null;
    if (ts !== null && ts >= wanted) {
      tEnd = ts;
      break;
    }
    if (Date.now() > deadline) {
      throw new Error(`Prometheus at ${prometheus} has no scrape of job "${job}" after the run ended (last: ${ts === null ? 'none' : new Date(ts * 1000).toISOString()}); is it scraping taskd, and is --var job right?`);
    }
    await sleep(200);
  }
  const offsetMs = Math.round((tEnd - truth.from) * 1000);
  // The last scrape at or before the start of the run: the baseline of every delta.
  const baseline = await instantQuery(prometheus, `max(timestamp(up{job=~"${job}"}))`, truth.from);
  const tBase = baseline.length ? baseline[0].value : truth.from;
  if (!baseline.length) log('note: taskd was not scraped before the run started: counters are taken as 0 at the start');
  const resets = await instantQuery(prometheus, `sum(changes(process_start_time_seconds{job=~"${job}"}[${offsetMs}ms]))`, tEnd);
  if (resets.length && resets[0].value > 0) {
    current = { item: 'run' };
    fail('taskd restarted during the run (process_start_time_seconds changed): counter deltas are not exact; nothing compared');
    return result;
  }
  report.inputs.window = { from: new Date(truth.from * 1000).toISOString(), to: new Date(truth.to * 1000).toISOString(), evaluated_at: new Date(tEnd * 1000).toISOString() };
  report.note(`window ${report.inputs.window.from} .. ${report.inputs.window.to}, evaluated at the scrape of ${report.inputs.window.evaluated_at}`);

  for (const c of CHECKS) {
    const d = opts.dashboards.get(c.dashboard);
    const panel = d && d.panels.find((p) => p.title === c.panel);
    const target = panel?.targets?.find((t) => t.refId === c.refId);
    current = target ? target.where : { file: d ? d.file : c.dashboard, panel: { title: c.panel }, target: c.refId };
    if (!target || !target.expr) {
      fail('not found (renamed or removed? update CHECKS in dashboards/validator/lib/truth.mjs)');
      continue;
    }
    const macros = { __rate_interval: '1m', __interval: '15s', __range: '1h' };
    const { text } = d.substitute(target.expr, macros);
    if (c.kind === 'delta' || c.kind === 'ratio') {
      const exact = counterDeltaForm(text, offsetMs);
      const rows = await instantQuery(prometheus, exact, tEnd);
      if (c.optional) {
        if (!c.groups.some((g) => g.expect(truth) !== null)) continue;
        if (rows.length === 0) {
          here(`no series (is Prometheus scraping loadgen as job "${opts.overrides.loadgen_job}"?); not compared`);
          continue;
        }
        // loadgen stops serving /metrics when it exits: unless a scrape came after its run ended,
        // the requests of its last moments are not in Prometheus. (timestamp() of the up series
        // itself: a comparison's result would carry the evaluation time instead.)
        const lj = opts.overrides.loadgen_job ?? 'loadgen';
        const last = await instantQuery(prometheus, `max(max_over_time((timestamp(up{job=~"${lj}"}) and up{job=~"${lj}"} == 1)[${offsetMs}ms:100ms]))`, tEnd);
        const lastTs = last.length ? last[0].value : null;
        if (lastTs === null || lastTs < truth.to) {
          here(`loadgen's last scrape (${lastTs === null ? 'none' : new Date(lastTs * 1000).toISOString()}) came before its run ended, so its final requests are not in Prometheus; not compared (keep loadgen serving /metrics for one scrape interval after the run)`);
          continue;
        }
      }
      if (c.kind === 'ratio') {
        const expect = c.expect(truth);
        if (expect === null) continue;
        const got = rows.length ? rows[0].value : 0;
        const ok = Math.abs(got - expect) < 1e-9;
        (ok ? pass : fail)(`${fmt(got)} over the run (truth ${fmt(expect)})`);
        continue;
      }
      for (const g of c.groups) {
        const expect = g.expect(truth);
        if (expect === null || expect === undefined) continue;
        if (g.by === null) {
          const got = rows.reduce((s, r) => s + r.value, 0);
          (got === expect ? pass : fail)(`${g.what} ${fmt(got)} (truth ${fmt(expect)})`);
          continue;
        }
        const got = {};
        for (const r of rows) {
          const key = g.classOf ? `${String(r.metric[g.by] || '?')[0]}xx` : r.metric[g.by];
          addTo(got, key, r.value);
        }
        for (const key of new Set([...Object.keys(got), ...Object.keys(expect)])) {
          const gv = got[key] || 0;
          const ev = Number(expect[key] || 0);
          (gv === ev ? pass : fail)(`${g.what} ${key} ${fmt(gv)} (truth ${fmt(ev)})`);
        }
      }
    } else if (c.kind === 'rate') {
      // As displayed, with $__rate_interval widened to reach back to the last scrape before the
      // run: rate() then spans exactly the run's increase (extrapolated by a millisecond at most).
      const rangeMs = Math.ceil((tEnd - tBase) * 1000) + 1;
      const windowed = d.substitute(target.expr, { ...macros, __rate_interval: `${rangeMs}ms` }).text;
      const rows = await instantQuery(prometheus, windowed, tEnd);
      const got = rows.length ? rows[0].value : 0;
      const expect = c.expect(truth) / (rangeMs / 1000);
      // rate() cannot see what a series counted before its first sample: when a series first
      // appears inside the window (a route or code seen for the first time), the displayed rate
      // reads low by design, and comparing it says nothing about the panel.
      let born = 0;
      for (const sel of rateSelectors(windowed)) {
        const r = await instantQuery(prometheus, `count(${sel} unless ${sel} offset ${Math.round((tEnd - tBase) * 1000)}ms)`, tEnd);
        born += r.length ? r[0].value : 0;
      }
      if (born) {
        here(`${born} of its series first appeared during the run; rate() misses what a series counted before its first sample, so the displayed rate (${fmt(got)}/s) is not compared with the truth (${fmt(expect)}/s)`);
        continue;
      }
      const rel = expect === 0 ? Math.abs(got) : Math.abs(got - expect) / expect;
      (rel <= opts.rateTolerance ? pass : fail)(
        `${fmt(got)}/s over the run (truth ${fmt(expect)}/s, off by ${(rel * 100).toFixed(2)}%, tolerance ${(opts.rateTolerance * 100).toFixed(0)}%)`,
      );
    } else if (c.kind === 'gauge') {
      const expect = c.expect(truth);
      if (expect === null) continue;
      const rows = await instantQuery(prometheus, text, tEnd);
      const got = rows.reduce((s, r) => s + r.value, 0);
      (got === expect ? pass : fail)(`${fmt(got)} at the end of the run (truth ${fmt(expect)})`);
    }
  }
  return result;
}
