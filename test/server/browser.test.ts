/**
 * A real browser against h2serve: headless Chromium (Debian's `chromium`)
 * loads a page with a stylesheet, a script and a PNG image from
 * `h2serve --self-signed` over TLS. The page's script checks, in the
 * browser, that the navigation and every resource came over h2
 * (`nextHopProtocol`), that the stylesheet applied and the image decoded,
 * and writes its findings as JSON into <pre id="result">; Chromium dumps the
 * DOM once the page has loaded and the test reads them back. h2serve's frame
 * log (-v) shows the same requests arriving on its side.
 *
 * Needs /usr/bin/chromium (or CHROMIUM=/path): `.ci/run` installs it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/** Chromium's path: $CHROMIUM, `chromium` on PATH, or /usr/bin/chromium; null when there is none. */
function findChromium(): string | null {
  const env = process.env['CHROMIUM'];
  if (env) return existsSync(env) ? env : null;
  const onPath = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) return onPath.stdout.trim();
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null;
}

// ---- a PNG made here (RFC 2083): 16 x 16, truecolour with alpha, one colour ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function png(width: number, height: number, rgba: [number, number, number, number]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  // compression, filter and interlace methods: 0
  const row = Buffer.alloc(1 + width * 4); // filter type 0, then the pixels
  for (let x = 0; x < width; x++) row.set(rgba, 1 + x * 4);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- the page ----

const INDEX = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>h2serve in Chromium</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/style.css">
</head>
<body>
<h1 id="title">h2serve</h1>
<img id="pixel" src="/pixel.png" alt="a 16 by 16 square">
<pre id="result">pending</pre>
<script src="/app.js"></script>
</body>
</html>
`;

const STYLE = `#title { color: rgb(1, 2, 3); }
body { margin: 7px; }
`;

// Runs when everything has loaded; writes what the browser saw.
const APP = `(function () {
  function report() {
    var nav = performance.getEntriesByType('navigation')[0];
    var resources = performance.getEntriesByType('resource').map(function (e) {
      return { path: new URL(e.name).pathname, protocol: e.nextHopProtocol };
    });
    var img = document.getElementById('pixel');
    var result = {
      navigation: nav ? nav.nextHopProtocol : null,
      resources: resources,
      titleColor: getComputedStyle(document.getElementById('title')).color,
      bodyMargin: getComputedStyle(document.body).marginTop,
      image: { complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight },
      script: true
    };
    document.getElementById('result').textContent = JSON.stringify(result);
  }
  if (document.readyState === 'complete') report();
  else window.addEventListener('load', report);
})();
`;

interface Findings {
  navigation: string | null;
  resources: Array<{ path: string; protocol: string }>;
  titleColor: string;
  bodyMargin: string;
  image: { complete: boolean; naturalWidth: number; naturalHeight: number };
  script: boolean;
}

/** Runs a command to its end; resolves with its exit code and output. */
function runToEnd(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

const chromium = findChromium();
let dir: string;
let server: ChildProcess | undefined;
let port = 0;
let serverLog = '';

beforeAll(async () => {
  if (chromium === null) return;
  dir = mkdtempSync(join(tmpdir(), 'h2kit-browser-'));
  const htdocs = join(dir, 'htdocs');
  spawnSync('mkdir', [htdocs]);
  writeFileSync(join(htdocs, 'index.html'), INDEX);
  writeFileSync(join(htdocs, 'style.css'), STYLE);
  writeFileSync(join(htdocs, 'app.js'), APP);
  writeFileSync(join(htdocs, 'pixel.png'), png(16, 16, [0x20, 0x80, 0xe0, 0xff]));
  const h2serve = spawn(process.execPath, [join(ROOT, 'bin', 'h2serve.js'), '--self-signed', '-v', '-a', '127.0.0.1', '-d', htdocs, '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = h2serve;
  h2serve.stdout!.on('data', (b: Buffer) => (serverLog += b.toString('utf8')));
  port = await new Promise<number>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`h2serve did not start: ${err}`)), 15_000);
    h2serve.stderr!.on('data', (b: Buffer) => {
      err += b.toString('utf8');
      const m = /listening on https:\/\/127\.0\.0\.1:(\d+)\//.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    h2serve.on('exit', (code) => reject(new Error(`h2serve exited with ${code}: ${err}`)));
  });
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('h2serve in headless Chromium', () => {
  it('renders a page whose navigation, stylesheet, script and image all came over h2', async () => {
    if (chromium === null) {
      throw new Error(
        'Chromium is not installed (looked for $CHROMIUM, chromium on PATH, /usr/bin/chromium): install it with `apt-get install chromium` (.ci/run does)',
      );
    }
    const profile = mkdtempSync(join(dir, 'profile-'));
    const screenshot = join(dir, 'page.png');
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--ignore-certificate-errors',
      `--user-data-dir=${profile}`,
      '--window-size=400,300',
      // Virtual time runs the page (its load event and script) before the DOM is dumped.
      '--virtual-time-budget=10000',
      '--dump-dom',
      `--screenshot=${screenshot}`,
      `https://127.0.0.1:${port}/`,
    ];
    const r = await runToEnd(chromium, args, 45_000);
    const m = /<pre id="result">([^<]*)<\/pre>/.exec(r.stdout);
    expect(
      m,
      `no <pre id="result"> in Chromium's DOM dump (exit ${r.code}); stdout:\n${r.stdout.slice(0, 2000)}\nstderr:\n${r.stderr.slice(-2000)}`,
    ).not.toBeNull();
    const text = m![1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    expect(text, 'the page script did not run (its result is still "pending")').not.toBe('pending');
    const found = JSON.parse(text) as Findings;

    // The page itself and each of its subresources, over HTTP/2.
    expect(found.navigation).toBe('h2');
    const byPath = new Map(found.resources.map((e) => [e.path, e.protocol]));
    for (const path of ['/style.css', '/app.js', '/pixel.png']) expect(byPath.get(path), `protocol of ${path}`).toBe('h2');
    expect(found.resources.every((e) => e.protocol === 'h2')).toBe(true);
    // The stylesheet applied, the script ran, the image decoded.
    expect(found.titleColor).toBe('rgb(1, 2, 3)');
    expect(found.bodyMargin).toBe('7px');
    expect(found.script).toBe(true);
    expect(found.image).toEqual({ complete: true, naturalWidth: 16, naturalHeight: 16 });
    // The rest of the rendered DOM is the page's.
    expect(r.stdout).toContain('<h1 id="title">h2serve</h1>');

    // A screenshot of the rendered page: a PNG of the window's size.
    if (existsSync(screenshot)) {
      const shot = readFileSync(screenshot);
      expect(shot.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect([shot.readUInt32BE(16), shot.readUInt32BE(20)]).toEqual([400, 300]);
    }

    // h2serve's side: the frame log shows each request arriving as HEADERS (no HTTP/1.1 anywhere).
    for (const path of ['/', '/style.css', '/app.js', '/pixel.png']) expect(serverLog).toContain(`:path: ${path}\n`);
    expect(serverLog).toMatch(/recv HEADERS frame/);
  });
});
