/** The handler API: respond() variants, events, push, trailers, reset, the frame observer, TLS via handleSocket, close(). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createServer, ErrorCode, type FrameEvent, FrameType, formatFrameEvent, type ServerStream } from '../../src/h2/index.js';
import { expectOk, open } from '../helpers/h2-expect.js';
import { startTestServer } from '../helpers/h2-test-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `handler` behind a server and returns a raw client connected to it. */
async function withHandler(handler: (s: ServerStream) => void, fn: (c: Awaited<ReturnType<typeof open>>) => Promise<void>, opts = {}): Promise<void> {
  const ts = await startTestServer({ handler, ...opts });
  try {
    const c = await open(ts.port);
    await fn(c);
  } finally {
    await ts.close();
  }
}

describe('respond()', () => {
  it('a producer that defers and is resumed, with trailers set by sendTrailers()', async () => {
    await withHandler(
      (s) => {
        const parts = ['a', 'b', 'c'];
        s.respond(200, {}, () => {
          if (parts.length === 0) {
            s.sendTrailers({ 'x-parts': '3' });
            return null;
          }
          const p = parts.shift()!;
          setTimeout(() => s.resume(), 5);
          return p === 'b' ? 'deferred' : Buffer.from(p);
        });
      },
      async (c) => {
        c.send(c.request(1));
        const r = await c.response(1);
        expect(r.body.toString()).toBe('ac');
        expect(r.trailers).toEqual([['x-parts', '3']]);
      },
    );
  });

  it('trailers given as a function are computed when the body ends', async () => {
    await withHandler(
      (s) => {
        let n = 0;
        s.respond(200, {}, Readable.from([Buffer.from('xy'), Buffer.from('z')]), { trailers: () => ({ 'x-n': String((n += 3)) }) });
      },
      async (c) => {
        c.send(c.request(1));
        const r = await c.response(1);
        expect(r.body.toString()).toBe('xyz');
        expect(r.trailers).toEqual([['x-n', '3']]);
      },
    );
  });

  it('a Readable that fails: RST_STREAM INTERNAL_ERROR and onError', async () => {
    const errors: unknown[] = [];
    const ts = await startTestServer({
      handler: (s) => {
        const r = new PassThrough();
        s.respond(200, {}, r);
        r.write('part');
        setTimeout(() => r.destroy(new Error('disk on fire (expected by the test)')), 10);
      },
    });
    try {
      const c = await open(ts.port);
      c.send(c.request(1));
      expect(await c.rst(1)).toBe(ErrorCode.INTERNAL_ERROR);
      expect(c.responseSoFar(1).body.toString()).toBe('part');
      expect(String(ts.errors[0] ?? errors[0])).toMatch(/disk on fire/);
    } finally {
      await ts.close();
    }
  });

  it('respond() twice throws; respond() after the peer reset is ignored', async () => {
    const outcomes: string[] = [];
    await withHandler(
      (s) => {
        if (s.path === '/twice') {
          s.respond(200, {}, 'one');
          try {
            s.respond(200, {}, 'two');
          } catch (e) {
            outcomes.push(String(e));
          }
          return;
        }
        s.on('close', (code) => {
          outcomes.push(`close ${code}`);
          s.respond(200, {}, 'late'); // no effect, no throw
        });
      },
      async (c) => {
        c.send(c.request(1, '/twice'));
        await expectOk(c, 1, 'one');
        c.send(c.request(3, '/reset-me'), c.raw(FrameType.RST_STREAM, 0, 3, [0, 0, 0, ErrorCode.CANCEL]));
        await c.ping();
        await sleep(10);
        expect(outcomes[0]).toMatch(/twice/);
        expect(outcomes[1]).toBe(`close ${ErrorCode.CANCEL}`);
        expect(c.frames.some((f) => f.streamId === 3 && f.type !== FrameType.RST_STREAM)).toBe(false);
      },
    );
  });

  it('stream.reset() sends RST_STREAM with the code', async () => {
    await withHandler(
      (s) => s.reset(ErrorCode.REFUSED_STREAM),
      async (c) => {
        c.send(c.request(1));
        expect(await c.rst(1)).toBe(ErrorCode.REFUSED_STREAM);
      },
    );
  });

  it('fields HTTP/2 forbids are refused at respond() (Http2Error INVALID_ARGUMENT), the stream is reset', async () => {
    await withHandler(
      (s) => s.respond(200, { 'transfer-encoding': 'chunked' }, 'x'),
      async (c) => {
        c.send(c.request(1));
        expect(await c.rst(1)).toBe(ErrorCode.INTERNAL_ERROR);
      },
    );
  });
});

describe('request events', () => {
  it('endStreamReceived: true in the handler for a request without a body; for one with a body, once it has all come', async () => {
    const seen: string[] = [];
    await withHandler(
      (s) => {
        seen.push(`${s.method} handler end=${s.endStreamReceived} ended=${s.requestEnded}`);
        if (s.method === 'GET') return s.respond(200, {}, 'g');
        s.on('data', () => seen.push(`data end=${s.endStreamReceived}`));
        s.on('end', () => {
          seen.push(`end end=${s.endStreamReceived} ended=${s.requestEnded}`);
          s.respond(200, {}, 'p');
        });
      },
      async (c) => {
        c.send(c.request(1));
        await expectOk(c, 1, 'g');
        c.send(c.request(3, '/', { method: 'POST', endStream: false }), c.data(3, 'a', false));
        await sleep(20);
        c.send(c.data(3, 'b', true));
        await expectOk(c, 3, 'p');
        expect(seen).toEqual([
          'GET handler end=true ended=false',
          'POST handler end=false ended=false',
          'data end=false',
          'data end=false', // delivered before the END_STREAM of its frame is processed
          'end end=true ended=true',
        ]);
      },
    );
  });

  it('a late data listener gets the held chunks and the end, and the window is returned then', async () => {
    await withHandler(
      (s) => {
        setTimeout(() => {
          const parts: string[] = [];
          s.on('data', (c) => parts.push(Buffer.from(c).toString()));
          s.on('end', () => s.respond(200, {}, parts.join('|')));
        }, 30);
      },
      async (c) => {
        c.send(c.request(1, '/', { method: 'POST', endStream: false }), c.data(1, 'a', false), c.data(1, 'b', true));
        const r = await c.response(1);
        expect(r.body.toString()).toBe('a|b');
      },
    );
  });

  it('a data listener that takes itself off while held chunks are delivered: the rest stay held until a listener is back (pause and resume)', async () => {
    await withHandler(
      (s) => {
        const parts: string[] = [];
        const onData = (c: Uint8Array): void => {
          parts.push(Buffer.from(c).toString());
          // Pause after each chunk; resume a little later.
          s.off('data', onData);
          setTimeout(() => s.on('data', onData), 5);
        };
        s.on('end', () => s.respond(200, {}, parts.join('|')));
        setTimeout(() => s.on('data', onData), 30);
      },
      async (c) => {
        c.send(c.request(1, '/', { method: 'POST', endStream: false }), c.data(1, 'a', false), c.data(1, 'b', false), c.data(1, 'c', true));
        const r = await c.response(1);
        expect(r.body.toString()).toBe('a|b|c');
      },
    );
  });

  it("'close' reports NO_ERROR after a complete exchange; remoteAddress and remotePort are set", async () => {
    const seen: Array<[number, string, number]> = [];
    await withHandler(
      (s) => {
        s.on('close', (code) => seen.push([code, s.remoteAddress, s.remotePort]));
        s.respond(200, {}, 'x');
      },
      async (c) => {
        c.send(c.request(1));
        await expectOk(c, 1, 'x');
        await sleep(5);
        expect(seen).toEqual([[ErrorCode.NO_ERROR, '127.0.0.1', c.socket.localPort]]);
      },
    );
  });
});

describe('frame observer', () => {
  it('sees every frame in both directions with decoded details; formatFrameEvent prints one line each', async () => {
    const events: FrameEvent[] = [];
    await withHandler(
      (s) => s.respond(200, { 'x-a': 'b' }, 'body'),
      async (c) => {
        c.send(c.request(1, '/p', { padLength: 2 }));
        await expectOk(c, 1, 'body');
        c.send(c.windowUpdate(0, 1000));
        await c.ping();
        await sleep(5);
        const find = (dir: string, type: number) => events.find((e) => e.direction === dir && e.type === type);
        expect(find('send', FrameType.SETTINGS)?.settings).toContainEqual([3, 100]);
        expect(find('recv', FrameType.HEADERS)).toMatchObject({ streamId: 1, padLength: 2 });
        expect(find('recv', FrameType.HEADERS)?.headers).toContainEqual([':path', '/p']);
        expect(find('send', FrameType.HEADERS)?.headers).toEqual([
          [':status', '200'],
          ['x-a', 'b'],
          ['content-length', '4'],
        ]);
        expect(find('send', FrameType.DATA)).toMatchObject({ streamId: 1, length: 4, flags: 1 });
        expect(find('recv', FrameType.WINDOW_UPDATE)?.increment).toBe(1000);
        expect(find('recv', FrameType.PING)?.opaque?.length).toBe(8);
        expect(find('send', FrameType.PING)?.flags).toBe(1);
        const line = formatFrameEvent(find('recv', FrameType.HEADERS)!);
        expect(line).toMatch(/^\[id=1\] recv HEADERS frame <length=\d+, flags=0x0d, stream_id=1> END_STREAM\|END_HEADERS\|PADDED; padlen=2; :method: GET/);
        expect(formatFrameEvent(find('send', FrameType.SETTINGS)!)).toMatch(/SETTINGS_MAX_CONCURRENT_STREAMS\(0x03\):100/);
      },
      { onFrame: (e: FrameEvent) => events.push(e) },
    );
  });

  it('reports GOAWAY with its error code and last stream id', async () => {
    const events: FrameEvent[] = [];
    await withHandler(
      (s) => s.respond(200),
      async (c) => {
        c.send(c.windowUpdate(0, 0));
        await c.goaway();
        const g = events.find((e) => e.type === FrameType.GOAWAY)!;
        expect(g).toMatchObject({ direction: 'send', errorCode: ErrorCode.PROTOCOL_ERROR, lastStreamId: 0 });
        expect(formatFrameEvent(g)).toMatch(/error_code=PROTOCOL_ERROR\(0x01\)/);
      },
      { onFrame: (e: FrameEvent) => events.push(e) },
    );
  });
});

const OPENSSL = spawnSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).stdout.trim() || null;
describe.skipIf(!OPENSSL)(OPENSSL ? 'TLS (ALPN h2) through handleSocket' : 'TLS (SKIPPED: openssl is not installed to make a test certificate)', () => {
  it('a TLS socket that negotiated h2 is served', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h2kit-tls-'));
    try {
      const r = spawnSync(
        OPENSSL!,
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-subj',
          '/CN=localhost',
          '-days',
          '1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { encoding: 'utf8' },
      );
      expect(r.status).toBe(0);
      const server = createServer({ handler: (s) => s.respond(200, {}, `tls ${s.scheme} ${s.path}`) });
      const tlsServer = tls.createServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')), ALPNProtocols: ['h2'] },
        (sock) => {
          if (sock.alpnProtocol === 'h2') server.handleSocket(sock);
          else sock.destroy();
        },
      );
      await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
      const port = (tlsServer.address() as { port: number }).port;
      const session = http2.connect(`https://localhost:${port}`, { rejectUnauthorized: false });
      const body = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ':path': '/secure' });
        let b = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (b += c));
        req.on('end', () => resolve(b));
        req.on('error', reject);
        req.end();
      });
      expect(body).toBe('tls https /secure');
      session.close();
      await server.close({ graceful: false });
      await new Promise((r) => tlsServer.close(r));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('server lifecycle', () => {
  it('close({ graceful: true }) is bounded by its timeout when a stream never ends', async () => {
    const ts = await startTestServer();
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'));
    await c.ping();
    const t0 = Date.now();
    await ts.server.close({ graceful: true, timeout: 200 });
    expect(Date.now() - t0).toBeLessThan(1500);
    await c.waitClosed();
    expect(c.frames.find((f) => f.type === FrameType.GOAWAY)?.errorCode).toBe(ErrorCode.NO_ERROR);
    expect(ts.server.connectionCount).toBe(0);
  });

  it('close({ graceful: false }) sends GOAWAY and closes at once', async () => {
    const ts = await startTestServer();
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'));
    await c.ping();
    await ts.server.close({ graceful: false });
    await c.waitClosed();
    expect(c.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(true);
  });

  it('createServer() needs a handler; listen() resolves with the address', async () => {
    expect(() => createServer({} as never)).toThrow(/handler/);
    const s = createServer({ handler: (st) => st.respond(204) });
    const a = await s.listen(0, '127.0.0.1');
    expect(a.port).toBeGreaterThan(0);
    expect(s.address()?.port).toBe(a.port);
    await s.close();
  });

  it('invalid settings and limits are refused by createServer()', () => {
    expect(() => createServer({ handler: () => {}, settings: { maxFrameSize: 100 } })).toThrow(/maxFrameSize/);
    expect(() => createServer({ handler: () => {}, settings: { initialWindowSize: 2 ** 31 } })).toThrow(/initialWindowSize/);
    expect(() => createServer({ handler: () => {}, limits: { idleTimeout: -1 } })).toThrow(/idleTimeout/);
  });

  it('idleTimeout counts from the end of a read: a handler that works longer than it does not make the connection idle', async () => {
    const server = createServer({
      limits: { idleTimeout: 400 },
      handler(st) {
        const t = Date.now();
        while (Date.now() - t < 600) {} // synchronous work inside the read, longer than the idle timeout
        st.respond(200, {}, 'ok');
      },
    });
    const { port } = await server.listen(0, '127.0.0.1');
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      let endedAt = 0;
      const goaway = new Promise<number>((resolve) => session.on('goaway', () => resolve(Date.now() - endedAt)));
      const req = session.request({ ':path': '/' });
      req.resume();
      await new Promise<void>((resolve) => req.on('end', resolve));
      endedAt = Date.now();
      // Idle for 400 ms after the response, not counted from when the request arrived (which would close it at once).
      expect(await goaway).toBeGreaterThanOrEqual(250);
    } finally {
      session.destroy();
      await server.close();
    }
  });
});

describe('event order', () => {
  it("a bodiless request answered synchronously still gets 'end', then 'close'", async () => {
    const order: string[] = [];
    await withHandler(
      (s) => {
        s.on('end', () => order.push('end'));
        s.on('close', (code) => order.push(`close ${code}`));
        s.respond(200, {}, 'sync');
        order.push('responded');
      },
      async (c) => {
        c.send(c.request(1));
        await expectOk(c, 1, 'sync');
        await sleep(5);
        expect(order).toEqual(['responded', 'end', `close ${ErrorCode.NO_ERROR}`]);
      },
    );
  });

  it("a request with a body: 'data'... 'end' before 'close'", async () => {
    const order: string[] = [];
    await withHandler(
      (s) => {
        s.on('data', (d) => order.push(`data ${Buffer.from(d).toString()}`));
        s.on('end', () => {
          order.push('end');
          s.respond(200, {}, 'ok');
        });
        s.on('close', () => order.push('close'));
      },
      async (c) => {
        c.send(c.request(1, '/', { method: 'POST', endStream: false }), c.data(1, 'x', false), c.data(1, 'y'));
        await expectOk(c, 1, 'ok');
        await sleep(5);
        expect(order).toEqual(['data x', 'data y', 'end', 'close']);
      },
    );
  });
});
