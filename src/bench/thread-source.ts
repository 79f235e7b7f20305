/**
 * How a worker thread is started: from h2bench-worker.mjs, the bundle built
 * next to the command's (scripts/build.mjs). The single-file executable
 * replaces this module with one that runs the worker's code from an asset
 * (scripts/build-exe.mjs).
 */
import { Worker } from 'node:worker_threads';

export function startThread(workerData: unknown): Worker {
  return new Worker(new URL('./h2bench-worker.mjs', import.meta.url), { workerData });
}
