#!/usr/bin/env node
// validate: taskbench's dashboard validator.
//
//   static (default): every dashboard under dashboards/ against a live scrape of taskd (and of
//     loadgen), Prometheus's own PromQL parser, Grafana's LogQL grammar, the provisioned
//     datasources and the runbooks. Exit 0 clean, 1 findings, 2 usage or setup error.
//   truth: the dashboards' key numbers, evaluated by a Prometheus that scraped a known workload,
//     against what the workload recorded (a loadgen --json result or a truth file).

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lokiLabels, parseAlloy } from './lib/alloy.mjs';
import { StaticChecker } from './lib/check.mjs';
import { markdownAnchors } from './lib/grafana.mjs';
import { logFields } from './lib/logql.mjs';
import { startPrometheus } from './lib/prometheus.mjs';
import { exists, provisionedDatasources, recordingRules } from './lib/provisioning.mjs';
import { loadScrape } from './lib/scrape.mjs';
import { loadTruth, runTruth, timeArg } from './lib/truth.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const USAGE = `usage: validate.mjs [static] --taskd-scrape FILE|URL [options] [DASHBOARD.json ...]
       validate.mjs truth --prometheus URL (--truth FILE | --loadgen-result FILE) [options]

static: checks every dashboard (default: dashboards/*.json) without running Grafana.
  --taskd-scrape FILE|URL    a /metrics scrape of a running taskd (required)
  --loadgen-scrape FILE|URL  a scrape of loadgen --metrics-listen; without it loadgen_* metrics
                             are reported as not checked
  --taskd-log FILE           a taskd JSON log: LogQL filters must name fields it has
                             (repeatable; fields of database errors need a log of a fault)
  --provisioning DIR         Grafana provisioning (default stack/grafana/provisioning)
  --runbooks FILE            runbook anchors to check links against (default docs/runbooks.md)
  --rules DIR                Prometheus rule files whose recording rules panels may use
                             (default stack/prometheus)
  --alloy FILE               the Alloy config whose Loki labels stream selectors may use
                             (default stack/alloy/config.alloy)
  --prometheus-parser URL    parse PromQL with this running Prometheus (2.42+)
  --prometheus-bin PATH      otherwise start this prometheus on 127.0.0.1:0 (default: prometheus)
  --no-prometheus            parse with lezer-promql only (Prometheus's grammar, not its parser)

truth: compares panels with a known workload.
  --prometheus URL           the Prometheus that scraped taskd during the run
  --truth FILE               {"from","to","requests":{"total","by_route","by_class"},"tasks","db_errors"}
  --loadgen-result FILE      a loadgen --json result (run with --warmup 0 for exact counts)
  --from T --to T            override the run window (unix seconds or RFC 3339)
  --var NAME=VALUE           dashboard variable values (default job=taskd, instance=.*)
  --wait SECONDS             how long to wait for the first scrape after the run (default 30)
  --settle MS                margin after the run before that scrape (default 500)
  --rate-tolerance R         relative tolerance of displayed rates (default 0.02)`;

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { mode: 'static', files: [], vars: {} };
  const args = [...argv];
  if (args[0] === 'static' || args[0] === 'truth') opts.mode = args.shift();
  const valued = new Set([
    '--taskd-scrape', '--loadgen-scrape', '--taskd-log', '--provisioning', '--runbooks', '--rules', '--alloy',
    '--prometheus-parser', '--prometheus-bin', '--prometheus', '--truth', '--loadgen-result', '--from', '--to',
    '--var', '--wait', '--settle', '--rate-tolerance',
  ]);
  while (args.length) {
    const a = args.shift();
    if (a === '-h' || a === '--help') {
      opts.help = true;
    } else if (a === '--no-prometheus') {
      opts.noPrometheus = true;
    } else if (valued.has(a)) {
      if (!args.length) throw new UsageError(`${a} needs a value`);
      const v = args.shift();
      if (a === '--taskd-log') {
        (opts.taskdLogs ||= []).push(v);
      } else if (a === '--var') {
        const m = /^([a-zA-Z_][a-zA-Z0-9_]*)=(.*)$/.exec(v);
        if (!m) throw new UsageError(`--var takes NAME=VALUE, not "${v}"`);
        opts.vars[m[1]] = m[2];
      } else {
        opts[a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = v;
      }
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option ${a}`);
    } else {
      opts.files.push(a);
    }
  }
  return opts;
}

async function dashboardFiles(files) {
  if (files.length) return files;
  const dir = path.join(ROOT, 'dashboards');
  return (await readdir(dir)).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
}

async function runStatic(o) {
  if (!o.taskdScrape) throw new UsageError('--taskd-scrape FILE|URL is required: a /metrics scrape of a running taskd');
  const taskd = await loadScrape(o.taskdScrape);
  const loadgen = o.loadgenScrape ? await loadScrape(o.loadgenScrape) : null;
  const provisioned = await provisionedDatasources(o.provisioning || path.join(ROOT, 'stack/grafana/provisioning'));
  const runbooksFile = o.runbooks || path.join(ROOT, 'docs/runbooks.md');
  let runbookAnchors = null;
  if (await exists(runbooksFile)) runbookAnchors = await markdownAnchors(runbooksFile);
  else if (o.runbooks) throw new Error(`cannot read the runbooks ${o.runbooks}`);
  const records = await recordingRules(o.rules || path.join(ROOT, 'stack/prometheus'));
  const alloyFile = o.alloy || path.join(ROOT, 'stack/alloy/config.alloy');
  let labels = new Set(['job', 'level']);
  if (await exists(alloyFile)) {
    try {
      labels = lokiLabels(parseAlloy(await readFile(alloyFile, 'utf8'))).labels;
    } catch (e) {
      throw new Error(`${alloyFile}: ${e.message}`);
    }
  }
  let fields = null;
  for (const f of o.taskdLogs || []) {
    fields ||= new Set();
    for (const k of logFields(await readFile(f, 'utf8'), f)) fields.add(k);
  }

  let parser = null;
  if (o.prometheusParser) parser = { url: o.prometheusParser.replace(/\/$/, ''), stop: async () => {} };
  else if (!o.noPrometheus) parser = await startPrometheus(o.prometheusBin || 'prometheus');
  try {
    const checker = new StaticChecker({
      taskd, loadgen, provisioned, runbookAnchors, records, lokiLabels: labels, logFields: fields, parserUrl: parser?.url || null,
    });
    const files = await dashboardFiles(o.files);
    const findings = await checker.run(files);
    for (const e of findings.errors) console.log(e);
    for (const n of findings.notes) console.log(`note: ${n}`);
    const s = checker.stats;
    const how = parser ? 'Prometheus\'s parser and lezer-promql' : 'lezer-promql only (--no-prometheus)';
    console.log(
      `${findings.errors.length ? 'FAIL' : 'ok'}: ${s.dashboards} dashboards, ${s.panels} panels, ${s.promql} PromQL (${how}) and ${s.logql} LogQL queries; ${findings.errors.length} problems`,
    );
    return findings.errors.length ? 1 : 0;
  } finally {
    if (parser) await parser.stop();
  }
}

async function runTruthMode(o) {
  if (!o.prometheus) throw new UsageError('truth needs --prometheus URL');
  if (!o.truth === !o.loadgenResult) throw new UsageError('truth needs exactly one of --truth FILE and --loadgen-result FILE');
  const truth = await loadTruth({ truthFile: o.truth, loadgenResult: o.loadgenResult });
  if (o.from !== undefined) truth.from = timeArg(o.from, '--from');
  if (o.to !== undefined) truth.to = timeArg(o.to, '--to');
  if (!(truth.to > truth.from)) throw new UsageError('the run window is empty: --to must be after --from');
  const dashboards = new Map();
  for (const f of await dashboardFiles(o.files)) {
    const json = JSON.parse(await readFile(f, 'utf8'));
    const rel = path.relative(process.cwd(), f);
    dashboards.set(json.uid, { file: rel && !rel.startsWith('..') ? rel : f, json });
  }
  const num = (v, d, what) => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`${what} must be a non-negative number, not "${v}"`);
    return n;
  };
  const overrides = { job: 'taskd', instance: '.*', loadgen_job: 'loadgen', ...o.vars };
  const r = await runTruth({
    prometheus: o.prometheus.replace(/\/$/, ''),
    dashboards,
    overrides,
    truth,
    waitMs: num(o.wait, 30, '--wait') * 1000,
    settleMs: num(o.settle, 500, '--settle'),
    rateTolerance: num(o.rateTolerance, 0.02, '--rate-tolerance'),
    log: (m) => console.log(m),
  });
  console.log(`${r.failures ? 'FAIL' : 'ok'}: ${r.passes} numbers match the workload, ${r.failures} do not`);
  return r.failures ? 1 : 0;
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
    if (o.help) {
      console.log(USAGE);
      return 0;
    }
    return o.mode === 'truth' ? await runTruthMode(o) : await runStatic(o);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`validate: ${e.message}\n${USAGE}`);
      return 2;
    }
    console.error(`validate: ${e.message}`);
    return 2;
  }
}

process.exitCode = await main();
