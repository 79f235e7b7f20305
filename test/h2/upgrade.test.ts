/**
 * HTTP/1.1 on the h2c port: the upgrade to h2c (RFC 7540 §3.2, which RFC
 * 9113 §3.1 deprecates but curl --http2 and nghttp -u still send), and the
 * HTTP/1.1 answers for requests that do not upgrade.
 */
import { createConnection } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_PREFACE, ErrorCode, encodeSettings, Flag, FrameType, SettingId } from '../../src/h2/index.js';
import { decodeSettings, http1HeadEnd, MAX_HTTP1_HEAD, parseHttp1Request } from '../../src/h2/upgrade.js';
import { until } from '../helpers/h2-expect.js';
import { RawClient } from '../helpers/h2-raw-client.js';
import { pattern, startTestServer, type TestServer } from '../helpers/h2-test-server.js';

const b64 = (entries: Array<[number, number]>): string => {
  const b = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, v], k) => {
    b.writeUInt16BE(id, k * 6);
    b.writeUInt32BE(v, k * 6 + 2);
  });
  return b.toString('base64url');
};

const latin1 = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** A request as curl --http2 sends it. */
function upgradeRequest(path: string, settings = b64([[SettingId.MAX_CONCURRENT_STREAMS, 100]]), extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: example.test:8080\r\nUser-Agent: t/1\r\nAccept: */*\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: ${settings}\r\n${extra}\r\n`;
}

describe('decodeSettings (HTTP2-Settings, base64url of a SETTINGS payload)', () => {
  it('decodes what Buffer encodes, with or without padding', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0x10, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 8 }),
        fc.boolean(),
        (entries, pad) => {
          let text = b64(entries as Array<[number, number]>);
          if (pad) text = Buffer.from(text, 'base64url').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
          expect(decodeSettings(text)).toEqual(entries);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('takes the values nghttp and curl send', () => {
    expect(decodeSettings('AAMAAABkAAQAAP__')).toEqual([
      [SettingId.MAX_CONCURRENT_STREAMS, 100],
      [SettingId.INITIAL_WINDOW_SIZE, 65535],
    ]);
    expect(decodeSettings('AAMAAABkAAQCAAAAAAIAAAAA')).toEqual([
      [SettingId.MAX_CONCURRENT_STREAMS, 100],
      [SettingId.INITIAL_WINDOW_SIZE, 33554432],
      [SettingId.ENABLE_PUSH, 0],
    ]);
    expect(decodeSettings('')).toEqual([]);
  });

  it('takes at most two padding characters', () => {
    expect(decodeSettings('AAMAAABkAAQAAP__==')).toEqual([
      [SettingId.MAX_CONCURRENT_STREAMS, 100],
      [SettingId.INITIAL_WINDOW_SIZE, 65535],
    ]);
    expect(decodeSettings(`AAMAAABk${'='.repeat(3)}`)).toBe('not base64url');
    expect(decodeSettings(`AAMAAABk${'='.repeat(10000)}x`)).toBe('not base64url');
  });

  it.each([
    ['AAMA*ABk', 'not base64url'],
    ['AAMAAABkA', 'not base64url (bad length)'],
    ['AAMAAA', 'a SETTINGS payload of 4 octets, not a multiple of 6'],
    [b64([[SettingId.ENABLE_PUSH, 2]]), 'SETTINGS_ENABLE_PUSH 2 (must be 0 or 1)'],
    [b64([[SettingId.MAX_FRAME_SIZE, 100]]), 'SETTINGS_MAX_FRAME_SIZE 100 outside 16384..16777215'],
    [b64([[SettingId.INITIAL_WINDOW_SIZE, 2 ** 31]]), 'SETTINGS_INITIAL_WINDOW_SIZE 2147483648 above 2^31-1'],
  ])('%s -> %s', (text, reason) => {
    expect(decodeSettings(text)).toBe(reason);
  });
});

describe('http1HeadEnd', () => {
  it('finds the empty line after CRLF or bare LF lines, and nothing before it arrives', () => {
    expect(http1HeadEnd(latin1('GET / HTTP/1.1\r\nHost: a\r\n\r\nPRI'))).toBe(27);
    expect(http1HeadEnd(latin1('GET / HTTP/1.1\nHost: a\n\nPRI'))).toBe(24);
    expect(http1HeadEnd(latin1('GET / HTTP/1.1\r\nHost: a\r\n'))).toBe(-1);
    expect(http1HeadEnd(latin1('GET / HTTP/1.1\r\nHost: a\r\n\r'))).toBe(-1);
  });
});

describe('parseHttp1Request', () => {
  const parse = (s: string) => parseHttp1Request(latin1(s));

  it('an upgrade becomes the HTTP/2 request: pseudo-headers first, hop-by-hop fields gone', () => {
    const r = parse(
      upgradeRequest('/a/b?c=d', undefined, 'TE: trailers\r\nX-Hop: 1\r\nCookie: k=v\r\n').replace('HTTP2-Settings\r\n', 'HTTP2-Settings, X-Hop\r\n'),
    );
    expect(r).toEqual({
      upgrade: true,
      method: 'GET',
      target: '/a/b?c=d',
      settings: [[SettingId.MAX_CONCURRENT_STREAMS, 100]],
      fields: [
        [':method', 'GET'],
        [':scheme', 'http'],
        [':authority', 'example.test:8080'],
        [':path', '/a/b?c=d'],
        ['user-agent', 't/1'],
        ['accept', '*/*'],
        ['te', 'trailers'],
        ['cookie', 'k=v'],
      ],
    });
  });

  it('optional whitespace is trimmed at both ends of a value, kept inside it, however long the runs', () => {
    const inner = ' '.repeat(8000);
    const r = parse(upgradeRequest('/', undefined, `X-A: \t${inner}a${inner}b${inner}\t \r\nX-B:${' '.repeat(5000)}\r\n`));
    expect(r.upgrade && r.fields).toContainEqual(['x-a', `a${inner}b`]);
    expect(r.upgrade && r.fields).toContainEqual(['x-b', '']);
  });

  it('absolute-form: the authority comes from the target', () => {
    const r = parse(upgradeRequest('http://other.test:81/x?y'));
    expect(r.upgrade && r.fields.slice(0, 4)).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'other.test:81'],
      [':path', '/x?y'],
    ]);
    const q = parse(upgradeRequest('http://other.test?y'));
    expect(q.upgrade && q.fields[3]).toEqual([':path', '/?y']);
  });

  it('bare LF line endings, OWS around values, a Content-Length of 0 and OPTIONS * are fine', () => {
    const r = parse(upgradeRequest('*').replace('GET', 'OPTIONS').replace(/\r\n/g, '\n').replace('Accept: */*', 'Accept: \t */* \t\nContent-Length: 0'));
    expect(r.upgrade).toBe(true);
    expect(r.upgrade && r.fields).toContainEqual(['accept', '*/*']);
    expect(r.upgrade && r.fields).toContainEqual([':path', '*']);
  });

  it.each([
    ['no Upgrade', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'an HTTP/1.1 request without "Upgrade: h2c"'],
    ['Upgrade: websocket', upgradeRequest('/').replace('Upgrade: h2c', 'Upgrade: websocket'), 'an HTTP/1.1 request without "Upgrade: h2c"'],
    ['HTTP/1.0', upgradeRequest('/').replace('HTTP/1.1', 'HTTP/1.0'), 'an HTTP/1.0 request; only an HTTP/1.1 request can upgrade to h2c'],
    [
      'no HTTP2-Settings',
      upgradeRequest('/').replace(/HTTP2-Settings: .*\r\n/, ''),
      '"Upgrade: h2c" with 0 HTTP2-Settings fields (exactly one is needed, RFC 7540 §3.2.1)',
    ],
    [
      'two HTTP2-Settings',
      upgradeRequest('/', undefined, 'HTTP2-Settings: \r\n'),
      '"Upgrade: h2c" with 2 HTTP2-Settings fields (exactly one is needed, RFC 7540 §3.2.1)',
    ],
    [
      'Connection without HTTP2-Settings',
      upgradeRequest('/').replace('Connection: Upgrade, HTTP2-Settings', 'Connection: Upgrade'),
      '"Upgrade: h2c" without "Connection: Upgrade, HTTP2-Settings" (RFC 7540 §3.2.1)',
    ],
    ['a body', upgradeRequest('/', undefined, 'Content-Length: 5\r\n'), 'an h2c upgrade with a request body, which this server does not take'],
    [
      'a chunked body',
      upgradeRequest('/', undefined, 'Transfer-Encoding: chunked\r\n'),
      'an h2c upgrade with a request body (Transfer-Encoding), which this server does not take',
    ],
  ])('%s: not upgraded, 505', (_what, request, reason) => {
    expect(parse(request)).toEqual({ upgrade: false, status: 505, reason });
  });

  it.each([
    ['a request line of two words', 'GET /\r\nHost: a\r\n\r\n', 'malformed request line "GET /"'],
    ['an invalid method', 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 'invalid method "G(T"'],
    ['an invalid version', 'GET / HTTP/x\r\nHost: a\r\n\r\n', 'invalid HTTP version "HTTP/x"'],
    ['no Host', upgradeRequest('/').replace('Host: example.test:8080\r\n', ''), '0 Host fields (RFC 9112 §3.2 wants exactly one)'],
    ['two Hosts', upgradeRequest('/', undefined, 'Host: b\r\n'), '2 Host fields (RFC 9112 §3.2 wants exactly one)'],
    ['obs-fold', upgradeRequest('/', undefined, 'X: a\r\n b\r\n'), 'line 9: obsolete line folding (RFC 9112 §5.2)'],
    ['space before the colon', upgradeRequest('/', undefined, 'X : a\r\n'), 'line 8: invalid field name "X "'],
    ['a line without a colon', upgradeRequest('/', undefined, 'nonsense\r\n'), 'line 8: not a "name: value" field line'],
    ['a NUL in a value', upgradeRequest('/', undefined, 'X: a\0b\r\n'), 'line 8: invalid octet in the value of X'],
    ['a bad HTTP2-Settings', upgradeRequest('/', 'AAMA'), 'HTTP2-Settings: a SETTINGS payload of 3 octets, not a multiple of 6'],
    ['an invalid setting', upgradeRequest('/', b64([[SettingId.ENABLE_PUSH, 7]])), 'HTTP2-Settings: SETTINGS_ENABLE_PUSH 7 (must be 0 or 1)'],
    ['a relative target', upgradeRequest('x/y'), 'request target "x/y" is not in origin, absolute or asterisk form'],
    ['* with GET', upgradeRequest('*'), 'asterisk-form target with a method other than OPTIONS'],
    ['two different Content-Lengths', upgradeRequest('/', undefined, 'Content-Length: 0\r\nContent-Length: 1\r\n'), 'invalid Content-Length'],
  ])('%s: 400', (_what, request, reason) => {
    expect(parse(request)).toEqual({ upgrade: false, status: 400, reason });
  });
});

/** Sends `request` on a raw socket and reads until the server closes: status line, head lines and body. */
async function http1Exchange(port: number, request: string | Buffer, chunked = false): Promise<{ text: string; head: string[]; body: string }> {
  const sock = createConnection(port, '127.0.0.1');
  const got: Buffer[] = [];
  sock.on('data', (d: Buffer) => got.push(d));
  sock.on('error', () => {});
  const closed = new Promise((r) => sock.on('close', r));
  await new Promise((r) => sock.once('connect', r));
  if (chunked) {
    for (const b of Buffer.from(request)) {
      sock.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
  } else sock.write(request);
  await closed;
  const text = Buffer.concat(got).toString('latin1');
  const at = text.indexOf('\r\n\r\n');
  return { text, head: text.slice(0, at).split('\r\n'), body: text.slice(at + 4) };
}

describe('the h2c port, with an HTTP/1.1 request', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer();
  });
  afterAll(async () => {
    await ts.close();
  });

  async function upgrade(request: string, clientSettings: Array<[number, number]> = []): Promise<RawClient> {
    const c = await RawClient.connect(ts.port, { preface: false, autoAck: false });
    c.expectHttp1();
    // The preface goes in the same write as the request head: what follows the head must be kept.
    c.send(Buffer.from(request, 'latin1'), CONNECTION_PREFACE, encodeSettings(clientSettings));
    await until(() => c.http1Head !== null);
    return c;
  }

  it('RFC 7540 §3.2: an upgrade gets 101, then our SETTINGS, then the response on stream 1 (half-closed remote)', async () => {
    const c = await upgrade(upgradeRequest('/info?x=1', undefined, 'X-Custom: yes\r\n'));
    expect(c.http1Head).toBe('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
    await c.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0);
    expect(c.frames[0]!.type).toBe(FrameType.SETTINGS);
    c.send(encodeSettings([], true));
    const r = await c.response(1);
    expect(r.status).toBe('200');
    const info = JSON.parse(r.body.toString()) as { method: string; scheme: string; authority: string; path: string; headers: Array<[string, string]> };
    expect(info).toMatchObject({ method: 'GET', scheme: 'http', authority: 'example.test:8080', path: '/info?x=1' });
    expect(info.headers).toEqual([
      ['user-agent', 't/1'],
      ['accept', '*/*'],
      ['x-custom', 'yes'],
    ]);
    // The server acknowledged our (empty) SETTINGS, but not the HTTP2-Settings: the 101 did (RFC 7540 §3.2.1).
    expect(c.frames.filter((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0).length).toBe(1);
    // The connection goes on: the client's next stream is 3.
    c.send(c.request(3, '/'));
    expect((await c.response(3)).body.toString()).toBe('hello');
    c.close();
  });

  it('the HTTP2-Settings apply before any frame: a 100-octet initial window holds stream 1 at 100 octets', async () => {
    const c = await upgrade(upgradeRequest('/size/1000', b64([[SettingId.INITIAL_WINDOW_SIZE, 100]])));
    c.send(encodeSettings([], true));
    await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 1);
    await new Promise((r) => setTimeout(r, 100));
    const sent = () => c.frames.filter((f) => f.type === FrameType.DATA && f.streamId === 1).reduce((n, f) => n + f.length, 0);
    expect(sent()).toBe(100);
    c.send(c.windowUpdate(1, 900));
    const r = await c.response(1);
    expect(Buffer.compare(r.body, pattern(1000))).toBe(0);
    c.close();
  });

  it('a request head that arrives one octet at a time is upgraded just the same', async () => {
    const request = Buffer.concat([Buffer.from(upgradeRequest('/'), 'latin1'), CONNECTION_PREFACE, encodeSettings([])]);
    const c = await RawClient.connect(ts.port, { preface: false, autoAck: true });
    c.expectHttp1();
    for (const b of request) {
      c.send(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    const r = await c.response(1);
    expect(c.http1Head).toMatch(/^HTTP\/1\.1 101 /);
    expect(r.body.toString()).toBe('hello');
    c.close();
  });

  it('after the upgrade, the client preface is still required: anything else -> GOAWAY PROTOCOL_ERROR', async () => {
    const c = await RawClient.connect(ts.port, { preface: false, autoAck: false });
    c.expectHttp1();
    c.send(Buffer.from(upgradeRequest('/hold'), 'latin1'), Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    const g = await c.goaway();
    expect(c.http1Head).toMatch(/^HTTP\/1\.1 101 /);
    expect(new DataView(g.payload.buffer, g.payload.byteOffset).getUint32(4)).toBe(ErrorCode.PROTOCOL_ERROR);
    c.close();
  });

  it('an upgrade with a body: 505 saying why, and no frames', async () => {
    const r = await http1Exchange(ts.port, `${upgradeRequest('/', undefined, 'Content-Length: 3\r\n')}abc`);
    expect(r.head[0]).toBe('HTTP/1.1 505 HTTP Version Not Supported');
    expect(r.body).toContain('an h2c upgrade with a request body');
    expect(r.body).toContain('curl --http2');
  });

  it('a malformed HTTP2-Settings: 400 naming the problem', async () => {
    const r = await http1Exchange(ts.port, upgradeRequest('/', b64([[SettingId.MAX_FRAME_SIZE, 5]])));
    expect(r.head).toEqual(['HTTP/1.1 400 Bad Request', 'content-type: text/plain; charset=utf-8', `content-length: ${r.body.length}`, 'connection: close']);
    expect(r.body).toBe('HTTP2-Settings: SETTINGS_MAX_FRAME_SIZE 5 outside 16384..16777215.\n');
    await until(() => ts.connectionCloses.some((i) => i.http1Status === 400));
  });

  it(`a request head over ${MAX_HTTP1_HEAD} octets: 431, read no further`, async () => {
    const r = await http1Exchange(ts.port, `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(MAX_HTTP1_HEAD)}\r\n\r\n`);
    expect(r.head[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(r.body).toBe(`the request head exceeds ${MAX_HTTP1_HEAD} octets.\n`);
  });

  it('a plain request sent one octet at a time still gets its 505', async () => {
    const r = await http1Exchange(ts.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', true);
    expect(r.head[0]).toBe('HTTP/1.1 505 HTTP Version Not Supported');
    expect(r.text).not.toMatch(/[\0-\x08]/); // no binary frame before or after it
  });
});

describe('the h2c port, with an HTTP/1.1 request head that never ends', () => {
  it('408 when the handshake timeout passes; and 503 when the server shuts down meanwhile', async () => {
    const ts = await startTestServer({ limits: { handshakeTimeout: 300 } });
    try {
      const t0 = Date.now();
      const r = await http1Exchange(ts.port, 'GET / HTTP/1.1\r\nHost: a\r\n');
      expect(r.head[0]).toBe('HTTP/1.1 408 Request Timeout');
      expect(r.body).toBe('the request head did not arrive in time.\n');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      const sock = createConnection(ts.port, '127.0.0.1');
      const got: Buffer[] = [];
      sock.on('data', (d: Buffer) => got.push(d));
      const closed = new Promise((res) => sock.on('close', res));
      sock.write('GET / HTTP/1.1\r\n');
      await until(() => ts.server.connectionCount === 1);
      await new Promise((res) => setTimeout(res, 20));
      void ts.server.close({ graceful: true, timeout: 1000 });
      await closed;
      expect(Buffer.concat(got).toString('latin1')).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*\r\n\r\nthe server is shutting down\.\n$/);
    } finally {
      await ts.close().catch(() => {});
    }
  });
});
