// logql: checks a LogQL query with Grafana's own grammar (@grafana/lezer-logql) and reads the
// labels and fields it relies on.
//
// Loki has no offline parse endpoint we can run here, so the grammar Grafana's query editor uses
// is the parser: any error node is a syntax error. Beyond syntax, a query is only useful if its
// stream selector uses labels the collector really sets (Alloy: job, level) and its filters name
// fields taskd really logs; both are returned for the caller to compare.

import { parser } from '@grafana/lezer-logql';

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
  return out;
}

// Returns { syntax: [...], streamLabels: Set, fields: Set, parsers: Set }. `fields` are the
// names used after the stream selector: label filters, unwrap, by/without, line_format {{.x}}.
export function inspectLogQL(src) {
  const tree = parser.parse(src);
  const result = { syntax: [], streamLabels: new Set(), fields: new Set(), parsers: new Set() };
  tree.iterate({
    enter(n) {
      if (n.type.isError) {
        const near = src.slice(Math.max(0, n.from - 12), n.to + 12).replace(/\s+/g, ' ');
        result.syntax.push(`syntax error at column ${n.from + 1} near '${near}'`);
      }
    },
  });
  if (result.syntax.length) return result;
  const top = tree.topNode;
  for (const sel of descendants(top, 'Selector')) {
    for (const m of descendants(sel, 'Matcher')) {
      const id = m.getChild('Identifier');
      if (id) result.streamLabels.add(src.slice(id.from, id.to));
    }
  }
  for (const p of descendants(top, 'LabelParser')) result.parsers.add(src.slice(p.from, p.to).split(/\s/)[0]);
  for (const p of descendants(top, 'JsonExpressionParser')) result.parsers.add('json');
  for (const f of descendants(top, 'LabelFilter')) {
    for (const c of children(f)) {
      const id = c.getChild('Identifier');
      if (id) result.fields.add(src.slice(id.from, id.to));
    }
  }
  for (const u of descendants(top, 'UnwrapExpr')) {
    const id = u.getChild('Identifier');
    if (id) result.fields.add(src.slice(id.from, id.to));
  }
  for (const g of descendants(top, 'Grouping')) {
    for (const id of descendants(g, 'Identifier')) result.fields.add(src.slice(id.from, id.to));
  }
  for (const lf of descendants(top, 'LineFormatExpr')) {
    for (const m of src.slice(lf.from, lf.to).matchAll(/\{\{[^}]*?\.([a-zA-Z_][a-zA-Z0-9_]*)/g)) result.fields.add(m[1]);
  }
  return result;
}

// Fields `| json` extracts from taskd's log lines: every key of every line, nested keys joined
// with "_" as Loki does. Throws when the file holds no JSON line.
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
      // not every line of a file need be JSON; taskd's are
    }
  }
  if (lines === 0) throw new Error(`${source} holds no JSON log line: point --taskd-log at a taskd log file`);
  return fields;
}
