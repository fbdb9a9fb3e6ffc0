// legend: labels a panel names must be labels its query's result can carry. A legend
// `{{code}}` over `sum by (route) (...)` draws an empty name for every series; a field override
// for the series "5xx" when the legends produce "errors" styles nothing. Both fail silently in
// Grafana. The result's labels come from the query analysis (promql.mjs, logql.mjs); when they
// are unknown (a metric no source describes) nothing is claimed.

const LEGEND_LABEL = /\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;

function resultLabels(q) {
  if (q.promql?.root) return q.promql.root.labels;
  if (q.logql?.isMetric) return q.logql.labels;
  return null;
}

export function checkLegend(q, ctx) {
  const legend = q.context.target?.legend;
  const labels = resultLabels(q);
  if (!legend || !labels) return;
  for (const m of legend.text.matchAll(LEGEND_LABEL)) {
    const name = m[1];
    if (name === '__name__' || labels.has(name)) continue;
    ctx.report.finding('legend-label', { ...q.where, at: { ref: legend, from: m.index, to: m.index + m[0].length } },
      `legend {{${name}}}: the query's result never carries "${name}" (it carries: ${[...labels].sort().join(', ') || 'no labels'}), so every series is drawn with an empty name there`);
  }
}

// A regular expression for the display names a target's legend can produce; null when any name
// is possible (no legend, or one Grafana fills in itself).
function namePattern(target, labels) {
  const legend = target.legend?.text;
  if (!legend || legend === '__auto' || legend === '{{__name__}}') return null;
  let re = '';
  let last = 0;
  for (const m of legend.matchAll(LEGEND_LABEL)) {
    re += legend.slice(last, m.index).replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');
    re += labels === null || labels.has(m[1]) || m[1] === '__name__' ? '.*' : '';
    last = m.index + m[0].length;
  }
  re += legend.slice(last).replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');
  return new RegExp(`^${re}$`, 's');
}

// Overrides by frame refId, series name or name regex that no series of the panel can match.
// queries: the prepared queries of the panel's targets (same order as panel.targets).
export function checkOverrides(panel, queries, ctx) {
  if (!panel.overrides.length || (panel.json.transformations || []).length) return;
  const refIds = new Set(panel.targets.map((t) => t.refId));
  const patterns = [];
  let open = false;
  panel.targets.forEach((t, i) => {
    if (t.hide) return;
    const q = queries[i];
    const p = namePattern(t, q ? resultLabels(q) : null);
    if (p) patterns.push(p);
    else open = true;
  });
  panel.overrides.forEach((o, i) => {
    const m = o.matcher || {};
    const where = { ...panel.where, node: panel.doc.position([...panel.path, 'fieldConfig', 'overrides', i]) };
    if (m.id === 'byFrameRefID' && m.options && !refIds.has(m.options)) {
      ctx.report.finding('override-label', where, `field override for query ${m.options}, but the panel has no target with that refId (refIds: ${[...refIds].join(', ')})`);
    } else if (m.id === 'byName' && typeof m.options === 'string' && !open && !patterns.some((p) => p.test(m.options))) {
      ctx.report.finding('override-label', where, `field override for the series "${m.options}", a name no target's legend can produce, so it styles nothing`);
    } else if (m.id === 'byRegexp' && typeof m.options === 'string' && !open) {
      let re;
      try {
        re = new RegExp(m.options);
      } catch {
        ctx.report.finding('override-label', where, `field override regex /${m.options}/ does not compile`);
        return;
      }
      const samples = panel.targets.map((t) => t.legend?.text).filter(Boolean).map((l) => l.replace(LEGEND_LABEL, 'x'));
      if (!samples.some((s) => re.test(s)) && !panel.targets.some((t) => (t.legend?.text || '').includes('{{'))) {
        ctx.report.finding('override-label', where, `field override regex /${m.options}/ matches none of the series names (${samples.join(', ')}), so it styles nothing`);
      }
    }
  });
}
