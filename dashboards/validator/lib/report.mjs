// report: what every validator command says, in two forms — text for people, and one JSON
// envelope for machines (CI, the lie suite, the HTML report).
//
// A command records three kinds of things:
//   finding  a problem (exit 1): check id, where it is (file, line/column, dashboard, panel,
//            target, rule, variable), the message, and the excerpt of the query it points into;
//   result   one thing that was verified with its verdict: ok, fail (also a finding), or
//            not_checked with the reason — the truth and alert checks report these;
//   note     what could not be checked at all, and why (never a pass in disguise).
// The summary line is the command's last line of text; the JSON envelope is
//   { schema: "taskbench.validator.report", version: 1, command, started, finished, inputs,
//     findings: [...], results: [...], notes: [...], stats: {...}, summary, exit_code }.
// Text lines look like a compiler's, so editors jump to them:
//   dashboards/red.json:87:32: panel "Error ratio" (id 6) target A: [metric-unknown] metric …
//       sum(rate(http_request_total{job=~"$job"}[$__rate_interval]))
//                ^~~~~~~~~~~~~~~~~

import { writeFile } from 'node:fs/promises';

export const EXIT_CLEAN = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_SETUP = 2;

export const REPORT_SCHEMA = 'taskbench.validator.report';
export const REPORT_VERSION = 1;

// Where a finding or result is: any subset of { file, dashboard: {uid, title}, panel: {id, title},
// target (refId), variable, annotation, rule: {group, name}, receiver, item (free text) }, plus
// `at`: { ref: TextRef, from, to } (a span of a query or value) or `node`: { source, offset }.
function locationOf(where = {}) {
  const loc = {};
  for (const k of ['file', 'dashboard', 'panel', 'target', 'variable', 'annotation', 'rule', 'receiver', 'item']) {
    if (where[k] !== undefined && where[k] !== null) loc[k] = where[k];
  }
  if (where.at?.ref?.source) {
    Object.assign(loc, where.at.ref.span(where.at.from ?? 0, where.at.to ?? where.at.from ?? 0));
    loc.expression = { text: where.at.ref.text, from: where.at.from ?? 0, to: where.at.to ?? where.at.from ?? 0 };
  } else if (where.at?.ref) {
    loc.expression = { text: where.at.ref.text, from: where.at.from ?? 0, to: where.at.to ?? where.at.from ?? 0 };
  } else if (where.node?.source) {
    Object.assign(loc, where.node.source.position(where.node.offset));
  }
  return loc;
}

// "panel "Error ratio" (id 6) target A" — the human name of a location, without the file.
export function describeLocation(loc) {
  const parts = [];
  if (loc.rule) parts.push(`${loc.rule.kind || 'rule'} ${loc.rule.name}${loc.rule.group ? ` (group ${loc.rule.group})` : ''}`);
  if (loc.receiver) parts.push(`receiver ${loc.receiver}`);
  if (loc.variable) parts.push(`variable $${loc.variable}`);
  if (loc.annotation) parts.push(`annotation "${loc.annotation}"`);
  if (loc.panel) parts.push(`panel "${loc.panel.title || ''}"${loc.panel.id !== undefined && loc.panel.id !== null ? ` (id ${loc.panel.id})` : ''}`);
  if (loc.target) parts.push(`target ${loc.target}`);
  if (loc.item) parts.push(loc.item);
  return parts.join(' ');
}

function fileAndPosition(loc) {
  if (!loc.file) return '';
  return loc.line ? `${loc.file}:${loc.line}:${loc.column}` : loc.file;
}

// The line of the query the span starts on, and a caret line under the span.
function excerpt(expr) {
  if (!expr || typeof expr.text !== 'string') return [];
  // A finding about the whole query (its unit, its language) needs no caret.
  if (expr.from === 0 && expr.to >= expr.text.length) return [];
  const { text, from, to } = expr;
  const start = from > 0 ? text.lastIndexOf('\n', from - 1) + 1 : 0;
  let end = text.indexOf('\n', from);
  if (end < 0) end = text.length;
  const line = text.slice(start, end);
  if (line.length > 200) return [];
  const col = from - start;
  const width = Math.max(1, Math.min(to, end) - from);
  return [`    ${line}`, `    ${' '.repeat(col)}^${'~'.repeat(width - 1)}`];
}

export class Report {
  constructor(command) {
    this.command = command;
    this.started = new Date();
    this.inputs = {};
    this.findings = [];
    this.results = [];
    this.notes = [];
    this.known = []; // findings a baseline accepts (reported, not failing)
    this.stats = {};
    this.summaryText = null;
    this.setupError = null;
  }

  // A problem. check: a stable id (docs/validator.md lists them); where: see locationOf.
  finding(check, where, message, extra = {}) {
    const f = { check, severity: 'error', ...locationOf(where), message, ...extra };
    this.findings.push(f);
    return f;
  }

  // A verified item: verdict 'ok' | 'fail' | 'not_checked'. A fail is a finding too.
  result(check, where, verdict, message, data) {
    if (!['ok', 'fail', 'not_checked'].includes(verdict)) throw new Error(`bad verdict ${verdict}`);
    const r = { check, verdict, ...locationOf(where), message };
    if (data !== undefined) r.data = data;
    this.results.push(r);
    if (verdict === 'fail') this.finding(check, where, message, { from_result: true });
    return r;
  }

  // Moves findings that a baseline entry matches ({ check, file, panel, target, rule, reason })
  // into `known`; an entry that matches nothing is itself a finding, so a baseline only shrinks.
  // Entries for files that were not checked this time are left alone.
  applyBaseline(entries, baselineFile, checkedFiles = null) {
    const sameFile = (a, b) => !a || a === b || (b || '').endsWith(`/${a}`);
    const matches = (e, f) => e.check === f.check && sameFile(e.file, f.file) &&
      (!e.panel || f.panel?.title === e.panel) && (!e.target || f.target === e.target) && (!e.rule || f.rule?.name === e.rule);
    const used = new Set();
    this.findings = this.findings.filter((f) => {
      const i = entries.findIndex((e) => matches(e, f));
      if (i < 0) return true;
      used.add(i);
      this.known.push({ ...f, reason: entries[i].reason || '' });
      return false;
    });
    entries.forEach((e, i) => {
      if (used.has(i)) return;
      if (checkedFiles && e.file && !checkedFiles.some((f) => sameFile(e.file, f))) return;
      const what = [e.file, e.panel && `panel "${e.panel}"`, e.target && `target ${e.target}`, e.rule && `rule ${e.rule}`].filter(Boolean).join(' ');
      this.finding('baseline-stale', { file: baselineFile }, `the baseline accepts [${e.check}] on ${what}, which is no longer found: remove that entry`);
    });
  }

  note(message, where) {
    this.notes.push({ ...locationOf(where), message });
  }

  count(key, n = 1) {
    this.stats[key] = (this.stats[key] || 0) + n;
  }

  summary(text) {
    this.summaryText = text;
  }

  exitCode() {
    if (this.setupError) return EXIT_SETUP;
    return this.findings.length ? EXIT_FINDINGS : EXIT_CLEAN;
  }

  // Findings in file order (then line), results in the order recorded.
  sortedFindings() {
    return [...this.findings].sort((a, b) => (a.file || '').localeCompare(b.file || '') || (a.line || 0) - (b.line || 0) || (a.column || 0) - (b.column || 0));
  }

  textLines() {
    const lines = [];
    const verdictWord = { ok: 'ok  ', fail: 'FAIL', not_checked: 'skip' };
    for (const r of this.results) {
      const where = [fileAndPosition(r), describeLocation(r)].filter(Boolean).join(' ');
      lines.push(`${verdictWord[r.verdict]} ${where}: ${r.message}`);
    }
    for (const f of this.sortedFindings()) {
      if (f.from_result) continue;
      const head = fileAndPosition(f);
      const where = describeLocation(f);
      lines.push(`${head}${head ? ': ' : ''}${where}${where ? ': ' : ''}[${f.check}] ${f.message}`);
      lines.push(...excerpt(f.expression));
    }
    for (const k of this.known) {
      lines.push(`known: ${[fileAndPosition(k), describeLocation(k)].filter(Boolean).join(' ')}: [${k.check}] ${k.message}${k.reason ? ` (accepted: ${k.reason})` : ''}`);
    }
    for (const n of this.notes) {
      const where = [fileAndPosition(n), describeLocation(n)].filter(Boolean).join(' ');
      lines.push(`note: ${where}${where ? ': ' : ''}${n.message}`);
    }
    if (this.summaryText) lines.push(this.summaryText);
    return lines;
  }

  toJSON() {
    return {
      schema: REPORT_SCHEMA,
      version: REPORT_VERSION,
      command: this.command,
      started: this.started.toISOString(),
      finished: new Date().toISOString(),
      inputs: this.inputs,
      findings: this.sortedFindings(),
      results: this.results,
      notes: this.notes,
      known: this.known,
      stats: this.stats,
      summary: this.summaryText,
      exit_code: this.exitCode(),
    };
  }

  // Prints the text report to stdout (unless the JSON goes there) and writes the JSON where asked:
  // jsonPath null (none), '-' (stdout, instead of the text) or a file.
  async emit(jsonPath) {
    if (jsonPath !== '-') for (const l of this.textLines()) console.log(l);
    if (jsonPath === '-') console.log(JSON.stringify(this.toJSON(), null, 2));
    else if (jsonPath) await writeFile(jsonPath, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
  }
}
