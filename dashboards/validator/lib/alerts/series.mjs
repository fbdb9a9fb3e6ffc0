// series: the samples a simulated Prometheus holds, without storing them one by one.
//
// A scraped series is a function of time (piecewise constant or linear segments) sampled at its
// target's scrape ticks (phase + k * interval) while it is present; the first tick after a
// presence ends writes a stale marker, as Prometheus does when a series leaves a scrape or the
// scrape fails. A recorded series (a recording rule's output, ALERTS) is an explicit list of
// (time, value) points where null is a stale marker. Both answer the two questions PromQL asks:
// the value an instant selector sees at T (lookback, staleness), and a summary of the samples in
// a range [mint, maxt] (both ends included, as in Prometheus 2.x) computed per segment, so a
// three-day window costs as little as a five-minute one. Times are milliseconds.

// Samples in a range: count, first and last, the counter increase with resets corrected, min,
// max and sum; samples() lists them when a function needs every one (deriv, quantiles).
export class RangeView {
  constructor() {
    this.n = 0;
    this.t0 = 0;
    this.v0 = 0;
    this.t1 = 0;
    this.v1 = 0;
    this.increase = 0; // last - first, plus every value before a drop (extrapolatedRate's resultValue)
    this.min = Infinity;
    this.max = -Infinity;
    this.sum = 0;
    this.list = null; // [{t, v}] when built sample by sample
  }

  push(t, v) {
    if (this.n === 0) {
      this.t0 = t;
      this.v0 = v;
    } else if (v < this.v1) {
      this.increase += this.v1;
    }
    this.increase += this.n === 0 ? 0 : v - this.v1;
    this.t1 = t;
    this.v1 = v;
    this.n++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.sum += v;
    if (this.list) this.list.push({ t, v });
  }
}

// Piecewise-linear value function: segments [{from, v0, slope}] sorted by `from`, each lasting
// until the next one's `from`; `slope` in units per second. Before the first segment: undefined.
export class Piecewise {
  constructor(segments) {
    this.segments = segments;
  }

  index(t) {
    const s = this.segments;
    let lo = 0;
    let hi = s.length - 1;
    if (!s.length || t < s[0].from) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid].from <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  at(t) {
    const i = this.index(t);
    if (i < 0) return undefined;
    const seg = this.segments[i];
    return seg.v0 + (seg.slope * (t - seg.from)) / 1000;
  }
}

export class ScrapedSeries {
  // labels: {__name__, ...}; value: Piecewise; presence: sorted disjoint [[from, to), ...] (to may
  // be Infinity); phase and interval: the target's scrape ticks.
  constructor(labels, value, presence, phase, interval) {
    this.labels = labels;
    this.value = value;
    this.presence = presence;
    this.phase = phase;
    this.interval = interval;
  }

  tickAtOrBefore(t) {
    return this.phase + Math.floor((t - this.phase) / this.interval) * this.interval;
  }

  tickAtOrAfter(t) {
    return this.phase + Math.ceil((t - this.phase) / this.interval) * this.interval;
  }

  present(t) {
    for (const [a, b] of this.presence) {
      if (t >= a && t < b) return true;
      if (a > t) break;
    }
    return false;
  }

  instant(t, lookback) {
    const tick = this.tickAtOrBefore(t);
    if (!this.present(tick) || t - tick > lookback) return undefined;
    const v = this.value.at(tick);
    return v === undefined ? undefined : v;
  }

  range(mint, maxt, wantList = false) {
    const view = new RangeView();
    if (wantList) view.list = [];
    for (const [a, b] of this.presence) {
      const lo = Math.max(a, mint);
      const hi = Math.min(b - 1, maxt); // presence is [a, b)
      if (lo > hi) {
        if (a > maxt) break;
        continue;
      }
      this.sampleSpan(lo, hi, view, wantList);
    }
    return view;
  }

  // Adds the ticks in [lo, hi] to the view, segment by segment.
  sampleSpan(lo, hi, view, wantList) {
    const segs = this.value.segments;
    let i = Math.max(0, this.value.index(lo));
    let first = this.tickAtOrAfter(lo);
    while (first <= hi) {
      while (i + 1 < segs.length && segs[i + 1].from <= first) i++;
      const seg = segs[i];
      if (!seg || seg.from > first) {
        first = this.tickAtOrAfter(seg ? seg.from : hi + 1);
        continue;
      }
      const end = i + 1 < segs.length ? Math.min(hi, segs[i + 1].from - 1) : hi;
      const last = this.tickAtOrBefore(end);
      if (last >= first) {
        const n = Math.round((last - first) / this.interval) + 1;
        const step = (seg.slope * this.interval) / 1000;
        const vFirst = seg.v0 + (seg.slope * (first - seg.from)) / 1000;
        if (wantList || step < 0 || n <= 2) {
          for (let k = 0; k < n; k++) view.push(first + k * this.interval, vFirst + k * step);
        } else {
          // A rising or flat run: no drop inside it, so its first and last samples say everything.
          const vLast = vFirst + (n - 1) * step;
          view.push(first, vFirst);
          const sumBefore = view.sum;
          view.push(last, vLast);
          view.n += n - 2;
          view.sum = sumBefore + vLast + (n - 2) * vFirst + step * ((n - 1) * n / 2 - (n - 1));
        }
      }
      first = this.tickAtOrAfter(end + 1);
    }
  }
}

export class RecordedSeries {
  constructor(labels) {
    this.labels = labels;
    this.t = [];
    this.v = []; // null: stale marker
  }

  append(t, v) {
    this.t.push(t);
    this.v.push(v);
  }

  lastIndexAtOrBefore(t) {
    let lo = 0;
    let hi = this.t.length - 1;
    if (hi < 0 || this.t[0] > t) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.t[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  instant(t, lookback) {
    const i = this.lastIndexAtOrBefore(t);
    if (i < 0 || this.v[i] === null || t - this.t[i] > lookback) return undefined;
    return this.v[i];
  }

  range(mint, maxt, wantList = false) {
    const view = new RangeView();
    if (wantList) view.list = [];
    let i = this.lastIndexAtOrBefore(mint - 1) + 1;
    for (; i < this.t.length && this.t[i] <= maxt; i++) {
      if (this.v[i] !== null) view.push(this.t[i], this.v[i]);
    }
    return view;
  }

  // True when the last point is a value (not a stale marker).
  live() {
    return this.v.length > 0 && this.v[this.v.length - 1] !== null;
  }
}

// Label sets as stable strings, for maps and matching.
// Cached per label object: the evaluator hands the same objects around from one evaluation to
// the next, so a key is computed once per series, not once per evaluation.
const KEYS = new WeakMap();
export function labelsKey(labels) {
  let out = KEYS.get(labels);
  if (out !== undefined) return out;
  out = '';
  for (const k of Object.keys(labels).sort()) out += `${k}\u0001${labels[k]}\u0002`;
  KEYS.set(labels, out);
  return out;
}

export function matches(labels, matchers) {
  for (const m of matchers) {
    const v = labels[m.name] ?? '';
    if (m.op === '=' && v !== m.value) return false;
    if (m.op === '!=' && v === m.value) return false;
    if (m.op === '=~' && !m.re.test(v)) return false;
    if (m.op === '!~' && m.re.test(v)) return false;
  }
  return true;
}

// The storage the evaluator reads: scraped and recorded series, selected by matchers.
export class Storage {
  constructor() {
    this.all = [];
    this.byName = new Map();
    this.recorded = new Map(); // labels key -> RecordedSeries
    this.version = 0;
    this.selections = new WeakMap(); // matchers array -> {version, result}
  }

  add(series) {
    this.version++;
    this.all.push(series);
    const name = series.labels.__name__ ?? '';
    if (!this.byName.has(name)) this.byName.set(name, []);
    this.byName.get(name).push(series);
  }

  // The recorded series with these labels, created on first use.
  recordedSeries(labels) {
    const key = labelsKey(labels);
    let s = this.recorded.get(key);
    if (!s) {
      s = new RecordedSeries(labels);
      this.recorded.set(key, s);
      this.add(s);
    }
    return s;
  }

  // The series these matchers select; cached per matchers array until a series is added.
  select(matchers) {
    const hit = this.selections.get(matchers);
    if (hit && hit.version === this.version) return hit.result;
    const name = matchers.find((m) => m.name === '__name__' && m.op === '=');
    const pool = name ? this.byName.get(name.value) || [] : this.all;
    const result = pool.filter((s) => matches(s.labels, matchers));
    this.selections.set(matchers, { version: this.version, result });
    return result;
  }
}
