// source_text: positions in the text the user wrote. A finding about a query points at the
// line and column of the file (the dashboard JSON, the rule YAML) where the offending characters
// are, not at an offset into some rewritten string.
//
// A query lives inside a JSON string literal (with escapes: \n, \", \uXXXX) or a YAML scalar
// (quoted, plain or a block). A TextRef is one such value: its decoded text, the file it came from,
// and the map from an index into the decoded text back to the file's offset. Everything that
// rewrites a query (variable substitution) keeps its own map back to the decoded text, so a
// position survives both steps.

// Line starts of a text, for offset -> { line, column } (both 1-based; columns count UTF-16
// units, as editors and Grafana's query editor do).
export class LineIndex {
  constructor(text) {
    this.starts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  position(offset) {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
}

// The file a value came from: its path as shown to the user, its text and its line index.
export class SourceFile {
  constructor(label, text) {
    this.label = label;
    this.text = text;
    this.lines = new LineIndex(text);
  }

  position(offset) {
    return this.lines.position(offset);
  }
}

// A decoded string value and where each of its characters sits in the file. `offsets[i]` is the
// file offset of decoded character i; offsets[text.length] is the offset just after the value.
export class TextRef {
  constructor(source, text, offsets) {
    this.source = source;
    this.text = text;
    this.offsets = offsets;
  }

  fileOffset(i) {
    const k = Math.max(0, Math.min(i, this.offsets.length - 1));
    return this.offsets[k];
  }

  // { line, column, end_line, end_column } in the file for decoded [from, to).
  span(from, to = from) {
    const a = this.source.position(this.fileOffset(from));
    const b = this.source.position(to > from ? this.fileOffset(to - 1) + 1 : this.fileOffset(from));
    return { line: a.line, column: a.column, end_line: b.line, end_column: b.column };
  }

  // A value with no place in a file (a flag, a default): positions fall back to the file start.
  static detached(text) {
    return new TextRef(null, text, Array.from({ length: text.length + 1 }, () => 0));
  }
}

// TextRef of a JSON string literal starting at `offset` (its opening quote) in `source`.
export function jsonStringRef(source, offset) {
  const raw = source.text;
  let i = offset + 1;
  let text = '';
  const offsets = [];
  while (i < raw.length && raw[i] !== '"') {
    if (raw[i] !== '\\') {
      offsets.push(i);
      text += raw[i];
      i++;
      continue;
    }
    const e = raw[i + 1];
    offsets.push(i);
    if (e === 'u') {
      text += String.fromCharCode(parseInt(raw.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      text += { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' }[e] ?? e;
      i += 2;
    }
  }
  offsets.push(i);
  return new TextRef(source, text, offsets);
}

// TextRef of a YAML scalar node (the `yaml` package's Scalar with `range`), for the three styles
// rule files use: plain or quoted on one line, and block literals (`|`, `|-`, `>` kept as lines).
export function yamlScalarRef(source, node) {
  const value = String(node.value);
  const [start, end] = node.range;
  const raw = source.text.slice(start, end);
  const offsets = [];
  if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
    // Lines after the header, each indented by the block's indentation.
    const header = raw.indexOf('\n');
    let pos = start + header + 1;
    const lines = source.text.slice(pos, end).split('\n');
    const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
    let vi = 0;
    for (const line of lines) {
      if (vi >= value.length) break;
      const content = line.slice(Math.min(indent, line.length));
      for (let c = 0; c < content.length && vi < value.length; c++, vi++) offsets.push(pos + Math.min(indent, line.length) + c);
      if (vi < value.length) {
        offsets.push(pos + line.length); // the newline
        vi++;
      }
      pos += line.length + 1;
    }
    while (offsets.length < value.length) offsets.push(end);
    offsets.push(end);
    return new TextRef(source, value, offsets);
  }
  const quoted = raw.startsWith('"') || raw.startsWith("'");
  if (quoted && raw.startsWith('"')) return jsonLikeDoubleQuoted(source, start, value);
  const base = start + (quoted ? 1 : 0);
  let k = 0;
  for (let vi = 0; vi < value.length; vi++) {
    // a single-quoted '' stands for one quote
    if (quoted && raw[k + 1] === "'" && raw[k + 2] === "'") k++;
    offsets.push(base + k);
    k++;
  }
  offsets.push(base + k);
  return new TextRef(source, value, offsets);
}

function jsonLikeDoubleQuoted(source, start, value) {
  const ref = jsonStringRef(source, start);
  return ref.text === value ? ref : new TextRef(source, value, Array.from({ length: value.length + 1 }, (_, i) => start + 1 + i));
}
