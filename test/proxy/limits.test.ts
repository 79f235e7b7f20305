/**
 * What one client can make h2proxy spend on its HTTP/1.1 backends: backend
 * connections per frontend connection (nghttpx's per-frontend queue),
 * nothing for streams that are reset as they arrive, connections given up
 * as soon as their request is cancelled, a zero window that holds the
 * backend response instead of buffering it, and idle connections closed and
 * bounded. The backend here counts what reaches it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, ErrorCode, FrameType, SettingId } from '../../src/h2/index.js';
import type { ResponseSink } from '../../src/proxy/backend.js';
import { Http1Pool, MAX_IDLE } from '../../src/proxy/backend-http1.js';
import { RawClient } from '../helpers/h2-raw-client.js';
import { killProxies, pattern, sha, startProxy } from '../helpers/h2proxy.js';
import { until } from '../helpers/h2serve.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An HTTP/1.1 backend that counts: connections accepted and open, requests
 * received (by path) and the most in progress at once. /wait/MS answers
 * "ok" after MS ms; /size/N sends N octets of pattern(N).
 */
class CountingBackend {
  readonly server: http.Server;
  accepted = 0;
  open = 0;
  active = 0;
  maxActive = 0;
  readonly paths: string[] = [];
  private readonly sockets = new Set<net.Socket>();

  constructor() {
    this.server = http.createServer((req, res) => {
      const url = req.url ?? '/';
      this.paths.push(url);
      this.active++;
      this.maxActive = Math.max(this.maxActive, this.active);
      res.on('close', () => this.active--);
      const wait = /^\/wait\/(\d+)$/.exec(url);
      const size = /^\/size\/(\d+)$/.exec(url);
      if (size) return void res.end(pattern(Number(size[1])));
      setTimeout(() => res.end('ok'), wait ? Number(wait[1]) : 0);
    });
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (s: net.Socket) => {
      this.accepted++;
      this.open++;
      this.sockets.add(s);
      s.on('close', () => {
        this.open--;
        this.sockets.delete(s);
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

  reset(): void {
    this.accepted = 0;
    this.maxActive = 0;
    this.paths.length = 0;
  }

  /** Closes every connection to it. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): void {
    this.dropAll();
    this.server.close();
  }
}

let backend: CountingBackend;
beforeAll(async () => {
  backend = await new CountingBackend().listen();
});
afterAll(() => backend.close());
afterEach(async () => {
  await killProxies();
  // Every test starts with a backend that has nothing open (connections of the last test gone).
  backend.dropAll();
  await until(() => backend.open === 0, 5000, 'the backend connections to close');
  backend.reset();
});

describe('backend connections per frontend connection', () => {
  it('an HTTP/2 connection holds at most --backend-connections-per-host (default 8) at once; more requests wait; another connection has its own share', async () => {
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${backend.port}`]);
    const url = `http://127.0.0.1:${p.port}`;
    const a = await connect(url);
    const b = await connect(url);
    try {
      const many = Array.from({ length: 24 }, () => a.request({ ':path': '/wait/300' }).then((r) => r.text()));
      await sleep(100);
      // The other connection is answered while the first one's requests wait for their turn.
      const t0 = performance.now();
      expect(await (await b.request({ ':path': '/wait/0' })).text()).toBe('ok');
      expect(performance.now() - t0).toBeLessThan(250);
      expect(await Promise.all(many)).toEqual(Array(24).fill('ok'));
      expect(backend.maxActive).toBe(9);
      expect(backend.paths.filter((x) => x === '/wait/300')).toHaveLength(24);
      expect(backend.accepted).toBeLessThanOrEqual(9);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it('--backend-connections-per-host=2, --backend-connections-per-frontend=1', async () => {
    for (const [opt, most] of [
      ['--backend-connections-per-host=2', 2],
      ['--backend-connections-per-frontend=1', 1],
    ] as const) {
      const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${backend.port}`, opt]);
      const s = await connect(`http://127.0.0.1:${p.port}`);
      try {
        const all = await Promise.all(Array.from({ length: 6 }, () => s.request({ ':path': '/wait/100' }).then((r) => r.text())));
        expect(all).toEqual(Array(6).fill('ok'));
        expect(backend.maxActive, opt).toBe(most);
      } finally {
        s.destroy();
        await p.stop();
      }
      backend.reset();
    }
  });

  it('requests still waiting when their connection goes away never reach the backend', async () => {
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${backend.port}`]);
    const c = await RawClient.open(p.port);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) frames.push(c.request(1 + 2 * i, '/wait/2000'));
    c.send(...frames);
    await until(() => backend.paths.length >= 8, 5000, 'eight requests at the backend');
    c.close();
    await sleep(500);
    expect(backend.paths).toHaveLength(8);
    expect(backend.accepted).toBe(8);
  });
});

describe('streams reset on arrival', () => {
  it('a stream reset in the read that opened it (rapid reset, MadeYouReset) costs the backend nothing', async () => {
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${backend.port}`]);
    const c = await RawClient.open(p.port);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) frames.push(c.request(1 + 2 * i, '/reset-by-client'), c.raw(FrameType.RST_STREAM, 0, 1 + 2 * i, [0, 0, 0, ErrorCode.CANCEL]));
    // MadeYouReset (CVE-2025-8671): a zero WINDOW_UPDATE makes the server reset the stream.
    for (let i = 50; i < 100; i++) frames.push(c.request(1 + 2 * i, '/reset-by-server'), c.windowUpdate(1 + 2 * i, 0));
    frames.push(c.request(201, '/wait/0'));
    c.send(...frames);
    const r = await c.response(201);
    expect(r.status).toBe('200');
    await sleep(300);
    expect(backend.paths).toEqual(['/wait/0']);
    expect(backend.accepted).toBe(1);
    c.close();
  });
});

/**
 * A listener that accepts nothing: a process that listens (backlog 1) and
 * then blocks. Once its accept queue is full, connections to it stay in
 * SYN-SENT.
 */
async function tarpit(): Promise<{ port: number; child: ChildProcess; fill: net.Socket[] }> {
  const code =
    "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>{process.stdout.write(s.address().port+'\\n');" +
    'setTimeout(()=>Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,60000),50)})';
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  await sleep(200);
  const fill: net.Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fill.push(s);
  }
  await sleep(200);
  return { port, child, fill };
}

/** Sockets in SYN-SENT towards 127.0.0.1:`port`, from /proc/net/tcp. */
function synSent(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 3 && f[2]!.endsWith(hex) && f[3] === '02').length;
}

describe('cancelling', () => {
  it('a request cancelled while its backend connection is being made gives that connection up at once', async () => {
    const t = await tarpit();
    try {
      const before = synSent(t.port);
      const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${t.port}`]);
      const s = await connect(`http://127.0.0.1:${p.port}`);
      for (let i = 0; i < 5; i++) void s.request({ ':path': '/never' }).catch(() => {});
      await until(() => synSent(t.port) >= before + 5, 5000, 'five connections being made');
      s.destroy();
      await until(() => synSent(t.port) <= before, 1000, 'the connections being made to be given up');
    } finally {
      for (const s of t.fill) s.destroy();
      t.child.kill('SIGKILL');
    }
  });
});

describe('backpressure', () => {
  it('a stream whose window is 0 holds its backend response unread (and its connection busy) instead of buffering it', async () => {
    const p = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${backend.port}`, '--backend-connections-per-host=1']);
    const c = await RawClient.open(p.port, [[SettingId.INITIAL_WINDOW_SIZE, 0]]);
    const n = 40_000;
    c.send(c.request(1, `/size/${n}`), c.request(3, `/size/${n}`), c.request(5, `/size/${n}`));
    await until(() => backend.paths.length >= 1, 5000, 'the first request at the backend');
    await sleep(500);
    // The first response waits in the backend connection; the others wait for it.
    expect(backend.paths).toHaveLength(1);
    // Open the windows: everything arrives, byte-exact.
    c.send(c.raw(FrameType.SETTINGS, 0, 0, [0, SettingId.INITIAL_WINDOW_SIZE, 0, 1, 0, 0]), c.windowUpdate(0, 1 << 20));
    for (const id of [1, 3, 5]) {
      const r = await c.response(id, 5000);
      expect(r.status).toBe('200');
      expect(sha(r.body)).toBe(sha(pattern(n)));
    }
    expect(backend.paths).toHaveLength(3);
    c.close();
  });
});

describe('idle backend connections', () => {
  it('close after the keep-alive timeout, and at most MAX_IDLE stay open meanwhile', async () => {
    const pool = new Http1Pool({
      host: '127.0.0.1',
      port: backend.port,
      tls: false,
      servername: null,
      connectTimeout: 5000,
      readTimeout: 5000,
      keepAliveTimeout: 400,
      rejectUnauthorized: true,
      ca: null,
    });
    try {
      const n = MAX_IDLE + 20;
      const done = Array.from(
        { length: n },
        () =>
          new Promise<number>((resolve, reject) => {
            const sink: ResponseSink = { head: (status) => resolve(status), data: () => true, end: () => {}, error: (f) => reject(new Error(f.message)) };
            pool.dispatch(
              { method: 'GET', scheme: 'http', authority: 'x', path: '/wait/100', fields: [['host', 'x']], body: null, front: { trailers: () => null } },
              sink,
            );
          }),
      );
      expect(await Promise.all(done)).toEqual(Array(n).fill(200));
      expect(backend.accepted).toBe(n);
      await until(() => backend.active === 0, 2000, 'every response to end');
      await sleep(50);
      expect(backend.open).toBeLessThanOrEqual(MAX_IDLE);
      expect(pool.connections).toBeLessThanOrEqual(MAX_IDLE);
      await until(() => backend.open === 0, 2000, 'the idle connections to close');
      await until(() => pool.connections === 0, 1000, 'the pool to forget them');
    } finally {
      pool.destroy();
    }
  });
});
