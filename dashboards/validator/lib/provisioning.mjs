// provisioning: reads Grafana's provisioning files — the datasources, with the fixed uids
// dashboards refer to, their types and the scrape interval Grafana assumes for each.

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

export async function exists(p) {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

// Every *.yml / *.yaml under dir, recursively; [] when dir does not exist.
export async function yamlFiles(dir) {
  if (!(await exists(dir))) return [];
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await yamlFiles(p)));
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

// The provisioned datasources: [{ uid, type, name, url, isDefault, jsonData, file }]. Throws when a file
// does not parse, a datasource has no uid, or there is none at all.
export async function provisionedDatasources(dir) {
  const out = [];
  for (const f of await yamlFiles(path.join(dir, 'datasources'))) {
    let doc;
    try {
      doc = parseYaml(await readFile(f, 'utf8'), { uniqueKeys: true });
    } catch (e) {
      throw new Error(`${f} is not valid YAML: ${e.message}`);
    }
    for (const d of doc?.datasources || []) {
      if (!d.uid) throw new Error(`${f}: datasource "${d.name}" has no uid; dashboards need fixed uids`);
      out.push({ uid: d.uid, type: d.type, name: d.name, url: d.url, isDefault: !!d.isDefault, jsonData: d.jsonData || {}, file: f });
    }
  }
  if (!out.length) throw new Error(`no provisioned datasources under ${dir}/datasources`);
  return out;
}
