// scrape: what a live /metrics scrape says exists — metric names, their types and label names.
//
// A dashboard may only name metrics that a real process exposes; this module turns one scrape
// (Prometheus text format, from a file or a URL) into that inventory. Families declared with
// # TYPE count even before they have samples (loadgen renders a histogram per route only once the
// route was seen), with the _bucket/_sum/_count series a histogram or summary implies.

import { readFile } from 'node:fs/promises';
import { httpGet } from './http.mjs';

// Series Prometheus itself adds for every target, or for alerting rules: never in a scrape.
export const SYNTHETIC_METRICS = new Map([
  ['up', 'gauge'],
  ['scrape_duration_seconds', 'gauge'],
  ['scrape_samples_scraped', 'gauge'],
  ['scrape_samples_post_metric_relabeling', 'gauge'],
  ['scrape_series_added', 'gauge'],
  ['ALERTS', 'gauge'],
  ['ALERTS_FOR_STATE', 'gauge'],
]);

// Target labels Prometheus attaches at scrape time, so any selector may match on them.
export const TARGET_LABELS = new Set(['job', 'instance', '__name__']);

export class Inventory {
  constructor(source) {
    this.source = source; // file path or URL, for messages
    this.metrics = new Map(); // sample name -> { type, labels: Set, sampled: bool }
  }

  add(name, type) {
    if (!this.metrics.has(name)) this.metrics.set(name, { type, labels: new Set() });
    const m = this.metrics.get(name);
    if (type && (!m.type || m.type === 'untyped')) m.type = type;
    return m;
  }

  has(name) {
    return this.metrics.has(name);
  }

  get(name) {
    return this.metrics.get(name);
  }

  names() {
    return [...this.metrics.keys()];
  }
}

// Parses exposition text. Returns an Inventory; throws on a line that is not the text format.
export function parseScrape(text, source) {
  const inv = new Inventory(source);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+TYPE\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(\w+)/.exec(line);
      if (!m) continue; // HELP and comments
      const [, family, type] = m;
      if (type === 'histogram') {
        inv.add(`${family}_bucket`, 'counter').labels.add('le');
        inv.add(`${family}_sum`, 'counter');
        inv.add(`${family}_count`, 'counter');
      } else if (type === 'summary') {
        inv.add(family, 'gauge').labels.add('quantile');
        inv.add(`${family}_sum`, 'counter');
        inv.add(`${family}_count`, 'counter');
      } else {
        inv.add(family, type);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+\S+/.exec(line);
    if (!m) throw new Error(`${source}:${i + 1}: not a Prometheus text-format line: ${line.slice(0, 80)}`);
    const entry = inv.add(m[1], undefined);
    entry.sampled = true;
    if (m[2]) {
      for (const lm of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/g)) entry.labels.add(lm[1]);
    }
  }
  for (const [name, entry] of inv.metrics) {
    if (!entry.type) entry.type = guessType(name);
  }
  return inv;
}

// Without a TYPE line: the naming conventions are all there is.
export function guessType(name) {
  if (/_(total|bucket|count|sum)$/.test(name)) return 'counter';
  return 'gauge';
}

// Reads a scrape from a path or an http(s) URL.
export async function loadScrape(where) {
  let text;
  if (/^https?:\/\//.test(where)) {
    const res = await httpGet(where, 10000);
    if (res.status !== 200) throw new Error(`cannot scrape ${where}: HTTP ${res.status}`);
    text = res.body;
  } else {
    try {
      text = await readFile(where, 'utf8');
    } catch (e) {
      throw new Error(`cannot read the scrape file ${where}: ${e.message}`);
    }
  }
  const inv = parseScrape(text, where);
  if (inv.metrics.size === 0) throw new Error(`the scrape ${where} holds no metrics: scrape a running process`);
  return inv;
}
