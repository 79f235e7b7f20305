/**
 * A run: the workers (the main thread's own with -t 1, worker threads
 * otherwise), started together; the clock runs from their start to the
 * last result (h2load's "finished in"). Lines the workers print and the
 * progress reach the caller through RunIo.
 */
import type { Worker } from 'node:worker_threads';
import { type BenchConfig, planWorkers, type WorkerPlan } from './config.js';
import { type Summary, summarize } from './report.js';
import { monotonicMs, type WorkerResult } from './stats.js';
import type { ThreadData, ThreadMessage } from './thread.js';
import { startThread } from './thread-source.js';
import { BenchWorker } from './worker.js';

export interface RunIo {
  /** Lines as h2load prints them while it runs ("starting benchmark...", "spawning thread #0: ..."). */
  line(text: string): void;
  /** Called every `progressInterval` ms with the requests done and the clients made so far. */
  progress?: (done: number, made: number) => void;
  progressInterval?: number;
}

export interface RunResult {
  summary: Summary;
  /** The first connection's "Application protocol" (null when none was made). */
  applicationProtocol: string | null;
}

export async function runBench(config: BenchConfig, io: RunIo): Promise<RunResult> {
  const plans = planWorkers(config);
  let protocol: string | null = null;
  const line = (text: string) => {
    const m = /^Application protocol: (.*)$/.exec(text);
    if (m) protocol = m[1]!;
    io.line(text);
  };
  io.line('starting benchmark...');
  for (const p of plans) io.line(BenchWorker.spawningLine(config, p));
  let results: WorkerResult[];
  let elapsed: number;
  if (plans.length === 1) {
    const w = new BenchWorker(config, plans[0]!, { line });
    await w.warmUp();
    const timer = io.progress ? setInterval(() => io.progress!(w.counters.done, w.made), io.progressInterval ?? 250) : null;
    const start = monotonicMs();
    try {
      results = [await w.run()];
    } finally {
      if (timer !== null) clearInterval(timer);
    }
    elapsed = (results[0]!.endedAt - start) / 1000;
  } else {
    ({ results, elapsed } = await runThreads(config, plans, line, io));
  }
  return { summary: summarize(config, results, elapsed), applicationProtocol: protocol };
}

async function runThreads(
  config: BenchConfig,
  plans: WorkerPlan[],
  line: (t: string) => void,
  io: RunIo,
): Promise<{ results: WorkerResult[]; elapsed: number }> {
  const progress = new Int32Array(new SharedArrayBuffer(plans.length * 2 * 4));
  const workers: Worker[] = [];
  const results: WorkerResult[] = new Array(plans.length);
  let start = 0;
  let end = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      let ready = 0;
      let finished = 0;
      for (const plan of plans) {
        const data: ThreadData = { config, plan, progress };
        const w = startThread(data);
        workers.push(w);
        w.on('error', (e) => reject(e));
        w.on('exit', (code) => {
          if (results[plan.id] === undefined) reject(new Error(`worker thread #${plan.id} exited (${code}) before it reported`));
        });
        w.on('message', (m: ThreadMessage) => {
          if (m.type === 'line') return line(m.text);
          if (m.type === 'error') return reject(new Error(`worker thread #${plan.id}: ${m.message}`));
          if (m.type === 'ready') {
            if (++ready < plans.length) return;
            // Every thread has loaded: go together, and start the clock.
            start = monotonicMs();
            for (const x of workers) x.postMessage('go');
            if (io.progress) {
              timer = setInterval(() => {
                let done = 0;
                let made = 0;
                for (let i = 0; i < plans.length; i++) {
                  done += Atomics.load(progress, i * 2);
                  made += Atomics.load(progress, i * 2 + 1);
                }
                io.progress!(done, made);
              }, io.progressInterval ?? 250);
            }
            return;
          }
          results[plan.id] = m.result;
          // The clock stops when the last client of the last thread finished, not when its statistics arrived.
          end = Math.max(end, m.result.endedAt);
          if (++finished === plans.length) resolve();
        });
      }
    });
  } finally {
    if (timer !== null) clearInterval(timer);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return { results, elapsed: (end - start) / 1000 };
}
