// rule_set: Prometheus rule files as the alert simulator evaluates them — read by
// lib/rule_files.mjs (anyone's files, with positions), then each group with its interval and its
// rules in order (the order Prometheus evaluates them in), each expression parsed for evaluation
// (promql_ast.mjs), `for` and `keep_firing_for` in milliseconds, labels and annotations as text.
// A rule this cannot read is an error naming its file, group and name: never skipped silently.
//
// API: loadRuleFiles(files, { labels }) -> [Group]; parseRuleText(text, label) -> [Group]
//   Group: { name, file, interval (ms | null), rules: [Rule] }
//   Rule:  { kind: 'alert'|'record', name, expr, ast, forMs, keepFiringForMs, labels,
//            annotations, group, file, where }
//   ruleLabel(rule, siblings), expandLabel(template, labels, value)

import { readFile } from 'node:fs/promises';
import { ruleFileFromText } from '../rule_files.mjs';
import { parseDuration } from './duration.mjs';
import { parsePromQL } from './promql_ast.mjs';

// A report that turns the loader's first finding into an error: a simulation cannot go on
// without a rule it was given.
class Strict {
  finding(check, where, message) {
    throw new Error(`${where?.file || 'rule file'}: ${message}`);
  }
}

export function parseRuleText(text, label) {
  const rf = ruleFileFromText(label, text, new Strict());
  if (!rf) throw new Error(`${label} is not a rule file`);
  return rf.groups.map((g) => {
    const interval = g.interval !== null ? parseDuration(g.interval, `${label} group ${g.name} interval`) : null;
    const rules = g.rules.map((r) => {
      const where = `${label} group ${g.name} ${r.kind === 'alert' ? 'alert' : 'recording rule'} ${r.name}`;
      if (!r.expr) throw new Error(`${where} has no expr`);
      let ast;
      try {
        ast = parsePromQL(r.expr.text);
      } catch (e) {
        throw new Error(`${where}: ${e.message}`);
      }
      return {
        kind: r.kind,
        name: r.name,
        expr: r.expr.text.trim(),
        ast,
        forMs: r.for !== null ? parseDuration(r.for, `${where} for`) : 0,
        keepFiringForMs: r.keepFiringFor !== null ? parseDuration(r.keepFiringFor, `${where} keep_firing_for`) : 0,
        labels: Object.fromEntries(Object.entries(r.labels).map(([k, v]) => [k, v.text])),
        annotations: Object.fromEntries(Object.entries(r.annotations).map(([k, v]) => [k, v.text])),
        group: g.name,
        file: label,
        where: r.where,
      };
    });
    return { name: g.name, file: label, interval, rules };
  });
}

// Reads rule files in the order given (groups keep it); labels: how to name each file in errors.
export async function loadRuleFiles(files, { labels = files } = {}) {
  const groups = [];
  for (const [i, f] of files.entries()) {
    let text;
    try {
      text = await readFile(f, 'utf8');
    } catch (e) {
      throw new Error(`cannot read the rule file ${f}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    }
    groups.push(...parseRuleText(text, labels[i]));
  }
  return groups;
}

// A rule's name for reports: the alert name, and for alerts that share it (burn-rate pairs) the
// labels that tell them apart: TaskdErrorBudgetBurn{long_window="1h", short_window="5m"}.
export function ruleLabel(rule, siblings) {
  if (rule.kind !== 'alert') return rule.name;
  const same = siblings.filter((r) => r.kind === 'alert' && r.name === rule.name);
  if (same.length < 2) return rule.name;
  const distinct = Object.keys(rule.labels).filter((k) => same.some((o) => o.labels[k] !== rule.labels[k]));
  return `${rule.name}{${distinct.map((k) => `${k}="${rule.labels[k]}"`).join(', ')}}`;
}

// Expands the label templates Prometheus expands in an alert's labels: $labels.NAME and $value.
export function expandLabel(template, labels, value) {
  if (!template.includes('{{')) return template;
  return template.replace(/\{\{-?\s*(\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)|\$value|\.Value)\s*-?\}\}/g, (_, all, name) =>
    name ? labels[name] ?? '' : String(value));
}
