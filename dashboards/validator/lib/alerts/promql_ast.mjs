// promql_ast: a PromQL expression as a small plain tree, built from lezer-promql's syntax tree
// (Prometheus 2.42's grammar), for the evaluator in promql_eval.mjs. Durations are milliseconds.
//
// Nodes: {type:'number', value} {type:'string', value}
//   {type:'vector', name, matchers:[{name, op, value}], offset}      an instant selector
//   {type:'matrix', vector, range}                                      a range selector
//   {type:'subquery', expr, range, step, offset}
//   {type:'call', func, args} {type:'agg', op, grouping:{without, labels}|null, param, expr}
//   {type:'binary', op, lhs, rhs, bool, matching:{on, labels, card, include}|null}
//   {type:'unary', op, expr}
// parsePromQL() throws a sentence naming the column of the first syntax error.

import { parser } from '@prometheus-io/lezer-promql';
import { stringValue } from '../promql.mjs';
import { parseDuration } from './duration.mjs';

const EXPRESSIONS = new Set([
  'BinaryExpr', 'FunctionCall', 'AggregateExpr', 'MatrixSelector', 'SubqueryExpr', 'VectorSelector',
  'ParenExpr', 'UnaryExpr', 'NumberLiteral', 'StringLiteral', 'OffsetExpr', 'StepInvariantExpr',
]);
const BINARY_OPS = {
  Add: '+', Sub: '-', Mul: '*', Div: '/', Mod: '%', Pow: '^', Atan2: 'atan2',
  Eql: '==', Neq: '!=', Gtr: '>', Lss: '<', Gte: '>=', Lte: '<=', And: 'and', Or: 'or', Unless: 'unless',
};
export const COMPARISONS = new Set(['==', '!=', '>', '<', '>=', '<=']);
export const SET_OPS = new Set(['and', 'or', 'unless']);

function kids(node) {
  const out = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

function exprKids(node) {
  return kids(node).filter((c) => EXPRESSIONS.has(c.type.name));
}

function numberValue(s) {
  const t = s.toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan') return NaN;
  if (/^0x[0-9a-f]+$/.test(t)) return parseInt(t, 16);
  return Number(s);
}

function grouping(src, node) {
  const g = node.getChild('GroupingLabels');
  return g ? kids(g).filter((l) => l.type.name === 'LabelName').map((l) => src.slice(l.from, l.to)) : [];
}

class Builder {
  constructor(src) {
    this.src = src;
  }

  text(node) {
    return this.src.slice(node.from, node.to);
  }

  build(node) {
    const name = node.type.name;
    switch (name) {
      case 'PromQL':
      case 'ParenExpr':
      case 'StepInvariantExpr': {
        const [inner] = exprKids(node);
        if (!inner) throw this.fail(node, 'an empty expression');
        return this.build(inner);
      }
      case 'NumberLiteral':
        return { type: 'number', value: numberValue(this.text(node)) };
      case 'StringLiteral':
        return { type: 'string', value: stringValue(this.text(node)) };
      case 'VectorSelector':
        return this.selector(node);
      case 'MatrixSelector': {
        const [vector] = exprKids(node);
        const range = parseDuration(this.text(node.getChild('Duration')), 'range');
        return { type: 'matrix', vector: this.build(vector), range };
      }
      case 'OffsetExpr':
        return this.offset(node);
      case 'SubqueryExpr': {
        const [inner] = exprKids(node);
        const durations = kids(node).filter((c) => c.type.name === 'Duration');
        return {
          type: 'subquery',
          expr: this.build(inner),
          range: parseDuration(this.text(durations[0]), 'subquery range'),
          step: durations[1] ? parseDuration(this.text(durations[1]), 'subquery step') : null,
          offset: 0,
        };
      }
      case 'UnaryExpr': {
        const op = this.text(node.getChild('UnaryOp'));
        return { type: 'unary', op, expr: this.build(exprKids(node)[0]) };
      }
      case 'FunctionCall': {
        const id = node.getChild('FunctionIdentifier');
        const body = node.getChild('FunctionCallBody');
        return { type: 'call', func: this.text(id), args: body ? exprKids(body).map((a) => this.build(a)) : [] };
      }
      case 'AggregateExpr':
        return this.aggregate(node);
      case 'BinaryExpr':
        return this.binary(node);
      default:
        throw this.fail(node, `an expression of kind ${name}`);
    }
  }

  fail(node, what) {
    return new Error(`cannot read ${what} at column ${node.from + 1}`);
  }

  selector(node) {
    let name = null;
    const matchers = [];
    for (const c of kids(node)) {
      if (c.type.name === 'Identifier' || c.type.name === 'MetricIdentifier') name = this.text(c);
      if (c.type.name !== 'LabelMatchers') continue;
      const stack = [c];
      while (stack.length) {
        for (const m of kids(stack.pop())) {
          if (m.type.name !== 'LabelMatcher') {
            stack.push(m);
            continue;
          }
          const lm = {
            name: this.text(m.getChild('LabelName')),
            op: this.text(m.getChild('MatchOp')),
            value: stringValue(this.text(m.getChild('StringLiteral'))),
          };
          if (lm.name === '__name__' && lm.op === '=') name = lm.value;
          else matchers.push(lm);
        }
      }
    }
    if (name) matchers.unshift({ name: '__name__', op: '=', value: name });
    for (const m of matchers) {
      if (m.op === '=~' || m.op === '!~') m.re = new RegExp(`^(?:${m.value})$`, 's');
    }
    return { type: 'vector', name, matchers, offset: 0 };
  }

  offset(node) {
    const [inner] = exprKids(node);
    const target = this.build(inner);
    const sub = kids(node).find((c) => c.type.name === 'Sub');
    let offset = parseDuration(this.text(node.getChild('Duration')), 'offset');
    if (sub) offset = -offset;
    const vector = target.type === 'matrix' ? target.vector : target;
    if (vector.type !== 'vector' && target.type !== 'subquery') throw this.fail(node, 'an offset on something other than a selector');
    if (target.type === 'subquery') target.offset = offset;
    else vector.offset = offset;
    return target;
  }

  aggregate(node) {
    const op = this.text(node.getChild('AggregateOp')).toLowerCase();
    const mod = node.getChild('AggregateModifier');
    const body = node.getChild('FunctionCallBody');
    const args = body ? exprKids(body).map((a) => this.build(a)) : [];
    const expr = args[args.length - 1];
    const param = args.length > 1 ? args[0] : null;
    let group = null;
    if (mod) group = { without: !!mod.getChild('Without'), labels: grouping(this.src, mod) };
    return { type: 'agg', op, grouping: group, param, expr };
  }

  binary(node) {
    const parts = kids(node);
    const operands = parts.filter((c) => EXPRESSIONS.has(c.type.name));
    const opNode = parts.find((c) => BINARY_OPS[c.type.name]);
    const op = BINARY_OPS[opNode.type.name];
    const bool = parts.some((c) => c.type.name === 'BoolModifier');
    const clause = parts.find((c) => c.type.name === 'MatchingModifierClause');
    let matching = null;
    if (clause) {
      const groups = kids(clause).filter((c) => c.type.name === 'GroupingLabels');
      const names = (g) => (g ? kids(g).filter((l) => l.type.name === 'LabelName').map((l) => this.text(l)) : []);
      const left = clause.getChild('GroupLeft');
      const right = clause.getChild('GroupRight');
      matching = {
        on: !!clause.getChild('On'),
        labels: names(groups[0]),
        card: left ? 'many-to-one' : right ? 'one-to-many' : 'one-to-one',
        include: names(groups[1]),
      };
    }
    return { type: 'binary', op, lhs: this.build(operands[0]), rhs: this.build(operands[1]), bool, matching };
  }
}

// Parses `src`; throws Error("syntax error at column N near '...'") or a sentence on a construct
// this tree does not model.
export function parsePromQL(src) {
  const tree = parser.parse(src);
  let bad = null;
  tree.iterate({
    enter(n) {
      if (!bad && n.type.isError) bad = n.from;
    },
  });
  if (bad !== null) {
    const near = src.slice(Math.max(0, bad - 10), bad + 10).replace(/\s+/g, ' ');
    throw new Error(`syntax error at column ${bad + 1} near '${near}'`);
  }
  return new Builder(src).build(tree.topNode);
}

// Every range (matrix selector, subquery) and offset in the tree, in milliseconds: what a time
// compression shrinks and what a prediction has to wait for.
export function windowsOf(ast) {
  const out = [];
  (function walk(n) {
    if (!n || typeof n !== 'object') return;
    if (n.type === 'matrix') out.push({ kind: 'range', ms: n.range, of: n.vector.name });
    if (n.type === 'subquery') out.push({ kind: 'subquery', ms: n.range });
    if (n.type === 'vector' && n.offset) out.push({ kind: 'offset', ms: n.offset, of: n.name });
    for (const v of Object.values(n)) {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') walk(v);
    }
  })(ast);
  return out;
}

// The metric names an expression reads.
export function metricsOf(ast) {
  const out = new Set();
  (function walk(n) {
    if (!n || typeof n !== 'object') return;
    if (n.type === 'vector' && n.name) out.add(n.name);
    for (const v of Object.values(n)) {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') walk(v);
    }
  })(ast);
  return out;
}
