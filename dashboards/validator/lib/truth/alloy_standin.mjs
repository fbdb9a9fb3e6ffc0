// alloy_standin: what Alloy would have shipped to Loki for a log file — each line with its stream
// labels and timestamp — by applying the Alloy configuration's pipeline to the lines: the file
// target's static labels, then loki.process stages stage.json, stage.timestamp, stage.labels,
// stage.static_labels, stage.label_drop and stage.label_keep. The line itself is shipped
// unchanged (no stage.output). Other stages are refused, not guessed.

import { attr, blocks, literal } from '../alloy.mjs';

const SUPPORTED = new Set(['stage.json', 'stage.timestamp', 'stage.labels', 'stage.static_labels', 'stage.label_drop', 'stage.label_keep']);

// Returns label(line, fallbackTs) -> { labels, ts } for the first file target of the config (or
// the one whose __path__ ends like `file`).
export function alloyLabeler(items, file) {
  const sources = blocks(items, 'loki.source.file');
  if (!sources.length) throw new Error('the Alloy configuration has no loki.source.file');
  let target = null;
  let source = null;
  for (const s of sources) {
    for (const t of literal(attr(s, 'targets')) || []) {
      if (!t || typeof t !== 'object') continue;
      const base = String(t.__path__ || '').split('/').pop();
      if (!target || (file && base && file.endsWith(base))) {
        target = t;
        source = s;
      }
    }
  }
  if (!target) throw new Error('the Alloy configuration has no file target with static labels');
  const statics = Object.fromEntries(Object.entries(target).filter(([k]) => !k.startsWith('__')));
  statics.filename = target.__path__;
  const processes = new Map(blocks(items, 'loki.process').map((b) => [b.label, b]));
  const stages = [];
  const forward = attr(source, 'forward_to');
  for (const ref of forward?.items || [forward]) {
    const parts = (ref?.path || '').split('.');
    if (parts[0] !== 'loki' || parts[1] !== 'process') continue;
    const proc = processes.get(parts[2]);
    for (const st of proc?.body || []) {
      if (st.kind !== 'block') continue;
      if (!SUPPORTED.has(st.name)) throw new Error(`the Alloy stand-in does not apply ${st.name} (line ${st.line})`);
      stages.push(st);
    }
  }
  return (line, fallbackTs) => {
    const labels = { ...statics };
    const extracted = {};
    let ts = fallbackTs;
    for (const st of stages) {
      if (st.name === 'stage.json') {
        let obj = null;
        try {
          obj = JSON.parse(line);
        } catch {
          obj = null;
        }
        const expressions = literal(attr(st, 'expressions')) || {};
        if (obj && typeof obj === 'object') {
          for (const [name, expr] of Object.entries(expressions)) {
            const path = expr || name;
            const v = path.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), obj);
            if (v !== undefined && v !== null) extracted[name] = typeof v === 'object' ? JSON.stringify(v) : String(v);
          }
        }
      } else if (st.name === 'stage.timestamp') {
        const src = literal(attr(st, 'source'));
        const v = extracted[src];
        const t = v === undefined ? NaN : Date.parse(v);
        if (!Number.isNaN(t)) ts = t;
      } else if (st.name === 'stage.labels') {
        for (const [name, src] of Object.entries(literal(attr(st, 'values')) || {})) {
          const v = extracted[src || name];
          if (v !== undefined && v !== '') labels[name] = v;
        }
      } else if (st.name === 'stage.static_labels') {
        Object.assign(labels, literal(attr(st, 'values')) || {});
      } else if (st.name === 'stage.label_drop') {
        for (const k of literal(attr(st, 'values')) || []) delete labels[k];
      } else if (st.name === 'stage.label_keep') {
        const keep = new Set(literal(attr(st, 'values')) || []);
        for (const k of Object.keys(labels)) if (!keep.has(k)) delete labels[k];
      }
    }
    return { labels, ts };
  };
}
