/**
 * ClientConnection's lean path (a PendingRequest with an ExchangeListener):
 * no promise or ClientResponse per request, content returned to the windows
 * at once, failures through onError(); and the counters of received header
 * octets (encoded and decoded) that h2bench's traffic line reports.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientConnection, type PendingRequest } from '../../src/h2/client-connection.js';
import type { ExchangeListener } from '../../src/h2/client-stream.js';
import { ErrorCode, type Http2Error } from '../../src/h2/index.js';
import { attachSocket, socketTransport } from '../../src/h2/socket.js';
import { startTestServer, type TestServer } from '../helpers/h2-test-server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({
    handler(stream) {
      if (stream.path === '/reset') return stream.reset(ErrorCode.REFUSED_STREAM);
      if (stream.path === '/trailers') return stream.respond(200, { 'x-a': 'b' }, 'abc', { trailers: { 'x-checksum': '42' } });
      if (stream.path === '/octets') return stream.respond(200, { 'x-o': Buffer.from([0xe9, 0x41]) }, 'é', { trailers: { 'x-t': Buffer.from([0xff]) } });
      const n = Number(/^\/size\/(\d+)$/.exec(stream.path)?.[1] ?? -1);
      if (n >= 0) return stream.respond(200, { 'content-type': 'application/octet-stream' }, Buffer.alloc(n, 7));
      stream.respond(404, {}, 'not found');
    },
  });
});
afterAll(async () => {
  await ts.close();
});

/** One request's record: what the listener and reject() saw, in order. */
class Recorder implements PendingRequest, ExchangeListener {
  method = 'GET';
  body = undefined;
  kind = 0;
  bytes = null;
  trailers = null;
  exchange = null;
  cancelled = false;
  listener = this;
  events: string[] = [];
  octets = 0;
  fields: Array<[string, string]>;
  constructor(
    readonly path: string,
    private readonly done: () => void,
  ) {
    this.fields = [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'localhost'],
      [':path', path],
    ];
  }
  resolve(): void {
    this.events.push('resolve');
  }
  reject(e: Http2Error): void {
    this.events.push(`reject ${e.code}`);
    this.done();
  }
  onError(e: Http2Error): void {
    this.events.push(`error ${e.code}`);
    this.done();
  }
  onHead(status: number): void {
    this.events.push(`head ${status}`);
  }
  onData(n: number): void {
    this.octets += n;
  }
  onComplete(): void {
    this.events.push('complete');
    this.done();
  }
}

async function open(): Promise<ClientConnection> {
  const socket = net.connect(ts.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const c = new ClientConnection(socketTransport(socket), { scheme: 'http', authority: 'localhost' });
  attachSocket(socket, c);
  return c;
}

function run(c: ClientConnection, paths: string[]): Promise<Recorder[]> {
  return new Promise((resolve) => {
    let left = paths.length;
    const rs: Recorder[] = paths.map((p) => new Recorder(p, () => --left === 0 && resolve(rs)));
    for (const r of rs) c.submit(r);
    c.scheduleFlush();
  });
}

describe('ClientConnection with an ExchangeListener', () => {
  it('head, every content octet and one completion; bodies beyond the windows need no reader', async () => {
    const c = await open();
    try {
      // 1 MiB is 16 times the initial stream window: it completes only if onData's octets go back to the windows.
      const [a, b, t] = await run(c, ['/size/1048576', '/size/0', '/trailers']);
      expect(a!.events).toEqual(['head 200', 'complete']);
      expect(a!.octets).toBe(1048576);
      expect(b!.events).toEqual(['head 200', 'complete']);
      expect(b!.octets).toBe(0);
      expect(t!.events).toEqual(['head 200', 'complete']);
      expect(t!.octets).toBe(3);
    } finally {
      c.destroy();
    }
  });

  it('a 404 is a complete response; a reset stream is reported once through onError()', async () => {
    const c = await open();
    try {
      const [nf, reset] = await run(c, ['/nope', '/reset']);
      expect(nf!.events).toEqual(['head 404', 'complete']);
      expect(reset!.events).toEqual(['error REFUSED_STREAM']);
      await new Promise((r) => setTimeout(r, 20));
      expect(reset!.events).toEqual(['error REFUSED_STREAM']);
    } finally {
      c.destroy();
    }
  });

  it('counts the header octets received, encoded and decoded (trailers included)', async () => {
    const c = await open();
    try {
      await run(c, ['/trailers']);
      // Decoded: ":status" "200" + "x-a" "b" + "content-length" "3" (the server adds it) + trailer "x-checksum" "42".
      const decoded = 7 + 3 + 3 + 1 + 14 + 1 + 10 + 2;
      expect(c.headerFieldOctets).toBe(decoded);
      expect(c.headerOctets).toBeGreaterThan(0);
      expect(c.headerOctets).toBeLessThan(decoded);
      const before = c.headerOctets;
      await run(c, ['/trailers']);
      // The second time the dynamic table has the fields: fewer encoded octets, the same decoded ones.
      expect(c.headerFieldOctets).toBe(2 * decoded);
      expect(c.headerOctets - before).toBeLessThan(before);
      // Again: now the same blocks octet for octet, decoded to the very same lists, each still counted.
      await run(c, ['/trailers', '/trailers']);
      expect(c.headerFieldOctets).toBe(4 * decoded);
    } finally {
      c.destroy();
    }
  });
});

/** A listener with onChunk(): the content itself, held off the window while `hold` says so. */
class ChunkRecorder extends Recorder {
  chunks: Uint8Array[] = [];
  hold = false;
  onChunk(chunk: Uint8Array): boolean {
    this.chunks.push(chunk);
    this.octets += chunk.length;
    return !this.hold;
  }
}

describe('an ExchangeListener with onChunk()', () => {
  it('gets the content itself, and the fields and trailers are kept (the octets too, where they are not ASCII)', async () => {
    const c = await open();
    try {
      const rs = await new Promise<ChunkRecorder[]>((resolve) => {
        let left = 2;
        const rs = ['/trailers', '/octets'].map((p) => new ChunkRecorder(p, () => --left === 0 && resolve(rs)));
        for (const r of rs) c.submit(r);
        c.scheduleFlush();
      });
      const [t, o] = rs as [ChunkRecorder, ChunkRecorder];
      expect(t.events).toEqual(['head 200', 'complete']);
      expect(Buffer.concat(t.chunks).toString()).toBe('abc');
      const tx = t.exchange as unknown as import('../../src/h2/client-stream.js').ClientExchange;
      expect(tx.head!.headers).toEqual([
        ['x-a', 'b'],
        ['content-length', '3'],
      ]);
      expect(tx.trailerFields).toEqual([['x-checksum', '42']]);
      const ox = o.exchange as unknown as import('../../src/h2/client-stream.js').ClientExchange;
      expect(ox.rawHeaders).toEqual([
        ['x-o', '\u00e9A'],
        ['content-length', '2'],
      ]);
      expect(ox.rawTrailers).toEqual([['x-t', '\u00ff']]);
      expect(Buffer.concat(o.chunks)).toEqual(Buffer.from('é'));
    } finally {
      c.destroy();
    }
  });

  it('false keeps the octets off the stream window: the server stops at the window until release()', async () => {
    const c = await open();
    try {
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      const r = new ChunkRecorder('/size/1048576', () => done());
      r.hold = true;
      c.submit(r);
      c.scheduleFlush();
      await new Promise((res) => setTimeout(res, 300));
      // The initial stream window (65535) and no more: nothing was given back.
      expect(r.octets).toBe(65535);
      expect(r.events).toEqual(['head 200']);
      r.hold = false;
      (r.exchange as unknown as import('../../src/h2/client-stream.js').ClientExchange).release();
      await finished;
      expect(r.events).toEqual(['head 200', 'complete']);
      expect(r.octets).toBe(1048576);
    } finally {
      c.destroy();
    }
  });
});
