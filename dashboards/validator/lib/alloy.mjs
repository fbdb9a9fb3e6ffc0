// alloy: a reader for Grafana Alloy's configuration syntax, enough to check config.alloy without
// the alloy binary (not packaged for Debian): blocks, attributes, strings, numbers, lists,
// objects, references and calls.
//
// It parses; it does not evaluate. Callers walk the tree to check which components exist, what
// they reference and which Loki labels the pipeline ends up setting.

function tokenize(src) {
  const tokens = [];
  let i = 0;
  let line = 1;
  const push = (t, v) => tokens.push({ t, v, line });
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`line ${line}: unterminated /* comment`);
      line += (src.slice(i, end).match(/\n/g) || []).length;
      i = end + 2;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      for (; j < src.length && src[j] !== '"'; j++) {
        if (src[j] === '\n') throw new Error(`line ${line}: newline in a string`);
        if (src[j] === '\\') {
          j++;
          const esc = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' }[src[j]];
          if (esc === undefined) throw new Error(`line ${line}: unknown escape \\${src[j]} in a string`);
          s += esc;
        } else s += src[j];
      }
      if (j >= src.length) throw new Error(`line ${line}: unterminated string`);
      push('string', s);
      i = j + 1;
    } else if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new Error(`line ${line}: unterminated raw string`);
      push('string', src.slice(i + 1, end));
      line += (src.slice(i, end).match(/\n/g) || []).length;
      i = end + 1;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i));
      push('number', Number(m[0]));
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      push('ident', m[0]);
      i += m[0].length;
    } else if ('{}[]()=,.'.includes(c)) {
      push(c, c);
      i++;
    } else {
      throw new Error(`line ${line}: unexpected character '${c}'`);
    }
  }
  push('eof', null);
  return tokens;
}

class Parser {
  constructor(tokens) {
    this.tk = tokens;
    this.i = 0;
  }

  peek(k = 0) {
    return this.tk[this.i + k];
  }

  next() {
    return this.tk[this.i++];
  }

  expect(t) {
    const tok = this.next();
    if (tok.t !== t) throw new Error(`line ${tok.line}: expected '${t}', found ${tok.t === 'eof' ? 'the end of the file' : `'${tok.v}'`}`);
    return tok;
  }

  body(end) {
    const items = [];
    while (this.peek().t !== end) {
      const first = this.expect('ident');
      let name = first.v;
      while (this.peek().t === '.') {
        this.next();
        name += `.${this.expect('ident').v}`;
      }
      if (this.peek().t === '=') {
        if (name.includes('.')) throw new Error(`line ${first.line}: attribute name ${name} may not contain '.'`);
        this.next();
        items.push({ kind: 'attr', name, value: this.expr(), line: first.line });
      } else {
        let label = null;
        if (this.peek().t === 'string') label = this.next().v;
        this.expect('{');
        const inner = this.body('}');
        this.expect('}');
        items.push({ kind: 'block', name, label, body: inner, line: first.line });
      }
    }
    return items;
  }

  expr() {
    const tok = this.next();
    let node;
    if (tok.t === 'string') node = { t: 'string', v: tok.v };
    else if (tok.t === 'number') node = { t: 'number', v: tok.v };
    else if (tok.t === 'ident' && (tok.v === 'true' || tok.v === 'false')) node = { t: 'bool', v: tok.v === 'true' };
    else if (tok.t === 'ident' && tok.v === 'null') node = { t: 'null' };
    else if (tok.t === 'ident') {
      let p = tok.v;
      while (this.peek().t === '.' && this.peek(1).t === 'ident') {
        this.next();
        p += `.${this.next().v}`;
      }
      if (this.peek().t === '(') {
        this.next();
        const args = [];
        while (this.peek().t !== ')') {
          args.push(this.expr());
          if (this.peek().t === ',') this.next();
          else break;
        }
        this.expect(')');
        node = { t: 'call', fn: p, args };
      } else node = { t: 'ref', path: p, line: tok.line };
    } else if (tok.t === '[') {
      const items = [];
      while (this.peek().t !== ']') {
        items.push(this.expr());
        if (this.peek().t === ',') this.next();
        else break;
      }
      this.expect(']');
      node = { t: 'list', items };
    } else if (tok.t === '{') {
      const entries = [];
      while (this.peek().t !== '}') {
        const k = this.next();
        if (k.t !== 'ident' && k.t !== 'string') throw new Error(`line ${k.line}: expected an object key, found '${k.v}'`);
        this.expect('=');
        entries.push({ key: k.v, value: this.expr() });
        if (this.peek().t === ',') this.next();
        else break;
      }
      this.expect('}');
      node = { t: 'object', entries };
    } else {
      throw new Error(`line ${tok.line}: expected a value, found ${tok.t === 'eof' ? 'the end of the file' : `'${tok.v}'`}`);
    }
    return node;
  }
}

// Parses a config. Returns the top-level items; throws "line N: ..." on a syntax error.
export function parseAlloy(src) {
  const p = new Parser(tokenize(src));
  const items = p.body('eof');
  return items;
}

// Every reference (a.b.c.d) anywhere inside an expression or body.
export function references(node, out = []) {
  if (!node) return out;
  if (Array.isArray(node)) {
    for (const n of node) references(n, out);
  } else if (node.kind === 'attr') references(node.value, out);
  else if (node.kind === 'block') references(node.body, out);
  else if (node.t === 'ref') out.push(node);
  else if (node.t === 'list') references(node.items, out);
  else if (node.t === 'object') for (const e of node.entries) references(e.value, out);
  else if (node.t === 'call') references(node.args, out);
  return out;
}

export function attr(block, name) {
  return block.body.find((i) => i.kind === 'attr' && i.name === name)?.value;
}

export function blocks(items, name) {
  return items.filter((i) => i.kind === 'block' && i.name === name);
}

// A literal value as plain JS (strings, numbers, lists, objects); references become undefined.
export function literal(node) {
  if (!node) return undefined;
  switch (node.t) {
    case 'string':
    case 'number':
    case 'bool':
      return node.v;
    case 'null':
      return null;
    case 'list':
      return node.items.map(literal);
    case 'object':
      return Object.fromEntries(node.entries.map((e) => [e.key, literal(e.value)]));
    default:
      return undefined;
  }
}

// The Loki labels the pipeline ends with for each file target: labels of loki.source.file's
// targets (filename added by the component), plus stage.labels and stage.static_labels of the
// loki.process it forwards to, minus stage.label_drop. Returns { labels: Set, paths: [...] }.
export function lokiLabels(items) {
  const labels = new Set();
  const paths = [];
  const processes = new Map(blocks(items, 'loki.process').map((b) => [b.label, b]));
  const fileMatches = new Map(blocks(items, 'local.file_match').map((b) => [b.label, b]));
  for (const src of blocks(items, 'loki.source.file')) {
    const targetsNode = attr(src, 'targets');
    let targets = literal(targetsNode);
    if (targetsNode?.t === 'ref') {
      const [, , label] = targetsNode.path.split('.');
      const fm = fileMatches.get(label);
      targets = fm ? literal(attr(fm, 'path_targets')) : undefined;
    }
    for (const t of targets || []) {
      if (!t || typeof t !== 'object') continue;
      for (const k of Object.keys(t)) if (!k.startsWith('__')) labels.add(k);
      if (t.__path__) paths.push(t.__path__);
    }
    labels.add('filename');
    const forward = attr(src, 'forward_to');
    for (const r of references(forward)) {
      const parts = r.path.split('.');
      if (parts[0] === 'loki' && parts[1] === 'process') {
        const proc = processes.get(parts[2]);
        if (!proc) continue;
        for (const st of blocks(proc.body, 'stage.labels')) for (const k of Object.keys(literal(attr(st, 'values')) || {})) labels.add(k);
        for (const st of blocks(proc.body, 'stage.static_labels')) for (const k of Object.keys(literal(attr(st, 'values')) || {})) labels.add(k);
        for (const st of blocks(proc.body, 'stage.label_drop')) for (const k of literal(attr(st, 'values')) || []) labels.delete(k);
      }
    }
  }
  return { labels, paths };
}
