// lezer_text: what the PromQL and LogQL stand-ins (truth/promql_bounds.mjs, logql_eval.mjs) read
// from a lezer tree alike — a node's children, and a string literal's value with Go's quoting
// (both languages take "..." with Go escapes, `...` raw, and PromQL '...' too).

export function childrenOf(node) {
  const out = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

// The value of a string literal as written in the query; an escape Go does not know calls
// `unsupported(message)`, which throws.
export function goStringValue(lit, unsupported) {
  if (lit.startsWith('`')) return lit.slice(1, -1);
  const body = lit.slice(1, -1);
  const simple = { n: '\n', t: '\t', r: '\r', '"': '"', "'": "'", '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v' };
  let out = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== '\\') {
      out += body[i];
      continue;
    }
    const c = body[++i];
    if (c in simple) out += simple[c];
    else if (c === 'x') {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === 'u' || c === 'U') {
      const n = c === 'u' ? 4 : 8;
      out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 1 + n), 16));
      i += n;
    } else unsupported(`unknown escape \\${c} in the string ${lit}`);
  }
  return out;
}

// A compiler's reading of its source: the text of a node.
export class SourceReader {
  constructor(src) {
    this.src = src;
  }

  text(n) {
    return this.src.slice(n.from, n.to);
  }
}
