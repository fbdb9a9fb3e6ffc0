// extrapolated_rate: Prometheus's extrapolatedRate (promql/functions.go) for one series with
// exact values — rate(), increase() and delta() as Prometheus 2.x computes them, and Loki's
// rate_counter(). Shared by the truth's PromQL evaluator (truth/promql_bounds.mjs, at the corners
// of its intervals) and the LogQL stand-in (logql_eval.mjs).

// times (ms) and values of the samples in the window (at least two), the window's end and length.
export function extrapolate(times, values, windowEnd, rangeMs, isCounter, isRate) {
  const n = times.length;
  const rangeStart = windowEnd - rangeMs;
  let result = values[n - 1] - values[0];
  if (isCounter) {
    let last = values[0];
    for (const v of values) {
      if (v < last) result += last;
      last = v;
    }
  }
  let toStart = (times[0] - rangeStart) / 1000;
  const toEnd = (windowEnd - times[n - 1]) / 1000;
  const sampled = (times[n - 1] - times[0]) / 1000;
  const avg = sampled / (n - 1);
  if (isCounter && result > 0 && values[0] >= 0) {
    const toZero = sampled * (values[0] / result);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = avg * 1.1;
  let interval = sampled;
  interval += toStart < threshold ? toStart : avg / 2;
  interval += toEnd < threshold ? toEnd : avg / 2;
  result *= interval / sampled;
  if (isRate) result /= rangeMs / 1000;
  return result;
}
