// logql: reads a LogQL query with Grafana's own grammar (@grafana/lezer-logql) — its syntax, the
// stream labels it selects on, the fields it uses after a parser, whether it is a metric query,
// whether it drops parse errors, what labels its result carries and what its numbers are.
//
// Loki has no offline parse endpoint we can run here, so the grammar Grafana's query editor uses
// is the parser: any error node is a syntax error.
//
// analyzeLogQL(src) -> { syntax: [{ from, to, message }], streamLabels: [{ name, from, to }],
//   fields: [{ name, from, to }], parsers: [{ name, from, to }], isMetric, errorFiltered,
//   labels: Set|null, dim }

import { parser } from '@grafana/lezer-logql';
import { DIM, dimOfMetric } from './dimension.mjs';

function children(node) {
  const out = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

function descendants(node, name) {
  const out = [];
  const stack = [node];
  while (stack.length) {
    const n = stack.pop();
    for (const c of children(n)) {
      if (c.type.name === name) out.push(c);
      stack.push(c);
    }
  }
  return out.sort((a, b) => a.from - b.from);
}

const span = (src, n) => ({ name: src.slice(n.from, n.to), from: n.from, to: n.to });

// The dim of an unwrapped field: `unwrap duration(x)` and `bytes(x)` convert; otherwise the
// field's name says it (duration_ms, size_bytes…), as metric names do.
function unwrapDim(src, u) {
  const text = src.slice(u.from, u.to);
  if (/unwrap\s+duration(_seconds)?\s*\(/.test(text)) return DIM.seconds;
  if (/unwrap\s+bytes\s*\(/.test(text)) return DIM.bytes;
  const id = u.getChild('Identifier');
  return id ? dimOfMetric(src.slice(id.from, id.to), 'gauge') : DIM.unknown;
}

function metricDim(src, top) {
  // Arithmetic between queries (a ratio of two counts…) is beyond this reading: unknown.
  if (descendants(top, 'BinOpExpr').length) return DIM.unknown;
  const range = descendants(top, 'RangeAggregationExpr')[0];
  if (!range) return DIM.unknown;
  const op = src.slice(range.getChild('RangeOp').from, range.getChild('RangeOp').to);
  const unwrap = descendants(range, 'UnwrapExpr').find((u) => u.getChild('Unwrap'));
  const field = unwrap ? unwrapDim(src, unwrap) : null;
  switch (op) {
    case 'count_over_time':
      return DIM.count;
    case 'rate':
      return field && field.base !== 'unknown' ? { ...field, perSecond: 1 } : { base: 'count', perSecond: 1, scale: 1 };
    case 'bytes_rate':
      return { base: 'bytes', perSecond: 1, scale: 1 };
    case 'bytes_over_time':
      return DIM.bytes;
    case 'absent_over_time':
      return DIM.none;
    default:
      return field || DIM.unknown;
  }
}

// Labels of a metric query's result when a grouping fixes them; null when open.
function resultLabels(src, top) {
  let node = top;
  while (node && ['LogQL', 'Expr', 'MetricExpr'].includes(node.type.name)) node = children(node).find((c) => !c.type.isError) || null;
  if (!node) return null;
  if (node.type.name === 'VectorAggregationExpr' || node.type.name === 'RangeAggregationExpr') {
    const g = node.getChild('Grouping');
    const op = src.slice(node.firstChild.from, node.firstChild.to);
    // topk, bottomk, sort keep the labels of what they rank
    if (!g && /^(topk|bottomk|sort|sort_desc)$/.test(op)) return resultLabels(src, node.getChild('MetricExpr'));
    if (!g) return node.type.name === 'VectorAggregationExpr' ? new Set() : null;
    const ids = descendants(g, 'Identifier').map((i) => src.slice(i.from, i.to));
    return g.getChild('By') ? new Set(ids) : null;
  }
  return null;
}

export function analyzeLogQL(src) {
  const tree = parser.parse(src);
  const out = { syntax: [], streamLabels: [], fields: [], parsers: [], isMetric: false, errorFiltered: false, labels: null, dim: DIM.unknown };
  tree.iterate({
    enter(n) {
      if (n.type.isError) {
        const near = src.slice(Math.max(0, n.from - 12), n.to + 12).replace(/\s+/g, ' ');
        out.syntax.push({ from: n.from, to: Math.max(n.to, n.from + 1), message: `syntax error at column ${n.from + 1} near '${near}'` });
      }
    },
  });
  if (out.syntax.length) return out;
  const top = tree.topNode;
  for (const sel of descendants(top, 'Selector')) {
    for (const m of descendants(sel, 'Matcher')) {
      const id = m.getChild('Identifier');
      if (id) out.streamLabels.push(span(src, id));
    }
  }
  for (const p of descendants(top, 'LabelParser')) out.parsers.push({ name: src.slice(p.from, p.to).split(/\s/)[0], from: p.from, to: p.to });
  for (const p of descendants(top, 'JsonExpressionParser')) out.parsers.push({ name: 'json', from: p.from, to: p.to });
  for (const p of descendants(top, 'LogfmtParser')) out.parsers.push({ name: 'logfmt', from: p.from, to: p.to });
  for (const f of descendants(top, 'LabelFilter')) {
    for (const c of children(f)) {
      const id = c.getChild('Identifier');
      if (!id) continue;
      const name = src.slice(id.from, id.to);
      if (name === '__error__') out.errorFiltered = true;
      out.fields.push(span(src, id));
    }
  }
  for (const d of descendants(top, 'DropLabelsExpr')) if (/__error__/.test(src.slice(d.from, d.to))) out.errorFiltered = true;
  for (const u of descendants(top, 'UnwrapExpr').filter((x) => x.getChild('Unwrap'))) {
    const id = u.getChild('Identifier');
    if (id) out.fields.push(span(src, id));
  }
  for (const g of descendants(top, 'Grouping')) for (const id of descendants(g, 'Identifier')) out.fields.push(span(src, id));
  for (const lf of descendants(top, 'LineFormatExpr')) {
    for (const m of src.slice(lf.from, lf.to).matchAll(/\{\{[^}]*?\.([a-zA-Z_][a-zA-Z0-9_]*)/g)) {
      const from = lf.from + m.index + m[0].length - m[1].length;
      out.fields.push({ name: m[1], from, to: from + m[1].length });
    }
  }
  out.isMetric = descendants(top, 'MetricExpr').length > 0;
  if (out.isMetric) {
    out.labels = resultLabels(src, top);
    out.dim = metricDim(src, top);
  }
  return out;
}

// Fields `| json` extracts from a file of JSON log lines: every key of every line, nested keys
// joined with "_" as Loki does. Throws when the file holds no JSON line.
export function logFields(text, source) {
  const fields = new Set();
  let lines = 0;
  const walk = (obj, prefix) => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}_${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, key);
      else fields.add(key.replace(/[^a-zA-Z0-9_]/g, '_'));
    }
  };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const obj = JSON.parse(line);
      if (obj && typeof obj === 'object') {
        walk(obj, '');
        lines++;
      }
    } catch {
      // not every line of a file need be JSON
    }
  }
  if (lines === 0) throw new Error(`${source} holds no JSON log line: point --log at a file of JSON log lines`);
  return fields;
}
