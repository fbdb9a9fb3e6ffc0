// lie_suite: known-bad edits ("lies") of dashboards and rule files, applied to copies, so the
// validator can be tested against the mistakes it exists to catch — a mutation test for a
// dashboard checker. A suite file is JSON:
//
//   { "runs": { "<kind>": { "command": "check", "args": ["--profile", "taskbench", "--scrape",
//                 "${SCRAPE}"], "batch": true, "needs": ["SCRAPE"] } },
//     "lies": [ { "name": "...", "kind": "<kind>", "file": "dashboards/red.json",
//                 "edit": {...} | [{...}, ...],
//                 "expect": { "check": "unit", "panel": "p99 latency", "target": "A",
//                             "rule": "...", "message": "substring" },
//                 "args": [...] } ] }       (optional: appended to its kind's args, unbatched)
//
// Edits (paths are relative to the suite's root, the repository):
//   { "panel": T, "target": R, "replace": [from, to] }     in that target's expr (must occur)
//   { "panel": T, "target": R, "field": "legendFormat", "replace"|"set": ... }
//   { "panel": T, "set": { "fieldConfig.defaults.unit": "ms" } }   (null deletes the key)
//   { "dashboard": true, "set": { "templating.list.0.current.value": "x" } }
//   { "variable": NAME, "set": { "query": "..." } }
//   { "text": { "replace": [from, to] } }                  any file, exactly one occurrence
// A run's args may use ${NAME} from the environment; a kind whose `needs` are not all set is not
// run (its lies are listed as skipped, with the reason). `${FILE}` stands for the edited copy;
// without it the copy (or, in a batch, every copy) is appended to the args.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class SuiteError extends Error {}

function setPath(obj, dotted, value) {
  const keys = dotted.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (o[k] === undefined || o[k] === null) o[k] = {};
    o = o[k];
  }
  const last = keys[keys.length - 1];
  if (value === null) delete o[last];
  else o[last] = value;
}

function replaceOnce(text, [from, to], what) {
  const n = text.split(from).length - 1;
  if (n !== 1) throw new SuiteError(`${what}: "${from}" occurs ${n} times (an edit must match exactly once)`);
  return text.replace(from, () => to);
}

function findPanel(d, title) {
  const all = [];
  const walk = (list) => {
    for (const p of list || []) {
      all.push(p);
      walk(p.panels);
    }
  };
  walk(d.panels);
  for (const r of d.rows || []) walk(r.panels);
  const p = all.find((x) => x.title === title);
  if (!p) throw new SuiteError(`no panel "${title}"`);
  return p;
}

// Applies one lie's edits to a file's text; returns the new text.
export function applyEdits(text, edits, file) {
  const list = Array.isArray(edits) ? edits : [edits];
  let out = text;
  const textEdits = list.filter((e) => e.text);
  for (const e of textEdits) out = replaceOnce(out, e.text.replace, file);
  const jsonEdits = list.filter((e) => !e.text);
  if (!jsonEdits.length) return out;
  const d = JSON.parse(out);
  for (const e of jsonEdits) {
    let obj;
    if (e.panel) {
      obj = findPanel(d, e.panel);
      if (e.target) {
        obj = (obj.targets || []).find((t) => t.refId === e.target);
        if (!obj) throw new SuiteError(`panel "${e.panel}" has no target ${e.target}`);
      }
    } else if (e.variable) {
      obj = (d.templating?.list || []).find((v) => v.name === e.variable);
      if (!obj) throw new SuiteError(`no variable ${e.variable}`);
    } else if (e.dashboard) obj = d;
    else throw new SuiteError(`edit ${JSON.stringify(e)} names no panel, variable, dashboard or text`);
    const field = e.field || 'expr';
    if (e.replace) {
      if (typeof obj[field] !== 'string') throw new SuiteError(`${e.panel || e.variable} has no ${field} to edit`);
      obj[field] = replaceOnce(obj[field], e.replace, `${e.panel || e.variable} ${field}`);
    }
    for (const [k, v] of Object.entries(e.set || {})) setPath(obj, k, v);
  }
  return `${JSON.stringify(d, null, 2)}\n`;
}

export async function loadSuites(files) {
  const runs = {};
  const lies = [];
  for (const f of files) {
    let s;
    try {
      s = JSON.parse(await readFile(f, 'utf8'));
    } catch (e) {
      throw new SuiteError(`cannot read the lie suite ${f}: ${e.message}`);
    }
    Object.assign(runs, s.runs || {});
    for (const l of s.lies || []) {
      if (!l.name || !l.kind || !l.file || !l.edit || !l.expect?.check) throw new SuiteError(`${f}: every lie needs name, kind, file, edit and expect.check (${JSON.stringify(l).slice(0, 120)})`);
      lies.push({ ...l, suite: f });
    }
  }
  const names = new Set();
  for (const l of lies) {
    if (names.has(l.name)) throw new SuiteError(`two lies are named "${l.name}"`);
    names.add(l.name);
    if (!runs[l.kind]) throw new SuiteError(`lie "${l.name}" is of kind "${l.kind}", which no suite says how to run`);
  }
  return { runs, lies };
}

// Writes lie i's edited copy under workDir/lie-NN/<same relative path>; returns its path.
export async function writeCopy(root, workDir, lie, index, { renameUid }) {
  const src = path.join(root, lie.file);
  let text = applyEdits(await readFile(src, 'utf8'), lie.edit, lie.file);
  if (renameUid && /\.json$/.test(lie.file)) {
    const d = JSON.parse(text);
    d.uid = `lie-${index}`;
    d.title = `${d.title} (lie ${index})`;
    text = `${JSON.stringify(d, null, 2)}\n`;
  }
  const dest = path.join(workDir, `lie-${String(index).padStart(2, '0')}`, lie.file);
  await mkdir(path.dirname(dest), { recursive: true });
  await writeFile(dest, text);
  return dest;
}

// Whether a report finding is the one a lie expects.
export function matchesExpectation(f, expect) {
  if (f.check !== expect.check) return false;
  if (expect.panel && f.panel?.title !== expect.panel) return false;
  if (expect.target && f.target !== expect.target) return false;
  if (expect.rule && f.rule?.name !== expect.rule) return false;
  if (expect.variable && f.variable !== expect.variable) return false;
  if (expect.message) {
    const m = /^\/(.*)\/$/.exec(expect.message);
    if (m ? !new RegExp(m[1]).test(f.message) : !f.message.includes(expect.message)) return false;
  }
  return true;
}

// ${NAME} from the environment; returns null (and the missing names) when one is unset.
export function expandArgs(args, env, extra = {}) {
  const missing = new Set();
  const out = args.map((a) => a.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_, n) => {
    if (Object.prototype.hasOwnProperty.call(extra, n)) return extra[n];
    if (env[n] === undefined || env[n] === '') {
      missing.add(n);
      return '';
    }
    return env[n];
  }));
  return { args: out, missing: [...missing] };
}
