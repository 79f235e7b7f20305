/**
 * h2serve --no-tls end to end with real clients (curl, nghttp, Node's
 * http2): files of 0 B to 64 MiB arrive byte-exact, and the static-file
 * answers (HEAD, 404, 405, index.html, 301, 304, 206, 416) hold on the wire;
 * h2load's 10,000 requests over 100 concurrent streams all succeed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, fetchWith } from '../helpers/h2-clients.js';
import { exec, type H2ServeProcess, h2loadSucceeded, killAll, requireBin, sha256, startH2Serve } from '../helpers/h2serve.js';

const FILES: Record<string, number> = { 'empty.bin': 0, '1k.bin': 1024, '1m.bin': 1 << 20, '64m.bin': 64 << 20 };
const digests = new Map<string, string>();
const contents = new Map<string, Buffer>();
let dir = '';
let server: H2ServeProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'h2serve-h2c-'));
  for (const [name, size] of Object.entries(FILES)) {
    const data = randomBytes(size);
    writeFileSync(join(dir, name), data);
    digests.set(name, sha256(data));
    if (size <= 1 << 20) contents.set(name, data);
  }
  writeFileSync(join(dir, 'index.html'), '<h1>the index</h1>\n');
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'index.html'), '<h1>sub</h1>\n');
  // Old enough that Last-Modified is a validator (RFC 9110 §13.1.3).
  const old = new Date('2024-01-02T03:04:05Z');
  for (const f of ['1k.bin', 'index.html']) utimesSync(join(dir, f), old, old);
  server = await startH2Serve(['--no-tls', '-d', dir, '0']);
});

afterAll(async () => {
  if (server) await server.stop();
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(CLIENTS)('h2c with %s', (client) => {
  const get = (path: string, opts: Parameters<typeof fetchWith>[2] = {}) => fetchWith(client, server.url + path, opts);

  it.each(Object.keys(FILES))('%s arrives byte-exact over HTTP/2', async (name) => {
    const r = await get(`/${name}`, { timeout: 120_000 });
    expect(r.status).toBe(200);
    expect(r.httpVersion).toBe('2');
    expect(r.body.length).toBe(FILES[name]);
    expect(sha256(r.body)).toBe(digests.get(name));
    expect(r.headers.get('content-length')).toBe(String(FILES[name]));
  });

  it('HEAD: the GET fields, no body', async () => {
    const r = await get('/1m.bin', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toBe(String(1 << 20));
    expect(r.body.length).toBe(0);
  });

  it('404 for a missing file', async () => {
    const r = await get('/no-such-file.txt');
    expect(r.status).toBe(404);
    expect(r.body.toString()).toMatch(/404/);
  });

  it('405 with allow for POST and DELETE', async () => {
    for (const method of ['POST', 'DELETE'] as const) {
      const r = await get('/1k.bin', { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.get('allow'), method).toBe('GET, HEAD');
    }
  });

  it('index.html for /', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('<h1>the index</h1>\n');
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('a directory without a slash: 301 to the slash', async () => {
    const r = await get('/sub');
    expect(r.status).toBe(301);
    expect(r.headers.get('location')).toMatch(/^(http:\/\/127\.0\.0\.1:\d+)?\/sub\/$/);
    const r2 = await get('/sub/');
    expect(r2.body.toString()).toBe('<h1>sub</h1>\n');
  });

  it('304 for if-none-match and if-modified-since', async () => {
    const first = await get('/1k.bin');
    const etag = first.headers.get('etag');
    const lastModified = first.headers.get('last-modified');
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(lastModified).toBe('Tue, 02 Jan 2024 03:04:05 GMT');
    const a = await get('/1k.bin', { headers: { 'if-none-match': etag! } });
    expect(a.status).toBe(304);
    expect(a.body.length).toBe(0);
    expect(a.headers.get('etag')).toBe(etag);
    const b = await get('/1k.bin', { headers: { 'if-modified-since': lastModified! } });
    expect(b.status).toBe(304);
    expect(b.body.length).toBe(0);
    // The same validators that do not match: the full file.
    const c = await get('/1k.bin', { headers: { 'if-none-match': '"other"' } });
    expect(c.status).toBe(200);
    expect(c.body.equals(contents.get('1k.bin')!)).toBe(true);
    const d = await get('/1k.bin', { headers: { 'if-modified-since': 'Mon, 01 Jan 2024 00:00:00 GMT' } });
    expect(d.status).toBe(200);
  });

  it('a byte range: 206; an unsatisfiable one: 416', async () => {
    const r = await get('/1m.bin', { headers: { range: 'bytes=1000-1999' } });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe(`bytes 1000-1999/${1 << 20}`);
    expect(r.body.equals(contents.get('1m.bin')!.subarray(1000, 2000))).toBe(true);
    const suffix = await get('/1k.bin', { headers: { range: 'bytes=-10' } });
    expect(suffix.status).toBe(206);
    expect(suffix.body.equals(contents.get('1k.bin')!.subarray(1014))).toBe(true);
    const bad = await get('/1k.bin', { headers: { range: 'bytes=5000-' } });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe('bytes */1024');
  });
});

describe('h2c with h2load', () => {
  it('10,000 requests over 100 concurrent streams all succeed', async () => {
    const h2load = requireBin('h2load');
    const r = await exec(h2load, ['-n', '10000', '-c', '1', '-m', '100', `${server.url}/1k.bin`], { timeout: 120_000 });
    const out = r.stdout.toString();
    expect(r.code, out + r.stderr).toBe(0);
    const n = h2loadSucceeded(out);
    expect(n).toEqual({ total: 10000, succeeded: 10000, failed: 0, errored: 0 });
    expect(out).toMatch(/status codes: 10000 2xx/);
  });
});

describe('a client that speaks HTTP/1.1 to the h2c port', () => {
  // nghttpd 1.52 answers both with HTTP/2 frames, which curl reports as "Received HTTP/0.9 when not allowed".
  it('plain HTTP/1.1 gets 505 with a body that says how to connect; HTTP/2 still works after', async () => {
    const curl = requireBin('curl');
    const r = await exec(curl, ['-sS', '-i', '--http1.1', `${server.url}/index.html`]);
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout.toString('latin1');
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 505 HTTP Version Not Supported');
    expect(text).toMatch(/\r\nconnection: close\r\n/);
    expect(text).toContain('curl --http2-prior-knowledge');
    const ok = await exec(curl, ['-sS', '--http2-prior-knowledge', `${server.url}/index.html`]);
    expect(ok.stdout.toString()).toBe('<h1>the index</h1>\n');
  });

  it('curl --http2 upgrades to h2c (RFC 7540 §3.2) and gets the file over HTTP/2', async () => {
    const r = await exec(requireBin('curl'), ['-sS', '-v', '--http2', '-w', '\n%{http_version} %{http_code}', `${server.url}/index.html`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toBe('<h1>the index</h1>\n\n2 200');
    expect(r.stderr.toString()).toMatch(/< HTTP\/1\.1 101 Switching Protocols/);
  });

  it('curl --http2 with a request body is not upgraded: 505 saying why', async () => {
    const r = await exec(requireBin('curl'), ['-sS', '-i', '--http2', '--data', 'x=1', `${server.url}/index.html`]);
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout.toString('latin1');
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 505 HTTP Version Not Supported');
    expect(text).toContain('an h2c upgrade with a request body');
  });

  it('nghttp -u (HTTP Upgrade) gets the file, byte-exact, on stream 1', async () => {
    const r = await exec(requireBin('nghttp'), ['-u', '-v', `${server.url}/1k.bin`]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.toString('latin1');
    expect(out).toContain('HTTP Upgrade success');
    expect(out).toMatch(/recv DATA frame <length=1024, flags=0x01, stream_id=1>/);
    const body = await exec(requireBin('nghttp'), ['-u', `${server.url}/1k.bin`]);
    expect(Buffer.compare(body.stdout, readFileSync(join(dir, '1k.bin')))).toBe(0);
  });

  it("-v says so in the log: the 505, and an upgrade with the client's HTTP2-Settings", async () => {
    const s = await startH2Serve(['-v', '--no-tls', '-d', dir, '0']);
    try {
      const r = await exec(requireBin('curl'), ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--http1.1', `${s.url}/`]);
      expect(r.stdout.toString()).toBe('505');
      await s.waitForStdout(/^\[id=1\] \[ *\d+\.\d{3}\] closed$/m);
      expect(s.stdout).toMatch(
        /^\[id=1\] \[ *\d+\.\d{3}\] HTTP\/1\.x request instead of the HTTP\/2 preface: answered 505: an HTTP\/1\.1 request without "Upgrade: h2c"\n\[id=1\] \[ *\d+\.\d{3}\] closed$/m,
      );
      expect(s.stdout).not.toMatch(/send SETTINGS/);
      const u = await exec(requireBin('curl'), ['-sS', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '--http2', `${s.url}/index.html`]);
      expect(u.stdout.toString()).toBe('2 200');
      await s.waitForStdout(/^\[id=2\] \[ *\d+\.\d{3}\] closed$/m);
      const lines = s.stdout.split('\n');
      const at = lines.findIndex((l) => /^\[id=2\] \[ *\d+\.\d{3}\] HTTP\/1\.1 Upgrade to h2c: GET \/index\.html becomes stream 1; HTTP2-Settings:$/.test(l));
      expect(at).toBeGreaterThanOrEqual(0);
      expect(lines[at + 1]).toMatch(/^ {10}\(niv=\d+\)$/);
      expect(lines[at + 2]).toMatch(/^ {10}\[SETTINGS_[A-Z_]+\(0x0\d\):\d+\]$/);
      // Our SETTINGS follows the upgrade line, and the response goes out on stream 1.
      expect(lines.slice(at).join('\n')).toMatch(
        /send SETTINGS frame <length=\d+, flags=0x00, stream_id=0>[\s\S]*send HEADERS frame <length=\d+, flags=0x04, stream_id=1>/,
      );
    } finally {
      await s.stop();
    }
  });
});
