/**
 * h2proxy end to end: the real command in front of real backends (a Node
 * HTTP/1.1 server that echoes what it received, nginx, nghttpd, h2serve),
 * with h2kit's client, Node's HTTP/1.1 client, curl and nghttp in front.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientSession, connect, ErrorCode, Flag, FrameType, SettingId } from '../../src/h2/index.js';
import { tempDir } from '../helpers/cli.js';
import { RawClient } from '../helpers/h2-raw-client.js';
import {
  type EchoBackend,
  killProxies,
  type ProxyProcess,
  pattern,
  runProxy,
  sha,
  startEchoBackend,
  startNghttpd,
  startNginx,
  startProxy,
} from '../helpers/h2proxy.js';
import { exec, killAll, opensslCert, requireBin, startH2Serve, until } from '../helpers/h2serve.js';

const dir = tempDir('h2proxy-test-');
let cert: { key: string; cert: string };
let echoA: EchoBackend;
let echoB: EchoBackend;

beforeAll(async () => {
  cert = await opensslCert(dir);
  echoA = await startEchoBackend('A');
  echoB = await startEchoBackend('B');
});
afterAll(async () => {
  await killProxies();
  await killAll();
  await echoA.close();
  await echoB.close();
});

/** One HTTP/1.1 request with Node's client (no keep-alive); resolves with status, headers (raw, lowercased) and body. */
function h1(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string; host?: string } = {},
): Promise<{ status: number; headers: Array<[string, string]>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers }, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const headers: Array<[string, string]> = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
          resolve({ status: res.statusCode!, headers, body: Buffer.concat(parts) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const json = (b: Uint8Array | string) =>
  JSON.parse(typeof b === 'string' ? b : Buffer.from(b).toString('utf8')) as {
    backend: string;
    headers: Array<[string, string]>;
    url: string;
    bytes: number;
    sha256: string;
    httpVersion: string;
  };
const field = (headers: Array<[string, string]>, name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);

async function withSession<T>(url: string, fn: (s: ClientSession) => Promise<T>): Promise<T> {
  const s = await connect(url, { tls: { rejectUnauthorized: false } });
  try {
    return await fn(s);
  } finally {
    s.destroy();
  }
}

describe('in front of an HTTP/1.1 backend', () => {
  let p: ProxyProcess;
  beforeAll(async () => {
    p = await startProxy(
      [
        '-f127.0.0.1,0;no-tls',
        '-f127.0.0.1,0',
        `-b127.0.0.1,${echoA.port}`,
        '--add-x-forwarded-for',
        '--add-forwarded=by,for,host,proto',
        '--forwarded-for=ip',
        '--add-response-header=x-proxy: yes',
        cert.key,
        cert.cert,
      ],
      { listeners: 2 },
    );
  });
  afterAll(() => p.stop());

  it('HTTP/2 (h2c): the backend sees host from :authority, via, x-forwarded-for and -proto, forwarded, no hop-by-hop fields; the client gets set-cookie apart, via, server', async () => {
    await withSession(`http://127.0.0.1:${p.ports[0]}`, async (s) => {
      const r = await s.request(
        { ':path': '/info?x=1', ':authority': 'example.test:8080', te: 'trailers', 'x-forwarded-for': '198.51.100.9', via: '1.1 upstream', cookie: 'a=1' },
        {},
      );
      expect(r.status).toBe(200);
      const seen = json(await r.bytes());
      expect(seen.url).toBe('/info?x=1');
      expect(seen.httpVersion).toBe('1.1');
      expect(field(seen.headers, 'host')).toEqual(['example.test:8080']);
      expect(field(seen.headers, 'via')).toEqual(['1.1 upstream, 2 h2proxy']);
      expect(field(seen.headers, 'x-forwarded-for')).toEqual(['198.51.100.9, 127.0.0.1']);
      expect(field(seen.headers, 'x-forwarded-proto')).toEqual(['http']);
      expect(field(seen.headers, 'forwarded')).toEqual([expect.stringMatching(/^by=_[0-9a-f]{12};for=127\.0\.0\.1;host="example\.test:8080";proto=http$/)]);
      expect(field(seen.headers, 'te')).toEqual(['trailers']);
      expect(r.getAll('set-cookie')).toEqual(['a=1; Path=/', 'b=2, c=3']);
      expect(r.get('x-hop')).toBeUndefined();
      expect(r.get('keep-alive')).toBeUndefined();
      expect(r.get('server')).toBe('h2proxy');
      expect(r.get('via')).toBe('1.1 h2proxy');
      expect(r.get('x-proxy')).toBe('yes');
      expect(r.get('x-backend')).toBe('A');
      // Trailers from an HTTP/1.1 backend (chunked) reach an HTTP/2 client.
      const t = await s.request({ ':path': '/trailers' });
      expect(await t.text()).toBe('abc');
      expect(await t.trailers).toEqual([['x-sum', '3']]);
    });
  });

  it('a response that arrives whole goes out in one piece (HEADERS, one DATA with END_STREAM); a larger one streams, ending with END_STREAM', async () => {
    const c = await RawClient.open(p.port, [[SettingId.INITIAL_WINDOW_SIZE, 1 << 30]]);
    try {
      c.send(c.windowUpdate(0, 1 << 30), c.request(1, '/size/1024'), c.request(3, '/size/300000'));
      const small = await c.response(1);
      const big = await c.response(3, 5000);
      expect(sha(small.body)).toBe(sha(pattern(1024)));
      expect(sha(big.body)).toBe(sha(pattern(300000)));
      const on = (id: number) => c.frames.filter((f) => f.streamId === id && (f.type === FrameType.HEADERS || f.type === FrameType.DATA));
      expect(on(1).map((f) => [f.type, f.flags & Flag.END_STREAM])).toEqual([
        [FrameType.HEADERS, 0],
        [FrameType.DATA, Flag.END_STREAM],
      ]);
      expect(on(3).filter((f) => f.type === FrameType.DATA).length).toBeGreaterThan(2);
      expect(on(3).at(-1)!.flags & Flag.END_STREAM).toBe(Flag.END_STREAM);
    } finally {
      c.close();
    }
  });

  it('HTTP/1.1 on the same port: Connection-named and hop-by-hop fields dropped, via 1.1, HTTP/1.0 too', async () => {
    const r = await h1(p.ports[0]!, '/plain', {
      headers: { connection: 'keep-alive, x-secret', 'x-secret': 's', 'keep-alive': '300', 'proxy-connection': 'x', te: 'trailers, gzip', upgrade: 'foo/1' },
      host: 'h1.test',
    });
    expect(r.status).toBe(200);
    const seen = json(r.body);
    expect(field(seen.headers, 'host')).toEqual(['h1.test']);
    expect(field(seen.headers, 'x-secret')).toEqual([]);
    expect(field(seen.headers, 'keep-alive')).toEqual([]);
    expect(field(seen.headers, 'proxy-connection')).toEqual([]);
    expect(field(seen.headers, 'upgrade')).toEqual([]);
    expect(field(seen.headers, 'te')).toEqual(['trailers']);
    expect(field(seen.headers, 'via')).toEqual(['1.1 h2proxy']);
    expect(field(r.headers, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2, c=3']);
    expect(field(r.headers, 'x-hop')).toEqual([]);
    const curl = await exec(requireBin('curl'), ['-s', '--http1.0', `http://127.0.0.1:${p.ports[0]}/v10`]);
    expect(field(json(curl.stdout).headers, 'via')).toEqual(['1.0 h2proxy']);
  });

  it('TLS: ALPN h2 and http/1.1 (curl, nghttp), x-forwarded-proto https', async () => {
    const url = `https://127.0.0.1:${p.ports[1]}/tls`;
    const c2 = await exec(requireBin('curl'), ['-sk', '--http2', '-w', '\n%{http_version}', url]);
    const [body2, v2] = c2.stdout.toString().split('\n');
    expect(v2).toBe('2');
    expect(field(json(body2!).headers, 'x-forwarded-proto')).toEqual(['https']);
    expect(field(json(body2!).headers, 'via')).toEqual(['2 h2proxy']);
    const c1 = await exec(requireBin('curl'), ['-sk', '--http1.1', '-w', '\n%{http_version}', url]);
    const [body1, v1] = c1.stdout.toString().split('\n');
    expect(v1).toBe('1.1');
    expect(field(json(body1!).headers, 'via')).toEqual(['1.1 h2proxy']);
    const n = await exec(requireBin('nghttp'), ['-v', url]);
    expect(n.stdout.toString()).toMatch(/recv \(stream_id=\d+\) :status: 200/);
    expect(n.stdout.toString()).toMatch(/The negotiated protocol: h2/);
  });

  it('h2c: curl with prior knowledge and with the HTTP/1.1 Upgrade, nghttp -u', async () => {
    const url = `http://127.0.0.1:${p.ports[0]}/h2c`;
    const pk = await exec(requireBin('curl'), ['-s', '--http2-prior-knowledge', '-w', '\n%{http_version}', url]);
    expect(pk.stdout.toString().split('\n')[1]).toBe('2');
    const up = await exec(requireBin('curl'), ['-s', '-i', '--http2', url]);
    expect(up.stdout.toString()).toMatch(/^HTTP\/1.1 101 Switching Protocols/);
    expect(up.stdout.toString()).toMatch(/HTTP\/2 200/);
    expect(field(json(up.stdout.toString().slice(up.stdout.indexOf('{'))).headers, 'via')).toEqual(['2 h2proxy']);
    const nu = await exec(requireBin('nghttp'), ['-uv', url]);
    expect(nu.stdout.toString()).toMatch(/HTTP Upgrade success/);
    expect(nu.stdout.toString()).toMatch(/:status: 200/);
  });

  it('bodies byte-exact both ways, 64 MiB, streamed (the proxy holds far less than the body)', async () => {
    const big = pattern(64 << 20);
    const digest = sha(big);
    await withSession(`http://127.0.0.1:${p.ports[0]}`, async (s) => {
      const r = await s.request({ ':method': 'POST', ':path': '/echo' }, { body: big });
      expect(r.status).toBe(200);
      const back = await r.bytes();
      expect(back.length).toBe(big.length);
      expect(sha(back)).toBe(digest);
    });
    const r1 = await h1(p.ports[0]!, '/echo', { method: 'PUT', body: big });
    expect(r1.body.length).toBe(big.length);
    expect(sha(r1.body)).toBe(digest);
    expect(echoA.seen.filter((x) => x.url === '/echo').map((x) => x.sha256)).toEqual([digest, digest]);
    // Peak resident memory of the proxy after moving 4 x 64 MiB: far below a whole body held per direction.
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))![1]) * 1024;
    expect(hwm).toBeLessThan(200 << 20);
  });

  it('the access log and the error log', async () => {
    const log = join(dir, 'access.log');
    const q = await startProxy([
      '-f127.0.0.1,0;no-tls',
      `-b127.0.0.1,${echoA.port};/:/x/`,
      '-b127.0.0.1,1;/dead/',
      `--accesslog-file=${log}`,
      '--accesslog-format=$remote_addr "$request" $status $body_bytes_sent $alpn $protocol_version $backend_host:$backend_port $http_user_agent ${request_time}',
    ]);
    await withSession(`http://127.0.0.1:${q.port}`, async (s) => {
      const r = await s.request({ ':path': '/size/1000', 'user-agent': 'test-agent' });
      expect((await r.bytes()).length).toBe(1000);
      const d = await s.request({ ':path': '/dead/x', 'user-agent': 'test-agent' });
      expect(d.status).toBe(502);
      await d.bytes();
    });
    await h1(q.port, '/size/10', { headers: { 'user-agent': 'h1-agent' } });
    await until(() => readFileSync(log, 'utf8').split('\n').length >= 4, 5000, 'three access log lines');
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^127\\.0\\.0\\.1 "GET /size/1000 HTTP/2" 200 1000 h2c HTTP/2 127\\.0\\.0\\.1:${echoA.port} test-agent \\d+\\.\\d{3}$`),
    );
    expect(lines[1]).toMatch(/^127\.0\.0\.1 "GET \/dead\/x HTTP\/2" 502 \d+ h2c HTTP\/2 127\.0\.0\.1:1 test-agent /);
    expect(lines[2]).toMatch(/^127\.0\.0\.1 "GET \/size\/10 HTTP\/1\.1" 200 10 http\/1\.1 HTTP\/1\.1 127\.0\.0\.1:\d+ h1-agent /);
    expect(q.stderr).toMatch(/WARN Backend connect failed; addr=127\.0\.0\.1:1: ECONNREFUSED/);
    expect(q.stderr).toMatch(/WARN 502 for GET 127\.0\.0\.1:\d+\/dead\/x: request to 127\.0\.0\.1:1 failed: cannot connect/);
    await q.stop();
  });
});

describe('routing and balancing', () => {
  it('routes by host and path pattern', async () => {
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${echoA.port}`, `-b127.0.0.1,${echoB.port};/b/:api.test`]);
    const who = async (authority: string, path: string) => (await h1(p.port, path, { host: authority })).headers.find(([n]) => n === 'x-backend')![1];
    expect(await who('x.test', '/')).toBe('A');
    expect(await who('x.test', '/b/1')).toBe('B');
    expect(await who('x.test', '/b')).toBe('B');
    expect(await who('x.test', '/bb')).toBe('A');
    expect(await who('API.test:443', '/anything')).toBe('B');
    await p.stop();
  });

  it('round robin; a dead backend is taken out (requests still succeed) and taken back once it answers again', async () => {
    const dead = await startEchoBackend('C');
    const deadPort = dead.port;
    await dead.close();
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${echoA.port}`, `-b127.0.0.1,${echoB.port}`, `-b127.0.0.1,${deadPort}`]);
    const backends: string[] = [];
    await withSession(`http://127.0.0.1:${p.port}`, async (s) => {
      for (let i = 0; i < 9; i++) {
        const r = await s.request({ ':path': `/rr${i}` });
        expect(r.status).toBe(200);
        backends.push(r.get('x-backend')!);
        await r.bytes();
      }
    });
    expect(backends.filter((b) => b === 'A').length).toBeGreaterThanOrEqual(4);
    expect(backends.filter((b) => b === 'B').length).toBeGreaterThanOrEqual(4);
    expect(p.stderr.match(/Backend connect failed; addr=127\.0\.0\.1:\d+/g)?.length).toBe(1);
    // It comes back: after its backoff (1 s), it gets its share again.
    const back = await startEchoBackend('C', deadPort);
    await new Promise((r) => setTimeout(r, 1200));
    const later: string[] = [];
    for (let i = 0; i < 6; i++) later.push((await h1(p.port, `/later${i}`)).headers.find(([n]) => n === 'x-backend')![1]);
    expect(later).toContain('C');
    await back.close();
    await p.stop();
  });
});

describe('an HTTP/1.1 backend over TLS', () => {
  it('verified with --cacert and sni=, or not with -k; a certificate that cannot be verified is a 502 that says so', async () => {
    const https = await import('node:https');
    const seen: Array<{ url: string; bytes: number; sni: string | undefined }> = [];
    const server = https.createServer({ key: readFileSync(cert.key), cert: readFileSync(cert.cert) }, (req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const body = Buffer.concat(parts);
        seen.push({ url: req.url ?? '', bytes: body.length, sni: (req.socket as import('node:tls').TLSSocket).servername || undefined });
        res.setHeader('content-type', 'application/octet-stream');
        res.end(body.length > 0 ? body : 'hello over tls');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const upload = pattern(3 << 20);
    try {
      const verified = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${port};;tls;sni=localhost`, `--cacert=${cert.cert}`]);
      await withSession(`http://127.0.0.1:${verified.port}`, async (s) => {
        const r = await s.request({ ':path': '/a' });
        expect([r.status, await r.text()]).toEqual([200, 'hello over tls']);
        const u = await s.request({ ':method': 'POST', ':path': '/up' }, { body: upload });
        expect(sha(await u.bytes())).toBe(sha(upload));
      });
      expect(seen.map((x) => [x.url, x.bytes, x.sni])).toEqual([
        ['/a', 0, 'localhost'],
        ['/up', upload.length, 'localhost'],
      ]);
      await verified.stop();

      const unverified = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${port};;tls`]);
      await withSession(`http://127.0.0.1:${unverified.port}`, async (s) => {
        const r = await s.request({ ':path': '/b' });
        expect(r.status).toBe(502);
        expect(await r.text()).toMatch(/502 Bad Gateway.*No connection to the backend could be made/);
      });
      // Nothing was sent: a connect failure (the backend is left out for a while), with the reason.
      expect(unverified.stderr).toMatch(
        /WARN Backend connect failed; addr=127\.0\.0\.1:\d+: DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate; left out for/,
      );
      expect(unverified.stderr).toMatch(/WARN 502 for GET 127\.0\.0\.1:\d+\/b: request to 127\.0\.0\.1:\d+ failed: cannot connect/);
      await unverified.stop();

      const insecure = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${port};;tls`, '-k']);
      await withSession(`http://127.0.0.1:${insecure.port}`, async (s) => {
        const r = await s.request({ ':path': '/c' });
        expect([r.status, await r.text()]).toEqual([200, 'hello over tls']);
      });
      await insecure.stop();
      expect(seen.map((x) => x.url)).toEqual(['/a', '/up', '/c']);
    } finally {
      server.close();
    }
  });
});

describe('failures', () => {
  it('502 when no backend answers, 504 when it times out, a reset when it breaks off mid-response', async () => {
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${echoA.port}`, '-b127.0.0.1,1;/dead/', '--backend-read-timeout=1s']);
    await withSession(`http://127.0.0.1:${p.port}`, async (s) => {
      const d = await s.request({ ':path': '/dead/' });
      expect(d.status).toBe(502);
      expect(await d.text()).toMatch(/502 Bad Gateway.*The backend refused the connection/);
      const t0 = Date.now();
      const h = await s.request({ ':path': '/hang' });
      expect(h.status).toBe(504);
      expect(await h.text()).toMatch(/504 Gateway Timeout.*did not answer in time/);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
      const r = await s.request({ ':path': '/reset' });
      expect(r.status).toBe(200);
      await expect(r.bytes()).rejects.toMatchObject({ errorCode: ErrorCode.INTERNAL_ERROR });
    });
    const h = await h1(p.port, '/dead/');
    expect(h.status).toBe(502);
    expect(p.stderr).toMatch(/WARN 504 for GET 127\.0\.0\.1:\d+\/hang: backend 127\.0\.0\.1:\d+ timed out/);
    expect(p.stderr).toMatch(/WARN backend 127\.0\.0\.1:\d+ failed during the response/);
    await p.stop();
  });

  it('--max-response-header-fields and --response-header-field-buffer: a backend response over either is a 502 that says so', async () => {
    const few = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${echoA.port}`, '--max-response-header-fields=2']);
    const small = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${echoA.port}`, '--response-header-field-buffer=40']);
    const roomy = await startProxy([
      '-f127.0.0.1,0;no-tls',
      `-b127.0.0.1,${echoA.port}`,
      '--max-response-header-fields=20',
      '--response-header-field-buffer=4K',
    ]);
    for (const p of [few, small]) {
      await withSession(`http://127.0.0.1:${p.port}`, async (s) => {
        const r = await s.request({ ':path': '/lots' });
        expect(r.status).toBe(502);
        expect(await r.text()).toMatch(/response header section larger than this proxy takes/);
      });
    }
    expect(few.stderr).toMatch(
      /WARN 502 for GET 127\.0\.0\.1:\d+\/lots: backend 127\.0\.0\.1:\d+ sent \d+ response header fields of \d+ octets; at most 2 fields and 65536 octets are taken/,
    );
    expect(small.stderr).toMatch(/at most 500 fields and 40 octets are taken/);
    await withSession(`http://127.0.0.1:${roomy.port}`, async (s) => expect((await s.request({ ':path': '/lots' })).status).toBe(200));
    await Promise.all([few.stop(), small.stop(), roomy.stop()]);
  });

  it('--max-request-header-fields and --request-header-field-buffer: 431, over HTTP/2 and HTTP/1.1', async () => {
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${echoA.port}`, '--max-request-header-fields=4', '--request-header-field-buffer=2K']);
    const many = { 'x-1': '1', 'x-2': '2', 'x-3': '3', 'x-4': '4', 'x-5': '5' };
    await withSession(`http://127.0.0.1:${p.port}`, async (s) => {
      const ok = await s.request({ ':path': '/few', 'x-1': '1' });
      expect(ok.status).toBe(200);
      await ok.bytes();
      const r = await s.request({ ':path': '/many', ...many });
      expect(r.status).toBe(431);
      expect(await r.text()).toMatch(/5 header fields; at most 4/);
      const big = await s.request({ ':path': '/big', 'x-big': 'b'.repeat(3000) });
      expect(big.status).toBe(431);
      await big.bytes();
    });
    expect((await h1(p.port, '/many', { headers: many })).status).toBe(431);
    expect((await h1(p.port, '/big', { headers: { 'x-big': 'b'.repeat(3000) } })).status).toBe(431);
    expect(echoA.seen.some((x) => x.url === '/many' || x.url === '/big')).toBe(false);
    await p.stop();
  });

  it('a client that goes away cancels its backend request', async () => {
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${echoA.port}`]);
    await withSession(`http://127.0.0.1:${p.port}`, async (s) => {
      const r = await s.request({ ':path': '/slow/100' });
      const it = r.body[Symbol.asyncIterator]();
      await it.next();
      r.cancel();
    });
    await until(() => echoA.aborted.includes('/slow/100'), 5000, 'the backend to see its request cancelled');
    // HTTP/1.1: the client closes its connection mid-response.
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: p.port, path: '/slow/99', agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
    });
    await until(() => echoA.aborted.includes('/slow/99'), 5000, 'the backend to see the HTTP/1.1 request cancelled');
    await p.stop();
  });
});

describe('header octets over 0x7f', () => {
  it('pass as the same octets both ways, whatever the protocols (UTF-8 and not)', async () => {
    const { startTestServer } = await import('../helpers/h2-test-server.js');
    const net = await import('node:net');
    const utf8 = Buffer.from('caf\u00e9'); // 63 61 66 c3 a9
    const latin = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : 'none');
    // An HTTP/1.1 backend that answers with both values and reports the octets of the request's x-in.
    const h1 = net.createServer((sock) => {
      sock.on('error', () => {});
      let buf = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end);
        buf = buf.subarray(end + 4);
        const at = head.indexOf('\r\nx-in: ');
        const value = at < 0 ? Buffer.alloc(0) : head.subarray(at + 8, head.indexOf('\r\n', at + 2) < 0 ? head.length : head.indexOf('\r\n', at + 2));
        const body = Buffer.from(value.toString('hex'));
        sock.write(
          Buffer.concat([
            Buffer.from('HTTP/1.1 200 OK\r\nx-utf8: '),
            utf8,
            Buffer.from('\r\nx-latin: '),
            latin,
            Buffer.from(`\r\ncontent-length: ${body.length}\r\n\r\n`),
            body,
          ]),
        );
      });
    });
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    const h2 = await startTestServer({
      handler(stream) {
        const v = stream.rawHeaders.find(([n]) => n === 'x-in')?.[1];
        stream.respond(200, { 'x-utf8': utf8, 'x-latin': latin }, hex(v));
      },
    });
    const p = await startProxy([
      '-f127.0.0.1,0;no-tls',
      `-b127.0.0.1,${(h1.address() as import('node:net').AddressInfo).port}`,
      `-b127.0.0.1,${h2.port};/h2/;proto=h2`,
    ]);
    try {
      await withSession(`http://127.0.0.1:${p.port}`, async (s) => {
        for (const path of ['/h1', '/h2/']) {
          for (const sent of [utf8, latin]) {
            const r = await s.request({ ':path': path, 'x-in': sent });
            expect(r.status).toBe(200);
            // What the backend received, and what the client received from it.
            expect(await r.text(), `${path} request`).toBe(sent.toString('hex'));
            const raw = new Map(r.rawHeaders.map(([n, v]) => [n, hex(v)]));
            expect(raw.get('x-utf8'), `${path} response`).toBe(utf8.toString('hex'));
            expect(raw.get('x-latin'), `${path} response`).toBe(latin.toString('hex'));
          }
        }
      });
      // Over HTTP/1.1 in front too (curl prints the octets as they came).
      const c = await exec(requireBin('curl'), ['-s', '-D', '-', '-o', '/dev/null', `http://127.0.0.1:${p.port}/h2/`]);
      const out = c.stdout;
      expect(out.includes(Buffer.concat([Buffer.from('x-latin: '), latin]))).toBe(true);
      expect(out.includes(Buffer.concat([Buffer.from('x-utf8: '), utf8]))).toBe(true);
    } finally {
      await p.stop();
      await h2.close();
      h1.close();
    }
  });
});

describe('configured field values', () => {
  it('--add-request-header, --add-response-header and --server-name go out as their UTF-8 octets, whatever the backend sent', async () => {
    const p = await startProxy([
      '-f127.0.0.1,0;no-tls',
      `-b127.0.0.1,${echoA.port}`,
      '--add-request-header=x-req: 5\u20ac caf\u00e9',
      '--add-response-header=x-add: caf\u00e9',
      '--server-name=pr\u00f8xy',
    ]);
    try {
      const utf8hex = (t: string) => Buffer.from(t).toString('hex');
      await withSession(`http://127.0.0.1:${p.port}`, async (s) => {
        const r = await s.request({ ':path': '/conf' });
        const raw = new Map(r.rawHeaders.map(([n, v]) => [n, Buffer.from(v).toString('hex')]));
        expect(raw.get('x-add')).toBe(utf8hex('caf\u00e9'));
        expect(raw.get('server')).toBe(utf8hex('pr\u00f8xy'));
        expect(raw.get('via')).toBe(utf8hex('1.1 pr\u00f8xy'));
        // The echo backend shows what it received as latin1 text: the UTF-8 octets one char each.
        const seen = json(await r.bytes());
        expect(field(seen.headers, 'x-req')).toEqual([Buffer.from('5\u20ac caf\u00e9').toString('latin1')]);
      });
      const c = await exec(requireBin('curl'), ['-s', '-D', '-', '-o', '/dev/null', `http://127.0.0.1:${p.port}/conf1`]);
      expect(c.stdout.includes(Buffer.concat([Buffer.from('x-add: '), Buffer.from('caf\u00e9')]))).toBe(true);
      expect(c.stdout.includes(Buffer.concat([Buffer.from('server: '), Buffer.from('pr\u00f8xy')]))).toBe(true);
      expect(c.stdout.toString('latin1')).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      await p.stop();
    }
  });
});

describe('in front of HTTP/2 backends', () => {
  it('a response complete before the upload ends (then RST_STREAM NO_ERROR) is forwarded; a request queued at the backend times out', async () => {
    const { startTestServer } = await import('../helpers/h2-test-server.js');
    const timers: NodeJS.Timeout[] = [];
    const backend = await startTestServer({
      settings: { maxConcurrentStreams: 1 },
      handler(stream) {
        if (stream.path === '/upload') return stream.respond(413, { 'content-type': 'text/plain' }, 'too big\n');
        if (stream.path === '/trickle') {
          // A response that keeps the only stream busy for 3 s, with octets every 200 ms (never idle).
          return stream.respond(
            200,
            {},
            (async function* () {
              for (let i = 0; i < 15; i++) {
                await new Promise((r) => timers.push(setTimeout(r, 200)));
                yield '.';
              }
            })(),
          );
        }
        stream.respond(200, {}, 'ok');
      },
    });
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${backend.port};;proto=h2`, '--backend-read-timeout=1s']);
    try {
      await withSession(`http://127.0.0.1:${p.port}`, async (s) => {
        const big = pattern(8 << 20);
        const r = await s.request({ ':method': 'POST', ':path': '/upload' }, { body: big });
        expect(r.status).toBe(413);
        expect(await r.text()).toBe('too big\n');
        // The backend takes one stream at a time: /trickle holds it for 3 s, active; /queued waits in the
        // client engine's queue and gets the 504 after the read timeout, not after /trickle.
        const trickle = s.request({ ':path': '/trickle' }).then((x) => x.text());
        await new Promise((res) => setTimeout(res, 100));
        const t0 = Date.now();
        const q = await s.request({ ':path': '/queued' });
        expect(q.status).toBe(504);
        expect(Date.now() - t0).toBeLessThan(2800);
        expect(await trickle).toBe('.'.repeat(15));
      });
      expect(p.stderr).toMatch(/WARN 504 for GET 127\.0\.0\.1:\d+\/queued: backend 127\.0\.0\.1:\d+ timed out: no stream for the request within 1000 ms/);
    } finally {
      for (const t of timers) clearTimeout(t);
      await p.stop();
      await backend.close();
    }
  });

  it('response fields and trailers pass as the octets the backend sent (not as text), and a 1 MiB body byte-exact', async () => {
    const { startTestServer } = await import('../helpers/h2-test-server.js');
    const big = pattern(1 << 20);
    const backend = await startTestServer({
      handler(stream) {
        if (stream.path === '/big') return stream.respond(200, { 'content-type': 'application/octet-stream' }, big);
        stream.respond(200, { 'x-octets': Buffer.from([0x63, 0x61, 0x66, 0xe9]) }, 'ok', { trailers: { 'x-t': Buffer.from([0xff, 0x41]) } });
      },
    });
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${backend.port};;proto=h2`]);
    try {
      await withSession(`http://127.0.0.1:${p.port}`, async (s) => {
        const r = await s.request({ ':path': '/octets', te: 'trailers' });
        expect(r.status).toBe(200);
        expect(r.rawHeaders.find(([n]) => n === 'x-octets')?.[1]).toEqual(new Uint8Array([0x63, 0x61, 0x66, 0xe9]));
        expect(await r.text()).toBe('ok');
        expect(await r.trailers).toEqual([['x-t', '\ufffdA']]);
        const b = await s.request({ ':path': '/big' });
        expect(sha(await b.bytes())).toBe(sha(big));
      });
    } finally {
      await p.stop();
      await backend.close();
    }
  });

  it('nghttpd (proto=h2): trailers come through, uploads are echoed byte-exact; nginx and h2serve alongside', async () => {
    const htdocs = tempDir('h2proxy-htdocs-');
    const file = pattern(100 * 1024);
    writeFileSync(join(htdocs, '100k'), file);
    chmodSync(htdocs, 0o755); // nginx's workers run as nobody
    const nghttpd = await startNghttpd(['--echo-upload', '--trailer=x-checksum: 42', '-d', htdocs]);
    const nginx = await startNginx(htdocs);
    const h2s = await startH2Serve(['--no-tls', '-a', '127.0.0.1', '-d', htdocs, '0']);
    const p = await startProxy([
      '-f127.0.0.1,0;no-tls',
      `-b127.0.0.1,${nginx.port}`,
      `-b127.0.0.1,${nghttpd.port};/ng/;proto=h2`,
      `-b127.0.0.1,${h2s.port};h2serve.test;proto=h2`,
    ]);
    try {
      await withSession(`http://127.0.0.1:${p.port}`, async (s) => {
        const viaNginx = await s.request({ ':path': '/100k' });
        expect(viaNginx.status).toBe(200);
        expect(viaNginx.get('via')).toBe('1.1 h2proxy');
        expect(sha(await viaNginx.bytes())).toBe(sha(file));
        const head = await s.request({ ':method': 'HEAD', ':path': '/100k' });
        expect(head.get('content-length')).toBe(String(file.length));
        expect((await head.bytes()).length).toBe(0);
        const up = pattern(3 << 20);
        const echo = await s.request({ ':method': 'POST', ':path': '/ng/echo', 'content-type': 'application/octet-stream' }, { body: up });
        expect(echo.status).toBe(200);
        expect(echo.get('via')).toBe('2 h2proxy');
        expect(sha(await echo.bytes())).toBe(sha(up));
        expect(await echo.trailers).toEqual([['x-checksum', '42']]);
        const viaH2serve = await s.request({ ':path': '/100k', ':authority': 'h2serve.test' });
        expect(viaH2serve.get('server')).toBe('h2proxy');
        expect(sha(await viaH2serve.bytes())).toBe(sha(file));
      });
      // nghttp through the proxy sees nghttpd's trailer.
      const n = await exec(requireBin('nghttp'), ['-v', `http://127.0.0.1:${p.port}/ng/100k`]);
      expect(n.stdout.toString()).toMatch(/recv \(stream_id=\d+\) x-checksum: 42/);
    } finally {
      await p.stop();
      await nghttpd.stop();
      await nginx.stop();
      await h2s.stop();
    }
  });

  it('an HTTP/2 backend: request trailers and te: trailers reach it; 64 MiB byte-exact both ways, streamed', async () => {
    const { createServer } = await import('../../src/h2/index.js');
    const { PassThrough } = await import('node:stream');
    let got: { trailers: Array<[string, string]> | null; te: string | undefined } | null = null;
    const backend = createServer({
      handler: (st) => {
        if (st.path === '/echo') {
          // Streams the upload back as it arrives.
          const out = new PassThrough();
          st.on('data', (c) => out.write(Buffer.from(c)));
          st.on('end', () => out.end());
          st.respond(200, { 'content-type': 'application/octet-stream' }, out);
          return;
        }
        st.on('data', () => {});
        st.on('end', () => {
          got = { trailers: st.trailers, te: st.headers.find(([n]) => n === 'te')?.[1] };
          st.respond(200, {}, 'ok');
        });
      },
    });
    const { port } = await backend.listen(0, '127.0.0.1');
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${port};;proto=h2`]);
    const big = pattern(64 << 20);
    await withSession(`http://127.0.0.1:${p.port}`, async (s) => {
      const r = await s.request({ ':method': 'POST', ':path': '/t', te: 'trailers' }, { body: 'abc', trailers: { 'x-request-sum': '9' } });
      expect(await r.text()).toBe('ok');
      const e = await s.request({ ':method': 'PUT', ':path': '/echo' }, { body: big });
      expect(e.get('via')).toBe('2 h2proxy');
      const back = await e.bytes();
      expect(back.length).toBe(big.length);
      expect(sha(back)).toBe(sha(big));
    });
    expect(got).toEqual({ trailers: [['x-request-sum', '9']], te: 'trailers' });
    await p.stop();
    await backend.close({ graceful: false });
  });
});

describe('configuration, signals, processes', () => {
  it('--conf: nghttpx name=value lines; a bad one is refused with its file and line (exit 2)', async () => {
    const conf = join(dir, 'good.conf');
    writeFileSync(
      conf,
      ['# h2proxy', 'frontend=127.0.0.1,0;no-tls', `backend=127.0.0.1,${echoA.port}`, 'no-via=yes', 'add-request-header=x-from-conf: 1', ''].join('\n'),
    );
    const p = await startProxy([`--conf=${conf}`]);
    const seen = json((await h1(p.port, '/conf')).body);
    expect(field(seen.headers, 'via')).toEqual([]);
    expect(field(seen.headers, 'x-from-conf')).toEqual(['1']);
    await p.stop();
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, ['frontend=127.0.0.1,0;no-tls', 'backend-read-timeout=forever'].join('\n'));
    const r = await runProxy([`--conf=${bad}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `h2proxy: ${bad}:2: backend-read-timeout: 'forever' is not a duration (an integer with an optional unit h, m, s or ms)\nh2proxy: try 'h2proxy --help'\n`,
    );
    const missing = await runProxy(['--conf=/nonexistent/h2proxy.conf']);
    expect(missing.stderr).toMatch(/^h2proxy: --conf \/nonexistent\/h2proxy.conf: cannot read: no such file\n/);
    const noCert = await runProxy(['-f127.0.0.1,0']);
    expect(noCert.code).toBe(2);
    expect(noCert.stderr).toMatch(/PRIVATE_KEY and CERT are required for TLS frontends/);
    const badOpt = await runProxy(['-b', '127.0.0.1,80;/;proto=spdy']);
    expect(badOpt.stderr).toMatch(/^h2proxy: --backend '127.0.0.1,80;\/;proto=spdy': proto=spdy: the protocol is h2 or http\/1.1\n/);
    const v = await runProxy(['-v']);
    expect(v.stdout.toString()).toMatch(/^h2proxy \(h2kit\) \d/);
    const help = await runProxy(['--help']);
    for (const o of ['--frontend', '--backend', '--conf', '--accesslog-format', '--backend-read-timeout', '--add-x-forwarded-for', '--no-via', '--pid-file'])
      expect(help.stdout.toString()).toContain(o);
  });

  it('SIGHUP reloads the configuration without dropping open connections; SIGTERM lets in-flight requests finish and exits 0', async () => {
    const conf = join(dir, 'reload.conf');
    writeFileSync(conf, ['frontend=127.0.0.1,0;no-tls', `backend=127.0.0.1,${echoA.port}`].join('\n'));
    const p = await startProxy([`--conf=${conf}`]);
    const s = await connect(`http://127.0.0.1:${p.port}`);
    expect((await s.request({ ':path': '/before' })).get('x-backend')).toBe('A');
    writeFileSync(conf, ['frontend=127.0.0.1,0;no-tls', `backend=127.0.0.1,${echoB.port}`].join('\n'));
    p.child.kill('SIGHUP');
    await p.waitForStderr(/SIGHUP: configuration reloaded/);
    // The same connection goes on, and now reaches the new backend.
    const after = await s.request({ ':path': '/after' });
    expect(after.get('x-backend')).toBe('B');
    await after.bytes();
    writeFileSync(conf, 'backend=oops');
    p.child.kill('SIGUSR2');
    await p.waitForStderr(/SIGUSR2: configuration not reloaded: .*reload.conf:1: backend: 'oops' is not <HOST>,<PORT>/);
    expect((await s.request({ ':path': '/still' })).get('x-backend')).toBe('B');
    // In flight during SIGTERM: finishes.
    const slow = await s.request({ ':path': '/slow/10' });
    p.child.kill('SIGTERM');
    expect((await slow.bytes()).length).toBe(10 * 1024);
    const exit = await p.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    s.destroy();
  });

  it('--daemon with --pid-file; -n 2 workers', async () => {
    const pidFile = join(dir, 'h2proxy.pid');
    const r = await runProxy(['-D', `--pid-file=${pidFile}`, '-f127.0.0.1,0;no-tls', `-b127.0.0.1,${echoA.port}`]);
    expect(r.code, r.stderr).toBe(0);
    const port = Number(/Listening on 127\.0\.0\.1:(\d+)/.exec(r.stderr)![1]);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(r.stderr).toContain(`pid ${pid}`);
    expect((await h1(port, '/daemon')).status).toBe(200);
    process.kill(pid, 'SIGTERM');
    await until(
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      10_000,
      'the daemon to exit',
    );
    expect(() => readFileSync(pidFile)).toThrow();

    const w = await startProxy(['-n2', '-f127.0.0.1,0;no-tls', `-b127.0.0.1,${echoA.port}`]);
    expect(w.stderr).toMatch(/\(2 workers\)/);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => h1(w.port, `/w${i}`)));
    expect(results.every((x) => x.status === 200)).toBe(true);
    await w.stop();
  });

  it('--daemon returns only once the pid file is written, also with -n 2 (it raced the first read of the file)', async () => {
    for (const workers of [[], ['-n2']]) {
      // A FIFO as the pid file: writing it waits for a reader, so the command must still be waiting.
      const fifo = join(dir, `h2proxy${workers.join('')}.fifo`);
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      let returned = false;
      const r = runProxy(['-D', ...workers, `--pid-file=${fifo}`, '-f127.0.0.1,0;no-tls', `-b127.0.0.1,${echoA.port}`]).finally(() => (returned = true));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const wasWaiting = !returned;
      const pid = Number(readFileSync(fifo, 'utf8').trim());
      expect((await r).code).toBe(0);
      process.kill(pid, 'SIGTERM');
      expect(wasWaiting, `h2proxy -D ${workers.join(' ')} returned before writing its pid file`).toBe(true);
    }
  });
});

describe('timeouts', () => {
  it('--frontend-read-timeout closes an idle HTTP/1.1 connection that sent nothing', async () => {
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${echoA.port}`, '--frontend-read-timeout=500ms']);
    const net = await import('node:net');
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      const c = net.connect(p.port, '127.0.0.1');
      c.on('close', () => resolve());
      c.on('error', () => {});
    });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    await p.stop();
  });
});
