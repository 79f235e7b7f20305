/**
 * Interop with real clients: Node's built-in http2, curl, nghttp and h2load.
 * Bodies of 0 B, 1 KiB, 1 MiB and 64 MiB (generated in a temp dir) must
 * arrive byte-exact, downloads and uploads; 10,000 requests over 100
 * concurrent streams must all succeed.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Http2Server, type ServerStream } from '../../src/h2/index.js';

const SIZES: Record<string, number> = { '0': 0, '1k': 1024, '1m': 1 << 20, '64m': 64 << 20 };
let dir = '';
const digests = new Map<string, string>();
let server: Http2Server;
let port = 0;
let base = '';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const which = (bin: string): string | null => {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};
const CURL = which('curl');
const NGHTTP = which('nghttp');
const H2LOAD = which('h2load');
const skipNote = (name: string, bin: string | null) => (bin ? name : `${name} (SKIPPED: ${name.split(' ')[0]} is not installed)`);

function run(cmd: string, args: string[], timeout = 60_000): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 256 << 20, timeout }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.toString() });
    });
  });
}

function handler(stream: ServerStream): void {
  const [, kind, name] = stream.path.split('/');
  if (kind === 'file' && name && name in SIZES) {
    // A Node Readable: sent as the flow-control windows allow.
    const file = join(dir, name);
    return stream.respond(200, { 'content-length': statSync(file).size, 'content-type': 'application/octet-stream' }, createReadStream(file));
  }
  if (kind === 'sha256') {
    const h = createHash('sha256');
    let n = 0;
    stream.on('data', (c) => {
      h.update(c);
      n += c.length;
    });
    stream.on('end', () => stream.respond(200, { 'x-bytes': n }, h.digest('hex')));
    return;
  }
  if (kind === 'push') {
    stream.push('/pushed.txt', { body: 'pushed' });
    return stream.respond(200, {}, 'main');
  }
  stream.respond(200, { 'content-type': 'text/plain' }, 'ok');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'h2kit-interop-'));
  for (const [name, size] of Object.entries(SIZES)) {
    const data = randomBytes(size);
    writeFileSync(join(dir, name), data);
    digests.set(name, sha256(data));
  }
  server = createServer({ handler });
  ({ port } = await server.listen(0, '127.0.0.1'));
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server.close({ graceful: false });
  rmSync(dir, { recursive: true, force: true });
});

/** GET with Node's client; hashes the body as it arrives (no buffering). */
function nodeGet(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; digest: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path });
    const h = createHash('sha256');
    let bytes = 0;
    let status = 0;
    req.on('response', (headers) => (status = Number(headers[':status'])));
    req.on('data', (c: Buffer) => {
      h.update(c);
      bytes += c.length;
    });
    req.on('end', () => resolve({ status, digest: h.digest('hex'), bytes }));
    req.on('error', reject);
    req.end();
  });
}

describe('Node built-in http2 client', () => {
  let session: http2.ClientHttp2Session;
  beforeAll(() => {
    session = http2.connect(base);
  });
  afterAll(() => session.close());

  for (const name of Object.keys(SIZES)) {
    it(`GET ${name} arrives byte-exact`, async () => {
      const r = await nodeGet(session, `/file/${name}`);
      expect(r.status).toBe(200);
      expect(r.bytes).toBe(SIZES[name]);
      expect(r.digest).toBe(digests.get(name));
    });
  }

  for (const name of ['1k', '1m', '64m']) {
    it(`POST ${name} upload arrives byte-exact`, async () => {
      const res = await new Promise<{ body: string; bytes: string }>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': '/sha256' });
        let body = '';
        let bytes = '';
        req.on('response', (h) => (bytes = String(h['x-bytes'])));
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => resolve({ body, bytes }));
        req.on('error', reject);
        createReadStream(join(dir, name)).pipe(req);
      });
      expect(res.bytes).toBe(String(SIZES[name]));
      expect(res.body).toBe(digests.get(name));
    });
  }

  it('64 MiB from a Readable streams with bounded memory in the engine', async () => {
    const conn = () => server.getConnections();
    let maxQueued = 0;
    let maxArrayBuffers = 0;
    const before = process.memoryUsage().arrayBuffers;
    const timer = setInterval(() => {
      for (const c of conn()) maxQueued = Math.max(maxQueued, c.stats.queuedBytes);
      maxArrayBuffers = Math.max(maxArrayBuffers, process.memoryUsage().arrayBuffers - before);
    }, 5);
    const s2 = http2.connect(base);
    try {
      const r = await nodeGet(s2, '/file/64m');
      expect(r.digest).toBe(digests.get('64m'));
    } finally {
      clearInterval(timer);
      s2.close();
    }
    // The engine queues at most one pump budget (256 KiB) beyond what the socket took.
    expect(maxQueued).toBeLessThanOrEqual(512 * 1024);
    expect(maxArrayBuffers).toBeLessThan(48 << 20);
  });

  it('10,000 requests over 100 concurrent streams all succeed', async () => {
    const s = http2.connect(base);
    try {
      let done = 0;
      let failed = 0;
      let next = 0;
      await new Promise<void>((resolve) => {
        const one = (): void => {
          if (next >= 10000) return;
          next++;
          const req = s.request({ ':path': '/' });
          let body = '';
          req.setEncoding('utf8');
          req.on('data', (c: string) => (body += c));
          req.on('end', () => {
            if (body !== 'ok') failed++;
            if (++done === 10000) resolve();
            else one();
          });
          req.on('error', () => {
            failed++;
            if (++done === 10000) resolve();
            else one();
          });
          req.end();
        };
        for (let i = 0; i < 100; i++) one();
      });
      expect(done).toBe(10000);
      expect(failed).toBe(0);
    } finally {
      s.close();
    }
  });

  it('server push is received by the Node client', async () => {
    const s = http2.connect(base);
    try {
      const pushed = new Promise<{ path: string; body: string }>((resolve) => {
        s.on('stream', (ps, headers) => {
          let body = '';
          ps.setEncoding('utf8');
          ps.on('data', (c: string) => (body += c));
          ps.on('end', () => resolve({ path: String(headers[':path']), body }));
        });
      });
      const main = await nodeGet(s, '/push');
      expect(main.status).toBe(200);
      expect(await pushed).toEqual({ path: '/pushed.txt', body: 'pushed' });
    } finally {
      s.close();
    }
  });
});

describe.skipIf(!CURL)(skipNote('curl --http2-prior-knowledge', CURL), () => {
  for (const name of Object.keys(SIZES)) {
    it(`GET ${name} arrives byte-exact`, async () => {
      const out = join(dir, `curl-${name}.out`);
      const r = await run(CURL!, ['-sS', '--http2-prior-knowledge', '-o', out, '-w', '%{http_code} %{http_version} %{size_download}', `${base}/file/${name}`]);
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe(`200 2 ${SIZES[name]}`);
      const { readFileSync } = await import('node:fs');
      expect(sha256(readFileSync(out))).toBe(digests.get(name));
    });
  }

  it('POST 1m upload arrives byte-exact', async () => {
    const r = await run(CURL!, ['-sS', '--http2-prior-knowledge', '--data-binary', `@${join(dir, '1m')}`, `${base}/sha256`]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(digests.get('1m'));
  });
});

describe.skipIf(!NGHTTP)(skipNote('nghttp client', NGHTTP), () => {
  for (const name of Object.keys(SIZES)) {
    it(`GET ${name} arrives byte-exact`, async () => {
      const r = await run(NGHTTP!, [`${base}/file/${name}`]);
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBe(SIZES[name]);
      expect(sha256(r.stdout)).toBe(digests.get(name));
    });
  }

  it('nghttp -v sees SETTINGS, the response and a pushed stream', async () => {
    const r = await run(NGHTTP!, ['-nv', `${base}/push`]);
    expect(r.code).toBe(0);
    const log = r.stdout.toString();
    expect(log).toMatch(/recv SETTINGS frame/);
    expect(log).toMatch(/recv PUSH_PROMISE frame/);
    expect(log).toMatch(/recv \(stream_id=13\) :status: 200/);
    expect(log).not.toMatch(/GOAWAY.*error_code=(?!NO_ERROR)/);
  });

  it('POST 1m upload (nghttp -d) arrives byte-exact', async () => {
    const r = await run(NGHTTP!, ['-d', join(dir, '1m'), `${base}/sha256`]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(digests.get('1m'));
  });
});

describe.skipIf(!H2LOAD)(skipNote('h2load', H2LOAD), () => {
  const parse = (out: string) => {
    const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
    expect(m, out).not.toBeNull();
    return { total: Number(m![1]), succeeded: Number(m![4]), failed: Number(m![5]), errored: Number(m![6]) };
  };

  it('h2load -n 10000 -c 1 -m 100: all 10,000 succeed', async () => {
    const r = await run(H2LOAD!, ['-n', '10000', '-c', '1', '-m', '100', `${base}/`]);
    expect(r.code).toBe(0);
    expect(parse(r.stdout.toString())).toEqual({ total: 10000, succeeded: 10000, failed: 0, errored: 0 });
    expect(r.stdout.toString()).toMatch(/status codes: 10000 2xx/);
  });

  it('h2load -n 200 -c 10 -m 10 on a 1 MiB file: all succeed, 200 MiB of bodies', async () => {
    const r = await run(H2LOAD!, ['-n', '200', '-c', '10', '-m', '10', `${base}/file/1m`]);
    expect(r.code).toBe(0);
    expect(parse(r.stdout.toString())).toEqual({ total: 200, succeeded: 200, failed: 0, errored: 0 });
    const data = /\((\d+)\) data/.exec(r.stdout.toString());
    expect(Number(data?.[1])).toBe(200 * (1 << 20));
  });
});
