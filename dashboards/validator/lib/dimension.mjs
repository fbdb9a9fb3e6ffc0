// dimension: what the numbers of a query are — seconds, bytes, a ratio, a count, a point in
// time, each maybe per second and maybe scaled (× 100, / 1000) — inferred from Prometheus's naming
// conventions (`_seconds`, `_bytes`, `_ratio`, `_total`…) and carried through functions and
// arithmetic. It is what lets the unit check say "this panel's unit is ms but its query returns
// seconds" for anyone's metrics, as long as they follow the conventions.
//
// A dim: { base, perSecond: 0|1, scale }. base is one of seconds, bytes, bits, count, ratio,
// timestamp, none (a state or boolean), number (a literal), unknown, or other:<suffix>; scale is
// what the base quantity was multiplied by (a _milliseconds metric: seconds × 1000; a ratio × 100
// is a percentage). Unknown wins over everything: no check speaks about an unknown dimension.

const d = (base, perSecond = 0, scale = 1) => Object.freeze({ base, perSecond, scale });

export const DIM = {
  unknown: d('unknown'),
  number: d('number'),
  none: d('none'),
  count: d('count'),
  ratio: d('ratio'),
  seconds: d('seconds'),
  bytes: d('bytes'),
  timestamp: d('timestamp'),
};

const SUFFIXES = [
  [/(_timestamp|_time|start_time|_created)_seconds$/, () => DIM.timestamp],
  [/_seconds$/, () => DIM.seconds],
  [/_(milliseconds|ms)$/, () => d('seconds', 0, 1000)],
  [/_(microseconds|us)$/, () => d('seconds', 0, 1e6)],
  [/_bytes$/, () => DIM.bytes],
  [/_bits$/, () => d('bits')],
  [/_ratio$/, () => DIM.ratio],
  [/_percent$/, () => d('ratio', 0, 100)],
  [/_(celsius|volts|amperes|joules|watts|meters|grams|hertz)$/, (m) => d(`other:${m[1]}`)],
  [/_info$/, () => DIM.none],
];

// The dim of a metric's samples, from its name and type.
export function dimOfMetric(name, type) {
  if (name === 'up') return DIM.none;
  if (/_bucket$/.test(name) || /_count$/.test(name)) return DIM.count;
  // recording rules: level:metric:operations — the operation says what came out
  if (name.includes(':')) {
    const ops = name.split(':').pop();
    if (/ratio/.test(ops)) return DIM.ratio;
    return DIM.unknown;
  }
  const base = name.replace(/_(total|sum)$/, '');
  // A counter of seconds is time spent (node_disk_io_time_seconds_total), never a point in time.
  const counted = type === 'counter' || base !== name;
  for (const [re, f] of SUFFIXES) {
    const m = re.exec(base);
    if (!m) continue;
    const d = f(m);
    return d === DIM.timestamp && counted ? DIM.seconds : d;
  }
  if (/_total$/.test(name) || type === 'counter') return DIM.count;
  return DIM.unknown;
}

const known = (x) => x && x.base !== 'unknown';

export const combine = {
  perSecond(x) {
    if (!known(x) || x.perSecond) return DIM.unknown;
    return d(x.base, 1, x.scale);
  },

  // "a or b": the dim of whichever side is not a bare number.
  either(a, b) {
    if (a.base === 'number') return b;
    if (b.base === 'number') return a;
    if (a.base === b.base && a.perSecond === b.perSecond && a.scale === b.scale) return a;
    return DIM.unknown;
  },

  // Arithmetic between two analysed operands ({ dim, scalar, number }).
  arith(op, a, b) {
    const x = a.dim;
    const y = b.dim;
    const num = (i) => i.dim.base === 'number' && i.number !== undefined;
    if (op === '*') {
      if (num(b) && known(x)) return d(x.base, x.perSecond, x.scale * b.number);
      if (num(a) && known(y)) return d(y.base, y.perSecond, y.scale * a.number);
      return DIM.unknown;
    }
    if (op === '/') {
      if (num(b) && known(x)) return b.number === 0 ? DIM.unknown : d(x.base, x.perSecond, x.scale / b.number);
      if (!known(x) || !known(y) || x.base === 'number' || y.base === 'number') return DIM.unknown;
      if (x.base === y.base && x.perSecond === y.perSecond) return d('ratio', 0, x.scale / y.scale);
      if (y.base === 'count' && x.perSecond >= y.perSecond) return d(x.base, x.perSecond - y.perSecond, x.scale / y.scale);
      return DIM.unknown;
    }
    if (op === '+' || op === '-') {
      if (x.base === 'number') return y;
      if (y.base === 'number') return x;
      if (!known(x) || !known(y)) return DIM.unknown;
      if (x.base === 'timestamp' && y.base === 'timestamp' && op === '-') return DIM.seconds;
      if (x.base === 'timestamp' && y.base === 'seconds') return DIM.timestamp;
      if (x.base === y.base && x.perSecond === y.perSecond && x.scale === y.scale) return x;
      return DIM.unknown;
    }
    return DIM.unknown;
  },
};

// Seconds per second (CPU seconds, time spent busy, from rate()) are a fraction of one.
export function asRatio(x) {
  return x && x.base === 'seconds' && x.perSecond ? d('ratio', 0, x.scale) : x;
}

// "seconds", "bytes per second", "a ratio (0-1)", "a ratio × 100"…
export function describeDim(dim) {
  const x = asRatio(dim);
  if (!known(x)) return 'unknown';
  let s = { ratio: 'a ratio', count: 'a count', timestamp: 'a unix time', none: 'a state', number: 'a number' }[x.base] || x.base.replace(/^other:/, '');
  if (x.base === 'seconds' && x.scale === 1000) s = 'milliseconds';
  else if (x.base === 'seconds' && x.scale === 1e6) s = 'microseconds';
  else if (x.base === 'ratio' && x.scale === 100) s = 'a percentage (ratio × 100)';
  else if (x.base === 'ratio' && x.scale === 1) s = 'a ratio (0–1)';
  else if (x.scale !== 1) s += ` × ${x.scale}`;
  if (x.perSecond) s = x.base === 'count' ? 'a rate (per second)' : `${s} per second`;
  return s;
}
