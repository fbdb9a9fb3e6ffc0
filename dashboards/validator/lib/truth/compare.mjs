// compare: a panel's series (as Grafana got them) against the truth (intervals per point),
// window by window, after converting the panel's numbers through its unit into the claim's.
//
// A point the truth is certain of must be on the panel and inside [lo, hi]; a point the truth
// says may exist may be missing but, if shown, must be inside; a point the panel shows where the
// truth has nothing is a lie too. Float noise (1e-9 relative) is the only extra tolerance: every
// other one is already in the interval, and stated where the interval is made.

import { unitClaim } from '../units.mjs';

// A number shown in `unit`, in the base of its kind (seconds, bytes, a 0-1 ratio, per second…):
// units.mjs says what each Grafana unit claims.
function toBase(unit) {
  const c = unitClaim(unit || 'none');
  let f = c.kind === 'ratio' || c.kind === 'timestamp' ? 1 / c.factor : c.factor;
  if (c.perMinute) f /= 60;
  return { kind: c.custom ? 'count' : c.kind === 'rate' ? 'count/s' : c.perSecond ? `${c.kind}/s` : c.kind, factor: f };
}

// The factor that turns a panel value into the claim's unit, or an error sentence when the two
// units measure different things (a duration shown as a ratio). A plain-number unit (short,
// none, a custom suffix) takes the claim's numbers as they are.
export function unitConversion(panelUnit, claimUnit) {
  const p = toBase(panelUnit);
  const c = toBase(claimUnit);
  const plain = (k) => k === 'count' || k === 'other' || k === 'bool';
  if (p.kind === c.kind || plain(p.kind) || plain(c.kind) || (p.kind === 'count/s' && c.kind === 'count/s')) return { factor: p.factor / c.factor };
  return { error: `the panel's unit "${panelUnit}" shows a ${p.kind}, but what it claims to show is a ${c.kind} (claim unit "${claimUnit}")` };
}

const keyOf = (labels) => JSON.stringify(Object.fromEntries(Object.entries(labels || {}).filter(([k]) => k !== '__name__').sort()));

function inside(v, b) {
  if (Number.isNaN(b.lo) && Number.isNaN(b.hi)) return Number.isNaN(v);
  if (Number.isNaN(v)) return !!b.mayBeNaN;
  const tol = 1e-9 * Math.max(1, Math.abs(b.lo), Math.abs(b.hi));
  return v >= b.lo - tol && v <= b.hi + tol;
}

// panel: [{ labels, points: [[t, v]] }]; truth: [{ labels, points: [[t, { lo, hi, maybe }]] }].
// Returns { windows, failures: [{ t, labels, panel, truth }], matched, extraSeries, missingSeries }.
export function compareSeries(panel, truth, { factor = 1 } = {}) {
  const failures = [];
  const p = new Map(panel.map((s) => [keyOf(s.labels), new Map(s.points.map(([t, v]) => [t, v * factor]))]));
  const tr = new Map(truth.map((s) => [keyOf(s.labels), new Map(s.points)]));
  let windows = 0;
  for (const [k, points] of tr) {
    const shown = p.get(k);
    for (const [t, b] of points) {
      windows++;
      const v = shown?.get(t);
      if (v === undefined) {
        if (!b.maybe && !(Number.isNaN(b.lo) && Number.isNaN(b.hi))) failures.push({ t, labels: k, panel: null, truth: b });
        continue;
      }
      if (!inside(v, b)) failures.push({ t, labels: k, panel: v, truth: b });
    }
  }
  for (const [k, points] of p) {
    const known = tr.get(k);
    for (const [t, v] of points) {
      if (known?.has(t)) continue;
      if (Number.isNaN(v)) continue; // a gap in Grafana, as nothing would be
      windows++;
      failures.push({ t, labels: k, panel: v, truth: null });
    }
  }
  failures.sort((a, b) => a.t - b.t);
  return { windows, failures };
}

function fmt(v) {
  if (v === null || v === undefined) return 'nothing';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return Number(v.toPrecision(4)).toString();
}

export function formatBand(b) {
  if (!b) return 'nothing';
  if (Number.isNaN(b.lo) && Number.isNaN(b.hi)) return 'no value (NaN)';
  const range = b.lo === b.hi ? fmt(b.lo) : `${fmt(b.lo)}..${fmt(b.hi)}`;
  return b.maybe ? `${range} or nothing` : range;
}

export function formatFailure(f, windowMs) {
  const at = new Date(f.t).toISOString();
  const win = windowMs ? ` (window ${new Date(f.t - windowMs).toISOString().slice(11, 23)}..${at.slice(11, 23)})` : '';
  const series = f.labels === '{}' ? '' : ` ${f.labels}`;
  return `at ${at}${win}${series}: panel ${fmt(f.panel)}, truth ${formatBand(f.truth)}`;
}
