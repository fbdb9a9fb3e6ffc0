// logql: the mistakes of LogQL queries that parse. A metric query that parses lines with
// `| json` (or logfmt) and does not drop parse failures with `| __error__=""` counts the lines
// that failed to parse under an extra `__error__` series — or, with `unwrap`, fails as a whole.
// Stream selectors may only use labels the log collector really sets (index labels are few);
// fields filtered after the parser must exist in the logs (when a log file is given); filtering
// on fields without any parser matches nothing.

import { didYouMean } from '../suggest.mjs';

const PARSERS_WITH_ERRORS = new Set(['json', 'logfmt', 'regexp', 'pattern', 'unpack']);

export function checkLogQL(q, ctx) {
  const a = q.logql;
  const parsers = a.parsers.filter((p) => PARSERS_WITH_ERRORS.has(p.name));
  if (a.isMetric && parsers.length && !a.errorFiltered) {
    const p = parsers[0];
    ctx.report.finding('logql-error-filter', q.at(p.from, p.to), `metric query parses lines with | ${p.name} but does not drop the ones that fail: add | __error__="" after the parser, or lines that are not ${p.name} are counted too (as an extra series with an __error__ label)`);
  }
  const streamNames = new Set(a.streamLabels.map((l) => l.name));
  if (ctx.lokiLabels) {
    for (const l of a.streamLabels) {
      if (!ctx.lokiLabels.has(l.name)) {
        ctx.report.finding('logql-stream-label', q.at(l.from, l.to), `stream selector uses label "${l.name}", which the log collector does not set (it sets: ${[...ctx.lokiLabels].sort().join(', ')}); filter on it after | json instead`);
      }
    }
  }
  const fields = a.fields.filter((f) => f.name !== '__error__' && f.name !== '__error_details__' && !streamNames.has(f.name) && !(ctx.lokiLabels && ctx.lokiLabels.has(f.name)));
  if (fields.length && !a.parsers.length) {
    const f = fields[0];
    ctx.report.finding('logql-no-parser', q.at(f.from, f.to), `filters on ${[...new Set(fields.map((x) => x.name))].join(', ')} without a parser, so nothing matches: add | json (or | logfmt) after the stream selector`);
    return;
  }
  if (fields.length) ctx.logFieldQueries = (ctx.logFieldQueries || 0) + 1;
  if (ctx.logFields) {
    const seen = new Set();
    for (const f of fields) {
      if (seen.has(f.name) || f.name.startsWith('__') || ctx.logFields.has(f.name)) continue;
      seen.add(f.name);
      const hint = didYouMean(f.name, [...ctx.logFields]) || ' (fields written only on errors need a log of a run with a fault: --log may be repeated)';
      ctx.report.finding('log-field', q.at(f.from, f.to), `field "${f.name}" is not in the log lines of ${ctx.logFiles.join(', ')}${hint}`);
    }
  }
}
