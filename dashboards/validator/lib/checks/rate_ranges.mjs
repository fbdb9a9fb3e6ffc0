// rate_ranges: the range of rate(), irate() and increase() must hold at least four scrapes
// (Robust Perception's rule, and what Grafana's $__rate_interval guarantees: max($__interval +
// scrape interval, 4 × scrape interval)). Below that a missed scrape empties the window and the
// panel shows gaps, or nothing, depending on the zoom. Grafana's interval variables are the usual
// way in: `$__interval` shrinks with the zoom; `$__range` as a rate range in a time series draws
// every point as an average over the whole dashboard range; an interval variable is only as safe
// as its smallest option.

import { durationSeconds, formatDuration } from '../cli.mjs';

const OVER_TIME_PANELS = new Set(['timeseries', 'graph', 'barchart', 'heatmap', 'state-timeline', 'status-history', 'trend']);

export function checkRateRanges(q, ctx) {
  const scrape = ctx.scrapeInterval(q.context.datasource);
  const min = 4 * scrape.seconds;
  for (const r of q.promql.ranges) {
    const refs = q.sub.referencesIn(r.from, r.to);
    const where = q.at(r.from, r.to);
    if (refs.length === 0) {
      const s = durationSeconds(r.text);
      if (s !== null && s < min) {
        ctx.report.finding('rate-range', where, `${r.fn}(…[${r.text}]) covers fewer than 4 scrapes (scrape interval ${formatDuration(scrape.seconds)}, from ${scrape.source}): a missed scrape leaves the window empty; use at least [${formatDuration(min)}], or $__rate_interval in Grafana`);
      }
      continue;
    }
    for (const ref of refs) {
      if (ref.name === '__interval' || ref.name === '__interval_ms') {
        ctx.report.finding('rate-range', where, `${r.fn}(…[$${ref.name}]): $__interval follows the zoom and drops below 4 scrapes (scrape interval ${formatDuration(scrape.seconds)}), so the panel shows gaps or nothing when zoomed in; use [$__rate_interval]`);
      } else if (ref.name === '__range' || ref.name === '__range_s' || ref.name === '__range_ms') {
        const overTime = OVER_TIME_PANELS.has(q.context.panel?.type) && !q.context.target?.instant;
        if (overTime) {
          ctx.report.finding('rate-range', where, `${r.fn}(…[$__range]) in a ${q.context.panel.type} panel: every point becomes the ${r.fn === 'increase' ? 'increase' : 'average rate'} over the whole dashboard range, so the line is a moving total, not what happened at that time; use [$__rate_interval] (or make the target an instant query)`);
        }
      } else if (ref.name !== '__rate_interval' && ref.name !== '__rate_interval_ms' && ref.name !== '__auto') {
        const v = q.context.dashboard?.variables.get(ref.name);
        if (!v) continue;
        const options = v.type === 'interval' ? [...new Set([...(v.options || []), ...(v.values || [])])] : v.values || [];
        if (v.type === 'interval' && v.raw.auto) options.push('$__auto');
        const small = options.filter((o) => o.startsWith('$__auto') || (durationSeconds(o) !== null && durationSeconds(o) < min));
        if (small.length) {
          const auto = small.some((o) => o.startsWith('$__auto'));
          ctx.report.finding('rate-range', where, `${r.fn}(…[$${ref.name}]): the ${v.type} variable $${ref.name} can be ${auto ? '"auto" (Grafana\'s $__interval, which follows the zoom)' : small.join(', ')}, fewer than 4 scrapes (scrape interval ${formatDuration(scrape.seconds)}); use [$__rate_interval], or options of at least ${formatDuration(min)}`);
        }
      }
    }
  }
}
