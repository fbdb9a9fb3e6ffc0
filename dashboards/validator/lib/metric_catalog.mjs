// metric_catalog: what the validator knows about metrics — which exist, their type (counter,
// gauge, histogram bucket…) and the labels their series carry — gathered from whatever the user
// can give: scrapes of their services (files or /metrics URLs), a Prometheus (its
// /api/v1/metadata for types, /api/v1/labels?match[] for the labels of each metric a query
// names), and recording rules (their names, with labels and meaning read from their expressions).
//
// With no source at all nothing is claimed: existence is not checked and types come only from
// naming conventions (`_total`, `_bucket`, `_count`, `_sum` are counters); lookups say so
// (`guessed: true`) so that checks speak with the certainty they have.

import { apiGet } from './prometheus.mjs';
import { SYNTHETIC_METRICS, TARGET_LABELS, guessType, loadScrape } from './scrape.mjs';

export class MetricCatalog {
  constructor() {
    this.entries = new Map(); // name -> { type, labels: Set|null, source, help }
    this.sources = []; // human names of the sources
    this.prometheus = null; // url whose labels API answers lazily-prefetched names
    this.records = new Map(); // recorded name -> { expr: TextRef|string, file }
    this.recordInfo = new Map(); // recorded name -> { labels: Set|null, dim } once analysed
    this.uncovered = () => false; // names no given source is expected to cover (profile hook)
  }

  get hasSources() {
    return this.sources.length > 0;
  }

  add(name, info) {
    const had = this.entries.get(name);
    if (!had) {
      this.entries.set(name, { type: info.type || null, labels: info.labels ? new Set(info.labels) : null, source: info.source, help: info.help || '' });
      return;
    }
    if (info.type && (!had.type || had.type === 'unknown' || had.type === 'untyped')) had.type = info.type;
    if (info.labels) {
      had.labels ||= new Set();
      for (const l of info.labels) had.labels.add(l);
    }
  }

  async addScrape(where) {
    const inv = await loadScrape(where);
    for (const [name, e] of inv.metrics) this.add(name, { type: e.type, labels: e.sampled ? e.labels : null, source: `scrape ${where}` });
    this.sources.push(`scrape ${where}`);
  }

  // Types of every family Prometheus has metadata for; labels are fetched per name by prefetch().
  async addPrometheus(url) {
    const meta = await apiGet(url, '/api/v1/metadata');
    for (const [family, list] of Object.entries(meta)) {
      const type = list[0]?.type || 'unknown';
      const help = list[0]?.help || '';
      const source = `Prometheus ${url}`;
      if (type === 'histogram') {
        this.add(`${family}_bucket`, { type: 'counter', source, help, labels: null });
        this.add(`${family}_sum`, { type: 'counter', source, help });
        this.add(`${family}_count`, { type: 'counter', source, help });
      } else if (type === 'summary') {
        this.add(family, { type: 'gauge', source, help });
        this.add(`${family}_sum`, { type: 'counter', source, help });
        this.add(`${family}_count`, { type: 'counter', source, help });
      } else {
        this.add(family, { type: type === 'unknown' ? null : type, source, help });
      }
    }
    this.prometheus = url;
    this.sources.push(`Prometheus ${url}`);
  }

  // Labels (and existence) of the named metrics from the Prometheus, over its last day. A metric
  // with series but no metadata (a recording rule evaluated there, a federated series) counts.
  async prefetch(names) {
    if (!this.prometheus) return;
    const end = Math.floor(Date.now() / 1000);
    const queue = [...new Set(names)].filter((n) => !SYNTHETIC_METRICS.has(n) && !this.records.has(n));
    const worker = async () => {
      while (queue.length) {
        const name = queue.shift();
        try {
          const labels = await apiGet(this.prometheus, '/api/v1/labels', { 'match[]': name, start: end - 86400, end });
          if (labels.length) this.add(name, { labels: labels.filter((l) => l !== '__name__'), source: `Prometheus ${this.prometheus}` });
          else if (this.entries.has(name) && this.entries.get(name).labels === null) this.entries.get(name).noSeries = true;
        } catch {
          // the metadata still answers for the type; labels stay unknown
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  }

  addRecordingRule(name, expr, file) {
    this.records.set(name, { expr, file });
  }

  // { type, labels: Set|null, source, guessed, recorded, synthetic } or null when unknown.
  lookup(name) {
    if (SYNTHETIC_METRICS.has(name)) {
      const labels = name.startsWith('ALERTS') ? null : new Set(TARGET_LABELS);
      return { type: SYNTHETIC_METRICS.get(name), labels, source: 'Prometheus itself', synthetic: true };
    }
    if (this.records.has(name)) {
      const info = this.recordInfo.get(name) || {};
      return { type: 'gauge', labels: info.labels || null, dim: info.dim, source: `recording rule in ${this.records.get(name).file}`, recorded: true };
    }
    const e = this.entries.get(name);
    if (e) return { type: e.type || guessType(name), labels: e.labels, source: e.source, guessed: !e.type };
    return null;
  }

  // The type to reason with: known, else the naming convention's guess (flagged as such).
  typeOf(name) {
    const info = this.lookup(name);
    if (info) return { type: info.type, guessed: !!info.guessed };
    return { type: guessType(name) === 'counter' ? 'counter' : null, guessed: true };
  }

  names() {
    return [...this.entries.keys(), ...this.records.keys()];
  }
}
