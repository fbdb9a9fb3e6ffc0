// stack_config: the configuration a native stack (stack/local/stack.sh) runs — its rule files,
// Alertmanager configuration and timings, time-compressed by compress.py — read for prediction.
// `generate` writes it without starting anything, so a prediction and a live run of the same
// compression see byte for byte the same files.
//
// API: generateStack({ dir, compress, rulesDir, alertmanagerConfig }) -> dir (throws on failure)
//      readStack(dir) -> { groups, am, timings: { scrape, scrapeTimeout, evaluation, lookback,
//                          resendDelay, groupWait, groupInterval } (ms), compress, env }

import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from '../paths.mjs';
import { loadRuleFiles } from './rule_set.mjs';
import { parseAlertmanagerConfig } from './routing.mjs';

export const STACK_SH = path.join(ROOT, 'stack/local/stack.sh');

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 120000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

export async function generateStack({ dir, compress, rulesDir, alertmanagerConfig }) {
  const args = ['generate', '--dir', dir, '--compress', String(compress)];
  if (rulesDir) args.push('--rules', rulesDir);
  if (alertmanagerConfig) args.push('--alertmanager-config', alertmanagerConfig);
  const r = await run(STACK_SH, args);
  if (r.code !== 0) throw new Error(`stack.sh generate --compress ${compress} failed: ${r.out.trim().split('\n').slice(-6).join(' | ')}`);
  return dir;
}

// KEY=VALUE lines.
export async function readEnvFile(file) {
  const env = {};
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}

export async function readStack(dir) {
  const env = await readEnvFile(path.join(dir, 'timings.env'));
  const ms = (k) => {
    const v = Number(env[k]);
    if (!Number.isFinite(v)) throw new Error(`${dir}/timings.env has no ${k}`);
    return Math.round(v * 1000);
  };
  // Prometheus loads rules/*.yml in the glob's (sorted) order.
  const files = (await readdir(path.join(dir, 'rules'))).filter((f) => f.endsWith('.yml')).sort();
  const groups = await loadRuleFiles(files.map((f) => path.join(dir, 'rules', f)), { labels: files.map((f) => `rules/${f}`) });
  const amFile = path.join(dir, 'alertmanager.yml');
  const am = parseAlertmanagerConfig(await readFile(amFile, 'utf8'), amFile);
  return {
    dir,
    compress: Number(env.COMPRESS),
    groups,
    am,
    timings: {
      scrape: ms('SCRAPE_INTERVAL_SECONDS'),
      scrapeTimeout: ms('SCRAPE_TIMEOUT_SECONDS'),
      evaluation: ms('EVALUATION_INTERVAL_SECONDS'),
      lookback: ms('LOOKBACK_SECONDS'),
      resendDelay: ms('RESEND_DELAY_SECONDS'),
      groupWait: ms('GROUP_WAIT_SECONDS'),
      groupInterval: ms('GROUP_INTERVAL_SECONDS'),
    },
    env,
  };
}
