/**
 * h2proxy's own HTTP/1.1 backend client (Http1Pool), against raw TCP
 * backends that write exactly the octets each test gives them, split where
 * the test splits them: framing (Content-Length, chunked with extensions
 * and trailers, close-delimited, HEAD, 204, 304, 1xx), keep-alive reuse and
 * when a connection must not be reused, request content (chunked or with a
 * length), backpressure, timeouts, the retry of an idempotent request on a
 * connection the backend had closed, and every malformed response refused
 * with a reason.
 */
import { createHash } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendCall, BackendFailure, BackendRequest, ResponseSink } from '../../src/proxy/backend.js';
import { Http1Pool, MAX_HEAD } from '../../src/proxy/backend-http1.js';
import type { Fields } from '../../src/proxy/headers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A request as the raw backend received it. */
interface Received {
  head: string;
  body: Buffer;
  socket: net.Socket;
  /** Which connection (1, 2, ...) it came on, and its index on that connection (0, 1, ...). */
  conn: number;
  index: number;
}

/** Decodes a chunked body; null while incomplete. */
function dechunk(b: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', pos);
    if (eol < 0) return null;
    const size = Number.parseInt(b.toString('latin1', pos, eol), 16);
    if (size === 0) return b.indexOf('\r\n\r\n', eol) >= 0 || b.subarray(eol + 2, eol + 4).toString() === '\r\n' ? Buffer.concat(parts) : null;
    if (b.length < eol + 2 + size + 2) return null;
    parts.push(b.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
}

/**
 * A backend that parses requests (Content-Length or chunked content) and
 * hands each to `onRequest`, which writes what it likes on the socket.
 */
class RawBackend {
  readonly server: net.Server;
  readonly requests: Received[] = [];
  connections = 0;
  private readonly sockets = new Set<net.Socket>();

  constructor(onRequest: (r: Received) => void | Promise<void>) {
    this.server = net.createServer((socket) => {
      const conn = ++this.connections;
      let index = 0;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      let buf = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.toString('latin1', 0, end);
          const rest = buf.subarray(end + 4);
          const length = /\r\ncontent-length: *(\d+)/i.exec(head);
          let body: Buffer;
          let used: number;
          if (length) {
            const n = Number(length[1]);
            if (rest.length < n) return;
            body = rest.subarray(0, n);
            used = n;
          } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
            const b = dechunk(rest);
            if (b === null) return;
            body = b;
            used = rest.length;
          } else {
            body = Buffer.alloc(0);
            used = 0;
          }
          buf = rest.subarray(used);
          const r: Received = { head, body, socket, conn, index: index++ };
          this.requests.push(r);
          void onRequest(r);
        }
      });
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}

/** Writes `parts` one at a time, each in its own read at the client. */
async function writeSplit(s: net.Socket, parts: Array<string | Buffer>): Promise<void> {
  s.setNoDelay(true);
  for (const p of parts) {
    if (s.destroyed) return;
    s.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
    await sleep(5);
  }
}

/** Every octet of `s` in its own write. */
function octets(s: string): string[] {
  return [...s];
}

interface Outcome {
  status: number;
  fields: Fields;
  body: Buffer;
  trailers: Fields | null;
}

/** A sink that collects the response; the promise rejects with the failure. */
function collect(): { sink: ResponseSink; done: Promise<Outcome>; chunks: Buffer[] } {
  let status = 0;
  let fields: Fields = [];
  const chunks: Buffer[] = [];
  let resolve!: (o: Outcome) => void;
  let reject!: (f: BackendFailure) => void;
  const done = new Promise<Outcome>((a, b) => {
    resolve = a;
    reject = b;
  });
  const sink: ResponseSink = {
    head(s, f) {
      status = s;
      fields = f;
    },
    data(c) {
      chunks.push(Buffer.from(c));
      return true;
    },
    end(trailers) {
      resolve({ status, fields, body: Buffer.concat(chunks), trailers });
    },
    error(f) {
      reject(f);
    },
  };
  return { sink, done, chunks };
}

function request(path: string, o: Partial<BackendRequest> = {}): BackendRequest {
  return { method: 'GET', scheme: 'http', authority: 'backend', path, fields: [['host', 'backend']], body: null, front: { trailers: () => null }, ...o };
}

async function* bodyOf(parts: Buffer[], gap = 0): AsyncGenerator<Uint8Array> {
  for (const p of parts) {
    if (gap) await sleep(gap);
    yield p;
  }
}

let backends: RawBackend[] = [];
let pools: Http1Pool[] = [];

/** A pool for a plain-TCP backend on `port` (closed after the test). */
function poolFor(port: number, o: { readTimeout?: number; keepAliveTimeout?: number } = {}): Http1Pool {
  const pool = new Http1Pool({
    host: '127.0.0.1',
    port,
    tls: false,
    servername: null,
    connectTimeout: 2000,
    readTimeout: o.readTimeout ?? 5000,
    keepAliveTimeout: o.keepAliveTimeout ?? 5000,
    rejectUnauthorized: true,
    ca: null,
  });
  pools.push(pool);
  return pool;
}

async function setup(onRequest: (r: Received) => void | Promise<void>, o: { readTimeout?: number; keepAliveTimeout?: number } = {}) {
  const b = await new RawBackend(onRequest).listen();
  backends.push(b);
  const pool = poolFor(b.port, o);
  const get = (path: string, r: Partial<BackendRequest> = {}) => {
    const c = collect();
    pool.dispatch(request(path, r), c.sink);
    return c.done;
  };
  return { backend: b, pool, get };
}

afterEach(() => {
  for (const p of pools) p.destroy();
  for (const b of backends) b.close();
  pools = [];
  backends = [];
});

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';

describe('framing', () => {
  it('Content-Length content, the head and body split octet by octet, and the connection reused', async () => {
    const { backend, get } = await setup((r) =>
      writeSplit(r.socket, octets('HTTP/1.1 200 OK\r\nServer: raw\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\n\r\nhello')),
    );
    const a = await get('/a');
    expect(a.status).toBe(200);
    expect(a.body.toString()).toBe('hello');
    expect(a.fields).toEqual([
      ['server', 'raw'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['content-length', '5'],
    ]);
    const b = await get('/b');
    expect(b.body.toString()).toBe('hello');
    expect(backend.connections).toBe(1);
    expect(backend.requests.map((r) => [r.conn, r.index])).toEqual([
      [1, 0],
      [1, 1],
    ]);
  });

  it('chunked content with extensions and trailers, split across reads, byte-exact; the connection reused', async () => {
    const data = createHash('sha256').update('x').digest();
    const wire = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n${data.length.toString(16).toUpperCase()}\r\n`;
    const { backend, get } = await setup((r) =>
      writeSplit(r.socket, [
        wire.slice(0, 30),
        wire.slice(30, 50),
        wire.slice(50),
        data.subarray(0, 7),
        data.subarray(7),
        '\r',
        '\n0\r\nX-Digest: ',
        'abc\r\nX-Two: 2\r\n\r\n',
      ]),
    );
    const a = await get('/');
    expect(a.body).toEqual(Buffer.concat([Buffer.from('hello'), data]));
    expect(a.trailers).toEqual([
      ['x-digest', 'abc'],
      ['x-two', '2'],
    ]);
    await get('/');
    expect(backend.connections).toBe(1);
  });

  it('chunked content sent an octet at a time, with and without trailers', async () => {
    const wires = [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nwiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n0\r\n\r\n',
    ];
    const { backend, get } = await setup((r) => writeSplit(r.socket, octets(wires[r.index]!)));
    const a = await get('/');
    expect([a.body.toString(), a.trailers]).toEqual(['wikipedia', [['x-t', '1']]]);
    const b = await get('/');
    expect([b.body.toString(), b.trailers]).toEqual(['wiki', null]);
    expect(backend.connections).toBe(1);
  });

  it('chunked content without trailers ends with the empty line', async () => {
    const { backend, get } = await setup((r) => writeSplit(r.socket, ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n', '\r\n']));
    const a = await get('/');
    expect(a.body.toString()).toBe('abc');
    expect(a.trailers).toBeNull();
    await get('/');
    expect(backend.connections).toBe(1);
  });

  it('1xx responses (100, 103) are skipped; the final response is forwarded', async () => {
    const { get } = await setup((r) =>
      writeSplit(r.socket, ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n', OK]),
    );
    const a = await get('/');
    expect(a.status).toBe(200);
    expect(a.body.toString()).toBe('hello');
  });

  it('HEAD, 204 and 304 responses have no content whatever their Content-Length; the connection is reused', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n',
      'HTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\nETag: "x"\r\n\r\n',
    ];
    const { backend, get } = await setup((r) => void r.socket.write(answers[r.index]!));
    const h = await get('/', { method: 'HEAD' });
    expect([h.status, h.body.length]).toEqual([200, 0]);
    expect(h.fields).toContainEqual(['content-length', '1000']);
    expect((await get('/')).status).toBe(204);
    const n = await get('/');
    expect([n.status, n.body.length]).toEqual([304, 0]);
    expect(backend.connections).toBe(1);
  });

  it('content without a length runs to the close, and that connection is not reused', async () => {
    const { backend, get } = await setup(async (r) => {
      await writeSplit(r.socket, ['HTTP/1.1 200 OK\r\n\r\nsome', ' more']);
      r.socket.end();
    });
    expect((await get('/')).body.toString()).toBe('some more');
    expect((await get('/')).body.toString()).toBe('some more');
    expect(backend.connections).toBe(2);
  });

  it('Connection: close, and HTTP/1.0 without keep-alive, end the connection after the response', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok',
      OK,
    ];
    let i = 0;
    const { backend, get } = await setup((r) => void r.socket.write(answers[i++]!));
    for (let k = 0; k < 4; k++) expect((await get('/')).status).toBe(200);
    // close; 1.0 closes; 1.0 keep-alive is reused for the fourth.
    expect(backend.connections).toBe(3);
  });

  it('a chunk size with leading zeros is taken; Transfer-Encoding in an HTTP/1.0 response closes the connection after it', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000003\r\nabc\r\n0000\r\n\r\n',
      'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      OK,
    ];
    let i = 0;
    const { backend, get } = await setup((r) => void r.socket.write(answers[i++]!));
    expect((await get('/')).body.toString()).toBe('abc');
    expect((await get('/')).body.toString()).toBe('ok');
    expect((await get('/')).body.toString()).toBe('hello');
    expect(backend.connections).toBe(2);
  });

  it('Content-Length: 0 and a repeated identical Content-Length are fine', async () => {
    const answers = ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc'];
    const { backend, get } = await setup((r) => void r.socket.write(answers[r.index]!));
    expect((await get('/')).body.length).toBe(0);
    expect((await get('/')).body.toString()).toBe('abc');
    expect(backend.connections).toBe(1);
  });

  it('octets after the response close the connection instead of being taken for the next response', async () => {
    const { backend, get } = await setup((r) => void r.socket.write(r.conn === 1 ? `${OK}HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad` : OK));
    expect((await get('/')).body.toString()).toBe('hello');
    expect((await get('/')).body.toString()).toBe('hello');
    expect(backend.connections).toBe(2);
  });
});

describe('malformed responses are 502s with a reason, never guessed at', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', /two different Content-Lengths \(3 and 4\)/],
    ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc', /invalid Content-Length "3x"/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /invalid chunk size "zz"/],
    ['a chunk-size line ended by a bare LF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n', /invalid chunk size "3\\nabc"/],
    ['a chunk-size line too long', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;${'e'.repeat(5000)}`, /a chunk-size line larger than 4096 octets/],
    [
      'a trailer section larger than the limit',
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ${'t'.repeat(MAX_HEAD)}\r\n\r\n`,
      /header section larger than 65536 octets/,
    ],
    ['chunk data without its CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n', /chunk data not followed by CRLF/],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\nContent-Length: 0\r\n\r\n', /obsolete line folding/],
    ['a bare LF in a field', 'HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\nContent-Length: 0\r\n\r\n', /a bare LF in the header section/],
    ['a bare CR in a field', 'HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\nContent-Length: 0\r\n\r\n', /a bare CR in the header section/],
    ['a bare LF in the status line', 'HTTP/1.1 200 OK\nX-A: 1\r\nContent-Length: 0\r\n\r\n', /in the status line/],
    ['a bare LF in a trailer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\nX-U: 2\r\n\r\n', /a bare LF in the header section/],
    ['NUL in a field value', 'HTTP/1.1 200 OK\r\nX-A: 1\0\r\nContent-Length: 0\r\n\r\n', /NUL/],
    ['a field line without a colon', 'HTTP/1.1 200 OK\r\nnocolon\r\nContent-Length: 0\r\n\r\n', /without a colon/],
    ['a space in a field name', 'HTTP/1.1 200 OK\r\nBad Name: 1\r\nContent-Length: 0\r\n\r\n', /invalid header field name: "Bad Name"/],
    ['not HTTP/1.x', 'HTTP/2 200\r\nContent-Length: 0\r\n\r\n', /not an HTTP\/1.x status line: "HTTP\/2 200"/],
    ['endless interim responses', 'HTTP/1.1 100 Continue\r\n\r\n'.repeat(17), /more than 16 interim \(1xx\) responses/],
    ['a status under 100', 'HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n', /status 099 is not a status code/],
    ['a 101 nobody asked for', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', /101/],
    ['a head larger than the limit', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD + 10)}\r\n\r\n`, /header section larger than 65536 octets/],
  ];
  for (const [name, wire, why] of cases) {
    it(name, async () => {
      const { backend, get } = await setup((r) => void r.socket.write(r.index === 0 && r.conn === 1 ? wire : OK));
      const f = await get('/').then(
        () => null,
        (e: BackendFailure) => e,
      );
      expect(f?.kind).toBe('reset');
      expect(f?.message).toMatch(/^invalid response: /);
      expect(f?.message).toMatch(why);
      // The connection is not reused: the next request gets a new one and a good answer.
      expect((await get('/')).body.toString()).toBe('hello');
      expect(backend.connections).toBe(2);
    });
  }

  it('a close before the response is complete', async () => {
    const { get } = await setup((r) => void r.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    await expect(get('/')).rejects.toMatchObject({ kind: 'reset', message: 'the backend closed the connection before the response was complete' });
  });

  it('a close without a response, on a new connection', async () => {
    const { get } = await setup((r) => void r.socket.end());
    await expect(get('/')).rejects.toMatchObject({ kind: 'reset', message: 'the backend closed the connection without a response' });
  });

  it('octets while idle close the connection', async () => {
    const { backend, pool, get } = await setup((r) => {
      r.socket.write(OK);
      if (r.conn === 1) setTimeout(() => r.socket.write('HTTP/1.1 200 OK\r\n'), 50);
    });
    await get('/');
    await sleep(150);
    expect(pool.connections).toBe(0);
    await get('/');
    expect(backend.connections).toBe(2);
  });
});

describe('requests', () => {
  it('the request line and fields as given, in order; POST without content gets Content-Length: 0', async () => {
    const { backend, get } = await setup((r) => void r.socket.write(OK));
    await get('/p?q=1', {
      fields: [
        ['host', 'example'],
        ['x-a', '1'],
        ['x-a', '2'],
      ],
    });
    await get('/post', { method: 'POST', fields: [['host', 'example']] });
    expect(backend.requests[0]!.head).toBe('GET /p?q=1 HTTP/1.1\r\nhost: example\r\nx-a: 1\r\nx-a: 2');
    expect(backend.requests[1]!.head).toBe('POST /post HTTP/1.1\r\nhost: example\r\ncontent-length: 0');
  });

  it('content without a length goes chunked; with one, as it is; both byte-exact, and the connection reused', async () => {
    const { backend, get } = await setup((r) => void r.socket.write(OK));
    const parts = [Buffer.from('abc'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('z')];
    const all = Buffer.concat(parts);
    await get('/c', { method: 'POST', body: bodyOf(parts, 2) });
    await get('/l', { method: 'PUT', fields: [['content-length', String(all.length)]], body: bodyOf(parts) });
    expect(backend.requests[0]!.head).toMatch(/\r\ntransfer-encoding: chunked$/);
    expect(backend.requests[0]!.body).toEqual(all);
    expect(backend.requests[1]!.head).toMatch(/\r\ncontent-length: 70004$/);
    expect(backend.requests[1]!.body).toEqual(all);
    expect(backend.connections).toBe(1);
  });

  it('a response that comes while the request content is still being sent is forwarded, and that connection not reused', async () => {
    const early = new RawBackend((r) => void r.socket.write(OK));
    backends.push(early);
    // A backend that answers as soon as it has the head.
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.write('HTTP/1.1 413 Too Large\r\nContent-Length: 3\r\n\r\nno!'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const pool = poolFor((server.address() as AddressInfo).port);
      const c = collect();
      let stop = false;
      async function* slow(): AsyncGenerator<Uint8Array> {
        while (!stop) {
          await sleep(10);
          yield Buffer.from('more');
        }
      }
      pool.dispatch(request('/', { method: 'POST', body: slow() }), c.sink);
      const r = await c.done;
      stop = true;
      expect([r.status, r.body.toString()]).toEqual([413, 'no!']);
      await sleep(50);
      expect(pool.connections).toBe(0);
    } finally {
      server.close();
    }
  });
});

describe('backpressure', () => {
  it('a sink that asks for a pause gets nothing more, and the response does not complete, until resume()', async () => {
    const big = Buffer.alloc(300_000, 1);
    const { backend, pool } = await setup(
      (r) => void r.socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`), big])),
    );
    let got = 0;
    let ended = false;
    let paused = true;
    const sink: ResponseSink = {
      head() {},
      data(c) {
        got += c.length;
        return !paused;
      },
      end() {
        ended = true;
      },
      error(f) {
        throw new Error(f.message);
      },
    };
    const call = pool.dispatch(request('/'), sink);
    await sleep(200);
    const first = got;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(big.length);
    expect(ended).toBe(false);
    await sleep(100);
    expect(got).toBe(first);
    paused = false;
    call.resume();
    for (let i = 0; i < 100 && !ended; i++) await sleep(10);
    expect(ended).toBe(true);
    expect(got).toBe(big.length);
    expect(backend.connections).toBe(1);
  });

  it('a pause on the last octets holds the completion (and the connection) until resume()', async () => {
    const { backend, pool, get } = await setup((r) => void r.socket.write(OK));
    let ended = false;
    const call = pool.dispatch(request('/'), {
      head() {},
      data: () => false,
      end: () => {
        ended = true;
      },
      error() {},
    });
    await sleep(100);
    expect(ended).toBe(false);
    // Busy: another request takes a second connection.
    await get('/');
    expect(backend.connections).toBe(2);
    call.resume();
    await sleep(20);
    expect(ended).toBe(true);
  });
});

describe('connections kept apart', () => {
  it('slices handed on by one connection are not overwritten by the reads of another', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => {
      s.on('error', () => {});
      sockets.push(s);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const pool = poolFor((server.address() as AddressInfo).port);
      // Sinks that keep what they are given as it is (no copy), and one that pauses with octets held.
      const kept: Record<string, Uint8Array[]> = { a: [], b: [], c: [] };
      const ended: string[] = [];
      const sinkOf = (k: string, pause: () => boolean): ResponseSink => ({
        head() {},
        data: (c) => {
          kept[k]!.push(c);
          return !pause();
        },
        end: () => void ended.push(k),
        error: (f) => {
          throw new Error(f.message);
        },
      });
      let pauseC = true;
      pool.dispatch(
        request('/a'),
        sinkOf('a', () => false),
      );
      pool.dispatch(
        request('/b'),
        sinkOf('b', () => false),
      );
      const c = pool.dispatch(
        request('/c'),
        sinkOf('c', () => pauseC),
      );
      for (let i = 0; i < 100 && sockets.length < 3; i++) await sleep(10);
      await sleep(30);
      const n = 20_000;
      const tail = '5\r\nccccc\r\n0\r\n\r\n';
      sockets[2]!.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${n.toString(16)}\r\n${'C'.repeat(n)}\r\n${tail}`);
      await sleep(50);
      sockets[0]!.write(`HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\n\r\n${'A'.repeat(n)}`);
      await sleep(50);
      sockets[1]!.write(`HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\n\r\n${'B'.repeat(n)}`);
      await sleep(50);
      pauseC = false;
      c.resume();
      await sleep(50);
      expect(ended.sort()).toEqual(['a', 'b', 'c']);
      expect(Buffer.concat(kept.a!).toString()).toBe('A'.repeat(n));
      expect(Buffer.concat(kept.b!).toString()).toBe('B'.repeat(n));
      expect(Buffer.concat(kept.c!).toString()).toBe(`${'C'.repeat(n)}ccccc`);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});

describe('timeouts, cancellation and the retry', () => {
  it('a sink that cancels from inside head() or data() hears nothing more', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n',
    ];
    const { pool } = await setup((r) => void r.socket.write(answers[r.conn - 1]!));
    for (const at of ['head', 'data'] as const) {
      const heard: string[] = [];
      let call: BackendCall | null = null;
      call = pool.dispatch(request('/'), {
        head: (s) => {
          heard.push(`head ${s}`);
          if (at === 'head') call!.cancel();
        },
        data: (c) => {
          heard.push(`data ${Buffer.from(c).toString()}`);
          if (at === 'data') call!.cancel();
          return true;
        },
        end: () => void heard.push('end'),
        error: (f) => void heard.push(`error ${f.kind}`),
      });
      await sleep(100);
      expect(heard).toEqual(at === 'head' ? ['head 200'] : ['head 200', 'data abc']);
    }
  });

  it('the read timeout is back on after a paused response completes', async () => {
    const { pool, get } = await setup(
      (r) => {
        if (r.index === 0) r.socket.write(OK);
      },
      { readTimeout: 300 },
    );
    let ended = false;
    const call = pool.dispatch(request('/'), { head() {}, data: () => false, end: () => void (ended = true), error() {} });
    await sleep(50);
    call.resume();
    await sleep(20);
    expect(ended).toBe(true);
    // The next request on that connection gets no answer: the timeout must still fire.
    await expect(get('/')).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('destroy() while a connection is being made reports a reset, not a failed backend', async () => {
    const { pool } = await setup(() => {});
    const c = collect();
    pool.dispatch(request('/'), c.sink);
    pool.destroy();
    await expect(c.done).rejects.toMatchObject({ kind: 'reset', message: 'the backend pool was closed' });
  });

  it('no answer within the read timeout: a timeout failure', async () => {
    const { get } = await setup(() => {}, { readTimeout: 200 });
    await expect(get('/')).rejects.toMatchObject({ kind: 'timeout', message: 'no response octets for 200 ms' });
  });

  it('a refused connection is a connect failure (another backend may be tried)', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const pool = poolFor(port);
    const c = collect();
    pool.dispatch(request('/'), c.sink);
    await expect(c.done).rejects.toMatchObject({ kind: 'connect', message: expect.stringMatching(/^ECONNREFUSED/) });
  });

  it('cancel() closes the connection and reports nothing', async () => {
    const { backend, pool } = await setup(() => {});
    let reported = false;
    const call = pool.dispatch(request('/'), {
      head: () => void (reported = true),
      data: () => true,
      end: () => void (reported = true),
      error: () => void (reported = true),
    });
    await sleep(50);
    expect(backend.requests).toHaveLength(1);
    call.cancel();
    await sleep(50);
    expect(pool.connections).toBe(0);
    expect(reported).toBe(false);
  });

  it('a GET on a kept-alive connection that the backend closed unanswered is sent again on a new one; a POST is not', async () => {
    // The backend answers the first request of each connection and drops the connection on the second.
    const { backend, get } = await setup((r) => {
      if (r.index === 0) r.socket.write(OK);
      else r.socket.destroy();
    });
    await get('/');
    const again = await get('/again');
    expect(again.body.toString()).toBe('hello');
    expect(backend.requests.map((r) => [r.conn, r.index])).toEqual([
      [1, 0],
      [1, 1],
      [2, 0],
    ]);
    await expect(get('/post', { method: 'POST' })).rejects.toMatchObject({ kind: 'reset', message: expect.stringMatching(/without a response|ECONNRESET/) });
  });

  it('idle connections close after the keep-alive timeout', async () => {
    const { backend, pool, get } = await setup((r) => void r.socket.write(OK), { keepAliveTimeout: 100 });
    await get('/');
    expect(pool.connections).toBe(1);
    await sleep(300);
    expect(pool.connections).toBe(0);
    await get('/');
    expect(backend.connections).toBe(2);
  });

  it('close() waits for requests in flight, then closes their connections', async () => {
    const { pool } = await setup(async (r) => {
      await sleep(100);
      r.socket.write(OK);
    });
    const c = collect();
    pool.dispatch(request('/'), c.sink);
    await sleep(20);
    const closed = pool.close();
    expect((await c.done).body.toString()).toBe('hello');
    await closed;
    expect(pool.connections).toBe(0);
  });
});
