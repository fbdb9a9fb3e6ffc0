// rule_files: Prometheus rule files, anyone's — read with positions, checked by promtool
// (`promtool check rules --lint=all`, Prometheus's own loader and linter), and their expressions
// handed to the same PromQL checks as panels. Recording rules become metrics of the catalogue
// (with the labels and meaning their expressions give), so panels and later rules may use them.
// Alert annotations and labels may only template labels the alert's expression carries: an
// annotation `{{ $labels.route }}` over `sum by (instance) (...)` renders empty in every
// notification.
//
// API: loadRuleFile(file, label, report) -> RuleFile | null
//   RuleFile: { file, source, groups: [{ name, interval, rules: [Rule] }] }
//   Rule: { kind: 'alert'|'record', name, group, expr: TextRef, for, keepFiringFor, labels,
//           annotations: { key: TextRef }, where }
//   promtoolCheckRules(files, labels, report), registerRecords(ruleFiles, catalog, lookup)

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { analyzePromQL } from './promql.mjs';
import { SourceFile, yamlScalarRef } from './source_text.mjs';

export function looksLikeRuleFile(doc) {
  return doc && typeof doc === 'object' && Array.isArray(doc.groups);
}

export function ruleFileFromText(label, text, report) {
  const source = new SourceFile(label, text);
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    report.finding('rules', { file: label, node: { source, offset: e.pos?.[0] ?? 0 } }, `is not valid YAML: ${e.message.split('\n')[0]}`);
    return null;
  }
  const out = { file: label, source, groups: [] };
  const groups = doc.get('groups', true);
  for (const [gi, g] of (groups?.items || []).entries()) {
    const name = String(g.get?.('name') ?? `#${gi + 1}`);
    const group = { name, interval: g.get?.('interval') ?? null, rules: [] };
    for (const [ri, r] of (g.get?.('rules', true)?.items || []).entries()) {
      const alert = r.get?.('alert');
      const record = r.get?.('record');
      const exprNode = r.get?.('expr', true);
      const rule = {
        kind: alert ? 'alert' : 'record', name: String(alert || record || `#${ri + 1}`), group: name,
        expr: exprNode && exprNode.range ? yamlScalarRef(source, exprNode) : null,
        for: r.get?.('for') ?? null, keepFiringFor: r.get?.('keep_firing_for') ?? null, labels: {}, annotations: {},
      };
      rule.where = { file: label, rule: { kind: rule.kind === 'alert' ? 'alert' : 'recording rule', name: rule.name, group: name }, node: { source, offset: r.range?.[0] ?? 0 } };
      for (const key of ['labels', 'annotations']) {
        for (const pair of r.get?.(key, true)?.items || []) {
          if (pair.value?.range) rule[key][String(pair.key?.value ?? pair.key)] = yamlScalarRef(source, pair.value);
        }
      }
      group.rules.push(rule);
    }
    out.groups.push(group);
  }
  return out;
}

export async function loadRuleFile(file, label, report) {
  return ruleFileFromText(label, await readFile(file, 'utf8'), report);
}

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, missing: err?.code === 'ENOENT', out: `${stdout}${stderr}` });
    });
  });
}

// promtool's verdict on each file (lint findings fail too). Returns false when promtool is missing.
export async function promtoolCheckRules(files, report, promtool = 'promtool') {
  for (const { path: p, label } of files) {
    const r = await run(promtool, ['check', 'rules', '--lint=all', '--lint-fatal', p]);
    if (r.missing) return false;
    if (r.code === 0) continue;
    const text = r.out.split('\n').filter((l) => l.trim() && !/^Checking /.test(l) && !/^\s*FAILED:?\s*$/.test(l)).join('; ').replaceAll(p, label);
    const m = /: (\d+):(\d+): /.exec(text);
    report.finding('promtool', { file: label }, `promtool check rules --lint=all: ${text.replace(/^\s*FAILED:\s*/, '')}`, m ? { line: Number(m[1]), column: Number(m[2]) } : {});
  }
  return true;
}

// Registers every recording rule in the catalogue, then reads each one's labels and meaning from
// its expression (several passes, so records built on records resolve).
export function registerRecords(ruleFiles, catalog) {
  const records = [];
  for (const rf of ruleFiles) for (const g of rf.groups) for (const r of g.rules) if (r.kind === 'record' && r.expr) {
    catalog.addRecordingRule(r.name, r.expr, rf.file);
    records.push(r);
  }
  const lookup = (n) => catalog.lookup(n);
  for (let pass = 0; pass < 3; pass++) {
    for (const r of records) {
      const a = analyzePromQL(r.expr.text, { lookup });
      if (a.root) catalog.recordInfo.set(r.name, { labels: a.root.labels, dim: a.root.dim });
    }
  }
}

const TEMPLATE_LABEL = /\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)|\.Labels\.([a-zA-Z_][a-zA-Z0-9_]*)|\$labels\s*\)?\s*"([a-zA-Z_][a-zA-Z0-9_]*)"/g;

// Labels and annotations of an alert that template labels its expression never carries.
export function checkRuleTemplates(rule, q, ctx) {
  const labels = q.promql?.root?.labels;
  if (rule.kind !== 'alert' || !labels) return;
  const carried = new Set([...labels, ...Object.keys(rule.labels)]);
  for (const [key, ref] of Object.entries({ ...rule.annotations, ...rule.labels })) {
    for (const m of ref.text.matchAll(TEMPLATE_LABEL)) {
      const name = m[1] || m[2] || m[3];
      if (carried.has(name)) continue;
      ctx.report.finding('rule-label', { ...rule.where, at: { ref, from: m.index, to: m.index + m[0].length } },
        `${key} uses the label "${name}", which the alert's expression never carries (it carries: ${[...labels].sort().join(', ') || 'no labels'}), so it renders empty in every notification`);
    }
  }
}
