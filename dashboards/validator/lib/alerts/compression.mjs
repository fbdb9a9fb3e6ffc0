// compression: what a time compression does to each alert rule. Dividing every duration by F
// keeps a rule's logic, but the scrape and evaluation intervals have a floor (1 s), so at a high
// F a rule can lose what protected it from noise: a range shorter than three scrapes (rate()
// needs two samples, and one failed or late scrape then leaves it one, so the alert drops out
// for an evaluation), or a `for` shorter than two evaluations (one late evaluation or one
// failed scrape fires it). Such a rule is "degenerate at F": its firing there says nothing about
// the rule, so a live run does not judge what it does at that compression unless a scenario
// names it. Ranges are followed through the recording rules an alert reads.
//
// API: degenerateRules(groups, timings) -> Map(rule -> reason sentence)

import { formatDuration } from './duration.mjs';
import { metricsOf, windowsOf } from './promql_ast.mjs';

export function degenerateRules(groups, timings) {
  const records = new Map();
  for (const g of groups) for (const r of g.rules) if (r.kind === 'record') records.set(r.name, r);
  // The shortest range an expression reads, itself or through recording rules.
  const shortest = (rule, seen = new Set()) => {
    let min = null;
    for (const w of windowsOf(rule.ast)) if (w.kind !== 'offset' && (min === null || w.ms < min.ms)) min = { ms: w.ms, via: rule.kind === 'record' ? rule.name : null };
    for (const m of metricsOf(rule.ast)) {
      const rec = records.get(m);
      if (!rec || seen.has(m)) continue;
      seen.add(m);
      const inner = shortest(rec, seen);
      if (inner && (min === null || inner.ms < min.ms)) min = { ms: inner.ms, via: inner.via || m };
    }
    return min;
  };
  const out = new Map();
  for (const g of groups) {
    const evaluation = g.interval ?? timings.evaluation;
    for (const r of g.rules) {
      if (r.kind !== 'alert') continue;
      const w = shortest(r);
      if (w && w.ms < 3 * timings.scrape) {
        out.set(r, `its range ${formatDuration(w.ms)}${w.via ? ` (in ${w.via})` : ''} holds fewer than three scrapes (every ${formatDuration(timings.scrape)}): one failed or late scrape leaves rate() one sample`);
      } else if (r.forMs > 0 && r.forMs < 2 * evaluation) {
        out.set(r, `its \`for\` of ${formatDuration(r.forMs)} is under two evaluations (every ${formatDuration(evaluation)}): one late evaluation or failed scrape fires it`);
      }
    }
  }
  return out;
}

// The rule an alert's labels come from: the same name, and the rule's own labels.
export function ruleOf(groups, labels) {
  for (const g of groups) {
    for (const r of g.rules) {
      if (r.kind !== 'alert' || r.name !== labels.alertname) continue;
      if (Object.entries(r.labels).every(([k, v]) => v.includes('{{') || labels[k] === v)) return r;
    }
  }
  return null;
}

// degenerate(labels) -> the reason, or null, for the alerts of these groups at these timings;
// alerts a scenario's expectations name (`named(labels)`) are always judged.
export function degenerateLookup(groups, timings, named = () => false) {
  const bad = degenerateRules(groups, timings);
  return (labels) => {
    if (named(labels)) return null;
    const rule = ruleOf(groups, labels);
    return rule ? bad.get(rule) || null : null;
  };
}
