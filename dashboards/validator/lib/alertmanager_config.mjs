// alertmanager_config: anyone's Alertmanager configuration — checked by amtool (`amtool
// check-config`, Alertmanager's own loader), then for the mistake the blog's stack shipped: a
// route that delivers to a receiver with no notification config, so every alert routed there is
// dropped without a trace.
//
// API: looksLikeAlertmanagerConfig(doc), checkAlertmanagerConfig({ path, label }, report)

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { SourceFile } from './source_text.mjs';

export function looksLikeAlertmanagerConfig(doc) {
  return doc && typeof doc === 'object' && (doc.route !== undefined || Array.isArray(doc.receivers));
}

function amtool(file, bin = 'amtool') {
  return new Promise((resolve) => {
    execFile(bin, ['check-config', file], { timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, missing: err?.code === 'ENOENT', out: `${stdout}${stderr}` });
    });
  });
}

// Returns false when amtool is not installed (the caller notes it).
export async function checkAlertmanagerConfig({ path: p, label }, report) {
  const text = await readFile(p, 'utf8');
  const source = new SourceFile(label, text);
  let amtoolRan = true;
  const r = await amtool(p);
  if (r.missing) amtoolRan = false;
  else if (r.code !== 0) {
    const msg = r.out.split('\n').filter((l) => l.trim() && !/^amtool: error: failed to validate/.test(l)).join(' ').replace(/^Checking '[^']*'\s*/, '').replaceAll(p, label);
    report.finding('amtool', { file: label }, `amtool check-config: ${msg}`);
    return amtoolRan;
  }
  const doc = parseDocument(text);
  const receivers = new Map();
  for (const item of doc.get('receivers', true)?.items || []) {
    const name = item.get?.('name');
    const integrations = (item.items || []).filter((pair) => /_configs$/.test(String(pair.key?.value ?? pair.key)) && (pair.value?.items || []).length);
    receivers.set(name, { integrations: integrations.length, offset: item.range?.[0] ?? 0 });
  }
  const visit = (route, inherited) => {
    if (!route?.get) return;
    const name = route.get('receiver') ?? inherited;
    const rec = receivers.get(name);
    const matchers = [...(route.get('matchers')?.toJSON?.() || []), ...Object.entries(route.get('match')?.toJSON?.() || {}).map(([k, v]) => `${k}=${v}`), ...Object.entries(route.get('match_re')?.toJSON?.() || {}).map(([k, v]) => `${k}=~${v}`)];
    // A route with matchers that sends to a receiver without integrations is how alerts are
    // silenced on purpose (Watchdog); a catch-all route doing it drops everything else.
    if (rec && rec.integrations === 0 && name !== undefined && matchers.length === 0) {
      report.finding('alertmanager-receiver', { file: label, receiver: name, node: { source, offset: route.range?.[0] ?? 0 } },
        `a catch-all route delivers to receiver "${name}", which has no notification config: every alert routed there is dropped without a trace; give it a webhook/email/… config, or route only what you mean to silence there (with matchers)`);
    }
    for (const child of route.get('routes', true)?.items || []) visit(child, name);
  };
  visit(doc.get('route', true), undefined);
  return amtoolRan;
}
