// html: the truth report as one self-contained page — for every panel, its series as Grafana
// would draw them (uPlot, the library Grafana draws time series with, inlined from the pinned npm
// package), the truth over them as a band from its low to its high bound, the fault windows of
// the run shaded, the points that disagree marked, and the verdict with its numbers. It opens
// offline: no request leaves the page. tests/stack/test_truth.sh renders it in headless Chromium.
//
// writeTruthHtml(file, { record, model, dashboards, summary, notes, standins })

import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { formatBand } from './compare.mjs';

const require = createRequire(import.meta.url);

async function uplotAssets() {
  const js = await readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const css = await readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  return { js, css };
}

const keyOf = (labels) => {
  const e = Object.entries(labels || {}).filter(([k]) => k !== '__name__').sort();
  return e.length ? `{${e.map(([k, v]) => `${k}="${v}"`).join(', ')}}` : '';
};

// One chart's data: x (unix s), the panel's series, and for each truth series its low and high.
function chartOf(t) {
  if (!t.series) return null;
  const xs = new Set();
  for (const s of t.series.panel) for (const [x] of s.points) xs.add(x);
  for (const s of t.series.truth) for (const [x] of s.points) xs.add(x);
  const x = [...xs].sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const col = () => x.map(() => null);
  const factor = t.factor ?? 1;
  const series = [];
  for (const s of t.series.panel.slice(0, 12)) {
    const y = col();
    for (const [tx, v] of s.points) y[index.get(tx)] = Number.isFinite(v) ? v * factor : null;
    series.push({ kind: 'panel', label: `panel ${keyOf(s.labels)}`.trim(), y });
  }
  for (const s of t.series.truth.slice(0, 12)) {
    const lo = col();
    const hi = col();
    for (const [tx, b] of s.points) {
      if (Number.isFinite(b.lo)) lo[index.get(tx)] = b.lo;
      if (Number.isFinite(b.hi)) hi[index.get(tx)] = b.hi;
    }
    series.push({ kind: 'truth', label: `truth ${keyOf(s.labels)}`.trim(), lo, hi });
  }
  const bad = (t.failures || []).filter((f) => f.t !== undefined).map((f) => f.t / 1000);
  return { x: x.map((v) => v / 1000), series, bad, more: Math.max(0, t.series.panel.length - 12) + Math.max(0, t.series.truth.length - 12) };
}

function pageData({ record, model, dashboards, summary, notes, standins }) {
  const faults = (model?.faults || []).map((f) => ({ scenario: f.scenario, from: f.injected / 1000, to: (f.rolledBack ?? f.ended ?? f.injected) / 1000 }));
  return {
    summary,
    record: record.file,
    description: record.description,
    window: { from: record.window.from / 1000, to: record.window.to / 1000 },
    faults,
    notes,
    standins,
    dashboards: dashboards.map((d) => ({
      file: d.file,
      title: d.title,
      claims: d.claims,
      panels: d.panels.map((p) => ({
        title: p.title,
        type: p.type,
        verdict: p.verdict,
        reason: p.reason,
        targets: p.targets.map((t) => ({
          refId: t.refId,
          verdict: t.verdict,
          reason: t.reason,
          means: t.means || null,
          query: t.query || null,
          claim: t.derived ? null : t.claimQuery || t.claim || null,
          unit: t.claimUnit || t.unit || '',
          step: t.step || null,
          rateInterval: t.rateInterval || null,
          windows: t.windows,
          failedWindows: t.failedWindows || 0,
          failures: (t.failures || []).map((f) => f.text),
          wholeRun: t.wholeRun ? { ok: t.wholeRun.ok, span: t.wholeRun.span, truth: t.wholeRun.truth.map((x) => `${keyOf(x.labels)} ${formatBand(x.band)}`.trim()), panel: t.wholeRun.panel.map((x) => `${keyOf(x.labels)} ${x.value}`.trim()) } : null,
          lines: t.lines || null,
          chart: chartOf(t),
        })),
      })),
    })),
  };
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f4f5f7}
header{background:#1d2330;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:20px}
header p{margin:2px 0;color:#c9d1e1}main{padding:12px 24px 40px}
h2{font-size:17px;margin:26px 0 8px}.panel{background:#fff;border:1px solid #d9dde5;border-radius:6px;margin:10px 0;padding:10px 14px}
.panel h3{margin:0;font-size:15px;display:flex;gap:10px;align-items:center}.v{font-size:12px;padding:1px 8px;border-radius:10px;color:#fff}
.v.ok{background:#2e7d32}.v.FAIL{background:#c62828}.v.nc{background:#7b8191}.t{margin:8px 0 0;padding-top:6px;border-top:1px dashed #e3e6ec}
.means{color:#3c4456}.q{font:12px/1.4 ui-monospace,monospace;background:#f6f7f9;padding:4px 6px;border-radius:4px;white-space:pre-wrap;word-break:break-all;margin:3px 0}
.f{color:#b71c1c;font-size:13px}.dim{color:#6b7282;font-size:12px}.chart{margin-top:6px}.legendnote{font-size:12px;color:#6b7282}
.err{background:#fdecea;border:1px solid #e57373;padding:8px;border-radius:4px}
.toc a{margin-right:12px}`;

// The page's own script: draws every chart from the data block, shading fault windows, marking
// failing points; sets body[data-rendered] to "ok" (or "error") when done.
const SCRIPT = `
(function(){
const data = JSON.parse(document.getElementById('truth-data').textContent);
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
const fmtT = (s) => new Date(s * 1000).toISOString().slice(11, 19);
const main = document.querySelector('main');
const palette = ['#1f77b4','#ff7f0e','#2ca02c','#9467bd','#8c564b','#e377c2','#17becf','#bcbd22','#7f7f7f','#d62728'];
let charts = 0;
function faultsPlugin() {
  return { hooks: { drawClear: [(u) => {
    const ctx = u.ctx; ctx.save();
    for (const f of data.faults) {
      const a = u.valToPos(f.from, 'x', true), b = u.valToPos(f.to, 'x', true);
      const l = Math.max(a, u.bbox.left), r = Math.min(b, u.bbox.left + u.bbox.width);
      if (r <= l) continue;
      ctx.fillStyle = 'rgba(198,40,40,0.10)'; ctx.fillRect(l, u.bbox.top, r - l, u.bbox.height);
      ctx.fillStyle = 'rgba(150,20,20,0.8)'; ctx.font = (11 * devicePixelRatio) + 'px sans-serif'; ctx.fillText(f.scenario, l + 3, u.bbox.top + 12 * devicePixelRatio);
    }
    ctx.restore();
  }]}};
}
function badPlugin(bad) {
  return { hooks: { draw: [(u) => {
    const ctx = u.ctx; ctx.save(); ctx.strokeStyle = '#c62828'; ctx.lineWidth = 2 * devicePixelRatio;
    for (const t of bad) { const x = u.valToPos(t, 'x', true); if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + 6 * devicePixelRatio); ctx.stroke(); }
    ctx.restore();
  }]}};
}
function draw(box, c, unit) {
  const cols = [c.x]; const series = [{}]; const bands = [];
  c.series.forEach((s, i) => {
    const color = palette[i % palette.length];
    if (s.kind === 'panel') { cols.push(s.y); series.push({ label: s.label, stroke: color, width: 1.5, spanGaps: false, points: { show: c.x.length < 80 } }); }
    else {
      cols.push(s.hi); series.push({ label: s.label + ' (high)', stroke: 'rgba(46,125,50,0.55)', width: 1, dash: [4, 3], points: { show: false } });
      cols.push(s.lo); series.push({ label: s.label + ' (low)', stroke: 'rgba(46,125,50,0.55)', width: 1, dash: [4, 3], points: { show: false } });
      bands.push({ series: [cols.length - 2, cols.length - 1], fill: 'rgba(46,125,50,0.14)' });
    }
  });
  const few = c.series.length <= 3;
  const opts = { width: Math.min(1100, box.clientWidth || 900), height: 220, series, bands,
    scales: { x: { time: true } }, axes: [{}, { label: unit || '', size: 70 }],
    legend: { show: few, live: false }, plugins: [faultsPlugin(), badPlugin(c.bad)] };
  new uPlot(opts, cols, box); charts++;
  if (!few) box.appendChild(el('div', 'legendnote', c.series.map((s) => s.label).join(' · ')));
}
try {
  const h = document.querySelector('header');
  h.appendChild(el('h1', null, 'Truth report: ' + data.summary));
  h.appendChild(el('p', null, 'run ' + data.record + (data.description ? ' — ' + data.description : '')));
  h.appendChild(el('p', null, 'window ' + new Date(data.window.from * 1000).toISOString() + ' .. ' + new Date(data.window.to * 1000).toISOString() + '; faults: ' + (data.faults.map((f) => f.scenario + ' ' + fmtT(f.from) + '–' + fmtT(f.to)).join(', ') || 'none')));
  const toc = el('p', 'toc'); h.appendChild(toc);
  for (const [k, v] of Object.entries(data.standins || {})) { const p = el('p', 'legendnote'); p.textContent = 'stand-in for ' + k + ': ' + v; main.appendChild(p); }
  main.appendChild(el('p', 'legendnote', 'Each chart: the panel\\'s series as Grafana draws them (solid), the truth as a green band from its low to its high bound (dashed edges), fault windows shaded red, red ticks where the panel and the truth disagree.'));
  data.dashboards.forEach((d, di) => {
    const h2 = el('h2', null, d.title + ' — ' + d.file); h2.id = 'd' + di; main.appendChild(h2);
    const a = el('a', null, d.title); a.href = '#d' + di; toc.appendChild(a);
    main.appendChild(el('div', 'dim', d.claims ? 'claims: ' + d.claims : 'no claims: each query is held to itself'));
    for (const p of d.panels) {
      const box = el('div', 'panel'); box.dataset.verdict = p.verdict;
      const h3 = el('h3'); h3.appendChild(el('span', null, p.title)); h3.appendChild(el('span', 'v ' + (p.verdict === 'not checked' ? 'nc' : p.verdict), p.verdict)); h3.appendChild(el('span', 'dim', p.type));
      box.appendChild(h3);
      if (p.reason) box.appendChild(el('div', 'dim', p.reason));
      for (const t of p.targets) {
        const tb = el('div', 't');
        tb.appendChild(el('div', null, t.refId + ': ' + t.verdict + (t.means ? ' — ' + t.means : '')));
        if (t.query) tb.appendChild(el('div', 'q', 'sent: ' + t.query));
        if (t.claim && t.claim !== t.query) tb.appendChild(el('div', 'q', 'claim: ' + t.claim));
        if (t.step) tb.appendChild(el('div', 'dim', 'step ' + t.step / 1000 + ' s' + (t.rateInterval ? ', $__rate_interval ' + t.rateInterval / 1000 + ' s' : '') + (t.windows ? ', ' + t.windows + ' points compared' : '')));
        if (t.reason && t.verdict !== 'ok') tb.appendChild(el('div', t.verdict === 'FAIL' ? 'f' : 'dim', t.reason));
        for (const f of t.failures.slice(0, 5)) tb.appendChild(el('div', 'f', f));
        if (t.failedWindows > 5) tb.appendChild(el('div', 'f', '… ' + t.failedWindows + ' points off in all'));
        if (t.wholeRun) tb.appendChild(el('div', 'dim', 'whole run: panel ' + t.wholeRun.panel.join(', ') + '; truth ' + t.wholeRun.truth.join(', ')));
        if (t.lines) tb.appendChild(el('div', 'dim', 'lines: panel ' + t.lines.panel + ', claim ' + t.lines.truth + ' (per ' + t.lines.bucketMs / 1000 + ' s buckets)'));
        if (t.chart && t.chart.x.length) { const c = el('div', 'chart'); tb.appendChild(c); box.appendChild(tb); draw(c, t.chart, t.unit); if (t.chart.more) tb.appendChild(el('div', 'dim', t.chart.more + ' more series not drawn')); }
        else box.appendChild(tb);
      }
      main.appendChild(box);
    }
  });
  document.body.dataset.charts = String(charts);
  document.body.dataset.rendered = 'ok';
} catch (e) {
  const d = el('div', 'err', 'The report could not be drawn: ' + e.message); main.prepend(d);
  document.body.dataset.rendered = 'error';
}
})();`;

export async function writeTruthHtml(file, input) {
  const { js, css } = await uplotAssets();
  const json = JSON.stringify(pageData(input)).replace(/</g, '\\u003c');
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>taskbench truth report</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<style>${css}</style><style>${STYLE}</style></head>
<body data-rendered="no"><header></header><main></main>
<script id="truth-data" type="application/json">${json}</script>
<script>${js}</script>
<script>${SCRIPT}</script>
</body></html>
`;
  await writeFile(file, page);
}
