// processes: the programs a live scenario runs — taskd (restartable on its port, optionally on
// a tmpfs in a private mount namespace), loadgen, native stacks (stack/local/stack.sh) — each
// registered in a Cleanup so that everything started is stopped, by its own pid, on every way
// out (the end, an error, Ctrl-C).
//
// API: new Cleanup(); cleanup.add(fn); await cleanup.run()
//      startTaskd({ bin, dir, db, args, port, namespace }) -> { pid, port, url, stop(), signal(s) }
//      startLoadgen({ bin, url, rate, seconds, mix }) -> { pid, metrics (host:port), stop() }
//      MountNamespace.create(dir) (root only): a holder process whose private mount namespace
//        gets the tmpfs; run(cmd, args) runs a command inside it.
//      stackUp({ dir, compress, taskd, loadgen, webhook, rulesDir, alertmanagerConfig }) -> env
//      stackDown(dir)

import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { readEnvFile, STACK_SH } from './stack_config.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function run(cmd, args, { timeout = 120000, env } = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, maxBuffer: 8 << 20, env: env ? { ...process.env, ...env } : process.env }, (err, stdout, stderr) => {
      // Killed at the timeout: say so, since the command itself may have printed nothing yet.
      const killed = err?.killed ? `\n(killed by ${err.signal} after ${timeout / 1000} s)` : '';
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, missing: err?.code === 'ENOENT', out: `${stdout}${stderr}${killed}` });
    });
  });
}

export class Cleanup {
  constructor() {
    this.steps = [];
  }

  add(fn) {
    this.steps.push(fn);
    return fn;
  }

  async run() {
    while (this.steps.length) {
      const fn = this.steps.pop();
      try {
        await fn();
      } catch {
        // keep cleaning up
      }
    }
  }
}

// Waits until `pid` exits (or `ms` pass); true when it did.
async function exited(child, ms) {
  const deadline = Date.now() + ms;
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(20);
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopChild(child, signal = 'SIGTERM', graceMs = 10000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  if (!(await exited(child, graceMs))) {
    child.kill('SIGKILL');
    await exited(child, 5000);
  }
}

export class MountNamespace {
  // A `sleep infinity` in a private mount namespace: what is mounted there vanishes with it.
  static async create(dir, cleanup) {
    const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', 'infinity'], { stdio: 'ignore' });
    cleanup.add(() => stopChild(holder, 'SIGKILL'));
    await sleep(100);
    if (holder.exitCode !== null) throw new Error('unshare --mount failed (it needs root)');
    const ns = new MountNamespace(holder.pid, dir);
    return ns;
  }

  constructor(pid, dir) {
    this.pid = pid;
    this.dir = dir;
  }

  prefix() {
    return ['nsenter', ['--target', String(this.pid), '--mount', '--']];
  }

  async run(cmd, args) {
    return run('nsenter', ['--target', String(this.pid), '--mount', '--', cmd, ...args]);
  }

  spawn(cmd, args, opts) {
    return spawn('nsenter', ['--target', String(this.pid), '--mount', '--', cmd, ...args], opts);
  }

  async mountTmpfs(where, { size, inodes }) {
    const o = [`size=${size}`];
    if (inodes) o.push(`nr_inodes=${inodes}`);
    const r = await this.run('mount', ['-t', 'tmpfs', '-o', o.join(','), 'taskbench-alerts', where]);
    if (r.code !== 0) throw new Error(`cannot mount a tmpfs on ${where}: ${r.out.trim()}`);
  }
}

// taskd on 127.0.0.1 (port 0 the first time, then the same port), its log and port file in dir.
export async function startTaskd({ bin, dir, db, args = [], port = 0, namespace = null, cleanup }) {
  await mkdir(dir, { recursive: true });
  const portFile = path.join(dir, 'taskd.port');
  await rm(portFile, { force: true });
  const argv = ['--listen', `127.0.0.1:${port}`, '--port-file', portFile, '--db', db, '--log-file', path.join(dir, 'taskd.log'), ...args];
  const opts = { stdio: ['ignore', 'ignore', 'pipe'] };
  const child = namespace ? namespace.spawn(bin, argv, opts) : spawn(bin, argv, opts);
  let stderr = '';
  child.stderr.on('data', (d) => {
    if (stderr.length < 8192) stderr += d;
  });
  const entry = cleanup.add(() => stopChild(child));
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      const p = Number((await readFile(portFile, 'utf8')).trim());
      if (p > 0) {
        return {
          pid: child.pid,
          port: p,
          url: `http://127.0.0.1:${p}`,
          child,
          async stop(signal = 'SIGTERM') {
            await stopChild(child, signal);
            cleanup.steps = cleanup.steps.filter((s) => s !== entry);
          },
          signal(s) {
            // Under nsenter the child is nsenter itself, which execs taskd: same pid.
            process.kill(child.pid, s);
          },
        };
      }
    } catch {
      // not written yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`taskd did not start (${bin} ${argv.join(' ')}): ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no port file within 10 s'}`);
    }
    await sleep(25);
  }
}

// loadgen's task mix at `rate`, its own metrics on a free port (read from what it prints).
export async function startLoadgen({ bin, url, rate, seconds, mix = null, cleanup }) {
  const args = ['--rate', String(rate), '--duration', `${Math.ceil(seconds)}s`, '--metrics-listen', '127.0.0.1:0', '--quiet', '--no-progress', ...(mix ? ['--mix', mix] : []), url];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (d) => {
    if (out.length < 65536) out += d;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  cleanup.add(() => stopChild(child, 'SIGINT'));
  const deadline = Date.now() + 10000;
  for (;;) {
    const m = /serving metrics on http:\/\/(127\.0\.0\.1:\d+)\/metrics/.exec(out);
    if (m) return { pid: child.pid, metrics: m[1], child, stop: () => stopChild(child, 'SIGINT'), output: () => out };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`loadgen did not start: ${out.trim().split('\n').slice(-3).join(' | ')}`);
    await sleep(25);
  }
}

export async function stackUp({ dir, compress, taskd, loadgen, webhook, rulesDir, alertmanagerConfig, cleanup }) {
  const args = ['up', '--dir', dir, '--compress', String(compress), '--taskd', taskd, '--webhook', webhook];
  if (loadgen) args.push('--loadgen', loadgen);
  if (rulesDir) args.push('--rules', rulesDir);
  if (alertmanagerConfig) args.push('--alertmanager-config', alertmanagerConfig);
  cleanup.add(() => stackDown(dir));
  // Every stack of every scenario starts at once: on two busy cores one start (14 compress.py
  // runs, promtool, amtool, both servers ready) took over two minutes, and the default timeout
  // (120 s) killed every one.
  const r = await run(STACK_SH, args, { timeout: 300000 });
  if (r.code !== 0) throw new Error(`stack.sh up --compress ${compress} failed: ${r.out.trim().split('\n').slice(-6).join(' | ')}`);
  return readEnvFile(path.join(dir, 'stack.env'));
}

// Whether either server of a stack still runs (stack.sh status exits 0 only when both do).
export async function stackRunning(dir) {
  const r = await run(STACK_SH, ['status', '--dir', dir]);
  return /running \(pid/.test(r.out);
}

export async function stackDown(dir) {
  try {
    await stat(path.join(dir, 'stack.env'));
  } catch {
    return;
  }
  await run(STACK_SH, ['down', '--dir', dir]);
}
