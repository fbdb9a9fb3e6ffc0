/*
 * report.js: draws taskbench's self-contained HTML reports (inlined by common/html_report.c).
 *
 * The page embeds a tool's JSON result in the script element #data; body[data-kind] names it.
 * A small SVG chart kit (time series with shaded intervals and labelled markers, percentile
 * curves, histograms, tables, key-number cards) is shared by one renderer per kind. Data only
 * ever reaches the page as text (textContent), never as markup. Plain ES2017, no libraries.
 * When done, body[data-rendered] is "ok"; on any exception an error box shows and it is "error".
 */
(function () {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const ROUTE_COLORS = ['#2563eb', '#16a34a', '#d97706', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#475569'];
  const DASH = '\u2013';
  const DOT = ' \u00b7 ';
  const redraws = []; /* every chart's draw(), run once the page is laid out and on resize */

  /* ---------- DOM helpers ---------- */

  function setAttrs(e, attrs) {
    for (const k of Object.keys(attrs || {})) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else e.setAttribute(k, String(v));
    }
  }

  function append(e, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(e, c);
      else e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  /* h('div', {class: 'x'}, child, 'text') builds HTML; svg(...) the same in the SVG namespace.
   * Strings always become text nodes: nothing here ever parses markup. */
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    setAttrs(e, attrs);
    return append(e, children);
  }

  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVG_NS, tag);
    setAttrs(e, attrs);
    return append(e, children);
  }

  /* ---------- values and formats ---------- */

  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function num(v) { return isNum(v) ? v : null; }
  function sum(arr) { return arr.reduce((a, b) => a + (isNum(b) ? b : 0), 0); }

  /* get(obj, 'a.b.c'): undefined when any step is missing, so partial results never throw. */
  function get(obj, path) {
    let o = obj;
    for (const k of path.split('.')) {
      if (o === null || typeof o !== 'object') return undefined;
      o = o[k];
    }
    return o;
  }

  function fmtInt(v) { return isNum(v) ? Math.round(v).toLocaleString('en-US') : DASH; }

  /* About three significant digits, thousands separated: 0.412, 12.3, 998.5 -> 999, 12,345. */
  function fmtSig(v) {
    if (!isNum(v)) return DASH;
    const a = Math.abs(v);
    if (a === 0) return '0';
    if (a >= 100) return fmtInt(v);
    if (a >= 10) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    return Number(v.toPrecision(3)).toString();
  }

  function fmtRate(v) { return isNum(v) ? fmtSig(v) : DASH; }

  /* Latency given in seconds, as milliseconds (tables and axes keep one unit to compare). */
  function fmtMs(sec) {
    if (!isNum(sec)) return DASH;
    const ms = sec * 1000;
    if (ms === 0) return '0';
    if (ms >= 100) return fmtInt(ms);
    if (ms >= 10) return ms.toFixed(1);
    if (ms >= 1) return ms.toFixed(2);
    return ms.toFixed(3);
  }

  /* Latency in seconds with the unit that reads best: 850 us, 12.3 ms, 1.20 s. */
  function fmtLatency(sec) {
    if (!isNum(sec)) return DASH;
    if (sec < 1e-3) return fmtSig(sec * 1e6) + ' \u00b5s';
    if (sec < 1) return fmtSig(sec * 1e3) + ' ms';
    return fmtSig(sec) + ' s';
  }

  function fmtPct(ratio) {
    if (!isNum(ratio)) return DASH;
    const p = ratio * 100;
    if (p === 0) return '0 %';
    if (p < 0.01) return '<0.01 %';
    return (p < 10 ? p.toFixed(2) : p.toFixed(1)) + ' %';
  }

  function fmtDuration(sec) {
    if (!isNum(sec)) return DASH;
    if (sec < 120) return Number(sec.toFixed(sec < 10 ? 2 : 1)) + ' s';
    const m = Math.floor(sec / 60), s = Math.round(sec - m * 60);
    if (m < 120) return m + ' min' + (s ? ' ' + s + ' s' : '');
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }

  /* Seconds since the start, for a time axis: "45s", or "2:05" / "1:02:05" on longer runs. */
  function fmtClock(t, long) {
    if (!isNum(t)) return DASH;
    if (!long) return Number(t.toFixed(1)) + 's';
    const s = Math.round(t), hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
    const pad = (n) => String(n).padStart(2, '0');
    return hh ? hh + ':' + pad(mm) + ':' + pad(ss) : mm + ':' + pad(ss);
  }

  /* A quantile as a percentile with as many decimals as its nines: 50%, 99%, 99.99%. */
  function fmtQuantile(q) {
    if (q >= 1) return '100%';
    const digits = Math.max(0, Math.min(6, Math.ceil(-Math.log10(Math.max(1 - q, 1e-9))) - 2));
    return Number((q * 100).toFixed(digits)) + '%';
  }

  /* Short axis labels: 950, 1,500, 15k, 2M, 0.25. */
  function fmtAxis(v) {
    const a = Math.abs(v);
    if (a >= 1e6) return Number((v / 1e6).toPrecision(3)) + 'M';
    if (a >= 1e4) return Number((v / 1e3).toPrecision(3)) + 'k';
    return Number(v.toPrecision(4)).toLocaleString('en-US');
  }

  /* ---------- scales and ticks ---------- */

  function niceStep(span, count) {
    const raw = span / Math.max(1, count);
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
  }

  /* Round ticks from lo up to the first at or above hi (which closes the axis). */
  function linearTicks(lo, hi, count, integer) {
    const step = integer ? Math.max(1, niceStep(hi - lo, count)) : niceStep(hi - lo, count);
    const last = Math.ceil(hi / step - 1e-9) * step;
    const ticks = [];
    for (let v = Math.ceil(lo / step - 1e-9) * step; v <= last + step * 1e-9; v += step) {
      ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
    }
    return ticks;
  }

  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];

  /* Ticks on whole seconds, minutes or hours, never at odd steps like 7 s. */
  function timeTicks(lo, hi, count) {
    const raw = (hi - lo) / Math.max(1, count);
    const step = TIME_STEPS.find((s) => s >= raw) || niceStep(hi - lo, count);
    const ticks = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(v);
    return ticks;
  }

  function logTicks(lo, hi) {
    const e0 = Math.floor(Math.log10(lo)), e1 = Math.ceil(Math.log10(hi));
    const mults = e1 - e0 <= 2 ? [1, 2, 5] : [1];
    const ticks = [];
    for (let e = e0; e <= e1; e++) {
      for (const m of mults) {
        const v = m * Math.pow(10, e);
        if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(Number(v.toPrecision(6)));
      }
    }
    return ticks;
  }

  /* Quantile ticks for a 'nines' axis up to x1 (a quantile below 1), pw pixels wide. */
  function ninesTicks(x1, pw) {
    const decades = -Math.log10(1 - x1);
    const ticks = pw / decades > 160 ? [0, 0.5, 0.9] : [0, 0.9]; /* 50 % only where it has room */
    for (let n = 2; 1 - Math.pow(10, -n) <= x1 + 1e-12; n++) ticks.push(1 - Math.pow(10, -n));
    return ticks;
  }

  /* A scale maps a domain value to pixels; kinds: linear, log, nines (a quantile q drawn at
   * log10(1/(1-q)), so 90 %, 99 %, 99.9 % are evenly spaced as in HdrHistogram plots). */
  function makeScale(kind, d0, d1, r0, r1) {
    const nines = (q) => -Math.log10(Math.max(1 - q, 1e-12));
    const fwd = kind === 'log' ? Math.log10 : kind === 'nines' ? nines : (v) => v;
    const inv = kind === 'log' ? (u) => Math.pow(10, u) : kind === 'nines' ? (u) => 1 - Math.pow(10, -u) : (u) => u;
    const u0 = fwd(d0), u1 = fwd(d1), k = (r1 - r0) / ((u1 - u0) || 1);
    const f = (v) => r0 + (fwd(v) - u0) * k;
    f.invert = (px) => inv(u0 + (px - r0) / k);
    return f;
  }

  /* ---------- chart kit ---------- */

  function dashArray(dash) { return dash === 'dash' ? '6 4' : dash === 'dot' ? '1.5 3' : null; }

  function pathD(pts) {
    return 'M' + pts.map((p) => p[0].toFixed(1) + ',' + p[1].toFixed(1)).join('L');
  }

  function legendItem(s, onToggle) {
    const cls = s.dash === 'dash' ? 'dash' : s.dash === 'dot' ? 'dot' : s.box ? 'box' : null;
    const swatch = h('i', { class: cls, style: 'border-color:' + s.color + (s.box ? ';background:' + s.color : '') });
    const item = h('span', { title: onToggle ? 'click to show or hide' : null }, swatch, s.name);
    if (s.hidden) item.style.opacity = '0.35';
    if (onToggle) {
      item.style.cursor = 'pointer';
      item.addEventListener('click', onToggle);
    }
    return item;
  }

  /* The card around a chart: title, note, a tools corner, a legend and the plot area. */
  function figure(opts) {
    const tools = h('span', { class: 'chart-tools' });
    const legend = h('div', { class: 'legend' });
    const host = h('div', { class: 'plot' });
    const fig = h('figure', { class: 'chart' + (opts.wide ? ' wide' : ''), 'data-chart': opts.id || null },
      h('figcaption', {},
        h('span', { class: 'chart-title', text: opts.title }),
        opts.note ? h('span', { class: 'chart-note', text: opts.note }) : null,
        tools),
      legend, host);
    return { fig, tools, legend, host };
  }

  /* Plot geometry for a box `host` wide: margins leave room for the y labels and axis titles. */
  function layoutPlot(host, fig, opts, yLabels, topPad) {
    const W = Math.max(320, Math.round(host.clientWidth || fig.clientWidth || 640));
    const H = opts.height || 250;
    const labelW = Math.max(...yLabels.map((s) => s.length)) * 6.4;
    const m = { l: Math.round(labelW + (get(opts, 'y.label') ? 26 : 12)), r: 16, t: topPad,
      b: get(opts, 'x.label') ? 40 : 26 };
    return { W, H, m, pw: W - m.l - m.r, ph: H - m.t - m.b };
  }

  /* An <svg> with grid lines, tick labels and axis titles; returns it for the marks to go on. */
  function frame(g, opts, yTicks, yPos, yFmt, xTicks, xPos, xFmt) {
    const { W, H, m, pw, ph } = g;
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img',
      'aria-label': opts.title }, svg('title', { text: opts.title }));
    const grid = svg('g', { class: 'grid' }), axis = svg('g', { class: 'axis' });
    for (const v of yTicks) {
      const y = yPos(v);
      grid.appendChild(svg('line', { x1: m.l, x2: m.l + pw, y1: y, y2: y }));
      axis.appendChild(svg('text', { x: m.l - 6, y: y + 3.5, 'text-anchor': 'end', text: yFmt(v) }));
    }
    for (const v of xTicks) {
      const x = xPos(v);
      if (x < m.l - 0.5 || x > m.l + pw + 0.5) continue;
      grid.appendChild(svg('line', { x1: x, x2: x, y1: m.t, y2: m.t + ph }));
      axis.appendChild(svg('text', { x: x, y: m.t + ph + 15, 'text-anchor': 'middle', text: xFmt(v) }));
    }
    axis.appendChild(svg('line', { x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph }));
    const yLabel = get(opts, 'y.label'), xLabel = get(opts, 'x.label');
    if (yLabel) {
      axis.appendChild(svg('text', { class: 'axis-label', 'text-anchor': 'middle', text: yLabel,
        transform: 'translate(11,' + (m.t + ph / 2) + ') rotate(-90)' }));
    }
    if (xLabel) {
      axis.appendChild(svg('text', { class: 'axis-label', x: m.l + pw / 2, y: H - 4, 'text-anchor': 'middle', text: xLabel }));
    }
    return append(root, [grid, axis]);
  }

  /* Index of the point of `pts` (sorted by x) closest to x. */
  function nearest(pts, x) {
    let lo = 0, hi = pts.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (pts[mid][0] < x) lo = mid; else hi = mid;
    }
    return Math.abs(pts[lo][0] - x) <= Math.abs(pts[hi][0] - x) ? lo : hi;
  }

  /*
   * A line chart over a continuous x axis. opts:
   *   title, note, id, wide, height (px, default 250)
   *   x: {kind: 'time' (seconds since start) | 'nines' (quantiles 0..1) | 'linear', min, max,
   *       label, format (tick text), tooltip (tooltip heading)}
   *   y: {label, format (tick text), tooltipFormat, min (default 0), max, ticks: [values], integer,
   *       log (start on a log scale), logToggle (offer the checkbox)}
   *   series: [{name, color, points: [[x, y or null], ...] sorted by x, dash: 'dash'|'dot',
   *             width, area (fill below), step (hold each value until the next point),
   *             format (tooltip text), hidden, z (drawn above lower z)}]
   *   bands: [{from, to, label, color}]   shaded x intervals (a fault window; to null: to the end)
   *   markers: [{x, label, color}]        labelled vertical lines (injected, detected, ...)
   * Null y values leave gaps. Legend entries hide and show their series. Returns the <figure>;
   * it is drawn by drawAll() once in the page, and again when the window width changes.
   */
  function lineChart(opts) {
    const { fig, tools, legend, host } = figure(opts);
    const tip = h('div', { class: 'tooltip', hidden: true });
    fig.appendChild(tip);
    const xo = opts.x || {}, yo = opts.y || {};
    const series = opts.series.filter((s) => s && s.points && s.points.some((p) => isNum(p[1])));
    const bands = (opts.bands || []).filter((b) => isNum(b.from));
    const markers = (opts.markers || []).filter((mk) => isNum(mk.x));
    const state = { log: !!yo.log };

    function drawLegend() {
      legend.textContent = '';
      for (const s of series) legend.appendChild(legendItem(s, () => { s.hidden = !s.hidden; draw(); }));
      for (const b of bands) {
        if (b.label) legend.appendChild(legendItem({ name: b.label, color: b.color || '#dc2626', box: true }));
      }
    }

    function yAxis(ys) {
      if (state.log) {
        const pos = ys.filter((v) => v > 0);
        const y0 = pos.length ? Math.pow(10, Math.floor(Math.log10(Math.min(...pos)))) : 1;
        let y1 = pos.length ? Math.pow(10, Math.ceil(Math.log10(Math.max(...pos)))) : 10;
        if (y1 <= y0) y1 = y0 * 10;
        return { y0, y1, ticks: logTicks(y0, y1) };
      }
      const y0 = isNum(yo.min) ? yo.min : 0;
      /* a little headroom, so a line at its maximum does not run along the frame */
      const ymax = isNum(yo.max) ? yo.max : ys.length ? Math.max(...ys) * 1.06 : 1;
      const ticks = yo.ticks || linearTicks(y0, ymax > y0 ? ymax : y0 + 1, Math.max(3, Math.round((opts.height || 250) / 55)), yo.integer);
      return { y0, y1: Math.max(ymax > y0 ? ymax : y0 + 1, ticks[ticks.length - 1]), ticks };
    }

    function draw() {
      drawLegend();
      host.textContent = '';
      tip.hidden = true;
      if (!series.length) {
        host.appendChild(h('div', { class: 'empty', text: 'no data' }));
        return;
      }
      const shown = series.filter((s) => !s.hidden);
      const x0 = isNum(xo.min) ? xo.min : Math.min(...series.map((s) => s.points[0][0]));
      let x1 = isNum(xo.max) ? xo.max : Math.max(...series.map((s) => s.points[s.points.length - 1][0]));
      if (!(x1 > x0)) x1 = x0 + 1;
      const ya = yAxis([].concat(...shown.map((s) => s.points.map((p) => p[1]))).filter(isNum));
      const yFmt = yo.format || fmtAxis;
      const longTime = xo.kind === 'time' && x1 - x0 > 180;
      const xFmt = xo.format ||
        (xo.kind === 'time' ? (t) => fmtClock(t, longTime) : xo.kind === 'nines' ? fmtQuantile : fmtAxis);
      const labelled = bands.some((b) => b.label) || markers.some((mk) => mk.label);
      const g = layoutPlot(host, fig, opts, ya.ticks.map(yFmt), labelled ? 22 : 8);
      const { m, pw, ph } = g;
      const xs = makeScale(xo.kind === 'nines' ? 'nines' : 'linear', x0, x1, m.l, m.l + pw);
      const yScale = makeScale(state.log ? 'log' : 'linear', ya.y0, ya.y1, m.t + ph, m.t);
      const yc = (v) => Math.max(m.t, Math.min(m.t + ph, yScale(state.log ? Math.max(v, ya.y0) : v)));
      const xCount = Math.max(3, Math.round(pw / 90));
      const xTicks = xo.kind === 'nines' ? ninesTicks(x1, pw)
        : xo.kind === 'time' ? timeTicks(x0, x1, xCount) : linearTicks(x0, x1, xCount);
      const root = frame(g, opts, ya.ticks, yc, yFmt, xTicks, xs, xFmt);

      /* shaded intervals, under the lines */
      for (const b of bands) {
        const to = isNum(b.to) ? Math.min(b.to, x1) : x1;
        const bx0 = xs(Math.max(b.from, x0)), bx1 = xs(to);
        if (!(bx1 > bx0)) continue;
        const color = b.color || '#dc2626';
        root.appendChild(svg('rect', { class: 'band', x: bx0, y: m.t, width: bx1 - bx0, height: ph, fill: color,
          'fill-opacity': 0.1 }, svg('title', { text: (b.label || 'interval') + ': ' + xFmt(b.from) + ' ' + DASH + ' ' + xFmt(to) })));
        if (b.label) {
          root.appendChild(svg('text', { class: 'band-label', x: bx0 + 4, y: m.t - 7, style: 'fill:' + color, text: b.label }));
        }
      }

      /* lines (and areas); a higher z is drawn later, on top */
      for (const s of shown.slice().sort((a, b) => (a.z || 0) - (b.z || 0))) {
        const segs = [];
        let cur = null;
        for (const p of s.points) {
          if (!isNum(p[1])) { cur = null; continue; }
          if (!cur) segs.push(cur = []);
          /* a step holds its value until the next point: go across, then up or down */
          if (s.step && cur.length) cur.push([xs(p[0]), cur[cur.length - 1][1]]);
          cur.push([xs(p[0]), yc(p[1])]);
        }
        if (s.area) {
          const base = m.t + ph;
          const d = segs.map((seg) => pathD([[seg[0][0], base]].concat(seg, [[seg[seg.length - 1][0], base]])) + 'Z');
          root.appendChild(svg('path', { class: 'area', d: d.join(''), fill: s.color, 'fill-opacity': 0.12, stroke: 'none' }));
        }
        root.appendChild(svg('path', { class: 'line', d: segs.map(pathD).join(''), fill: 'none', stroke: s.color,
          'stroke-width': s.width || 1.8, 'stroke-linejoin': 'round', 'stroke-linecap': 'round',
          'stroke-dasharray': dashArray(s.dash) }, svg('title', { text: s.name })));
      }

      /* markers, above the lines; labels in three rows so neighbours do not overlap */
      markers.forEach((mk, i) => {
        if (mk.x < x0 || mk.x > x1) return;
        const x = xs(mk.x), color = mk.color || '#374151';
        root.appendChild(svg('line', { class: 'marker', x1: x, x2: x, y1: m.t - 2, y2: m.t + ph, stroke: color,
          'stroke-width': 1.5, 'stroke-dasharray': '4 3' }, svg('title', { text: (mk.label || 'marker') + ' at ' + xFmt(mk.x) })));
        if (mk.label) {
          const right = x > m.l + pw * 0.75;
          root.appendChild(svg('text', { class: 'marker-label', x: right ? x - 4 : x + 4, y: m.t + 11 + (i % 3) * 13,
            'text-anchor': right ? 'end' : 'start', style: 'fill:' + color, text: mk.label }));
        }
      });

      if (shown.length) hover(root, g, xs, yc, shown, xo.tooltip || xFmt, yo.tooltipFormat || yFmt);
      host.appendChild(root);
    }

    /* A crosshair that snaps to the nearest x and a tooltip listing every shown series there. */
    function hover(root, g, xs, yc, shown, headFmt, valueFmt) {
      const { m, pw, ph } = g;
      const cross = svg('line', { class: 'crosshair', y1: m.t, y2: m.t + ph, visibility: 'hidden' });
      const dots = svg('g', {});
      const overlay = svg('rect', { x: m.l, y: m.t, width: pw, height: ph, fill: 'transparent' });
      append(root, [cross, dots, overlay]);
      overlay.addEventListener('mouseleave', () => {
        cross.setAttribute('visibility', 'hidden');
        dots.textContent = '';
        tip.hidden = true;
      });
      overlay.addEventListener('mousemove', (ev) => {
        const r = root.getBoundingClientRect();
        const xv = xs.invert((ev.clientX - r.left) * (g.W / r.width));
        const ref = shown[0].points[nearest(shown[0].points, xv)][0];
        cross.setAttribute('x1', xs(ref));
        cross.setAttribute('x2', xs(ref));
        cross.setAttribute('visibility', 'visible');
        dots.textContent = '';
        tip.textContent = '';
        tip.appendChild(h('div', { class: 'tt-head', text: headFmt(ref) }));
        for (const s of shown) {
          let i = nearest(s.points, ref);
          if (s.step && s.points[i][0] > ref && i > 0) i--; /* a step's value is the last one set */
          const p = s.points[i];
          if (!isNum(p[1])) continue;
          dots.appendChild(svg('circle', { class: 'hover-dot', cx: xs(p[0]), cy: yc(p[1]), r: 3.5, fill: s.color }));
          tip.appendChild(h('div', { class: 'tt-row' }, h('i', { style: 'background:' + s.color }), s.name,
            h('span', { class: 'tt-v', text: (s.format || valueFmt)(p[1]) })));
        }
        for (const b of bands) {
          if (ref >= b.from && ref <= (isNum(b.to) ? b.to : Infinity)) {
            tip.appendChild(h('div', { class: 'tt-band', text: '\u25ae ' + (b.label || 'interval') }));
          }
        }
        tip.hidden = false;
        const fr = fig.getBoundingClientRect();
        let left = ev.clientX - fr.left + 16;
        if (left + tip.offsetWidth > fr.width - 4) left = ev.clientX - fr.left - tip.offsetWidth - 16;
        tip.style.left = Math.max(4, left) + 'px';
        tip.style.top = Math.max(4, ev.clientY - fr.top - tip.offsetHeight / 2) + 'px';
      });
    }

    if (yo.logToggle) {
      const box = h('input', { type: 'checkbox' });
      box.checked = state.log;
      box.addEventListener('change', () => { state.log = box.checked; draw(); });
      tools.appendChild(h('label', {}, box, ' log scale'));
    }
    redraws.push(draw);
    return fig;
  }

  /*
   * Bars over bins of a log x axis (a latency histogram). opts: title, note, id, wide, height,
   * x: {label, format}, y: {label, format}, color, barName (legend), bars: [{lo, hi, value, tip}],
   * lines: [{name, color, dash, points: [[x, y], ...]}] drawn over the bars (another view).
   */
  function barChart(opts) {
    const { fig, legend, host } = figure(opts);
    const xo = opts.x || {}, yo = opts.y || {};
    const bars = (opts.bars || []).filter((b) => b.lo > 0 && b.hi > b.lo && isNum(b.value));
    const lines = opts.lines || [];
    if (opts.barName) legend.appendChild(legendItem({ name: opts.barName, color: opts.color, box: true }));
    for (const l of lines) legend.appendChild(legendItem(l));

    function draw() {
      host.textContent = '';
      if (!bars.length) {
        host.appendChild(h('div', { class: 'empty', text: 'no data' }));
        return;
      }
      /* the x axis spans whole half-decades around the bins */
      const lo = Math.min(...bars.map((b) => b.lo)), hi = Math.max(...bars.map((b) => b.hi));
      const x0 = Math.pow(10, Math.floor(Math.log10(lo) * 2) / 2), x1 = Math.pow(10, Math.ceil(Math.log10(hi) * 2) / 2);
      const ymax = Math.max(...bars.map((b) => b.value), ...[].concat(...lines.map((l) => l.points.map((p) => p[1]))));
      const yTicks = linearTicks(0, ymax || 1, Math.max(3, Math.round((opts.height || 250) / 55)));
      const yFmt = yo.format || fmtAxis, xFmt = xo.format || fmtAxis;
      const g = layoutPlot(host, fig, opts, yTicks.map(yFmt), 8);
      const { m, pw, ph } = g;
      const xs = makeScale('log', x0, x1, m.l, m.l + pw);
      const ys = makeScale('linear', 0, Math.max(ymax, yTicks[yTicks.length - 1]), m.t + ph, m.t);
      const root = frame(g, opts, yTicks, ys, yFmt, logTicks(x0, x1), xs, xFmt);
      for (const b of bars) {
        const bx0 = xs(b.lo), bx1 = xs(b.hi);
        root.appendChild(svg('rect', { class: 'bar', x: bx0 + 0.5, y: ys(b.value), width: Math.max(1, bx1 - bx0 - 1),
          height: m.t + ph - ys(b.value), fill: opts.color || '#2563eb', 'fill-opacity': 0.8 },
        svg('title', { text: b.tip || xFmt(b.lo) + ' ' + DASH + ' ' + xFmt(b.hi) + ': ' + yFmt(b.value) })));
      }
      for (const l of lines) {
        root.appendChild(svg('path', { class: 'line', d: pathD(l.points.map((p) => [xs(p[0]), ys(p[1])])), fill: 'none',
          stroke: l.color, 'stroke-width': l.width || 1.6, 'stroke-dasharray': dashArray(l.dash) }, svg('title', { text: l.name })));
      }
      host.appendChild(root);
    }
    redraws.push(draw);
    return fig;
  }

  /* Key numbers: [{id, label, value, unit, sub, status: 'ok'|'warn'|'bad'}]. */
  function cards(items) {
    return h('div', { class: 'cards' }, items.map((c) =>
      h('div', { class: 'card' + (c.status ? ' ' + c.status : ''), 'data-card': c.id || null },
        h('div', { class: 'label', text: c.label }),
        h('div', { class: 'value' }, c.value, c.unit ? h('small', { text: c.unit }) : null),
        c.sub ? h('div', { class: 'sub', text: c.sub }) : null)));
  }

  /* A table: columns [{label, title, key or value(row) (text or a node), num, cls(row)}], rows,
   * opts {id, total (a last, emphasised row), groups: [{label, span}] (a header row above)}. */
  function table(columns, rows, opts) {
    const o = opts || {};
    const cell = (c, r) => {
      const v = c.value ? c.value(r) : r[c.key];
      const cls = [c.num ? 'num' : '', c.cls ? c.cls(r) || '' : ''].join(' ').trim();
      return h('td', { class: cls || null }, v === null || v === undefined ? DASH : typeof v === 'object' ? v : String(v));
    };
    const head = [];
    if (o.groups) {
      head.push(h('tr', {}, o.groups.map((g) => h('th', { colspan: g.span, class: g.label ? 'group' : null, text: g.label }))));
    }
    head.push(h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : null, title: c.title || null, text: c.label }))));
    const body = rows.map((r) => h('tr', {}, columns.map((c) => cell(c, r))));
    if (o.total) body.push(h('tr', { class: 'total' }, columns.map((c) => cell(c, o.total))));
    return h('div', { class: 'table-wrap' }, h('table', { id: o.id || null }, h('thead', {}, head), h('tbody', {}, body)));
  }

  function section(title, note, ...children) {
    return h('section', {}, h('h2', {}, title, note ? h('span', { class: 'note', text: note }) : null), children);
  }

  /* A highlighted line under the header: status 'warn' or 'bad'. */
  function notice(status, strong, text) {
    return h('div', { class: 'notice ' + status, role: 'note' }, h('strong', { text: strong }), ' ', text);
  }

  /* "label value" pairs under the title; empty values are left out. */
  function facts(pairs) {
    return h('div', { class: 'facts' }, pairs.filter((p) => p[1] !== null && p[1] !== undefined && p[1] !== '')
      .map((p) => h('div', {}, p[0] + ' ', h('b', { text: String(p[1]) }))));
  }

  /* ---------- log-linear histograms (common/loghist.c) ---------- */

  /* Bucket index -> [low, high] in ns. Below 2^(b+1) every ns has its bucket; above, each power
   * of two e holds 2^b sub-buckets of width 2^(e-b). The last bucket is open-ended (high: null). */
  function bucketRange(index, layout) {
    const b = isNum(get(layout, 'sub_bucket_bits')) ? layout.sub_bucket_bits : 10;
    const maxExp = isNum(get(layout, 'max_exponent')) ? layout.max_exponent : 36;
    const linear = Math.pow(2, b + 1), sub = Math.pow(2, b);
    if (index < linear) return [index, index];
    const k = index - linear, e = b + 1 + Math.floor(k / sub);
    const low = (sub + (k % sub)) * Math.pow(2, e - b);
    const last = linear + (maxExp - b - 1) * sub - 1;
    return [low, index >= last ? null : low + Math.pow(2, e - b) - 1];
  }

  /* A histogram as [[index, count], ...] sorted by index, whatever the JSON spelling:
   * {buckets: [[i, c], ...]}, [[i, c], ...], or [{index, count}, ...]. */
  function histBuckets(hist) {
    const raw = Array.isArray(hist) ? hist : hist && Array.isArray(hist.buckets) ? hist.buckets : [];
    const out = [];
    for (const e of raw) {
      const i = Array.isArray(e) ? e[0] : e && (isNum(e.index) ? e.index : e.i);
      const c = Array.isArray(e) ? e[1] : e && (isNum(e.count) ? e.count : e.c);
      if (isNum(i) && isNum(c) && c > 0) out.push([i, c]);
    }
    return out.sort((a, b) => a[0] - b[0]);
  }

  /* The max of a JSON histogram in seconds (max_ns, or max in seconds), else the fallback. */
  function histMax(hist, fallback) {
    if (hist && isNum(hist.max_ns)) return hist.max_ns / 1e9;
    if (hist && isNum(hist.max)) return hist.max;
    return isNum(fallback) ? fallback : null;
  }

  /* Merges [{hist, max}] exactly (counts add), keeping the largest max (seconds) for capping. */
  function histMerge(list) {
    const counts = new Map();
    let max = null;
    for (const x of list) {
      for (const [i, c] of histBuckets(x.hist)) counts.set(i, (counts.get(i) || 0) + c);
      if (isNum(x.max) && (max === null || x.max > max)) max = x.max;
    }
    const buckets = Array.from(counts.entries()).sort((a, b) => a[0] - b[0]);
    return { buckets, max, count: sum(buckets.map((b) => b[1])) };
  }

  /* A bucket's high edge in seconds, capped at the recorded max (as loghist_quantile() does). */
  function capHigh(index, mh, layout) {
    const high = bucketRange(index, layout)[1];
    if (high === null) return mh.max;
    return isNum(mh.max) && mh.max < high / 1e9 ? mh.max : high / 1e9;
  }

  /* Seconds at quantile q, as loghist_quantile() computes it: the capped high edge of the bucket
   * holding rank ceil(q*n). */
  function histQuantile(mh, q, layout) {
    if (!mh.count) return null;
    const rank = Math.max(1, Math.ceil(q * mh.count * (1 - 1e-12)));
    let seen = 0;
    for (const [i, c] of mh.buckets) {
      seen += c;
      if (seen >= rank) return capHigh(i, mh, layout);
    }
    return mh.max;
  }

  /* The percentile curve of a merged histogram up to quantile qmax: [[q, seconds], ...] steps. */
  function percentileCurve(mh, layout, qmax) {
    const pts = [];
    let seen = 0;
    for (const [i, c] of mh.buckets) {
      const v = capHigh(i, mh, layout);
      const qa = Math.min(seen / mh.count, qmax);
      seen += c;
      const qb = Math.min(seen / mh.count, qmax);
      if (!pts.length || pts[pts.length - 1][0] < qa) pts.push([qa, v]);
      pts.push([qb, v]);
      if (qb >= qmax) break;
    }
    return pts;
  }

  /* Re-bins buckets into perDecade bins per power of ten: [{lo, hi, count}] in seconds. */
  function logBins(mh, layout, perDecade) {
    const bins = new Map();
    for (const [i, c] of mh.buckets) {
      const [lo, hi] = bucketRange(i, layout);
      const mid = hi === null ? lo : (lo + hi + 1) / 2;
      const k = Math.floor(Math.log10(Math.max(mid, 1)) * perDecade);
      bins.set(k, (bins.get(k) || 0) + c);
    }
    return Array.from(bins.entries()).sort((a, b) => a[0] - b[0]).map(([k, c]) =>
      ({ lo: Math.pow(10, k / perDecade) / 1e9, hi: Math.pow(10, (k + 1) / perDecade) / 1e9, count: c }));
  }

  /* [from, to) runs of consecutive one-second rows for which pred holds, in seconds. */
  function intervals(rows, pred) {
    const out = [];
    for (const r of rows) {
      if (!isNum(r.t) || !pred(r)) continue;
      const last = out[out.length - 1];
      if (last && Math.abs(last[1] - r.t) < 1e-6) last[1] = r.t + 1;
      else out.push([r.t, r.t + 1]);
    }
    return out;
  }

  /* ---------- the loadgen report (schema: docs/loadgen-json.md) ---------- */

  function classCount(classes, name) { return num(get(classes, name)) || 0; }

  /* A threshold's value in its metric's unit: latency ("corrected.p99") in ms or s, ratios in %,
   * rates per second, counts (not_started) as integers. */
  function fmtThreshold(t, v) {
    if (!isNum(v)) return DASH;
    const metric = String(t.metric || t.expr || '').split(/[<>=\s]/)[0];
    if (/(^|\.)(p[\d.]+|max|min|mean)$/.test(metric)) return fmtLatency(v);
    if (/ratio$/.test(metric)) return fmtPct(v);
    if (/(^|\.)rate$/.test(metric)) return fmtRate(v) + '/s';
    return fmtInt(v);
  }

  /* What the renderers share: the result with its optional parts defaulted. */
  function loadgenContext(d) {
    const duration = num(d.duration_seconds);
    const rate = d.rate || {}, totals = d.totals || {};
    const targetRate = num(rate.target), achieved = num(rate.achieved);
    const ratio = num(rate.achieved_ratio) !== null ? rate.achieved_ratio
      : targetRate && achieved !== null ? achieved / targetRate : null;
    const notStarted = num(totals.not_started) || 0;
    const open = d.model !== 'closed';
    const thresholds = Array.isArray(d.thresholds) ? d.thresholds.filter(Boolean) : [];
    return {
      d, duration, totals, targetRate, achieved, ratio, notStarted, open, thresholds,
      latency: d.latency || {},
      failed: thresholds.filter((t) => t.ok === false),
      /* rows are whole seconds of the measured period; one starting at its end holds nothing */
      series: (Array.isArray(d.series) ? d.series : [])
        .filter((r) => r && isNum(r.t) && !(duration !== null && r.t >= duration)),
      routes: Array.isArray(d.routes) ? d.routes.filter(Boolean) : [],
      layout: d.histogram_layout || {},
      short: !!(open && targetRate && ((ratio !== null && ratio < 0.99) || notStarted > 0)),
    };
  }

  // "h2", or "http/1.1 300, h2 700" when a run saw several.
  function protocols(totals) {
    const p = totals && totals.protocols && typeof totals.protocols === 'object' ? totals.protocols : {};
    const names = Object.keys(p).filter((k) => num(p[k]) > 0);
    if (!names.length) return null;
    return names.length === 1 ? names[0] : names.map((k) => k + ' ' + fmtInt(p[k])).join(', ');
  }

  function loadgenHeader(c, root) {
    const d = c.d, tool = d.tool || {};
    root.appendChild(facts([
      ['target', d.target], ['workload', d.mode], ['model', d.model],
      ['duration', c.duration !== null ? fmtDuration(c.duration) : null],
      ['started', d.started_at], ['threads', d.threads], ['connections', d.connections],
      ['protocol', protocols(d.totals)],
      ['runs merged', num(d.runs) > 1 ? d.runs : null],
      ['tool', (tool.name || 'loadgen') + (tool.version ? ' ' + tool.version : '')],
    ]));
    if (d.schema && d.schema !== 'taskbench.loadgen.result') {
      root.appendChild(notice('warn', 'Unexpected data.',
        'This page expects a taskbench.loadgen.result, not ' + d.schema + '; parts may be missing.'));
    }
    if (c.short) {
      root.appendChild(notice('warn', 'The target rate was not reached.',
        'Achieved ' + fmtRate(c.achieved) + '/s of ' + fmtRate(c.targetRate) + '/s (' + fmtPct(c.ratio) + ')' +
        (c.notStarted ? '; ' + fmtInt(c.notStarted) + ' scheduled requests were never sent' : '') +
        '. The client or the service could not keep up, so the service saw less load than intended.'));
    }
    if (c.failed.length) {
      root.appendChild(notice('bad', c.failed.length + ' of ' + c.thresholds.length + ' thresholds failed:',
        c.failed.map((t) => t.expr).join(', ') + '.'));
    }
  }

  function loadgenCards(c, root) {
    const t = c.totals, corrected = c.latency.corrected || {};
    const errRatio = num(t.error_ratio);
    const rateSub = c.open && c.targetRate
      ? 'target ' + fmtRate(c.targetRate) + '/s' + DOT + fmtPct(c.ratio) +
        (c.notStarted ? DOT + fmtInt(c.notStarted) + ' never sent' : '')
      : c.d.model === 'closed' ? 'closed model: as fast as ' + fmtInt(c.d.connections) + ' connections go' : null;
    root.appendChild(cards([
      { id: 'rate', label: 'Achieved rate', value: fmtRate(c.achieved), unit: 'req/s', sub: rateSub,
        status: c.short ? 'warn' : c.open && c.targetRate ? 'ok' : null },
      { id: 'requests', label: 'Requests completed', value: fmtInt(num(t.completed)),
        sub: [isNum(t.scheduled) && c.open ? fmtInt(t.scheduled) + ' scheduled' : null,
          t.cancelled > 0 ? fmtInt(t.cancelled) + ' cancelled at the end' : null,
          c.duration !== null ? 'in ' + fmtDuration(c.duration) : null,
          isNum(get(t, 'connections.opened')) ? fmtInt(get(t, 'connections.opened')) + ' connections opened' +
            (num(get(t, 'connections.closed')) ? ', ' + fmtInt(get(t, 'connections.closed')) + ' closed' : '') : null,
        ].filter(Boolean).join(DOT) },
      { id: 'errors', label: 'Error ratio', value: fmtPct(errRatio),
        status: errRatio === null ? null : errRatio > 0.01 ? 'bad' : errRatio > 0 ? 'warn' : 'ok',
        /* version 2 counts failures of the success rule; version 1 counted 5xx and transport errors */
        sub: isNum(t.failed)
          ? 'unexpected status ' + fmtInt(num(t.unexpected_status) || 0) + DOT + 'body check ' +
            fmtInt(num(t.body_mismatch) || 0) + DOT + 'transport ' + fmtInt(sum(Object.values(t.errors || {})))
          : '5xx ' + fmtInt(classCount(t.classes, '5xx')) + DOT + 'transport ' + fmtInt(sum(Object.values(t.errors || {}))) +
            DOT + '4xx ' + fmtInt(classCount(t.classes, '4xx')) + ' (not errors)' },
      { id: 'p99', label: 'p99 latency (corrected)', value: fmtLatency(num(corrected.p99)),
        sub: 'p50 ' + fmtLatency(num(corrected.p50)) + DOT + 'p99.9 ' + fmtLatency(num(corrected.p999)) +
          DOT + 'max ' + fmtLatency(num(corrected.max)) },
      c.thresholds.length ? { id: 'thresholds', label: 'Thresholds', unit: 'passed',
        value: (c.thresholds.length - c.failed.length) + ' / ' + c.thresholds.length,
        status: c.failed.length ? 'bad' : 'ok', sub: c.thresholds.map((th) => th.expr).join(DOT) } : null,
    ].filter(Boolean)));
  }

  function loadgenTimeline(c, root) {
    const rows = c.series;
    const xMax = Math.max(c.duration || 0, rows.length ? rows[rows.length - 1].t + 1 : 1);
    const long = xMax > 180;
    /* a second's value is drawn at its middle; latency only where requests completed */
    const col = (f) => rows.map((r) => [r.t + 0.5, f(r)]);
    const colLat = (f) => col((r) => (num(r.completed) === 0 ? null : f(r)));
    const ms = (v) => (isNum(v) ? v * 1000 : null);
    const timeX = { kind: 'time', min: 0, max: xMax, label: 'time since start',
      tooltip: (t) => 'second ' + fmtClock(t - 0.5, long) + ' ' + DASH + ' ' + fmtClock(t + 0.5, long) };
    const perSec = (v) => fmtSig(v) + '/s';
    const msFmt = (v) => fmtMs(v / 1000) + ' ms';
    const behind = intervals(rows, (r) => num(r.backlog) > 0)
      .map((iv) => ({ from: iv[0], to: iv[1], label: 'behind schedule', color: '#f59e0b' }));
    const charts = h('div', { class: 'charts' });
    charts.appendChild(lineChart({ id: 'rate', title: 'Request rate', note: 'completions per second',
      x: timeX, y: { label: 'req/s', tooltipFormat: perSec }, bands: behind, series: [
        rows.some((r) => num(r.target_rate) > 0)
          ? { name: 'target', color: '#6b7280', dash: 'dash', points: col((r) => num(r.target_rate)) } : null,
        { name: 'achieved', color: '#2563eb', width: 2, points: col((r) => num(isNum(r.rate) ? r.rate : r.completed)) },
        { name: 'sent', color: '#0891b2', dash: 'dot', hidden: true, points: col((r) => num(r.started)) },
      ] }));
    const v2 = rows.some((r) => isNum(r.failed));
    charts.appendChild(lineChart({ id: 'errors', title: 'Errors per second',
      note: v2 ? 'requests that failed the success rule; status classes for reference' : '5xx and transport errors; 4xx for reference',
      x: timeX, y: { label: 'per second', tooltipFormat: perSec, integer: true }, series: [
        v2 ? { name: 'failed', color: '#b91c1c', area: true, width: 2, points: col((r) => num(r.failed)) } : null,
        { name: '5xx', color: '#dc2626', area: !v2, width: v2 ? 1.4 : 2, points: col((r) => classCount(r.classes, '5xx')) },
        { name: 'transport errors', color: '#7c2d12', points: col((r) => classCount(r.classes, 'error')) },
        { name: '4xx', color: '#f59e0b', points: col((r) => classCount(r.classes, '4xx')) },
      ] }));
    charts.appendChild(lineChart({ id: 'latency', title: 'Latency over time', wide: true,
      note: 'corrected for coordinated omission; percentiles of the requests completed in each second',
      x: timeX, y: { label: 'ms', tooltipFormat: msFmt, logToggle: true }, series: [
        { name: 'max', color: '#f43f5e', width: 1.2, dash: 'dot', points: colLat((r) => ms(get(r, 'latency.max'))) },
        { name: 'p99', color: '#7c3aed', width: 2.2, points: colLat((r) => ms(get(r, 'latency.p99'))) },
        { name: 'p90', color: '#2563eb', points: colLat((r) => ms(get(r, 'latency.p90'))) },
        { name: 'p50', color: '#0ea5e9', points: colLat((r) => ms(get(r, 'latency.p50'))) },
        { name: 'service p99', color: '#059669', dash: 'dash', points: colLat((r) => ms(r.service_p99)) },
        { name: 'lag p99', color: '#d97706', dash: 'dash', points: colLat((r) => ms(r.lag_p99)) },
      ] }));
    charts.appendChild(lineChart({ id: 'inflight', title: 'In flight and backlog', note: 'at the end of each second',
      wide: !v2, height: 200, x: timeX, y: { label: 'requests', tooltipFormat: fmtInt, integer: true }, bands: behind,
      series: [
        { name: 'in flight', color: '#0891b2', area: true, points: col((r) => num(r.in_flight)) },
        { name: 'backlog (due, not sent)', color: '#db2777', width: 2, points: col((r) => num(r.backlog)) },
      ] }));
    if (rows.some((r) => isNum(r.connections_opened))) {
      charts.appendChild(lineChart({ id: 'connections', title: 'Connections opened and closed',
        note: 'per second; a steady stream of opens is a reconnect storm', height: 200, x: timeX,
        y: { label: 'per second', tooltipFormat: perSec, integer: true }, series: [
          { name: 'opened', color: '#7c3aed', width: 2, points: col((r) => num(r.connections_opened)) },
          { name: 'closed', color: '#64748b', dash: 'dash', points: col((r) => num(r.connections_closed)) },
        ] }));
    }
    root.appendChild(section('Over time', rows.length ? rows.length + ' one-second intervals'
      : 'no per-second series in this result', charts));
  }

  function loadgenDistribution(c, root) {
    const classHists = (r, view) => (r.by_class || []).map((bc) => ({ hist: get(bc, 'histograms.' + view),
      max: histMax(get(bc, 'histograms.' + view), get(bc, 'latency.' + view + '.max')) }));
    const merged = (view) => histMerge([].concat(...c.routes.map((r) => classHists(r, view))));
    const corrected = merged('corrected'), service = merged('service');
    /* show as many nines as the requests support: 99.9 % of 1,000 requests is already the max */
    const nines = Math.min(6, Math.max(3, Math.ceil(Math.log10(Math.max(corrected.count, 10)))));
    const qmax = 1 - Math.pow(10, -nines);
    const curve = (mh) => percentileCurve(mh, c.layout, qmax).map((p) => [p[0], p[1] * 1000]);
    const msFmt = (v) => fmtMs(v / 1000) + ' ms';
    const dist = lineChart({ id: 'distribution', title: 'Latency by percentile', note: 'corrected; click a legend entry to hide it',
      x: { kind: 'nines', min: 0, max: qmax, label: 'percentile', tooltip: (q) => 'p' + fmtQuantile(q).replace('%', '') },
      y: { label: 'ms', tooltipFormat: msFmt, logToggle: true, log: true },
      series: [
        { name: 'all routes', color: '#111827', width: 2.6, z: 1, points: curve(corrected) },
        { name: 'all routes, service time', color: '#6b7280', dash: 'dash', points: curve(service) },
      ].concat(c.routes.map((r, i) => ({ name: r.name || r.route || 'route ' + (i + 1),
        color: ROUTE_COLORS[i % ROUTE_COLORS.length], width: 1.5, points: curve(histMerge(classHists(r, 'corrected'))) }))) });
    /* what the page decoded, for tests to hold against the p99 loadgen computed itself */
    const p99 = histQuantile(corrected, 0.99, c.layout);
    if (p99 !== null) dist.setAttribute('data-p99-seconds', String(p99));
    const binsC = logBins(corrected, c.layout, 10), binsS = logBins(service, c.layout, 10);
    const hist = barChart({ id: 'histogram', title: 'Latency histogram', note: 'all routes; 10 bins per decade',
      color: '#2563eb', barName: 'corrected', y: { label: 'requests' },
      x: { label: 'latency (ms, log scale)', format: (v) => fmtAxis(v * 1000) },
      bars: binsC.map((b) => ({ lo: b.lo, hi: b.hi, value: b.count, tip: fmtMs(b.lo) + DASH + fmtMs(b.hi) + ' ms: ' +
        fmtInt(b.count) + ' requests (' + fmtPct(b.count / (corrected.count || 1)) + ')' })),
      lines: binsS.length ? [{ name: 'service time', color: '#059669', dash: 'dash',
        points: [].concat(...binsS.map((b) => [[b.lo, b.count], [b.hi, b.count]])) }] : [] });
    root.appendChild(section('Latency distribution', fmtInt(corrected.count) + ' requests', h('div', { class: 'charts' }, dist, hist)));
  }

  function loadgenTables(c, root) {
    const t = c.totals;
    const msCell = (view, p) => (r) => fmtMs(num(get(r, 'latency.' + view + '.' + p)));
    const total = { requests: t.completed, rate: c.achieved, error_ratio: t.error_ratio, latency: c.latency };
    const routeCell = (r) => (r === total ? 'all routes' : h('span', {},
      h('span', { class: 'method', text: r.method || '' }), h('code', { text: r.route || '' }),
      r.name && r.name !== r.route ? ' (' + r.name + ')' : ''));
    const routes = table([
      { label: 'Route', value: routeCell },
      { label: 'Requests', num: true, value: (r) => fmtInt(r.requests) },
      { label: 'Rate /s', num: true, value: (r) => fmtRate(r.rate) },
      { label: 'Errors', num: true, title: isNum(t.failed)
        ? 'requests that failed the success rule: an unexpected status, a failed body check, no answer'
        : '5xx and transport errors', value: (r) => fmtPct(r.error_ratio),
        cls: (r) => (r.error_ratio > 0.01 ? 'bad' : r.error_ratio > 0 ? 'warn' : null) },
      { label: 'p50', num: true, value: msCell('corrected', 'p50') },
      { label: 'p90', num: true, value: msCell('corrected', 'p90') },
      { label: 'p99', num: true, value: msCell('corrected', 'p99') },
      { label: 'p99.9', num: true, value: msCell('corrected', 'p999') },
      { label: 'max', num: true, value: msCell('corrected', 'max') },
      { label: 'p50', num: true, value: msCell('service', 'p50') },
      { label: 'p99', num: true, value: msCell('service', 'p99') },
      { label: 'p99', num: true, title: 'intended start \u2192 sent', value: msCell('lag', 'p99') },
    ], c.routes, { id: 'routes', total: c.routes.length > 1 ? total : null, groups: [{ label: '', span: 4 },
      { label: 'corrected latency (ms)', span: 5 }, { label: 'service (ms)', span: 2 }, { label: 'lag (ms)', span: 1 }] });

    const statuses = Object.entries(t.codes || {}).sort((a, b) => a[0].localeCompare(b[0]))
      .map(([code, n]) => ({ code, n, cls: code[0] === '5' ? 'bad' : code[0] === '4' ? 'warn' : null }))
      .concat(Object.entries(t.errors || {}).filter((e) => e[1] > 0).map(([k, n]) => ({ code: 'transport: ' + k, n, cls: 'bad' })));
    const side = h('div', { class: 'tables' }, h('div', {}, h('h3', { text: 'Responses by status' }), table([
      { label: 'Status', key: 'code', cls: (r) => r.cls },
      { label: 'Count', num: true, value: (r) => fmtInt(r.n) },
      { label: 'Share', num: true, value: (r) => fmtPct(r.n / (t.completed || 1)) },
    ], statuses, { id: 'codes' })));
    if (c.thresholds.length) {
      side.appendChild(h('div', {}, h('h3', { text: 'Thresholds' }), table([
        { label: 'Expression', value: (th) => h('code', { text: th.expr || '' }) },
        { label: 'Measured', num: true, value: (th) => fmtThreshold(th, th.value) },
        { label: 'Limit', num: true, value: (th) => fmtThreshold(th, th.limit) },
        { label: 'Result', value: (th) => (th.ok ? 'pass' : 'FAIL'), cls: (th) => (th.ok ? 'ok' : 'bad') },
      ], c.thresholds, { id: 'thresholds' })));
    }
    const explain = h('p', { class: 'explain' },
      h('b', { text: 'corrected' }), ': from the moment a request was due (its place in the schedule) to its response, ' +
      'so a stall that delays sending counts against the service, as users would feel it. ',
      h('b', { text: 'service' }), ': from sent to response. ', h('b', { text: 'lag' }), ': how late it was sent. ' +
      (isNum(t.failed)
        ? 'The error ratio counts requests that failed the success rule: a status outside the expected ones ' +
          '(2xx and 3xx unless a target says otherwise), a body without the expected text, or no answer.'
        : 'The error ratio counts 5xx responses and transport errors; 4xx answers are the service working as specified.'));
    root.appendChild(section('Routes', c.routes.length + ' routes', routes, side, explain));
  }

  function renderLoadgen(d, root) {
    const c = loadgenContext(d);
    loadgenHeader(c, root);
    loadgenCards(c, root);
    loadgenTimeline(c, root);
    loadgenDistribution(c, root);
    loadgenTables(c, root);
  }

  /* ---------- the chaos report (schema: docs/chaos.md) ---------- */

  /* One section per experiment: the verdict and the key times as cards, a timeline (the fault
   * window shaded; injected, detected, rolled back and recovered as markers) of request rate,
   * errors, latency and readiness, then the checks and the alerts. The page's heading
   * ("chaos: SCENARIO, ...") is the title chaos passes to html_report_write; none is added here. */
  function renderChaos(d, root) {
    const exps = Array.isArray(d.experiments) ? d.experiments.filter(Boolean) : [];
    const failed = exps.filter((e) => e.status === 'deviated' || e.status === 'aborted' || e.status === 'error');
    root.appendChild(facts([['version', d.version], ['result', d.status]]));
    if (failed.length) root.appendChild(notice('bad', 'taskd deviated:', failed.map((e) => e.scenario + ' (' + e.status + ')').join(', ')));
    for (const e of exps) root.appendChild(chaosExperiment(e));
  }

  function chaosExperiment(e) {
    const times = e.times || {}, writes = e.writes || {}, expected = e.expected || {};
    const statusClass = e.status === 'passed' ? 'ok' : e.status === 'skipped' ? 'warn' : 'bad';
    const parts = [];
    parts.push(facts([['status', e.status], ['mechanism', e.mechanism], ['rollback', e.rollback], ['expected', expected.summary]]));
    if (e.reason) parts.push(notice(statusClass === 'bad' ? 'bad' : 'warn', e.status + ':', e.reason));
    parts.push(cards([
      { id: 'verdict', label: 'Verdict', value: String(e.status), status: statusClass },
      { id: 'detect', label: 'Time to detect', value: fmtLatency(num(e.time_to_detect_s)), sub: 'injection \u2192 first probe that shows it' },
      { id: 'recover', label: 'Time to recover', value: fmtLatency(num(e.time_to_recover_s)), sub: 'rollback \u2192 ready again' },
      { id: 'acked', label: 'Writes acknowledged', value: fmtInt(num(writes.acknowledged)),
        sub: fmtInt(num(writes.failed)) + ' refused \u00b7 ' + fmtInt(num(writes.indeterminate)) + ' without answer' },
      { id: 'lost', label: 'Writes lost', value: writes.audited ? fmtInt(num(writes.lost)) : DASH,
        status: !writes.audited ? null : num(writes.lost) || num(writes.unexpected) ? 'bad' : 'ok',
        sub: writes.audited ? fmtInt(num(writes.unexpected)) + ' unexpected \u00b7 ' + fmtInt(num(writes.recovered)) + ' recovered' : 'not audited' },
    ]));
    if (e.status !== 'skipped') parts.push(chaosTimeline(e, times));
    const checks = Array.isArray(e.checks) ? e.checks : [];
    if (checks.length) {
      parts.push(chaosTable('Checks', table([
        { label: 'check', value: (c) => String(c.name) },
        { label: 'result', value: (c) => (c.passed ? 'ok' : 'FAILED'), cls: (c) => (c.passed ? 'ok' : 'bad') },
        { label: 'detail', value: (c) => String(c.detail) },
      ], checks, { id: 'checks-' + e.scenario })));
    }
    const alerts = get(e, 'alerts.seen');
    if (Array.isArray(alerts) && alerts.length) {
      parts.push(chaosTable('Alerts', table([
        { label: 'alert', value: (a) => String(a.name) + (a.expected ? '' : ' (not expected)') },
        { label: 'fired after injection', num: true, value: (a) => fmtDuration(num(a.time_to_fire_s)) },
        { label: 'resolved after rollback', num: true, value: (a) => fmtDuration(num(a.time_to_resolve_s)) },
      ], alerts, { id: 'alerts-' + e.scenario })));
    }
    return section(String(e.scenario), e.description ? String(e.description) : null, parts);
  }

  /* A titled table, full width, spaced from what is above it like the loadgen page's tables. */
  function chaosTable(title, tableEl) {
    return h('div', { class: 'tables' }, h('div', {}, h('h3', { text: title }), tableEl));
  }

  function chaosTimeline(e, times) {
    const series = Array.isArray(get(e, 'load.series')) ? e.load.series.filter((r) => r && isNum(r.t)) : [];
    const probes = e.probes || {};
    const pt = Array.isArray(probes.t) ? probes.t : [];
    const end = Math.max(num(times.ended_s) || 0, pt.length ? num(pt[pt.length - 1]) || 0 : 0,
      series.length ? series[series.length - 1].t + 1 : 0, 1);
    const bands = [];
    if (isNum(times.injected_s)) {
      bands.push({ from: times.injected_s, to: isNum(times.rolled_back_s) ? times.rolled_back_s : end, label: 'fault in place', color: '#dc2626' });
    }
    const markers = [['injected', times.injected_s, '#dc2626'], ['detected', times.detected_s, '#f59e0b'],
      ['rolled back', times.rolled_back_s, '#2563eb'], ['recovered', times.recovered_s, '#15803d']]
      .filter((m) => isNum(m[1])).map((m) => ({ x: m[1], label: m[0], color: m[2] }));
    const x = { kind: 'time', min: 0, max: end, label: 'seconds since the experiment started' };
    const col = (f) => series.map((r) => [r.t + 0.5, f(r)]);
    const ms = (v) => (isNum(v) ? v * 1000 : null);
    const charts = h('div', { class: 'charts' });
    charts.appendChild(lineChart({ id: 'rate-' + e.scenario, title: 'Requests per second', note: 'by outcome, per second of the run',
      x, bands, markers, y: { label: 'req/s', integer: true },
      series: [
        { name: '2xx', color: '#15803d', width: 2, points: col((r) => num(r.ok)) },
        { name: '5xx', color: '#dc2626', area: true, points: col((r) => num(r.server_errors)) },
        { name: 'transport errors', color: '#7c2d12', points: col((r) => num(r.transport_errors)) },
        { name: '4xx', color: '#f59e0b', dash: 'dot', points: col((r) => num(r.client_errors)) },
      ] }));
    charts.appendChild(lineChart({ id: 'latency-' + e.scenario, title: 'Latency', note: 'corrected for coordinated omission',
      x, bands, markers, y: { label: 'ms', logToggle: true },
      series: [
        { name: 'max', color: '#f43f5e', dash: 'dot', points: col((r) => (num(r.completed) ? ms(r.max_s) : null)) },
        { name: 'p99', color: '#7c3aed', width: 2, points: col((r) => (num(r.completed) ? ms(r.p99_s) : null)) },
        { name: 'p50', color: '#0ea5e9', points: col((r) => (num(r.completed) ? ms(r.p50_s) : null)) },
      ] }));
    const ready = pt.map((t, i) => [t, probes.readyz && probes.readyz[i] === 200 ? 1 : 0]);
    const dbUp = pt.map((t, i) => [t, probes.db_up && isNum(probes.db_up[i]) ? probes.db_up[i] : null]);
    charts.appendChild(lineChart({ id: 'ready-' + e.scenario, title: 'Readiness', note: '/readyz 200 and taskd_db_up, as probed', wide: true, height: 170,
      x, bands, markers, y: { label: 'up', min: 0, max: 1, ticks: [0, 1], integer: true },
      series: [
        { name: '/readyz 200', color: '#15803d', width: 2, step: true, points: ready },
        { name: 'taskd_db_up', color: '#2563eb', dash: 'dash', step: true, points: dbUp },
      ] }));
    /* The cards above are a grid of their own: keep the charts one grid gap below them. */
    charts.style.marginTop = '14px';
    return charts;
  }

  /* ---------- entry ---------- */

  /* kind -> function (data, mainElement) that appends the report; charts are drawn after. */
  const RENDERERS = { loadgen: renderLoadgen, chaos: renderChaos };

  /* Charts are drawn once they are in the page, at the width they got there. */
  function drawAll() {
    for (const draw of redraws) draw();
  }

  function showError(err) {
    const box = h('div', { class: 'error-box', role: 'alert' },
      'This report could not be drawn: ' + (err && err.message ? err.message : String(err)));
    document.body.insertBefore(box, document.getElementById('report'));
    document.body.dataset.rendered = 'error';
  }

  function main() {
    const root = document.getElementById('report');
    const kind = document.body.dataset.kind;
    const render = RENDERERS[kind];
    if (!render) throw new Error('no renderer for report kind "' + kind + '".');
    const el = document.getElementById('data');
    let data;
    try {
      data = JSON.parse(el ? el.textContent : '');
    } catch (e) {
      throw new Error('the embedded result is not valid JSON (' + e.message + ').');
    }
    if (!data || typeof data !== 'object') throw new Error('the embedded result is not a JSON object.');
    render(data, root);
    drawAll();
    let timer = null, lastW = window.innerWidth;
    window.addEventListener('resize', () => {
      if (window.innerWidth === lastW) return;
      lastW = window.innerWidth;
      clearTimeout(timer);
      timer = setTimeout(drawAll, 150);
    });
    window.addEventListener('beforeprint', drawAll);
    root.appendChild(h('footer', { class: 'page-foot', text: 'Self-contained report: it loads nothing from the network. ' +
      'Data schema ' + (data.schema || 'unknown') + (isNum(data.version) ? ' v' + data.version : '') + '.' }));
    document.body.dataset.rendered = 'ok';
  }

  /* The chart kit, for other renderers (RENDERERS.chaos) and for the browser console. */
  window.TaskbenchReport = { h, svg, lineChart, barChart, cards, table, section, notice, facts, drawAll,
    bucketRange, histBuckets, histMax, histMerge, histQuantile, percentileCurve, logBins, intervals,
    fmtInt, fmtSig, fmtRate, fmtMs, fmtLatency, fmtPct, fmtDuration, fmtClock, fmtQuantile, renderers: RENDERERS };

  try {
    main();
  } catch (e) {
    showError(e);
  }
})();
