/**
 * h2serve -v prints nghttpd's frame log. A deterministic session driven by
 * the raw client (each step waits for the server's answer) must produce
 * exactly the expected lines, with only the timestamps normalised; and the
 * same session against the real nghttpd must give the same structure where
 * the two servers behave alike.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_PREFACE, ErrorCode, encodeGoaway, encodeSettings, Flag, FrameType, SettingId } from '../../src/h2/index.js';
import { VERSION } from '../../src/version.js';
import { RawClient } from '../helpers/h2-raw-client.js';
import { freePort, killAll, requireBin, startH2Serve, until, waitForPort } from '../helpers/h2serve.js';

const INDEX = 'hello\n';
let dir = '';
let mimeTypes = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'h2serve-log-'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'style.css'), 'p{}\n');
  const t = new Date('2024-01-02T03:04:05Z');
  utimesSync(join(dir, 'index.html'), t, t);
  utimesSync(join(dir, 'style.css'), t, t);
  // The same content-type on every machine, for both servers.
  mimeTypes = join(dir, '..', `${dir.split('/').pop()}.types`);
  writeFileSync(mimeTypes, 'text/html html\ntext/css css\n');
});

afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
  rmSync(mimeTypes, { force: true });
});

interface Session {
  /** Length of the request HEADERS frame we sent, and of the response HEADERS we got. */
  requestLength: number;
  responseLength: number;
  responseFields: Array<[string, string]>;
}

/**
 * The scripted session: wait for the server's preface, send ours (empty
 * SETTINGS), wait for the ACK, send our ACK and GET /index.html with
 * END_STREAM, read the whole response, send GOAWAY, wait for the close.
 */
async function scriptedSession(port: number, serverPrefaceFrames: number): Promise<Session> {
  const c = await RawClient.connect(port, { preface: false, autoAck: false });
  try {
    await until(() => c.frames.length >= serverPrefaceFrames, 5000, "the server's preface");
    c.send(CONNECTION_PREFACE, encodeSettings([]));
    await c.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0);
    const request = c.request(1, '/index.html');
    c.send(encodeSettings([], true), request);
    const r = await c.response(1);
    expect(r.status).toBe('200');
    expect(r.body.toString()).toBe(INDEX);
    c.send(encodeGoaway(0, ErrorCode.NO_ERROR));
    await c.waitClosed(5000);
    const h = c.frames.find((f) => f.type === FrameType.HEADERS && f.streamId === 1)!;
    return { requestLength: request.length - 9, responseLength: h.length, responseFields: h.headers! };
  } finally {
    c.close();
  }
}

const normaliseTimes = (log: string): string => log.replace(/^(\[id=\d+\]) \[ *\d+\.\d{3}\]/gm, '$1 [T]');

describe('the -v log', () => {
  it('a scripted session prints exactly the expected lines', async () => {
    const s = await startH2Serve(['-v', '--no-tls', '--mime-types-file', mimeTypes, '-d', dir, '0']);
    const session = await scriptedSession(s.port, 2);
    await s.waitForStdout(/^\[id=1\] \[ *\d+\.\d{3}\] closed$/m);
    await s.stop();
    const fields = new Map(session.responseFields);
    const etag = fields.get('etag');
    const date = fields.get('date');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(date).toMatch(/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
    const expected = `[id=1] [T] send SETTINGS frame <length=12, flags=0x00, stream_id=0>
          (niv=2)
          [SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100]
          [SETTINGS_MAX_HEADER_LIST_SIZE(0x06):65536]
[id=1] [T] send WINDOW_UPDATE frame <length=4, flags=0x00, stream_id=0>
          (window_size_increment=983040)
[id=1] [T] recv SETTINGS frame <length=0, flags=0x00, stream_id=0>
          (niv=0)
[id=1] [T] send SETTINGS frame <length=0, flags=0x01, stream_id=0>
          ; ACK
          (niv=0)
[id=1] [T] recv SETTINGS frame <length=0, flags=0x01, stream_id=0>
          ; ACK
          (niv=0)
[id=1] [T] recv (stream_id=1) :method: GET
[id=1] [T] recv (stream_id=1) :scheme: http
[id=1] [T] recv (stream_id=1) :authority: localhost
[id=1] [T] recv (stream_id=1) :path: /index.html
[id=1] [T] recv HEADERS frame <length=${session.requestLength}, flags=0x05, stream_id=1>
          ; END_STREAM | END_HEADERS
          (padlen=0)
          ; Open new stream
[id=1] [T] send HEADERS frame <length=${session.responseLength}, flags=0x04, stream_id=1>
          ; END_HEADERS
          (padlen=0)
          ; First response header
          :status: 200
          server: h2serve h2kit/${VERSION}
          date: ${date}
          content-type: text/html
          content-length: 6
          last-modified: Tue, 02 Jan 2024 03:04:05 GMT
          etag: ${etag}
          cache-control: max-age=3600
          accept-ranges: bytes
[id=1] [T] send DATA frame <length=6, flags=0x01, stream_id=1>
          ; END_STREAM
[id=1] [T] stream_id=1 closed
[id=1] [T] recv GOAWAY frame <length=8, flags=0x00, stream_id=0>
          (last_stream_id=0, error_code=NO_ERROR(0x00), opaque_data(0)=[])
[id=1] [T] send GOAWAY frame <length=8, flags=0x00, stream_id=0>
          (last_stream_id=1, error_code=NO_ERROR(0x00), opaque_data(0)=[])
[id=1] [T] closed
`;
    expect(normaliseTimes(s.stdout)).toBe(expected);
    // The timestamps themselves: seconds.milliseconds since start, never decreasing.
    const times = [...s.stdout.matchAll(/^\[id=1\] \[ *(\d+\.\d{3})\]/gm)].map((m) => Number(m[1]));
    expect(times.length).toBe(expected.match(/^\[id=1\] \[T\]/gm)!.length);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('has the structure of real nghttpd -v for the same session', async () => {
    const nghttpd = requireBin('nghttpd');
    const ours = await startH2Serve(['-v', '--no-tls', '--mime-types-file', mimeTypes, '-d', dir, '0']);
    await scriptedSession(ours.port, 2);
    await ours.waitForStdout(/^\[id=1\] \[ *\d+\.\d{3}\] closed$/m);
    await ours.stop();

    // -W 20: nghttpd then raises its connection window as h2serve does by default.
    const port = await freePort();
    const ref: ChildProcess = spawn(nghttpd, ['-v', '--no-tls', '-W', '20', '--mime-types-file', mimeTypes, '-d', dir, String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let theirs = '';
    ref.stdout!.on('data', (b: Buffer) => (theirs += b.toString()));
    ref.stderr!.on('data', (b: Buffer) => (theirs += b.toString()));
    try {
      await until(() => /listen/.test(theirs), 10_000, 'nghttpd to listen');
      await scriptedSession(port, 2);
      await until(() => /^\[id=1\] \[ *\d+\.\d{3}\] closed$/m.test(theirs), 10_000, "nghttpd's closed line");
    } finally {
      ref.kill('SIGTERM');
    }

    /**
     * Frame lines, their '; ...' annotation lines and the closed lines, from
     * the first connection. Where the servers differ by design, and only there:
     * our SETTINGS also carries SETTINGS_MAX_HEADER_LIST_SIZE and our response
     * has other fields (so those two lengths are left out), and we answer the
     * client's GOAWAY with ours (RFC 9113 §6.8 allows either).
     */
    const structure = (log: string): string[] =>
      normaliseTimes(log)
        .split('\n')
        .filter((l) => l.startsWith('[id=1] ') || l.startsWith('          ;'))
        .map((l) => l.replace(/(send (?:SETTINGS|HEADERS) frame <length=)\d+(, flags=0x00, stream_id=0>|, flags=0x04, stream_id=1>)/, '$1*$2'))
        .filter((l) => !/ send GOAWAY frame /.test(l));
    const a = structure(ours.stdout);
    const b = structure(theirs);
    expect(a).toEqual(b);
    expect(a).toContain('          ; Open new stream');
    expect(a).toContain('          ; First response header');
    expect(a).toContain('[id=1] [T] stream_id=1 closed');
    expect(a[a.length - 1]).toBe('[id=1] [T] closed');
    // What the client sent is printed identically, attribute lines included.
    const recvBlocks = (log: string): string[] =>
      normaliseTimes(log)
        .split(/\n(?=\[id=)/)
        .filter((x) => / recv /.test(x));
    expect(recvBlocks(ours.stdout)).toEqual(recvBlocks(theirs));
    // And the connection window update.
    expect(ours.stdout).toContain('(window_size_increment=983040)');
    expect(theirs).toContain('(window_size_increment=983040)');
  });

  it('with -p, the pushed stream is announced and its close is logged, as nghttpd does', async () => {
    const s = await startH2Serve(['-v', '--no-tls', '-p', '/index.html=/style.css', '--mime-types-file', mimeTypes, '-d', dir, '0']);
    const c = await RawClient.open(s.port);
    c.send(c.request(1, '/index.html'));
    await c.response(1);
    await c.response(2);
    c.close();
    await s.waitForStdout(/^\[id=1\] \[ *\d+\.\d{3}\] closed$/m);
    await s.stop();
    const log = normaliseTimes(s.stdout);
    expect(log).toMatch(
      /\[id=1\] \[T\] send PUSH_PROMISE frame <length=\d+, flags=0x04, stream_id=1>\n {10}; END_HEADERS\n {10}\(padlen=0, promised_stream_id=2\)\n( {10}:[a-z]+: .*\n){4}\[id=1\]/,
    );
    expect(log).toContain('          :path: /style.css\n');
    expect(log).toMatch(/send HEADERS frame <length=\d+, flags=0x04, stream_id=2>\n {10}; END_HEADERS\n {10}\(padlen=0\)\n {10}; First push response header\n/);
    expect(log).toContain('[id=1] [T] stream_id=1 closed\n');
    expect(log).toContain('[id=1] [T] stream_id=2 closed\n');
  });

  it('--hexdump prints what nghttpd --hexdump prints for the same octets', async () => {
    const nghttpd = requireBin('nghttpd');
    /** Sends the preface with SETTINGS in one write and waits for the server's ACK. */
    const drive = async (port: number): Promise<void> => {
      // No automatic ACK: nothing but these 39 octets may reach the server before it dumps them.
      const c = await RawClient.connect(port, { preface: false, autoAck: false });
      try {
        c.send(CONNECTION_PREFACE, encodeSettings([[SettingId.ENABLE_PUSH, 0]]));
        await c.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0);
      } finally {
        c.close();
      }
    };
    const ours = await startH2Serve(['--hexdump', '--no-tls', '-d', dir, '0']);
    await drive(ours.port);
    await ours.waitForStdout(/\|PRI \* HTTP\/2\.0\.\.\|/);
    await ours.stop();
    const port = await freePort();
    // Without -v, nghttpd leaves its stdout fully buffered (and loses it on SIGTERM): stdbuf makes it line-buffered.
    const ref = spawn(requireBin('stdbuf'), ['-oL', nghttpd, '--hexdump', '--no-tls', '-d', dir, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let theirs = '';
    ref.stdout!.on('data', (b: Buffer) => (theirs += b.toString()));
    const closed = new Promise<void>((resolve) => ref.on('close', () => resolve()));
    try {
      await waitForPort(port);
      await drive(port);
      await until(() => /^[0-9a-f]{8}$/m.test(theirs), 5000, "nghttpd's dump");
    } finally {
      ref.kill('SIGTERM');
      await closed;
    }
    // The first dump: the 33 octets of the preface and our SETTINGS, and the line with the length.
    const firstDump = (out: string): string => /^00000000 .*\n(?:[0-9a-f]{8} .*\n)*?[0-9a-f]{8}$/m.exec(out)?.[0] ?? `(no dump in ${JSON.stringify(out)})`;
    expect(firstDump(ours.stdout)).toBe(firstDump(theirs));
    expect(firstDump(ours.stdout)).toBe(
      [
        '00000000  50 52 49 20 2a 20 48 54  54 50 2f 32 2e 30 0d 0a  |PRI * HTTP/2.0..|',
        '00000010  0d 0a 53 4d 0d 0a 0d 0a  00 00 06 04 00 00 00 00  |..SM............|',
        '00000020  00 00 02 00 00 00 00                              |.......|',
        '00000027',
      ].join('\n'),
    );
  });
});
