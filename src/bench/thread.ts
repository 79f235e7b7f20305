/**
 * The entry of a worker thread (bundled as h2bench-worker.mjs): one
 * BenchWorker with its own engines. It says when it is ready, runs when
 * told, reports its lines and its progress (a shared counter), and posts
 * its result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BenchConfig, WorkerPlan } from './config.js';
import { BenchWorker } from './worker.js';

/** What the main thread sends and receives. */
export interface ThreadData {
  config: BenchConfig;
  plan: WorkerPlan;
  /** Per worker: requests done, clients made. */
  progress: Int32Array;
}
export type ThreadMessage =
  | { type: 'ready' }
  | { type: 'line'; text: string }
  | { type: 'result'; result: import('./stats.js').WorkerResult }
  | { type: 'error'; message: string };

const port = parentPort;
if (port !== null) {
  const { config, plan, progress } = workerData as ThreadData;
  const post = (m: ThreadMessage) => port.postMessage(m);
  const w = new BenchWorker(config, plan, { line: (text) => post({ type: 'line', text }) });
  const report = () => {
    Atomics.store(progress, plan.id * 2, w.counters.done);
    Atomics.store(progress, plan.id * 2 + 1, w.made);
  };
  port.once('message', () => {
    const timer = setInterval(report, 100);
    w.run().then(
      (result) => {
        clearInterval(timer);
        report();
        post({ type: 'result', result });
      },
      (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
  });
  w.warmUp().then(() => post({ type: 'ready' }));
}
