/**
 * h2get end to end, side by side with nghttp 1.52 on the same servers:
 * nghttpd (h2c and TLS, with -p push), h2serve (--echo-upload, its HTTP/1.1
 * Upgrade) and nginx (TLS, http2), all started here. The frames h2get
 * receives must be the frames nghttp receives (stream by stream, times,
 * lengths and dates aside); bodies must be byte-exact.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/h2/index.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { startTestServer } from '../helpers/h2-test-server.js';
import { type Peer, receivedByStream, runH2Get, runNghttp, sentPaths, startNghttpd, startNginx } from '../helpers/h2get.js';
import { exec, type H2ServeProcess, killAll, opensslCert, requireBin, startH2Serve } from '../helpers/h2serve.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Deterministic octets: byte i is (i * 7 + 3) mod 251. */
function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) % 251;
  return b;
}

const PAGE = `<!DOCTYPE html>
<html><head>
<base href="/elsewhere/">
<LINK REL="Stylesheet" HREF="css/site.css">
<link rel="shortcut icon" href="/favicon.ico">
<link rel="icon" href="/icon-not-fetched.png">
<link rel="preload" href="/pre.js" as="script">
<link rel="preload" href="/pre-no-as.js">
<link rel="alternate stylesheet" href="/alternate.css">
<link rel="stylesheet" href="http://example.com/other-origin.css">
<script src="head.js"></script>
<script>var s = '<img src="/in-script.png">';</script>
<style>/* <img src="/in-style.png"> */</style>
</head>
<body>
<!-- <img src="/in-comment.png"> -->
<script src="body.js?x=1&amp;y=2#fragment"></script>
<img src="img/one.png"><img src="img/one.png"><IMG SRC='/two.png'><img src=/three.png>
<img srcset="/srcset.png 2x"><img src="">
<a href="/link.html">link</a><iframe src="/frame.html"></iframe><video src="/v.mp4" poster="/poster.png"></video>
<img src="../up.png"><img src="/with space.png"><img src="/caf\u00e9.png">
<link rel="stylesheet" href="/style.css">
</body></html>
`;

let dir: string;
let htdocs: string;
let tls: { key: string; cert: string };
const sizes = [0, 1, 16383, 16384, 16385, 65535, 65536, 1 << 20];
let big: Buffer;

beforeAll(async () => {
  dir = tempDir('h2get-test-');
  htdocs = join(dir, 'htdocs');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(htdocs, 'css'), { recursive: true });
  mkdirSync(join(htdocs, 'img'), { recursive: true });
  writeFileSync(
    join(htdocs, 'index.html'),
    '<html><head><link rel="stylesheet" href="/style.css"><script src="/app.js"></script></head><body><img src="/a.png"></body></html>\n',
  );
  writeFileSync(join(htdocs, 'page.html'), PAGE);
  writeFileSync(join(htdocs, 'style.css'), 'body { color: black }\n');
  writeFileSync(join(htdocs, 'app.js'), 'var x = 1;\n');
  writeFileSync(join(htdocs, 'a.png'), pattern(300));
  writeFileSync(join(htdocs, 'css/site.css'), 'h1 {}\n');
  writeFileSync(join(htdocs, 'img/one.png'), pattern(10));
  for (const n of sizes) writeFileSync(join(htdocs, `size-${n}.bin`), pattern(n));
  big = pattern(64 << 20);
  writeFileSync(join(htdocs, 'big.bin'), big);
  tls = await opensslCert(dir);
});

afterAll(async () => {
  await killAll();
});

/** Runs nghttp and h2get with the same arguments; both must exit 0. */
async function sideBySide(args: string[]): Promise<{ ours: string; theirs: string }> {
  const theirs = await runNghttp(args);
  const ours = await runH2Get(args);
  expect(theirs.code, theirs.stderr).toBe(0);
  expect(ours.code, ours.stderr).toBe(0);
  return { ours: ours.stdout.toString(), theirs: theirs.stdout.toString() };
}

function expectSameReceived(ours: string, theirs: string): void {
  const a = receivedByStream(ours);
  const b = receivedByStream(theirs);
  expect(b.size).toBeGreaterThan(0);
  expect(Object.fromEntries(a)).toEqual(Object.fromEntries(b));
}

describe('against nghttpd (h2c, push)', () => {
  let peer: Peer;
  beforeAll(async () => {
    peer = await startNghttpd(htdocs, null, ['-p', '/index.html=/style.css']);
  });
  afterAll(async () => {
    await peer?.stop();
  });
  const url = (p: string) => `http://127.0.0.1:${peer.port}${p}`;

  it("-nv: the frames received are nghttp's, stream by stream (the push included)", async () => {
    const { ours, theirs } = await sideBySide(['-nv', url('/index.html')]);
    expectSameReceived(ours, theirs);
    // The push is in the log, as nghttp shows it.
    expect(ours).toMatch(/recv PUSH_PROMISE frame <length=\d+, flags=0x04, stream_id=13>\n {10}; END_HEADERS\n {10}\(padlen=0, promised_stream_id=2\)/);
    expect(ours).toContain('; First push response header');
    // What we send is nghttp's too: SETTINGS, the five anchors, the request on stream 13.
    const sent = (log: string) =>
      log
        .split('\n')
        .filter((l) => / send (SETTINGS|PRIORITY|HEADERS) /.test(l))
        .map((l) => l.replace(/^\[[ \d.]+\] /, '').replace(/length=\d+/, ''));
    expect(sent(ours).filter((l) => !l.includes('flags=0x01'))).toEqual(sent(theirs).filter((l) => !l.includes('flags=0x01')));
  });

  // The -nv comparisons keep the bodies of a connection under 32 KiB: past half a window, how DATA is
  // split depends on when each client's WINDOW_UPDATE reaches the server, for nghttp as for us.
  it('-nv with several URIs and 404s: same frames received', async () => {
    const { ours, theirs } = await sideBySide(['-nv', url('/style.css'), url('/missing'), url('/size-16384.bin')]);
    expectSameReceived(ours, theirs);
    expect([...receivedByStream(ours).keys()].sort((a, b) => a - b)).toEqual([0, 13, 15, 17]);
  });

  it('bodies are byte-exact, 0 B to 1 MiB: on standard output one by one, and all at once on one connection with -O', async () => {
    for (const n of [0, 16385, 1 << 20]) {
      const r = await runH2Get([url(`/size-${n}.bin`)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.length).toBe(n);
      expect(sha(r.stdout)).toBe(sha(pattern(n)));
      expect(r.stderr).toBe('');
    }
    // Concurrent streams interleave on standard output (as with nghttp): -O keeps them apart.
    const cwd = tempDir('h2get-sizes-');
    const r = await runH2Get(['-O', ...sizes.map((n) => url(`/size-${n}.bin`))], { cwd });
    expect(r.code, r.stderr).toBe(0);
    for (const n of sizes) expect(sha(readFileSync(join(cwd, `size-${n}.bin`))), `size ${n}`).toBe(sha(pattern(n)));
  });

  it('a 64 MiB body is byte-exact', async () => {
    const r = await runH2Get([url('/big.bin')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBe(big.length);
    expect(sha(r.stdout)).toBe(sha(big));
  });

  it('-a fetches the paths nghttp -a fetches, in the same order, with the same priorities', async () => {
    const { ours, theirs } = await sideBySide(['-nv', '-a', url('/page.html')]);
    expect(sentPaths(ours)).toEqual(sentPaths(theirs));
    expect(sentPaths(ours)).toEqual([
      '/page.html',
      '/css/site.css',
      '/favicon.ico',
      '/pre.js',
      '/head.js',
      '/body.js?x=1&y=2',
      '/img/one.png',
      '/two.png',
      '/three.png',
      '/up.png',
      '/style.css',
    ]);
    const priorities = (log: string) =>
      [...log.matchAll(/send HEADERS frame[^\n]*\n[^\n]*\n {10}\((padlen=0, dep_stream_id=\d+, weight=\d+, exclusive=0)\)/g)].map((m) => m[1]);
    expect(priorities(ours)).toEqual(priorities(theirs));
    expectSameReceived(ours, theirs);
  });

  it('-a does not ask again for what was pushed', async () => {
    const { ours, theirs } = await sideBySide(['-nv', '-a', url('/index.html')]);
    expect(sentPaths(ours)).toEqual(['/index.html', '/app.js', '/a.png']);
    expect(sentPaths(theirs)).toEqual(sentPaths(ours));
  });

  it('-m 3: the same URI three times on one connection, streams 13, 15, 17', async () => {
    const r = await runH2Get(['-v', '-m', '3', url('/style.css')]);
    expect(r.code, r.stderr).toBe(0);
    const log = r.stdout.toString();
    expect(sentPaths(log)).toEqual(['/style.css', '/style.css', '/style.css']);
    expect([...receivedByStream(log).keys()].filter((id) => id > 0)).toEqual([13, 15, 17]);
    expect(log.split('body { color: black }').length - 1).toBe(3);
  });

  it('a URI given twice is requested once (as nghttp does without -m)', async () => {
    const r = await runH2Get(['-nv', url('/style.css'), url('/style.css')]);
    expect(sentPaths(r.stdout.toString())).toEqual(['/style.css']);
  });

  it('--hexdump prints the octets received, as hexdump -C', async () => {
    const r = await runH2Get(['-n', '--hexdump', url('/style.css')]);
    expect(r.code, r.stderr).toBe(0);
    // The server's SETTINGS frame opens the first dump.
    expect(r.stdout.toString()).toMatch(/^00000000  00 00 06 04 00 00 00 00  00 00 03 00 00 00 64/);
    // Each line: its offset, 16 octets in hex (a gap after 8), the same octets as ASCII; the dump ends with its length.
    const octets: number[] = [];
    for (const line of r.stdout.toString().trimEnd().split('\n')) {
      const m = /^([0-9a-f]{8})  ((?:[0-9a-f]{2} | {3}){8}) ((?:[0-9a-f]{2} | {3}){8}) \|(.{1,16})\|$/.exec(line);
      if (m === null) {
        expect(line).toMatch(/^[0-9a-f]{8}$/);
        expect(parseInt(line, 16)).toBe(octets.length);
        octets.length = 0; // one dump per read
        continue;
      }
      expect(parseInt(m[1]!, 16)).toBe(octets.length);
      const row = (m[2]! + m[3]!)
        .trim()
        .split(/ +/)
        .map((h) => parseInt(h, 16));
      expect(m[4]).toBe(String.fromCharCode(...row.map((b) => (b >= 0x20 && b < 0x7f ? b : 0x2e))));
      octets.push(...row);
    }
    expect(octets).toEqual([]);
    expect(
      r.stdout
        .toString()
        .replace(/^[0-9a-f]{8}  |  \|.*\|$|\n/gm, ' ')
        .replace(/ +/g, ''),
    ).toContain(Buffer.from('body { color: black }\n').toString('hex'));
  });

  it("-s prints nghttp's statistics table", async () => {
    const r = await runH2Get(['-ns', url('/index.html')]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.toString();
    expect(out).toContain('***** Statistics *****');
    expect(out).toContain('id  responseEnd requestStart  process code size request path');
    expect(out).toMatch(/^ 13 +\+\d+(\.\d\d)?(us|ms|s) +\+\d+(\.\d\d)?(us|ms|s) +\d+(\.\d\d)?(us|ms|s)  200  \d+ \/index\.html$/m);
    expect(out).toMatch(/^  2 +\+\S+ \* +\+\S+ +\S+  200 +22 \/style\.css$/m);
  });
});

describe('against nghttpd over TLS', () => {
  let peer: Peer;
  beforeAll(async () => {
    peer = await startNghttpd(htdocs, tls, ['-p', '/index.html=/style.css']);
  });
  afterAll(async () => {
    await peer?.stop();
  });
  const url = (p: string) => `https://localhost:${peer.port}${p}`;

  it('-nv: same frames received as nghttp; the negotiated protocol is printed', async () => {
    const { ours, theirs } = await sideBySide(['-nv', url('/index.html'), url('/size-16385.bin')]);
    expectSameReceived(ours, theirs);
    expect(ours).toMatch(/^\[ *\d+\.\d{3}\] Connected\nThe negotiated protocol: h2\n/);
  });

  it('the self-signed certificate is a warning that names the problem; -y hides it', async () => {
    const r = await runH2Get(['-n', url('/style.css')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`h2get: warning: localhost:${peer.port}: certificate verification failed: self-signed certificate (-y hides this warning)\n`);
    const y = await runH2Get(['-ny', url('/style.css')]);
    expect(y.code).toBe(0);
    expect(y.stderr).toBe('');
  });

  it('bodies are byte-exact (0 B, 1 MiB, 64 MiB)', async () => {
    for (const [path, body] of [
      ['/size-0.bin', pattern(0)],
      [`/size-${1 << 20}.bin`, pattern(1 << 20)],
      ['/big.bin', big],
    ] as const) {
      const r = await runH2Get(['-y', url(path)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.length).toBe(body.length);
      expect(sha(r.stdout)).toBe(sha(body));
    }
  });

  it('-r writes a HAR 1.2 file that the HAR 1.2 schema accepts, with the push and the assets', async () => {
    const har = join(dir, 'nghttpd.har');
    const r = await runH2Get(['-ny', '-a', '-r', har, url('/index.html')]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(har, 'utf8')) as {
      log: {
        version: string;
        creator: { name: string };
        entries: Array<
          Record<string, unknown> & {
            request: { url: string };
            response: { status: number; bodySize: number; content: { size: number } };
            timings: Record<string, number>;
            time: number;
            comment?: string;
          }
        >;
      };
    };
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    const validate = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'test/cases/har-1.2.schema.json'), 'utf8')) as object);
    expect(validate(doc), ajv.errorsText(validate.errors)).toBe(true);
    expect(doc.log.version).toBe('1.2');
    expect(doc.log.creator.name).toBe('h2get');
    const urls = doc.log.entries.map((e) => new URL(e.request.url).pathname).sort();
    expect(urls).toEqual(['/a.png', '/app.js', '/index.html', '/style.css']);
    const page = doc.log.entries.find((e) => e.request.url.endsWith('/index.html'))!;
    // The first request carries the connection's set-up: TLS (ssl, within connect).
    expect(page.timings['connect']).toBeGreaterThan(0);
    expect(page.timings['ssl']).toBeGreaterThan(0);
    expect(page.timings['ssl']).toBeLessThanOrEqual(page.timings['connect']!);
    expect(page.response.bodySize).toBe(readFileSync(join(htdocs, 'index.html')).length);
    const pushed = doc.log.entries.find((e) => e.request.url.endsWith('/style.css'))!;
    expect(pushed.comment).toMatch(/^pushed on stream 2$/);
    const asset = doc.log.entries.find((e) => e.request.url.endsWith('/a.png'))!;
    expect(asset.timings['connect']).toBe(-1);
    expect(asset.response.content.size).toBe(300);
    for (const e of doc.log.entries) {
      const t = e.timings;
      const sum = ['blocked', 'dns', 'connect', 'send', 'wait', 'receive']
        .map((k) => t[k]!)
        .filter((n) => n > 0)
        .reduce((a, b) => a + b, 0);
      expect(e.time).toBeCloseTo(sum, 2);
    }
  });
});

describe('against h2serve (h2c: --echo-upload, the HTTP/1.1 Upgrade)', () => {
  let server: H2ServeProcess;
  beforeAll(async () => {
    server = await startH2Serve(['--no-tls', '--echo-upload', '-p', '/index.html=/style.css', '-d', htdocs, '0']);
  });
  afterAll(async () => {
    await server?.stop();
  });
  const url = (p: string) => `http://127.0.0.1:${server.port}${p}`;

  it('-nv: same frames received as nghttp', async () => {
    const { ours, theirs } = await sideBySide(['-nv', url('/index.html'), url('/size-16385.bin')]);
    expectSameReceived(ours, theirs);
  });

  it('-u: the HTTP/1.1 Upgrade as nghttp shows it; then the same frames received', async () => {
    const { ours, theirs } = await sideBySide(['-nvu', url('/style.css')]);
    for (const log of [ours, theirs]) {
      expect(log).toMatch(/\] HTTP Upgrade request\r?\nGET \/style\.css HTTP\/1\.1\r\n/);
      expect(log).toMatch(/\] HTTP Upgrade response\r?\nHTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(log).toMatch(/\] HTTP Upgrade success\n/);
    }
    expectSameReceived(ours, theirs);
    // The upgraded request is stream 1; its priority follows as a PRIORITY frame, as nghttp sends it.
    expect(ours).toMatch(/send PRIORITY frame <length=5, flags=0x00, stream_id=1>\n {10}\(dep_stream_id=11, weight=16, exclusive=0\)/);
  });

  it('-u with the body: byte-exact', async () => {
    const r = await runH2Get(['-u', url('/size-65536.bin')]);
    expect(r.code, r.stderr).toBe(0);
    expect(sha(r.stdout)).toBe(sha(pattern(65536)));
  });

  it('-d: a 1 MiB upload is echoed back intact (and with -u, after an OPTIONS * upgrade)', async () => {
    const data = createHash('sha512').update('seed').digest();
    const upload = Buffer.concat(Array.from({ length: (1 << 20) / data.length }, (_, i) => createHash('sha512').update(data).update(String(i)).digest()));
    const file = join(dir, 'upload.bin');
    writeFileSync(file, upload);
    for (const extra of [[], ['-u']]) {
      const r = await runH2Get([...extra, '-d', file, url('/echo')]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.length).toBe(1 << 20);
      expect(r.stdout.equals(upload)).toBe(true);
    }
    // From standard input.
    const s = await runH2Get(['-d', '-', url('/echo')], { input: upload });
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout.equals(upload)).toBe(true);
  });

  it('-d with -H, --trailer and --no-content-length: the request fields as nghttp sends them', async () => {
    const file = join(dir, 'small.txt');
    writeFileSync(file, 'abcd');
    const args = ['-nv', '-H', ':method: PUT', '-H', 'x-foo: bar', '-H', 'Accept: text/plain', '--trailer', 'x-t: 1', '-d', file, url('/echo')];
    const { ours, theirs } = await sideBySide(args);
    const fields = (log: string) => {
      const m = /send HEADERS frame[^\n]*\n(?: {10}[^\n]*\n)+/.exec(log)![0];
      return m.split('\n').filter((l) => /^ {10}[:a-z]/.test(l) && !l.includes('user-agent'));
    };
    expect(fields(ours)).toEqual(fields(theirs));
    expect(fields(ours)).toContain('          trailer: x-t');
    expect(ours).toMatch(/send HEADERS frame <length=\d+, flags=0x05, stream_id=13>\n {10}; END_STREAM \| END_HEADERS\n {10}\(padlen=0\)\n {10}x-t: 1/);
    const nocl = await runH2Get(['-nv', '--no-content-length', '-d', file, url('/echo')]);
    expect(nocl.stdout.toString()).not.toContain('content-length: 4\n          accept');
    expect(sentPaths(nocl.stdout.toString())).toEqual(['/echo']);
  });

  it('--json: one JSON object per line, the same frames as the text log', async () => {
    const text = await runH2Get(['-nv', url('/index.html')]);
    const json = await runH2Get(['--json', url('/index.html')]);
    expect(json.code, json.stderr).toBe(0);
    const lines = json.stdout
      .toString()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { time: number; event: string; direction?: string; type?: string; stream?: number; flags?: string[]; headers?: string[][] });
    expect(lines[0]).toMatchObject({ event: 'connected', tls: false });
    for (const l of lines) expect(typeof l.time).toBe('number');
    const frames = lines.filter((l) => l.event === 'frame');
    const fromText = [...text.stdout.toString().matchAll(/\] (send|recv) (\w+) frame <length=\d+, flags=0x[0-9a-f]{2}, stream_id=(\d+)>/g)].map(
      (m) => `${m[1]} ${m[2]} ${m[3]}`,
    );
    expect(frames.map((f) => `${f.direction} ${f.type} ${f.stream}`)).toEqual(fromText);
    const response = frames.find((f) => f.direction === 'recv' && f.type === 'HEADERS' && f.stream === 13)!;
    expect(response.flags).toEqual(['END_HEADERS']);
    expect(response.headers![0]).toEqual([':status', '200']);
    // No body on standard output: it is the JSON stream.
    expect(json.stdout.toString()).not.toContain('<html>');
  });

  it('-O saves each body under its remote name, index.html for a trailing /', async () => {
    const cwd = tempDir('h2get-O-');
    const r = await runH2Get(['-O', '-a', url('/index.html'), url('/size-1.bin'), url('/')], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBe(0);
    expect(readdirSync(cwd).sort()).toEqual(['a.png', 'app.js', 'index.html', 'index.html.1', 'size-1.bin', 'style.css']);
    expect(readFileSync(join(cwd, 'a.png')).equals(pattern(300))).toBe(true);
    expect(readFileSync(join(cwd, 'style.css'), 'utf8')).toBe('body { color: black }\n');
  });
});

describe("nghttp's options, side by side (h2serve, h2c)", () => {
  let server: H2ServeProcess;
  beforeAll(async () => {
    server = await startH2Serve(['--no-tls', '--echo-upload', '-e', '-p', '/index.html=/style.css', '-d', htdocs, '0']);
  });
  afterAll(async () => {
    await server?.stop();
  });
  const url = (p: string) => `http://127.0.0.1:${server.port}${p}`;
  /**
   * The frames sent before the first request (SETTINGS ACK aside), each with its detail lines, times and
   * lengths removed; a connection WINDOW_UPDATE apart (we send it with SETTINGS, nghttp after its PRIORITY frames).
   */
  const preface = (log: string) => {
    const frames: string[] = [];
    for (const block of log.slice(0, log.search(/^\[[ \d.]+\] send HEADERS /m)).split(/\n(?=\[)/)) {
      const m = /^\[[ \d.]+\] (send \w+ frame) <length=\d+, (.*)$/s.exec(block.trimEnd());
      if (m && !m[2]!.includes('; ACK')) frames.push(`${m[1]} ${m[2]}`);
    }
    const wu = frames.filter((f) => f.startsWith('send WINDOW_UPDATE'));
    return { ordered: frames.filter((f) => !wu.includes(f)), windowUpdates: wu };
  };

  it.each([
    [['-w', '20', '-W', '24', '-c', '1000', '-c', '8192', '--no-push', '--max-concurrent-streams', '7']],
    [['-c', '8192', '-c', '1000']],
    [['--no-rfc7540-pri']],
    [['--no-dep']],
  ])('%j: the same SETTINGS, WINDOW_UPDATE and PRIORITY frames as nghttp, and the same frames received', async (args) => {
    const { ours, theirs } = await sideBySide(['-nv', ...args, url('/style.css')]);
    const mine = preface(ours);
    expect(mine.ordered[0]).toMatch(/^send SETTINGS frame flags=0x00/);
    expect(mine).toEqual(preface(theirs));
    expectSameReceived(ours, theirs);
  });

  it('--no-push: no PUSH_PROMISE; the pushed path is then asked for by -a', async () => {
    const r = await runH2Get(['-nv', '-a', '--no-push', url('/index.html')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).not.toContain('PUSH_PROMISE');
    expect(sentPaths(r.stdout.toString())).toEqual(['/index.html', '/style.css', '/app.js', '/a.png']);
  });

  it('a gzip-coded response is written decoded, as nghttp writes it; -s counts the octets received', async () => {
    const theirs = await runNghttp([url('/missing')]);
    const ours = await runH2Get([url('/missing')]);
    expect(ours.code).toBe(0);
    expect(ours.stdout.toString()).toContain('404 Not Found');
    expect(ours.stdout.equals(theirs.stdout)).toBe(true);
    const stat = await runH2Get(['-ns', url('/missing')]);
    const size = Number(/^ 13 .* 404 +(\d+) \/missing$/m.exec(stat.stdout.toString())?.[1]);
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThan(ours.stdout.length);
  });

  it('--continuation: HEADERS then CONTINUATION frames, and the server answers as it answers nghttp', async () => {
    const { ours, theirs } = await sideBySide(['-nv', '--continuation', url('/style.css')]);
    expect(ours).toMatch(/send HEADERS frame <length=\d+, flags=0x21, stream_id=13>/);
    expect(ours).toMatch(/send CONTINUATION frame <length=\d+, flags=0x04, stream_id=13>/);
    expect(ours.match(/continuation-test-\d: -{4096}/g)).toHaveLength(6);
    expectSameReceived(ours, theirs);
  });

  it('-b: padded frames out; the same frames in', async () => {
    const file = join(dir, 'pad.txt');
    writeFileSync(file, 'padded');
    const { ours, theirs } = await sideBySide(['-nv', '-b', '32', '-d', file, url('/echo')]);
    expect(ours).toMatch(/send HEADERS frame <length=\d+, flags=0x2c, stream_id=13>\n {10}; END_HEADERS \| PADDED \| PRIORITY\n {10}\(padlen=32,/);
    expect(ours).toMatch(/send DATA frame <length=38, flags=0x09, stream_id=13>\n {10}; END_STREAM \| PADDED\n {10}\(padlen=32\)/);
    expectSameReceived(ours, theirs);
  });

  it('--expect-continue: expect: 100-continue, the body held until no 100 came for 1 s, then echoed', async () => {
    const file = join(dir, 'expect.txt');
    writeFileSync(file, 'later');
    const r = await runH2Get(['-v', '--expect-continue', '-d', file, url('/echo')]);
    expect(r.code, r.stderr).toBe(0);
    const log = r.stdout.toString();
    expect(log).toContain('          expect: 100-continue\n');
    const headersAt = Number(/\[ *([\d.]+)\] send HEADERS frame/.exec(log)![1]);
    const dataAt = Number(/\[ *([\d.]+)\] send DATA frame/.exec(log)![1]);
    expect(dataAt - headersAt).toBeGreaterThanOrEqual(0.95);
    expect(log).toMatch(/\nlater\[|\nlater$/m);
  });

  it("--color: nghttp2's colours, as h2serve draws them", async () => {
    const r = await runH2Get(['-nv', '--color', url('/style.css')]);
    expect(r.stdout.toString()).toMatch(/recv \x1b\[1m\x1b\[36mHEADERS\x1b\[39m\x1b\[22m frame/);
    expect(r.stdout.toString()).toMatch(/send \x1b\[1m\x1b\[35mSETTINGS\x1b\[39m\x1b\[22m frame/);
    const plain = await runH2Get(['-nv', url('/style.css')]);
    expect(plain.stdout.toString()).not.toContain('\x1b[');
  });
});

describe('against nginx (TLS, http2)', () => {
  let peer: Peer;
  beforeAll(async () => {
    peer = await startNginx(htdocs, tls);
  });
  afterAll(async () => {
    await peer?.stop();
  });
  const url = (p: string) => `https://localhost:${peer.port}${p}`;

  it('-nv: same frames received as nghttp', async () => {
    const { ours, theirs } = await sideBySide(['-nvy', url('/index.html'), url('/size-16384.bin'), url('/missing')]);
    expectSameReceived(ours, theirs);
  });

  it('-a: the same assets as nghttp -a', async () => {
    const { ours, theirs } = await sideBySide(['-nvy', '-a', url('/page.html')]);
    expect(sentPaths(ours)).toEqual(sentPaths(theirs));
    expect(sentPaths(ours).length).toBe(11);
  });

  it('bodies are byte-exact (0 B, 16 KiB + 1, 64 MiB)', async () => {
    for (const [path, body] of [
      ['/size-0.bin', pattern(0)],
      ['/size-16385.bin', pattern(16385)],
      ['/big.bin', big],
    ] as const) {
      const r = await runH2Get(['-y', url(path)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.length).toBe(body.length);
      expect(sha(r.stdout)).toBe(sha(body));
    }
  });
});

describe('errors: one line on stderr, exit 1 (the request) or 2 (the command line)', () => {
  const noTrace = (s: string) => expect(s).not.toMatch(/\n\s+at |Error:/);

  it.each([
    [['not-a-uri'], /^h2get: 'not-a-uri' is not a URI \(expected http:\/\/HOST\[:PORT\]\/PATH or https:\/\/\.\.\.\)\n$/],
    [['ftp://localhost/x'], /^h2get: ftp:\/\/localhost\/x: unsupported scheme ftp \(http or https\)\n$/],
    [['http://127.0.0.1:1/'], /^h2get: http:\/\/127\.0\.0\.1:1\/: cannot connect to 127\.0\.0\.1:1: connection refused\n$/],
    [['http://nonexistent.invalid/'], /^h2get: http:\/\/nonexistent\.invalid\/: cannot resolve nonexistent\.invalid: no such host\n$/],
  ])('%j: exit 1', async (args, message) => {
    const r = await runH2Get(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout.length).toBe(0);
    noTrace(r.stderr);
  });

  it.each([
    [['-w', '99', 'http://x/'], /-w.*99 is out of range \(0 to 30\)/],
    [['-W', '15', 'http://x/'], /cannot start below 65535/],
    [['-m', '0', 'http://x/'], /-m.*0 is out of range/],
    [['-t', '5x', 'http://x/'], /'5x' is not a duration/],
    [['-H', 'no-colon', 'http://x/'], /^h2get: -H 'no-colon': expected 'name: value'$/m],
    [['-H', 'bad name: 1', 'http://x/'], /-H 'bad name: 1': the name is not a token/],
    [['-H', ':method: BAD METHOD', 'http://x/'], /-H ':method: BAD METHOD': a method is a token/],
    [['--trailer', 'x: 1', 'http://x/'], /--trailer needs -d/],
    [['-d', '/nonexistent/file', 'http://x/'], /^h2get: -d: cannot read \/nonexistent\/file: no such file$/m],
    [['-p', '0', 'http://x/'], /-p.*out of range \(1 to 256\)/],
    [['-c', 'lots', 'http://x/'], /'lots' is not a size/],
    [['--cert', '/x.pem', 'http://x/'], /--cert and --key go together/],
    [['--no-such-option', 'http://x/'], /unknown option '--no-such-option'/],
    [[], /missing required argument 'URI'/],
  ])('%j: exit 2', async (args, message) => {
    const r = await runH2Get(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\nh2get: try 'h2get --help'\n$/);
    noTrace(r.stderr);
  });

  it('a bad URI among good ones: the good ones are still fetched, exit 1', async () => {
    const server = await startH2Serve(['--no-tls', '-d', htdocs, '0']);
    try {
      const r = await runH2Get(['not-a-uri', `http://127.0.0.1:${server.port}/style.css`]);
      expect(r.code).toBe(1);
      expect(r.stdout.toString()).toBe('body { color: black }\n');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });

  it('a stream the server resets: exit 1, one line naming the URI and the error; the other streams are written', async () => {
    const ts = await startTestServer({
      handler(stream) {
        if (stream.path === '/refuse') stream.reset(ErrorCode.REFUSED_STREAM);
        else stream.respond(200, {}, 'fine');
      },
    });
    try {
      const base = `http://127.0.0.1:${ts.port}`;
      const r = await runH2Get([`${base}/refuse`, `${base}/ok`]);
      expect(r.code).toBe(1);
      expect(r.stdout.toString()).toBe('fine');
      expect(r.stderr).toBe(`h2get: ${base}/refuse: stream 13 was reset by the server with REFUSED_STREAM (not processed: it may be retried)\n`);
    } finally {
      await ts.close();
    }
  });

  it('-t: a request that receives nothing in time fails with exit 1', async () => {
    const ts = await startTestServer({
      handler(stream) {
        if (stream.path !== '/hold') stream.respond(200, {}, 'fine');
      },
    });
    try {
      const base = `http://127.0.0.1:${ts.port}`;
      const r = await runH2Get(['-t', '300ms', `${base}/hold`, `${base}/ok`]);
      expect(r.code).toBe(1);
      expect(r.stdout.toString()).toBe('fine');
      expect(r.stderr).toMatch(/^h2get: http:\/\/127\.0\.0\.1:\d+\/hold: no response on stream 13 for 300 ms\n$/);
    } finally {
      await ts.close();
    }
  });

  it('--help and --version exit 0', async () => {
    const h = await runH2Get(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout.toString()).toContain('Usage: h2get [OPTIONS] <URI>...');
    const v = await runH2Get(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.toString()).toMatch(/^h2get \(h2kit\) \d+\.\d+\.\d+\n$/);
  });
});

describe('the progress line', () => {
  it('shows on a terminal for a large download with -n, never when stderr or stdout is not one', async () => {
    const script = requireBin('script');
    const server = await startH2Serve(['--no-tls', '-d', htdocs, '0']);
    try {
      const argv = (await import('../helpers/h2get.js')).h2getArgv(['-n', `http://127.0.0.1:${server.port}/big.bin`]);
      const cmd = argv.map((a) => `'${a}'`).join(' ');
      const tty = await exec(script, ['-qefc', cmd, '/dev/null'], { env: { H2KIT_PROGRESS_AFTER_MS: '0', NO_COLOR: '1' } });
      expect(tty.code, tty.stderr).toBe(0);
      expect(tty.stdout.toString()).toMatch(/\rh2get: \d+\.\d MB of 67\.1 MB \(\d+%\), \d+\.\d MB\/s\x1b\[K/);
      const piped = await runH2Get(['-n', `http://127.0.0.1:${server.port}/big.bin`], { env: { H2KIT_PROGRESS_AFTER_MS: '0' } });
      expect(piped.code).toBe(0);
      expect(piped.stderr).toBe('');
    } finally {
      await server.stop();
    }
  });
});
