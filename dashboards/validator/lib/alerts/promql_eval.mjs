// promql_eval: evaluates a PromQL tree (promql_ast.mjs) at one instant over a Storage
// (series.mjs), the way Prometheus 2.42's engine does for the parts alert rules use: selectors
// with lookback and staleness, rate/increase extrapolation, the *_over_time functions,
// deriv/predict_linear's regression, histogram_quantile's interpolation, aggregations, vector
// matching with on/ignoring/group_left, set operators, comparisons with and without bool,
// subqueries and offsets. Each was written from Prometheus's source (promql/engine.go,
// functions.go, quantile.go at v2.42.0) and is checked against promtool in the tests.
//
// evaluate(ast, t) returns {kind: 'vector', samples: [{labels, v}]}, {kind: 'scalar', v} or
// {kind: 'string', v}; it throws NotModelled for a function this evaluator does not know, so a
// prediction says "not predicted" instead of guessing.

import { bucketQuantile, quantile } from '../quantile.mjs';
import { COMPARISONS, SET_OPS } from './promql_ast.mjs';
import { labelsKey, RecordedSeries } from './series.mjs';

export class NotModelled extends Error {}

const vec = (samples) => ({ kind: 'vector', samples });
// Label objects are treated as immutable and derived ones cached per source object, so that the
// same series keeps the same objects (and cached keys) from one evaluation to the next.
const NAMELESS = new WeakMap();
const dropName = (labels) => {
  if (labels.__name__ === undefined) return labels;
  let out = NAMELESS.get(labels);
  if (!out) {
    const { __name__: _, ...rest } = labels;
    out = rest;
    NAMELESS.set(labels, out);
  }
  return out;
};
const SIGNATURES = new WeakMap();
function cachedSignature(labels, matching) {
  let m = SIGNATURES.get(labels);
  if (!m) SIGNATURES.set(labels, (m = new Map()));
  const k = matching || NO_MATCHING;
  let sig = m.get(k);
  if (sig === undefined) {
    sig = signature(labels, matching);
    m.set(k, sig);
  }
  return sig;
}
const NO_MATCHING = {};
const DEFAULT_MATCHING = { on: false, labels: [], card: 'one-to-one', include: [] };
// One stable object per distinct label set produced by a node (aggregation groups, vector
// matches), so results keep their identity across evaluations.
function internLabels(node, labels) {
  node.interned ||= new Map();
  const key = labelsKey(labels);
  let out = node.interned.get(key);
  if (!out) node.interned.set(key, (out = labels));
  return out;
}
const ARITHMETIC = new Set(['+', '-', '*', '/', '%', '^', 'atan2']);

function arith(op, a, b) {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return a / b;
    case '%': return a % b;
    case '^': return a ** b;
    case 'atan2': return Math.atan2(a, b);
    case '==': return a === b;
    case '!=': return a !== b;
    case '>': return a > b;
    case '<': return a < b;
    case '>=': return a >= b;
    case '<=': return a <= b;
    default: throw new NotModelled(`operator ${op}`);
  }
}

function signature(labels, matching) {
  if (matching?.on) {
    const o = {};
    for (const n of matching.labels) o[n] = labels[n] ?? '';
    return labelsKey(o);
  }
  const o = { ...dropName(labels) };
  for (const n of matching?.labels || []) delete o[n];
  for (const k of Object.keys(o)) if (o[k] === '') delete o[k];
  return labelsKey(o);
}

// linearRegression from functions.go: slope per second and intercept at interceptTime.
function regression(list, interceptTime) {
  const y0 = list[0].v;
  if (list.every((p) => p.v === y0)) return { slope: 0, intercept: y0 };
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxy = 0;
  let sx2 = 0;
  for (const p of list) {
    const x = (p.t - interceptTime) / 1000;
    n += 1;
    sx += x;
    sy += p.v;
    sxy += x * p.v;
    sx2 += x * x;
  }
  const slope = (sxy - (sx * sy) / n) / (sx2 - (sx * sx) / n);
  return { slope, intercept: sy / n - (slope * sx) / n };
}

export class Evaluator {
  // storage: series.mjs Storage; lookback: ms; evalInterval: ms (the default subquery step).
  constructor(storage, { lookback = 300000, evalInterval = 60000 } = {}) {
    this.storage = storage;
    this.lookback = lookback;
    this.evalInterval = evalInterval;
  }

  evaluate(node, t) {
    switch (node.type) {
      case 'number':
        return { kind: 'scalar', v: node.value };
      case 'string':
        return { kind: 'string', v: node.value };
      case 'vector':
        return this.instantSelector(node, t);
      case 'matrix':
      case 'subquery':
        throw new NotModelled('a range vector where an instant vector is expected');
      case 'unary': {
        const r = this.evaluate(node.expr, t);
        if (node.op !== '-') return r;
        if (r.kind === 'scalar') return { kind: 'scalar', v: -r.v };
        return vec(r.samples.map((s) => ({ labels: dropName(s.labels), v: -s.v })));
      }
      case 'call':
        return this.call(node, t);
      case 'agg':
        return this.aggregate(node, t);
      case 'binary':
        return this.binary(node, t);
      default:
        throw new NotModelled(`expression ${node.type}`);
    }
  }

  instantSelector(node, t) {
    const ref = t - node.offset;
    const out = [];
    for (const s of this.storage.select(node.matchers)) {
      const v = s.instant(ref, this.lookback);
      if (v !== undefined) out.push({ labels: s.labels, v });
    }
    return vec(out);
  }

  // The range argument of a function: [{labels, view, range, ref}] (view: series.mjs RangeView).
  rangeArg(node, t, wantList) {
    if (node.type === 'matrix') {
      const ref = t - node.vector.offset;
      const out = [];
      for (const s of this.storage.select(node.vector.matchers)) {
        const view = s.range(ref - node.range, ref, wantList);
        if (view.n) out.push({ labels: s.labels, view, range: node.range, ref });
      }
      return out;
    }
    if (node.type === 'subquery') {
      const step = node.step || this.evalInterval;
      const ref = t - node.offset;
      const byKey = new Map();
      // Subquery steps are aligned to multiples of the step, from the start of the range.
      const start = Math.ceil((ref - node.range) / step) * step;
      for (let ts = start; ts <= ref; ts += step) {
        const r = this.evaluate(node.expr, ts);
        if (r.kind !== 'vector') throw new NotModelled('a subquery over a scalar');
        for (const s of r.samples) {
          const key = labelsKey(s.labels);
          if (!byKey.has(key)) byKey.set(key, new RecordedSeries(s.labels));
          byKey.get(key).append(ts, s.v);
        }
      }
      return [...byKey.values()].map((s) => ({ labels: s.labels, view: s.range(ref - node.range, ref, wantList), range: node.range, ref }));
    }
    throw new NotModelled(`a range function over ${node.type}`);
  }

  scalarArg(node, t) {
    const r = this.evaluate(node, t);
    if (r.kind === 'scalar') return r.v;
    throw new NotModelled('a vector where a scalar argument is expected');
  }

  call(node, t) {
    const f = node.func;
    const a = node.args;
    const overRange = (fn, wantList = false) =>
      vec(this.rangeArg(a[0], t, wantList).flatMap(({ labels, view, range, ref }) => {
        const v = fn(view, range, ref);
        return v === undefined ? [] : [{ labels: dropName(labels), v }];
      }));
    switch (f) {
      case 'rate':
      case 'increase':
      case 'delta':
        return overRange((view, range, ref) => extrapolated(view, range, ref, f !== 'delta', f === 'rate'));
      case 'irate':
      case 'idelta':
        return overRange((view) => {
          if (view.n < 2) return undefined;
          const [p, q] = view.list.slice(-2);
          let d = q.v - p.v;
          if (f === 'irate') {
            if (q.v < p.v) d = q.v;
            return d / ((q.t - p.t) / 1000);
          }
          return d;
        }, true);
      case 'resets':
      case 'changes':
        return overRange((view) => {
          let n = 0;
          for (let i = 1; i < view.list.length; i++) {
            const [p, q] = [view.list[i - 1].v, view.list[i].v];
            if (f === 'resets' ? q < p : q !== p && !(Number.isNaN(p) && Number.isNaN(q))) n++;
          }
          return n;
        }, true);
      case 'deriv':
        return overRange((view) => (view.n < 2 ? undefined : regression(view.list, view.list[0].t).slope), true);
      case 'predict_linear': {
        const d = this.scalarArg(a[1], t);
        return overRange((view) => {
          if (view.n < 2) return undefined;
          const { slope, intercept } = regression(view.list, t);
          return slope * d + intercept;
        }, true);
      }
      case 'avg_over_time':
        return overRange((view) => view.sum / view.n);
      case 'min_over_time':
        return overRange((view) => view.min);
      case 'max_over_time':
        return overRange((view) => view.max);
      case 'sum_over_time':
        return overRange((view) => view.sum);
      case 'count_over_time':
        return overRange((view) => view.n);
      case 'last_over_time':
        return vec(this.rangeArg(a[0], t, false).map(({ labels, view }) => ({ labels, v: view.v1 })));
      case 'present_over_time':
        return overRange(() => 1);
      case 'quantile_over_time': {
        const q = this.scalarArg(a[0], t);
        return vec(this.rangeArg(a[1], t, true).map(({ labels, view }) => ({
          labels: dropName(labels), v: quantile(q, view.list.map((p) => p.v)),
        })));
      }
      case 'stddev_over_time':
      case 'stdvar_over_time':
        return overRange((view) => {
          const m = view.sum / view.n;
          const variance = view.list.reduce((acc, p) => acc + (p.v - m) ** 2, 0) / view.n;
          return f === 'stddev_over_time' ? Math.sqrt(variance) : variance;
        }, true);
      case 'absent': {
        const r = this.evaluate(a[0], t);
        if (r.samples.length) return vec([]);
        return vec([{ labels: absentLabels(a[0]), v: 1 }]);
      }
      case 'absent_over_time': {
        if (this.rangeArg(a[0], t, false).length) return vec([]);
        return vec([{ labels: absentLabels(a[0].vector || a[0]), v: 1 }]);
      }
      case 'histogram_quantile': {
        const q = this.scalarArg(a[0], t);
        const r = this.evaluate(a[1], t);
        const groups = new Map();
        for (const s of r.samples) {
          const le = Number(s.labels.le === '+Inf' ? Infinity : s.labels.le);
          if (s.labels.le === undefined || Number.isNaN(le)) continue;
          const { le: _, ...rest } = dropName(s.labels);
          const key = labelsKey(rest);
          if (!groups.has(key)) groups.set(key, { labels: rest, buckets: [] });
          groups.get(key).buckets.push({ le, count: s.v });
        }
        return vec([...groups.values()].map((g) => ({ labels: g.labels, v: bucketQuantile(q, g.buckets) })));
      }
      case 'time':
        return { kind: 'scalar', v: t / 1000 };
      case 'vector':
        return vec([{ labels: {}, v: this.scalarArg(a[0], t) }]);
      case 'scalar': {
        const r = this.evaluate(a[0], t);
        return { kind: 'scalar', v: r.samples.length === 1 ? r.samples[0].v : NaN };
      }
      case 'timestamp':
        throw new NotModelled('timestamp()');
      case 'label_replace': {
        const r = this.evaluate(a[0], t);
        const [dst, repl, src, re] = a.slice(1).map((x) => this.evaluate(x, t).v);
        const rx = new RegExp(`^(?:${re})$`, 's');
        return vec(r.samples.map((s) => {
          const m = rx.exec(s.labels[src] ?? '');
          if (!m) return s;
          const value = repl.replace(/\$(\d+)|\$\{(\w+)\}/g, (_, n, n2) => m[Number(n ?? n2)] ?? '');
          const labels = { ...s.labels };
          if (value === '') delete labels[dst];
          else labels[dst] = value;
          return { labels, v: s.v };
        }));
      }
      case 'clamp':
      case 'clamp_min':
      case 'clamp_max': {
        const r = this.evaluate(a[0], t);
        const lo = f === 'clamp_max' ? -Infinity : this.scalarArg(a[1], t);
        const hi = f === 'clamp_min' ? Infinity : this.scalarArg(a[f === 'clamp' ? 2 : 1], t);
        return vec(r.samples.map((s) => ({ labels: dropName(s.labels), v: Math.max(lo, Math.min(hi, s.v)) })));
      }
      default: {
        const math = { abs: Math.abs, ceil: Math.ceil, floor: Math.floor, exp: Math.exp, ln: Math.log, log2: Math.log2, log10: Math.log10, sqrt: Math.sqrt, sgn: Math.sign };
        if (math[f]) {
          const r = this.evaluate(a[0], t);
          return vec(r.samples.map((s) => ({ labels: dropName(s.labels), v: math[f](s.v) })));
        }
        if (f === 'round') {
          const r = this.evaluate(a[0], t);
          const to = a[1] ? this.scalarArg(a[1], t) : 1;
          return vec(r.samples.map((s) => ({ labels: dropName(s.labels), v: Math.floor(s.v / to + 0.5) * to })));
        }
        throw new NotModelled(`${f}()`);
      }
    }
  }

  aggregate(node, t) {
    const r = this.evaluate(node.expr, t);
    if (r.kind !== 'vector') throw new NotModelled(`${node.op} over a scalar`);
    const g = node.grouping;
    node.groupOf ||= new WeakMap();
    const keyLabels = (labels) => {
      let out = node.groupOf.get(labels);
      if (out) return out;
      const o = {};
      if (g && !g.without) {
        for (const n of g.labels) if (labels[n] !== undefined && labels[n] !== '') o[n] = labels[n];
      } else if (g) {
        Object.assign(o, dropName(labels));
        for (const n of g.labels) delete o[n];
      }
      out = internLabels(node, o);
      node.groupOf.set(labels, out);
      return out;
    };
    const groups = new Map();
    for (const s of r.samples) {
      const labels = keyLabels(s.labels);
      const key = labelsKey(labels);
      if (!groups.has(key)) groups.set(key, { labels, values: [], samples: [] });
      groups.get(key).values.push(s.v);
      groups.get(key).samples.push(s);
    }
    const out = [];
    const param = node.param ? this.evaluate(node.param, t).v : undefined;
    for (const grp of groups.values()) {
      const v = grp.values;
      switch (node.op) {
        case 'sum': out.push({ labels: grp.labels, v: v.reduce((x, y) => x + y, 0) }); break;
        case 'min': out.push({ labels: grp.labels, v: Math.min(...v) }); break;
        case 'max': out.push({ labels: grp.labels, v: Math.max(...v) }); break;
        case 'avg': out.push({ labels: grp.labels, v: v.reduce((x, y) => x + y, 0) / v.length }); break;
        case 'count': out.push({ labels: grp.labels, v: v.length }); break;
        case 'group': out.push({ labels: grp.labels, v: 1 }); break;
        case 'stddev':
        case 'stdvar': {
          const m = v.reduce((x, y) => x + y, 0) / v.length;
          const variance = v.reduce((acc, x) => acc + (x - m) ** 2, 0) / v.length;
          out.push({ labels: grp.labels, v: node.op === 'stddev' ? Math.sqrt(variance) : variance });
          break;
        }
        case 'quantile': out.push({ labels: grp.labels, v: quantile(param, v) }); break;
        case 'topk':
        case 'bottomk': {
          const sorted = [...grp.samples].sort((x, y) => (node.op === 'topk' ? y.v - x.v : x.v - y.v));
          out.push(...sorted.slice(0, Math.max(0, Math.floor(param))));
          break;
        }
        default:
          throw new NotModelled(`the ${node.op} aggregation`);
      }
    }
    return vec(out);
  }

  binary(node, t) {
    const l = this.evaluate(node.lhs, t);
    const r = this.evaluate(node.rhs, t);
    const op = node.op;
    if (l.kind === 'scalar' && r.kind === 'scalar') {
      const v = arith(op, l.v, r.v);
      if (COMPARISONS.has(op)) return { kind: 'scalar', v: v ? 1 : 0 };
      return { kind: 'scalar', v };
    }
    if (l.kind === 'scalar' || r.kind === 'scalar') {
      const swap = l.kind === 'scalar';
      const vecSide = swap ? r : l;
      const s = swap ? l.v : r.v;
      const out = [];
      for (const e of vecSide.samples) {
        const [a, b] = swap ? [s, e.v] : [e.v, s];
        let v = arith(op, a, b);
        let keep = true;
        if (COMPARISONS.has(op)) {
          keep = v;
          v = e.v;
        }
        if (node.bool) {
          v = keep ? 1 : 0;
          keep = true;
        }
        if (keep) out.push({ labels: ARITHMETIC.has(op) || node.bool ? dropName(e.labels) : e.labels, v });
      }
      return vec(out);
    }
    const m = node.matching;
    if (SET_OPS.has(op)) return vec(this.setOp(op, l.samples, r.samples, m));
    return vec(this.vectorOp(node, l.samples, r.samples));
  }

  setOp(op, lhs, rhs, m) {
    const rsigs = new Set(rhs.map((s) => cachedSignature(s.labels, m)));
    if (op === 'and') return lhs.filter((s) => rsigs.has(cachedSignature(s.labels, m)));
    if (op === 'unless') return lhs.filter((s) => !rsigs.has(cachedSignature(s.labels, m)));
    const lsigs = new Set(lhs.map((s) => cachedSignature(s.labels, m)));
    return [...lhs, ...rhs.filter((s) => !lsigs.has(cachedSignature(s.labels, m)))];
  }

  vectorOp(node, lhs0, rhs0) {
    const m = node.matching || DEFAULT_MATCHING;
    const swap = m.card === 'one-to-many';
    const [lhs, rhs] = swap ? [rhs0, lhs0] : [lhs0, rhs0];
    const right = new Map();
    for (const s of rhs) {
      const sig = cachedSignature(s.labels, m);
      if (right.has(sig)) throw new NotModelled('a many-to-many match (Prometheus fails this query)');
      right.set(sig, s);
    }
    const seen = new Set();
    const out = [];
    for (const ls of lhs) {
      const sig = cachedSignature(ls.labels, m);
      const rs = right.get(sig);
      if (!rs) continue;
      const [a, b] = swap ? [rs.v, ls.v] : [ls.v, rs.v];
      let v = arith(node.op, a, b);
      let keep = true;
      if (COMPARISONS.has(node.op)) {
        keep = v;
        v = a;
      }
      if (node.bool) {
        v = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
      let labels = ARITHMETIC.has(node.op) ? dropName(ls.labels) : { ...ls.labels };
      if (m.card === 'one-to-one') {
        if (m.on) {
          const o = {};
          for (const n of m.labels) if (labels[n] !== undefined) o[n] = labels[n];
          labels = o;
        } else {
          for (const n of m.labels) delete labels[n];
        }
      }
      for (const n of m.include) {
        if (rs.labels[n]) labels[n] = rs.labels[n];
        else delete labels[n];
      }
      if (node.bool) labels = dropName(labels);
      labels = internLabels(node, labels);
      const key = m.card === 'one-to-one' ? sig : labelsKey(labels);
      if (seen.has(key)) throw new NotModelled('multiple matches for labels (Prometheus fails this query)');
      seen.add(key);
      out.push({ labels, v });
    }
    return out;
  }
}

// extrapolatedRate from functions.go, for float samples.
function extrapolated(view, range, ref, isCounter, isRate) {
  if (view.n < 2) return undefined;
  let result = isCounter ? view.increase : view.v1 - view.v0;
  const rangeStart = ref - range;
  let toStart = (view.t0 - rangeStart) / 1000;
  const toEnd = (ref - view.t1) / 1000;
  const sampled = (view.t1 - view.t0) / 1000;
  const avg = sampled / (view.n - 1);
  if (isCounter && result > 0 && view.v0 >= 0) {
    const toZero = sampled * (view.v0 / result);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = avg * 1.1;
  let interval = sampled;
  interval += toStart < threshold ? toStart : avg / 2;
  interval += toEnd < threshold ? toEnd : avg / 2;
  let factor = interval / sampled;
  if (isRate) factor /= range / 1000;
  result *= factor;
  return result;
}

// createLabelsForAbsentFunction: the equality matchers of a selector, except a label matched twice.
function absentLabels(node) {
  const sel = node.type === 'matrix' ? node.vector : node;
  if (sel.type !== 'vector') return {};
  const out = {};
  const dropped = new Set();
  for (const m of sel.matchers) {
    if (m.name === '__name__') continue;
    if (m.op === '=' && !(m.name in out) && !dropped.has(m.name)) out[m.name] = m.value;
    else {
      delete out[m.name];
      dropped.add(m.name);
    }
  }
  return out;
}
