/**
 * RFC 9113 §3 (starting HTTP/2), §4 (frames), §5 (streams and multiplexing):
 * crafted frames against a live server, checking the exact answer.
 */
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_PREFACE, ErrorCode, encodeSettings, Flag, FrameType, SettingId } from '../../src/h2/index.js';
import { connect, expectConnectionError, expectNothing, expectOk, expectStreamError, isRst, open, until } from '../helpers/h2-expect.js';
import { startTestServer, type TestServer } from '../helpers/h2-test-server.js';

let ts: TestServer;
let small: TestServer; // MAX_CONCURRENT_STREAMS 2
beforeAll(async () => {
  ts = await startTestServer();
  small = await startTestServer({ settings: { maxConcurrentStreams: 2 } });
});
afterAll(async () => {
  await ts.close();
  await small.close();
});

describe('§3 starting HTTP/2', () => {
  it('§3.4 the server preface is a SETTINGS frame, sent first', async () => {
    const c = await connect(ts.port);
    const first = await c.waitFor(() => true);
    expect(first.type).toBe(FrameType.SETTINGS);
    expect(first.flags & Flag.ACK).toBe(0);
  });

  it('§3.4 server SETTINGS announce SETTINGS_MAX_CONCURRENT_STREAMS 100 and SETTINGS_MAX_HEADER_LIST_SIZE', async () => {
    const c = await connect(ts.port);
    const s = await c.waitFor((f) => f.type === FrameType.SETTINGS);
    const entries: Array<[number, number]> = [];
    for (let o = 0; o < s.payload.length; o += 6) entries.push([(s.payload[o]! << 8) | s.payload[o + 1]!, Buffer.from(s.payload).readUInt32BE(o + 2)]);
    expect(entries).toContainEqual([SettingId.MAX_CONCURRENT_STREAMS, 100]);
    expect(entries).toContainEqual([SettingId.MAX_HEADER_LIST_SIZE, 65536]);
  });

  for (const request of [
    'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
    'POST /x HTTP/1.1\r\nHost: x\r\ncontent-length: 0\r\n\r\n',
    'PUT / HTTP/1.0\r\n\r\n',
    'OPTIONS * HTTP/1.1\r\n\r\n',
    'PROPFIND /dav HTTP/1.1\r\n\r\n',
  ]) {
    it(`§3.4 an HTTP/1.x request instead of the preface (${request.split(' ')[0]}) -> an HTTP/1.1 505 answer, no frames, close`, async () => {
      const sock = createConnection(ts.port, '127.0.0.1');
      const got: Buffer[] = [];
      sock.on('data', (d: Buffer) => got.push(d));
      const closed = new Promise((r) => sock.on('close', r));
      sock.write(request);
      await closed;
      const text = Buffer.concat(got).toString('latin1');
      const [head, body] = text.split('\r\n\r\n');
      expect(head!.split('\r\n')).toEqual([
        'HTTP/1.1 505 HTTP Version Not Supported',
        'content-type: text/plain; charset=utf-8',
        `content-length: ${body!.length}`,
        'connection: close',
      ]);
      expect(body).toContain('curl --http2-prior-knowledge');
      await until(() => ts.connectionCloses.some((i) => i.http1Status !== null));
      const info = ts.connectionCloses.find((i) => i.http1Status !== null)!;
      expect(info.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      expect(info.http1Status).toBe(505);
      ts.connectionCloses.length = 0;
    });
  }

  it('§3.4 a client that waits for the server preface gets it after a short grace period, and the connection works', async () => {
    const c = await connect(ts.port, { preface: false, autoAck: false });
    const t0 = Date.now();
    const settings = await c.waitFor((f) => f.type === FrameType.SETTINGS, 2000);
    expect(settings.flags & Flag.ACK).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1500); // PREFACE_GRACE is 100 ms; the handshake timeout is far longer
    await new Promise((r) => setTimeout(r, 50));
    expect(c.frames.map((f) => f.type)).toEqual(c.frames.length === 1 ? [FrameType.SETTINGS] : [FrameType.SETTINGS, FrameType.WINDOW_UPDATE]);
    c.send(CONNECTION_PREFACE, encodeSettings([]), encodeSettings([], true), c.request(1, '/'));
    await expectOk(c, 1);
    expect(c.frames.filter((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0).length).toBe(1);
    c.close();
  });

  it('§3.4 an HTTP/1.x request after the server preface went out -> GOAWAY PROTOCOL_ERROR (no 505 after binary frames)', async () => {
    const c = await connect(ts.port, { preface: false, autoAck: false });
    await c.waitFor((f) => f.type === FrameType.SETTINGS, 2000);
    await new Promise((r) => setTimeout(r, 50));
    const preface = c.frames.length;
    c.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
    expect(c.frames.length).toBe(preface + 1);
    expect(c.frames.at(-1)!.type).toBe(FrameType.GOAWAY);
  });

  it('§3.4 a preface with one wrong octet -> SETTINGS (the server preface), then GOAWAY PROTOCOL_ERROR', async () => {
    const c = await connect(ts.port, { preface: false });
    const bad = Buffer.from(CONNECTION_PREFACE);
    bad[20] = 0x41;
    c.send(bad);
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
    expect(c.frames[0]!.type).toBe(FrameType.SETTINGS);
    expect(c.frames.at(-1)!.type).toBe(FrameType.GOAWAY);
  });

  it('§3.4 "INVALID CONNECTION PREFACE" (uppercase, but not an HTTP/1.x request line) -> GOAWAY PROTOCOL_ERROR, not an HTTP/1.1 answer (h2spec 3.5 #2)', async () => {
    const c = await connect(ts.port, { preface: false });
    c.send(Buffer.from('INVALID CONNECTION PREFACE\r\n\r\n'));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
    expect(c.frames[0]!.type).toBe(FrameType.SETTINGS);
    expect(c.frames.at(-1)!.type).toBe(FrameType.GOAWAY);
  });

  it('§3.4 garbage that is not an HTTP/1 request line -> GOAWAY PROTOCOL_ERROR, after SETTINGS', async () => {
    const c = await connect(ts.port, { preface: false });
    c.send(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x10])); // a TLS ClientHello on the h2c port
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
    expect(c.frames[0]!.type).toBe(FrameType.SETTINGS);
  });

  it('§3.4 the preface must be followed by SETTINGS: PING first -> PROTOCOL_ERROR', async () => {
    const c = await connect(ts.port, { preface: false });
    c.send(CONNECTION_PREFACE, c.raw(FrameType.PING, 0, 0, new Uint8Array(8)));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§3.4 a SETTINGS ACK as the first frame is not the preface SETTINGS -> PROTOCOL_ERROR', async () => {
    const c = await connect(ts.port, { preface: false });
    c.send(CONNECTION_PREFACE, encodeSettings([], true));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§3.4 the preface may arrive one octet at a time', async () => {
    const c = await connect(ts.port, { preface: false, autoAck: false });
    const all = Buffer.concat([CONNECTION_PREFACE, encodeSettings([]), c.request(1, '/')]);
    for (const b of all) {
      c.send(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    await expectOk(c, 1, 'hello');
  });

  it('§3.4 requests may be sent before the server preface arrives', async () => {
    const c = await connect(ts.port, { preface: false });
    c.send(CONNECTION_PREFACE, encodeSettings([]), c.request(1, '/'), c.request(3, '/'));
    await expectOk(c, 1, 'hello');
    await expectOk(c, 3, 'hello');
  });
});

describe('§4 HTTP frames', () => {
  it('§4.1 a frame of an unknown type is ignored', async () => {
    const c = await open(ts.port);
    c.send(c.raw(0xfa, 0xff, 0, [1, 2, 3]), c.raw(0x20, 0, 1, [9]));
    expect(await c.ping()).toBe(true);
    c.send(c.request(1));
    await expectOk(c, 1, 'hello');
  });

  it('§4.1 undefined flags on PING are ignored (the ACK carries only ACK)', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.PING, 0xfe, 0, [1, 2, 3, 4, 5, 6, 7, 8]));
    const ack = await c.waitFor((f) => f.type === FrameType.PING);
    expect(ack.flags).toBe(Flag.ACK);
    expect([...ack.payload]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('§4.1 undefined flags on HEADERS are ignored', async () => {
    const c = await open(ts.port);
    const h = c.request(1);
    h[4] = h[4]! | 0xd2; // 0x02, 0x10, 0x40, 0x80 are not HEADERS flags
    c.send(h);
    await expectOk(c, 1, 'hello');
  });

  it('§4.1 the reserved bit of the stream identifier is ignored on receipt', async () => {
    const c = await open(ts.port);
    const h = c.request(1);
    h[5] = h[5]! | 0x80;
    c.send(h);
    await expectOk(c, 1, 'hello');
  });

  it('§4.1 frames we send leave the reserved bit unset', async () => {
    const c = await open(ts.port);
    c.send(c.request(1));
    await expectOk(c, 1);
    for (const f of c.frames) expect(f.streamId).toBeLessThan(0x80000000);
  });

  it('§4.2 DATA larger than SETTINGS_MAX_FRAME_SIZE -> FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/count', { method: 'POST', endStream: false }), c.data(1, new Uint8Array(16385)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('§4.2 HEADERS larger than SETTINGS_MAX_FRAME_SIZE -> FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.HEADERS, Flag.END_HEADERS, 1, new Uint8Array(16385)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('§4.2 an unknown frame type larger than SETTINGS_MAX_FRAME_SIZE -> FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(0x33, 0, 0, new Uint8Array(20000)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('§4.2 a DATA frame of exactly SETTINGS_MAX_FRAME_SIZE (16384) is accepted', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/count', { method: 'POST', endStream: false }), c.data(1, new Uint8Array(16384)));
    await expectOk(c, 1, '16384');
  });

  it('§4.2 a larger SETTINGS_MAX_FRAME_SIZE of ours admits larger frames', async () => {
    const big = await startTestServer({ settings: { maxFrameSize: 65536, initialWindowSize: 1 << 20 } });
    try {
      const c = await open(big.port);
      c.send(c.request(1, '/count', { method: 'POST', endStream: false }), c.data(1, new Uint8Array(65536)));
      await expectOk(c, 1, '65536');
    } finally {
      await big.close();
    }
  });

  it('§4.3 a header block split over HEADERS and CONTINUATION is decoded as one', async () => {
    const c = await open(ts.port);
    const block = c.encode([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/info'],
      ['x-long', 'v'.repeat(300)],
    ]);
    c.send(
      c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, block.subarray(0, 10)),
      c.raw(FrameType.CONTINUATION, 0, 1, block.subarray(10, 100)),
      c.raw(FrameType.CONTINUATION, Flag.END_HEADERS, 1, block.subarray(100)),
    );
    const r = await c.response(1);
    expect(JSON.parse(r.body.toString()).headers).toEqual([['x-long', 'v'.repeat(300)]]);
  });

  it('§4.3 a frame of another stream inside a header block -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    const block = c.encode([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/'],
    ]);
    c.send(c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, block.subarray(0, 2)), c.request(3));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§4.3 DATA on the same stream inside a header block -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    const block = c.encode([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/count'],
    ]);
    c.send(c.raw(FrameType.HEADERS, 0, 1, block.subarray(0, 2)), c.data(1, 'x'));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§4.3 a header block that fails to decode -> COMPRESSION_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, [0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    await expectConnectionError(c, ErrorCode.COMPRESSION_ERROR);
  });
});

describe('§5.1 stream states', () => {
  it('§5.1 idle: DATA -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.data(1, 'x'));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§5.1 idle: RST_STREAM -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.RST_STREAM, 0, 1, [0, 0, 0, 8]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§5.1 idle: WINDOW_UPDATE -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.windowUpdate(1, 100));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§5.1 idle: CONTINUATION -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.CONTINUATION, Flag.END_HEADERS, 1, [0x82]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§5.1 idle: an idle stream above the last opened one -> DATA is PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1));
    await expectOk(c, 1);
    c.send(c.data(5, 'x'));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§5.1 idle: PRIORITY is allowed and the stream can then be opened', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.PRIORITY, 0, 1, [0, 0, 0, 0, 15]));
    expect(await c.ping()).toBe(true);
    c.send(c.request(1));
    await expectOk(c, 1, 'hello');
  });

  it('§5.1 half-closed (remote): DATA -> stream error STREAM_CLOSED', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'), c.data(1, 'x'));
    await expectStreamError(c, 1, ErrorCode.STREAM_CLOSED);
  });

  it('§5.1 half-closed (remote): HEADERS -> stream error STREAM_CLOSED', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'));
    await c.ping();
    c.send(c.headersFrame(1, [['x-trailer', '1']], true));
    await expectStreamError(c, 1, ErrorCode.STREAM_CLOSED);
  });

  it('§5.1 half-closed (remote): WINDOW_UPDATE and PRIORITY are allowed', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'));
    await c.ping();
    c.send(c.windowUpdate(1, 1000), c.raw(FrameType.PRIORITY, 0, 1, [0, 0, 0, 0, 10]));
    await expectNothing(c, isRst);
  });

  it('§5.1 half-closed (remote): RST_STREAM closes the stream; the handler sees the code', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'));
    await c.ping();
    c.send(c.raw(FrameType.RST_STREAM, 0, 1, [0, 0, 0, ErrorCode.CANCEL]));
    await c.ping();
    await new Promise((r) => setTimeout(r, 20));
    const s = ts.streams.find((x) => x.streamId === 1 && x.closed && x.path === '/hold');
    expect(s).toBeDefined();
    expect(ts.closeCodes.get(1)).toBe(ErrorCode.CANCEL);
  });

  it('§5.1 closed: DATA after both sides sent END_STREAM -> STREAM_CLOSED', async () => {
    const c = await open(ts.port);
    c.send(c.request(1));
    await expectOk(c, 1);
    c.send(c.data(1, 'x'));
    await expectStreamError(c, 1, ErrorCode.STREAM_CLOSED);
  });

  it('§5.1 closed: HEADERS on a closed stream -> connection error STREAM_CLOSED', async () => {
    const c = await open(ts.port);
    c.send(c.request(1));
    await expectOk(c, 1);
    c.send(c.request(1));
    await expectConnectionError(c, ErrorCode.STREAM_CLOSED);
  });

  it('§5.1 closed: WINDOW_UPDATE and RST_STREAM after END_STREAM are ignored', async () => {
    const c = await open(ts.port);
    c.send(c.request(1));
    await expectOk(c, 1);
    c.send(c.windowUpdate(1, 5), c.raw(FrameType.RST_STREAM, 0, 1, [0, 0, 0, 8]));
    await expectNothing(c, (f) => f.type === FrameType.RST_STREAM || f.type === FrameType.GOAWAY);
  });

  it('§5.1 closed: PRIORITY on a closed stream is allowed', async () => {
    const c = await open(ts.port);
    c.send(c.request(1));
    await expectOk(c, 1);
    c.send(c.raw(FrameType.PRIORITY, 0, 1, [0, 0, 0, 0, 1]));
    await expectNothing(c, (f) => f.type === FrameType.RST_STREAM || f.type === FrameType.GOAWAY);
  });

  it("§5.1 closed by the peer's RST_STREAM: DATA afterwards -> STREAM_CLOSED", async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/count', { method: 'POST', endStream: false }));
    await c.ping();
    c.send(c.raw(FrameType.RST_STREAM, 0, 1, [0, 0, 0, 8]), c.data(1, 'x'));
    await expectStreamError(c, 1, ErrorCode.STREAM_CLOSED);
  });

  it('§5.1 after we sent RST_STREAM, DATA in flight is discarded without another RST_STREAM', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold', { method: 'POST', endStream: false, extra: [['content-length', '1']] }));
    c.send(c.data(1, 'xy', false)); // exceeds content-length: we reset
    expect(await c.rst(1)).toBe(ErrorCode.PROTOCOL_ERROR);
    c.send(c.data(1, 'z', false), c.data(1, 'z', true));
    await expectNothing(c, (f) => f.type === FrameType.GOAWAY);
    expect(c.frames.filter((f) => f.type === FrameType.RST_STREAM).length).toBe(1);
  });

  it('§5.1 after we sent RST_STREAM, HEADERS in flight is decoded (HPACK state kept) and discarded', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold', { method: 'POST', endStream: false, extra: [['content-length', '1']] }), c.data(1, 'xy', false));
    expect(await c.rst(1)).toBe(ErrorCode.PROTOCOL_ERROR);
    // Trailers that insert an entry into the dynamic table; the next request refers to it by index.
    c.send(c.headersFrame(1, [['x-shared', 'value-1']], true));
    c.send(c.request(3, '/info', { extra: [['x-shared', 'value-1']] }));
    const r = await c.response(3);
    expect(JSON.parse(r.body.toString()).headers).toEqual([['x-shared', 'value-1']]);
  });

  it('§5.1 a pushed stream is half-closed (remote) for the client: DATA on it -> STREAM_CLOSED', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/push'));
    const pp = await c.waitFor((f) => f.type === FrameType.PUSH_PROMISE);
    await c.response(1);
    c.send(c.data(pp.promisedStreamId!, 'x'));
    const code = await c.rst(pp.promisedStreamId!);
    expect(code).toBe(ErrorCode.STREAM_CLOSED);
  });
});

describe('§5.1.1 stream identifiers', () => {
  it('§5.1.1 HEADERS on an even (server-initiated) stream -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(2));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§5.1.1 a new stream with an identifier below one already opened -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(5));
    await expectOk(c, 5);
    c.send(c.request(3));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§5.1.1 opening stream 7 closes idle streams 1..5: DATA on 3 is STREAM_CLOSED', async () => {
    const c = await open(ts.port);
    c.send(c.request(7));
    await expectOk(c, 7);
    c.send(c.data(3, 'x'));
    await expectStreamError(c, 3, ErrorCode.STREAM_CLOSED);
  });

  it('§5.1.1 identifiers may skip numbers (1, 7, 9)', async () => {
    const c = await open(ts.port);
    c.send(c.request(1), c.request(7), c.request(9));
    await expectOk(c, 1);
    await expectOk(c, 7);
    await expectOk(c, 9);
  });

  it('§5.1.1 GOAWAY names the last stream we processed', async () => {
    const c = await open(ts.port);
    c.send(c.request(1), c.request(3));
    await expectOk(c, 3);
    c.send(c.data(11, 'x')); // idle -> connection error
    const g = await c.goaway();
    expect(g.lastStreamId).toBe(3);
  });
});

describe('§5.1.2 stream concurrency', () => {
  it('§5.1.2 a stream beyond SETTINGS_MAX_CONCURRENT_STREAMS -> RST_STREAM REFUSED_STREAM', async () => {
    const c = await open(small.port);
    c.send(c.request(1, '/hold'), c.request(3, '/hold'), c.request(5, '/hold'));
    await expectStreamError(c, 5, ErrorCode.REFUSED_STREAM);
  });

  it('§5.1.2 the refused stream does not disturb the open ones, and closing one frees a slot', async () => {
    const c = await open(small.port);
    c.send(c.request(1, '/hold'), c.request(3, '/hold'), c.request(5, '/'));
    expect(await c.rst(5)).toBe(ErrorCode.REFUSED_STREAM);
    c.send(c.request(7, '/'));
    expect(await c.rst(7)).toBe(ErrorCode.REFUSED_STREAM);
    c.send(c.raw(FrameType.RST_STREAM, 0, 3, [0, 0, 0, ErrorCode.CANCEL]), c.request(9, '/'));
    await expectOk(c, 9, 'hello');
    expect(c.responseSoFar(1).rst).toBeNull();
  });
});

describe('§5.3 priority (RFC 7540 §5.3.1; otherwise ignored per RFC 9113 §5.3.2)', () => {
  it('§5.3.1 HEADERS whose stream depends on itself -> stream error PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/', { priority: { exclusive: false, dependency: 1, weight: 16 } }));
    await expectStreamError(c, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it('§5.3.1 PRIORITY making a stream depend on itself -> stream error PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.PRIORITY, 0, 3, [0, 0, 0, 3, 16]));
    await expectStreamError(c, 3, ErrorCode.PROTOCOL_ERROR);
  });

  it('§5.3.2 priority signals are parsed and ignored: exclusive dependency on an unknown stream', async () => {
    const c = await open(ts.port);
    c.send(c.request(3, '/', { priority: { exclusive: true, dependency: 99, weight: 256 } }));
    await expectOk(c, 3, 'hello');
  });
});

describe('§5.4 and §5.5 error handling and extensions', () => {
  it('§5.4.1 after a connection error no further frames are processed', async () => {
    const c = await open(ts.port);
    c.send(c.data(1, 'x'), c.request(3));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
    expect(c.frames.some((f) => f.type === FrameType.HEADERS)).toBe(false);
  });

  it('§5.4.2 a stream error leaves other streams working', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/', { priority: { exclusive: false, dependency: 1, weight: 1 } }), c.request(3));
    expect(await c.rst(1)).toBe(ErrorCode.PROTOCOL_ERROR);
    await expectOk(c, 3, 'hello');
  });

  it('§5.5 an unknown frame type inside a header block -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    const block = c.encode([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/'],
    ]);
    c.send(c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, block.subarray(0, 2)), c.raw(0xbb, 0, 1, [1]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§5.5 an unknown setting is ignored and acknowledged', async () => {
    const c = await open(ts.port);
    const from = c.frames.length;
    c.send(encodeSettings([[0x7777, 12345]]));
    await c.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0, 2000, from);
    c.send(c.request(1));
    await expectOk(c, 1);
  });
});
