// logql_eval: the stand-in for Loki — evaluates a LogQL query over log entries held in memory,
// with Loki's semantics, so a logs panel can be checked against the log file a run wrote.
//
// Parsing is Grafana's own grammar (@grafana/lezer-logql); evaluation follows Loki's code
// (pkg/logql): a range aggregation at step t sees the entries in (t - range, t]; rate() is
// count / range (no extrapolation), rate_counter() is Prometheus's extrapolated rate;
// quantile_over_time interpolates like Prometheus's quantile; `| json` extracts every key (nested
// keys joined with "_"), renaming one that collides with a stream label to KEY_extracted; numeric
// label filters drop lines without the label and mark unparsable values with __error__; and a
// metric query fails with Loki's "pipeline error" when a series still carries __error__.
// What the subset leaves out (pattern and ip filters, label_replace, templates beyond
// {{.label}}) is refused with UnsupportedLogQL, never evaluated wrongly.
//
// Entries are { ts (unix ms, fractional allowed), line, labels (the stream's labels) }, sorted by ts.

import { parser } from '@grafana/lezer-logql';
import { extrapolate } from './extrapolated_rate.mjs';
import { quantile } from './quantile.mjs';
import { SourceReader, childrenOf, goStringValue } from './lezer_text.mjs';

export class UnsupportedLogQL extends Error {}

// Loki's answer to a metric query whose series carry __error__.
export class PipelineError extends Error {
  constructor(labels) {
    super(`pipeline error: '${labels.__error__}' for series: '${labelKey(labels)}'. Use a label filter to intentionally skip this error (e.g. | __error__!="${labels.__error__}"); to skip all potential errors match empty errors (__error__="")`);
    this.labels = labels;
  }
}

const DURATION_UNITS = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000, y: 31536000000 };

// A Prometheus/Go duration ("5m", "1h30m", "250ms", "1.5s") in ms.
export function durationMs(text) {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)/g;
  let total = 0;
  let used = 0;
  let m;
  while ((m = re.exec(text))) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    used += m[0].length;
  }
  if (!used || used !== text.replace(/^-/, '').length) throw new UnsupportedLogQL(`"${text}" is not a duration`);
  return text.startsWith('-') ? -total : total;
}

function bytesValue(text) {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtTpPeE]?)(i?)[bB]?$/.exec(text.trim());
  if (!m) return NaN;
  const power = ' kmgtpe'.indexOf(m[2].toLowerCase());
  return Number(m[1]) * (m[3] ? 1024 : 1000) ** Math.max(0, power);
}

export function labelKey(labels) {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ');
}

// A LogQL string literal: "..." with Go escapes, or `...` raw.
function stringValue(lit) {
  return goStringValue(lit, (m) => {
    throw new UnsupportedLogQL(m);
  });
}

// Go's RE2 syntax, as Loki anchors label matchers (^(?:re)$) and not line filters.
function goRegexp(re, anchored) {
  const js = re.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(anchored ? `^(?:${js})$` : js, 's');
  } catch (e) {
    throw new UnsupportedLogQL(`regular expression ${re} is not one JavaScript can run: ${e.message}`);
  }
}

const kids = childrenOf;

class Compiler extends SourceReader {
  unsupported(n, what) {
    throw new UnsupportedLogQL(`${what || 'this part of LogQL'} is not supported by the LogQL stand-in: ${this.text(n)}`);
  }

  expr(n) {
    if (n.type.name === 'LogQL' || n.type.name === 'Expr') return this.expr(n.firstChild);
    if (n.type.name === 'LogExpr') return this.logExpr(n);
    if (n.type.name === 'MetricExpr') return this.metric(n);
    return this.unsupported(n);
  }

  logExpr(n) {
    const sel = n.getChild('Selector');
    const pipe = n.getChild('PipelineExpr');
    return { kind: 'log', matchers: this.matchers(sel), stages: pipe ? this.pipeline(pipe) : [] };
  }

  matchers(sel) {
    const out = [];
    for (const m of sel.getChild('Matchers') ? kids(sel.getChild('Matchers')) : []) {
      if (m.type.name !== 'Matcher') continue;
      out.push(this.matcher(m));
    }
    return out;
  }

  matcher(m) {
    const name = this.text(m.getChild('Identifier'));
    const opNode = kids(m).find((k) => ['Eq', 'Neq', 'Re', 'Nre'].includes(k.type.name));
    const value = stringValue(this.text(m.getChild('String')));
    const op = opNode.type.name;
    const re = op === 'Re' || op === 'Nre' ? goRegexp(value, true) : null;
    const test = (v) => {
      if (op === 'Eq') return v === value;
      if (op === 'Neq') return v !== value;
      if (op === 'Re') return re.test(v);
      return !re.test(v);
    };
    return { name, op, value, test };
  }

  pipeline(n) {
    const stages = [];
    const walk = (p) => {
      for (const c of kids(p)) {
        if (c.type.name === 'PipelineExpr') walk(c);
        else if (c.type.name === 'PipelineStage') stages.push(...this.stage(c));
      }
    };
    walk(n);
    return stages;
  }

  stage(n) {
    const c = kids(n).filter((k) => k.type.name !== 'Pipe');
    const s = c[0];
    switch (s.type.name) {
      case 'LineFilters':
        return this.lineFilters(s);
      case 'LabelParser':
        return [this.labelParser(s)];
      case 'JsonExpressionParser':
        return [this.jsonExpressions(s)];
      case 'LogfmtParser':
        return [{ type: 'logfmt' }];
      case 'LabelFilter':
        return [{ type: 'filter', filter: this.labelFilter(s) }];
      case 'LineFormatExpr':
        return [{ type: 'line_format', template: this.template(s, stringValue(this.text(s.getChild('String')))) }];
      case 'LabelFormatExpr':
        return [this.labelFormat(s)];
      case 'DecolorizeExpr':
        return [{ type: 'decolorize' }];
      case 'DropLabelsExpr':
      case 'KeepLabelsExpr':
        return [this.dropKeep(s)];
      default:
        return this.unsupported(s, `the stage ${s.type.name}`);
    }
  }

  lineFilters(n) {
    const out = [];
    const walk = (p) => {
      for (const c of kids(p)) {
        if (c.type.name === 'LineFilters') walk(c);
        else if (c.type.name === 'LineFilter') out.push(this.lineFilter(c));
      }
    };
    walk(n);
    return out;
  }

  lineFilter(n) {
    const f = n.getChild('Filter');
    const op = f.firstChild.type.name; // PipeExact |=, Neq !=, PipeMatch |~, Nre !~, PipePattern |>, Npa !>
    if (op === 'PipePattern' || op === 'Npa' || n.getChild('Ip')) this.unsupported(n, 'pattern and ip line filters');
    const values = [];
    const collect = (p) => {
      for (const c of kids(p)) {
        if (c.type.name === 'String') values.push(stringValue(this.text(c)));
        else if (c.type.name === 'OrFilter') collect(c);
      }
    };
    collect(n);
    const res = op === 'PipeMatch' || op === 'Nre' ? values.map((v) => goRegexp(v, false)) : null;
    const match = (line) => (res ? res.some((r) => r.test(line)) : values.some((v) => line.includes(v)));
    const negate = op === 'Neq' || op === 'Nre';
    return { type: 'line', test: (line) => (negate ? !match(line) : match(line)) };
  }

  labelParser(n) {
    const kind = n.firstChild.type.name;
    if (kind === 'Json') return { type: 'json' };
    if (kind === 'Logfmt') return { type: 'logfmt' };
    if (kind === 'Unpack') return { type: 'unpack' };
    if (kind === 'Regexp') {
      const re = goRegexp(stringValue(this.text(n.getChild('String'))), false);
      return { type: 'regexp', re };
    }
    return this.unsupported(n, `the ${kind.toLowerCase()} parser`);
  }

  jsonExpressions(n) {
    const exprs = [];
    const list = n.getChild('LabelExtractionExpressionList');
    const walk = (p) => {
      for (const c of kids(p)) {
        if (c.type.name === 'LabelExtractionExpressionList') walk(c);
        else if (c.type.name === 'LabelExtractionExpression') {
          const name = this.text(c.getChild('Identifier'));
          const s = c.getChild('String');
          const path = s ? stringValue(this.text(s)) : name;
          exprs.push({ name, path: path.split(/[.[\]"]+/).filter(Boolean) });
        }
      }
    };
    if (list) walk(list);
    return { type: 'json', exprs };
  }

  labelFilter(n) {
    const parts = kids(n);
    const and = parts.find((p) => p.type.name === 'And' || (p.type.name === '⚠' && this.text(p) === ','));
    const or = parts.find((p) => p.type.name === 'Or');
    const subs = parts.filter((p) => p.type.name === 'LabelFilter');
    if (subs.length === 2 && (and || or)) {
      const [a, b] = subs.map((s) => this.labelFilter(s));
      return or ? (lb) => a(lb) || b(lb) : (lb) => a(lb) && b(lb);
    }
    if (subs.length === 2) {
      const [a, b] = subs.map((s) => this.labelFilter(s));
      return (lb) => a(lb) && b(lb);
    }
    if (subs.length === 1) return this.labelFilter(subs[0]);
    const f = parts.find((p) => p.type.name !== '⚠');
    if (!f) return this.unsupported(n);
    if (f.type.name === 'Matcher') {
      const m = this.matcher(f);
      return (lb) => m.test(lb.get(m.name) ?? '');
    }
    if (f.type.name === 'NumberFilter') return this.numberFilter(f);
    if (f.type.name === 'UnitFilter') return this.unitFilter(f.firstChild);
    return this.unsupported(f, `the label filter ${f.type.name}`);
  }

  comparator(n) {
    const op = kids(n).find((k) => ['Gtr', 'Gte', 'Lss', 'Lte', 'Eql', 'Neq', 'Eq'].includes(k.type.name)).type.name;
    return {
      Gtr: (a, b) => a > b,
      Gte: (a, b) => a >= b,
      Lss: (a, b) => a < b,
      Lte: (a, b) => a <= b,
      Eql: (a, b) => a === b,
      Eq: (a, b) => a === b,
      Neq: (a, b) => a !== b,
    }[op];
  }

  // NumericLabelFilter: a missing label drops the line; an unparsable value keeps it with
  // __error__=LabelFilterErr (unless an error is already set).
  numberFilter(n) {
    const name = this.text(n.getChild('Identifier'));
    const value = Number(this.text(n.getChild('LiteralExpr') || n.getChild('Number')));
    const cmp = this.comparator(n);
    return this.convertingFilter(name, (s) => (/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$|^[-+]?(Inf|NaN)$/i.test(s) ? Number(s) : NaN), (v) => cmp(v, value));
  }

  unitFilter(n) {
    const name = this.text(n.getChild('Identifier'));
    const cmp = this.comparator(n);
    if (n.type.name === 'DurationFilter') {
      const value = durationMs(this.text(n.getChild('Duration')));
      return this.convertingFilter(name, (s) => {
        try {
          return durationMs(s);
        } catch {
          return NaN;
        }
      }, (v) => cmp(v, value));
    }
    const value = bytesValue(this.text(n.getChild('Bytes')));
    return this.convertingFilter(name, bytesValue, (v) => cmp(v, value));
  }

  convertingFilter(name, convert, test) {
    return (lb) => {
      const s = lb.get(name);
      if (s === undefined) return false;
      const v = convert(s);
      if (Number.isNaN(v)) {
        if (!lb.err) lb.err = 'LabelFilterErr';
        return true;
      }
      return test(v);
    };
  }

  // line_format / label_format templates: {{.label}} and {{ .label }} only.
  template(n, text) {
    const parts = [];
    let last = 0;
    for (const m of text.matchAll(/\{\{\s*(.*?)\s*\}\}/g)) {
      if (!/^\.[a-zA-Z_][a-zA-Z0-9_]*$/.test(m[1])) this.unsupported(n, `the template action {{${m[1]}}}`);
      parts.push(text.slice(last, m.index), { label: m[1].slice(1) });
      last = m.index + m[0].length;
    }
    parts.push(text.slice(last));
    return (lb) => parts.map((p) => (typeof p === 'string' ? p : lb.get(p.label) ?? '')).join('');
  }

  labelFormat(n) {
    const ops = [];
    const walk = (p) => {
      for (const c of kids(p)) {
        if (c.type.name === 'LabelsFormat') walk(c);
        else if (c.type.name === 'LabelFormatMatcher') {
          const ids = kids(c).filter((k) => k.type.name === 'Identifier');
          const s = c.getChild('String');
          if (s) ops.push({ dst: this.text(ids[0]), template: this.template(c, stringValue(this.text(s))) });
          else ops.push({ dst: this.text(ids[0]), src: this.text(ids[1]) });
        }
      }
    };
    walk(n);
    return { type: 'label_format', ops };
  }

  dropKeep(n) {
    const names = [];
    const matchers = [];
    const walk = (p) => {
      for (const c of kids(p)) {
        if (c.type.name === 'DropLabel' || c.type.name === 'KeepLabel') {
          const m = c.getChild('Matcher');
          if (m) matchers.push(this.matcher(m));
          else names.push(this.text(c.getChild('Identifier')));
        } else walk(c);
      }
    };
    walk(n);
    return { type: n.type.name === 'DropLabelsExpr' ? 'drop' : 'keep', names, matchers };
  }

  // ---- metric queries ----

  metric(n) {
    const c = kids(n).filter((k) => k.type.name !== '⚠');
    if (c.length === 1 && c[0].type.name === 'MetricExpr') return this.metric(c[0]);
    const inner = c.find((k) => ['RangeAggregationExpr', 'VectorAggregationExpr', 'BinOpExpr', 'LiteralExpr', 'VectorExpr', 'MetricExpr'].includes(k.type.name));
    if (!inner) return this.unsupported(n);
    switch (inner.type.name) {
      case 'MetricExpr':
        return this.metric(inner);
      case 'RangeAggregationExpr':
        return this.rangeAgg(inner);
      case 'VectorAggregationExpr':
        return this.vectorAgg(inner);
      case 'BinOpExpr':
        return this.binOp(inner);
      case 'LiteralExpr':
        return { kind: 'scalar', value: this.literal(inner) };
      case 'VectorExpr':
        return { kind: 'vector', value: Number(this.text(inner.getChild('Number'))) };
      default:
        return this.unsupported(inner);
    }
  }

  literal(n) {
    const t = this.text(n).replace(/\s+/g, '');
    const v = Number(t);
    if (Number.isNaN(v)) this.unsupported(n, 'this literal');
    return v;
  }

  grouping(n) {
    const g = n.getChild('Grouping');
    if (!g) return null;
    const labels = [];
    const l = g.getChild('Labels');
    if (l) for (const id of kids(l)) if (id.type.name === 'Identifier') labels.push(this.text(id));
    return { without: !!g.getChild('Without'), labels };
  }

  rangeAgg(n) {
    const op = this.text(n.getChild('RangeOp'));
    const lre = n.getChild('LogRangeExpr');
    const sel = lre.getChild('Selector');
    const pipe = lre.getChild('PipelineExpr');
    const stages = pipe ? this.pipeline(pipe) : [];
    const rangeNode = lre.getChild('Range');
    const offsetNode = lre.getChild('OffsetExpr');
    let unwrap = null;
    const uw = lre.getChild('UnwrapExpr');
    if (uw) unwrap = this.unwrap(uw);
    const param = n.getChild('Number');
    const needsValue = !['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'absent_over_time'].includes(op);
    if (needsValue && !unwrap) this.unsupported(n, `${op} without | unwrap`);
    return {
      kind: 'range',
      op,
      param: param ? Number(this.text(param)) : null,
      matchers: this.matchers(sel),
      stages,
      unwrap,
      rangeMs: durationMs(this.text(rangeNode.getChild('Duration'))),
      offsetMs: offsetNode ? durationMs(this.text(offsetNode.getChild('Duration'))) : 0,
      grouping: this.grouping(n),
    };
  }

  unwrap(n) {
    // UnwrapExpr nests: (| unwrap x) followed by post filters.
    let base = n;
    const post = [];
    while (base.getChild('UnwrapExpr')) {
      const f = base.getChild('LabelFilter');
      if (f) post.unshift(this.labelFilter(f));
      base = base.getChild('UnwrapExpr');
    }
    const conv = base.getChild('ConvOp');
    return {
      label: this.text(base.getChild('Identifier')),
      conv: conv ? conv.firstChild.type.name : null,
      post,
    };
  }

  vectorAgg(n) {
    const op = this.text(n.getChild('VectorOp'));
    const param = n.getChild('Number');
    const inner = n.getChild('MetricExpr');
    return { kind: 'aggregate', op, param: param ? Number(this.text(param)) : null, grouping: this.grouping(n), inner: this.metric(inner) };
  }

  binOp(n) {
    const exprs = kids(n).filter((k) => k.type.name === 'Expr');
    const opNode = kids(n).find((k) => ['Add', 'Sub', 'Mul', 'Div', 'Mod', 'Pow', 'Eql', 'Neq', 'Gtr', 'Gte', 'Lss', 'Lte', 'And', 'Or', 'Unless'].includes(k.type.name));
    const mod = n.getChild('BinOpModifier');
    let bool = false;
    let matching = null;
    let group = null;
    if (mod) {
      bool = !!mod.getChild('Bool');
      const oi = mod.getChild('OnOrIgnoringModifier');
      if (oi) {
        const labels = [];
        const walk = (p) => {
          for (const c of kids(p)) {
            if (c.type.name === 'LabelName') labels.push(this.text(c));
            else walk(c);
          }
        };
        walk(oi);
        matching = { on: !!oi.getChild('On'), labels };
      }
      if (mod.getChild('GroupLeft')) group = 'left';
      if (mod.getChild('GroupRight')) group = 'right';
    }
    const side = (e) => {
      const m = e.getChild('MetricExpr');
      if (!m) this.unsupported(e, 'a log query inside arithmetic');
      return this.metric(m);
    };
    return { kind: 'binary', op: opNode.type.name, bool, matching, group, left: side(exprs[0]), right: side(exprs[1]) };
  }
}

// Parses a LogQL query (variables already substituted). Returns its compiled form; throws
// UnsupportedLogQL for a syntax error or a construct outside the subset.
export function compileLogQL(src) {
  const tree = parser.parse(src);
  let bad = null;
  tree.iterate({
    enter(n) {
      if (n.type.isError && !bad) bad = n.from;
    },
  });
  if (bad !== null) throw new UnsupportedLogQL(`LogQL does not parse at column ${bad + 1}: ${src}`);
  return new Compiler(src).expr(tree.topNode);
}

// ---- the pipeline, per line ----

// Loki's LabelsBuilder, reduced: stream labels, labels added by stages, the error label.
class Labels {
  constructor(stream) {
    this.base = stream;
    this.map = new Map(Object.entries(stream));
    this.err = '';
  }

  get(name) {
    if (name === '__error__') return this.err;
    return this.map.get(name);
  }

  // A parser's label: sanitized, and KEY_extracted when the stream already has KEY.
  setParsed(key, value) {
    let k = key.replace(/[^a-zA-Z0-9_]/g, '_');
    if (/^[0-9]/.test(k)) k = `_${k}`;
    if (Object.prototype.hasOwnProperty.call(this.base, k)) k = `${k}_extracted`;
    this.map.set(k, value);
  }

  object() {
    const o = Object.fromEntries(this.map);
    if (this.err) o.__error__ = this.err;
    return o;
  }
}

function flattenJson(obj, prefix, out) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}_${k}` : k;
    if (v !== null && typeof v === 'object') {
      if (!Array.isArray(v)) flattenJson(v, key, out);
    } else if (v !== null) {
      out.push([key, String(v)]);
    }
  }
}

function parseLogfmt(line) {
  const out = [];
  const re = /([^\s=]+)(?:=("(?:[^"\\]|\\.)*"|[^\s]*))?/g;
  let m;
  while ((m = re.exec(line))) {
    let v = m[2] ?? '';
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v);
      } catch {
        v = v.slice(1, -1);
      }
    }
    out.push([m[1], v]);
  }
  return out;
}

// Runs the stages over one entry. Returns null when a stage drops it, else { line, labels }.
function runPipeline(stages, entry, cache) {
  let line = entry.line;
  const lb = new Labels(entry.labels);
  for (const s of stages) {
    switch (s.type) {
      case 'line':
        if (!s.test(line)) return null;
        break;
      case 'json': {
        let obj = line === entry.line ? cache.json(entry) : undefined;
        if (obj === undefined) {
          try {
            obj = JSON.parse(line);
          } catch {
            obj = null;
          }
        }
        if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
          if (!lb.err) lb.err = 'JSONParserErr';
          break;
        }
        if (s.exprs && s.exprs.length) {
          for (const e of s.exprs) {
            let v = obj;
            for (const p of e.path) v = v && typeof v === 'object' ? v[p] : undefined;
            if (v !== undefined && v !== null) lb.setParsed(e.name, typeof v === 'object' ? JSON.stringify(v) : String(v));
          }
        } else {
          const pairs = [];
          flattenJson(obj, '', pairs);
          for (const [k, v] of pairs) lb.setParsed(k, v);
        }
        break;
      }
      case 'logfmt':
        for (const [k, v] of parseLogfmt(line)) lb.setParsed(k, v);
        break;
      case 'unpack': {
        let obj = null;
        try {
          obj = JSON.parse(line);
        } catch {
          // not JSON
        }
        if (!obj || typeof obj !== 'object') {
          if (!lb.err) lb.err = 'JSONParserErr';
          break;
        }
        for (const [k, v] of Object.entries(obj)) {
          if (k === '_entry') line = String(v);
          else if (typeof v === 'string') lb.setParsed(k, v);
        }
        break;
      }
      case 'regexp': {
        const m = s.re.exec(line);
        if (m && m.groups) for (const [k, v] of Object.entries(m.groups)) if (v !== undefined) lb.setParsed(k, v);
        break;
      }
      case 'filter':
        if (!s.filter(lb)) return null;
        break;
      case 'line_format':
        line = s.template(lb);
        break;
      case 'label_format':
        for (const op of s.ops) {
          if (op.template) lb.map.set(op.dst, op.template(lb));
          else {
            const v = lb.get(op.src);
            lb.map.delete(op.src);
            if (v !== undefined) lb.map.set(op.dst, v);
          }
        }
        break;
      case 'decolorize':
        line = line.replace(/\x1b\[[0-9;]*m/g, '');
        break;
      case 'drop':
        for (const [k, v] of [...lb.map]) {
          if (s.names.includes(k) || s.matchers.some((m) => m.name === k && m.test(v))) lb.map.delete(k);
        }
        if (s.names.includes('__error__') || s.matchers.some((m) => m.name === '__error__' && m.test(lb.err))) lb.err = '';
        break;
      case 'keep':
        for (const [k, v] of [...lb.map]) {
          if (!(s.names.includes(k) || s.matchers.some((m) => m.name === k && m.test(v)))) lb.map.delete(k);
        }
        break;
      default:
        throw new UnsupportedLogQL(`stage ${s.type}`);
    }
  }
  return { line, labels: lb };
}

// Per-entry parse cache: each line is JSON-parsed once however many queries read it.
export class EntryCache {
  constructor() {
    this.parsed = new WeakMap();
  }

  json(entry) {
    if (!this.parsed.has(entry)) {
      let obj = null;
      try {
        obj = JSON.parse(entry.line);
      } catch {
        obj = null;
      }
      this.parsed.set(entry, obj);
    }
    return this.parsed.get(entry);
  }
}

function selectEntries(entries, matchers) {
  return entries.filter((e) => matchers.every((m) => m.test(e.labels[m.name] ?? '')));
}

// ---- log queries ----

// The lines a log query returns in [start, end): { entries: [{ ts, line, labels }] } oldest
// first, all of them (a logs panel shows the newest `limit`; the caller decides).
export function evalLogQuery(q, entries, { start, end, cache = new EntryCache() }) {
  if (q.kind !== 'log') throw new UnsupportedLogQL('a metric query where a log query was expected');
  const out = [];
  for (const e of selectEntries(entries, q.matchers)) {
    if (e.ts < start || e.ts >= end) continue;
    const r = runPipeline(q.stages, e, cache);
    if (r) out.push({ ts: e.ts, line: r.line, labels: r.labels.object(), source: e });
  }
  return { entries: out };
}

// ---- metric queries ----

// Prometheus's extrapolatedRate (Loki's rate_counter), samples [[t, v]] in ms.
function extrapolatedRate(samples, rangeMs, isCounter, isRate, windowEnd) {
  if (samples.length < 2) return null;
  return extrapolate(samples.map((x) => x[0]), samples.map((x) => x[1]), windowEnd, rangeMs, isCounter, isRate);
}

function rangeFunction(op, param, rangeMs) {
  const secs = rangeMs / 1000;
  switch (op) {
    case 'count_over_time':
      return (s) => s.length;
    case 'rate':
      return (s, unwrapped) => (unwrapped ? s.reduce((a, x) => a + x[1], 0) : s.length) / secs;
    case 'bytes_over_time':
    case 'sum_over_time':
      return (s) => s.reduce((a, x) => a + x[1], 0);
    case 'bytes_rate':
      return (s) => s.reduce((a, x) => a + x[1], 0) / secs;
    case 'avg_over_time':
      return (s) => s.reduce((a, x) => a + x[1], 0) / s.length;
    case 'max_over_time':
      return (s) => Math.max(...s.map((x) => x[1]));
    case 'min_over_time':
      return (s) => Math.min(...s.map((x) => x[1]));
    case 'stdvar_over_time':
    case 'stddev_over_time':
      return (s) => {
        const mean = s.reduce((a, x) => a + x[1], 0) / s.length;
        const v = s.reduce((a, x) => a + (x[1] - mean) ** 2, 0) / s.length;
        return op === 'stddev_over_time' ? Math.sqrt(v) : v;
      };
    case 'quantile_over_time':
      return (s) => quantile(param, s.map((x) => x[1]));
    case 'first_over_time':
      return (s) => s[0][1];
    case 'last_over_time':
      return (s) => s[s.length - 1][1];
    case 'absent_over_time':
      return () => 1;
    default:
      throw new UnsupportedLogQL(`the range aggregation ${op}`);
  }
}

function convertUnwrapped(s, conv) {
  if (conv === 'BytesConv') return bytesValue(s);
  if (conv === 'DurationConv' || conv === 'DurationSecondsConv') {
    try {
      return durationMs(s) / 1000;
    } catch {
      return NaN;
    }
  }
  return /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(s) ? Number(s) : NaN;
}

function groupLabels(labels, grouping) {
  if (!grouping) return labels;
  const out = {};
  if (grouping.without) {
    for (const [k, v] of Object.entries(labels)) if (!grouping.labels.includes(k)) out[k] = v;
  } else {
    for (const k of grouping.labels) if (labels[k] !== undefined && labels[k] !== '') out[k] = labels[k];
  }
  return out;
}

// The series a range aggregation reads: samples grouped by their final labels, each [[ts, value]].
function rangeSeries(q, entries, cache, grouping) {
  const series = new Map();
  const errored = [];
  for (const e of selectEntries(entries, q.matchers)) {
    const r = runPipeline(q.stages, e, cache);
    if (!r) continue;
    let value = 1;
    if (q.op === 'bytes_over_time' || q.op === 'bytes_rate') value = Buffer.byteLength(r.line);
    if (q.unwrap) {
      const raw = r.labels.get(q.unwrap.label);
      if (raw === undefined || raw === '') continue; // Loki skips a line without the label
      value = convertUnwrapped(raw, q.unwrap.conv);
      if (Number.isNaN(value)) {
        value = 0;
        if (!r.labels.err) r.labels.err = 'SampleExtractionErr';
      }
      r.labels.map.delete(q.unwrap.label);
      let keep = true;
      for (const f of q.unwrap.post) keep = keep && f(r.labels);
      if (!keep) continue;
    }
    const all = r.labels.object();
    if (all.__error__) errored.push({ ts: e.ts, labels: all });
    const labels = groupLabels(all, grouping || q.grouping);
    const key = labelKey(labels);
    if (!series.has(key)) series.set(key, { labels, samples: [] });
    series.get(key).samples.push([e.ts, value]);
  }
  return { series: [...series.values()], errored };
}

function lowerBound(samples, t) {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid][0] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo; // first index with ts > t
}

// `grouping` (from an enclosing sum) groups the samples before the range function, which gives
// the same numbers for the additive functions and keeps per-line labels (request ids) from making
// one series per line. Errors are checked on the ungrouped samples, as Loki does.
function evalRange(q, ctx, grouping) {
  const { series, errored } = rangeSeries(q, ctx.entries, ctx.cache, grouping);
  if (errored.length) {
    const first = ctx.steps[0] - q.offsetMs - q.rangeMs;
    const last = ctx.steps[ctx.steps.length - 1] - q.offsetMs;
    const hit = errored.find((e) => e.ts > first && e.ts <= last);
    if (hit) throw new PipelineError(hit.labels);
  }
  const fn = q.op === 'rate_counter' ? null : rangeFunction(q.op, q.param, q.rangeMs);
  return ctx.steps.map((t) => {
    const end = t - q.offsetMs;
    const start = end - q.rangeMs;
    const vec = [];
    for (const s of series) {
      const a = lowerBound(s.samples, start);
      const b = lowerBound(s.samples, end);
      if (b <= a) continue;
      const win = s.samples.slice(a, b);
      const v = fn ? fn(win, !!q.unwrap) : extrapolatedRate(win, q.rangeMs, true, true, end);
      if (v === null || v === undefined) continue;
      vec.push({ labels: s.labels, value: v });
    }
    return vec;
  });
}

function aggregate(op, param, grouping, vec) {
  if (op === 'topk' || op === 'bottomk' || op === 'sort' || op === 'sort_desc') {
    const groups = new Map();
    for (const s of vec) {
      const key = labelKey(groupLabels(s.labels, grouping || { without: false, labels: [] }));
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(s);
    }
    const out = [];
    for (const g of groups.values()) {
      const sorted = [...g].sort((a, b) => (op === 'bottomk' || op === 'sort' ? a.value - b.value : b.value - a.value));
      out.push(...(op === 'topk' || op === 'bottomk' ? sorted.slice(0, param) : sorted));
    }
    return out;
  }
  const groups = new Map();
  for (const s of vec) {
    const labels = groupLabels(s.labels, grouping || { without: false, labels: [] });
    const key = labelKey(labels);
    if (!groups.has(key)) groups.set(key, { labels, values: [] });
    groups.get(key).values.push(s.value);
  }
  const out = [];
  for (const g of groups.values()) {
    const v = g.values;
    const sum = v.reduce((a, b) => a + b, 0);
    let value;
    switch (op) {
      case 'sum':
        value = sum;
        break;
      case 'avg':
        value = sum / v.length;
        break;
      case 'count':
        value = v.length;
        break;
      case 'max':
        value = Math.max(...v);
        break;
      case 'min':
        value = Math.min(...v);
        break;
      case 'stddev':
      case 'stdvar': {
        const mean = sum / v.length;
        const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
        value = op === 'stddev' ? Math.sqrt(variance) : variance;
        break;
      }
      default:
        throw new UnsupportedLogQL(`the aggregation ${op}`);
    }
    out.push({ labels: g.labels, value });
  }
  return out;
}

const ARITH = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Mod: (a, b) => a % b,
  Pow: (a, b) => a ** b,
};
const COMPARE = {
  Eql: (a, b) => a === b,
  Neq: (a, b) => a !== b,
  Gtr: (a, b) => a > b,
  Gte: (a, b) => a >= b,
  Lss: (a, b) => a < b,
  Lte: (a, b) => a <= b,
};

function matchKey(labels, matching) {
  if (!matching) return labelKey(labels);
  const out = {};
  for (const [k, v] of Object.entries(labels)) {
    if (matching.on ? matching.labels.includes(k) : !matching.labels.includes(k)) out[k] = v;
  }
  return labelKey(out);
}

function binary(node, l, r) {
  const { op } = node;
  const lScalar = !Array.isArray(l);
  const rScalar = !Array.isArray(r);
  if (lScalar && rScalar) {
    if (ARITH[op]) return ARITH[op](l, r);
    return COMPARE[op](l, r) ? 1 : 0;
  }
  if (lScalar || rScalar) {
    const vec = lScalar ? r : l;
    const k = lScalar ? l : r;
    const out = [];
    for (const s of vec) {
      const [a, b] = lScalar ? [k, s.value] : [s.value, k];
      if (ARITH[op]) out.push({ labels: s.labels, value: ARITH[op](a, b) });
      else if (COMPARE[op]) {
        const ok = COMPARE[op](a, b);
        if (node.bool) out.push({ labels: s.labels, value: ok ? 1 : 0 });
        else if (ok) out.push(s);
      } else throw new UnsupportedLogQL(`${op} between a vector and a scalar`);
    }
    return out;
  }
  if (op === 'And' || op === 'Or' || op === 'Unless') {
    const rKeys = new Set(r.map((s) => matchKey(s.labels, node.matching)));
    if (op === 'And') return l.filter((s) => rKeys.has(matchKey(s.labels, node.matching)));
    if (op === 'Unless') return l.filter((s) => !rKeys.has(matchKey(s.labels, node.matching)));
    const lKeys = new Set(l.map((s) => matchKey(s.labels, node.matching)));
    return [...l, ...r.filter((s) => !lKeys.has(matchKey(s.labels, node.matching)))];
  }
  const one = node.group === 'left' ? r : node.group === 'right' ? l : r;
  const many = node.group === 'right' ? r : l;
  const index = new Map();
  for (const s of one) index.set(matchKey(s.labels, node.matching), s);
  const out = [];
  for (const s of many) {
    const o = index.get(matchKey(s.labels, node.matching));
    if (!o) continue;
    const [a, b] = node.group === 'right' ? [o.value, s.value] : [s.value, o.value];
    // One-to-one: the left side's labels, reduced to on(...) or without ignoring(...); with
    // group_left/right the "many" side's labels.
    let labels = s.labels;
    if (!node.group && node.matching) {
      labels = Object.fromEntries(Object.entries(s.labels).filter(([k]) => node.matching.on === node.matching.labels.includes(k)));
    }
    if (ARITH[op]) out.push({ labels, value: ARITH[op](a, b) });
    else {
      const ok = COMPARE[op](a, b);
      if (node.bool) out.push({ labels, value: ok ? 1 : 0 });
      else if (ok) out.push({ labels: s.labels, value: s.value });
    }
  }
  return out;
}

function evalNode(q, ctx) {
  switch (q.kind) {
    case 'range':
      return evalRange(q, ctx);
    case 'aggregate': {
      const additive = ['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'sum_over_time'];
      if (q.op === 'sum' && q.inner.kind === 'range' && !q.inner.grouping && additive.includes(q.inner.op)) {
        const grouped = evalRange(q.inner, ctx, q.grouping || { without: false, labels: [] });
        return grouped.map((vec) => aggregate('sum', null, q.grouping, vec));
      }
      const inner = evalNode(q.inner, ctx);
      return inner.map((vec) => aggregate(q.op, q.param, q.grouping, vec));
    }
    case 'binary': {
      const l = evalNode(q.left, ctx);
      const r = evalNode(q.right, ctx);
      return ctx.steps.map((_, i) => binary(q, l[i], r[i]));
    }
    case 'scalar':
      return ctx.steps.map(() => q.value);
    case 'vector':
      return ctx.steps.map(() => [{ labels: {}, value: q.value }]);
    default:
      throw new UnsupportedLogQL(`a ${q.kind} query where a metric query was expected`);
  }
}

// Evaluates a metric query at start, start + step, ..., <= end (ms), as Loki's query_range does.
// Returns the matrix [{ labels, points: [[t, value]] }]; throws PipelineError as Loki would.
export function evalMetricRange(q, entries, { start, end, step, cache = new EntryCache() }) {
  const steps = [];
  for (let t = start; t <= end; t += step) steps.push(t);
  const results = evalNode(q, { entries, cache, steps });
  const out = new Map();
  results.forEach((vec, i) => {
    const list = Array.isArray(vec) ? vec : [{ labels: {}, value: vec }];
    for (const s of list) {
      const key = labelKey(s.labels);
      if (!out.has(key)) out.set(key, { labels: s.labels, points: [] });
      out.get(key).points.push([steps[i], s.value]);
    }
  });
  return [...out.values()];
}
