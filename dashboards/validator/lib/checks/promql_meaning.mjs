// promql_meaning: the problems promql.mjs finds while reading an expression (rate over a gauge,
// delta over a counter, quantile outside [0, 1], `le` dropped, `by`/`on` labels the series never
// carry), and counters that reach the result raw — a panel or rule that shows a counter's running
// total, which says nothing about now and drops to zero at every restart.

// Functions under which a raw counter is fine: the result says whether, or when, not how much.
export function checkPromQLMeaning(q, ctx) {
  const a = q.promql;
  for (const p of a.problems) ctx.report.finding(p.check, q.at(p.from, p.to), p.message);
  if (!a.root || q.context.allowRawCounters) return;
  const seen = new Set();
  for (const c of a.root.rawCounters) {
    if (seen.has(c.name)) continue;
    seen.add(c.name);
    const hint = q.context.kind === 'rule' ? 'wrap it in increase(…[window]) or rate(…[window])' : 'use rate(…[$__rate_interval]) for a per-second rate, or increase(…[$__range]) for a count over the range';
    ctx.report.finding('counter-without-rate', q.at(c.from, c.to), `${c.name} is a counter shown raw: its value is a running total since the process started, and drops to zero at every restart; ${hint}`);
  }
}
