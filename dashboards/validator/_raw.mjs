import { loadRecord } from '/work/wt/i9b/dashboards/validator/lib/truth/record.mjs';
import { TruthRun } from '/work/wt/i9b/dashboards/validator/lib/truth/run.mjs';
import { compilePromQL, selectorsOf } from '/work/wt/i9b/dashboards/validator/lib/truth/promql_bounds.mjs';
import { instantQuery } from '/work/wt/i9b/dashboards/validator/lib/prometheus.mjs';
const rec = await loadRecord(process.argv[2]);
const tr = new TruthRun({ record: rec, alloyConfig: null, overrides: {} });
await tr.setup();
try {
  const sel = selectorsOf(compilePromQL(process.argv[3]));
  await tr.twins.prepare(sel);
  const twins = tr.twins.series(sel[0]);
  const real = await instantQuery(tr.promUrl, `${process.argv[3]}[3h]`, (rec.window.to + 4000) / 1000);
  const key = (l) => JSON.stringify(Object.entries(l).sort());
  const rm = new Map(real.map((s) => [key(s.metric), new Map(s.values)]));
  let bad = 0, n = 0;
  for (const s of twins) {
    const r = rm.get(key(s.labels));
    for (const x of s.samples) {
      n++;
      const v = r.get(x.t);
      if (!(v >= x.lo && v <= x.hi)) { bad++; if (bad < 15) console.log(new Date(x.t).toISOString(), JSON.stringify(s.labels), 'real', v, 'twin', x.lo, x.hi); }
    }
    for (const [t, v] of r) if (!s.samples.find((x) => x.t === t)) console.log('missing twin sample', new Date(t).toISOString(), JSON.stringify(s.labels), v);
  }
  console.log(bad, 'of', n, 'samples outside');
} finally { await tr.close(); }
