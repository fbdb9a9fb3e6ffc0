// metrics: every metric a query names must exist in what the user gave as the truth about their
// metrics (scrapes, a Prometheus, recording rules), with the labels its selectors match on. Without
// any source there is nothing to compare with, and nothing is claimed (one note says so).

import { TARGET_LABELS } from '../scrape.mjs';
import { didYouMean } from '../suggest.mjs';

export function checkMetrics(q, ctx) {
  const { catalog } = ctx;
  if (!catalog.hasSources) return;
  for (const sel of q.promql.selectors) {
    if (!sel.name) {
      ctx.report.finding('metric-unknown', q.at(sel.from, sel.to), `selector ${sel.text} names no metric: select a metric by name`);
      continue;
    }
    const info = catalog.lookup(sel.name);
    if (!info) {
      if (catalog.uncovered(sel.name)) {
        ctx.uncovered.add(sel.name);
        continue;
      }
      ctx.report.finding('metric-unknown', q.at(sel.nameFrom, sel.nameTo), `metric ${sel.name} is not in ${catalog.sources.join(' or ')}${didYouMean(sel.name, catalog.names())}`);
      continue;
    }
    if (!info.labels) continue;
    for (const m of sel.matchers) {
      if (m.label === '__name__' || TARGET_LABELS.has(m.label) || info.labels.has(m.label)) continue;
      // a matcher that only accepts the empty value is satisfied by a missing label
      if ((m.op === '=' && m.value === '') || (m.op === '=~' && new RegExp(`^(?:${m.value})$`).test(''))) continue;
      const known = [...info.labels].sort();
      ctx.report.finding('label-unknown', q.at(m.from, m.to), `${sel.name} has no label "${m.label}" (its labels: ${known.join(', ') || 'none'})${didYouMean(m.label, known)}`);
    }
  }
}
