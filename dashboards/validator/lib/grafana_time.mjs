// grafana_time: what Grafana computes before a panel's query leaves it — the stand-in for Grafana,
// which cannot run here. Given the dashboard's time range, the panel's max data points (or its
// width in pixels), its min interval and the datasource's scrape interval, it yields the step of
// the query_range request and the values of $__interval, $__rate_interval, $__range and Loki's
// $__auto, as Grafana 10/11 does.
//
// Read from Grafana's source (rangeutil.ts calculateInterval/roundInterval in the frontend,
// pkg/promlib/models/query.go and intervalv2 for Prometheus, pkg/tsdb/loki/step.go and
// parse_query.go for Loki) and written again here; tests/validator/unit/grafana_time.test.mjs pins
// the values. Times are milliseconds.

const UNIT_MS = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000, M: 2592000000, y: 31536000000 };

// A Grafana interval string ("15s", "1m", "500ms", "2h"; a bare number is seconds) in ms. As
// Grafana's describeInterval, the count is an integer (parseInt): "1.5s" is 1 s.
export function intervalToMs(text) {
  const s = String(text).trim().replace(/^[<>]/, '');
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const m = /^(-?\d+(?:\.\d+)?)(ms|[Mwdhmsy])/.exec(s);
  if (!m) throw new Error(`"${text}" is not an interval Grafana understands (like 15s, 1m, 500ms)`);
  return parseInt(m[1], 10) * UNIT_MS[m[2]];
}

// Grafana's "nice" intervals: the brackets of rangeutil.roundInterval (frontend) and
// gtime.RoundInterval (backend), which agree.
const ROUND_BRACKETS = [
  [10, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000],
  [3500, 2000], [7500, 5000], [12500, 10000], [17500, 15000], [25000, 20000], [45000, 30000],
  [90000, 60000], [210000, 120000], [450000, 300000], [750000, 600000], [1050000, 900000],
  [1500000, 1200000], [2700000, 1800000], [5400000, 3600000], [9000000, 7200000],
  [16200000, 10800000], [32400000, 21600000], [86400000, 43200000], [604800000, 86400000],
  [1814400000, 604800000], [3628800000, 2592000000],
];

export function roundInterval(ms) {
  for (const [below, value] of ROUND_BRACKETS) if (ms < below) return value;
  return 31536000000;
}

// gtime.FormatInterval: the largest whole unit ("1m", "15s", "500ms").
export function formatInterval(ms) {
  for (const [unit, size] of [['y', UNIT_MS.y], ['d', UNIT_MS.d], ['h', UNIT_MS.h], ['m', UNIT_MS.m], ['s', UNIT_MS.s]]) {
    if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  }
  return ms >= 1 ? `${Math.floor(ms)}ms` : '1ms';
}

// Go's time.Duration.String(), which Grafana uses for $__rate_interval: "4s", "1m0s", "1.5s".
export function goDuration(ms) {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sec = Number(s.toFixed(3)).toString();
  if (h) return `${h}h${m}m${sec}s`;
  if (m) return `${m}m${sec}s`;
  return `${sec}s`;
}

// The panel's resolution: its maxDataPoints when set, otherwise its width in pixels, as
// PanelQueryRunner sends it. The width comes from gridPos.w (of 24 columns) on a dashboard
// `dashboardWidth` pixels wide, with Grafana's 8 px gutters and the panel's own padding.
export function panelResolution(panel, dashboardWidth = 1840) {
  if (Number(panel.maxDataPoints) > 0) return Number(panel.maxDataPoints);
  const w = Math.min(24, Math.max(1, Number(panel.gridPos?.w) || 12));
  const gutter = 8;
  const column = (dashboardWidth - gutter * 23) / 24;
  const width = w * column + (w - 1) * gutter;
  return Math.max(1, Math.floor(width - 2 * gutter));
}

// The frontend's interval (rangeutil.calculateInterval): range / resolution rounded to a nice
// interval, never below the lower limit (the panel's min interval, else the datasource's).
export function frontendInterval(rangeMs, resolution, lowLimit) {
  const low = lowLimit ? intervalToMs(lowLimit) : 1;
  const ms = Math.max(roundInterval(rangeMs / resolution), low);
  return { intervalMs: ms, interval: formatInterval(ms) };
}

function isVariableInterval(s) {
  return /^\$\{?__(interval|interval_ms|rate_interval|rate_interval_ms)\}?$/.test(s || '');
}

// What Grafana's Prometheus backend sends for one target. opts: { fromMs, toMs, resolution,
// panelInterval (panel "Min interval"), targetInterval (the target's "Min step", target.interval),
// intervalFactor, scrapeInterval (datasource jsonData.timeInterval) }.
// Returns { start, end, step (ms), macros: { name: text } } with start/end aligned to the step.
export function prometheusRequest(opts) {
  const rangeMs = opts.toMs - opts.fromMs;
  const ds = opts.scrapeInterval || '';
  const lowLimit = opts.panelInterval || ds || undefined;
  const fe = frontendInterval(rangeMs, opts.resolution, lowLimit);
  const original = opts.targetInterval || '';
  const queryInterval = isVariableInterval(original) ? '' : original;
  // gtime.GetIntervalFrom: the target's min step, else the frontend's interval, else the
  // datasource's scrape interval, else 15s.
  let minMs;
  if (queryInterval && queryInterval !== '0s') minMs = intervalToMs(queryInterval);
  else if (fe.intervalMs) minMs = fe.intervalMs;
  else if (ds) minMs = intervalToMs(ds);
  else minMs = 15000;
  // intervalv2.Calculate: range / max data points, at least the min interval.
  const raw = rangeMs / (opts.resolution || 1500);
  const calculated = raw < minMs ? minMs : roundInterval(raw);
  const safe = roundInterval(rangeMs / 11000);
  const adjusted = Math.max(calculated, safe);
  const scrapeMs = intervalToMs(ds || '15s');
  const rateOf = (intervalMs, minStep) => Math.max(intervalMs + intervalToMs(minStep), 4 * intervalToMs(minStep));
  let step;
  if (/^\$\{?__rate_interval\}?$/.test(original)) step = rateOf(adjusted, ds || '15s');
  else step = adjusted * (Number(opts.intervalFactor) || 1);
  // interpolateVariables: $__rate_interval from the frontend's interval and the min step.
  let rateMs;
  if (/^\$\{?__rate_interval\}?$/.test(original)) rateMs = step;
  else {
    let minStep = original;
    if (/^\$\{?__interval\}?$/.test(minStep)) minStep = goDuration(step);
    if (!minStep) minStep = ds || '15s';
    rateMs = rateOf(fe.intervalMs, minStep);
  }
  const rangeS = Math.round(rangeMs / 1000);
  const align = (t) => Math.floor(t / step) * step;
  return {
    start: align(opts.fromMs),
    end: align(opts.toMs),
    step,
    scrapeMs,
    intervalMs: fe.intervalMs,
    rateIntervalMs: rateMs,
    macros: {
      __interval_ms: String(Math.floor(step)),
      __interval: formatInterval(step),
      __range_ms: String(rangeMs),
      __range_s: String(rangeS),
      __range: `${rangeS}s`,
      __rate_interval_ms: String(Math.floor(rateMs)),
      __rate_interval: goDuration(rateMs),
    },
  };
}

// What Grafana's Loki backend sends for one target (pkg/tsdb/loki): step = max(interval x
// resolution, range / 11000) rounded up to a millisecond, or the target's own step; $__auto is the
// step for range queries and the whole range for instant ones. opts: { fromMs, toMs, resolution,
// panelInterval, dsInterval, lokiResolution (1..5, 10), targetStep, instant }.
export function lokiRequest(opts) {
  const rangeMs = opts.toMs - opts.fromMs;
  const fe = frontendInterval(rangeMs, opts.resolution, opts.panelInterval || opts.dsInterval || undefined);
  const res = [1, 2, 3, 4, 5, 10].includes(Number(opts.lokiResolution)) ? Number(opts.lokiResolution) : 1;
  let step;
  if (opts.targetStep) step = intervalToMs(opts.targetStep) * res;
  else step = Math.ceil(Math.max(fe.intervalMs * res, rangeMs / 11000));
  const rangeS = Math.round(rangeMs / 1000);
  return {
    start: opts.fromMs,
    end: opts.toMs,
    step,
    intervalMs: fe.intervalMs,
    macros: {
      __interval_ms: String(fe.intervalMs),
      __interval: formatInterval(fe.intervalMs),
      __range_ms: String(rangeMs),
      __range_s: String(rangeS),
      __range: `${rangeS}s`,
      __auto: opts.instant ? `${rangeS}s` : formatInterval(step),
    },
  };
}
