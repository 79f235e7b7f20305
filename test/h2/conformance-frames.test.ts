/**
 * RFC 9113 §6 (frame definitions) and §7 (error codes): each frame type's
 * validation and semantics, checked against a live server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, encodeGoaway, encodePing, encodeSettings, Flag, FrameType, SettingId } from '../../src/h2/index.js';
import { connect, expectConnectionError, expectOk, expectStreamError, open } from '../helpers/h2-expect.js';
import type { RawClient } from '../helpers/h2-raw-client.js';
import { pattern, startTestServer, type TestServer } from '../helpers/h2-test-server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(() => ts.close());

const dataBytes = (c: RawClient, id: number): number =>
  c.frames.filter((f) => f.type === FrameType.DATA && f.streamId === id).reduce((n, f) => n + f.data!.length, 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const { INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE, ENABLE_PUSH, HEADER_TABLE_SIZE, MAX_CONCURRENT_STREAMS } = SettingId;

describe('§6.1 DATA', () => {
  it('§6.1 DATA on stream 0 -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.DATA, 0, 0, [1, 2, 3]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.1 Pad Length equal to the payload length -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/count', { method: 'POST', endStream: false }), c.raw(FrameType.DATA, Flag.PADDED, 1, [5, 0, 0, 0, 0]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.1 PADDED DATA too short for its Pad Length field -> FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/count', { method: 'POST', endStream: false }), c.raw(FrameType.DATA, Flag.PADDED, 1, []));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('§6.1 padding is removed: the handler gets the content only', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/echo', { method: 'POST', endStream: false }), c.data(1, 'abc', false, 10), c.data(1, 'def', true, 0));
    const r = await c.response(1);
    expect(r.body.toString()).toBe('abcdef');
  });

  it('§6.1 padding counts toward flow control and is returned with WINDOW_UPDATE', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold', { method: 'POST', endStream: false }));
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 140; i++) frames.push(c.data(1, 'x', false, 255)); // 257 octets each, 140 of content
    c.send(...frames);
    const wu = await c.waitFor((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 1);
    expect(wu.increment).toBeGreaterThanOrEqual(32767);
  });
});

describe('§6.2 HEADERS', () => {
  it('§6.2 HEADERS on stream 0 -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 0, [0x82]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.2 padding longer than the rest of the payload -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM | Flag.PADDED, 1, [10, 0x82, 0x86]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.2 PADDED HEADERS are served', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/', { padLength: 30 }));
    await expectOk(c, 1, 'hello');
  });

  it('§6.2 HEADERS with PRIORITY and PADDED are served', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/', { padLength: 3, priority: { exclusive: true, dependency: 0, weight: 42 } }));
    await expectOk(c, 1, 'hello');
  });

  it('§6.2 HEADERS with PRIORITY too short for the priority fields -> FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM | Flag.PRIORITY, 1, [0, 0, 0]));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('§6.2 END_STREAM on HEADERS followed by CONTINUATION ends the request', async () => {
    const c = await open(ts.port);
    const block = c.encode([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/'],
    ]);
    c.send(c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, block.subarray(0, 1)), c.raw(FrameType.CONTINUATION, Flag.END_HEADERS, 1, block.subarray(1)));
    await expectOk(c, 1, 'hello');
  });
});

describe('§6.3 PRIORITY', () => {
  it('§6.3 PRIORITY on stream 0 -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.PRIORITY, 0, 0, [0, 0, 0, 1, 16]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.3 PRIORITY of 4 octets -> stream error FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'), c.raw(FrameType.PRIORITY, 0, 1, [0, 0, 0, 0]));
    await expectStreamError(c, 1, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('§6.3 PRIORITY of 6 octets -> stream error FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'), c.raw(FrameType.PRIORITY, 0, 1, [0, 0, 0, 0, 0, 0]));
    await expectStreamError(c, 1, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('§6.3 PRIORITY on an open stream does not disturb it', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/echo', { method: 'POST', endStream: false }), c.raw(FrameType.PRIORITY, 0, 1, [0x80, 0, 0, 0, 7]), c.data(1, 'ok'));
    const r = await c.response(1);
    expect(r.body.toString()).toBe('ok');
  });
});

describe('§6.4 RST_STREAM', () => {
  it('§6.4 RST_STREAM on stream 0 -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.RST_STREAM, 0, 0, [0, 0, 0, 8]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.4 RST_STREAM of 3 octets -> FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'), c.raw(FrameType.RST_STREAM, 0, 1, [0, 0, 8]));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('§6.4 RST_STREAM of 5 octets -> FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'), c.raw(FrameType.RST_STREAM, 0, 1, [0, 0, 0, 8, 0]));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('§6.4 after RST_STREAM nothing more is sent on the stream', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/defer')); // the body resumes 30 ms later
    await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1);
    c.send(c.raw(FrameType.RST_STREAM, 0, 1, [0, 0, 0, ErrorCode.CANCEL]));
    const before = c.frames.length;
    await sleep(80);
    expect(await c.ping()).toBe(true);
    expect(c.frames.slice(before).filter((f) => f.streamId === 1)).toEqual([]);
  });
});

describe('§6.5 SETTINGS', () => {
  it('§6.5 SETTINGS ACK with a payload -> FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.SETTINGS, Flag.ACK, 0, [0, 3, 0, 0, 0, 1]));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('§6.5 SETTINGS on a stream other than 0 -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.SETTINGS, 0, 1, [0, 3, 0, 0, 0, 1]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.5 SETTINGS length not a multiple of 6 -> FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.SETTINGS, 0, 0, [0, 3, 0, 0, 0, 1, 0]));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('§6.5.3 the server acknowledges SETTINGS with an empty ACK', async () => {
    const c = await open(ts.port);
    const from = c.frames.length;
    c.send(encodeSettings([[MAX_CONCURRENT_STREAMS, 10]]));
    const ack = await c.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0, 2000, from);
    expect(ack.length).toBe(0);
    expect(ack.streamId).toBe(0);
  });

  it('§6.5.2 SETTINGS_ENABLE_PUSH of 2 -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(encodeSettings([[ENABLE_PUSH, 2]]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.5.2 SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 -> FLOW_CONTROL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(encodeSettings([[INITIAL_WINDOW_SIZE, 2 ** 31]]));
    await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('§6.5.2 SETTINGS_MAX_FRAME_SIZE below 16384 -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(encodeSettings([[MAX_FRAME_SIZE, 16383]]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.5.2 SETTINGS_MAX_FRAME_SIZE above 2^24-1 -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(encodeSettings([[MAX_FRAME_SIZE, 2 ** 24]]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.5.2 RFC 9218 §2.1 SETTINGS_NO_RFC7540_PRIORITIES of 2 -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(encodeSettings([[SettingId.NO_RFC7540_PRIORITIES, 2]]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.5.2 SETTINGS_MAX_FRAME_SIZE 2^24-1 lets the server send one large DATA frame', async () => {
    const c = await open(ts.port, [
      [MAX_FRAME_SIZE, 2 ** 24 - 1],
      [INITIAL_WINDOW_SIZE, 2 ** 31 - 1],
    ]);
    c.send(c.windowUpdate(0, 2 ** 31 - 1 - 65535), c.request(1, '/size/100000'));
    const r = await c.response(1);
    expect(r.body.equals(pattern(100000))).toBe(true);
    expect(c.frames.filter((f) => f.type === FrameType.DATA && f.streamId === 1).map((f) => f.length)).toEqual([100000]);
  });

  it('§6.5.2 with the default SETTINGS_MAX_FRAME_SIZE, DATA frames are at most 16384 octets', async () => {
    const c = await open(ts.port, [[INITIAL_WINDOW_SIZE, 2 ** 20]]);
    c.send(c.windowUpdate(0, 2 ** 20), c.request(1, '/size/100000'));
    const r = await c.response(1);
    expect(r.body.equals(pattern(100000))).toBe(true);
    const sizes = c.frames.filter((f) => f.type === FrameType.DATA && f.streamId === 1).map((f) => f.length);
    expect(Math.max(...sizes)).toBe(16384);
  });

  it('§6.5.2 SETTINGS_HEADER_TABLE_SIZE 0 from the client: the next response block starts with a size update to 0', async () => {
    const c = await open(ts.port, [[HEADER_TABLE_SIZE, 0]]);
    c.send(c.request(1));
    await expectOk(c, 1);
    const h = c.frames.find((f) => f.type === FrameType.HEADERS && f.streamId === 1)!;
    expect(h.payload[0]).toBe(0x20); // dynamic table size update to 0 (RFC 7541 §6.3)
    expect(c.inflater.maxTableSize).toBe(0);
  });

  it('§6.5.2 our SETTINGS_HEADER_TABLE_SIZE applies once acknowledged: a block that ignores it -> COMPRESSION_ERROR', async () => {
    const s = await startTestServer({ settings: { headerTableSize: 0 } });
    try {
      const c = await open(s.port);
      c.send(c.request(1, '/', { extra: [['x-index-me', 'yes']] }));
      await expectConnectionError(c, ErrorCode.COMPRESSION_ERROR);
    } finally {
      await s.close();
    }
  });

  it('§6.5.2 our SETTINGS_HEADER_TABLE_SIZE: a client that signals the smaller table is served', async () => {
    const s = await startTestServer({ settings: { headerTableSize: 0 } });
    try {
      const c = await open(s.port);
      c.deflater.changeTableSize(0);
      c.send(c.request(1, '/', { extra: [['x-index-me', 'yes']] }), c.request(3, '/', { extra: [['x-index-me', 'yes']] }));
      await expectOk(c, 1, 'hello');
      await expectOk(c, 3, 'hello');
    } finally {
      await s.close();
    }
  });

  it('§6.5.3 values are processed in order: the last SETTINGS_INITIAL_WINDOW_SIZE wins', async () => {
    const c = await open(ts.port, [
      [INITIAL_WINDOW_SIZE, 10],
      [INITIAL_WINDOW_SIZE, 20],
    ]);
    c.send(c.request(1, '/size/100'));
    await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 1);
    await sleep(30);
    expect(dataBytes(c, 1)).toBe(20);
  });

  it('§6.5.2 SETTINGS_ENABLE_PUSH 0: no PUSH_PROMISE, push() returns null', async () => {
    const c = await open(ts.port, [[ENABLE_PUSH, 0]]);
    c.send(c.request(1, '/push'));
    const r = await c.response(1);
    expect(r.headers).toContainEqual(['x-pushed', 'none']);
    expect(c.frames.some((f) => f.type === FrameType.PUSH_PROMISE)).toBe(false);
  });

  it('§6.5.2 SETTINGS_MAX_CONCURRENT_STREAMS 0 from the client: no push', async () => {
    const c = await open(ts.port, [[MAX_CONCURRENT_STREAMS, 0]]);
    c.send(c.request(1, '/push'));
    const r = await c.response(1);
    expect(r.headers).toContainEqual(['x-pushed', 'none']);
    expect(c.frames.some((f) => f.type === FrameType.PUSH_PROMISE)).toBe(false);
  });

  it('§6.5.3 an unsolicited SETTINGS ACK is ignored', async () => {
    const c = await open(ts.port);
    c.send(encodeSettings([], true));
    c.send(c.request(1));
    await expectOk(c, 1, 'hello');
  });

  it('§6.5.3 SETTINGS not acknowledged in time -> SETTINGS_TIMEOUT', async () => {
    const s = await startTestServer({ limits: { settingsTimeout: 150 } });
    try {
      const c = await connect(s.port, { autoAck: false });
      await c.waitFor((f) => f.type === FrameType.SETTINGS);
      await expectConnectionError(c, ErrorCode.SETTINGS_TIMEOUT);
    } finally {
      await s.close();
    }
  });
});

describe('§6.6 PUSH_PROMISE and §8.4 server push', () => {
  it('§8.4 PUSH_PROMISE from a client -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'), c.raw(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, [0, 0, 0, 2, 0x82, 0x87, 0x84]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.6 a push: PUSH_PROMISE on the request stream with an even promised id, then the pushed response', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/push'));
    const pp = await c.waitFor((f) => f.type === FrameType.PUSH_PROMISE);
    expect(pp.streamId).toBe(1);
    expect(pp.promisedStreamId).toBe(2);
    expect(pp.headers).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'localhost'],
      [':path', '/pushed.css'],
    ]);
    const pushed = await c.response(2);
    expect(pushed.status).toBe('200');
    expect(pushed.body.toString()).toBe('pushed body');
    const main = await c.response(1);
    expect(main.body.toString()).toBe('main body');
    expect(main.headers).toContainEqual(['x-pushed', '2']);
  });

  it('§8.4 the PUSH_PROMISE precedes the response that references it', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/push'));
    await c.response(1);
    const iPromise = c.frames.findIndex((f) => f.type === FrameType.PUSH_PROMISE);
    const iHeaders = c.frames.findIndex((f) => f.type === FrameType.HEADERS && f.streamId === 1);
    expect(iPromise).toBeGreaterThanOrEqual(0);
    expect(iPromise).toBeLessThan(iHeaders);
  });

  it('§5.1.1 promised stream ids increase: 2, then 4', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/push'), c.request(3, '/push'));
    await c.response(3);
    expect(c.frames.filter((f) => f.type === FrameType.PUSH_PROMISE).map((f) => f.promisedStreamId)).toEqual([2, 4]);
  });
});

describe('§6.7 PING', () => {
  it('§6.7 PING is answered with an ACK carrying the same opaque data', async () => {
    const c = await open(ts.port);
    c.send(encodePing(new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1])));
    const ack = await c.waitFor((f) => f.type === FrameType.PING);
    expect(ack.flags).toBe(Flag.ACK);
    expect([...ack.payload]).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('§6.7 a PING ACK is not answered', async () => {
    const c = await open(ts.port);
    c.send(encodePing(new Uint8Array(8), true));
    await sleep(50);
    c.send(c.request(1));
    await expectOk(c, 1);
    expect(c.frames.filter((f) => f.type === FrameType.PING)).toEqual([]);
  });

  it('§6.7 PING on a stream other than 0 -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.PING, 0, 1, new Uint8Array(8)));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.7 PING of 7 octets -> FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.PING, 0, 0, new Uint8Array(7)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });
});

describe('§6.8 GOAWAY', () => {
  it('§6.8 GOAWAY on a stream other than 0 -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.GOAWAY, 0, 1, new Uint8Array(8)));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.8 GOAWAY of 7 octets -> FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.GOAWAY, 0, 0, new Uint8Array(7)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it("§6.8 after the client's GOAWAY an in-flight stream completes, then the connection closes", async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/defer'));
    await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1);
    c.send(encodeGoaway(0, ErrorCode.NO_ERROR));
    const r = await c.response(1);
    expect(r.body.toString()).toBe('later');
    await c.waitClosed();
    expect(c.closed).toBe(true);
  });

  it("§6.8 the client's GOAWAY with no open stream: the server closes", async () => {
    const c = await open(ts.port);
    c.send(encodeGoaway(0, ErrorCode.NO_ERROR));
    await c.waitClosed();
    expect(c.closed).toBe(true);
  });

  it('§6.8 graceful shutdown: GOAWAY NO_ERROR with the last stream id, in-flight streams finish, later ones are not processed', async () => {
    const s = await startTestServer();
    const c = await open(s.port);
    c.send(c.request(1, '/defer'));
    await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1);
    const closing = s.server.close({ graceful: true, timeout: 2000 });
    const g = await c.goaway();
    expect(g.errorCode).toBe(ErrorCode.NO_ERROR);
    expect(g.lastStreamId).toBe(1);
    c.send(c.request(3));
    const r = await c.response(1);
    expect(r.body.toString()).toBe('later');
    await c.waitClosed();
    await closing;
    expect(c.frames.some((f) => f.streamId === 3)).toBe(false);
  });
});

describe('§6.9 WINDOW_UPDATE and flow control', () => {
  it('§6.9 WINDOW_UPDATE with increment 0 on a stream -> stream error PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'), c.windowUpdate(1, 0));
    await expectStreamError(c, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.9 WINDOW_UPDATE with increment 0 on the connection -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.windowUpdate(0, 0));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.9 WINDOW_UPDATE of 3 octets -> FRAME_SIZE_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.WINDOW_UPDATE, 0, 0, [0, 0, 1]));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('§6.9.1 a connection window above 2^31-1 -> FLOW_CONTROL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.windowUpdate(0, 2 ** 31 - 1));
    await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('§6.9.1 a stream window above 2^31-1 -> stream error FLOW_CONTROL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'), c.windowUpdate(1, 2 ** 31 - 1));
    await expectStreamError(c, 1, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('§6.9.1 the server sends no more than the stream window, and resumes on WINDOW_UPDATE', async () => {
    const c = await open(ts.port, [[INITIAL_WINDOW_SIZE, 100]]);
    c.send(c.request(1, '/size/1000'));
    await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 1);
    await sleep(30);
    expect(dataBytes(c, 1)).toBe(100);
    c.send(c.windowUpdate(1, 900));
    const r = await c.response(1);
    expect(r.body.equals(pattern(1000))).toBe(true);
  });

  it('§6.9.1 the server sends no more than the connection window (65535), and resumes on WINDOW_UPDATE', async () => {
    const c = await open(ts.port, [[INITIAL_WINDOW_SIZE, 2 ** 30]]);
    c.send(c.request(1, '/size/100000'));
    await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 1);
    await sleep(50);
    expect(dataBytes(c, 1)).toBe(65535);
    c.send(c.windowUpdate(0, 100000 - 65535));
    const r = await c.response(1);
    expect(r.body.equals(pattern(100000))).toBe(true);
  });

  it('§6.9.2 a smaller SETTINGS_INITIAL_WINDOW_SIZE can make a window negative', async () => {
    const c = await open(ts.port, [[INITIAL_WINDOW_SIZE, 1000]]);
    c.send(c.request(1, '/size/3000'));
    await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 1);
    await sleep(20);
    expect(dataBytes(c, 1)).toBe(1000);
    c.send(encodeSettings([[INITIAL_WINDOW_SIZE, 500]])); // window: 0 - 500 = -500
    c.send(c.windowUpdate(1, 600)); // window: 100
    await sleep(40);
    expect(dataBytes(c, 1)).toBe(1100);
    c.send(c.windowUpdate(1, 5000));
    const r = await c.response(1);
    expect(r.body.equals(pattern(3000))).toBe(true);
  });

  it('§6.9.2 a larger SETTINGS_INITIAL_WINDOW_SIZE resumes streams blocked at 0', async () => {
    const c = await open(ts.port, [[INITIAL_WINDOW_SIZE, 0]]);
    c.send(c.request(1, '/size/50'));
    await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1);
    await sleep(20);
    expect(dataBytes(c, 1)).toBe(0);
    c.send(encodeSettings([[INITIAL_WINDOW_SIZE, 50]]));
    const r = await c.response(1);
    expect(r.body.equals(pattern(50))).toBe(true);
  });

  it('§6.9.2 a SETTINGS_INITIAL_WINDOW_SIZE change that overflows a stream window -> FLOW_CONTROL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'), c.windowUpdate(1, 2 ** 31 - 1 - 65535));
    await c.ping();
    c.send(encodeSettings([[INITIAL_WINDOW_SIZE, 65536]]));
    await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('§6.9 an empty response needs no window: HEADERS with END_STREAM at window 0', async () => {
    const c = await open(ts.port, [[INITIAL_WINDOW_SIZE, 0]]);
    c.send(c.request(1, '/size/0'));
    const r = await c.response(1);
    expect(r.status).toBe('200');
    expect(r.body.length).toBe(0);
  });

  it('§6.9 the server returns window for consumed request bodies (WINDOW_UPDATE on stream and connection)', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/count', { method: 'POST', endStream: false }));
    const chunk = new Uint8Array(16000);
    let sent = 0;
    const total = 600000;
    while (sent < total) {
      // Stay within the stream window: wait for a WINDOW_UPDATE after each 48000 octets.
      for (let i = 0; i < 3 && sent < total; i++) {
        c.send(c.data(1, chunk, false));
        sent += chunk.length;
      }
      const n = c.frames.length;
      await c.waitFor((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 1, 2000, n - 10 < 0 ? 0 : n);
    }
    c.send(c.data(1, '', true));
    const r = await c.response(1);
    expect(r.body.toString()).toBe(String(sent));
    expect(c.frames.some((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0 && f.increment! >= 1 << 19)).toBe(true);
  });

  it('§6.9.1 DATA beyond the stream window -> stream error FLOW_CONTROL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold', { method: 'POST', endStream: false }));
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) frames.push(c.data(1, new Uint8Array(16384), false));
    c.send(...frames); // 65536 > 65535
    await expectStreamError(c, 1, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('§6.9.1 DATA beyond the connection window -> FLOW_CONTROL_ERROR', async () => {
    const s = await startTestServer({ settings: { connectionWindowSize: 65535, initialWindowSize: 65535 } });
    try {
      const c = await open(s.port);
      c.send(c.request(1, '/hold', { method: 'POST', endStream: false }), c.request(3, '/hold', { method: 'POST', endStream: false }));
      c.send(c.data(1, new Uint8Array(16384), false), c.data(1, new Uint8Array(16384), false), c.data(1, new Uint8Array(16384), false));
      c.send(c.data(3, new Uint8Array(16384), false), c.data(3, new Uint8Array(16384), false));
      await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
    } finally {
      await s.close();
    }
  });
});

describe('§6.10 CONTINUATION', () => {
  const block = (c: RawClient) =>
    c.encode([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/'],
    ]);

  it('§6.10 CONTINUATION after a HEADERS that had END_HEADERS -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'), c.raw(FrameType.CONTINUATION, Flag.END_HEADERS, 1, [0x82]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.10 CONTINUATION on another stream -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    const b = block(c);
    c.send(c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, b.subarray(0, 2)), c.raw(FrameType.CONTINUATION, Flag.END_HEADERS, 3, b.subarray(2)));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.10 CONTINUATION on stream 0 -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    const b = block(c);
    c.send(c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, b.subarray(0, 2)), c.raw(FrameType.CONTINUATION, Flag.END_HEADERS, 0, b.subarray(2)));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.10 PING between HEADERS and CONTINUATION -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    const b = block(c);
    c.send(c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, b.subarray(0, 2)), encodePing(new Uint8Array(8)));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('§6.10 a block in many CONTINUATION frames (one octet each) is assembled', async () => {
    const c = await open(ts.port);
    const b = block(c);
    const frames = [c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, b.subarray(0, 1))];
    for (let i = 1; i < b.length; i++) frames.push(c.raw(FrameType.CONTINUATION, i === b.length - 1 ? Flag.END_HEADERS : 0, 1, b.subarray(i, i + 1)));
    c.send(...frames);
    await expectOk(c, 1, 'hello');
  });
});

describe('§7 error codes', () => {
  it('§7 an unknown error code in RST_STREAM triggers no special behaviour; the handler sees it', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold'));
    await c.ping();
    c.send(c.raw(FrameType.RST_STREAM, 0, 1, [0, 0, 0x12, 0x34]));
    await c.ping();
    await sleep(10);
    expect(ts.closeCodes.get(1)).toBe(0x1234);
    c.send(c.request(3));
    await expectOk(c, 3);
  });

  it('§7 an unknown error code in GOAWAY: the connection closes normally', async () => {
    const c = await open(ts.port);
    c.send(encodeGoaway(0, 0xabcdef));
    await c.waitClosed();
    expect(c.frames.filter((f) => f.type === FrameType.GOAWAY).every((f) => f.errorCode === ErrorCode.NO_ERROR)).toBe(true);
  });

  it('§7 our GOAWAY carries debug data saying what went wrong', async () => {
    const c = await open(ts.port);
    c.send(c.windowUpdate(0, 0));
    const g = await c.goaway();
    expect(Buffer.from(g.payload.subarray(8)).toString()).toMatch(/increment of 0/);
  });

  it('§7 a handler that throws: RST_STREAM INTERNAL_ERROR, the connection lives on', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/throw'));
    await expectStreamError(c, 1, ErrorCode.INTERNAL_ERROR);
    expect(ts.errors.length).toBeGreaterThan(0);
  });
});

describe('§6.1 §8.1 request bodies and trailers (echo)', () => {
  it('§8.1 request trailers are delivered to the handler; response trailers are sent', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/echo', { method: 'POST', endStream: false }), c.data(1, 'body', false), c.headersFrame(1, [['x-sum', '7']], true));
    const r = await c.response(1);
    expect(r.body.toString()).toBe('body');
    expect(r.trailers).toEqual([['x-echo-x-sum', '7']]);
  });

  it('§8.1 response trailers follow DATA in a HEADERS frame with END_STREAM', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/trailers'));
    const r = await c.response(1);
    expect(r.body.toString()).toBe('abc');
    expect(r.trailers).toEqual([['x-checksum', '42']]);
    const last = c.frames.filter((f) => f.streamId === 1).at(-1)!;
    expect(last.type).toBe(FrameType.HEADERS);
    expect(last.flags & Flag.END_STREAM).toBe(Flag.END_STREAM);
  });

  it('§8.1 a response complete before the request ends is followed by RST_STREAM NO_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/', { method: 'POST', endStream: false }));
    const code = await c.rst(1);
    expect(code).toBe(ErrorCode.NO_ERROR);
    expect(c.responseSoFar(1).body.toString()).toBe('hello');
  });
});
