// grafana: the Grafana side of a dashboard — panels, targets, template variables, macros, units,
// datasources and links — and the static rules every taskbench dashboard must meet.
//
// Queries are collected here with Grafana's macros and the dashboard's variables replaced by
// concrete values (a query with `$__rate_interval` in it is not PromQL yet), then handed to the
// PromQL/LogQL checks. Variables become recognisable placeholders ("tbvar_job") in static mode so
// the checks can tell that a selector really filters by the dashboard's job and instance.

import { readFile } from 'node:fs/promises';

// Concrete values for Grafana's built-in macros: any valid duration parses; these are Grafana's
// own results for a 15 s scrape interval over a one-hour range.
export const MACRO_VALUES = {
  __rate_interval: '1m',
  __rate_interval_ms: '60000',
  __interval: '15s',
  __interval_ms: '15000',
  __range: '1h',
  __range_s: '3600',
  __range_ms: '3600000',
  __auto: '1m',
  __from: '1700000000000',
  __to: '1700003600000',
  __dashboard: 'dashboard',
  __org: '1',
  __user: 'viewer',
};

// Grafana unit ids (valueFormats) a panel may use; custom "suffix:…"-style units also pass.
export const UNITS = new Set(
  `none string short sishort percent percentunit humidity dB hex0x hex sci locale pixel
   bytes decbytes bits decbits kbytes deckbytes mbytes decmbytes gbytes decgbytes tbytes dectbytes pbytes decpbytes
   pps binBps Bps binbps bps KiBs Kibits KBs Kbits MiBs Mibits MBs Mbits GiBs Gibits GBs Gbits
   cps ops reqps rps wps iops eps mps opm rpm wpm epm mpm cpm
   hertz ns µs ms s m h d dtdurationms dtdurations dthms dtdhms timeticks clockms clocks
   dateTimeAsIso dateTimeAsIsoNoDateIfToday dateTimeAsUS dateTimeAsUSNoDateIfToday dateTimeAsLocal
   dateTimeAsLocalNoDateIfToday dateTimeAsSystem dateTimeFromNow bool bool_yes_no bool_on_off`.split(/\s+/),
);
const CUSTOM_UNIT = /^(suffix|prefix|si|count|currency|time):/;
// Panels that show text or raw log lines: no unit applies.
const UNITLESS_PANELS = new Set(['text', 'logs', 'row', 'news', 'dashlist', 'alertlist', 'annolist']);
// Grafana's built-in annotation source ("Annotations & Alerts").
const BUILTIN_DATASOURCE_UIDS = new Set(['-- Grafana --', 'grafana']);

export class Findings {
  constructor() {
    this.errors = [];
    this.notes = [];
  }

  error(where, message) {
    this.errors.push(`${where}: ${message}`);
  }

  note(where, message) {
    this.notes.push(`${where}: ${message}`);
  }
}

export function panelWhere(file, panel, refId) {
  let w = `${file} panel "${panel.title || `#${panel.id}`}"`;
  if (refId !== undefined) w += ` target ${refId}`;
  return w;
}

// Every panel of a dashboard, rows' collapsed children included.
export function allPanels(dashboard) {
  const out = [];
  for (const p of dashboard.panels || []) {
    out.push(p);
    for (const c of p.panels || []) out.push(c);
  }
  return out;
}

// The dashboard's variables by name.
export function variables(dashboard) {
  const vars = new Map();
  for (const v of dashboard.templating?.list || []) vars.set(v.name, v);
  return vars;
}

// Replaces macros and variables. `values(name)` gives a variable's value, or undefined when the
// dashboard has no such variable. Returns { text, unknown: [names] }.
export function substitute(raw, values) {
  const unknown = [];
  const lookup = (name) => {
    if (Object.prototype.hasOwnProperty.call(MACRO_VALUES, name)) return MACRO_VALUES[name];
    const v = values(name);
    if (v === undefined) unknown.push(name);
    return v === undefined ? '' : v;
  };
  const text = raw
    .replace(/\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-zA-Z]+)?\}/g, (_, n) => lookup(n))
    .replace(/\[\[([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-zA-Z]+)?\]\]/g, (_, n) => lookup(n))
    .replace(/\$([a-zA-Z_][a-zA-Z0-9_]*)/g, (_, n) => lookup(n));
  return { text, unknown };
}

// A variable's value for substitution. Static mode uses a placeholder that names the variable;
// `overrides` (truth mode, --var name=value) wins; otherwise the "All" value or the current one.
export function variableValue(v, { placeholders, overrides }) {
  if (overrides && Object.prototype.hasOwnProperty.call(overrides, v.name)) return overrides[v.name];
  if (v.type === 'datasource') return v.current?.value || v.query;
  if (v.type === 'interval') return '1m';
  if (placeholders) return `tbvar_${v.name}`;
  const cur = v.current?.value;
  if (v.includeAll && (cur === '$__all' || (Array.isArray(cur) && cur.includes('$__all')) || cur === undefined)) {
    return v.allValue || '.*';
  }
  if (Array.isArray(cur)) return cur.length > 1 ? `(${cur.join('|')})` : String(cur[0] ?? '.*');
  return cur === undefined || cur === '' ? '.*' : String(cur);
}

// Datasource references in a dashboard resolve to { type, uid } of a provisioned datasource,
// or to an error sentence.
export function resolveDatasource(ref, vars, provisioned) {
  if (!ref) return { error: 'has no datasource; set {"type": ..., "uid": "${datasource}"}' };
  if (typeof ref === 'string') {
    return { error: `names its datasource by the string "${ref}"; use {"type": ..., "uid": ...} with a provisioned uid or a datasource variable` };
  }
  if (BUILTIN_DATASOURCE_UIDS.has(ref.uid) && ref.type === 'grafana') return { type: 'grafana', uid: ref.uid };
  const m = /^\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?$/.exec(ref.uid || '');
  if (m) {
    const v = vars.get(m[1]);
    if (!v) return { error: `uses datasource variable $${m[1]}, which the dashboard does not define` };
    if (v.type !== 'datasource') return { error: `uses $${m[1]} as a datasource, but it is a ${v.type} variable` };
    if (ref.type && ref.type !== v.query) {
      return { error: `says type "${ref.type}" but $${m[1]} selects ${v.query} datasources` };
    }
    // Whether the variable's default is a provisioned datasource is checked once, at the variable.
    return { type: v.query, uid: ref.uid };
  }
  const ds = provisioned.find((d) => d.uid === ref.uid);
  if (!ds) {
    return { error: `uses datasource uid "${ref.uid}", which is not provisioned (provisioned: ${provisioned.map((d) => d.uid).join(', ')})` };
  }
  if (ref.type && ref.type !== ds.type) return { error: `says type "${ref.type}" for "${ref.uid}", which is a ${ds.type} datasource` };
  return { type: ds.type, uid: ds.uid };
}

export function unitProblem(panel) {
  if (UNITLESS_PANELS.has(panel.type)) return null;
  const unit = panel.fieldConfig?.defaults?.unit;
  if (unit === undefined || unit === '') {
    return 'has no unit: set fieldConfig.defaults.unit (reqps, percentunit, s, bytes, short, none …)';
  }
  if (!UNITS.has(unit) && !CUSTOM_UNIT.test(unit)) return `has unit "${unit}", which Grafana does not know (did you mean one of reqps, s, ms, bytes, percentunit, short?)`;
  return null;
}

// GitHub's heading anchors for a Markdown file, plus explicit <a id|name="..."> anchors.
export async function markdownAnchors(file) {
  const text = await readFile(file, 'utf8');
  const anchors = new Set();
  const seen = new Map();
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      let slug = h[1]
        .toLowerCase()
        .replace(/<[^>]*>/g, '')
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-');
      const n = seen.get(slug) || 0;
      seen.set(slug, n + 1);
      if (n) slug = `${slug}-${n}`;
      anchors.add(slug);
    }
    for (const a of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(a[1]);
  }
  return anchors;
}

// The runbook links of a panel: [{ url, anchor }] for links into docs/runbooks.md.
export function runbookLinks(panel) {
  const out = [];
  for (const l of panel.links || []) {
    const m = /docs\/runbooks\.md(?:#([^?#]*))?$/.exec(l.url || '');
    if (m) out.push({ url: l.url, anchor: m[1] || '' });
  }
  return out;
}
