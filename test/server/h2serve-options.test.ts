/**
 * Every h2serve option that changes what goes over the wire, seen on the
 * wire: the raw client records each frame h2serve sends (h2c), so the tests
 * look at SETTINGS values, flags, padding, PUSH_PROMISEs, header block
 * representations and frame order rather than at a client's interpretation.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, Flag, FrameType, SettingId } from '../../src/h2/index.js';
import { Inflater, type TraceItem } from '../../src/hpack/index.js';
import { RawClient, type RecvFrame } from '../helpers/h2-raw-client.js';
import { exec, type H2ServeProcess, h2serveArgv, killAll, requireBin, startH2Serve } from '../helpers/h2serve.js';

let dir = '';
const STYLE = 'body { color: red }\n';
const APP = randomBytes(3000);
const INDEX = '<h1>options</h1>\n';
const MIB = randomBytes(1 << 20);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'h2serve-options-'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'style.css'), STYLE);
  writeFileSync(join(dir, 'app.js'), APP);
  writeFileSync(join(dir, 'page.html'), '<p>page</p>\n');
  writeFileSync(join(dir, 'data.h2kt'), 'custom type\n');
  writeFileSync(join(dir, 'big.bin'), MIB);
  mkdirSync(join(dir, 'sub'));
});

const clients: RawClient[] = [];
const servers: H2ServeProcess[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  // Every server must stop cleanly on SIGTERM.
  const list = servers.splice(0);
  await Promise.all(list.map((s) => s.stop()));
});

afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** h2serve --no-tls -d <dir> with `options`, on a free port. */
async function serve(options: string[], env?: NodeJS.ProcessEnv): Promise<H2ServeProcess> {
  const s = await startH2Serve(['--no-tls', '-d', dir, ...options, '0'], env ? { env } : {});
  servers.push(s);
  return s;
}

async function open(s: H2ServeProcess, settings: Array<[number, number]> = []): Promise<RawClient> {
  const c = await RawClient.open(s.port, settings);
  clients.push(c);
  return c;
}

/** A client whose windows let a whole 1 MiB response through without WINDOW_UPDATEs. */
async function openWide(s: H2ServeProcess): Promise<RawClient> {
  const c = await open(s, [[SettingId.INITIAL_WINDOW_SIZE, 0x7fffffff]]);
  c.send(c.windowUpdate(0, 0x7fffffff - 65535));
  return c;
}

const serverSettings = (c: RawClient): Map<number, number> => {
  const f = c.frames.find((x) => x.type === FrameType.SETTINGS && (x.flags & Flag.ACK) === 0)!;
  const m = new Map<number, number>();
  for (let o = 0; o + 6 <= f.payload.length; o += 6) m.set((f.payload[o]! << 8) | f.payload[o + 1]!, Buffer.from(f.payload).readUInt32BE(o + 2));
  return m;
};

const framesOn = (c: RawClient, streamId: number, type?: number): RecvFrame[] =>
  c.frames.filter((f) => f.streamId === streamId && (type === undefined || f.type === type));
const field = (fields: Array<[string, string]> | undefined, name: string): string | undefined => fields?.find(([n]) => n === name)?.[1];

describe('-v and --no-tls', () => {
  it('-v prints frame lines on stdout; without it stdout stays empty', async () => {
    const quiet = await serve([]);
    const loud = await serve(['-v']);
    for (const s of [quiet, loud]) {
      const c = await open(s);
      c.send(c.request(1, '/index.html'));
      expect((await c.response(1)).body.toString()).toBe(INDEX);
      c.close();
    }
    await loud.waitForStdout(/\[id=1\] \[ *\d+\.\d{3}\] stream_id=1 closed/);
    expect(loud.stdout).toMatch(/^\[id=1\] \[ *\d+\.\d{3}\] recv HEADERS frame <length=\d+, flags=0x05, stream_id=1>$/m);
    expect(loud.stdout).toMatch(/^\[id=1\] \[ *\d+\.\d{3}\] send DATA frame <length=17, flags=0x01, stream_id=1>$/m);
    expect(loud.stdout).toMatch(/^\[id=1\] \[ *\d+\.\d{3}\] recv \(stream_id=1\) :path: \/index\.html$/m);
    expect(quiet.stdout).toBe('');
  });

  it('--no-tls: h2c with prior knowledge; without it the same bytes get no HTTP/2', async () => {
    const s = await serve([]);
    expect(s.stderr).toMatch(/listening on http:\/\/\S+ \(h2c: prior knowledge or Upgrade\)/);
    const c = await open(s);
    expect(serverSettings(c).get(SettingId.MAX_CONCURRENT_STREAMS)).toBe(100);
    const t = await startH2Serve(['--self-signed', '-d', dir, '0']);
    servers.push(t);
    expect(t.stderr).toMatch(/listening on https:\/\//);
    const plain = await RawClient.connect(t.port);
    clients.push(plain);
    await plain.waitClosed(5000);
    expect(plain.frames).toEqual([]);
  });
});

describe('SETTINGS and windows', () => {
  it('-c 8192: SETTINGS_HEADER_TABLE_SIZE 8192 in our SETTINGS (absent by default)', async () => {
    const def = await open(await serve([]));
    expect(serverSettings(def).has(SettingId.HEADER_TABLE_SIZE)).toBe(false);
    const c = await open(await serve(['-c', '8K']));
    expect(serverSettings(c).get(SettingId.HEADER_TABLE_SIZE)).toBe(8192);
  });

  it('-m 1: SETTINGS_MAX_CONCURRENT_STREAMS 1, and a second open stream gets REFUSED_STREAM', async () => {
    const c = await open(await serve(['-m', '1']));
    expect(serverSettings(c).get(SettingId.MAX_CONCURRENT_STREAMS)).toBe(1);
    c.send(c.request(1, '/index.html', { endStream: false })); // stays open: the request has not ended
    c.send(c.request(3, '/index.html'));
    expect(await c.rst(3)).toBe(ErrorCode.REFUSED_STREAM);
    c.send(c.data(1, '', true));
    const r = await c.response(1);
    expect(r.status).toBe('200');
    expect(r.body.toString()).toBe(INDEX);
    c.send(c.request(5, '/style.css'));
    expect((await c.response(5)).body.toString()).toBe(STYLE);
  });

  it('-w 20: SETTINGS_INITIAL_WINDOW_SIZE 2^20-1 (absent with the default -w 16)', async () => {
    const def = await open(await serve([]));
    expect(serverSettings(def).has(SettingId.INITIAL_WINDOW_SIZE)).toBe(false);
    const c = await open(await serve(['-w', '20']));
    expect(serverSettings(c).get(SettingId.INITIAL_WINDOW_SIZE)).toBe(2 ** 20 - 1);
  });

  it('-W 24: WINDOW_UPDATE on stream 0 that brings the connection window to 2^24-1 (2^20-1 by default)', async () => {
    // No -W: the default, 20, as --help says.
    for (const [bits, s] of [
      [24, await serve(['-W', '24'])],
      [20, await serve(['-W', '20'])],
      [20, await serve([])],
    ] as const) {
      const c = await open(s);
      const wu = c.frames.filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0);
      expect(wu.length, `-W ${bits}`).toBe(1);
      expect(65535 + wu[0]!.increment!, `-W ${bits}`).toBe(2 ** bits - 1);
    }
    // -W 16 is the initial window itself: nothing to raise.
    const c = await open(await serve(['-W', '16']));
    expect(await c.ping()).toBe(true);
    expect(c.frames.filter((f) => f.type === FrameType.WINDOW_UPDATE)).toEqual([]);
  });
});

describe('header compression', () => {
  /** The representations of each response header block, decoded in the order they arrived. */
  const traces = (c: RawClient): TraceItem[][] => {
    const inflater = new Inflater();
    return c.frames
      .filter((f) => f.type === FrameType.HEADERS)
      .map((f) => {
        expect(f.flags & (Flag.PADDED | Flag.PRIORITY)).toBe(0);
        expect(f.flags & Flag.END_HEADERS).toBe(Flag.END_HEADERS);
        return inflater.inflateTrace(f.payload).trace;
      });
  };

  it('--encoder-header-table-size 0: the first block starts with a size update to 0 and nothing is indexed', async () => {
    const c = await open(await serve(['--encoder-header-table-size', '0']));
    c.send(c.request(1, '/index.html'), c.request(3, '/style.css'));
    await c.response(1);
    await c.response(3);
    const [first, second] = traces(c);
    expect(first![0]).toMatchObject({ kind: 'size-update', size: 0, offset: 0 });
    expect(c.frames.find((f) => f.type === FrameType.HEADERS)!.payload[0]).toBe(0x20);
    for (const t of [first!, second!]) {
      expect(t.filter((x) => x.kind === 'literal-incremental')).toEqual([]);
      expect(t.filter((x) => x.kind === 'indexed' && x.index! > 61)).toEqual([]);
    }
    expect(second!.some((x) => x.kind === 'size-update')).toBe(false);
    expect(c.inflater.getTable().entries).toEqual([]);
    expect(c.inflater.maxTableSize).toBe(0);
  });

  it('by default the response fields are indexed (the contrast)', async () => {
    const c = await open(await serve([]));
    c.send(c.request(1, '/index.html'));
    await c.response(1);
    const [first] = traces(c);
    expect(first!.some((x) => x.kind === 'size-update')).toBe(false);
    expect(first!.filter((x) => x.kind === 'literal-incremental').length).toBeGreaterThan(0);
    expect(c.inflater.getTable().entries.length).toBeGreaterThan(0);
  });
});

describe('--color', () => {
  const ESC = '\x1b[';
  async function logOf(options: string[], env?: NodeJS.ProcessEnv): Promise<string> {
    const s = await serve(['-v', ...options], env);
    const c = await open(s);
    c.send(c.request(1, '/index.html'));
    await c.response(1);
    await s.waitForStdout(/stream_id=1 closed/);
    return s.stdout;
  }

  it('--color: ANSI escapes in the -v output', async () => {
    const out = await logOf(['--color']);
    expect(out).toContain(ESC);
    expect(out).toMatch(/\x1b\[1m\x1b\[36mrecv\x1b\[39m\x1b\[22m \(stream_id=1\)/);
  });

  it('without --color (not a terminal), and with NO_COLOR=1: none', async () => {
    expect(await logOf([])).not.toContain(ESC);
    expect(await logOf([], { NO_COLOR: '1' })).not.toContain(ESC);
  });

  it('on a terminal: colour unless NO_COLOR is set', async () => {
    const script = requireBin('script');
    const runOnTty = async (env: NodeJS.ProcessEnv): Promise<string> => {
      // script(1) gives h2serve a pseudo-terminal; h2serve stops by itself after one request (the client below).
      const argv = h2serveArgv(['-v', '--no-tls', '-d', dir, '0']);
      const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
      const child = spawn(script, ['-qfec', quoted, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
      const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
      try {
        const deadline = Date.now() + 15_000;
        while (!/listening on http:\/\/\S+:(\d+)\//.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const port = Number(/listening on http:\/\/\S+:(\d+)\//.exec(out)?.[1]);
        expect(port, out).toBeGreaterThan(0);
        const c = await RawClient.open(port);
        c.send(c.request(1, '/index.html'));
        await c.response(1);
        c.close();
        while (!/stream_id=1 closed/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      } finally {
        // Ctrl-C on the terminal: SIGINT to h2serve.
        child.stdin.write('\x03');
        await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
        child.kill('SIGKILL');
      }
      return out;
    };
    const coloured = await runOnTty({ NO_COLOR: '' });
    expect(coloured).toMatch(/stream_id=1 closed/);
    expect(coloured).toContain(ESC);
    const plain = await runOnTty({ NO_COLOR: '1' });
    expect(plain).toMatch(/stream_id=1 closed/);
    expect(plain).not.toContain(ESC);
    const forcedOff = await runOnTty({ NO_COLOR: '', FORCE_COLOR: '0' });
    expect(forcedOff).toMatch(/stream_id=1 closed/);
    expect(forcedOff).not.toContain(ESC);
  });

  it('FORCE_COLOR=1 colours a pipe too; --color wins over NO_COLOR (the flag is the more specific wish)', async () => {
    expect(await logOf([], { FORCE_COLOR: '1' })).toContain(ESC);
    expect(await logOf(['--color'], { NO_COLOR: '1' })).toContain(ESC);
  });
});

describe('-p push', () => {
  it('PUSH_PROMISE for each push path before the response; pushed responses byte-exact', async () => {
    const c = await open(await serve(['-p', '/=/style.css,/app.js', '-p', '/page.html=/style.css']));
    c.send(c.request(1, '/'));
    const main = await c.response(1);
    expect(main.body.toString()).toBe(INDEX);
    const promises = framesOn(c, 1, FrameType.PUSH_PROMISE);
    expect(promises.map((p) => field(p.headers, ':path'))).toEqual(['/style.css', '/app.js']);
    expect(promises.map((p) => p.promisedStreamId)).toEqual([2, 4]);
    for (const p of promises) {
      expect(field(p.headers, ':method')).toBe('GET');
      expect(field(p.headers, ':scheme')).toBe('http');
      expect(field(p.headers, ':authority')).toBe('localhost');
    }
    const firstResponseHeaders = c.frames.indexOf(framesOn(c, 1, FrameType.HEADERS)[0]!);
    for (const p of promises) expect(c.frames.indexOf(p)).toBeLessThan(firstResponseHeaders);
    const style = await c.response(2);
    const app = await c.response(4);
    expect(style.status).toBe('200');
    expect(style.body.toString()).toBe(STYLE);
    expect(field(style.headers, 'content-type')).toMatch(/^text\/css/);
    expect(app.status).toBe('200');
    expect(app.body.equals(APP)).toBe(true);
    // Another configured path, and one without pushes.
    c.send(c.request(3, '/page.html'));
    await c.response(3);
    expect(framesOn(c, 3, FrameType.PUSH_PROMISE).map((p) => field(p.headers, ':path'))).toEqual(['/style.css']);
    c.send(c.request(5, '/style.css'));
    await c.response(5);
    expect(framesOn(c, 5, FrameType.PUSH_PROMISE)).toEqual([]);
  });

  it('no push when the client sends SETTINGS_ENABLE_PUSH=0', async () => {
    const c = await open(await serve(['-p', '/=/style.css,/app.js']), [[SettingId.ENABLE_PUSH, 0]]);
    c.send(c.request(1, '/'));
    const r = await c.response(1);
    expect(r.body.toString()).toBe(INDEX);
    expect(await c.ping()).toBe(true);
    expect(c.frames.filter((f) => f.type === FrameType.PUSH_PROMISE || (f.streamId % 2 === 0 && f.streamId > 0))).toEqual([]);
  });

  it('nghttp receives the pushed streams', async () => {
    const s = await serve(['-p', '/=/style.css,/app.js']);
    const r = await exec(requireBin('nghttp'), ['-nv', `${s.url}/`]);
    const out = r.stdout.toString();
    expect(r.code, out).toBe(0);
    expect(out).toMatch(/recv PUSH_PROMISE frame <length=\d+, flags=0x04, stream_id=13>\n\s+; END_HEADERS\n\s+\(padlen=0, promised_stream_id=2\)/);
    expect(out).toMatch(/recv DATA frame <length=20, flags=0x01, stream_id=2>/);
    expect(out).toMatch(/recv DATA frame <length=3000, flags=0x01, stream_id=4>/);
  });
});

describe('-b padding', () => {
  it('-b 10: HEADERS, DATA and PUSH_PROMISE frames are PADDED with 10 octets (Pad Length included)', async () => {
    const s = await serve(['-b', '10', '-v', '-p', '/index.html=/style.css']);
    const c = await open(s);
    c.send(c.request(1, '/index.html'));
    const r = await c.response(1);
    expect(r.body.toString()).toBe(INDEX);
    await c.response(2);
    const padded = c.frames.filter((f) => f.type === FrameType.DATA || f.type === FrameType.HEADERS || f.type === FrameType.PUSH_PROMISE);
    expect(padded.map((f) => f.type)).toEqual(expect.arrayContaining([FrameType.DATA, FrameType.HEADERS, FrameType.PUSH_PROMISE]));
    for (const f of padded) {
      expect(f.flags & Flag.PADDED, `${f.type}/${f.streamId}`).toBe(Flag.PADDED);
      expect(f.payload[0], 'Pad Length').toBe(9);
      expect(Buffer.from(f.payload.subarray(f.length - 9)).equals(Buffer.alloc(9)), 'padding octets are zero').toBe(true);
    }
    const data = framesOn(c, 1, FrameType.DATA)[0]!;
    expect(data.length).toBe(INDEX.length + 10);
    await s.waitForStdout(/stream_id=1 closed/);
    expect(s.stdout).toMatch(/send DATA frame <length=27, flags=0x09, stream_id=1>\n {10}; END_STREAM \| PADDED\n {10}\(padlen=10\)/);
    expect(s.stdout).toMatch(/send HEADERS frame <length=\d+, flags=0x0c, stream_id=1>\n {10}; END_HEADERS \| PADDED\n {10}\(padlen=10\)/);
  });

  it('without -b nothing is padded', async () => {
    const c = await open(await serve([]));
    c.send(c.request(1, '/index.html'));
    await c.response(1);
    expect(c.frames.filter((f) => f.flags & Flag.PADDED && (f.type === FrameType.DATA || f.type === FrameType.HEADERS))).toEqual([]);
  });
});

describe('responses', () => {
  it('-e: a 404 asked for with accept-encoding gzip is gzipped (and not without -e)', async () => {
    for (const [opts, gz] of [
      [['-e'], true],
      [[], false],
    ] as const) {
      const c = await open(await serve([...opts]));
      c.send(c.request(1, '/missing.html', { extra: [['accept-encoding', 'gzip, deflate']] }));
      const r = await c.response(1);
      expect(r.status).toBe('404');
      expect(field(r.headers, 'content-encoding'), `-e ${gz}`).toBe(gz ? 'gzip' : undefined);
      const html = gz ? gunzipSync(r.body).toString() : r.body.toString();
      expect(html).toMatch(/404/);
      expect(html).toMatch(/<html/i);
    }
  });

  it('--early-response: the response HEADERS arrive before the request END_STREAM', async () => {
    const c = await open(await serve(['--early-response']));
    c.send(c.request(1, '/index.html', { endStream: false }));
    const h = await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1);
    expect(field(h.headers, ':status')).toBe('200');
    const r = await c.response(1);
    expect(r.body.toString()).toBe(INDEX);
    c.send(c.data(1, '', true));
    expect(await c.ping()).toBe(true);
    // The complete response may be followed by RST_STREAM NO_ERROR (RFC 9113 §8.1), nothing worse.
    expect(c.frames.filter((f) => f.type === FrameType.GOAWAY || (f.type === FrameType.RST_STREAM && f.errorCode !== ErrorCode.NO_ERROR))).toEqual([]);
  });

  it('without --early-response the response waits for END_STREAM', async () => {
    const c = await open(await serve([]));
    c.send(c.request(1, '/index.html', { endStream: false }));
    await new Promise((r) => setTimeout(r, 200));
    expect(await c.ping()).toBe(true);
    expect(framesOn(c, 1)).toEqual([]);
    c.send(c.data(1, '', true));
    const r = await c.response(1);
    expect(r.body.toString()).toBe(INDEX);
  });

  it('--trailer: a trailer field announces them; they follow the body; no trailers without a body', async () => {
    const c = await open(await serve(['--trailer', 'foo: bar', '--trailer', 'X-Check: 42']));
    c.send(c.request(1, '/index.html'));
    const r = await c.response(1);
    expect(field(r.headers, 'trailer')).toBe('foo, x-check');
    expect(r.body.toString()).toBe(INDEX);
    expect(r.trailers).toEqual([
      ['foo', 'bar'],
      ['x-check', '42'],
    ]);
    const heads = framesOn(c, 1, FrameType.HEADERS);
    const data = framesOn(c, 1, FrameType.DATA);
    expect(heads.length).toBe(2);
    expect(c.frames.indexOf(heads[1]!)).toBeGreaterThan(c.frames.indexOf(data[data.length - 1]!));
    expect(heads[1]!.flags & Flag.END_STREAM).toBe(Flag.END_STREAM);
    expect(data.every((d) => (d.flags & Flag.END_STREAM) === 0)).toBe(true);
    c.send(c.request(3, '/index.html', { method: 'HEAD' }));
    const head = await c.response(3);
    expect(head.trailers).toBeNull();
    expect(field(head.headers, 'trailer')).toBeUndefined();
  });

  it('--hexdump: the client preface appears in the canonical hex+ASCII dump', async () => {
    const s = await serve(['--hexdump']);
    const c = await open(s);
    c.send(c.request(1, '/index.html'));
    await c.response(1);
    await s.waitForStdout(/\|PRI \* HTTP\/2\.0\.\.\|/);
    expect(s.stdout).toContain('00000000  50 52 49 20 2a 20 48 54  54 50 2f 32 2e 30 0d 0a  |PRI * HTTP/2.0..|\n00000010  0d 0a 53 4d 0d 0a 0d 0a');
    // Only the dump: no frame lines without -v.
    expect(s.stdout).not.toMatch(/frame </);
  });

  it('--echo-upload: POST and PUT bodies come back byte-exact (1 MiB too); GET still serves files', async () => {
    const s = await serve(['--echo-upload']);
    const c = await open(s);
    c.send(c.request(1, '/anything', { method: 'POST', endStream: false, extra: [['content-length', '11']] }), c.data(1, 'hello world', true));
    const r = await c.response(1);
    expect(r.status).toBe('200');
    expect(r.body.toString()).toBe('hello world');
    expect(field(r.headers, 'nghttpd-response')).toBe('echo');
    c.send(c.request(3, '/index.html'));
    expect((await c.response(3)).body.toString()).toBe(INDEX);
    const file = join(dir, 'big.bin');
    const curl = requireBin('curl');
    for (const method of ['POST', 'PUT']) {
      const out = await exec(curl, [
        '-sS',
        '--http2-prior-knowledge',
        '-X',
        method,
        '--data-binary',
        `@${file}`,
        '-H',
        'content-type: application/octet-stream',
        `${s.url}/up`,
      ]);
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout.length, method).toBe(MIB.length);
      expect(out.stdout.equals(MIB), method).toBe(true);
    }
  });

  it('--mime-types-file: content-type from the given file', async () => {
    const types = join(dir, '..', `mime-${process.pid}.types`);
    writeFileSync(types, '# test\napplication/x-h2kit-test\th2kt h2kx\ntext/x-special html\n');
    try {
      const c = await open(await serve(['--mime-types-file', types]));
      c.send(c.request(1, '/data.h2kt'), c.request(3, '/index.html'));
      expect(field((await c.response(1)).headers, 'content-type')).toBe('application/x-h2kit-test');
      expect(field((await c.response(3)).headers, 'content-type')).toMatch(/^text\/x-special/);
      const d = await open(await serve([]));
      d.send(d.request(1, '/data.h2kt'));
      expect(field((await d.response(1)).headers, 'content-type')).not.toBe('application/x-h2kit-test');
    } finally {
      rmSync(types, { force: true });
    }
  });

  it('--no-content-length: no content-length for small and large files nor error pages (the body is intact)', async () => {
    for (const [opts, has] of [
      [['--no-content-length'], false],
      [[], true],
    ] as const) {
      const c = await openWide(await serve([...opts]));
      c.send(c.request(1, '/app.js'), c.request(3, '/big.bin'));
      const small = await c.response(1);
      const large = await c.response(3, 10_000);
      c.send(c.request(5, '/missing.html'));
      const missing = await c.response(5);
      expect(missing.status).toBe('404');
      expect(small.body.equals(APP)).toBe(true);
      expect(large.body.equals(MIB)).toBe(true);
      expect(field(small.headers, 'content-length') !== undefined, opts.join()).toBe(has);
      expect(field(large.headers, 'content-length') !== undefined, opts.join()).toBe(has);
      expect(field(missing.headers, 'content-length') !== undefined, opts.join()).toBe(has);
    }
  });
});
