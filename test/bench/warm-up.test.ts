/** h2bench's self warm-up (src/bench/warm-up.ts): real requests, but to a server of its own, never to the URI. */
import { describe, expect, it } from 'vitest';
import type { BenchConfig } from '../../src/bench/config.js';
import type { WorkerResult } from '../../src/bench/stats.js';
import { warmUp, warmUpConfig } from '../../src/bench/warm-up.js';
import { BenchWorker } from '../../src/bench/worker.js';
import { configFromArgs } from '../../src/cli/h2bench.js';

const runConfig = (args: string[]): BenchConfig => configFromArgs(args)!.config;

describe('self warm-up', () => {
  it('points the run settings at the loopback server: h2c, no body, no log, no rate or time limits', () => {
    const c = { ...runConfig(['-n', '500', '-c', '40', '-m', '7', '-t', '2', '-H', 'x-a: b', '-r', '5', 'https://example.test:8443/x']), duration: 3 };
    const w = warmUpConfig({ ...c, logFd: 9, verbose: true }, 12345);
    expect(w).toMatchObject({ scheme: 'http', host: '127.0.0.1', port: 12345, connectHost: '127.0.0.1', connectPort: 12345, unixPath: null });
    expect(w).toMatchObject({ cleartextProtocol: 'h2', data: null, threads: 1, rate: 0, duration: 0, rps: 0, logFd: -1, verbose: false });
    expect(w.clients).toBe(10);
    // What the clients send stays the run's: the same paths, fields and streams per connection.
    expect(w.paths).toEqual(c.paths);
    expect(w.headers).toEqual(c.headers);
    expect(w.authority).toBe(c.authority);
    expect(w.maxConcurrentStreams).toBe(7);
    // Windows that let responses through, and a bound on the whole warm-up.
    expect(warmUpConfig({ ...c, windowBits: 0, connectionWindowBits: 0 }, 1)).toMatchObject({ windowBits: 16, connectionWindowBits: 16 });
    expect(w.activeTimeout).toBeGreaterThan(0);
  });

  it('runs its rounds of requests to completion against its own server', async () => {
    // The URI's port is closed: had anything been sent there, the rounds would fail.
    const c = runConfig(['-n', '100', '-c', '2', '-m', '4', 'http://127.0.0.1:1/']);
    const results: WorkerResult[] = [];
    await warmUp(
      c,
      (wc, plan) => {
        const w = new BenchWorker(wc, plan, { line: () => {} });
        return { run: () => w.run().then((r) => void results.push(r)) };
      },
      2,
    );
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r.counters.done).toBe(10_000);
      expect(r.counters.statusSuccess).toBe(10_000);
      expect(r.counters.errored).toBe(0);
    }
  });
});
