// query: one query of a dashboard or rule file, prepared for checking — its language decided by
// its datasource, Grafana's variables and macros substituted (keeping the map back to the user's
// text), parsed, and analysed. Checks receive a Query and report through `q.at(from, to)`, which
// turns offsets in the substituted text into a place in the file.
//
// API: prepareQuery({ ref, language, where, substituted, context }) -> Query
//   Query: { ref (TextRef of what the user wrote), text (substituted), sub (Substituted),
//            language ('promql' | 'logql'), where, context (the panel/target/rule it belongs to),
//            promql: analysis | null, logql: analysis | null, syntax: [{ from, to, message }],
//            otherLanguageParses: bool, at(from, to) -> where with a span }

import { analyzeLogQL } from './logql.mjs';
import { analyzePromQL } from './promql.mjs';
import { substitute } from './substitute.mjs';

export class Query {
  constructor({ ref, language, where, sub, context }) {
    this.ref = ref;
    this.language = language;
    this.where = where;
    this.sub = sub;
    this.text = sub.text;
    this.context = context || {};
    this.promql = null;
    this.logql = null;
    this.syntax = [];
    this.otherLanguageParses = false;
  }

  // A location for report.finding(): the target's where, plus the span of substituted [from, to)
  // in the user's text.
  at(from, to = from) {
    const raw = this.sub.rawSpan(from, to);
    return { ...this.where, at: { ref: this.ref, from: raw.from, to: raw.to } };
  }

  // A location for a span already in the user's text.
  atRaw(from, to = from) {
    return { ...this.where, at: { ref: this.ref, from, to } };
  }
}

// sub: a Substituted (from Dashboard.substitute) or null to use the text as is (rule files).
export function prepareQuery({ ref, language, where, sub, context, lookup }) {
  const q = new Query({ ref, language, where, sub: sub || substitute(ref.text, () => undefined), context });
  if (language === 'promql') {
    q.promql = analyzePromQL(q.text, { lookup });
    q.syntax = q.promql.syntax;
    if (q.syntax.length) q.otherLanguageParses = analyzeLogQL(q.text).syntax.length === 0;
  } else if (language === 'logql') {
    q.logql = analyzeLogQL(q.text);
    q.syntax = q.logql.syntax;
    if (q.syntax.length) q.otherLanguageParses = analyzePromQL(q.text, { lookup }).syntax.length === 0;
  }
  return q;
}
