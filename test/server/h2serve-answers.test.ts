/**
 * h2serve's answers for files served from the cache (in process, with
 * Node's http2 client): the same fields on every response, fresh content
 * after a change, trailers only after a body, pushes and the frame log.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type H2Serve, type H2ServeConfig, startH2Serve } from '../../src/server/h2serve.js';

interface Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
}

function request(client: http2.ClientHttp2Session, path: string, method = 'GET', extra: http2.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':method': method, ':path': path, ...extra }, { endStream: true });
    const parts: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(parts), trailers }));
    req.on('error', reject);
  });
}

let dir: string;
const servers: H2Serve[] = [];
const clients: http2.ClientHttp2Session[] = [];

async function serve(extra: Partial<H2ServeConfig> = {}): Promise<{ client: http2.ClientHttp2Session; log: string[] }> {
  const log: string[] = [];
  const s = await startH2Serve({ port: 0, address: '127.0.0.1', htdocs: dir, tls: null, write: (t) => void log.push(t), ...extra });
  servers.push(s);
  const client = http2.connect(`http://127.0.0.1:${s.address.port}`);
  clients.push(client);
  return { client, log };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'h2serve-answers-'));
  writeFileSync(join(dir, 'a.txt'), 'a'.repeat(1024));
  writeFileSync(join(dir, 'style.css'), 'body { color: red }\n');
  writeFileSync(join(dir, 'index.html'), '<p>hi</p>\n');
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.close(1000);
  rmSync(dir, { recursive: true, force: true });
});

describe('h2serve answers from the cache', () => {
  it('the date field is of the second the answer was made in, also from one second to the next', async () => {
    const { client } = await serve();
    for (let i = 0; i < 3; i++) {
      const lo = Math.floor(Date.now() / 1000) * 1000;
      const r = await request(client, '/a.txt');
      const hi = Date.now();
      const date = Date.parse(String(r.headers['date']));
      expect(date).toBeGreaterThanOrEqual(lo);
      expect(date).toBeLessThanOrEqual(hi);
      await new Promise((done) => setTimeout(done, 1000 - (Date.now() % 1000) + 20));
    }
  });

  it('many requests on one connection get the same fields and body; HEAD the same fields without a body', async () => {
    const { client } = await serve();
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => request(client, i % 3 === 2 ? `/a.txt?x=${i}` : '/a.txt', i % 5 === 4 ? 'HEAD' : 'GET')),
    );
    const before = Date.now();
    for (const [i, r] of replies.entries()) {
      expect(r.status).toBe(200);
      expect(r.headers['server']).toMatch(/^h2serve h2kit\//);
      expect(Math.abs(Date.parse(String(r.headers['date'])) - before)).toBeLessThan(5000);
      expect(r.headers['content-length']).toBe('1024');
      expect(r.headers['etag']).toBe(replies[0]!.headers['etag']);
      expect(r.headers['last-modified']).toBe(replies[0]!.headers['last-modified']);
      expect(r.headers['cache-control']).toBe('max-age=3600');
      expect(r.headers['accept-ranges']).toBe('bytes');
      expect(r.body.toString()).toBe(i % 5 === 4 ? '' : 'a'.repeat(1024));
    }
    const notModified = await request(client, '/a.txt', 'GET', { 'if-none-match': String(replies[0]!.headers['etag']) });
    expect(notModified.status).toBe(304);
    expect(notModified.headers['server']).toMatch(/^h2serve/);
    const missing = await request(client, '/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toMatch(/404/);
  });

  it('a file changed between requests is served fresh', async () => {
    const { client } = await serve();
    writeFileSync(join(dir, 'changing.txt'), 'first');
    expect((await request(client, '/changing.txt')).body.toString()).toBe('first');
    expect((await request(client, '/changing.txt')).body.toString()).toBe('first');
    writeFileSync(join(dir, 'changing.txt'), 'second, longer');
    const r = await request(client, '/changing.txt');
    expect(r.body.toString()).toBe('second, longer');
    expect(r.headers['content-length']).toBe('14');
  });

  it('--trailer: the trailer field and trailers after every body, neither without one', async () => {
    const { client } = await serve({ trailers: [['x-t', '1']] });
    for (let i = 0; i < 3; i++) {
      const get = await request(client, '/style.css');
      expect(get.body.toString()).toBe('body { color: red }\n');
      expect(get.headers['trailer']).toBe('x-t');
      expect(get.trailers['x-t']).toBe('1');
      const head = await request(client, '/style.css', 'HEAD');
      expect(head.headers['trailer']).toBeUndefined();
      expect(head.headers['content-length']).toBe(get.headers['content-length']);
      const missing = await request(client, '/none');
      expect(missing.status).toBe(404);
      expect(missing.trailers['x-t']).toBe('1');
    }
  });

  it('-p: pushed files still come before the response', async () => {
    const { client } = await serve({ push: new Map([['/', ['/style.css']]]) });
    const pushed: string[] = [];
    client.on('stream', (s, h) => {
      pushed.push(String(h[':path']));
      s.resume();
    });
    for (let i = 0; i < 2; i++) {
      const r = await request(client, '/');
      expect(r.body.toString()).toBe('<p>hi</p>\n');
    }
    expect(pushed).toEqual(['/style.css', '/style.css']);
  });

  it('-v: the frame log shows the requests of one read before the responses, as nghttpd', async () => {
    const { client, log } = await serve({ verbose: true });
    await Promise.all([request(client, '/a.txt'), request(client, '/a.txt')]);
    await request(client, '/a.txt'); // warm: both of the next are cache hits
    log.length = 0;
    await new Promise<void>((resolve) => {
      // Corked: both HEADERS go out in one write.
      const socket = (client as unknown as { socket: { cork(): void; uncork(): void } }).socket;
      socket.cork();
      let left = 2;
      for (let i = 0; i < 2; i++) request(client, '/a.txt').then(() => --left === 0 && resolve());
      process.nextTick(() => socket.uncork());
    });
    const frames = log
      .join('')
      .split('\n')
      .filter((l) => /(recv|send) HEADERS frame/.test(l))
      .map((l) => (l.includes('recv') ? 'recv' : 'send'));
    expect(frames).toEqual(['recv', 'recv', 'send', 'send']);
  });
});
