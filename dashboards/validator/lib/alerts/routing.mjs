// routing: what an Alertmanager configuration decides about an alert, read the way
// Alertmanager 0.25 reads it (dispatch/route.go, inhibit/inhibit.go, pkg/labels): the routing tree
// with inherited receiver, grouping and timings, `continue`, the matchers of every syntax
// (matchers, match, match_re), each route's key as it appears in a notification's groupKey, the
// inhibit rules, and which receivers post anything at all (a receiver without integrations is a
// black hole). Durations are milliseconds.

import { parse as parseYaml } from 'yaml';
import { parseDuration } from './duration.mjs';

// Alertmanager 0.25's send_resolved defaults per integration (config/notifiers.go).
const SEND_RESOLVED_DEFAULT = { email: false, slack: false, wechat: false };
const DEFAULTS = { groupWait: 30000, groupInterval: 300000, repeatInterval: 14400000 };
const MATCHER = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?:.|\n)*?)\s*$/;

function unquote(v) {
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
    return v.slice(1, -1).replace(/\\(["\\n])/g, (_, c) => (c === 'n' ? '\n' : c));
  }
  return v;
}

function makeMatcher(name, op, value) {
  const m = { name, op, value };
  if (op === '=~' || op === '!~') m.re = new RegExp(`^(?:${value})$`, 's');
  return m;
}

// One matcher in Alertmanager's syntax: name="value", name=~"re", unquoted values too.
export function parseMatcher(text) {
  const m = MATCHER.exec(text.replace(/^\{|\}$/g, ''));
  if (!m) throw new Error(`'${text}' is not a matcher (like severity="page" or alertname=~"Taskd.*")`);
  return makeMatcher(m[1], m[2], unquote(m[3]));
}

export function matcherMatches(m, labels) {
  const v = labels[m.name] ?? '';
  switch (m.op) {
    case '=': return v === m.value;
    case '!=': return v !== m.value;
    case '=~': return m.re.test(v);
    default: return !m.re.test(v);
  }
}

export const allMatch = (matchers, labels) => matchers.every((m) => matcherMatches(m, labels));

function matcherString(m) {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}

function sortMatchers(ms) {
  const opOrder = ['=', '!=', '=~', '!~'];
  return ms.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : opOrder.indexOf(a.op) - opOrder.indexOf(b.op)));
}

function readMatchers(cr) {
  const ms = [];
  for (const [k, v] of Object.entries(cr.match || {})) ms.push(makeMatcher(k, '=', String(v)));
  for (const [k, v] of Object.entries(cr.match_re || {})) ms.push(makeMatcher(k, '=~', String(v)));
  for (const t of cr.matchers || []) ms.push(parseMatcher(String(t)));
  return sortMatchers(ms);
}

function buildRoute(cr, parent, path) {
  const opts = parent ? { ...parent.opts } : { receiver: '', groupBy: [], groupByAll: false, ...DEFAULTS };
  if (cr.receiver) opts.receiver = cr.receiver;
  if (cr.group_by) {
    opts.groupByAll = cr.group_by.includes('...');
    opts.groupBy = cr.group_by.filter((l) => l !== '...');
  }
  if (cr.group_wait !== undefined) opts.groupWait = parseDuration(cr.group_wait, 'group_wait');
  if (cr.group_interval !== undefined) opts.groupInterval = parseDuration(cr.group_interval, 'group_interval');
  if (cr.repeat_interval !== undefined) opts.repeatInterval = parseDuration(cr.repeat_interval, 'repeat_interval');
  const matchers = readMatchers(cr);
  const key = `${parent ? `${parent.key}/` : ''}{${matchers.map(matcherString).join(',')}}`;
  const route = { opts, matchers, continue: !!cr.continue, key, path, routes: [] };
  route.routes = (cr.routes || []).map((c, i) => buildRoute(c, route, `${path}.routes[${i}]`));
  return route;
}

function matchRoute(route, labels) {
  if (!allMatch(route.matchers, labels)) return [];
  const all = [];
  for (const child of route.routes) {
    const found = matchRoute(child, labels);
    all.push(...found);
    if (found.length && !child.continue) break;
  }
  return all.length ? all : [route];
}

// The Alertmanager configuration in `text` (YAML). Throws a sentence on what it cannot read.
export function parseAlertmanagerConfig(text, file = 'alertmanager.yml') {
  let doc;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new Error(`${file} is not valid YAML: ${e.message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || !doc.route) throw new Error(`${file} has no route: it is not an Alertmanager configuration`);
  const root = buildRoute(doc.route, null, 'route');
  const receivers = new Map();
  for (const r of doc.receivers || []) {
    const integrations = [];
    for (const [k, list] of Object.entries(r)) {
      if (!k.endsWith('_configs') || !Array.isArray(list)) continue;
      for (const c of list) {
        integrations.push({
          kind: k.replace(/_configs$/, ''),
          url: c.url || null,
          sendResolved: c.send_resolved ?? SEND_RESOLVED_DEFAULT[k.replace(/_configs$/, '')] ?? true,
        });
      }
    }
    receivers.set(r.name, { name: r.name, integrations });
  }
  const inhibitRules = (doc.inhibit_rules || []).map((r, i) => ({
    index: i,
    source: sortMatchers([
      ...Object.entries(r.source_match || {}).map(([k, v]) => makeMatcher(k, '=', String(v))),
      ...Object.entries(r.source_match_re || {}).map(([k, v]) => makeMatcher(k, '=~', String(v))),
      ...(r.source_matchers || []).map((t) => parseMatcher(String(t))),
    ]),
    target: sortMatchers([
      ...Object.entries(r.target_match || {}).map(([k, v]) => makeMatcher(k, '=', String(v))),
      ...Object.entries(r.target_match_re || {}).map(([k, v]) => makeMatcher(k, '=~', String(v))),
      ...(r.target_matchers || []).map((t) => parseMatcher(String(t))),
    ]),
    equal: r.equal || [],
  }));
  return {
    file,
    root,
    receivers,
    inhibitRules,
    resolveTimeout: parseDuration(doc.global?.resolve_timeout ?? '5m', 'resolve_timeout'),
    // The routes an alert with these labels goes down (several with `continue`).
    routes(labels) {
      return matchRoute(root, labels);
    },
    // The labels a route groups this alert by, and the notification's groupKey.
    group(route, labels) {
      const groupLabels = {};
      const names = route.opts.groupByAll ? Object.keys(labels) : route.opts.groupBy;
      for (const n of names) if (labels[n] !== undefined && labels[n] !== '') groupLabels[n] = labels[n];
      const sorted = Object.keys(groupLabels).sort();
      const key = `${route.key}:{${sorted.map((k) => `${k}=${JSON.stringify(groupLabels[k])}`).join(', ')}}`;
      return { groupLabels, key };
    },
    // Whether a receiver sends anything (a receiver without integrations drops every alert).
    posts(receiver) {
      return (receivers.get(receiver)?.integrations.length || 0) > 0;
    },
  };
}
