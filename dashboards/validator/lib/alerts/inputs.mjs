// inputs: what `validator alerts` works on — the scenarios (files or directories), their model
// templates, the rule files and the Alertmanager configuration — with `--with FILE` standing in
// for the rule file or Alertmanager configuration of the same name (how an edit is tried, and how
// the lie suite hands over its edited copy).
//
// API: resolveInputs(opts, work) -> { scenarios, templates, rulesDir, alertmanagerConfig, replaced }

import { copyFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ROOT } from '../paths.mjs';
import { loadScenario, loadScenarioDir, loadTemplates } from './scenario.mjs';

export const DEFAULT_SCENARIOS = path.join(ROOT, 'stack/prometheus/scenarios');
export const DEFAULT_RULES = path.join(ROOT, 'stack/prometheus/rules');
export const DEFAULT_ALERTMANAGER = path.join(ROOT, 'stack/alertmanager/alertmanager.yml');

async function isDir(p) {
  try {
    return (await stat(p)).isDirectory();
  } catch (e) {
    throw new Error(`cannot read ${p}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
  }
}

export async function resolveInputs(o, work) {
  const sources = o.scenarios?.length ? o.scenarios : [DEFAULT_SCENARIOS];
  const scenarios = [];
  let templates = {};
  for (const s of sources) {
    if (await isDir(s)) {
      scenarios.push(...(await loadScenarioDir(s)));
      templates = { ...templates, ...(await loadTemplates(s)) };
    } else {
      scenarios.push(await loadScenario(s));
      templates = { ...(await loadTemplates(path.dirname(s))), ...templates };
    }
  }
  const names = new Set();
  for (const s of scenarios) {
    if (names.has(s.name)) throw new Error(`two scenarios are named ${s.name} (${s.file})`);
    names.add(s.name);
  }
  let picked = scenarios;
  if (o.only?.length) {
    for (const n of o.only) if (!names.has(n)) throw new Error(`--only ${n}: no such scenario (known: ${[...names].join(', ')})`);
    picked = scenarios.filter((s) => o.only.includes(s.name));
  }
  let rulesDir = o.rules || DEFAULT_RULES;
  let alertmanagerConfig = o.alertmanagerConfig || DEFAULT_ALERTMANAGER;
  if (!(await isDir(rulesDir))) throw new Error(`--rules ${rulesDir} is not a directory of rule files`);
  const replaced = [];
  if (o.with?.length) {
    const copy = path.join(work, 'with-rules');
    await mkdir(copy, { recursive: true });
    for (const f of (await readdir(rulesDir)).filter((x) => x.endsWith('.yml'))) await copyFile(path.join(rulesDir, f), path.join(copy, f));
    for (const w of o.with) {
      let doc;
      try {
        doc = parseYaml(await readFile(w, 'utf8'));
      } catch (e) {
        throw new Error(`--with ${w}: ${e.code === 'ENOENT' ? 'no such file' : `not valid YAML (${e.message.split('\n')[0]})`}`);
      }
      if (doc && Array.isArray(doc.groups)) {
        await copyFile(w, path.join(copy, path.basename(w)));
        replaced.push({ file: w, as: path.join(path.relative(ROOT, rulesDir), path.basename(w)) });
      } else if (doc && doc.route) {
        alertmanagerConfig = w;
        replaced.push({ file: w, as: 'the Alertmanager configuration' });
      } else {
        throw new Error(`--with ${w} is neither a rule file nor an Alertmanager configuration`);
      }
    }
    rulesDir = copy;
  }
  return { scenarios: picked, allScenarios: scenarios, templates, rulesDir, alertmanagerConfig, replaced };
}
