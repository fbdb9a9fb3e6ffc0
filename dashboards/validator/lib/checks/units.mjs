// units: a panel's unit must say what its query returns. Grafana formats the number with the
// unit whatever the number is, so a query returning seconds under the unit "ms" draws 0.25 s as
// "0.25 ms" — a lie by a factor of 1000 that nothing else notices. The query's dimension comes
// from dimension.mjs (naming conventions carried through functions); a unit is compared only when
// both are known, so unusual metrics are left alone rather than guessed at.

import { asRatio, describeDim } from '../dimension.mjs';
import { isKnownUnit, suggestUnits, unitClaim } from '../units.mjs';

// Panels whose unit formats the query's numbers.
const UNIT_PANELS = new Set(['timeseries', 'graph', 'stat', 'gauge', 'bargauge', 'barchart', 'trend', 'singlestat']);

const close = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
// Bytes scaled by 1000 or by 1024 are both what people mean by "kilo": within 3% is the same.
const near = (a, b) => Math.abs(a - b) <= 0.03 * Math.max(Math.abs(a), Math.abs(b));
const off = (a, b) => Math.round(Math.max(a / b, b / a));

// A sentence when `unit` misstates numbers of dimension `dim`, else null.
export function unitMismatch(measured, unit) {
  const dim = asRatio(measured);
  if (!dim || ['unknown', 'number', 'none'].includes(dim.base) || dim.base.startsWith('other:')) return null;
  const c = unitClaim(unit);
  if (c.kind === 'other' || c.kind === 'bool') return null;
  const what = describeDim(dim);
  const bad = (why) => `unit "${unit}" but the query returns ${what}${why ? `: ${why}` : ''}; use ${suggestUnits(dim)}`;
  switch (dim.base) {
    case 'seconds':
      if (c.kind === 'time') return close(c.factor, 1 / dim.scale) ? null : bad(`Grafana would show ${dim.scale === 1 ? `0.25 s as "0.25 ${unit}"` : `the value off by ${off(c.factor, 1 / dim.scale)}x`}`);
      return c.kind === 'count' ? null : bad();
    case 'bytes':
    case 'bits':
      if (c.kind === 'bytes' || c.kind === 'bits') {
        if (!!c.perSecond !== !!dim.perSecond) return bad(dim.perSecond ? 'a rate needs a per-second unit' : 'this is an amount, not a rate');
        // the query's numbers are dim.scale bytes (or bits) each; the unit says c.factor of its kind
        const inBits = (base, factor) => (base === 'bytes' ? factor * 8 : factor);
        const want = inBits(c.kind, c.factor);
        const got = inBits(dim.base, 1 / dim.scale);
        return near(want, got) ? null : bad(`the value would be off by ${off(want, got)}x`);
      }
      return bad(c.kind === 'count' ? 'bytes shown as a plain number' : '');
    case 'ratio':
      if (c.kind === 'ratio') {
        if (close(c.factor, 1 / dim.scale)) return null;
        if (dim.scale === 1 && close(c.factor, 0.01)) return bad('the unit "percent" expects 0–100, so 0.05 would read as 0.05%');
        if (dim.scale === 100 && close(c.factor, 1)) return bad('percentunit expects 0–1, so 5 would read as 500%');
        return bad(`the value would be off by ${off(c.factor, 1 / dim.scale)}x`);
      }
      return c.kind === 'count' ? null : bad();
    case 'count':
      if (dim.perSecond) {
        if (c.kind === 'rate') {
          if (close(c.factor, 1 / dim.scale)) return null;
          return bad(c.perMinute ? 'rate() is per second, the unit says per minute (60x off): multiply by 60 or use a per-second unit' : `the value would be off by ${off(c.factor, 1 / dim.scale)}x`);
        }
        return bad(c.kind === 'count' ? 'a rate shown with a count unit reads as a number of events, not events per second' : '');
      }
      if (c.kind === 'rate') return bad('a count is not per second (increase() and count() give totals over their window)');
      return c.kind === 'count' ? null : bad();
    case 'timestamp':
      if (c.kind === 'timestamp') return close(c.factor, 1 / dim.scale) ? null : bad('Grafana\'s date units expect milliseconds: multiply by 1000');
      if (c.kind === 'count') return null;
      return bad();
    default:
      return null;
  }
}

// The unit a target's series are drawn with: an override for its refId (or its literal legend)
// wins over the panel's default. Returns { unit, ambiguous }.
export function unitOfTarget(panel, target) {
  let unit = panel.unit;
  let ambiguous = !!panel.unitAmbiguous;
  const legend = target.legend?.text || null;
  for (const o of panel.overrides) {
    const prop = (o.properties || []).find((p) => p.id === 'unit');
    if (!prop) continue;
    const m = o.matcher || {};
    if (m.id === 'byFrameRefID') {
      if (m.options === target.refId) unit = prop.value;
    } else if (m.id === 'byName' && legend && !legend.includes('{{')) {
      if (m.options === legend) unit = prop.value;
    } else {
      ambiguous = true;
    }
  }
  return { unit, ambiguous };
}

export function checkUnitKnown(panel, ctx) {
  if (panel.unit && !isKnownUnit(panel.unit)) {
    ctx.report.finding('unit-unknown', panel.where, `unit "${panel.unit}" is not a Grafana unit, so Grafana shows the bare number (did you mean one of s, ms, bytes, percentunit, reqps, short?)`);
  }
}

export function checkUnit(q, ctx) {
  const { panel, target } = q.context;
  if (!panel || !UNIT_PANELS.has(panel.type)) return;
  const { unit, ambiguous } = unitOfTarget(panel, target);
  if (!unit || ambiguous || !isKnownUnit(unit)) return;
  const dim = q.promql?.root?.dim || (q.logql?.isMetric ? q.logql.dim : null);
  const problem = unitMismatch(dim, unit);
  if (problem) ctx.report.finding('unit', q.at(0, q.text.length), problem);
}
