// substitute: replaces Grafana's variables and macros in a query the way Grafana does before it
// sends it, and remembers where every character of the result came from.
//
// `$var`, `${var}`, `${var:format}`, `${var.field}` and `[[var]]`/`[[var:format]]` are all
// Grafana's syntaxes (its template_srv regex). The result keeps a segment map, so an offset in
// the substituted query (where a parser reports a problem) maps back to the query as the user
// wrote it: characters outside a variable map one to one, characters produced by a variable map to
// the reference itself (`$__rate_interval`), never to a column that does not exist.

// Grafana's own pattern (public/app/features/templating/template_srv: variableRegex).
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

export class Substituted {
  constructor(raw) {
    this.raw = raw;
    this.text = '';
    this.segments = []; // { outFrom, outTo, rawFrom, rawTo, literal: bool, name? }
    this.references = []; // { name, format, field, rawFrom, rawTo, outFrom, outTo, value, known }
  }

  // The raw offset of substituted offset i.
  toRaw(i) {
    for (const s of this.segments) {
      if (s.outFrom <= i && i < s.outTo) return s.literal ? s.rawFrom + (i - s.outFrom) : s.rawFrom;
    }
    return this.raw.length;
  }

  // The raw [from, to) of substituted [from, to): widened to whole references.
  rawSpan(from, to) {
    const a = this.toRaw(from);
    let b = to > from ? this.toRaw(to - 1) + 1 : a;
    for (const r of this.references) if (a <= r.rawFrom && b > r.rawFrom) b = Math.max(b, r.rawTo);
    for (const r of this.references) if (r.rawFrom <= a && a < r.rawTo) b = Math.max(b, r.rawTo);
    return { from: a, to: b };
  }

  // The references whose produced text overlaps substituted [from, to).
  referencesIn(from, to) {
    return this.references.filter((r) => r.outFrom < to && from < r.outTo);
  }

  // Whether substituted [from, to) came, wholly or in part, from a reference to `name`.
  usesVariable(from, to, name) {
    return this.referencesIn(from, to).some((r) => r.name === name);
  }
}

// resolve(name, { format, field }) returns the text for a reference, or undefined when no
// variable or macro of that name exists (the reference is then kept as written and listed in
// `unknown`). Returns a Substituted.
export function substitute(raw, resolve) {
  const out = new Substituted(raw);
  const unknown = [];
  let last = 0;
  const literal = (to) => {
    if (to <= last) return;
    const outFrom = out.text.length;
    out.text += raw.slice(last, to);
    out.segments.push({ outFrom, outTo: out.text.length, rawFrom: last, rawTo: to, literal: true });
  };
  for (const m of raw.matchAll(VARIABLE)) {
    const name = m[1] || m[2] || m[4];
    const format = m[3] || m[6] || null;
    const field = m[5] || null;
    literal(m.index);
    const value = resolve(name, { format, field });
    const rawTo = m.index + m[0].length;
    const outFrom = out.text.length;
    out.text += value === undefined ? m[0] : value;
    out.segments.push({ outFrom, outTo: out.text.length, rawFrom: m.index, rawTo, literal: value === undefined, name });
    out.references.push({ name, format, field, rawFrom: m.index, rawTo, outFrom, outTo: out.text.length, value, known: value !== undefined });
    if (value === undefined) unknown.push({ name, from: m.index, to: rawTo });
    last = rawTo;
  }
  literal(raw.length);
  if (out.segments.length === 0) out.segments.push({ outFrom: 0, outTo: 0, rawFrom: 0, rawTo: 0, literal: true });
  out.unknown = unknown;
  return out;
}

// Every variable name a text refers to (for dependency order between chained variables).
export function referencedNames(raw) {
  const names = new Set();
  for (const m of String(raw || '').matchAll(VARIABLE)) names.add(m[1] || m[2] || m[4]);
  return names;
}
