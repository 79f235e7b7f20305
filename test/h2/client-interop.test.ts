/**
 * Interop of the client engine (connect() in h2kit/h2) with real servers,
 * started by the tests on free ports with their own temp configuration:
 * nghttpd (h2c, and TLS with -p push), nginx (http2 on TLS), apache2 with
 * mod_http2 (h2 on TLS; h2c with prior knowledge and the HTTP/1.1 Upgrade),
 * h2o (TLS), Node's http2 server (in-process, h2c) and h2serve (TLS).
 * Certificates come from openssl and are verified (a CA, not
 * rejectUnauthorized: false).
 *
 * Downloads of 0 B, 1 KiB, 1 MiB and 64 MiB must arrive byte-exact
 * (sha256). Uploads of 1 MiB and 64 MiB are checked against what each
 * server shows it received: nghttpd, h2serve and h2o (an mruby handler)
 * echo the body, Node's server hashes it, nginx and apache2 store it with
 * WebDAV PUT and the stored file is hashed. 1,000 concurrent requests run on
 * one session; trailers go both ways (Node's server, h2serve); pushed
 * responses arrive (nghttpd -p, h2serve -p, Node's pushStream, nginx
 * http2_push). Also: many responses read one after another, cancelled
 * responses, and nginx's GOAWAY for a header field too large for it.
 *
 * A server that cannot start (its program not installed) fails its tests
 * with a message naming the program; nothing is skipped.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BodyInit,
  type ClientResponse,
  type ClientSession,
  type ConnectOptions,
  connect,
  ErrorCode,
  errorCodeName,
  Http2Error,
  type PushPromise,
} from '../../src/h2/index.js';
import { opensslCert, sha256, startH2Serve } from '../helpers/h2serve.js';
import { findProgram, peerDir, startApache, startH2o, startNghttpd, startNginx, type TlsFiles } from '../helpers/peers.js';

const SIZES = { '0': 0, '1k': 1024, '1m': 1 << 20, '64m': 64 << 20 } as const;
type Name = keyof typeof SIZES;
const ALL: Name[] = ['0', '1k', '1m', '64m'];
const SMALL: Name[] = ['0', '1k', '1m'];
/** The page whose request makes the servers push /1k and /1m. */
const PUSH_PAGE = '/index.html';
const PUSHED = ['/1k', '/1m'];

let htdocs = '';
let certDir = '';
let tlsFiles: TlsFiles;
let ca = '';
const digest = new Map<string, string>();

/** Why the shared files could not be made (openssl missing ...): every test fails with it. */
let setupError: unknown = null;

beforeAll(async () => {
  try {
    await makeFixtures();
  } catch (e) {
    setupError = e;
  }
});

async function makeFixtures(): Promise<void> {
  htdocs = peerDir('interop-htdocs');
  for (const [name, size] of Object.entries(SIZES)) {
    const data = randomBytes(size);
    writeFileSync(join(htdocs, name), data, { mode: 0o644 });
    digest.set(`/${name}`, sha256(data));
  }
  writeFileSync(join(htdocs, 'index.html'), '<!doctype html><link rel=stylesheet href=/1k>', { mode: 0o644 });
  certDir = peerDir('interop-tls');
  tlsFiles = await opensslCert(certDir);
  ca = readFileSync(tlsFiles.cert, 'utf8');
}

afterAll(() => {
  if (htdocs) rmSync(htdocs, { recursive: true, force: true });
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

/**
 * A server for one describe block, started in its beforeAll and stopped in
 * its afterAll. When it cannot start (a program not installed, a bad
 * configuration), every test of the block fails with that error: a throwing
 * beforeAll would only mark them skipped.
 */
function started<T>(start: () => Promise<T>, stop: (v: T) => Promise<void> | void): () => T {
  let value: T | undefined;
  let error: unknown = null;
  beforeAll(async () => {
    if (setupError !== null) {
      error = setupError;
      return;
    }
    try {
      value = await start();
    } catch (e) {
      error = e;
    }
  });
  afterAll(async () => {
    if (value !== undefined) await stop(value);
  });
  return () => {
    if (error !== null) throw error;
    return value as T;
  };
}

/** How to reach a server: the URL names localhost (SNI, :authority), TCP goes to 127.0.0.1. */
interface Target {
  url: string;
  options: ConnectOptions;
}

const tlsTarget = (port: number): Target => ({ url: `https://localhost:${port}`, options: { tls: { ca }, connectTo: { host: '127.0.0.1', port } } });
const h2cTarget = (port: number, upgrade = false): Target => ({
  url: `http://localhost:${port}`,
  options: { connectTo: { host: '127.0.0.1', port }, upgrade },
});

/** Runs `fn` on a new session, then closes it gracefully (GOAWAY) and checks it closed without error. */
async function withSession<T>(t: Target, fn: (s: ClientSession) => Promise<T>, extra: ConnectOptions = {}): Promise<T> {
  const s = await connect(t.url, { ...t.options, ...extra });
  if (t.url.startsWith('https:')) {
    expect(s.alpnProtocol).toBe('h2');
    expect(s.tls?.authorized).toBe(true);
  }
  let result: T;
  try {
    result = await fn(s);
  } catch (e) {
    s.destroy();
    throw e;
  }
  const info = await s.close();
  expect(info.error).toBeNull();
  return result;
}

interface Received {
  status: number;
  bytes: number;
  sha: string;
  streamId: number;
  trailers: Array<[string, string]>;
}

/** Reads a response body chunk by chunk into a hash (64 MiB is never held whole). */
async function receive(r: ClientResponse): Promise<Received> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of r.body) {
    h.update(chunk);
    bytes += chunk.length;
  }
  return { status: r.status, bytes, sha: h.digest('hex'), streamId: r.streamId, trailers: await r.trailers };
}

async function get(s: ClientSession, path: string): Promise<Received> {
  return receive(await s.request({ ':path': path }));
}

/** Each file arrives byte-exact. */
async function expectDownloads(t: Target, names: Name[]): Promise<void> {
  await withSession(t, async (s) => {
    for (const name of names) {
      const r = await get(s, `/${name}`);
      expect({ name, status: r.status, bytes: r.bytes, sha: r.sha }).toEqual({ name, status: 200, bytes: SIZES[name], sha: digest.get(`/${name}`) });
    }
  });
}

/** 1,000 requests at once on one session: every body byte-exact, each on its own stream, none left open. */
async function expectConcurrent(t: Target, n = 1000): Promise<void> {
  await withSession(t, async (s) => {
    const all = await Promise.all(Array.from({ length: n }, () => get(s, '/1k')));
    expect(all.filter((r) => r.status === 200 && r.sha === digest.get('/1k')).length).toBe(n);
    expect(new Set(all.map((r) => r.streamId)).size).toBe(n);
    expect(s.activeStreams).toBe(0);
    expect(s.pendingRequests).toBe(0);
  });
}

/**
 * Many responses at once, read one after another only once all have begun:
 * unread ones hold at most their stream window each, and never starve the
 * one being read of the connection window (a request timeout turns a
 * deadlock into a failure).
 */
async function expectReadInOrder(t: Target, n = 32): Promise<void> {
  await withSession(
    t,
    async (s) => {
      const responses = await Promise.all(Array.from({ length: n }, () => s.request({ ':path': '/1m' })));
      expect(s.stats.heldBody).toBeLessThanOrEqual(n * 65535);
      for (const r of responses) {
        const got = await receive(r);
        expect({ streamId: got.streamId, bytes: got.bytes, sha: got.sha }).toEqual({ streamId: r.streamId, bytes: SIZES['1m'], sha: digest.get('/1m') });
      }
      expect(s.stats.heldBody).toBe(0);
    },
    { requestTimeout: 15_000 },
  );
}

/**
 * Cancelled responses (mid-body, and before anything was read) leave the
 * session usable: DATA the server sent before it saw RST_STREAM is counted
 * and given back, and the next response arrives whole.
 */
async function expectCancels(t: Target): Promise<void> {
  await withSession(
    t,
    async (s) => {
      for (let i = 0; i < 3; i++) {
        const r = await s.request({ ':path': '/64m' });
        let n = 0;
        for await (const chunk of r.body) {
          n += chunk.length;
          if (n >= 100_000) break; // leaving the loop cancels the stream
        }
        expect(n).toBeLessThan(SIZES['64m']);
      }
      const unread = await Promise.all(Array.from({ length: 20 }, () => s.request({ ':path': '/1m' })));
      for (const r of unread) r.cancel();
      const r = await get(s, '/1m');
      expect({ status: r.status, sha: r.sha }).toEqual({ status: 200, sha: digest.get('/1m') });
      await s.ping();
      expect(s.activeStreams).toBe(0);
      expect(s.stats.heldBody).toBe(0);
    },
    { requestTimeout: 15_000 },
  );
}

/** The body of an upload: octets in memory for 1 MiB, a file stream (flow control, backpressure) for 64 MiB. */
function uploadBody(name: Name): BodyInit {
  return name === '64m' ? createReadStream(join(htdocs, name)) : readFileSync(join(htdocs, name));
}

/** Uploads 1 MiB and 64 MiB; `received` says what the server got (its sha256), from its answer or its disk. */
async function expectUploads(t: Target, received: (s: ClientSession, name: Name, body: BodyInit) => Promise<string>): Promise<void> {
  await withSession(t, async (s) => {
    for (const name of ['1m', '64m'] as const) {
      expect({ name, sha: await received(s, name, uploadBody(name)) }).toEqual({ name, sha: digest.get(`/${name}`) });
    }
  });
}

/** A server that answers with what it received: the sha256 of the response body. */
const echoedAt =
  (path: string) =>
  async (s: ClientSession, _name: Name, body: BodyInit): Promise<string> => {
    const r = await receive(await s.request({ ':method': 'POST', ':path': path, 'content-type': 'application/octet-stream' }, { body }));
    expect(r.status).toBe(200);
    return r.sha;
  };

/** WebDAV PUT: the server stores the body in davDir; its file is what it received. */
const storedIn =
  (davDir: string) =>
  async (s: ClientSession, name: Name, body: BodyInit): Promise<string> => {
    const file = `up-${name}-${Date.now()}`;
    const r = await receive(await s.request({ ':method': 'PUT', ':path': `/dav/${file}`, 'content-type': 'application/octet-stream' }, { body }));
    expect([201, 204]).toContain(r.status);
    return sha256(readFileSync(join(davDir, file)));
  };

/** Requesting PUSH_PAGE makes the server push PUSHED: each promise names its path, each pushed body is byte-exact. */
async function expectPushes(t: Target): Promise<void> {
  await withSession(t, async (s) => {
    const promises: PushPromise[] = [];
    const bodies: Array<Promise<Received & { path: string }>> = [];
    s.on('push', (p) => {
      promises.push(p);
      const path = p.headers.find(([n]) => n === ':path')?.[1] ?? '';
      bodies.push(p.response.then(async (r) => ({ ...(await receive(r)), path })));
    });
    const main = await s.request({ ':path': PUSH_PAGE });
    const page = await receive(main);
    expect(page.status).toBe(200);
    // PUSH_PROMISE comes before the response it belongs to (RFC 9113 §8.4), so all promises are in.
    expect(promises.map((p) => p.parentStreamId)).toEqual(PUSHED.map(() => main.streamId));
    for (const p of promises) {
      expect(p.streamId % 2).toBe(0);
      expect(p.headers).toContainEqual([':method', 'GET']);
      expect(p.headers).toContainEqual([':authority', new URL(t.url).host]);
    }
    const pushed = (await Promise.all(bodies)).sort((a, b) => a.path.localeCompare(b.path));
    expect(pushed.map((r) => ({ path: r.path, status: r.status, sha: r.sha }))).toEqual(PUSHED.map((path) => ({ path, status: 200, sha: digest.get(path) })));
    expect(s.activeStreams).toBe(0);
  });
}

describe('peers', () => {
  it('a server program that is not installed fails the tests that need it, naming it', () => {
    expect(() => findProgram('h2kit-no-such-server')).toThrow(/needs 'h2kit-no-such-server', which is not installed/);
  });
});

describe('nghttpd, h2c (--no-tls)', () => {
  const peer = started(
    () => startNghttpd(htdocs, null, ['--echo-upload']),
    (p) => p.stop(),
  );
  const t = (): Target => h2cTarget(peer().port);

  it('downloads 0 B, 1 KiB, 1 MiB and 64 MiB byte-exact', () => expectDownloads(t(), ALL));
  it('uploads 1 MiB and 64 MiB intact (--echo-upload)', () => expectUploads(t(), echoedAt('/echo')));
  it('1,000 concurrent requests on one session', () => expectConcurrent(t()));
  it('32 concurrent 1 MiB responses read one after another', () => expectReadInOrder(t()));
  it('cancelled responses leave the session usable', () => expectCancels(t()));
});

describe('nghttpd, TLS with -p push', () => {
  const peer = started(
    () => startNghttpd(htdocs, tlsFiles, ['-p', `${PUSH_PAGE}=${PUSHED.join(',')}`, '--trailer', 'x-nghttpd-trailer: end']),
    (p) => p.stop(),
  );
  const t = (): Target => tlsTarget(peer().port);

  it('downloads 0 B, 1 KiB, 1 MiB and 64 MiB byte-exact', () => expectDownloads(t(), ALL));
  it('pushed responses arrive', () => expectPushes(t()));
  it('its response trailers arrive (--trailer)', async () => {
    await withSession(t(), async (s) => {
      const r = await get(s, '/1k');
      expect(r.sha).toBe(digest.get('/1k'));
      expect(r.trailers).toEqual([['x-nghttpd-trailer', 'end']]);
    });
  });
});

describe('nginx, http2 on TLS', () => {
  const ngx = started(
    () => startNginx({ htdocs, tls: tlsFiles, push: { [PUSH_PAGE]: PUSHED } }),
    (n) => n.peer.stop(),
  );
  const t = (): Target => tlsTarget(ngx().peer.port);

  it('downloads 0 B, 1 KiB, 1 MiB and 64 MiB byte-exact', () => expectDownloads(t(), ALL));
  it('uploads 1 MiB and 64 MiB intact (WebDAV PUT, the stored file hashed)', () => expectUploads(t(), storedIn(ngx().davDir)));
  it('1,000 concurrent requests on one session (above its 128 concurrent streams: the rest wait)', () => expectConcurrent(t()));
  it('pushed responses arrive (http2_push)', () => expectPushes(t()));

  it('a header field too large for nginx: GOAWAY, and the request fails with the code nginx sent', async () => {
    const s = await connect(t().url, t().options);
    try {
      const goaway = new Promise<number>((resolve) => s.on('goaway', (_last, code) => resolve(code)));
      const e = await s.request({ ':path': '/1k', 'x-large': 'x'.repeat(32 * 1024) }).then(
        () => null,
        (err: unknown) => err,
      );
      const code = await goaway;
      expect(code).not.toBe(ErrorCode.NO_ERROR);
      expect(e).toBeInstanceOf(Http2Error);
      expect({ code: (e as Http2Error).code, errorCode: (e as Http2Error).errorCode }).toEqual({ code: errorCodeName(code), errorCode: code });
      expect((e as Http2Error).message).toContain('GOAWAY');
    } finally {
      s.destroy();
    }
    // The server is fine: a new session works.
    await expectDownloads(t(), ['1k']);
  });
  it('32 concurrent 1 MiB responses read one after another', () => expectReadInOrder(t()));
  it('cancelled responses leave the session usable', () => expectCancels(t()));
});

describe('apache2 with mod_http2', () => {
  const ap = started(
    () => startApache({ htdocs, tls: tlsFiles }),
    (a) => a.peer.stop(),
  );

  it('h2 on TLS: downloads 0 B, 1 KiB, 1 MiB and 64 MiB byte-exact', () => expectDownloads(tlsTarget(ap().tlsPort), ALL));
  it('h2 on TLS: uploads 1 MiB and 64 MiB intact (WebDAV PUT, the stored file hashed)', () => expectUploads(tlsTarget(ap().tlsPort), storedIn(ap().davDir)));
  it('h2 on TLS: 1,000 concurrent requests on one session', () => expectConcurrent(tlsTarget(ap().tlsPort)));
  it('h2 on TLS: 32 concurrent 1 MiB responses read one after another', () => expectReadInOrder(tlsTarget(ap().tlsPort)));
  it('h2 on TLS: cancelled responses leave the session usable', () => expectCancels(tlsTarget(ap().tlsPort)));
  it('h2c with prior knowledge: downloads 0 B, 1 KiB and 1 MiB byte-exact', () => expectDownloads(h2cTarget(ap().h2cPort), SMALL));

  /** What the server sent first: its answer to the upgrade request. */
  const firstOctets = (): { onData: (d: Uint8Array) => void; head: () => string } => {
    let head = '';
    return {
      onData: (d) => {
        if (head.length < 200) head += Buffer.from(d.subarray(0, 200)).toString('latin1');
      },
      head: () => head,
    };
  };

  it('h2c with the HTTP/1.1 Upgrade: 101, the first response on stream 1, then more on the upgraded connection', async () => {
    const seen = firstOctets();
    await withSession(
      h2cTarget(ap().h2cPort, true),
      async (s) => {
        const first = await get(s, '/1m');
        expect(first).toMatchObject({ status: 200, streamId: 1, sha: digest.get('/1m') });
        expect(seen.head()).toMatch(/^HTTP\/1\.1 101 /);
        for (const name of SMALL) {
          const r = await get(s, `/${name}`);
          expect({ name, status: r.status, sha: r.sha }).toEqual({ name, status: 200, sha: digest.get(`/${name}`) });
          expect(r.streamId).toBeGreaterThan(1);
        }
      },
      { onData: seen.onData },
    );
  });

  it('h2c with the HTTP/1.1 Upgrade and an upload first (OPTIONS * upgrades, then the PUT on stream 3)', async () => {
    const seen = firstOctets();
    await withSession(
      h2cTarget(ap().h2cPort, true),
      async (s) => {
        const file = 'upgrade-put';
        const r = await s.request({ ':method': 'PUT', ':path': `/dav/${file}` }, { body: uploadBody('1m') });
        expect(await receive(r)).toMatchObject({ status: 201, streamId: 3 });
        expect(seen.head()).toMatch(/^HTTP\/1\.1 101 /);
        expect(sha256(readFileSync(join(ap().davDir, file)))).toBe(digest.get('/1m'));
      },
      { onData: seen.onData },
    );
  });
});

describe('h2o on TLS', () => {
  const peer = started(
    () => startH2o({ htdocs, tls: tlsFiles }),
    (p) => p.stop(),
  );
  const t = (): Target => tlsTarget(peer().port);

  it('downloads 0 B, 1 KiB, 1 MiB and 64 MiB byte-exact', () => expectDownloads(t(), ALL));
  it('uploads 1 MiB and 64 MiB intact (an mruby handler echoes the body)', () => expectUploads(t(), echoedAt('/echo')));
  it('1,000 concurrent requests on one session', () => expectConcurrent(t()));
  it('32 concurrent 1 MiB responses read one after another', () => expectReadInOrder(t()));
  it('cancelled responses leave the session usable', () => expectCancels(t()));
});

describe("Node's http2 server (in-process, h2c)", () => {
  const sessions = new Set<http2.ServerHttp2Session>();
  /** Request trailers as Node's server received them, by the x-test-id of the request. */
  const receivedTrailers = new Map<string, http2.IncomingHttpHeaders>();

  // Files are answered from memory, not with respondWithFile: Node 20's native file piping has crashed
  // the whole test process (a vitest worker exiting) when a stream it was piping to was reset under load.
  const contents = new Map<string, Buffer>();
  const content = (name: string): Buffer => {
    let b = contents.get(name);
    if (b === undefined) contents.set(name, (b = readFileSync(join(htdocs, name))));
    return b;
  };
  const start = async (): Promise<http2.Http2Server> => {
    // Bodies written at once wait in Node's session for our windows: room for 32 MiB and 64 MiB responses.
    const server = http2.createServer({ maxSessionMemory: 512 });
    server.on('session', (s) => {
      sessions.add(s);
      s.on('close', () => sessions.delete(s));
    });
    server.on('stream', (stream, headers) => {
      const path = String(headers[':path']);
      const method = String(headers[':method']);
      stream.on('error', () => {});
      if (method === 'POST' && path === '/sha256') {
        // Hashes the request body: what the server received.
        const h = createHash('sha256');
        let bytes = 0;
        stream.on('data', (c: Buffer) => {
          h.update(c);
          bytes += c.length;
        });
        stream.on('end', () => {
          stream.respond({ ':status': 200, 'content-type': 'application/json' });
          stream.end(JSON.stringify({ bytes, sha256: h.digest('hex') }));
        });
        return;
      }
      if (method === 'POST' && path === '/trailers') {
        const id = String(headers['x-test-id']);
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('trailers', (tr) => receivedTrailers.set(id, tr));
        stream.on('end', () => {
          const body = Buffer.concat(parts);
          stream.respond({ ':status': 200 }, { waitForTrailers: true });
          stream.on('wantTrailers', () => {
            const got = receivedTrailers.get(id);
            stream.sendTrailers({ 'x-body-sha256': sha256(body), 'x-got-trailer': String(got?.['x-client-trailer'] ?? 'none') });
          });
          stream.end(body);
        });
        return;
      }
      if (path === PUSH_PAGE) {
        for (const p of PUSHED) {
          stream.pushStream({ ':path': p }, (err, push) => {
            if (err) return; // the client went away (the test then fails on what it did not get)
            push.on('error', () => {});
            push.respond({ ':status': 200 });
            push.end(content(p.slice(1)));
          });
        }
        stream.respond({ ':status': 200, 'content-type': 'text/html' });
        stream.end('<!doctype html>');
        return;
      }
      const name = path.slice(1);
      if (method === 'GET' && name in SIZES) {
        const body = content(name);
        stream.respond({ ':status': 200, 'content-length': body.length });
        stream.end(body);
        return;
      }
      stream.respond({ ':status': 404 });
      stream.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  };
  const server = started(start, async (srv) => {
    for (const s of sessions) s.destroy();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  const t = (): Target => h2cTarget((server().address() as AddressInfo).port);

  it('downloads 0 B, 1 KiB, 1 MiB and 64 MiB byte-exact', () => expectDownloads(t(), ALL));
  it('uploads 1 MiB and 64 MiB intact (the server hashes the body)', () =>
    expectUploads(t(), async (s, _name, body) => {
      const r = await s.request({ ':method': 'POST', ':path': '/sha256' }, { body });
      expect(r.status).toBe(200);
      const got = (await r.json()) as { bytes: number; sha256: string };
      return got.sha256;
    }));
  it('1,000 concurrent requests on one session', () => expectConcurrent(t()));
  it('pushed responses arrive (pushStream)', () => expectPushes(t()));
  it('32 concurrent 1 MiB responses read one after another', () => expectReadInOrder(t()));
  it('cancelled responses leave the session usable', () => expectCancels(t()));

  it('trailers both ways', async () => {
    await withSession(t(), async (s) => {
      const body = readFileSync(join(htdocs, '1m'));
      const r = await s.request({ ':method': 'POST', ':path': '/trailers', 'x-test-id': 'both-ways' }, { body, trailers: { 'x-client-trailer': 'after-1m' } });
      const got = await receive(r);
      expect(got.sha).toBe(digest.get('/1m'));
      // The server's view of our trailers, and its own trailers after the body.
      expect(receivedTrailers.get('both-ways')?.['x-client-trailer']).toBe('after-1m');
      expect(got.trailers).toEqual([
        ['x-body-sha256', digest.get('/1m')],
        ['x-got-trailer', 'after-1m'],
      ]);
    });
  });
});

describe('h2serve (bin/h2serve.js) on TLS', () => {
  // -v: its frame log shows the trailers it received.
  const h2s = started(
    () =>
      startH2Serve(
        [
          '-v',
          '-a',
          '127.0.0.1',
          '-d',
          htdocs,
          '--echo-upload',
          '-p',
          `${PUSH_PAGE}=${PUSHED.join(',')}`,
          '--trailer',
          'x-h2serve-trailer: end',
          '0',
          tlsFiles.key,
          tlsFiles.cert,
        ],
        {
          env: { NO_COLOR: '1' },
        },
      ),
    (p) => p.stop(),
  );
  const t = (): Target => tlsTarget(h2s().port);

  it('downloads 0 B, 1 KiB, 1 MiB and 64 MiB byte-exact', () => expectDownloads(t(), ALL));
  it('uploads 1 MiB and 64 MiB intact (--echo-upload)', () => expectUploads(t(), echoedAt('/echo')));
  it('1,000 concurrent requests on one session', () => expectConcurrent(t()));
  it('pushed responses arrive (-p)', () => expectPushes(t()));
  it('32 concurrent 1 MiB responses read one after another', () => expectReadInOrder(t()));
  it('cancelled responses leave the session usable', () => expectCancels(t()));

  it('trailers both ways', async () => {
    await withSession(t(), async (s) => {
      const r = await s.request({ ':method': 'POST', ':path': '/echo' }, { body: 'trailed body', trailers: { 'x-client-trailer': 'after-body' } });
      const got = await receive(r);
      expect(got.sha).toBe(sha256(Buffer.from('trailed body')));
      expect(got.trailers).toEqual([['x-h2serve-trailer', 'end']]);
      // Its -v log: our trailer field, then the HEADERS frame that carried it, with END_STREAM.
      const id = got.streamId;
      const re = new RegExp(
        `recv \\(stream_id=${id}\\) x-client-trailer: after-body\\n(?:.*\\n)*?.*recv HEADERS frame <length=\\d+, flags=0x05, stream_id=${id}>`,
      );
      await h2s().waitForStdout(re);
    });
  });
});
