// lies: runs the validator over known-bad edits of dashboards and rule files (a lie suite, see
// lib/lie_suite.mjs) and over the unchanged files, and scores it: every lie must be caught — by a
// finding of the expected check at the expected place — and the unchanged files must pass.
// Static lies run in one batch; truth and alert lies run through their own subcommands, with the
// environment their suite names (a Prometheus that scraped a run, a truth file…), one at a time.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SetupError } from '../lib/cli.mjs';
import { SuiteError, expandArgs, loadSuites, matchesExpectation, writeCopy } from '../lib/lie_suite.mjs';
import { ROOT } from '../lib/paths.mjs';

const VALIDATOR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'validator.mjs');

export const options = [
  { name: '--kind', value: 'KIND', repeat: true, help: 'run only the lies of this kind (repeatable)' },
  { name: '--root', value: 'DIR', help: 'where the suite\'s file paths start (default: this repository)' },
  { name: '--keep', help: 'keep the edited copies (their directory is printed)' },
  { name: '--json', value: 'FILE|-', help: 'also write the JSON report there (- : to stdout, instead of the text)' },
];

export const usage = `usage: validator lies [options] SUITE.json ...

Applies each known-bad edit of a lie suite to a copy of its file, runs the validator on the
copies and on the unchanged files, and prints "caught N of M". Exit 0 when every lie that could
run was caught and the unchanged files pass, 1 otherwise, 2 on a bad suite.`;

function runValidator(args, timeoutMs = 600000) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VALIDATOR, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { if (out.length < 1 << 20) out += d; });
    child.stderr.on('data', (d) => { if (out.length < 1 << 20) out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 2 : 0), out });
    });
  });
}

async function runWithReport(command, args, work, tag) {
  const jsonFile = path.join(work, `${tag}.json`);
  const r = await runValidator([command, ...args, '--json', jsonFile]);
  let report = null;
  try {
    report = JSON.parse(await readFile(jsonFile, 'utf8'));
  } catch {
    // no report: a usage or setup error; r.out says why
  }
  return { ...r, report };
}

function describeExpect(e) {
  return `[${e.check}]${e.panel ? ` panel "${e.panel}"` : ''}${e.target ? ` target ${e.target}` : ''}${e.rule ? ` rule ${e.rule}` : ''}${e.message ? ` "${e.message}"` : ''}`;
}

function describeFinding(f) {
  return `[${f.check}]${f.panel ? ` panel "${f.panel.title}"` : ''}${f.target ? ` target ${f.target}` : ''}${f.rule ? ` ${f.rule.name}` : ''}: ${f.message.slice(0, 140)}`;
}

export async function run(o, positional, report) {
  if (!positional.length) throw new SetupError('name the lie suites to run (tests/lies/*.json in this repository)');
  let suite;
  try {
    suite = await loadSuites(positional);
  } catch (e) {
    throw new SetupError(e.message);
  }
  const root = o.root || ROOT;
  const kinds = [...new Set(suite.lies.map((l) => l.kind))].filter((k) => !o.kind.length || o.kind.includes(k));
  report.inputs = { suites: positional, root, kinds };
  const work = await mkdtemp(path.join(tmpdir(), 'taskbench-lies-'));
  const score = {};
  let unchangedFailed = 0;
  try {
    for (const kind of kinds) {
      const spec = suite.runs[kind];
      const lies = suite.lies.filter((l) => l.kind === kind);
      score[kind] = { caught: 0, total: lies.length, skipped: 0 };
      const needs = expandArgs((spec.needs || []).map((n) => `\${${n}}`), process.env);
      if (needs.missing.length) {
        const why = `not run: ${needs.missing.join(', ')} not set (${spec.why_needed || 'the environment this kind runs in'})`;
        report.result('lie', { item: `${lies.length} lie${lies.length > 1 ? 's' : ''} of kind ${kind}` }, 'not_checked', why);
        score[kind].skipped = lies.length;
        continue;
      }
      // The unchanged files must pass.
      const base = expandArgs(spec.unchanged_args || spec.args, process.env, { FILE: '' });
      const unchanged = await runWithReport(spec.command, base.args.filter((a) => a !== ''), work, `unchanged-${kind}`);
      if (unchanged.code !== 0) {
        unchangedFailed++;
        const detail = unchanged.report ? unchanged.report.findings.map(describeFinding).slice(0, 10).join('; ') : unchanged.out.trim().split('\n').slice(-5).join(' | ');
        report.result('lie-baseline', { item: `the unchanged files (${kind})` }, 'fail', `validator ${spec.command} exits ${unchanged.code} on the unchanged files: ${detail}`);
      } else {
        report.result('lie-baseline', { item: `the unchanged files (${kind})` }, 'ok', `validator ${spec.command} passes the unchanged files`);
      }
      // Each lie, in a copy.
      const copies = [];
      for (const [i, l] of lies.entries()) {
        const index = suite.lies.indexOf(l) + 1;
        try {
          copies.push({ lie: l, index, path: await writeCopy(root, work, l, index, { renameUid: !!spec.batch }) });
        } catch (e) {
          throw new SetupError(`lie "${l.name}": ${e.message}`);
        }
        void i;
      }
      const outcomes = new Map();
      if (spec.batch) {
        const a = expandArgs(spec.args, process.env, { FILE: '' }).args.filter((x) => x !== '');
        const r = await runWithReport(spec.command, [...a, ...copies.map((c) => c.path)], work, `batch-${kind}`);
        if (!r.report) throw new SetupError(`validator ${spec.command} on the ${kind} lies gave no report (exit ${r.code}): ${r.out.trim().split('\n').slice(-3).join(' | ')}`);
        for (const c of copies) outcomes.set(c, { code: r.code, findings: r.report.findings.filter((f) => (f.file || '').includes(`lie-${String(c.index).padStart(2, '0')}/`)) });
      } else {
        for (const c of copies) {
          const e = expandArgs(spec.args, process.env, { FILE: c.path });
          const args = [...(spec.args.some((x) => x.includes('${FILE}')) ? e.args : [...e.args, c.path]), ...(c.lie.args || [])];
          const r = await runWithReport(spec.command, args, work, `lie-${c.index}`);
          outcomes.set(c, { code: r.code, findings: r.report ? r.report.findings : [], error: r.report ? null : r.out.trim().split('\n').slice(-3).join(' | ') });
        }
      }
      for (const c of copies) {
        const { findings, error } = outcomes.get(c);
        const hit = findings.find((f) => matchesExpectation(f, c.lie.expect));
        const where = { file: c.lie.file, item: `lie "${c.lie.name}" (${kind})` };
        if (hit) {
          score[kind].caught++;
          const extra = findings.length - 1;
          report.result('lie', where, 'ok', `caught: ${describeFinding(hit)}${extra ? ` (+${extra} other finding${extra > 1 ? 's' : ''})` : ''}`);
        } else {
          report.result('lie', where, 'fail', `missed: expected ${describeExpect(c.lie.expect)}; the validator reported ${error ? `an error: ${error}` : findings.length ? findings.map(describeFinding).join('; ') : 'nothing'}`);
        }
      }
    }
  } finally {
    if (o.keep) report.note(`edited copies kept in ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
  const total = Object.values(score).reduce((n, s) => n + s.total - s.skipped, 0);
  const caught = Object.values(score).reduce((n, s) => n + s.caught, 0);
  const skipped = Object.values(score).reduce((n, s) => n + s.skipped, 0);
  report.stats.lies = score;
  const ran = Object.entries(score).filter(([, s]) => !s.skipped);
  const notRun = Object.entries(score).filter(([, s]) => s.skipped);
  const per = ran.map(([k, s]) => `${k} ${s.caught}/${s.total}`).join(', ');
  const missing = notRun.map(([k, s]) => `${k} ${s.skipped}`).join(', ');
  report.summary(`caught ${caught} of ${total} lies (${per || 'none ran'}); unchanged files ${unchangedFailed ? 'FAIL' : 'pass'}${skipped ? `; not run here: ${missing}` : ''}`);
  if (total === 0) throw new SetupError(`no lie could run here (${report.results.map((r) => r.message).join('; ')})`);
  return report.exitCode();
}
