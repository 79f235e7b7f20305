/**
 * h2bench's own code compiled before the clock starts. V8 optimises a
 * function only after it has run many times, and Node's socket layer is
 * JavaScript too, so a fresh process spends the first tens of thousands of
 * requests of a run on its own compilation: by hand, against the same
 * nghttpd, runs of 20,000 requests in one process went 92k, 183k, 255k,
 * 295k requests per second, the first of them being what a fresh h2bench
 * measured. h2load, in C, starts at full speed. So each worker first runs
 * the same kind of clients against a server of its own on the loopback
 * (h2kit's engine, in the same thread, answering every request with 1 KiB):
 * nothing reaches the server under test, and nothing is counted.
 */
import type { AddressInfo } from 'node:net';
import { createServer } from '../h2/index.js';
import type { BenchConfig, WorkerPlan } from './config.js';

/** Requests of the warm-up, in rounds (about a quarter of a second on the benchmark machine). */
const WARM_UP_REQUESTS = 10_000;
const WARM_UP_ROUNDS = 3;

const BODY = new Uint8Array(1024);
const FIELDS = Object.freeze([
  Object.freeze(['content-type', 'application/octet-stream'] as const),
  Object.freeze(['cache-control', 'max-age=3600'] as const),
]) as unknown as Array<[string, string]>;

/** The run's client settings against the loopback server: h2c, all at once, no log, no rate, no time limits. */
export function warmUpConfig(c: BenchConfig, port: number): BenchConfig {
  return {
    ...c,
    scheme: 'http',
    host: '127.0.0.1',
    port,
    connectHost: '127.0.0.1',
    connectPort: port,
    unixPath: null,
    cleartextProtocol: 'h2',
    data: null,
    method: 'GET',
    requests: WARM_UP_REQUESTS,
    // Windows that let a response through (-w 0 would stall it), and a bound on the whole.
    windowBits: Math.max(c.windowBits, 16),
    connectionWindowBits: Math.max(c.connectionWindowBits, 16),
    clients: Math.min(c.clients, 10),
    threads: 1,
    rate: 0,
    duration: 0,
    warmUpTime: 0,
    activeTimeout: 10,
    inactivityTimeout: 0,
    rps: 0,
    logFd: -1,
    verbose: false,
  };
}

/**
 * Runs `rounds` short benchmarks against an in-thread server with a worker
 * made by `makeWorker`; resolves when done (a failure only ends the warm-up).
 */
export async function warmUp(
  config: BenchConfig,
  makeWorker: (c: BenchConfig, p: WorkerPlan) => { run(): Promise<unknown> },
  rounds = WARM_UP_ROUNDS,
): Promise<void> {
  const server = createServer({ handler: (s) => s.respond(200, FIELDS, BODY) });
  try {
    const address = (await server.listen(0, '127.0.0.1')) as AddressInfo;
    const c = warmUpConfig(config, address.port);
    for (let i = 0; i < rounds; i++) {
      await makeWorker(c, { id: 0, requests: c.requests, clients: c.clients, rate: c.clients }).run();
    }
  } catch {
    // Only the warm-up is lost.
  } finally {
    await server.close({ graceful: false, timeout: 0 });
  }
}
