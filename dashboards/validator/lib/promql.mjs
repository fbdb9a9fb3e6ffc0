// promql: what a PromQL expression means, read from its syntax tree (lezer-promql 0.42, the
// grammar of Prometheus 2.42) — for the mistakes that parse fine and still draw a wrong panel.
//
// The expression is evaluated abstractly, bottom up. Each node gets:
//   labels       the label names its series can carry (a Set), or null when unknown (a metric
//                no source describes): by/without, on/group_left, label_replace, histogram_quantile
//                and friends transform it as Prometheus would;
//   dim          what its numbers are (dimension.mjs): seconds, bytes, a ratio, a count, per second…;
//   rawCounters  counter selectors that reach this node without rate()/increase(): a panel whose
//                result still has one shows a counter's running total, which resets on restart.
// Problems found on the way (rate over a gauge, delta over a counter, quantile outside [0, 1], `le`
// dropped below histogram_quantile, `by` a label the input never has) carry offsets into the
// analysed text; the caller maps them back to what the user wrote.
//
// analyzePromQL(text, { lookup(name) -> { type, labels, dim?, guessed } | null })
//   -> { syntax: [{ from, to, message }], root, selectors, ranges, problems }

import { parser } from '@prometheus-io/lezer-promql';
import { combine, dimOfMetric, DIM } from './dimension.mjs';

const RATE_FUNCTIONS = new Set(['rate', 'irate', 'increase']);
const COUNTER_ONLY = new Set(['rate', 'irate', 'increase', 'resets']);
const GAUGE_ONLY = new Set(['delta', 'idelta', 'deriv', 'predict_linear', 'holt_winters']);
// Functions after which no raw counter value is left in the result.
const CONSUMES_COUNTERS = new Set([
  'rate', 'irate', 'increase', 'resets', 'changes', 'absent', 'absent_over_time', 'count_over_time',
  'present_over_time', 'timestamp', 'delta', 'idelta', 'deriv', 'predict_linear', 'holt_winters',
]);
const KEEP_LABELS_AGGREGATIONS = new Set(['topk', 'bottomk', 'limitk', 'limit_ratio']);
const EXPRESSION_NODES = new Set([
  'BinaryExpr', 'FunctionCall', 'AggregateExpr', 'MatrixSelector', 'SubqueryExpr', 'VectorSelector',
  'ParenExpr', 'UnaryExpr', 'NumberLiteral', 'StringLiteral', 'OffsetExpr', 'StepInvariantExpr',
]);

function children(node) {
  const out = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

function exprChildren(node) {
  return children(node).filter((c) => EXPRESSION_NODES.has(c.type.name));
}

// A PromQL string literal's value: "..." and '...' with Go escapes, or `...` raw.
export function stringValue(lit) {
  if (lit.startsWith('`')) return lit.slice(1, -1);
  let json = lit;
  if (lit.startsWith("'")) json = `"${lit.slice(1, -1).replace(/\\'/g, "'").replace(/(^|[^\\])"/g, '$1\\"')}"`;
  try {
    return JSON.parse(json);
  } catch {
    return lit.slice(1, -1);
  }
}

function syntaxErrors(src, tree) {
  const errors = [];
  tree.iterate({
    enter(n) {
      if (n.type.isError) {
        const near = src.slice(Math.max(0, n.from - 10), n.to + 10).replace(/\s+/g, ' ');
        errors.push({ from: n.from, to: Math.max(n.to, n.from + 1), message: `syntax error at column ${n.from + 1} near '${near}'` });
      }
    },
  });
  return errors;
}

// { name, nameFrom, nameTo, matchers: [{ label, op, value, from, to, valueFrom, valueTo }], from, to, text }
export function selectorOf(src, node) {
  const sel = { name: null, nameFrom: node.from, nameTo: node.from, matchers: [], from: node.from, to: node.to, text: src.slice(node.from, node.to) };
  for (const c of children(node)) {
    if (c.type.name === 'Identifier' || c.type.name === 'MetricIdentifier') {
      sel.name = src.slice(c.from, c.to);
      sel.nameFrom = c.from;
      sel.nameTo = c.to;
    }
    if (c.type.name !== 'LabelMatchers') continue;
    const stack = [c];
    while (stack.length) {
      for (const m of children(stack.pop())) {
        if (m.type.name !== 'LabelMatcher') {
          stack.push(m);
          continue;
        }
        const label = m.getChild('LabelName');
        const op = m.getChild('MatchOp');
        const value = m.getChild('StringLiteral');
        const lm = {
          label: label ? src.slice(label.from, label.to) : '',
          op: op ? src.slice(op.from, op.to) : '',
          value: value ? stringValue(src.slice(value.from, value.to)) : '',
          from: m.from, to: m.to,
          valueFrom: value ? value.from + 1 : m.to, valueTo: value ? value.to - 1 : m.to,
        };
        if (lm.label === '__name__' && lm.op === '=') {
          sel.name = lm.value;
          sel.nameFrom = lm.valueFrom;
          sel.nameTo = lm.valueTo;
        }
        sel.matchers.push(lm);
      }
    }
  }
  return sel;
}

function grouping(src, node) {
  const labels = [];
  const g = node.getChild('GroupingLabels');
  if (g) for (const l of children(g)) if (l.type.name === 'LabelName') labels.push({ name: src.slice(l.from, l.to), from: l.from, to: l.to });
  return labels;
}

// All GroupingLabels lists of a MatchingModifierClause: [on/ignoring list, group_x list].
function groupings(src, node) {
  return node.getChildren('GroupingLabels').map((g) => children(g).filter((l) => l.type.name === 'LabelName').map((l) => ({ name: src.slice(l.from, l.to), from: l.from, to: l.to })));
}

const setOf = (labels) => (labels === null ? null : new Set(labels));
const without = (labels, names) => (labels === null ? null : new Set([...labels].filter((l) => !names.includes(l))));

class Analyzer {
  constructor(src, lookup) {
    this.src = src;
    this.lookup = lookup;
    this.selectors = [];
    this.ranges = [];
    this.problems = [];
  }

  problem(check, from, to, message) {
    this.problems.push({ check, from, to, message });
  }

  info(labels, dim, rawCounters = [], extra = {}) {
    return { labels, dim, rawCounters, ...extra };
  }

  visit(node) {
    const name = node.type.name;
    const m = this[`visit${name}`];
    if (m) return m.call(this, node);
    const kids = exprChildren(node);
    if (kids.length === 1) return this.visit(kids[0]);
    for (const k of kids) this.visit(k);
    return this.info(null, DIM.unknown);
  }

  visitPromQL(node) {
    const k = exprChildren(node)[0];
    return k ? this.visit(k) : this.info(new Set(), DIM.unknown);
  }

  visitNumberLiteral(node) {
    return this.info(new Set(), DIM.number, [], { scalar: true, number: Number(this.src.slice(node.from, node.to)) });
  }

  visitStringLiteral() {
    return this.info(new Set(), DIM.unknown, [], { scalar: true, string: true });
  }

  visitParenExpr(node) {
    return this.visit(exprChildren(node)[0]);
  }

  visitUnaryExpr(node) {
    const inner = this.visit(exprChildren(node)[0]);
    return { ...inner, number: inner.number !== undefined ? -inner.number : undefined };
  }

  visitStepInvariantExpr(node) {
    return this.visit(exprChildren(node)[0]);
  }

  visitVectorSelector(node) {
    const sel = selectorOf(this.src, node);
    this.selectors.push(sel);
    const info = sel.name ? this.lookup(sel.name) : null;
    let labels = info && info.labels ? new Set(info.labels) : null;
    if (labels) {
      labels.add('job');
      labels.add('instance');
      for (const mt of sel.matchers) if (mt.label !== '__name__' && !(mt.op === '=' && mt.value === '')) labels.add(mt.label);
    }
    const type = info ? info.type : null;
    const dim = info?.dim || (sel.name ? dimOfMetric(sel.name, type) : DIM.unknown);
    const isCounter = type === 'counter' || (!info && sel.name && /_(total|count|sum|bucket)$/.test(sel.name));
    return this.info(labels, dim, isCounter ? [{ name: sel.name, from: sel.nameFrom, to: sel.nameTo }] : [], { selector: sel, type, guessed: !info || info.guessed });
  }

  visitMatrixSelector(node) {
    const inner = this.visit(exprChildren(node)[0]);
    const d = node.getChild('Duration');
    return { ...inner, range: d ? { from: d.from, to: d.to, text: this.src.slice(d.from, d.to) } : null };
  }

  visitOffsetExpr(node) {
    return this.visit(exprChildren(node)[0]);
  }

  visitSubqueryExpr(node) {
    const inner = this.visit(exprChildren(node)[0]);
    const d = node.getChild('Duration');
    return { ...inner, subquery: true, selector: null, range: d ? { from: d.from, to: d.to, text: this.src.slice(d.from, d.to) } : null };
  }

  visitAggregateExpr(node) {
    const op = this.src.slice(node.getChild('AggregateOp').from, node.getChild('AggregateOp').to).toLowerCase();
    const body = node.getChild('FunctionCallBody');
    const args = body ? exprChildren(body) : [];
    const infos = args.map((a) => this.visit(a));
    const input = infos[infos.length - 1] || this.info(null, DIM.unknown);
    const mod = node.getChild('AggregateModifier');
    let labels;
    if (mod) {
      const list = grouping(this.src, mod);
      if (mod.getChild('By')) {
        if (input.labels) {
          for (const l of list) {
            if (!input.labels.has(l.name)) {
              this.problem('by-label', l.from, l.to, `\`${op} by (${list.map((x) => x.name).join(', ')})\`: the series it aggregates never carry "${l.name}" (they carry: ${[...input.labels].sort().join(', ') || 'no labels'}), so it is always empty`);
            }
          }
        }
        labels = new Set(list.map((l) => l.name));
        if (input.labels) labels = new Set([...labels].filter((l) => input.labels.has(l)));
      } else {
        labels = without(input.labels, list.map((l) => l.name));
      }
    } else {
      labels = KEEP_LABELS_AGGREGATIONS.has(op) ? input.labels : new Set();
    }
    if (op === 'count_values' && args[0]?.type.name === 'StringLiteral' && labels) labels.add(stringValue(this.src.slice(args[0].from, args[0].to)));
    let dim = input.dim;
    if (op === 'count' || op === 'count_values') dim = DIM.count;
    if (op === 'group') dim = DIM.none;
    const raw = op === 'count' || op === 'group' || op === 'count_values' ? [] : input.rawCounters;
    return this.info(labels, dim, raw, { aggregation: op, inputLabels: input.labels });
  }

  checkRateTarget(fn, argNode, arg) {
    if (!arg) return;
    if (arg.range && RATE_FUNCTIONS.has(fn)) this.ranges.push({ fn, ...arg.range });
    if (arg.subquery && COUNTER_ONLY.has(fn)) {
      this.problem('rate-over-subquery', argNode.from, argNode.to, `${fn}() over a subquery: take ${fn}() of the raw counter first and aggregate after (an aggregate of counters hides their resets)`);
      return;
    }
    const sel = arg.selector;
    if (!sel || !sel.name) return;
    if (COUNTER_ONLY.has(fn) && arg.type === 'gauge' && !arg.guessed) {
      this.problem('rate-over-gauge', sel.nameFrom, sel.nameTo, `${fn}() over ${sel.name}, which is a gauge: ${fn}() is only meaningful on counters (use deriv() or delta() for a gauge's change, or the gauge itself)`);
    }
    if (GAUGE_ONLY.has(fn) && arg.type === 'counter') {
      this.problem('gauge-function-over-counter', sel.nameFrom, sel.nameTo, `${fn}() over ${sel.name}, which is a counter: use rate() or increase(), which handle counter resets`);
    }
  }

  visitFunctionCall(node) {
    const id = node.getChild('FunctionIdentifier');
    const fn = this.src.slice(id.from, id.to);
    const body = node.getChild('FunctionCallBody');
    const args = body ? exprChildren(body) : [];
    const infos = args.map((a) => this.visit(a));
    const vecIdx = infos.findIndex((i) => !i.scalar);
    const vec = vecIdx >= 0 ? infos[vecIdx] : null;
    if (COUNTER_ONLY.has(fn) || GAUGE_ONLY.has(fn)) this.checkRateTarget(fn, args[vecIdx] || args[0], vec);
    const keep = (dim, raw = vec ? vec.rawCounters : []) => this.info(vec ? vec.labels : new Set(), dim, CONSUMES_COUNTERS.has(fn) ? [] : raw);
    switch (fn) {
      case 'rate':
      case 'irate':
        return keep(combine.perSecond(vec?.dim));
      case 'increase':
        return keep(vec?.dim || DIM.unknown);
      case 'deriv':
        return keep(combine.perSecond(vec?.dim));
      case 'delta':
      case 'idelta':
      case 'predict_linear':
      case 'holt_winters':
        return keep(vec?.dim || DIM.unknown);
      case 'changes':
      case 'resets':
      case 'count_over_time':
        return keep(DIM.count);
      case 'absent':
      case 'absent_over_time':
        return this.info(null, DIM.none, []);
      case 'present_over_time':
        return keep(DIM.none);
      case 'timestamp':
        return keep(DIM.timestamp);
      case 'time':
        return this.info(new Set(), DIM.timestamp, [], { scalar: true });
      case 'vector':
        return this.info(new Set(), infos[0]?.dim || DIM.number, []);
      case 'scalar':
        return this.info(new Set(), vec?.dim || DIM.unknown, vec?.rawCounters || [], { scalar: true });
      case 'histogram_quantile':
        return this.histogramQuantile(node, args, infos);
      case 'label_replace':
      case 'label_join': {
        const dst = args[1] && args[1].type.name === 'StringLiteral' ? stringValue(this.src.slice(args[1].from, args[1].to)) : null;
        const labels = vec?.labels ? new Set(vec.labels) : null;
        if (labels && dst) labels.add(dst);
        return this.info(labels, vec?.dim || DIM.unknown, vec?.rawCounters || []);
      }
      case 'sqrt':
      case 'ln':
      case 'log2':
      case 'log10':
      case 'exp':
        return keep(DIM.unknown);
      case 'quantile_over_time':
      case 'avg_over_time':
      case 'min_over_time':
      case 'max_over_time':
      case 'sum_over_time':
      case 'last_over_time':
      case 'stddev_over_time':
      case 'stdvar_over_time':
      default:
        return keep(vec?.dim || DIM.unknown);
    }
  }

  histogramQuantile(node, args, infos) {
    const [q, inner] = args;
    if (q && q.type.name === 'NumberLiteral') {
      const v = Number(this.src.slice(q.from, q.to));
      if (!(v >= 0 && v <= 1)) this.problem('quantile-range', q.from, q.to, `histogram_quantile(${this.src.slice(q.from, q.to)}, …): the quantile must be between 0 and 1 (0.99 for p99); outside it Prometheus returns ±Inf`);
    }
    if (inner) this.checkLeKept(inner);
    const input = infos[1];
    const family = this.bucketFamily(inner);
    const dim = family ? dimOfMetric(family.replace(/_bucket$/, ''), 'gauge') : DIM.unknown;
    return this.info(without(input?.labels ?? null, ['le']), dim, []);
  }

  bucketFamily(node) {
    let found = null;
    const walk = (n) => {
      if (found) return;
      if (n.type.name === 'VectorSelector') {
        const s = selectorOf(this.src, n);
        if (s.name) found = s.name;
        return;
      }
      for (const c of children(n)) walk(c);
    };
    if (node) walk(node);
    return found;
  }

  // Every step between histogram_quantile() and the _bucket series must keep `le`.
  checkLeKept(node) {
    const name = node.type.name;
    if (name === 'NumberLiteral' || name === 'StringLiteral') return;
    if (name === 'VectorSelector') {
      const sel = selectorOf(this.src, node);
      const info = sel.name ? this.lookup(sel.name) : null;
      const hasLe = info && info.labels ? info.labels.has('le') : sel.name ? sel.name.endsWith('_bucket') : true;
      if (!hasLe) this.problem('quantile-no-le', sel.nameFrom, sel.nameTo, `histogram_quantile() over ${sel.name}, which has no le label: use the _bucket series of a histogram`);
      return;
    }
    if (name === 'AggregateExpr') {
      const opNode = node.getChild('AggregateOp');
      const op = this.src.slice(opNode.from, opNode.to).toLowerCase();
      const mod = node.getChild('AggregateModifier');
      if (mod) {
        const labels = grouping(this.src, mod).map((l) => l.name);
        if (mod.getChild('By') && !labels.includes('le')) {
          this.problem('quantile-no-le', mod.from, mod.to, `histogram_quantile(): \`${op} by (${labels.join(', ')})\` drops le, so the panel is empty; keep it: \`${op} by (le${labels.length ? `, ${labels.join(', ')}` : ''})\``);
        } else if (mod.getChild('Without') && labels.includes('le')) {
          this.problem('quantile-no-le', mod.from, mod.to, `histogram_quantile(): \`${op} without (${labels.join(', ')})\` drops le, so the panel is empty`);
        }
      } else if (!KEEP_LABELS_AGGREGATIONS.has(op)) {
        this.problem('quantile-no-le', opNode.from, opNode.to, `histogram_quantile(): \`${op}(…)\` without \`by (le)\` drops le, so the panel is empty; use \`${op} by (le) (…)\``);
      }
      const body = node.getChild('FunctionCallBody');
      if (body) for (const c of exprChildren(body)) this.checkLeKept(c);
      return;
    }
    if (name === 'BinaryExpr') {
      const clause = node.getChild('MatchingModifierClause');
      if (clause) {
        const [labels = []] = groupings(this.src, clause);
        const names = labels.map((l) => l.name);
        const grouped = clause.getChild('GroupLeft') || clause.getChild('GroupRight');
        if (clause.getChild('On') && !names.includes('le') && !grouped) this.problem('quantile-no-le', clause.from, clause.to, `histogram_quantile(): \`on (${names.join(', ')})\` keeps only those labels and drops le`);
        if (clause.getChild('Ignoring') && names.includes('le')) this.problem('quantile-no-le', clause.from, clause.to, 'histogram_quantile(): `ignoring (le)` drops le');
      }
      for (const c of exprChildren(node)) this.checkLeKept(c);
      return;
    }
    if (name === 'FunctionCall') {
      const body = node.getChild('FunctionCallBody');
      if (body) for (const c of exprChildren(body)) this.checkLeKept(c);
      return;
    }
    for (const c of exprChildren(node)) this.checkLeKept(c);
  }

  visitBinaryExpr(node) {
    const [l, r] = exprChildren(node);
    const a = this.visit(l);
    const b = this.visit(r);
    let op = null;
    for (const c of children(node)) {
      if (!EXPRESSION_NODES.has(c.type.name) && !['MatchingModifierClause', 'BoolModifier'].includes(c.type.name)) op = this.src.slice(c.from, c.to).toLowerCase();
    }
    const isBool = !!node.getChild('BoolModifier');
    const clause = node.getChild('MatchingModifierClause');
    const comparison = ['==', '!=', '>', '<', '>=', '<='].includes(op);
    const setOp = ['and', 'or', 'unless'].includes(op);
    // Result labels: the side that is a vector (the left one for vector/vector, except "or").
    let labels;
    if (a.scalar && b.scalar) labels = new Set();
    else if (a.scalar) labels = b.labels;
    else if (b.scalar) labels = a.labels;
    else if (op === 'or') labels = a.labels && b.labels ? new Set([...a.labels, ...b.labels]) : null;
    else {
      labels = a.labels;
      if (clause) {
        const [match = [], extra = []] = groupings(this.src, clause);
        if (clause.getChild('On')) {
          for (const side of [a, b]) {
            if (!side.labels) continue;
            for (const lab of match) {
              if (!side.labels.has(lab.name)) this.problem('by-label', lab.from, lab.to, `\`on (${match.map((x) => x.name).join(', ')})\`: one side never carries "${lab.name}" (it carries: ${[...side.labels].sort().join(', ') || 'no labels'}), so nothing matches`);
            }
          }
          if (!setOp && !clause.getChild('GroupLeft') && !clause.getChild('GroupRight')) labels = setOf(match.map((x) => x.name).filter((n) => !a.labels || a.labels.has(n)));
        }
        if (clause.getChild('GroupLeft') && labels) for (const e of extra) labels = new Set([...labels, e.name]);
        if (clause.getChild('GroupRight')) labels = b.labels ? new Set([...b.labels, ...extra.map((e) => e.name)]) : null;
      }
    }
    let dim;
    if (comparison) dim = isBool ? DIM.none : a.scalar && !b.scalar ? b.dim : a.dim;
    else if (setOp) dim = op === 'or' ? combine.either(a.dim, b.dim) : a.dim;
    else dim = combine.arith(op, a, b);
    let raw = [...a.rawCounters, ...b.rawCounters];
    if (setOp && op !== 'or') raw = a.rawCounters;
    // "counter > 0" (or >= 1, != 0) asks whether it ever counted since the process started: the
    // running total is the point there, not a rate hidden in it.
    const lit = (x) => (x.dim.base === 'number' ? x.number : undefined);
    if ((op === '>' || op === '!=') && lit(b) === 0) raw = a.rawCounters.length ? [] : raw;
    if (op === '>=' && lit(b) === 1) raw = a.rawCounters.length ? [] : raw;
    if (isBool) raw = [];
    return this.info(labels, dim, raw, { scalar: a.scalar && b.scalar, comparison, op });
  }
}

export function analyzePromQL(src, { lookup }) {
  const tree = parser.parse(src);
  const syntax = syntaxErrors(src, tree);
  if (syntax.length) return { syntax, root: null, selectors: [], ranges: [], problems: [] };
  const a = new Analyzer(src, lookup);
  const root = a.visit(tree.topNode);
  return { syntax, root, selectors: a.selectors, ranges: a.ranges, problems: a.problems };
}
