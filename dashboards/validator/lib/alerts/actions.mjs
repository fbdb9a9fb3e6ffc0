// actions: what a live scenario's steps do — the faults and changes, each real: a file renamed
// away and back, SQL run on the live database by another process (a migration's trigger), the
// write lock held by another process in a cycle, signals to taskd (KILL, STOP, CONT) and its
// restart on the same port, a target dropped from and put back into Prometheus's configuration
// (reloaded with SIGHUP; done when its targets show it), a file system filled at a rate and its inodes taken, any shell command.
// Paths are confined to the scenario's work directory. An action returns when it has been done;
// those that go on in the background (hold_lock, fill) are stopped by their counterpart or at
// the end, and report when they reached their goal (`ctx.done()`, the `.done` mark).
//
// API: performAction(action, ctx) where ctx = { vars, dir, taskd (handle), restartTaskd(opts),
//      namespace, stacks: [{dir}], cleanup, background: Map, done(t), mark(name, t, stack) }
//      (mark: `STEP.name` at t, for one stack's prediction when stack is given)

import { spawn } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDuration } from './duration.mjs';
import { parseBytes } from './plan.mjs';
import { apiGet } from '../prometheus.mjs';
import { run } from './processes.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Another process holding SQLite's write lock: BEGIN IMMEDIATE, hold, COMMIT, release, again.
const HOLD_LOCK = `
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
hold, release = float(sys.argv[2]), float(sys.argv[3])
print("holding", flush=True)
while True:
    db.execute("BEGIN IMMEDIATE")
    time.sleep(hold)
    db.execute("COMMIT")
    time.sleep(release)
`;

// A disk filling up: first takes all but N inodes with empty files, then grows a ballast file at
// a rate until the file system has `leave` bytes free, then says "done" and waits. It says when
// each part began or ended by its own clock ("mark inodes T", "mark filling T", "done T"): the
// helper starts a while after the step's mark (a Python start, in a namespace, on a busy
// machine: seen over 3 s), and the model follows the disk, not the step.
const FILL = `
import os, sys, time
d, rate, leave, leave_inodes = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(d, exist_ok=True)
st = os.statvfs(d)
if leave_inodes >= 0:
    i = 0
    while os.statvfs(d).f_favail > leave_inodes:
        open(os.path.join(d, "inode-%d" % i), "w").close()
        i += 1
    print("mark inodes %.3f" % time.time(), flush=True)
ballast = os.path.join(d, "ballast")
f = open(ballast, "wb")
size, t0, step = 0, time.time(), 0.05
print("mark filling %.3f" % t0, flush=True)
while True:
    st = os.statvfs(d)
    free = st.f_bavail * st.f_frsize
    if free <= leave:
        break
    due = int(rate * (time.time() - t0))
    grow = min(due - size, free - leave)
    if grow > 0:
        os.posix_fallocate(f.fileno(), size, grow)
        size += grow
    time.sleep(step)
print("done %.3f" % time.time(), flush=True)
time.sleep(86400)
`;

function inside(dir, p, what) {
  const abs = path.resolve(p);
  if (abs !== dir && !abs.startsWith(`${dir}${path.sep}`)) throw new Error(`${what}: ${p} is outside the scenario's work directory ${dir}`);
  return abs;
}

// A background helper process (in the mount namespace when there is one); resolves once it
// printed `ready` (or at once), keeps reading its output for the lines "done [T]" (the step's
// `.done` mark) and "mark NAME T" (a mark `STEP.NAME`), T in seconds since the epoch. The step's
// ctx.done and ctx.mark are taken now: the helper reports after later steps have begun.
function helper(ctx, name, script, args, ready) {
  const { done, mark } = ctx;
  const at = (t) => (t ? Math.round(Number(t) * 1000) : Date.now());
  const argv = ['-c', script, ...args];
  const child = ctx.namespace ? ctx.namespace.spawn('python3', argv, { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn('python3', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let lines = 0;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
    }
  };
  ctx.cleanup.add(stop);
  ctx.background.set(name, { child, stop, output: () => out });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (ready && out.includes(ready)) resolve();
      const complete = out.split('\n').slice(0, -1);
      for (const line of complete.slice(lines)) {
        const m = /^(?:done(?: ([\d.]+))?|mark (\S+) ([\d.]+))$/.exec(line.trim());
        if (m && m[2]) mark(m[2], at(m[3]));
        else if (m) done(at(m[1]));
      }
      lines = complete.length;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => reject(new Error(`${name} stopped (exit ${code}): ${out.trim().split('\n').slice(-2).join(' | ')}`)));
    if (!ready) resolve();
  });
}

// Rewrites a stack's prometheus.yml, has Prometheus reload it (SIGHUP), and returns once its
// active targets say the change took effect (`present`: whether `address` must be scraped),
// with the time of the last scrape of `address` before it was dropped, or of the first after it
// was put back.
async function withPrometheusConfig(stack, address, present, edit) {
  const file = path.join(stack.dir, 'prometheus.yml');
  const text = await readFile(file, 'utf8');
  stack.originalConfig ??= text;
  await writeFile(file, edit(text));
  const pid = Number((await readFile(path.join(stack.dir, 'prometheus.pid'), 'utf8')).trim());
  stack.reloads = (stack.reloads || 0) + 1;
  const sent = Date.now();
  process.kill(pid, 'SIGHUP');
  const deadline = sent + 15000;
  while (Date.now() < deadline) {
    const t = await apiGet(stack.env.PROMETHEUS_URL, '/api/v1/targets');
    if (t.activeTargets.some((x) => x.labels.instance === address) === present) return scrapeTime(stack, address, present, sent);
    await sleep(50);
  }
  throw new Error(`Prometheus at ${stack.env.PROMETHEUS_URL} did not ${present ? 'add' : 'drop'} the target ${address} within 15 s of the reload`);
}

// When Prometheus really stopped or began scraping `address`, from its own samples of `up`: the
// last before the drop (its stale markers follow 2.1 intervals later), or the first since `since`.
// The targets page tells it later than that: it is polled over HTTP, and on a busy machine the
// answer that showed the change has come 1-2 s after it.
async function scrapeTime(stack, address, present, since) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const data = await apiGet(stack.env.PROMETHEUS_URL, '/api/v1/query', { query: `up{instance="${address}"}[60s]`, time: (Date.now() / 1000).toFixed(3) });
    const times = (data.result[0]?.values || []).map(([t]) => Math.round(Number(t) * 1000));
    const t = present ? times.find((x) => x >= since) : times.at(-1);
    if (t !== undefined) return t;
    if (Date.now() > deadline) throw new Error(`Prometheus at ${stack.env.PROMETHEUS_URL} has no sample of up{instance="${address}"} ${present ? 'since the reload' : 'in the last minute'}`);
    await sleep(100);
  }
}

export async function performAction(action, ctx) {
  const [kind] = Object.keys(action);
  const arg = action[kind];
  const inNs = (cmd, args) => (ctx.namespace ? ctx.namespace.run(cmd, args) : run(cmd, args));
  switch (kind) {
    case 'move':
      await rename(inside(ctx.dir, arg.from, 'move'), inside(ctx.dir, arg.to, 'move'));
      return;
    case 'sql': {
      const r = await inNs('sqlite3', ['-cmd', '.timeout 10000', ctx.vars.db, String(arg)]);
      if (r.code !== 0) throw new Error(`sql on ${ctx.vars.db}: ${r.missing ? 'sqlite3 is not installed (make deps)' : r.out.trim()}`);
      return;
    }
    case 'hold_lock':
      await helper(ctx, 'hold_lock', HOLD_LOCK, [ctx.vars.db, String(parseDuration(arg.hold) / 1000), String(parseDuration(arg.release) / 1000)], 'holding');
      return;
    case 'release_lock':
    case 'unfill': {
      const name = kind === 'release_lock' ? 'hold_lock' : 'fill';
      const h = ctx.background.get(name);
      if (!h) throw new Error(`${kind}: no ${name} is running`);
      h.child.removeAllListeners('close');
      await h.stop();
      ctx.background.delete(name);
      if (kind === 'unfill') {
        const r = await inNs('rm', ['-rf', path.join(ctx.vars.data, 'taskbench-fill')]);
        if (r.code !== 0) throw new Error(`unfill: ${r.out.trim()}`);
      }
      return;
    }
    case 'fill': {
      const dir = path.join(ctx.vars.data, 'taskbench-fill');
      const p = helper(ctx, 'fill', FILL, [dir, String(parseBytes(arg.rate || '1GiB/s', 'fill.rate')), String(Math.round(parseBytes(arg.leave, 'fill.leave'))), String(arg.leave_inodes ?? -1)], null);
      p.catch((e) => ctx.fail(e));
      return;
    }
    case 'signal_taskd': {
      const sig = `SIG${String(arg).toUpperCase().replace(/^SIG/, '')}`;
      if (sig === 'SIGKILL') await ctx.taskd.stop('SIGKILL');
      else ctx.taskd.signal(sig);
      return;
    }
    case 'start_taskd':
      await ctx.restartTaskd(typeof arg === 'object' && arg ? { db: arg.db ? inside(ctx.dir, arg.db, 'start_taskd.db') : null } : {});
      return;
    case 'remove_target':
    case 'restore_target': {
      const address = ctx.vars.taskd;
      // Each stack's `STEP.last_scrape` or `STEP.first_scrape` mark (its own Prometheus's).
      await Promise.all(ctx.stacks.filter((s) => s.alive).map(async (stack) => {
        const t = await (kind === 'remove_target'
          ? withPrometheusConfig(stack, address, false, (text) => {
            const target = `['${address}']`;
            if (!text.includes(target)) throw new Error(`remove_target: ${stack.dir}/prometheus.yml has no ${target}`);
            return text.replace(target, '[]');
          })
          : withPrometheusConfig(stack, address, true, () => stack.originalConfig));
        ctx.mark(kind === 'remove_target' ? 'last_scrape' : 'first_scrape', t, stack);
      }));
      return;
    }
    case 'exec': {
      const r = await inNs('sh', ['-c', String(arg)]);
      if (r.code !== 0) throw new Error(`exec ${arg}: exit ${r.code}: ${r.out.trim().split('\n').slice(-3).join(' | ')}`);
      return;
    }
    default:
      throw new Error(`unknown action ${kind}`);
  }
}
