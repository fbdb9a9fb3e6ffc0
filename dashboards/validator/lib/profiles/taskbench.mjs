// taskbench: the house rules of taskbench's own dashboards, as an opt-in profile
// (`validator check --profile taskbench`). They are conventions, not truths: someone else's
// dashboard is checked without them, and with them it is still checked in full.
//
// The profile also supplies the defaults for checking this repository: which files (dashboards/,
// the rule files, the Alertmanager config), the provisioning, the runbooks, the Alloy config
// whose labels Loki streams carry. The rules:
//   - dashboards: a fixed uid, unique uids and titles, schemaVersion >= 36, "id": null;
//   - variables: a prometheus datasource variable and job/instance variables when Prometheus is
//     queried; datasource variables default to a provisioned uid; query variables are
//     label_values();
//   - panels: a description, a unit (except logs/text panels), a runbook link whose anchor exists;
//   - PromQL: every selector filters by the job and instance variables, rate ranges are
//     $__rate_interval, never a fixed duration.

import { readFile } from 'node:fs/promises';
import path from 'node:path';

const UNITLESS_PANELS = new Set(['text', 'logs', 'row', 'news', 'dashlist', 'alertlist', 'annolist', 'state-timeline', 'table']);
const UNFILTERED_METRICS = new Set(['ALERTS', 'ALERTS_FOR_STATE']);

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
      let slug = h[1].toLowerCase().replace(/<[^>]*>/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
      const n = seen.get(slug) || 0;
      seen.set(slug, n + 1);
      if (n) slug = `${slug}-${n}`;
      anchors.add(slug);
    }
    for (const a of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(a[1]);
  }
  return anchors;
}

function runbookLinks(panel) {
  const out = [];
  for (const l of panel.links) {
    const m = /docs\/runbooks\.md(?:#([^?#]*))?$/.exec(l.url || '');
    if (m) out.push({ url: l.url, anchor: m[1] || '' });
  }
  return out;
}

export const taskbenchProfile = {
  name: 'taskbench',

  // Defaults, relative to the repository root.
  defaults(root) {
    return {
      files: [path.join(root, 'dashboards'), path.join(root, 'stack/prometheus/rules'), path.join(root, 'stack/alertmanager/alertmanager.yml')],
      provisioning: path.join(root, 'stack/grafana/provisioning'),
      runbooks: path.join(root, 'docs/runbooks.md'),
      alloy: path.join(root, 'stack/alloy/config.alloy'),
      baseline: path.join(root, 'dashboards/validator/baseline.json'),
      rules: path.join(root, 'stack/prometheus/rules'),
    };
  },

  async prepare(ctx) {
    this.anchors = ctx.options.runbooks ? await markdownAnchors(ctx.options.runbooks) : null;
    this.uids = new Map();
    this.titles = new Map();
    // loadgen's metrics are checked against a scrape that has them, or listed as not checked.
    const hasLoadgen = ctx.options.loadgenScrape?.length || ctx.catalog.names().some((n) => n.startsWith('loadgen_'));
    if (!hasLoadgen) ctx.catalog.uncovered = (name) => name.startsWith('loadgen_');
  },

  checkDashboard(dash, ctx) {
    const f = (m) => ctx.report.finding('house-dashboard', dash.where, m);
    if (typeof dash.uid !== 'string' || !/^[a-zA-Z0-9_-]{1,40}$/.test(dash.uid)) f('needs a fixed uid (1–40 letters, digits, - or _) so links and provisioning stay stable');
    else if (this.uids.has(dash.uid)) f(`uid "${dash.uid}" is also used by ${this.uids.get(dash.uid)}`);
    else this.uids.set(dash.uid, dash.file);
    if (!dash.title) f('has no title');
    else if (this.titles.has(dash.title)) f(`title "${dash.title}" is also used by ${this.titles.get(dash.title)}`);
    else this.titles.set(dash.title, dash.file);
    if (!(Number(dash.schemaVersion) >= 36)) f(`schemaVersion ${dash.schemaVersion} is older than 36 (Grafana 9.3)`);
    if (dash.json.id !== null && dash.json.id !== undefined) f(`has "id": ${dash.json.id}; provisioned dashboards need "id": null`);
    this.checkVariables(dash, ctx);
  },

  checkVariables(dash, ctx) {
    const vars = [...dash.variables];
    const hasProm = dash.panels.some((p) => p.datasource?.type === 'prometheus' || p.targets.some((t) => t.datasource?.type === 'prometheus'));
    const where = { ...dash.where, item: 'variables' };
    if (hasProm) {
      if (!vars.some((v) => v.type === 'datasource' && v.query === 'prometheus')) ctx.report.finding('house-variables', where, 'no datasource variable of type prometheus (name it "datasource")');
      for (const name of ['job', 'instance']) if (!dash.variables.has(name)) ctx.report.finding('house-variables', where, `no "${name}" variable`);
    }
    for (const v of vars) {
      if (v.type === 'datasource') {
        const uid = Array.isArray(v.raw.current?.value) ? v.raw.current.value[0] : v.raw.current?.value;
        const ds = ctx.directory.provisioned.find((d) => d.uid === uid);
        if (!ds) ctx.report.finding('house-variables', v.where, `defaults to datasource uid "${uid}", which is not provisioned`);
        else if (ds.type !== v.query) ctx.report.finding('house-variables', v.where, `selects ${v.query} but defaults to "${uid}", a ${ds.type} datasource`);
      }
      if (v.type === 'query' && !/^\s*label_values\(/.test(v.query)) ctx.report.finding('house-variables', v.where, `query "${v.query}" is not label_values(selector, label)`);
    }
  },

  checkPanel(panel, ctx) {
    if (panel.missingLibrary) return;
    if (typeof panel.description !== 'string' || panel.description.trim().length < 10) {
      ctx.report.finding('house-panel', panel.where, 'has no description: say what the panel shows and how to read it');
    }
    if (!UNITLESS_PANELS.has(panel.type) && (panel.unit === null || panel.unit === '')) {
      ctx.report.finding('house-panel', panel.where, 'has no unit: set fieldConfig.defaults.unit (reqps, percentunit, s, bytes, short, none …)');
    }
    const links = runbookLinks(panel);
    if (links.length === 0) ctx.report.finding('house-panel', panel.where, 'has no runbook link: add a panel link to docs/runbooks.md#<alert>');
    if (this.anchors) {
      for (const l of links) {
        if (l.anchor && !this.anchors.has(l.anchor)) {
          const close = [...this.anchors].find((a) => a.startsWith(l.anchor.slice(0, Math.max(4, l.anchor.length - 3))));
          ctx.report.finding('house-panel', panel.where, `links to runbooks.md#${l.anchor}, but docs/runbooks.md has no such heading${close ? ` (did you mean ${close}?)` : ''}`);
        }
      }
    }
  },

  checkQuery(q, ctx) {
    if (q.language !== 'promql' || !q.promql.root || q.context.kind !== 'panel') return;
    const dash = q.context.dashboard;
    for (const sel of q.promql.selectors) {
      if (!sel.name || UNFILTERED_METRICS.has(sel.name)) continue;
      const filters = (label) => sel.matchers.some((m) => m.label === label && q.sub.referencesIn(m.valueFrom, m.valueTo).some((r) => r.name === label || (label === 'job' && /job$/.test(r.name))));
      if (!filters('job')) ctx.report.finding('house-filter', q.at(sel.from, sel.to), `selector ${q.sub.raw.slice(q.sub.rawSpan(sel.from, sel.to).from, q.sub.rawSpan(sel.from, sel.to).to)} does not filter by the dashboard's job variable: add job=~"$job"`);
      if (!sel.name.startsWith('loadgen_') && dash.variables.has('instance') && !filters('instance')) {
        ctx.report.finding('house-filter', q.at(sel.from, sel.to), `selector ${q.sub.raw.slice(q.sub.rawSpan(sel.from, sel.to).from, q.sub.rawSpan(sel.from, sel.to).to)} does not filter by the dashboard's instance variable: add instance=~"$instance"`);
      }
    }
    for (const r of q.promql.ranges) {
      const refs = q.sub.referencesIn(r.from, r.to);
      if (refs.length === 0) ctx.report.finding('house-rate-interval', q.at(r.from, r.to), `${r.fn}(…[${r.text}]) uses a fixed range: use [$__rate_interval] so the window follows the scrape interval and the zoom`);
    }
  },
};
