// quantile: Prometheus's quantiles (promql/quantile.go) — histogram_quantile over classic buckets
// (bucketQuantile with coalesceBuckets and ensureMonotonic) and the quantile of plain values
// (quantile_over_time, the quantile aggregation; Loki's quantile_over_time is the same). One copy
// for the alert predictor's evaluator (alerts/promql_eval.mjs), the truth's interval evaluator
// (truth/promql_bounds.mjs, which ranks at the corners of its intervals) and the LogQL stand-in.

// Buckets [{ le, count }] (cumulative) sorted by bound, those with the same bound added together,
// the counts made monotonic by a running maximum (counter resets can leave them out of order).
export function monotonicBuckets(buckets) {
  const out = [];
  for (const x of [...buckets].sort((a, b) => a.le - b.le)) {
    if (out.length && out[out.length - 1].le === x.le) out[out.length - 1].count += x.count;
    else out.push({ le: x.le, count: x.count });
  }
  let max = -Infinity;
  for (const x of out) {
    if (x.count > max) max = x.count;
    else if (x.count < max) x.count = max;
  }
  return out;
}

// The value at `rank` of prepared buckets (monotonicBuckets, the last one +Inf): the bucket that
// reaches the rank, interpolated linearly inside it; the last finite bound when only +Inf does.
export function quantileAtRank(rank, b) {
  if (b.length < 2) return NaN;
  let i = 0;
  while (i < b.length - 1 && !(b[i].count >= rank)) i++;
  if (i === b.length - 1) return b[b.length - 2].le;
  if (i === 0 && b[0].le <= 0) return b[0].le;
  let start = 0;
  let count = b[i].count;
  let r = rank;
  if (i > 0) {
    start = b[i - 1].le;
    count -= b[i - 1].count;
    r -= b[i - 1].count;
  }
  return start + (b[i].le - start) * (r / count);
}

// histogram_quantile(q, buckets) of one series group.
export function bucketQuantile(q, buckets) {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (!buckets.length) return NaN;
  const b = monotonicBuckets(buckets);
  if (b[b.length - 1].le !== Infinity || b.length < 2) return NaN;
  const observations = b[b.length - 1].count;
  if (observations === 0) return NaN;
  return quantileAtRank(q * observations, b);
}

// The q-quantile of values (linear interpolation between the closest ranks, as Prometheus's
// quantile()); NaN for none.
export function quantile(q, values) {
  if (!values.length) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const v = [...values].sort((a, b) => a - b);
  const rank = q * (v.length - 1);
  const lo = Math.max(0, Math.floor(rank));
  const hi = Math.min(v.length - 1, lo + 1);
  const w = rank - Math.floor(rank);
  return v[lo] * (1 - w) + v[hi] * w;
}
