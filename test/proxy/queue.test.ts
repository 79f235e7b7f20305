/**
 * BackendQueue (a frontend connection's share of HTTP/1.1 backend
 * connections) on its own, and the proxy core's use of it with a pool that
 * records what it is asked to dispatch.
 */
import { describe, expect, it } from 'vitest';
import type { BackendCall, BackendPool, BackendRequest, ResponseSink } from '../../src/proxy/backend.js';
import { BackendQueue, type QueueEntry } from '../../src/proxy/backend-queue.js';
import { defaultConfig, parseBackend } from '../../src/proxy/config.js';
import type { Fields, Inbound } from '../../src/proxy/headers.js';
import { ErrorLog, LogFile } from '../../src/proxy/logs.js';
import { type ExchangeOwner, type FrontExchange, Generation, ProxyCore } from '../../src/proxy/proxy.js';

function entry(key: string, log: string[], name: string): QueueEntry {
  return { backendKey: key, admitted: () => log.push(name) };
}

describe('BackendQueue', () => {
  it('per backend: at most N at once for each key, the others wait in order; keys do not wait for each other', () => {
    const q = new BackendQueue(2, 0);
    const log: string[] = [];
    expect(q.enter(entry('a', log, 'a1'))).toBe(true);
    expect(q.enter(entry('a', log, 'a2'))).toBe(true);
    expect(q.enter(entry('a', log, 'a3'))).toBe(false);
    expect(q.enter(entry('a', log, 'a4'))).toBe(false);
    expect(q.enter(entry('b', log, 'b1'))).toBe(true);
    expect([q.running, q.queued]).toEqual([3, 2]);
    q.leave('b');
    expect(log).toEqual([]);
    q.leave('a');
    expect(log).toEqual(['a3']);
    q.leave('a');
    expect(log).toEqual(['a3', 'a4']);
    expect([q.running, q.queued]).toEqual([2, 0]);
  });

  it('in all: at most N whatever the key; a dropped entry is never admitted', () => {
    const q = new BackendQueue(8, 2);
    const log: string[] = [];
    expect(q.enter(entry('a', log, 'a1'))).toBe(true);
    expect(q.enter(entry('b', log, 'b1'))).toBe(true);
    const c1 = entry('c', log, 'c1');
    expect(q.enter(c1)).toBe(false);
    expect(q.enter(entry('c', log, 'c2'))).toBe(false);
    q.drop(c1);
    q.leave('a');
    expect(log).toEqual(['c2']);
    expect([q.running, q.queued]).toEqual([2, 0]);
  });

  it('with the total reached, a freed slot goes to the oldest waiting entry whatever its key; many waiting cost one step each', () => {
    const q = new BackendQueue(8, 1);
    const log: string[] = [];
    expect(q.enter(entry('a', log, 'a1'))).toBe(true);
    for (const [k, n] of [
      ['b', 'b1'],
      ['a', 'a2'],
      ['c', 'c1'],
      ['b', 'b2'],
    ] as const)
      expect(q.enter(entry(k, log, n))).toBe(false);
    for (const k of ['a', 'b', 'a', 'c']) q.leave(k);
    expect(log).toEqual(['b1', 'a2', 'c1', 'b2']);
    // A hundred waiting for one key with one slot: admitted one per leave(), in order.
    const r = new BackendQueue(1, 0);
    const order: string[] = [];
    r.enter(entry('k', order, 'first'));
    for (let i = 0; i < 100; i++) r.enter(entry('k', order, `w${i}`));
    for (let i = 0; i < 100; i++) r.leave('k');
    expect(order).toEqual(Array.from({ length: 100 }, (_, i) => `w${i}`));
    expect([r.running, r.queued]).toEqual([1, 0]);
  });

  it('an entry that enters from inside admitted() waits behind those already waiting', () => {
    const q = new BackendQueue(1, 0);
    const log: string[] = [];
    q.enter(entry('a', log, 'a1'));
    // a2 is admitted and at once gives its slot up and asks again (as a retry would).
    q.enter({
      backendKey: 'a',
      admitted: () => {
        log.push('a2');
        q.leave('a');
        log.push(`retry ${q.enter(entry('a', log, 'retry'))}`);
      },
    });
    q.enter(entry('a', log, 'a3'));
    q.leave('a');
    expect(log).toEqual(['a2', 'retry false', 'a3']);
    q.leave('a');
    expect(log).toEqual(['a2', 'retry false', 'a3', 'retry']);
  });

  it('an admitted entry that ends at once (leave() inside admitted()) lets the next one in', () => {
    const q = new BackendQueue(1, 0);
    const log: string[] = [];
    q.enter(entry('a', log, 'first'));
    q.enter({ backendKey: 'a', admitted: () => (log.push('quick'), q.leave('a')) });
    q.enter(entry('a', log, 'third'));
    q.leave('a');
    expect(log).toEqual(['quick', 'third']);
    expect(q.running).toBe(1);
  });
});

/** A FrontExchange that records what the core does with it. */
class FakeExchange implements FrontExchange {
  readonly inbound: Inbound = {
    method: 'GET',
    scheme: 'http',
    authority: 'example.com',
    path: '/',
    headers: [],
    version: '2',
    remoteAddress: '127.0.0.1',
    localAddress: '127.0.0.1',
    localPort: 3000,
    tls: false,
    obfuscatedFor: '_x',
  };
  readonly alpn = 'h2c';
  readonly protocolVersion = 'HTTP/2';
  readonly remotePort = 1;
  readonly tlsInfo = null;
  readonly hasBody = false;
  responded = false;
  owner: ExchangeOwner | null = null;
  bytesSent = 0;
  gone = false;
  status = 0;
  constructor(readonly queue: BackendQueue) {}
  async *body(): AsyncIterable<Uint8Array> {}
  trailers(): Fields | null {
    return null;
  }
  respond(status: number): void {
    this.responded = true;
    this.status = status;
  }
  write(): boolean {
    return true;
  }
  end(): void {}
  abort(): void {}
}

describe('the core with a queue', () => {
  it('a waiting request whose stream has closed is not dispatched when a slot frees, even before its close event came', () => {
    const config = { ...defaultConfig(), backends: [parseBackend('127.0.0.1,1')] };
    const gen = new Generation(config, null);
    const dispatched: ResponseSink[] = [];
    const pool: BackendPool = {
      version: '1.1',
      dispatch(_req: BackendRequest, sink: ResponseSink): BackendCall {
        dispatched.push(sink);
        return { resume() {}, cancel() {} };
      },
      close: async () => {},
      destroy() {},
    };
    gen.pool = () => pool;
    const core = new ProxyCore(gen, new ErrorLog(new LogFile(null, 2), 'FATAL'));
    const q = new BackendQueue(1, 0);
    const first = new FakeExchange(q);
    const second = new FakeExchange(q);
    const third = new FakeExchange(q);
    core.handle(first);
    core.handle(second);
    core.handle(third);
    expect(dispatched).toHaveLength(1);
    // The second one's stream closes; the first one's response ends before the close is reported.
    second.gone = true;
    dispatched[0]!.head(200, [], false);
    dispatched[0]!.end(null);
    expect(first.status).toBe(200);
    expect(dispatched).toHaveLength(2);
    dispatched[1]!.head(204, [], false);
    dispatched[1]!.end(null);
    expect(third.status).toBe(204);
    expect(second.responded).toBe(false);
    expect(core.inFlight).toBe(0);
    expect(q.running).toBe(0);
  });
});
