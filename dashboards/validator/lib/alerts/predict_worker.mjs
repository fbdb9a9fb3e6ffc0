// predict_worker: predictions on every core. A pool of worker threads, each loading the modules
// once and keeping the stacks it has read, takes jobs from a queue; a job names a stack directory
// (its compressed configuration is read in the worker) and carries the plain data
// buildPrediction() takes.
//
// API: predictInWorkers(jobs, threads, { settle, nice }) -> Promise<[prediction]> (same order as
//      jobs; with settle, a job that failed gives its Error in its place instead of rejecting;
//      nice: the workers' threads run at that niceness, so that live stacks keep their timing)

import { cpus, setPriority } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { buildPrediction } from './plan.mjs';
import { readStack } from './stack_config.mjs';

if (!isMainThread && workerData?.predictionWorker) {
  const stacks = new Map();
  // On Linux a niceness is a thread's: 0 is this worker thread alone.
  if (workerData.nice) {
    try {
      setPriority(0, workerData.nice);
    } catch {
      // not allowed here: run at the process's niceness
    }
  }
  parentPort.on('message', async ({ id, job }) => {
    try {
      if (!stacks.has(job.stackDir)) stacks.set(job.stackDir, await readStack(job.stackDir));
      const p = buildPrediction({ ...job, stack: stacks.get(job.stackDir) }).prediction;
      // Plain data only: the parsed rule carries the evaluator's caches.
      for (const a of p.alerts) if (a.rule) a.rule = { name: a.rule.name, group: a.rule.group, file: a.rule.file, forMs: a.rule.forMs, expr: a.rule.expr, labels: a.rule.labels };
      parentPort.postMessage({ id, ok: true, p });
    } catch (e) {
      parentPort.postMessage({ id, ok: false, error: e.message });
    }
  });
}

export async function predictInWorkers(jobs, threads = cpus().length, { settle = false, nice = 0 } = {}) {
  const results = new Array(jobs.length);
  let next = 0;
  const n = Math.max(1, Math.min(threads, jobs.length));
  const workers = Array.from({ length: n }, () => new Worker(new URL(import.meta.url), { workerData: { predictionWorker: true, nice } }));
  try {
    await Promise.all(workers.map(async (w) => {
      while (next < jobs.length) {
        const i = next++;
        const one = new Promise((resolve, reject) => {
          const onMessage = (m) => {
            if (m.id !== i) return;
            w.off('message', onMessage);
            w.off('error', onError);
            if (m.ok) resolve(m.p);
            else reject(new Error(m.error));
          };
          const onError = (e) => reject(new Error(`a prediction worker failed: ${e?.message || e}`));
          w.on('message', onMessage);
          w.once('error', onError);
          w.postMessage({ id: i, job: jobs[i] });
        });
        results[i] = settle ? await one.catch((e) => e) : await one;
      }
    }));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
