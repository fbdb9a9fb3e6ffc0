// promql: reads a PromQL expression's syntax tree (lezer-promql 0.42, Prometheus 2.42's grammar)
// for the mistakes that parse fine and still draw a wrong or empty panel.
//
// Prometheus's own parser decides what is valid (see prometheus.mjs); this tree is for meaning:
// which metrics are named, rate()/increase() only over counters, histogram_quantile() with `le`
// kept by every aggregation and vector match between it and the _bucket series.

import { parser } from '@prometheus-io/lezer-promql';

const RATE_FUNCTIONS = new Set(['rate', 'irate', 'increase', 'resets']);
const GAUGE_FUNCTIONS = new Set(['delta', 'idelta', 'deriv', 'predict_linear', 'holt_winters']);
// Aggregations that return series with their labels intact when no by/without is given.
const LABEL_KEEPING_AGGREGATIONS = new Set(['topk', 'bottomk', 'limitk', 'limit_ratio']);
const EXPRESSION_NODES = new Set([
  'BinaryExpr', 'FunctionCall', 'AggregateExpr', 'MatrixSelector', 'SubqueryExpr', 'VectorSelector',
  'ParenExpr', 'UnaryExpr', 'NumberLiteral', 'StringLiteral', 'OffsetExpr', 'StepInvariantExpr',
]);

function text(src, node) {
  return src.slice(node.from, node.to);
}

function children(node) {
  const out = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

function expressionChildren(node) {
  return children(node).filter((c) => EXPRESSION_NODES.has(c.type.name));
}

// Syntax errors as "col N: near '...'" strings; empty when the tree has no error node.
function syntaxErrors(src, tree) {
  const errors = [];
  tree.iterate({
    enter(n) {
      if (n.type.isError) {
        const near = src.slice(Math.max(0, n.from - 10), n.to + 10).replace(/\s+/g, ' ');
        errors.push(`syntax error at column ${n.from + 1} near '${near}'`);
      }
    },
  });
  return errors;
}

// A PromQL string literal's value: "..." and '...' with Go escapes, or `...` raw.
function stringValue(lit) {
  if (lit.startsWith('`')) return lit.slice(1, -1);
  let json = lit;
  if (lit.startsWith("'")) json = `"${lit.slice(1, -1).replace(/\\'/g, "'").replace(/(^|[^\\])"/g, '$1\\"')}"`;
  try {
    return JSON.parse(json);
  } catch {
    return lit.slice(1, -1);
  }
}

function selectorOf(src, node) {
  let name = null;
  const matchers = [];
  for (const c of children(node)) {
    if (c.type.name === 'Identifier' || c.type.name === 'MetricIdentifier') name = text(src, c);
    if (c.type.name === 'LabelMatchers') {
      const stack = [c];
      while (stack.length) {
        const n = stack.pop();
        for (const m of children(n)) {
          if (m.type.name === 'LabelMatcher') {
            const label = m.getChild('LabelName');
            const op = m.getChild('MatchOp');
            const value = m.getChild('StringLiteral');
            const lm = {
              label: label ? text(src, label) : '',
              op: op ? text(src, op) : '',
              value: value ? stringValue(text(src, value)) : '',
            };
            if (lm.label === '__name__' && lm.op === '=') name = lm.value;
            matchers.push(lm);
          } else stack.push(m);
        }
      }
    }
  }
  return { name, matchers, text: text(src, node) };
}

function functionName(src, node) {
  const id = node.getChild('FunctionIdentifier');
  return id ? text(src, id) : '';
}

function functionArgs(node) {
  const body = node.getChild('FunctionCallBody');
  return body ? expressionChildren(body) : [];
}

// The innermost VectorSelector of a range argument (x[5m], x[5m] offset 1h, x[5m:1m]).
function rangeTarget(node) {
  let n = node;
  for (;;) {
    if (n.type.name === 'MatrixSelector' || n.type.name === 'OffsetExpr' || n.type.name === 'StepInvariantExpr') {
      n = expressionChildren(n)[0];
      if (!n) return { kind: 'none' };
      continue;
    }
    if (n.type.name === 'ParenExpr') {
      n = expressionChildren(n)[0];
      continue;
    }
    if (n.type.name === 'SubqueryExpr') {
      const inner = expressionChildren(n)[0];
      let s = inner;
      while (s && s.type.name === 'ParenExpr') s = expressionChildren(s)[0];
      if (s && s.type.name === 'VectorSelector') return { kind: 'selector', node: s };
      return { kind: 'expression', node: inner };
    }
    if (n.type.name === 'VectorSelector') return { kind: 'selector', node: n };
    return { kind: 'expression', node: n };
  }
}

function groupingLabels(src, modifier) {
  const labels = [];
  const g = modifier.getChild('GroupingLabels');
  if (g) for (const l of children(g)) if (l.type.name === 'LabelName') labels.push(text(src, l));
  return labels;
}

// Walks the second argument of histogram_quantile() down to its series, reporting every step
// that drops `le` and every series that has no buckets.
function checkLeKept(src, node, hasLe, problems) {
  const name = node.type.name;
  if (name === 'NumberLiteral' || name === 'StringLiteral') return;
  if (name === 'VectorSelector') {
    const sel = selectorOf(src, node);
    if (sel.name && !hasLe(sel.name)) {
      problems.push(`histogram_quantile() over ${sel.name}, which has no le label (use the _bucket series of a histogram)`);
    }
    return;
  }
  if (name === 'AggregateExpr') {
    const op = text(src, node.getChild('AggregateOp')).toLowerCase();
    const modifier = node.getChild('AggregateModifier');
    if (modifier) {
      const labels = groupingLabels(src, modifier);
      const isBy = !!modifier.getChild('By');
      if (isBy && !labels.includes('le')) {
        problems.push(`histogram_quantile(): \`${op} by (${labels.join(', ')})\` drops le; keep it: \`${op} by (le${labels.length ? ', ' + labels.join(', ') : ''})\``);
      } else if (!isBy && labels.includes('le')) {
        problems.push(`histogram_quantile(): \`${op} without (${labels.join(', ')})\` drops le`);
      }
    } else if (!LABEL_KEEPING_AGGREGATIONS.has(op)) {
      problems.push(`histogram_quantile(): \`${op}(...)\` without \`by (le)\` drops le, so the panel is empty; use \`${op} by (le) (...)\``);
    }
    const body = node.getChild('FunctionCallBody');
    if (body) for (const c of expressionChildren(body)) checkLeKept(src, c, hasLe, problems);
    return;
  }
  if (name === 'BinaryExpr') {
    const clause = node.getChild('MatchingModifierClause');
    if (clause) {
      const labels = groupingLabels(src, clause);
      const grouped = clause.getChild('GroupLeft') || clause.getChild('GroupRight');
      if (clause.getChild('On') && !labels.includes('le') && !grouped) {
        problems.push(`histogram_quantile(): \`on (${labels.join(', ')})\` keeps only those labels and drops le`);
      }
      if (clause.getChild('Ignoring') && labels.includes('le')) {
        problems.push('histogram_quantile(): `ignoring (le)` drops le');
      }
    }
    for (const c of expressionChildren(node)) checkLeKept(src, c, hasLe, problems);
    return;
  }
  if (name === 'FunctionCall') {
    for (const c of functionArgs(node)) checkLeKept(src, c, hasLe, problems);
    return;
  }
  for (const c of expressionChildren(node)) checkLeKept(src, c, hasLe, problems);
}

// Inspects one expression (Grafana macros already substituted). `typeOf(name)` answers
// 'counter', 'gauge' or undefined (unknown); `hasLe(name)` whether the series carries `le`.
// Returns { syntax: [...], selectors: [...], problems: [...] }.
export function inspectPromQL(src, { typeOf, hasLe }) {
  const tree = parser.parse(src);
  const result = { syntax: syntaxErrors(src, tree), selectors: [], problems: [] };
  if (result.syntax.length) return result;
  const cursor = tree.cursor();
  do {
    const node = cursor.node;
    const kind = node.type.name;
    if (kind === 'VectorSelector') {
      result.selectors.push(selectorOf(src, node));
    } else if (kind === 'FunctionCall') {
      const fn = functionName(src, node);
      const args = functionArgs(node);
      if (RATE_FUNCTIONS.has(fn) || GAUGE_FUNCTIONS.has(fn)) {
        const rangeArg = args.find((a) => a.type.name !== 'NumberLiteral');
        const target = rangeArg ? rangeTarget(rangeArg) : { kind: 'none' };
        if (target.kind === 'selector') {
          const sel = selectorOf(src, target.node);
          const type = sel.name ? typeOf(sel.name) : undefined;
          if (RATE_FUNCTIONS.has(fn) && type === 'gauge') {
            result.problems.push(`${fn}() over ${sel.name}, which is a gauge: ${fn}() is only meaningful on counters (use deriv() or delta() for a gauge, or the gauge itself)`);
          }
          if (GAUGE_FUNCTIONS.has(fn) && type === 'counter') {
            result.problems.push(`${fn}() over ${sel.name}, which is a counter: use rate() or increase(), which handle counter resets`);
          }
        } else if (target.kind === 'expression' && RATE_FUNCTIONS.has(fn)) {
          result.problems.push(`${fn}() over a subquery of \`${text(src, target.node)}\`: take ${fn}() of the raw counter first and aggregate after (an aggregate of counters hides their resets)`);
        }
      }
      if (fn === 'histogram_quantile') {
        const [q, inner] = args;
        if (q && q.type.name === 'NumberLiteral') {
          const v = Number(text(src, q));
          if (!(v >= 0 && v <= 1)) result.problems.push(`histogram_quantile(${text(src, q)}, ...): the quantile must be between 0 and 1`);
        }
        if (inner) checkLeKept(src, inner, hasLe, result.problems);
      }
    }
  } while (cursor.next());
  return result;
}

// Range selectors of rate()/irate()/increase() written as literal durations ("[5m]") rather than
// Grafana's $__rate_interval: such a panel breaks when the scrape interval or zoom changes.
export function literalRateRanges(raw) {
  const found = [];
  const re = /\b(rate|irate|increase)\s*\(/g;
  let m;
  while ((m = re.exec(raw))) {
    let depth = 1;
    let i = re.lastIndex;
    const start = i;
    for (; i < raw.length && depth > 0; i++) {
      if (raw[i] === '(') depth++;
      else if (raw[i] === ')') depth--;
    }
    const inside = raw.slice(start, i - 1);
    for (const r of inside.matchAll(/\[([^\]]*)\]/g)) {
      const range = r[1].split(':')[0].trim();
      if (!/^\$\{?__(rate_interval|interval|range|auto)\}?$/.test(range)) {
        found.push(`${m[1]}(...[${r[1]}]) uses a fixed range: use [$__rate_interval] so the window follows the scrape interval`);
      }
    }
  }
  return found;
}
