// compare: a panel's series (as Grafana got them) against the truth (intervals per point),
// window by window, after converting the panel's numbers through its unit into the claim's.
//
// A point the truth is certain of must be on the panel and inside [lo, hi]; a point the truth
// says may exist may be missing but, if shown, must be inside; a point the panel shows where the
// truth has nothing is a lie too. Float noise (1e-9 relative) is the only extra tolerance: every
// other one is already in the interval, and stated where the interval is made.

// Grafana unit ids by dimension, with the factor to the dimension's base unit.
const UNITS = {
  time: { ns: 1e-9, µs: 1e-6, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400, dtdurationms: 1e-3, dtdurations: 1, clockms: 1e-3, clocks: 1 },
  ratio: { percentunit: 1, percent: 0.01 },
  rate: { reqps: 1, rps: 1, ops: 1, cps: 1, wps: 1, iops: 1, eps: 1, mps: 1, pps: 1, hertz: 1, rpm: 1 / 60, opm: 1 / 60, cpm: 1 / 60, wpm: 1 / 60, epm: 1 / 60, mpm: 1 / 60 },
  bytes: { bytes: 1, decbytes: 1, bits: 1 / 8, decbits: 1 / 8, kbytes: 1024, deckbytes: 1000, mbytes: 1024 ** 2, decmbytes: 1e6, gbytes: 1024 ** 3, decgbytes: 1e9 },
  timestamp: { dateTimeAsIso: 1e-3, dateTimeAsSystem: 1e-3, dateTimeFromNow: 1e-3 },
};
const DIMENSIONLESS = new Set(['', 'none', 'short', 'sishort', 'locale', 'bool', 'bool_yes_no', 'bool_on_off']);

export function unitInfo(unit) {
  const u = unit || '';
  if (DIMENSIONLESS.has(u) || /^(suffix|prefix|count):/.test(u)) return { dimension: 'count', factor: 1 };
  for (const [dimension, table] of Object.entries(UNITS)) if (u in table) return { dimension, factor: table[u] };
  return { dimension: 'unknown', factor: 1 };
}

// The factor that turns a panel value into the claim's unit, or an error sentence.
export function unitConversion(panelUnit, claimUnit) {
  const p = unitInfo(panelUnit);
  const c = unitInfo(claimUnit);
  if (p.dimension === 'unknown' || c.dimension === 'unknown') return { factor: 1 };
  if (p.dimension === c.dimension) return { factor: p.factor / c.factor };
  if (p.dimension === 'count' || c.dimension === 'count') return { factor: p.factor / c.factor, note: `unit "${panelUnit || 'none'}" says ${p.dimension}, the value is a ${c.dimension}` };
  return { error: `the panel's unit "${panelUnit}" is a ${p.dimension}, but what it shows is a ${c.dimension} (claim unit "${claimUnit}")` };
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
