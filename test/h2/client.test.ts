/**
 * The client engine (connect() in h2kit/h2) against our own server: the
 * request API, bodies of every kind both ways, trailers, the queue above
 * SETTINGS_MAX_CONCURRENT_STREAMS, push, PING, GOAWAY, RST_STREAM, aborts,
 * timeouts and backpressure.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientSession, connect, ErrorCode, Http2Error, type ServerStream } from '../../src/h2/index.js';
import { pattern, startTestServer, type TestServer } from '../helpers/h2-test-server.js';

let ts: TestServer;
let url: string;
beforeAll(async () => {
  ts = await startTestServer();
  url = `http://127.0.0.1:${ts.port}`;
});
afterAll(async () => {
  await ts.close();
});

async function withSession<T>(fn: (s: ClientSession) => Promise<T>, u = url, opts: Parameters<typeof connect>[1] = {}): Promise<T> {
  const s = await connect(u, opts);
  try {
    return await fn(s);
  } finally {
    s.destroy();
  }
}

async function rejection(p: Promise<unknown>): Promise<Http2Error> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(Http2Error);
    return e as Http2Error;
  }
  throw new Error('expected a rejection');
}

describe('requests and responses', () => {
  it('GET: status, headers as pairs, get()/getAll(), text()', async () => {
    await withSession(async (s) => {
      const r = await s.request({ ':path': '/' });
      expect(r.status).toBe(200);
      expect(r.headers).toContainEqual(['content-type', 'text/plain']);
      expect(r.get('content-type')).toBe('text/plain');
      expect(r.getAll('content-length')).toEqual(['5']);
      expect(await r.text()).toBe('hello');
      expect(await r.trailers).toEqual([]);
    });
  });

  it(':scheme and :authority come from the session, :method GET and :path / by default', async () => {
    await withSession(async (s) => {
      const r = await s.request([
        [':path', '/info'],
        ['x-a', '1'],
      ]);
      const info = (await r.json()) as { method: string; scheme: string; authority: string; path: string; headers: Array<[string, string]> };
      expect(info).toMatchObject({ method: 'GET', scheme: 'http', authority: `127.0.0.1:${ts.port}`, path: '/info' });
      expect(info.headers).toEqual([['x-a', '1']]);
    });
  });

  it('bodies arrive byte-exact: 0 B, 1 KiB, 1 MiB and a produced 3 MiB', async () => {
    await withSession(async (s) => {
      for (const n of [0, 1024, 1 << 20]) {
        const r = await s.request({ ':path': `/size/${n}` });
        expect(Buffer.from(await r.bytes()).equals(pattern(n))).toBe(true);
      }
      const r = await s.request({ ':path': `/stream/${3 << 20}` });
      let n = 0;
      for await (const c of r.body) n += c.length;
      expect(n).toBe(3 << 20);
    });
  });

  it.each([
    ['a string', () => 'x'.repeat(70000), 70000],
    ['a Uint8Array', () => pattern(200000), 200000],
    ['a Node Readable', () => Readable.from([pattern(100000), pattern(50000)]), 150000],
    [
      'an async iterable',
      () =>
        (async function* () {
          for (let i = 0; i < 10; i++) yield pattern(30000);
        })(),
      300000,
    ],
  ])('uploads %s within flow control', async (_what, body, size) => {
    await withSession(async (s) => {
      const r = await s.request({ ':method': 'POST', ':path': '/count' }, { body: body() });
      expect(await r.text()).toBe(String(size));
    });
  });

  it('trailers both ways', async () => {
    await withSession(async (s) => {
      const r = await s.request({ ':method': 'POST', ':path': '/echo' }, { body: 'abc', trailers: { 'x-sum': '7' } });
      expect(await r.text()).toBe('abc');
      expect(await r.trailers).toEqual([['x-echo-x-sum', '7']]);
      const t = await s.request({ ':path': '/trailers' });
      expect(await t.text()).toBe('abc');
      expect(await t.trailers).toEqual([['x-checksum', '42']]);
    });
  });

  it('trailers given as a function that returns none: the body ends with END_STREAM on DATA, no empty HEADERS', async () => {
    const sent: string[] = [];
    await withSession(
      async (s) => {
        const r = await s.request({ ':method': 'POST', ':path': '/echo' }, { body: 'abc', trailers: () => [] });
        expect(await r.text()).toBe('abc');
        expect(await r.trailers).toEqual([]);
      },
      url,
      {
        onFrame: (e) =>
          e.direction === 'send' &&
          e.streamId === 1 &&
          sent.push(`${e.type === 1 ? 'HEADERS' : e.type === 0 ? 'DATA' : e.type}${e.flags & 1 ? ' END_STREAM' : ''}`),
      },
    );
    expect(sent).toEqual(['HEADERS', 'DATA', 'DATA END_STREAM']);
  });

  it('HEAD and 204 have no content', async () => {
    await withSession(async (s) => {
      const h = await s.request({ ':method': 'HEAD', ':path': '/size/100' });
      expect(h.get('content-length')).toBe('100');
      expect((await h.bytes()).length).toBe(0);
      const e = await s.request({ ':path': '/empty' });
      expect(e.status).toBe(204);
      expect((await e.bytes()).length).toBe(0);
    });
  });

  it('1,000 concurrent requests on one session all succeed', async () => {
    await withSession(async (s) => {
      const rs = await Promise.all(Array.from({ length: 1000 }, (_, i) => s.request({ ':path': `/size/${i}` }).then((r) => r.bytes())));
      for (const [i, b] of rs.entries()) expect(b.length).toBe(i);
      expect(s.activeStreams).toBe(0);
    });
  });

  it('fields HTTP/2 forbids are refused before anything is sent', async () => {
    await withSession(async (s) => {
      expect((await rejection(s.request({ connection: 'close' }))).code).toBe('INVALID_ARGUMENT');
      expect((await rejection(s.request({ te: 'gzip' }))).code).toBe('INVALID_ARGUMENT');
      expect((await rejection(s.request({ ':bogus': 'x' }))).code).toBe('INVALID_ARGUMENT');
      expect((await rejection(s.request({}, { body: 42 as unknown as string }))).code).toBe('INVALID_ARGUMENT');
      expect((await s.request({ ':path': '/' })).status).toBe(200);
    });
  });
});

describe('concurrency, GOAWAY, RST_STREAM', () => {
  it('requests beyond the server SETTINGS_MAX_CONCURRENT_STREAMS wait in a queue', async () => {
    let active = 0;
    let most = 0;
    const small = await startTestServer({
      settings: { maxConcurrentStreams: 2 },
      handler(st: ServerStream) {
        active++;
        most = Math.max(most, active);
        setTimeout(() => st.respond(200, {}, 'ok'), 5);
        st.on('close', () => active--);
      },
    });
    try {
      await withSession(async (s) => {
        await s.ping(); // the server's SETTINGS have arrived
        const all = Array.from({ length: 20 }, () => s.request({ ':path': '/' }).then((r) => r.text()));
        expect(s.pendingRequests).toBe(18);
        expect(await Promise.all(all)).toEqual(Array(20).fill('ok'));
        expect(most).toBe(2);
      }, `http://127.0.0.1:${small.port}`);
    } finally {
      await small.close();
    }
  });

  it('RST_STREAM rejects its request with the code', async () => {
    const s2 = await startTestServer({ handler: (st: ServerStream) => st.reset(ErrorCode.REFUSED_STREAM) });
    try {
      await withSession(async (s) => {
        const e = await rejection(s.request({ ':path': '/' }));
        expect(e.code).toBe('REFUSED_STREAM');
        expect(e.retryable).toBe(true);
        expect(e.errorCode).toBe(ErrorCode.REFUSED_STREAM);
        const s3 = await rejection(s.request({ ':path': '/' }));
        expect(s3.streamId).toBe(3);
      }, `http://127.0.0.1:${s2.port}`);
    } finally {
      await s2.close();
    }
  });

  it('a graceful server shutdown: in-flight requests finish, new ones are refused as retryable', async () => {
    let hold: ServerStream | null = null;
    const s2 = await startTestServer({ handler: (st: ServerStream) => (hold = st) });
    try {
      const s = await connect(`http://127.0.0.1:${s2.port}`);
      const inflight = s.request({ ':path': '/slow' });
      const goaway = new Promise<number>((resolve) => s.on('goaway', (_last, code) => resolve(code)));
      while (hold === null) await new Promise((r) => setTimeout(r, 5));
      s2.server.getConnections()[0]!.shutdown();
      expect(await goaway).toBe(ErrorCode.NO_ERROR);
      const refused = await rejection(s.request({ ':path': '/' }));
      expect(refused.code).toBe('GOAWAY');
      expect(refused.retryable).toBe(true);
      (hold as ServerStream).respond(200, {}, 'finished');
      expect(await (await inflight).text()).toBe('finished');
      const info = await s.closedPromise();
      expect(info.error).toBeNull();
    } finally {
      await s2.close();
    }
  });

  it('close(): GOAWAY, open streams finish, then the connection closes', async () => {
    const s = await connect(url);
    const r = s.request({ ':path': '/defer' });
    const closed = s.close();
    expect((await rejection(s.request({ ':path': '/' }))).code).toBe('GOAWAY');
    expect(await (await r).text()).toBe('later');
    const info = await closed;
    expect(info.error).toBeNull();
  });

  it('destroy(): open requests fail at once', async () => {
    const s = await connect(url);
    const r = s.request({ ':path': '/hold' });
    await s.ping();
    s.destroy();
    const e = await rejection(r);
    expect(['CANCEL', 'CONNECTION_CLOSED']).toContain(e.code);
  });
});

describe('aborts, timeouts, backpressure', () => {
  it('AbortSignal before and after sending', async () => {
    await withSession(async (s) => {
      const ac = new AbortController();
      ac.abort();
      expect((await rejection(s.request({ ':path': '/' }, { signal: ac.signal }))).code).toBe('ABORTED');
      const ac2 = new AbortController();
      const p = s.request({ ':path': '/hold' }, { signal: ac2.signal });
      await s.ping();
      ac2.abort();
      expect((await rejection(p)).code).toBe('ABORTED');
      await s.ping();
      // The server saw the stream reset with CANCEL.
      const held = ts.streams.at(-1)!;
      expect(held.path).toBe('/hold');
      expect(ts.closeCodes.get(held.streamId)).toBe(ErrorCode.CANCEL);
      expect((await s.request({ ':path': '/' })).status).toBe(200);
    });
  });

  it('a request timeout resets the stream and rejects with TIMEOUT', async () => {
    await withSession(async (s) => {
      const e = await rejection(s.request({ ':path': '/hold' }, { timeout: 100 }));
      expect(e.code).toBe('TIMEOUT');
      expect((await s.request({ ':path': '/' })).status).toBe(200);
    });
  });

  it('a slow reader keeps the window closed: the client holds at most a stream window', async () => {
    await withSession(async (s) => {
      const r = await s.request({ ':path': `/size/${4 << 20}` });
      await new Promise((res) => setTimeout(res, 200));
      // Nothing read yet: the server could send no more than the initial window.
      expect(s.stats.heldBody).toBeLessThanOrEqual(65535);
      expect(s.stats.heldBody).toBeGreaterThan(0);
      const b = await r.bytes();
      expect(b.length).toBe(4 << 20);
      expect(s.stats.heldBody).toBe(0);
    });
  });

  it('a complete response whose body is not read does not keep the connection window', async () => {
    // The smallest connection window: one unread 60,000-octet body would take nearly all of it.
    await withSession(
      async (s) => {
        const unread = await s.request({ ':path': '/size/60000' });
        await s.ping();
        for (let i = 0; i < 3; i++) {
          const r = await s.request({ ':path': '/size/60000' }, { timeout: 3000 });
          expect(Buffer.from(await r.bytes()).equals(pattern(60000))).toBe(true);
        }
        // What was held stays readable.
        expect(Buffer.from(await unread.bytes()).equals(pattern(60000))).toBe(true);
      },
      url,
      { settings: { connectionWindowSize: 65535 } },
    );
  });

  it('leaving the body loop early cancels the stream (and the session goes on)', async () => {
    await withSession(async (s) => {
      const r = await s.request({ ':path': `/size/${1 << 20}` });
      for await (const chunk of r.body) {
        expect(chunk.length).toBeGreaterThan(0);
        break;
      }
      await s.ping();
      expect(s.activeStreams).toBe(0);
      expect((await s.request({ ':path': '/' })).status).toBe(200);
    });
  });
});

describe('push and PING', () => {
  it('a pushed response arrives through the push event', async () => {
    await withSession(async (s) => {
      const pushes: Array<{ headers: Array<[string, string]>; body: string }> = [];
      const done: Array<Promise<void>> = [];
      s.on('push', (p) => {
        done.push(
          p.response.then(async (r) => {
            pushes.push({ headers: p.headers, body: await r.text() });
          }),
        );
      });
      const r = await s.request({ ':path': '/push' });
      expect(await r.text()).toBe('main body');
      expect(r.get('x-pushed')).toBe('2');
      await s.ping();
      await Promise.all(done);
      expect(pushes).toHaveLength(1);
      expect(pushes[0]!.headers).toContainEqual([':path', '/pushed.css']);
      expect(pushes[0]!.body).toBe('pushed body');
    });
  });

  it('without a push listener, pushes are refused and the request still succeeds', async () => {
    await withSession(async (s) => {
      const r = await s.request({ ':path': '/push' });
      expect(await r.text()).toBe('main body');
      await s.ping();
      expect(s.activeStreams).toBe(0);
    });
  });

  it('settings.enablePush false: the server does not push', async () => {
    await withSession(
      async (s) => {
        const r = await s.request({ ':path': '/push' });
        expect(r.get('x-pushed')).toBe('none');
      },
      url,
      { settings: { enablePush: false } },
    );
  });

  it('ping() resolves with a round trip', async () => {
    await withSession(async (s) => {
      expect(await s.ping()).toBeGreaterThanOrEqual(0);
    });
  });
});

describe('connect()', () => {
  it('a refused connection: CONNECT_FAILED naming the address', async () => {
    const srv = await startTestServer();
    const port = srv.port;
    await srv.close();
    const e = await rejection(connect(`http://127.0.0.1:${port}`));
    expect(e.code).toBe('CONNECT_FAILED');
    expect(e.message).toContain(`127.0.0.1:${port}`);
  });

  it('bad URLs and schemes: INVALID_ARGUMENT', async () => {
    expect((await rejection(connect('not a url'))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(connect('ftp://x/'))).code).toBe('INVALID_ARGUMENT');
  });

  it('an aborted connect: ABORTED', async () => {
    const ac = new AbortController();
    ac.abort();
    expect((await rejection(connect(url, { signal: ac.signal }))).code).toBe('ABORTED');
  });

  it('the h2c upgrade (RFC 7540 §3.2): the first request goes as HTTP/1.1, its response on stream 1', async () => {
    await withSession(
      async (s) => {
        const r = await s.request({ ':path': '/info' });
        expect(r.streamId).toBe(1);
        expect(((await r.json()) as { path: string }).path).toBe('/info');
        const r2 = await s.request({ ':path': '/size/10' });
        expect(r2.streamId).toBe(3);
        expect((await r2.bytes()).length).toBe(10);
      },
      url,
      { upgrade: true },
    );
  });

  it('the h2c upgrade with a body first: OPTIONS * upgrades, then the POST', async () => {
    await withSession(
      async (s) => {
        const r = await s.request({ ':method': 'POST', ':path': '/count' }, { body: 'abcdef' });
        expect(await r.text()).toBe('6');
        expect(r.streamId).toBe(3);
      },
      url,
      { upgrade: true },
    );
  });
});
