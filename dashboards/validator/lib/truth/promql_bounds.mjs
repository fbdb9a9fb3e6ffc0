// promql_bounds: PromQL evaluated over ground truth, with every value an interval [lo, hi].
//
// The truth side of a panel is a query (the panel's claim) run on "twin" series: the series
// Prometheus stored, at the timestamps it scraped them, but with values taken from what the run
// recorded. A recorded value is rarely one number: an event logged within a few milliseconds of
// a scrape may or may not be in that scrape's count, a state change is seen within taskd's check
// interval. So each sample is an interval and may even be present or not (`maybe`), and this
// evaluator carries the intervals through PromQL with Prometheus 2.42's semantics: instant
// selectors look back `lookback` and stop at a stale marker, range selectors are [t - r, t],
// rate()/increase() extrapolate as promql/functions.go does and count resets, histogram_quantile
// finds the bucket the rank falls in, aggregations and operators widen the bounds, comparisons
// make an element certain, absent or maybe. With exact inputs (lo == hi) it computes what
// Prometheus computes; tests/validator/unit/promql_bounds.test.mjs checks that against a real one.
//
// Elements: { labels, lo, hi, maybe }; a NaN is lo = hi = NaN. Times are ms.

import { parser } from '@prometheus-io/lezer-promql';
import { bucketQuantile, monotonicBuckets, quantileAtRank } from '../quantile.mjs';
import { extrapolate } from '../extrapolated_rate.mjs';
import { SourceReader, childrenOf, goStringValue } from '../lezer_text.mjs';

export class UnsupportedPromQL extends Error {}

export function labelKey(labels) {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

const DUR = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000, y: 31536000000 };
export function promDurationMs(text) {
  let total = 0;
  let used = 0;
  for (const m of text.matchAll(/(\d+)(ms|[smhdwy])/g)) {
    total += Number(m[1]) * DUR[m[2]];
    used += m[0].length;
  }
  if (!used || used !== text.length) throw new UnsupportedPromQL(`"${text}" is not a Prometheus duration`);
  return total;
}

function stringValue(lit) {
  return goStringValue(lit, (m) => {
    throw new UnsupportedPromQL(m);
  });
}

const kids = childrenOf;
const EXPR = new Set(['BinaryExpr', 'FunctionCall', 'AggregateExpr', 'MatrixSelector', 'SubqueryExpr', 'VectorSelector',
  'ParenExpr', 'UnaryExpr', 'NumberLiteral', 'StringLiteral', 'OffsetExpr', 'StepInvariantExpr']);
const exprKids = (n) => kids(n).filter((k) => EXPR.has(k.type.name));

// ---- compiling the tree into a small AST ----

class Compiler extends SourceReader {
  no(n, what) {
    throw new UnsupportedPromQL(`${what || n.type.name} is not supported by the truth evaluator: ${this.text(n)}`);
  }

  node(n) {
    switch (n.type.name) {
      case 'PromQL':
      case 'ParenExpr':
      case 'StepInvariantExpr':
        return this.node(exprKids(n)[0]);
      case 'NumberLiteral': {
        const t = this.text(n).toLowerCase();
        const v = t === 'inf' || t === '+inf' ? Infinity : t === '-inf' ? -Infinity : t === 'nan' ? NaN : Number(t);
        return { kind: 'number', value: v };
      }
      case 'StringLiteral':
        return { kind: 'string', value: stringValue(this.text(n)) };
      case 'VectorSelector':
        return this.selector(n);
      case 'MatrixSelector': {
        const [vs] = exprKids(n);
        return { kind: 'matrix', selector: this.node(vs), rangeMs: promDurationMs(this.text(n.getChild('Duration'))), offsetMs: 0 };
      }
      case 'OffsetExpr': {
        const inner = this.node(exprKids(n)[0]);
        const d = kids(n).filter((k) => k.type.name === 'Duration').pop();
        const neg = kids(n).some((k) => k.type.name === 'Sub');
        const off = promDurationMs(this.text(d)) * (neg ? -1 : 1);
        if (inner.kind === 'selector' || inner.kind === 'matrix' || inner.kind === 'subquery') return { ...inner, offsetMs: off };
        return this.no(n, 'offset on this expression');
      }
      case 'SubqueryExpr': {
        const [inner] = exprKids(n);
        const durs = kids(n).filter((k) => k.type.name === 'Duration');
        return {
          kind: 'subquery',
          inner: this.node(inner),
          rangeMs: promDurationMs(this.text(durs[0])),
          stepMs: durs[1] ? promDurationMs(this.text(durs[1])) : null,
          offsetMs: 0,
        };
      }
      case 'UnaryExpr': {
        const inner = this.node(exprKids(n)[0]);
        const neg = this.text(n.getChild('UnaryOp')) === '-';
        return neg ? { kind: 'binary', op: 'Mul', left: { kind: 'number', value: -1 }, right: inner, bool: false } : inner;
      }
      case 'FunctionCall':
        return this.call(n);
      case 'AggregateExpr':
        return this.aggregate(n);
      case 'BinaryExpr':
        return this.binary(n);
      default:
        return this.no(n);
    }
  }

  selector(n) {
    let name = null;
    const matchers = [];
    const id = n.getChild('Identifier') || n.getChild('MetricIdentifier');
    if (id) name = this.text(id);
    const lm = n.getChild('LabelMatchers');
    const walk = (p) => {
      for (const c of kids(p)) {
        if (c.type.name === 'LabelMatcher') {
          const label = this.text(c.getChild('LabelName'));
          const op = this.text(c.getChild('MatchOp'));
          const value = stringValue(this.text(c.getChild('StringLiteral')));
          const re = op === '=~' || op === '!~' ? new RegExp(`^(?:${value.replace(/\(\?P</g, '(?<')})$`, 's') : null;
          matchers.push({
            label,
            op,
            value,
            test: (v) => (op === '=' ? v === value : op === '!=' ? v !== value : op === '=~' ? re.test(v) : !re.test(v)),
          });
          if (label === '__name__' && op === '=') name = value;
        } else walk(c);
      }
    };
    if (lm) walk(lm);
    if (name) matchers.push({ label: '__name__', op: '=', value: name, test: (v) => v === name });
    return { kind: 'selector', name, matchers, offsetMs: 0 };
  }

  call(n) {
    const fn = this.text(n.getChild('FunctionIdentifier'));
    const args = exprKids(n.getChild('FunctionCallBody')).map((a) => this.node(a));
    return { kind: 'call', fn, args };
  }

  aggregate(n) {
    const op = this.text(n.getChild('AggregateOp')).toLowerCase();
    const mod = n.getChild('AggregateModifier');
    let grouping = null;
    if (mod) {
      const labels = [];
      const g = mod.getChild('GroupingLabels');
      if (g) for (const l of kids(g)) if (l.type.name === 'LabelName') labels.push(this.text(l));
      grouping = { without: !!mod.getChild('Without'), labels };
    }
    const args = exprKids(n.getChild('FunctionCallBody')).map((a) => this.node(a));
    const expr = args.pop();
    return { kind: 'aggregate', op, grouping, param: args[0] || null, expr };
  }

  binary(n) {
    const [l, r] = exprKids(n);
    const opNode = kids(n).find((k) => !EXPR.has(k.type.name) && !['MatchingModifierClause', 'BoolModifier'].includes(k.type.name));
    const clause = n.getChild('MatchingModifierClause');
    let matching = null;
    if (clause) {
      const groups = kids(clause).filter((k) => k.type.name === 'GroupingLabels');
      const labelsOf = (g) => (g ? kids(g).filter((k) => k.type.name === 'LabelName').map((k) => this.text(k)) : []);
      matching = {
        on: !!clause.getChild('On'),
        labels: labelsOf(groups[0]),
        group: clause.getChild('GroupLeft') ? 'left' : clause.getChild('GroupRight') ? 'right' : null,
        include: labelsOf(groups[1]),
      };
    }
    return {
      kind: 'binary',
      op: opNode.type.name,
      bool: !!n.getChild('BoolModifier'),
      matching,
      left: this.node(l),
      right: this.node(r),
    };
  }
}

export function compilePromQL(src) {
  const tree = parser.parse(src);
  let bad = null;
  tree.iterate({
    enter(n) {
      if (n.type.isError && bad === null) bad = n.from;
    },
  });
  if (bad !== null) throw new UnsupportedPromQL(`PromQL does not parse at column ${bad + 1}: ${src}`);
  return new Compiler(src).node(tree.topNode);
}

// The metric names (and matchers) an expression selects: what twins it needs.
export function selectorsOf(ast, out = []) {
  if (!ast || typeof ast !== 'object') return out;
  if (ast.kind === 'selector') out.push(ast);
  for (const v of Object.values(ast)) {
    if (Array.isArray(v)) for (const x of v) selectorsOf(x, out);
    else if (v && typeof v === 'object' && v.kind) selectorsOf(v, out);
  }
  return out;
}

// ---- interval arithmetic ----

const I = (lo, hi = lo) => ({ lo, hi });
const isNaNI = (a) => Number.isNaN(a.lo) || Number.isNaN(a.hi);

function arith(op, a, b) {
  if (isNaNI(a) || isNaNI(b)) return I(NaN);
  switch (op) {
    case 'Add':
      return I(a.lo + b.lo, a.hi + b.hi);
    case 'Sub':
      return I(a.lo - b.hi, a.hi - b.lo);
    case 'Mul': {
      const p = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi].map((x) => (Number.isNaN(x) ? 0 : x));
      return I(Math.min(...p), Math.max(...p));
    }
    case 'Div': {
      if (b.lo === 0 && b.hi === 0) {
        if (a.lo === 0 && a.hi === 0) return I(NaN);
        if (a.lo > 0) return I(Infinity);
        if (a.hi < 0) return I(-Infinity);
        return I(-Infinity, Infinity);
      }
      if (b.lo <= 0 && b.hi >= 0) return I(-Infinity, Infinity);
      const q = [a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi];
      return I(Math.min(...q), Math.max(...q));
    }
    case 'Mod':
      return a.lo === a.hi && b.lo === b.hi ? I(a.lo % b.lo) : I(-Math.abs(b.hi), Math.abs(b.hi));
    case 'Pow':
      return a.lo === a.hi && b.lo === b.hi ? I(a.lo ** b.lo) : I(Math.min(a.lo ** b.lo, a.hi ** b.hi, a.lo ** b.hi, a.hi ** b.lo), Math.max(a.lo ** b.lo, a.hi ** b.hi, a.lo ** b.hi, a.hi ** b.lo));
    default:
      throw new UnsupportedPromQL(`operator ${op}`);
  }
}

// A comparison over intervals: 'yes' (for every value in them), 'no' (for none) or 'maybe'.
function compare(op, a, b) {
  if (isNaNI(a) || isNaNI(b)) return op === 'Neq' ? 'yes' : 'no';
  const exact = a.lo === a.hi && b.lo === b.hi;
  const overlap = a.lo <= b.hi && b.lo <= a.hi;
  switch (op) {
    case 'Gtr':
      return a.lo > b.hi ? 'yes' : a.hi <= b.lo ? 'no' : 'maybe';
    case 'Gte':
      return a.lo >= b.hi ? 'yes' : a.hi < b.lo ? 'no' : 'maybe';
    case 'Lss':
      return a.hi < b.lo ? 'yes' : a.lo >= b.hi ? 'no' : 'maybe';
    case 'Lte':
      return a.hi <= b.lo ? 'yes' : a.lo > b.hi ? 'no' : 'maybe';
    case 'Eql':
      if (exact) return a.lo === b.lo ? 'yes' : 'no';
      return overlap ? 'maybe' : 'no';
    case 'Neq':
      if (exact) return a.lo !== b.lo ? 'yes' : 'no';
      return overlap ? 'maybe' : 'yes';
    default:
      throw new UnsupportedPromQL(`comparison ${op}`);
  }
}

// ---- range functions ----

// rate()/increase() over interval samples: the raw increase bounded pair by pair (within one
// process a counter never falls; across a restart, a pair whose intervals say the value dropped is
// a reset, as Prometheus sees it, and one whose intervals overlap may be either),
// then the extrapolation at the corners of (increase, first value).
function rateBounds(samples, windowEnd, rangeMs, isRate) {
  if (samples.length < 2) return null;
  let incLo = 0;
  let incHi = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    // Samples a twin knows come from one process (the same `seg`) cannot straddle a reset.
    const sameProcess = a.seg !== undefined && a.seg === b.seg;
    if (sameProcess) {
      incLo += Math.max(0, b.lo - a.hi);
      incHi += Math.max(0, b.hi - a.lo);
    } else if (b.hi < a.lo) {
      incLo += b.lo;
      incHi += b.hi;
    } else if (b.lo >= a.hi) {
      incLo += b.lo - a.hi;
      incHi += b.hi - a.lo;
    } else {
      // A reset or not: the pair adds b - a without one, b with one (Prometheus adds the
      // value before the drop back).
      incLo += Math.max(0, b.lo - a.hi);
      incHi += b.hi;
    }
  }
  const times = samples.map((s) => s.t);
  const span = Math.max(1, times[times.length - 1] - times[0]);
  const corner = (inc, first) => {
    if (!Number.isFinite(inc)) return Infinity;
    // An unbounded first value (not known) never shortens the extrapolation towards zero: any
    // first value that does not shorten it gives the same result.
    if (!Number.isFinite(first)) first = 1 + (inc * rangeMs) / span;
    const values = times.map(() => 0);
    values[0] = first;
    values[values.length - 1] = first + inc;
    for (let i = 1; i < values.length - 1; i++) values[i] = first + (inc * (times[i] - times[0])) / (times[times.length - 1] - times[0]);
    return extrapolate(times, values, windowEnd, rangeMs, true, isRate);
  };
  const f0 = samples[0];
  const v = [corner(incLo, f0.lo), corner(incLo, f0.hi), corner(incHi, f0.lo), corner(incHi, f0.hi)];
  return I(Math.min(...v), Math.max(...v));
}

const OVER_TIME = {
  max_over_time: (s) => I(Math.max(...s.map((x) => x.lo)), Math.max(...s.map((x) => x.hi))),
  min_over_time: (s) => I(Math.min(...s.map((x) => x.lo)), Math.min(...s.map((x) => x.hi))),
  sum_over_time: (s) => I(s.reduce((a, x) => a + x.lo, 0), s.reduce((a, x) => a + x.hi, 0)),
  avg_over_time: (s) => I(s.reduce((a, x) => a + x.lo, 0) / s.length, s.reduce((a, x) => a + x.hi, 0) / s.length),
  count_over_time: (s) => I(s.length),
  last_over_time: (s) => I(s[s.length - 1].lo, s[s.length - 1].hi),
  present_over_time: () => I(1),
};

function changesBounds(s) {
  let lo = 0;
  let hi = 0;
  for (let i = 1; i < s.length; i++) {
    const a = s[i - 1];
    const b = s[i];
    const disjoint = b.hi < a.lo || b.lo > a.hi;
    const same = a.lo === a.hi && b.lo === b.hi && a.lo === b.lo;
    if (disjoint) {
      lo++;
      hi++;
    } else if (!same) hi++;
  }
  return I(lo, hi);
}

// ---- the evaluator ----

// twins: { series(selector, fromMs, toMs) -> [{ labels (with __name__), samples: [{ t, lo, hi,
// maybe }], staleAt: [t, ...] }] }; lookbackMs: Prometheus's --query.lookback-delta.
export class BoundsEvaluator {
  constructor({ twins, lookbackMs = 300000 }) {
    this.twins = twins;
    this.lookbackMs = lookbackMs;
    this.cache = new Map();
  }

  seriesFor(sel) {
    const key = sel.matchers.map((m) => `${m.label}${m.op}${m.value}`).sort().join(',');
    if (!this.cache.has(key)) this.cache.set(key, this.twins.series(sel));
    return this.cache.get(key);
  }

  // An instant vector at t, or a scalar ({ lo, hi }), or a string.
  eval(ast, t) {
    switch (ast.kind) {
      case 'number':
        return I(ast.value);
      case 'string':
        return ast.value;
      case 'selector':
        return this.instant(ast, t - ast.offsetMs);
      case 'call':
        return this.call(ast, t);
      case 'aggregate':
        return this.aggregate(ast, t);
      case 'binary':
        return this.binary(ast, t);
      case 'matrix':
      case 'subquery':
        throw new UnsupportedPromQL('a range vector cannot be a panel result');
      default:
        throw new UnsupportedPromQL(`${ast.kind}`);
    }
  }

  instant(sel, t) {
    const out = [];
    for (const s of this.seriesFor(sel)) {
      let idx = -1;
      for (let i = s.samples.length - 1; i >= 0; i--) {
        if (s.samples[i].t <= t) {
          idx = i;
          break;
        }
      }
      if (idx < 0) continue;
      const smp = s.samples[idx];
      if (smp.t < t - this.lookbackMs) continue;
      if ((s.staleAt || []).some((x) => x > smp.t && x <= t)) continue;
      out.push({ labels: s.labels, lo: smp.lo, hi: smp.hi, maybe: !!smp.maybe });
    }
    return out;
  }

  // [{ labels, samples }] in [t - range, t].
  range(ast, t) {
    if (ast.kind === 'matrix') {
      const end = t - ast.offsetMs;
      const start = end - ast.rangeMs;
      return this.seriesFor(ast.selector).map((s) => ({
        labels: s.labels,
        samples: s.samples.filter((x) => x.t >= start && x.t <= end),
        end,
        rangeMs: ast.rangeMs,
      })).filter((s) => s.samples.length);
    }
    if (ast.kind === 'subquery') {
      const end = t - ast.offsetMs;
      const step = ast.stepMs || this.defaultSubqueryStep;
      if (!step) throw new UnsupportedPromQL('a subquery without a step needs the evaluation interval');
      const start = end - ast.rangeMs;
      const series = new Map();
      for (let u = Math.ceil(start / step) * step; u <= end; u += step) {
        const v = this.eval(ast.inner, u);
        for (const e of Array.isArray(v) ? v : [{ labels: {}, ...v }]) {
          const k = labelKey(e.labels);
          if (!series.has(k)) series.set(k, { labels: e.labels, samples: [], end, rangeMs: ast.rangeMs });
          series.get(k).samples.push({ t: u, lo: e.lo, hi: e.hi, maybe: e.maybe });
        }
      }
      return [...series.values()];
    }
    throw new UnsupportedPromQL('expected a range vector');
  }

  call(ast, t) {
    const { fn, args } = ast;
    const dropName = (labels) => {
      const l = { ...labels };
      delete l.__name__;
      return l;
    };
    switch (fn) {
      case 'rate':
      case 'increase':
        return this.range(args[0], t).flatMap((s) => {
          const certain = s.samples.filter((x) => !x.maybe);
          const b = rateBounds(certain, s.end, s.rangeMs, fn === 'rate');
          return b ? [{ labels: dropName(s.labels), ...b, maybe: certain.length !== s.samples.length }] : [];
        });
      case 'irate':
        return this.range(args[0], t).flatMap((s) => {
          if (s.samples.length < 2) return [];
          const [a, b] = s.samples.slice(-2);
          const dt = (b.t - a.t) / 1000;
          const inc = b.hi < a.lo ? I(b.lo, b.hi) : I(Math.max(0, b.lo - a.hi), b.hi - a.lo);
          return [{ labels: dropName(s.labels), lo: inc.lo / dt, hi: inc.hi / dt, maybe: false }];
        });
      case 'changes':
      case 'resets':
        return this.range(args[0], t).map((s) => {
          if (fn === 'changes') return { labels: dropName(s.labels), ...changesBounds(s.samples), maybe: false };
          let lo = 0;
          let hi = 0;
          for (let i = 1; i < s.samples.length; i++) {
            if (s.samples[i].hi < s.samples[i - 1].lo) {
              lo++;
              hi++;
            } else if (s.samples[i].lo < s.samples[i - 1].hi) hi++;
          }
          return { labels: dropName(s.labels), lo, hi, maybe: false };
        });
      case 'histogram_quantile':
        return this.histogramQuantile(this.eval(args[0], t), this.eval(args[1], t));
      case 'vector': {
        const v = this.eval(args[0], t);
        return [{ labels: {}, lo: v.lo, hi: v.hi, maybe: false }];
      }
      case 'scalar': {
        const v = this.eval(args[0], t);
        if (v.length === 1 && !v[0].maybe) return I(v[0].lo, v[0].hi);
        if (v.length === 0) return I(NaN);
        return I(NaN); // several elements, or one that may be missing: Prometheus gives NaN when not exactly one
      }
      case 'time':
        return I(t / 1000);
      case 'timestamp':
        return this.eval(args[0], t).map((e) => ({ ...e, labels: dropName(e.labels), lo: t / 1000, hi: t / 1000 }));
      case 'abs':
      case 'ceil':
      case 'floor':
      case 'round':
      case 'sqrt':
      case 'exp':
      case 'ln':
      case 'log2':
      case 'log10': {
        const f = Math[fn === 'ln' ? 'log' : fn];
        return this.eval(args[0], t).map((e) => {
          const a = f(e.lo);
          const b = f(e.hi);
          const lo = fn === 'abs' && e.lo < 0 && e.hi > 0 ? 0 : Math.min(a, b);
          return { ...e, labels: dropName(e.labels), lo, hi: Math.max(a, b) };
        });
      }
      case 'clamp_min':
      case 'clamp_max': {
        const k = this.eval(args[1], t);
        const f = fn === 'clamp_min' ? Math.max : Math.min;
        return this.eval(args[0], t).map((e) => ({ ...e, labels: dropName(e.labels), lo: f(e.lo, k.lo), hi: f(e.hi, k.hi) }));
      }
      case 'label_replace': {
        const [dst, repl, src, re] = args.slice(1).map((a) => a.value);
        const rx = new RegExp(`^(?:${re})$`, 's');
        return this.eval(args[0], t).map((e) => {
          const m = rx.exec(e.labels[src] ?? '');
          if (!m) return e;
          const v = repl.replace(/\$(\d+)|\$\{(\d+)\}/g, (_, a, b) => m[Number(a ?? b)] ?? '');
          const labels = { ...e.labels };
          if (v === '') delete labels[dst];
          else labels[dst] = v;
          return { ...e, labels };
        });
      }
      case 'absent': {
        const v = this.eval(args[0], t);
        if (v.some((e) => !e.maybe)) return [];
        return [{ labels: {}, lo: 1, hi: 1, maybe: v.length > 0 }];
      }
      default:
        if (OVER_TIME[fn]) {
          return this.range(args[args.length - 1], t).map((s) => {
            const certain = s.samples.filter((x) => !x.maybe);
            const use = certain.length ? certain : s.samples;
            const b = OVER_TIME[fn](use);
            const wide = certain.length === s.samples.length ? b : OVER_TIME[fn](s.samples);
            return { labels: dropName(s.labels), lo: Math.min(b.lo, wide.lo), hi: Math.max(b.hi, wide.hi), maybe: certain.length === 0 };
          });
        }
        if (fn === 'quantile_over_time') throw new UnsupportedPromQL('quantile_over_time over interval samples');
        throw new UnsupportedPromQL(`the function ${fn}()`);
    }
  }

  // Prometheus's bucketQuantile at two corners: the lowest value comes with the smallest rank
  // (total at its low end) and every finite bucket at its high end, the highest the other way
  // round; it falls and rises monotonically in between. Exact counts give Prometheus's value.
  histogramQuantile(q, vec) {
    const groups = new Map();
    for (const e of vec) {
      const le = e.labels.le;
      if (le === undefined) continue;
      const labels = { ...e.labels };
      delete labels.le;
      delete labels.__name__;
      const k = labelKey(labels);
      if (!groups.has(k)) groups.set(k, { labels, buckets: [], maybe: false });
      const g = groups.get(k);
      g.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), lo: e.lo, hi: e.hi });
      g.maybe = g.maybe || e.maybe;
    }
    const out = [];
    for (const g of groups.values()) {
      const b = g.buckets.sort((x, y) => x.le - y.le);
      const last = b.length - 1;
      let v1;
      let v2;
      let zero = false; // the true total may be 0: Prometheus then answers NaN
      if (b.every((x) => x.lo === x.hi) && q.lo === q.hi) {
        v1 = bucketQuantile(q.lo, b.map((x) => ({ le: x.le, count: x.lo })));
        v2 = v1;
      } else if (!b.length || b[last].le !== Infinity) {
        v1 = NaN;
        v2 = NaN;
      } else {
        // Prometheus first makes the cumulative counts monotonic (a running maximum; counter
        // resets can leave them out of order) and ranks against the last one. The running maximum
        // is monotonic in every count, so the true curve lies between the running maxima of the
        // low and of the high counts: the quantile is at least where the high curve reaches the
        // lowest rank, at most where the low curve reaches the highest.
        const low = monotonicBuckets(b.map((x) => ({ le: x.le, count: x.lo })));
        const high = monotonicBuckets(b.map((x) => ({ le: x.le, count: x.hi })));
        const top = high.length - 1;
        // With no observation at the low corner the rank is 0: any value from the first bucket's
        // start (0, or its bound if that is not positive) may be the quantile.
        v1 = high[top].count <= 0 ? NaN : low[top].count > 0 ? quantileAtRank(q.lo * low[top].count, high) : Math.min(0, high[0].le);
        v2 = high[top].count > 0 ? quantileAtRank(q.hi * high[top].count, low) : NaN;
        zero = low[top].count <= 0 && high[top].count > 0;
      }
      const nan = Number.isNaN(v1) || Number.isNaN(v2) || zero;
      out.push({
        labels: g.labels,
        lo: Number.isNaN(v1) ? v2 : Math.min(v1, v2),
        hi: Number.isNaN(v2) ? v1 : Math.max(v1, v2),
        maybe: g.maybe,
        mayBeNaN: nan && !(Number.isNaN(v1) && Number.isNaN(v2)),
      });
    }
    return out;
  }

  aggregate(ast, t) {
    const vec = this.eval(ast.expr, t);
    const group = (labels) => {
      const l = { ...labels };
      delete l.__name__;
      if (!ast.grouping) return {};
      if (ast.grouping.without) {
        for (const k of ast.grouping.labels) delete l[k];
        return l;
      }
      const o = {};
      for (const k of ast.grouping.labels) if (l[k] !== undefined && l[k] !== '') o[k] = l[k];
      return o;
    };
    if (ast.op === 'topk' || ast.op === 'bottomk') throw new UnsupportedPromQL(`${ast.op}() over intervals`);
    const groups = new Map();
    for (const e of vec) {
      const labels = group(e.labels);
      const k = labelKey(labels);
      if (!groups.has(k)) groups.set(k, { labels, items: [] });
      groups.get(k).items.push(e);
    }
    const out = [];
    for (const g of groups.values()) {
      const certain = g.items.filter((e) => !e.maybe);
      const maybe = g.items.filter((e) => e.maybe);
      let lo;
      let hi;
      switch (ast.op) {
        case 'sum':
          lo = certain.reduce((a, e) => a + e.lo, 0) + maybe.reduce((a, e) => a + Math.min(0, e.lo), 0);
          hi = certain.reduce((a, e) => a + e.hi, 0) + maybe.reduce((a, e) => a + Math.max(0, e.hi), 0);
          if (!certain.length) {
            lo = Math.min(...maybe.map((e) => e.lo), lo);
          }
          break;
        case 'max':
          hi = Math.max(...g.items.map((e) => e.hi));
          lo = certain.length ? Math.max(...certain.map((e) => e.lo)) : Math.min(...maybe.map((e) => e.lo));
          break;
        case 'min':
          lo = Math.min(...g.items.map((e) => e.lo));
          hi = certain.length ? Math.min(...certain.map((e) => e.hi)) : Math.max(...maybe.map((e) => e.hi));
          break;
        case 'count':
          lo = Math.max(1, certain.length);
          hi = g.items.length;
          break;
        case 'group':
          lo = 1;
          hi = 1;
          break;
        case 'avg':
          if (!maybe.length) {
            lo = certain.reduce((a, e) => a + e.lo, 0) / certain.length;
            hi = certain.reduce((a, e) => a + e.hi, 0) / certain.length;
          } else {
            lo = Math.min(...g.items.map((e) => e.lo));
            hi = Math.max(...g.items.map((e) => e.hi));
          }
          break;
        default:
          throw new UnsupportedPromQL(`the aggregation ${ast.op}()`);
      }
      out.push({ labels: g.labels, lo, hi, maybe: certain.length === 0 });
    }
    return out;
  }

  binary(ast, t) {
    const l = this.eval(ast.left, t);
    const r = this.eval(ast.right, t);
    const op = ast.op;
    const isSet = op === 'And' || op === 'Or' || op === 'Unless';
    const isCmp = ['Eql', 'Neq', 'Gtr', 'Gte', 'Lss', 'Lte'].includes(op);
    const lScalar = !Array.isArray(l);
    const rScalar = !Array.isArray(r);
    const apply = (a, b, keepLeft) => {
      if (!isCmp) return { ...arith(op, a, b) };
      const c = compare(op, a, b);
      if (ast.bool) return c === 'yes' ? I(1) : c === 'no' ? I(0) : I(0, 1);
      if (c === 'no') return null;
      return { ...(keepLeft ? I(a.lo, a.hi) : I(b.lo, b.hi)), cmpMaybe: c === 'maybe' };
    };
    if (lScalar && rScalar) {
      const v = apply(l, r, true);
      return v ? I(v.lo, v.hi) : I(NaN);
    }
    const dropName = (labels) => {
      const o = { ...labels };
      delete o.__name__;
      return o;
    };
    if (lScalar || rScalar) {
      const vec = lScalar ? r : l;
      const out = [];
      for (const e of vec) {
        const v = lScalar ? apply(l, e, false) : apply(e, r, true);
        if (!v) continue;
        const keepName = isCmp && !ast.bool;
        out.push({ labels: keepName ? e.labels : dropName(e.labels), lo: v.lo, hi: v.hi, maybe: e.maybe || !!v.cmpMaybe });
      }
      return out;
    }
    const m = ast.matching;
    const sig = (labels) => {
      const o = {};
      for (const [k, v] of Object.entries(labels)) {
        if (k === '__name__') continue;
        if (m?.on ? m.labels.includes(k) : !(m?.labels || []).includes(k)) o[k] = v;
      }
      return labelKey(o);
    };
    if (isSet) {
      const rIndex = new Map();
      for (const e of r) {
        const k = sig(e.labels);
        rIndex.set(k, (rIndex.get(k) || false) || !e.maybe);
      }
      if (op === 'And') {
        return l.filter((e) => rIndex.has(sig(e.labels))).map((e) => ({ ...e, maybe: e.maybe || !rIndex.get(sig(e.labels)) }));
      }
      if (op === 'Unless') {
        return l.filter((e) => !(rIndex.has(sig(e.labels)) && rIndex.get(sig(e.labels)))).map((e) => ({ ...e, maybe: e.maybe || rIndex.has(sig(e.labels)) }));
      }
      const lIndex = new Map();
      for (const e of l) {
        const k = sig(e.labels);
        lIndex.set(k, (lIndex.get(k) || false) || !e.maybe);
      }
      const extra = r.filter((e) => !lIndex.get(sig(e.labels))).map((e) => ({ ...e, maybe: e.maybe || lIndex.has(sig(e.labels)) }));
      return [...l, ...extra];
    }
    const group = m?.group;
    const one = group === 'right' ? l : r;
    const many = group === 'right' ? r : l;
    const index = new Map();
    for (const e of one) {
      const k = sig(e.labels);
      if (index.has(k) && !group) throw new UnsupportedPromQL('many-to-many matching in the truth evaluator');
      index.set(k, e);
    }
    const out = [];
    for (const e of many) {
      const o = index.get(sig(e.labels));
      if (!o) continue;
      const [a, b] = group === 'right' ? [o, e] : [e, o];
      const v = apply(a, b, true);
      if (!v) continue;
      let labels;
      if (group) {
        labels = dropName(e.labels);
        for (const k of m.include || []) if (o.labels[k] !== undefined) labels[k] = o.labels[k];
      } else if (isCmp && !ast.bool) {
        labels = a.labels;
      } else if (m?.on) {
        labels = Object.fromEntries(Object.entries(a.labels).filter(([k]) => m.labels.includes(k)));
      } else {
        labels = dropName(a.labels);
        for (const k of m?.labels || []) delete labels[k];
      }
      out.push({ labels, lo: v.lo, hi: v.hi, maybe: e.maybe || o.maybe || !!v.cmpMaybe });
    }
    return out;
  }

  // The claim over a query_range grid: [{ labels, points: [[t, { lo, hi, maybe }]] }].
  evalRange(ast, { start, end, step }) {
    this.defaultSubqueryStep = this.defaultSubqueryStep || step;
    const series = new Map();
    for (let t = start; t <= end; t += step) {
      let v = this.eval(ast, t);
      if (!Array.isArray(v)) v = [{ labels: {}, lo: v.lo, hi: v.hi, maybe: false }];
      for (const e of v) {
        const k = labelKey(e.labels);
        if (!series.has(k)) series.set(k, { labels: e.labels, points: [] });
        series.get(k).points.push([t, { lo: e.lo, hi: e.hi, maybe: e.maybe, mayBeNaN: !!e.mayBeNaN }]);
      }
    }
    return [...series.values()];
  }
}
