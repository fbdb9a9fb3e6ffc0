// variables: the values of a dashboard's template variables, found the way Grafana finds them
// when the dashboard loads, and formatted the way Grafana puts them into a query.
//
// Where a value comes from, first that applies:
//   1. --var NAME=VALUE: VALUE is put into queries exactly as given (a regex such as a|b or .*
//      for a multi-value variable; All for the variable's All value);
//   2. a query variable whose datasource is a Prometheus given with --prometheus: its
//      label_values()/query_result()/metrics()/label_names() query runs there (chained variables in
//      dependency order, the variable's regex applied); the saved `current` value is kept when it
//      is still among the results (Grafana does the same), otherwise the first result;
//   3. the saved `current` value (the exporter's selection), or a custom/interval/textbox
//      variable's own options;
//   4. nothing known: "All" (allValue, or .*) for a variable that allows it, else .* .
// Each variable records `source` (flag, prometheus, current, options, default) so reports can say
// what a checked query really was.

import { labelValuesQuery } from './prometheus.mjs';
import { referencedNames } from './substitute.mjs';

const ALL = '$__all';

// Grafana's Prometheus and Loki datasources escape a value for a regex matcher inside a PromQL or
// LogQL string literal, so each regex backslash is written twice (prometheusSpecialRegexEscape).
function regexEscape(s) {
  return String(s).replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
}

// Grafana's multi-value formats (${var:format}); the default for Prometheus and Loki is "regex"
// for a multi-value or All variable and the raw value otherwise.
function formatValues(values, format, isMulti) {
  switch (format) {
    case 'raw':
    case 'text':
      return values.join(',');
    case 'csv':
      return values.join(',');
    case 'pipe':
      return values.join('|');
    case 'json':
      return JSON.stringify(values.length === 1 ? values[0] : values);
    case 'doublequote':
      return values.map((v) => `"${v}"`).join(',');
    case 'singlequote':
      return values.map((v) => `'${v}'`).join(',');
    case 'glob':
      return values.length > 1 ? `{${values.join(',')}}` : values[0];
    case 'queryparam':
    case 'percentencode':
      return values.map(encodeURIComponent).join(',');
    case 'regex':
    default:
      if (!isMulti && values.length === 1) return format === 'regex' ? regexEscape(values[0]) : values[0];
      return values.length === 1 ? regexEscape(values[0]) : `(${values.map(regexEscape).join('|')})`;
  }
}

// Grafana's variable regex: a capture group (or named groups text/value) picks the value.
function applyRegex(values, regex) {
  if (!regex) return values;
  const m = /^\/(.*)\/([gimsuy]*)$/s.exec(regex);
  let re;
  try {
    re = m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(regex);
  } catch {
    return values;
  }
  const out = [];
  for (const v of values) {
    const r = re.exec(v);
    if (!r) continue;
    const picked = r.groups?.value ?? r.groups?.text ?? (r.length > 1 ? r[1] : v);
    if (picked !== undefined && !out.includes(picked)) out.push(picked);
  }
  return out;
}

function currentValues(v) {
  const cur = v.raw.current?.value;
  if (cur === undefined || cur === null) return null;
  const list = Array.isArray(cur) ? cur : [cur];
  return list.map(String);
}

function optionValues(v) {
  if (Array.isArray(v.options) && v.options.length) return v.options.map((o) => String(o.value)).filter((x) => x !== ALL);
  if (v.type === 'custom' || v.type === 'interval') {
    return String(v.query || '').split(/(?<!\\),/).map((s) => s.trim().replace(/\\,/g, ',')).filter((s) => s !== '');
  }
  return [];
}

export class Variable {
  constructor(raw, node) {
    this.raw = raw;
    this.node = node; // { source, offset } of its JSON
    this.name = raw.name;
    this.type = raw.type;
    this.multi = !!raw.multi;
    this.includeAll = !!raw.includeAll;
    this.allValue = raw.allValue || null;
    this.query = typeof raw.query === 'string' ? raw.query : raw.query?.query ?? '';
    this.values = null; // resolved: array of strings, or [ALL]
    this.options = []; // known options (for All)
    this.source = null;
    this.datasource = null; // set by the model for query and datasource variables
  }

  // The text that replaces ${name:format} in a query.
  format(format) {
    if (this.type === 'datasource') return (this.values || [this.query])[0] ?? '';
    if (this.verbatim) return this.values[0];
    const vals = this.values || [];
    if (vals.length === 1 && vals[0] === ALL) {
      if (this.allValue) return this.allValue;
      if (this.options.length) return formatValues(this.options, format, true);
      return '.*';
    }
    if (vals.length === 0) return '.*';
    return formatValues(vals, format, this.multi || this.includeAll || vals.length > 1);
  }
}

export class VariableSet {
  constructor(list = [], nodes = []) {
    this.byName = new Map();
    list.forEach((raw, i) => {
      if (raw && typeof raw.name === 'string') this.byName.set(raw.name, new Variable(raw, nodes[i]));
    });
  }

  get(name) {
    return this.byName.get(name);
  }

  has(name) {
    return this.byName.has(name);
  }

  [Symbol.iterator]() {
    return this.byName.values();
  }

  // Variables in an order where each comes after those its query refers to.
  ordered() {
    const out = [];
    const seen = new Set();
    const visit = (v, stack) => {
      if (seen.has(v.name) || stack.has(v.name)) return;
      stack.add(v.name);
      for (const n of referencedNames(v.query)) if (this.byName.has(n)) visit(this.byName.get(n), stack);
      stack.delete(v.name);
      seen.add(v.name);
      out.push(v);
    };
    for (const v of this.byName.values()) visit(v, new Set());
    return out;
  }

  // Resolves every value. opts: { overrides: {name: value}, prometheus: url|null,
  // substituteIn(text): the query with earlier variables in it, range: {start, end} (unix s),
  // onProblem(variable, message) for queries that fail }.
  async resolve(opts = {}) {
    for (const v of this.ordered()) await this.resolveOne(v, opts);
  }

  async resolveOne(v, { overrides = {}, prometheus = null, substituteIn = (t) => t, range = null, onProblem = () => {} }) {
    v.options = optionValues(v);
    if (Object.prototype.hasOwnProperty.call(overrides, v.name)) {
      const given = String(overrides[v.name]);
      v.values = given === 'All' || given === ALL ? [ALL] : [given];
      v.verbatim = v.values[0] !== ALL; // the user's own text: it goes into queries as given
      v.source = 'flag';
      return;
    }
    if (v.type === 'query' && prometheus && v.datasource?.type === 'prometheus') {
      try {
        const found = applyRegex(await labelValuesQuery(prometheus, substituteIn(v.query), range), v.raw.regex);
        v.options = found;
        const cur = currentValues(v);
        if (cur && (cur.includes(ALL) ? v.includeAll : cur.every((c) => found.includes(c)))) v.values = cur;
        else if (found.length) v.values = v.includeAll && v.raw.current?.value === undefined ? [ALL] : [found[0]];
        else v.values = v.includeAll ? [ALL] : [];
        v.source = 'prometheus';
        if (!found.length) onProblem(v, `query ${v.query} returns nothing from ${prometheus}`);
        return;
      } catch (e) {
        onProblem(v, `query ${v.query} failed against ${prometheus}: ${e.message}`);
      }
    }
    const cur = currentValues(v);
    if (v.type === 'textbox' || v.type === 'constant') {
      v.values = [cur?.[0] ?? v.query ?? ''];
      v.source = cur ? 'current' : 'default';
      return;
    }
    if (cur && cur.length && !(cur.length === 1 && cur[0] === '' && v.type !== 'datasource')) {
      v.values = cur;
      v.source = 'current';
      return;
    }
    if (v.options.length) {
      v.values = [v.options[0]];
      v.source = 'options';
      return;
    }
    v.values = v.includeAll ? [ALL] : v.type === 'datasource' ? [v.query] : [];
    v.source = 'default';
  }
}

export { ALL as ALL_VALUE };
