// claims: what each panel claims to show, written down apart from the dashboard — the spec a
// panel's query is held to. A claim is a query in the panel's own language (PromQL or LogQL,
// with the same variables and macros) that computes what the panel means, and the unit its
// result is in; or "none" with the reason no ground truth can exist for it. The truth side
// evaluates the claim over what the run recorded, the panel side evaluates the panel's query as
// Grafana would: a panel whose query computes something else (another status class, a dropped
// filter, another quantile) then disagrees with its claim even though both parse.
//
// A dashboard without claims is still checked, against its own queries: that finds metrics and
// queries that do not measure what happened, but not a query that asks for the wrong thing.
//
//   dashboards/claims/NAME.json, for dashboards/NAME.json:
//   { "schema": "taskbench.claims/1", "dashboard": "UID",
//     "panels": { "PANEL TITLE": { "A": { "means": "in words", "expr": "...", "unit": "reqps" },
//                                  "B": { "means": "...", "none": "why no record can be its truth" } } } }

import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { exists } from '../provisioning.mjs';

// The claims of a dashboard: claims/NAME.json beside it; else, from a claims directory given
// (--claims DIR), the file for its uid, else the one with its file name (a copy keeps its name).
export async function claimsFor(dashboardFile, uid, claimsDir) {
  const beside = path.join(path.dirname(dashboardFile), 'claims', path.basename(dashboardFile));
  if (await exists(beside)) return loadClaims(beside);
  if (!claimsDir) return null;
  const files = (await readdir(claimsDir)).filter((f) => f.endsWith('.json')).sort();
  const all = [];
  for (const f of files) all.push(await loadClaims(path.join(claimsDir, f)));
  return all.find((c) => c.dashboard === uid) || all.find((c) => path.basename(c.file) === path.basename(dashboardFile)) || null;
}

// Reads a claims file. Returns { file, dashboard (uid), panels: Map title -> Map refId -> claim }.
export async function loadClaims(file) {
  let j;
  try {
    j = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read the claims ${file}: ${e.message}`);
  }
  if (j.schema !== 'taskbench.claims/1') throw new Error(`${file} is not a claims file (schema "taskbench.claims/1")`);
  const panels = new Map();
  for (const [title, targets] of Object.entries(j.panels || {})) {
    const m = new Map();
    for (const [refId, c] of Object.entries(targets)) {
      if (typeof c.none === 'string') m.set(refId, { none: c.none, means: c.means || null });
      else if (typeof c.expr === 'string') m.set(refId, { expr: c.expr, unit: c.unit ?? null, means: c.means || null });
      else throw new Error(`${file}: panel "${title}" target ${refId}: a claim needs "expr" (and "unit") or "none" (the reason)`);
    }
    panels.set(title, m);
  }
  return { file, dashboard: j.dashboard || null, panels };
}
