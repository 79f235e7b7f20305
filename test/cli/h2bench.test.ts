/**
 * h2bench end to end (bin/h2bench.js, or the single-file executable in
 * H2KIT_CLI_DIR): exact counts against a server in the test that counts
 * what it answers, against nghttpd and h2serve; -t 2, -i, -d, -D, --rate,
 * --rps, -T/-N, TLS and h2c, HTTP/1.1; its summary parsed with the patterns
 * that parse h2load's real output; --json; --log-file; the progress line on
 * a terminal only; bad options and unreachable servers.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecureServer, createServer, type FrameEvent, FrameType, type Http2Server, type ServerStream, SettingId } from '../../src/h2/index.js';
import { selfSignedCertificate } from '../../src/server/self-signed.js';
import { binPath, file, run, tempDir } from '../helpers/cli.js';
import { micros, parseH2loadSummary } from '../helpers/h2load-output.js';
import { exec, freePort, killAll, requireBin, startH2Serve, waitForPort } from '../helpers/h2serve.js';

const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

/** A server on our engine that counts what it answers: status by path (/200, /301, /404, /503), bodies counted. */
class CountingServer {
  answered = 0;
  /** Connections seen (by their ids). */
  readonly connections = new Set<number>();
  readonly methods = new Map<string, number>();
  readonly bodies: number[] = [];
  readonly authorities = new Set<string>();
  /** The SETTINGS and connection WINDOW_UPDATEs clients sent. */
  readonly settings: Array<Array<[number, number]>> = [];
  readonly windowUpdates: number[] = [];
  /** Lengths of the HEADERS frames received, by connection. */
  readonly headerFrames = new Map<number, number[]>();
  server!: Http2Server;
  port = 0;

  async start(secure: boolean): Promise<this> {
    const handler = (s: ServerStream) => this.handle(s);
    const onFrame = (e: FrameEvent) => {
      if (e.direction !== 'recv') return;
      if (e.type === FrameType.SETTINGS && e.settings && e.settings.length > 0) this.settings.push(e.settings);
      if (e.type === FrameType.WINDOW_UPDATE && e.streamId === 0 && e.increment !== undefined) this.windowUpdates.push(e.increment);
      if (e.type === FrameType.HEADERS) this.headerFrames.set(e.connectionId, [...(this.headerFrames.get(e.connectionId) ?? []), e.length]);
    };
    if (secure) {
      const c = selfSignedCertificate();
      this.server = createSecureServer({ key: c.key, cert: c.cert }, { handler, onFrame });
    } else this.server = createServer({ handler, onFrame });
    this.port = (await this.server.listen(0, '127.0.0.1')).port;
    return this;
  }

  private handle(s: ServerStream): void {
    this.connections.add(s.connectionId);
    this.authorities.add(s.authority);
    this.methods.set(s.method, (this.methods.get(s.method) ?? 0) + 1);
    if (s.path === '/hold') return; // never answered
    let n = 0;
    s.on('data', (c: Uint8Array) => (n += c.length));
    s.on('end', () => {
      const status = Number(/^\/(\d{3})$/.exec(s.path)?.[1] ?? 200);
      this.bodies.push(n);
      this.answered++;
      s.respond(status, { 'content-type': 'text/plain' }, 'x'.repeat(100));
    });
  }

  close(): Promise<void> {
    return this.server.close({ graceful: false, timeout: 500 });
  }
}

function bench(args: string[]) {
  return run('h2bench', args);
}

/** h2bench's own lines after the summary (beyond h2load): the percentiles. */
const LATENCY = /^latency {9}: +(\d+us|\d+\.\d\dms|\d+\.\d\ds)( +(\d+us|\d+\.\d\dms|\d+\.\d\ds)){4}$/m;

let h2c: CountingServer;
let tls: CountingServer;
const dir = tempDir('h2kit-h2bench-');

beforeAll(async () => {
  h2c = await new CountingServer().start(false);
  tls = await new CountingServer().start(true);
});
afterAll(async () => {
  await h2c.close();
  await tls.close();
  await killAll();
});

describe('counts are exact', () => {
  it('h2c, -i: succeeded is what the server answered; status classes by URI', async () => {
    const before = h2c.answered;
    const uris = file(dir, 'uris.txt', `${['200', '301', '404', '503'].map((s) => `http://127.0.0.1:${h2c.port}/${s}`).join('\n')}\n`);
    const r = await bench(['-n', '400', '-c', '2', '-m', '4', '-i', uris]);
    expect(r.code, r.stderr).toBe(0);
    const s = parseH2loadSummary(r.stdout);
    expect(h2c.answered - before).toBe(400);
    expect(s.requests).toEqual({ total: 400, started: 400, done: 400, succeeded: 200, failed: 200, errored: 0, timeout: 0 });
    expect(s.status).toEqual({ '2xx': 100, '3xx': 100, '4xx': 100, '5xx': 100 });
    expect(s.traffic.data).toBe(400 * 100);
    expect(r.stdout).toMatch(/^Application protocol: h2c$/m);
    expect(r.stdout).toMatch(LATENCY);
  });

  it('-t 2: two worker threads share clients and requests; every response counted once', async () => {
    const before = h2c.answered;
    const r = await bench(['-n', '1001', '-c', '5', '-m', '10', '-t', '2', `http://127.0.0.1:${h2c.port}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('spawning thread #0: 3 total client(s). 501 total requests');
    expect(r.stdout).toContain('spawning thread #1: 2 total client(s). 500 total requests');
    const s = parseH2loadSummary(r.stdout);
    expect(h2c.answered - before).toBe(1001);
    expect(s.requests).toEqual({ total: 1001, started: 1001, done: 1001, succeeded: 1001, failed: 0, errored: 0, timeout: 0 });
    expect(s.traffic.data).toBe(100100);
  });

  it('--no-self-warm-up: the same exact counts without the warm-up against the loopback', async () => {
    const before = h2c.answered;
    const r = await bench(['-n', '300', '-c', '3', '-m', '5', '-t', '2', '--no-self-warm-up', `http://127.0.0.1:${h2c.port}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(h2c.answered - before).toBe(300);
    expect(parseH2loadSummary(r.stdout).requests).toEqual({ total: 300, started: 300, done: 300, succeeded: 300, failed: 0, errored: 0, timeout: 0 });
  });

  it('TLS with ALPN h2: the negotiation lines, then exact counts', async () => {
    const before = tls.answered;
    const r = await bench(['-n', '300', '-c', '3', '-m', '5', `https://localhost:${tls.port}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^TLS Protocol: TLSv1\.3\nCipher: TLS_\w+\nServer Temp Key: .+ bits\nApplication protocol: h2$/m);
    const s = parseH2loadSummary(r.stdout);
    expect(tls.answered - before).toBe(300);
    expect(s.requests.succeeded).toBe(300);
    expect(micros(s.connect.min)).toBeGreaterThan(0);
  });

  it('-d: every request is a POST with the file as its body', async () => {
    const before = h2c.answered;
    const posts = h2c.methods.get('POST') ?? 0;
    const body = file(dir, 'body.bin', Buffer.alloc(70000, 1)); // beyond the default stream window
    const r = await bench(['-n', '20', '-c', '2', '-m', '2', '-d', body, `http://127.0.0.1:${h2c.port}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(parseH2loadSummary(r.stdout).requests.succeeded).toBe(20);
    expect(h2c.answered - before).toBe(20);
    expect(h2c.methods.get('POST')! - posts).toBe(20);
    expect(h2c.bodies.slice(-20)).toEqual(new Array(20).fill(70000));
  });
});

describe('connecting', () => {
  it('-B: the base URI gives scheme, host and port; the URIs only their paths', async () => {
    const before = h2c.answered;
    const r = await bench(['-n', '4', '-B', `http://127.0.0.1:${h2c.port}`, 'http://elsewhere.invalid:9/301']);
    expect(r.code, r.stderr).toBe(0);
    expect(parseH2loadSummary(r.stdout).status['3xx']).toBe(4);
    expect(h2c.answered - before).toBe(4);
    expect(h2c.authorities).toContain(`127.0.0.1:${h2c.port}`);
  });

  it('-B unix:PATH: over a UNIX domain socket', async () => {
    const path = join(dir, 'h2c.sock');
    const relay = net.createServer((c) => {
      const up = net.connect(h2c.port, '127.0.0.1');
      // Either side may reset when h2bench closes.
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
      c.pipe(up).pipe(c);
    });
    await new Promise<void>((resolve) => relay.listen(path, resolve));
    try {
      const before = h2c.answered;
      const r = await bench(['-n', '10', '-c', '2', '-B', `unix:${path}`, 'http://unix.invalid/']);
      expect(r.code, r.stderr).toBe(0);
      expect(parseH2loadSummary(r.stdout).requests.succeeded).toBe(10);
      expect(h2c.answered - before).toBe(10);
      expect(h2c.authorities).toContain('unix.invalid');
    } finally {
      relay.close();
    }
  });

  it("--connect-to: connects there; :authority stays the URI's", async () => {
    const r = await bench(['-n', '3', '--connect-to', `127.0.0.1:${h2c.port}`, 'http://named.invalid:8080/']);
    expect(r.code, r.stderr).toBe(0);
    expect(parseH2loadSummary(r.stdout).requests.succeeded).toBe(3);
    expect(h2c.authorities).toContain('named.invalid:8080');
  });

  it('--sni: the TLS server name sent instead of the URI host', async () => {
    const names: string[] = [];
    const c = selfSignedCertificate();
    const server = createTlsServer({
      key: c.key,
      cert: c.cert,
      SNICallback: (name, cb) => {
        names.push(name);
        cb(new Error('recorded'));
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await bench(['-n', '1', '--sni', 'sni.invalid', `https://localhost:${port}/`]);
      expect(r.code).toBe(1);
      expect(names).toEqual(['sni.invalid']);
      const r2 = await bench(['-n', '1', `https://localhost:${port}/`]);
      expect(r2.code).toBe(1);
      expect(names).toEqual(['sni.invalid', 'localhost']);
    } finally {
      server.close();
    }
  });

  it('-w, -W, -f, --header-table-size: the SETTINGS and connection window h2load sends', async () => {
    const n = h2c.settings.length;
    const w = h2c.windowUpdates.length;
    const r = await bench(['-n', '1', '-w', '20', '-W', '24', '-f', '32K', '--header-table-size', '8K', `http://127.0.0.1:${h2c.port}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(h2c.settings.slice(n)).toEqual([
      [
        [SettingId.ENABLE_PUSH, 0],
        [SettingId.INITIAL_WINDOW_SIZE, 2 ** 20 - 1],
        [SettingId.HEADER_TABLE_SIZE, 8192],
        [SettingId.MAX_FRAME_SIZE, 32768],
      ],
    ]);
    expect(h2c.windowUpdates.slice(w)).toEqual([2 ** 24 - 1 - 65535]);
    // The defaults: -w 30 and -W 30, as h2load.
    const d = await bench(['-n', '1', `http://127.0.0.1:${h2c.port}/`]);
    expect(d.code, d.stderr).toBe(0);
    expect(h2c.settings.at(-1)).toEqual([
      [SettingId.ENABLE_PUSH, 0],
      [SettingId.INITIAL_WINDOW_SIZE, 2 ** 30 - 1],
    ]);
    expect(h2c.windowUpdates.at(-1)).toBe(2 ** 30 - 1 - 65535);
  });

  it('--encoder-header-table-size 0: nothing indexed, every request header block as long as the first', async () => {
    const last = () => [...h2c.headerFrames.values()].at(-1)!;
    let r = await bench(['-n', '3', `http://127.0.0.1:${h2c.port}/`]);
    expect(r.code, r.stderr).toBe(0);
    const indexed = last();
    expect(indexed).toHaveLength(3);
    expect(indexed[1]!).toBeLessThan(indexed[0]! / 2);
    r = await bench(['-n', '3', '--encoder-header-table-size', '0', `http://127.0.0.1:${h2c.port}/`]);
    expect(r.code, r.stderr).toBe(0);
    const plain = last();
    expect(plain).toHaveLength(3);
    expect(plain[1]).toBe(plain[2]);
    expect(plain[1]!).toBeGreaterThan(indexed[1]! * 2);
  });

  it('-p http/1.1 over http, and --alpn-list over https', async () => {
    const server = http.createServer((_req, res) => res.end('z'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await bench(['-n', '6', '-c', '2', '-p', 'http/1.1', `http://127.0.0.1:${port}/`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Application protocol: http\/1\.1$/m);
      const s = parseH2loadSummary(r.stdout);
      expect(s.requests.succeeded).toBe(6);
      // One request at a time (-m 1) goes on at once after each response, not after undici times out.
      expect(micros(s.finished.time)).toBeLessThan(5e6);
    } finally {
      server.closeAllConnections();
      server.close();
    }
    // A list without h2 offers the server nothing it speaks: refused in the handshake, said in one line.
    const t = await bench(['-n', '1', '--alpn-list', 'spdy/3', `https://localhost:${tls.port}/`]);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/^h2bench: a client: /m);
  });
});

describe('schedules and timeouts', () => {
  it("-D with --warm-up-time: h2load's phase lines; the main duration's requests only", async () => {
    const before = h2c.answered;
    const r = await bench(['-D', '1', '--warm-up-time', '300ms', '-c', '2', '-m', '2', `http://127.0.0.1:${h2c.port}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('spawning thread #0: 2 total client(s). Timing-based test with 0.3s of warm-up time and 1s of main duration for measurements.');
    for (const l of [
      'Warm-up started for thread #0.',
      'Warm-up phase is over for thread #0.',
      'Main benchmark duration is started for thread #0.',
      'Main benchmark duration is over for thread #0. Stopping all clients.',
      'Stopped all clients for thread #0',
    ]) {
      expect(r.stdout).toContain(l);
    }
    const s = parseH2loadSummary(r.stdout);
    expect(s.requests.succeeded).toBeGreaterThan(0);
    expect(s.requests.total).toBe(s.requests.done);
    expect(s.requests.succeeded).toBe(s.requests.done);
    // The server also answered the warm-up's requests.
    expect(h2c.answered - before).toBeGreaterThan(s.requests.succeeded);
    expect(micros(s.finished.time)).toBeGreaterThanOrEqual(1.3e6);
    // req/s is over the main duration only.
    expect(s.finished.rps).toBeCloseTo(s.requests.succeeded / 1, 0);
  });

  it('--rate: connections are made -r at a time; latency runs from when they were due', async () => {
    const before = h2c.connections.size;
    const r = await bench(['-n', '40', '-c', '4', '-r', '2', '--rate-period', '100ms', `http://127.0.0.1:${h2c.port}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('spawning thread #0: 4 total client(s). Up to 2 client(s) will be created every 100ms 40 total requests');
    expect(parseH2loadSummary(r.stdout).requests.succeeded).toBe(40);
    expect(h2c.connections.size - before).toBe(4);
    expect(micros(parseH2loadSummary(r.stdout).finished.time)).toBeGreaterThanOrEqual(100_000);
    expect(r.stdout).toContain('latency is measured from when each request should have been sent (coordinated omission corrected)');
  });

  it('--rps: each client sends at the given rate', async () => {
    const r = await bench(['-n', '20', '-c', '2', '-m', '4', '--rps', '50', `http://127.0.0.1:${h2c.port}/`]);
    expect(r.code, r.stderr).toBe(0);
    const s = parseH2loadSummary(r.stdout);
    expect(s.requests.succeeded).toBe(20);
    // 10 requests per client at 50/s: the last one is due 180 ms after the first.
    expect(micros(s.finished.time)).toBeGreaterThanOrEqual(170_000);
    expect(s.rps.max).toBeLessThan(80);
    expect(r.stdout).toMatch(/coordinated omission corrected/);
  });

  it('-N: a server that never answers: what is in flight times out, the rest fails', async () => {
    const r = await bench(['-n', '6', '-c', '1', '-m', '2', '-N', '300ms', `http://127.0.0.1:${h2c.port}/hold`]);
    expect(r.code, r.stderr).toBe(0);
    expect(parseH2loadSummary(r.stdout).requests).toEqual({ total: 6, started: 2, done: 0, succeeded: 0, failed: 6, errored: 6, timeout: 2 });
  });

  it('-T: the connection closes that long after its last request was sent', async () => {
    const r = await bench(['-n', '3', '-c', '1', '-m', '3', '-T', '200ms', `http://127.0.0.1:${h2c.port}/hold`]);
    expect(parseH2loadSummary(r.stdout).requests).toEqual({ total: 3, started: 3, done: 0, succeeded: 0, failed: 3, errored: 3, timeout: 3 });
  });
});

describe('output', () => {
  it("h2load's real output and ours parse with the same patterns, to the same counts", async () => {
    const url = `http://127.0.0.1:${h2c.port}/404`;
    // Asynchronously: the server runs in this process.
    const theirs = { stdout: (await exec(requireBin('h2load'), ['-n', '50', '-c', '2', '-m', '3', url])).stdout.toString('utf8') };
    const ours = await bench(['-n', '50', '-c', '2', '-m', '3', url]);
    const a = parseH2loadSummary(theirs.stdout);
    const b = parseH2loadSummary(ours.stdout);
    expect(b.requests).toEqual(a.requests);
    expect(b.status).toEqual(a.status);
    expect(b.traffic.data).toBe(a.traffic.data);
    // The first lines too.
    for (const l of ['starting benchmark...', 'spawning thread #0: 2 total client(s). 50 total requests', 'Application protocol: h2c']) {
      expect(theirs.stdout).toContain(l);
      expect(ours.stdout).toContain(l);
    }
  });

  it('--json: one JSON document on stdout, the same figures; the running lines go to stderr', async () => {
    const r = await bench(['-n', '30', '-c', '3', '--json', `http://127.0.0.1:${h2c.port}/404`]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown> & {
      requests: Record<string, number>;
      statusCodes: Record<string, number>;
      latencyUs: Record<string, number | string>;
      traffic: Record<string, number>;
    };
    expect(j.requests).toEqual({ total: 30, started: 30, done: 30, succeeded: 0, failed: 30, errored: 0, timeout: 0 });
    expect(j.statusCodes).toEqual({ '2xx': 0, '3xx': 0, '4xx': 30, '5xx': 0 });
    expect(j.traffic.data).toBe(3000);
    expect(j.latencyUs).toMatchObject({ from: 'sent', count: 30 });
    expect(j.latencyUs['p99']).toBeGreaterThan(0);
    expect(j.applicationProtocol).toBe('h2c');
    expect(r.stderr).toContain('starting benchmark...');
  });

  it('-v: the header fields of every response, as h2load prints them', async () => {
    const r = await bench(['-n', '2', '-v', `http://127.0.0.1:${h2c.port}/404`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('[stream_id=1] :status: 404\n[stream_id=1] content-type: text/plain\n');
    expect(r.stdout).toContain('[stream_id=3] :status: 404');
  });

  it('--log-file: one line per request: start (us since the epoch), status, microseconds', async () => {
    const log = join(dir, 'requests.log');
    const t0 = Date.now() * 1000;
    const r = await bench(['-n', '25', '-c', '2', '-t', '2', '--log-file', log, `http://127.0.0.1:${h2c.port}/301`]);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(25);
    for (const l of lines) {
      const m = /^(\d+)\t301\t(\d+)$/.exec(l);
      expect(m, l).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThanOrEqual(t0 - 1e6);
    }
  });

  it.skipIf(!have('script'))('a progress line on a terminal only, updated in place', async () => {
    const url = `http://127.0.0.1:${h2c.port}/`;
    const cmd = [
      process.env['H2KIT_CLI_DIR'] ? join(process.env['H2KIT_CLI_DIR'], 'h2bench') : binPath('h2bench'),
      '-n',
      '40000',
      '-c',
      '2',
      '-m',
      '10',
      url,
    ].join(' ');
    const tty = { stdout: (await exec('script', ['-qec', cmd, '/dev/null'])).stdout.toString('utf8') };
    expect(tty.stdout).toMatch(/\rprogress: \d+% done/);
    expect(tty.stdout).toMatch(/finished in/);
    const piped = await bench(['-n', '40000', '-c', '2', '-m', '10', url]);
    expect(piped.stdout + piped.stderr).not.toContain('progress:');
  });
});

describe('peers', () => {
  let nghttpd: ChildProcess | null = null;
  let nghttpdPort = 0;
  const htdocs = tempDir('h2kit-h2bench-htdocs-');
  file(htdocs, '1k', Buffer.alloc(1024, 7));

  beforeAll(async () => {
    nghttpdPort = await freePort();
    nghttpd = spawn(requireBin('nghttpd'), ['-a', '127.0.0.1', '-d', htdocs, '--no-tls', String(nghttpdPort)], { stdio: 'ignore' });
    await waitForPort(nghttpdPort);
  });
  afterAll(() => {
    nghttpd?.kill('SIGKILL');
  });

  it("nghttpd: exact counts and h2load's traffic figures", async () => {
    const url = `http://127.0.0.1:${nghttpdPort}/1k`;
    const r = await bench(['-n', '2000', '-c', '4', '-m', '10', url]);
    expect(r.code, r.stderr).toBe(0);
    const s = parseH2loadSummary(r.stdout);
    expect(s.requests).toEqual({ total: 2000, started: 2000, done: 2000, succeeded: 2000, failed: 0, errored: 0, timeout: 0 });
    expect(s.traffic.data).toBe(2000 * 1024);
    const h = parseH2loadSummary((await exec(requireBin('h2load'), ['-n', '2000', '-c', '4', '-m', '10', url])).stdout.toString('utf8'));
    // The same responses: the same data, and header octets within a few per cent (the date field's Huffman length varies).
    expect(h.traffic.data).toBe(s.traffic.data);
    expect(Math.abs(h.traffic.headers - s.traffic.headers) / h.traffic.headers).toBeLessThan(0.05);
    expect(Math.abs(h.traffic.savings - s.traffic.savings)).toBeLessThan(2);
  });

  it('h2serve: exact counts over h2c, 2xx and 4xx', async () => {
    const srv = await startH2Serve(['--no-tls', '-a', '127.0.0.1', '-d', htdocs, '0']);
    try {
      // 150 requests per client, each cycling through the three URIs: 100 of 1k, 50 missing.
      const r = await bench(['-n', '300', '-c', '2', '-m', '5', `${srv.url}/1k`, `${srv.url}/missing`, `${srv.url}/1k`]);
      expect(r.code, r.stderr).toBe(0);
      const s = parseH2loadSummary(r.stdout);
      expect(s.requests).toEqual({ total: 300, started: 300, done: 300, succeeded: 200, failed: 100, errored: 0, timeout: 0 });
      expect(s.status).toEqual({ '2xx': 200, '3xx': 0, '4xx': 100, '5xx': 0 });
    } finally {
      await srv.stop();
    }
  });

  it('--h1: HTTP/1.1 with -m requests pipelined, counted exactly', async () => {
    let answered = 0;
    const server = http.createServer((_req, res) => {
      answered++;
      res.end('y'.repeat(50));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await bench(['-n', '200', '-c', '2', '-m', '4', '--h1', `http://127.0.0.1:${port}/`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Application protocol: http\/1\.1$/m);
      const s = parseH2loadSummary(r.stdout);
      expect(s.requests).toEqual({ total: 200, started: 200, done: 200, succeeded: 200, failed: 0, errored: 0, timeout: 0 });
      expect(answered).toBe(200);
      expect(s.traffic.data).toBe(200 * 50);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('errors', () => {
  it.each([
    [['-n', '0', 'http://127.0.0.1:1/'], /-n: the number of requests must be strictly greater than 0/],
    [['-n', '5', '-c', '10', 'http://127.0.0.1:1/'], /-n, -c: the number of requests must be greater than or equal to the clients/],
    [['-c', '2', '-t', '3', '-n', '9', 'http://127.0.0.1:1/'], /-c, -t: the number of clients must be greater than or equal to the number of threads/],
    [['-w', '31', 'http://127.0.0.1:1/'], /-w: specify the integer in the range \[0, 30\]/],
    [['-D', '1', '-r', '1', 'http://127.0.0.1:1/'], /-r, -D: they are mutually exclusive/],
    [['-D', 'soon', 'http://127.0.0.1:1/'], /-D: bad duration 'soon'/],
    [['ftp://127.0.0.1/'], /unsupported scheme ftp/],
    [[], /no URI or input file given/],
    [['-i', '/nonexistent/uris', '-n', '1'], /-i: cannot read input file: \/nonexistent\/uris/],
    [['-H', 'novalue:', 'http://127.0.0.1:1/'], /-H: invalid header - value missing/],
    [['--bogus', 'http://127.0.0.1:1/'], /unknown option '--bogus'/],
    [['-d', '/nonexistent/body', 'http://127.0.0.1:1/'], /-d: Could not open file \/nonexistent\/body/],
  ])('%j: a one-line error, exit 2', async (args, message) => {
    const r = await bench(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const first = r.stderr.split('\n')[0]!;
    expect(first).toMatch(/^h2bench: /);
    expect(first).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unreachable server: the summary (all failed), a one-line error, exit 1', async () => {
    const port = await freePort();
    const r = await bench(['-n', '10', '-c', '2', `http://127.0.0.1:${port}/`]);
    expect(r.code).toBe(1);
    expect(parseH2loadSummary(r.stdout).requests).toEqual({ total: 10, started: 0, done: 0, succeeded: 0, failed: 10, errored: 10, timeout: 0 });
    expect(r.stderr.trim().split('\n')).toEqual([`h2bench: 2 clients: cannot connect to 127.0.0.1:${port}: ECONNREFUSED`]);
  });

  it('a server that does not speak TLS: the handshake fails, said in one line', async () => {
    // An h2c server: the TLS ClientHello is not a connection preface.
    const r = await bench(['-n', '2', '-c', '1', `https://127.0.0.1:${h2c.port}/`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^h2bench: a client: TLS handshake with 127\.0\.0\.1:\d+: .+$/m);
  });
});
