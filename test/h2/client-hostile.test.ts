/**
 * A hostile-server battery for the client engine (issue 10, "the protections
 * the server has, in reverse"). Each server here is a raw socket that reads
 * the client's frames with the engine's FrameReader and writes frames crafted
 * with the engine's encoders. Every case must end in a rejected request (or
 * body read) with a clear Http2Error, never an uncaught exception or an
 * unhandled rejection, never a hang (each wait is bounded), and with the
 * client's memory bounded (session.stats sampled as octets arrive).
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientSession,
  type ConnectOptions,
  connect,
  ErrorCode,
  encodeContinuation,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodePushPromise,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  Flag,
  FrameType,
  Http2Error,
  MAX_WINDOW_SIZE,
  SettingId,
} from '../../src/h2/index.js';
import { encodeInteger } from '../../src/hpack/integer.js';
import { type RawServer, type RawServerConnection, startRawServer } from '../helpers/h2-raw-server.js';

const CASE_TIMEOUT = 30_000;

// ---- harness ------------------------------------------------------------------------

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => {
  unhandled.push(e);
};
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  // Let rejections that nobody handled surface before looking.
  await new Promise((r) => setTimeout(r, 20));
  expect(unhandled.map(String)).toEqual([]);
});

/** What the client held at most while the server did its worst (sampled as each chunk arrived). */
interface Peaks {
  receiveBuffered: number;
  headerBlock: number;
  queuedBytes: number;
  queuedFrames: number;
  heldBody: number;
  streams: number;
  /** Octets in the client socket's own write buffer. */
  socketBuffered: number;
}

interface Hostile {
  srv: RawServer;
  s: ClientSession;
  peaks: Peaks;
  /** The client's TCP socket. */
  socket: net.Socket;
  /** From now on the network takes none of the client's octets (see StallableWire). */
  stall(): void;
}

/**
 * The client's TCP socket, with a switch: once stalled, what the client
 * writes is never taken, as with a server that stopped reading once the
 * kernel buffers between us are full. (On loopback those hold tens of MiB
 * here, too many tiny frames to fill in a bounded test.)
 */
class StallableWire extends Duplex {
  stalled = false;
  constructor(private readonly tcp: net.Socket) {
    super();
    tcp.on('data', (d: Buffer) => {
      if (!this.push(d)) tcp.pause();
    });
    tcp.on('end', () => this.push(null));
    tcp.on('error', (e) => this.destroy(e));
    tcp.on('close', () => this.destroy());
  }
  override _read(): void {
    this.tcp.resume();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (e?: Error | null) => void): void {
    if (!this.stalled) this.tcp.write(chunk, done);
    // Stalled: `done` is never called, so writableLength grows as it would on a full socket.
  }
  override _final(done: () => void): void {
    if (!this.stalled) this.tcp.end(done);
  }
  override _destroy(e: Error | null, done: (e: Error | null) => void): void {
    this.tcp.destroy();
    done(e);
  }
}

/** A raw server playing `script` on each connection, and a session to it. */
async function hostile(script: (c: RawServerConnection) => void | Promise<void>, opts: ConnectOptions = {}, stallable = false): Promise<Hostile> {
  const srv = await startRawServer(script);
  cleanups.push(() => srv.close());
  const peaks: Peaks = { receiveBuffered: 0, headerBlock: 0, queuedBytes: 0, queuedFrames: 0, heldBody: 0, streams: 0, socketBuffered: 0 };
  const socket = net.connect(srv.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const wire = stallable ? new StallableWire(socket) : null;
  let session: ClientSession | null = null;
  const sample = (): void => {
    if (session === null) return;
    const st = session.stats;
    for (const k of ['receiveBuffered', 'headerBlock', 'queuedBytes', 'queuedFrames', 'heldBody', 'streams'] as const) peaks[k] = Math.max(peaks[k], st[k]);
    peaks.socketBuffered = Math.max(peaks.socketBuffered, (wire ?? socket).writableLength);
  };
  const s = await connect(srv.url, {
    ...opts,
    socket: wire ?? socket,
    // Sampled before each chunk is parsed and again once it has been.
    onData: () => {
      sample();
      setImmediate(sample);
    },
  });
  session = s;
  cleanups.push(() => s.destroy());
  const stall = (): void => {
    if (wire === null) throw new Error('hostile(..., stallable = true) to stall the wire');
    wire.stalled = true;
  };
  return { srv, s, peaks, socket, stall };
}

/** Resolves with `p`'s value or error within `ms`; a hang fails the test. */
async function settle<T>(p: Promise<T>, ms = 10_000): Promise<{ value: T } | { error: unknown }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), ms);
  });
  const r = await Promise.race([
    p.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    hang,
  ]);
  clearTimeout(timer);
  if (r === 'hang') throw new Error(`not settled within ${ms} ms: the client hangs`);
  return r;
}

/** The Http2Error `p` rejects with (within `ms`). */
async function rejection(p: Promise<unknown>, ms = 10_000): Promise<Http2Error> {
  const r = await settle(p, ms);
  if (!('error' in r)) throw new Error('expected a rejection, got a value');
  expect(r.error).toBeInstanceOf(Http2Error);
  return r.error as Http2Error;
}

/** Resolves with `p`'s value (within `ms`). */
async function value<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  const r = await settle(p, ms);
  if ('error' in r) throw r.error;
  return r.value;
}

/** The session closes (within `ms`); its close info. */
function closed(s: ClientSession, ms = 10_000): ReturnType<ClientSession['closedPromise']> {
  return value(s.closedPromise(), ms);
}

const enc = new TextEncoder();
const OK_200 = [[':status', '200']] as Array<[string, string]>;

/** An HPACK string literal without Huffman (RFC 7541 §5.2). */
function hpackString(s: string): Uint8Array {
  const b = enc.encode(s);
  const out = new Uint8Array(6 + b.length);
  const n = encodeInteger(out, 0, b.length, 7, 0);
  out.set(b, n);
  return out.subarray(0, n + b.length);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** Writes `make()` frames until the client closes the connection or `max` were written; returns how many were. */
async function flood(c: RawServerConnection, make: (i: number) => Uint8Array, max: number, batch = 500): Promise<number> {
  let i = 0;
  while (i < max && !c.closed && !c.socket.destroyed) {
    const parts: Uint8Array[] = [];
    for (let k = 0; k < batch && i < max; k++) parts.push(make(i++));
    if (!c.send(concat(...parts)))
      await new Promise<void>((resolve) => {
        const done = (): void => {
          c.socket.off('drain', done);
          c.socket.off('close', done);
          resolve();
        };
        c.socket.once('drain', done);
        c.socket.once('close', done);
      });
    else await new Promise((r) => setImmediate(r));
  }
  return i;
}

// ---- the cases ------------------------------------------------------------------------

describe('a hostile server cannot crash, hang or bloat the client', { timeout: CASE_TIMEOUT }, () => {
  it('an HTTP/1.1 answer to the preface: PROTOCOL_ERROR quoting its status line', async () => {
    const { s } = await hostile((c) => {
      c.socket.once('data', () => c.socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request'));
    });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('PROTOCOL_ERROR');
    expect(e.message).toContain('HTTP/1.1 400 Bad Request');
    expect(e.message).toMatch(/HTTP\/1\.x .*instead of HTTP\/2/);
    const info = await closed(s);
    expect(info.error?.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    // A request after the close is refused with the same cause.
    expect((await rejection(s.request({ ':path': '/' }))).code).toBe('PROTOCOL_ERROR');
  });

  it('DATA on stream 0: PROTOCOL_ERROR, GOAWAY to the server', async () => {
    let conn!: RawServerConnection;
    const { s } = await hostile(async (c) => {
      conn = c;
      c.preface();
      await c.request();
      c.send(c.raw(FrameType.DATA, 0, 0, enc.encode('x')));
    });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('PROTOCOL_ERROR');
    expect(e.message).toMatch(/DATA frame on stream 0/);
    expect((await conn.goaway()).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    await closed(s);
  });

  it('a connection window pushed past 2^31-1: FLOW_CONTROL_ERROR, the upload stops', async () => {
    let conn!: RawServerConnection;
    const { s, peaks } = await hostile(async (c) => {
      conn = c;
      c.preface();
      await c.request();
      c.send(encodeWindowUpdate(0, MAX_WINDOW_SIZE), encodeWindowUpdate(0, MAX_WINDOW_SIZE));
    });
    const e = await rejection(s.request({ ':method': 'POST', ':path': '/up' }, { body: new Uint8Array(1 << 20) }));
    expect(e.code).toBe('FLOW_CONTROL_ERROR');
    expect(e.message).toMatch(/connection window exceed 2\^31-1/);
    expect((await conn.goaway()).errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    await closed(s);
    // Only what the initial window allowed went out.
    expect(conn.frames.filter((f) => f.type === FrameType.DATA).reduce((n, f) => n + f.length, 0)).toBeLessThanOrEqual(65535);
    expect(peaks.queuedBytes).toBeLessThan(256 * 1024);
  });

  it('a stream window pushed past 2^31-1: that request fails FLOW_CONTROL_ERROR, the session goes on', async () => {
    let conn!: RawServerConnection;
    const { s } = await hostile(async (c) => {
      conn = c;
      c.preface();
      const first = await c.request();
      c.send(encodeWindowUpdate(first.streamId, MAX_WINDOW_SIZE), encodeWindowUpdate(first.streamId, MAX_WINDOW_SIZE));
      const second = await c.request(conn.frames.indexOf(first) + 1);
      c.send(c.headers(second.streamId, OK_200), c.data(second.streamId, 'fine', true));
    });
    const first = s.request({ ':method': 'POST', ':path': '/up' }, { body: new Uint8Array(200_000) });
    const e = await rejection(first);
    expect(e.code).toBe('FLOW_CONTROL_ERROR');
    expect(e.streamId).toBe(1);
    expect(e.message).toMatch(/stream window exceed 2\^31-1/);
    expect((await conn.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === 1)).errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    const r = await value(s.request({ ':path': '/next' }));
    expect(await value(r.text())).toBe('fine');
    expect(s.activeStreams).toBe(0);
  });

  it('SETTINGS_INITIAL_WINDOW_SIZE that pushes an open stream window past 2^31-1: FLOW_CONTROL_ERROR', async () => {
    const { s } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      c.send(encodeWindowUpdate(r.streamId, MAX_WINDOW_SIZE - 65535), encodeSettings([[SettingId.INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE]]));
    });
    const e = await rejection(s.request({ ':method': 'POST', ':path': '/up' }, { body: new Uint8Array(100_000) }));
    expect(e.code).toBe('FLOW_CONTROL_ERROR');
    expect(e.message).toMatch(/SETTINGS_INITIAL_WINDOW_SIZE .*exceed 2\^31-1/);
    await closed(s);
  });

  it('an HPACK bomb (a small block that decodes past maxHeaderListSize): HEADER_LIST_TOO_LARGE, nothing decoded kept, the table stays in sync', async () => {
    // One 4,000-octet field inserted into the dynamic table (index 62), then referenced 1,000 times: 5 KB decoding to 4 MB.
    const value4k = 'a'.repeat(4000);
    const insert = concat(new Uint8Array([0x40]), hpackString('x-bomb'), hpackString(value4k));
    const bomb = concat(new Uint8Array([0x88]), insert, new Uint8Array(1000).fill(0xbe));
    let conn!: RawServerConnection;
    const { s, peaks } = await hostile(async (c) => {
      conn = c;
      c.preface();
      const first = await c.request();
      c.send(encodeHeaders(first.streamId, bomb, { endStream: true }));
      const second = await c.request(conn.frames.indexOf(first) + 1);
      // :status 200 and the entry the bomb inserted, once: only decodable if the client kept its table in sync.
      c.send(encodeHeaders(second.streamId, new Uint8Array([0x88, 0xbe]), { endStream: true }));
    });
    const e = await rejection(s.request({ ':path': '/bomb' }));
    expect(e.code).toBe('HEADER_LIST_TOO_LARGE');
    expect(e.message).toMatch(/SETTINGS_MAX_HEADER_LIST_SIZE 65536/);
    expect((await conn.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === 1)).errorCode).toBe(ErrorCode.CANCEL);
    const r = await value(s.request({ ':path': '/after' }));
    expect(r.status).toBe(200);
    expect(r.get('x-bomb')).toBe(value4k);
    expect(peaks.headerBlock).toBeLessThan(64 * 1024);
    expect(s.stats).toMatchObject({ headerBlock: 0, receiveBuffered: 0, streams: 0 });
  });

  it('an HPACK bomb against a smaller maxHeaderListSize: the setting is advertised and enforced', async () => {
    let conn!: RawServerConnection;
    const { s } = await hostile(
      async (c) => {
        conn = c;
        c.preface();
        const r = await c.request();
        c.send(
          c.headers(
            r.streamId,
            [
              [':status', '200'],
              ['x-big', 'b'.repeat(2000)],
            ],
            true,
          ),
        );
      },
      { settings: { maxHeaderListSize: 1024 } },
    );
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('HEADER_LIST_TOO_LARGE');
    expect(e.message).toMatch(/SETTINGS_MAX_HEADER_LIST_SIZE 1024/);
    const settings = await conn.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0);
    const p = Buffer.from(settings.payload);
    const entries = Array.from({ length: p.length / 6 }, (_, i) => [p.readUInt16BE(i * 6), p.readUInt32BE(i * 6 + 2)]);
    expect(entries).toContainEqual([SettingId.MAX_HEADER_LIST_SIZE, 1024]);
  });

  it('a CONTINUATION flood of large frames: ENHANCE_YOUR_CALM once the block passes 256 KiB', async () => {
    let conn!: RawServerConnection;
    let sent = 0;
    const { s, peaks } = await hostile(async (c) => {
      conn = c;
      c.preface();
      const r = await c.request();
      const chunk = new Uint8Array(16384).fill(0x41);
      c.send(encodeHeaders(r.streamId, chunk, { endHeaders: false }));
      sent = await flood(c, () => encodeContinuation(r.streamId, chunk, false), 1000, 4);
    });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('ENHANCE_YOUR_CALM');
    expect(e.message).toMatch(/header block larger than 262144 octets/);
    expect((await conn.goaway()).errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    await closed(s);
    expect(peaks.headerBlock).toBeLessThanOrEqual(256 * 1024);
    expect(sent).toBeLessThan(1000);
  });

  it('a CONTINUATION flood of tiny frames: ENHANCE_YOUR_CALM after 16 of them', async () => {
    let sent = 0;
    const { s, peaks } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      c.send(encodeHeaders(r.streamId, new Uint8Array([0x88]), { endHeaders: false }));
      sent = await flood(c, (i) => encodeContinuation(r.streamId, i % 2 ? new Uint8Array(0) : new Uint8Array([0x88]), false), 100_000);
    });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('ENHANCE_YOUR_CALM');
    expect(e.message).toMatch(/more than 16 CONTINUATION frames/);
    await closed(s);
    expect(peaks.headerBlock).toBeLessThan(4096);
    expect(sent).toBeLessThan(100_000);
  });

  it('a header block that never ends: ENHANCE_YOUR_CALM after limits.frameTimeout', async () => {
    const { s } = await hostile(
      async (c) => {
        c.preface();
        const r = await c.request();
        c.send(encodeHeaders(r.streamId, new Uint8Array([0x88]), { endHeaders: false }));
      },
      { limits: { frameTimeout: 300 } },
    );
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('ENHANCE_YOUR_CALM');
    expect(e.message).toMatch(/header block stayed incomplete/);
  });

  it('a PING flood: ENHANCE_YOUR_CALM once the budget of frames without progress is spent', async () => {
    let conn!: RawServerConnection;
    const { s } = await hostile(async (c) => {
      conn = c;
      c.preface();
      await c.request();
      await flood(c, () => encodePing(new Uint8Array(8)), 200_000);
    });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('ENHANCE_YOUR_CALM');
    expect(e.message).toMatch(/too many frames that make no progress/);
    await closed(s);
    // At most the burst (1000) and its refill were answered.
    expect(conn.count(FrameType.PING, (f) => (f.flags & Flag.ACK) !== 0)).toBeLessThan(1500);
  });

  it('a SETTINGS flood: ENHANCE_YOUR_CALM once the budget of frames without progress is spent', async () => {
    let conn!: RawServerConnection;
    const { s } = await hostile(async (c) => {
      conn = c;
      c.preface();
      await c.request();
      await flood(c, () => encodeSettings([[SettingId.MAX_CONCURRENT_STREAMS, 100]]), 200_000);
    });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('ENHANCE_YOUR_CALM');
    expect(e.message).toMatch(/too many frames that make no progress/);
    await closed(s);
    expect(conn.count(FrameType.SETTINGS, (f) => (f.flags & Flag.ACK) !== 0)).toBeLessThan(1500);
  });

  it.each([
    ['PING', () => encodePing(new Uint8Array(8))],
    ['SETTINGS', () => encodeSettings([])],
  ])('a %s flood from a server that never reads our ACKs: the queued replies stay bounded, then ENHANCE_YOUR_CALM', async (_what, frame) => {
    // The frame budget is lifted so that what stops the flood is the bound on replies queued for a peer that does not read.
    let written = 0;
    let stall!: () => void;
    const {
      s,
      peaks,
      stall: stallWire,
    } = await hostile(
      async (c) => {
        c.preface();
        await c.request();
        stall();
        written = await flood(c, frame, 3_000_000, 2000);
      },
      { limits: { zeroProgressBurst: 1e9, zeroProgressRate: 1e9, closeLinger: 200 } },
      true,
    );
    stall = stallWire;
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('ENHANCE_YOUR_CALM');
    expect(e.message).toMatch(/does not read our frames/);
    await closed(s);
    expect(written).toBeLessThan(3_000_000);
    // The replies did pile up to the bound (limits.maxQueuedFrames 10,000) before the connection was ended...
    expect(peaks.queuedFrames).toBeGreaterThan(5000);
    // ...and no further: 1 MiB (limits.maxQueuedBytes) at most, plus what one read of the socket can add before the check.
    expect(peaks.queuedBytes).toBeLessThanOrEqual((1 << 20) + 128 * 1024);
    expect(peaks.queuedFrames).toBeLessThanOrEqual(10_000 + 8192);
    // The socket takes no more once it holds limits.outputHighWater (64 KiB), give or take one batch.
    expect(peaks.socketBuffered).toBeLessThanOrEqual(64 * 1024 + 256 * 1024);
  });

  it('a PING flood that piles up while the client socket is paused: read back in bounded steps, then ENHANCE_YOUR_CALM', async () => {
    let go!: () => void;
    const going = new Promise<void>((resolve) => {
      go = resolve;
    });
    let conn!: RawServerConnection;
    let blocked = false;
    const { s, socket, peaks } = await hostile(async (c) => {
      conn = c;
      c.preface();
      await c.request();
      await going;
      const ping = encodePing(new Uint8Array(8));
      const batch = concat(...Array.from({ length: 2000 }, () => ping));
      // Until the kernel buffers between us are full.
      while (!c.closed && c.send(batch));
      blocked = true;
    });
    const p = s.request({ ':path': '/' });
    // The request is out before the client stops reading.
    await value(
      (async () => {
        while (!conn?.frames.some((f) => f.type === FrameType.HEADERS)) await new Promise((r) => setTimeout(r, 5));
      })(),
    );
    socket.pause();
    go();
    await value(
      (async () => {
        while (!blocked) await new Promise((r) => setTimeout(r, 10));
      })(),
    );
    socket.resume();
    const e = await rejection(p);
    expect(e.code).toBe('ENHANCE_YOUR_CALM');
    expect(e.message).toMatch(/too many frames that make no progress/);
    expect(peaks.receiveBuffered).toBeLessThanOrEqual(64 * 1024);
    expect(peaks.queuedBytes).toBeLessThanOrEqual(64 * 1024);
  });

  it('endless PUSH_PROMISE without a push listener: each refused, then ENHANCE_YOUR_CALM', async () => {
    let conn!: RawServerConnection;
    const { s, peaks } = await hostile(async (c) => {
      conn = c;
      c.preface();
      const r = await c.request();
      const fields: Array<[string, string]> = [
        [':method', 'GET'],
        [':scheme', 'http'],
        [':authority', 'x'],
        [':path', '/p'],
      ];
      await flood(c, (i) => encodePushPromise(r.streamId, 2 + 2 * i, c.encode(fields)), 100_000);
    });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('ENHANCE_YOUR_CALM');
    expect(e.message).toMatch(/too many streams reset or refused/);
    await closed(s);
    expect(conn.count(FrameType.RST_STREAM, (f) => f.errorCode === ErrorCode.CANCEL)).toBeGreaterThan(100);
    expect(peaks.streams).toBeLessThanOrEqual(1);
  });

  it('endless PUSH_PROMISE to a listener that keeps every push: at most maxConcurrentStreams kept, then ENHANCE_YOUR_CALM', async () => {
    const pushes: Array<Promise<unknown>> = [];
    const { s, peaks } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      const fields: Array<[string, string]> = [
        [':method', 'GET'],
        [':scheme', 'http'],
        [':authority', 'x'],
        [':path', '/p'],
      ];
      await flood(c, (i) => encodePushPromise(r.streamId, 2 + 2 * i, c.encode(fields)), 100_000);
    });
    s.on('push', (p) => pushes.push(p.response));
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('ENHANCE_YOUR_CALM');
    await closed(s);
    expect(peaks.streams).toBeLessThanOrEqual(101);
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes.length).toBeLessThanOrEqual(100);
    // Every promised response rejects too.
    for (const p of pushes) expect((await rejection(p)).code).toBe('ENHANCE_YOUR_CALM');
  });

  it('RST_STREAM before the response: the request rejects with its code (REFUSED_STREAM: retryable)', async () => {
    const { s } = await hostile(async (c) => {
      c.preface();
      const a = await c.request();
      c.send(encodeRstStream(a.streamId, ErrorCode.INTERNAL_ERROR));
      const b = await c.request(c.frames.indexOf(a) + 1);
      c.send(encodeRstStream(b.streamId, ErrorCode.REFUSED_STREAM));
    });
    const a = await rejection(s.request({ ':path': '/a' }));
    expect(a).toMatchObject({ code: 'INTERNAL_ERROR', errorCode: ErrorCode.INTERNAL_ERROR, streamId: 1, retryable: false });
    expect(a.message).toMatch(/reset by the server with INTERNAL_ERROR/);
    const b = await rejection(s.request({ ':path': '/b' }));
    expect(b).toMatchObject({ code: 'REFUSED_STREAM', streamId: 3, retryable: true });
    expect(s.activeStreams).toBe(0);
  });

  it('RST_STREAM in the middle of the body: the body read rejects after the octets that came', async () => {
    const { s } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      c.send(
        c.headers(r.streamId, [
          [':status', '200'],
          ['content-length', '100'],
        ]),
        c.data(r.streamId, 'abc'),
        encodeRstStream(r.streamId, ErrorCode.CANCEL),
      );
    });
    const r = await value(s.request({ ':path': '/' }));
    expect(r.status).toBe(200);
    const got: string[] = [];
    const e = await rejection(
      (async () => {
        for await (const chunk of r.body) got.push(Buffer.from(chunk).toString());
      })(),
    );
    expect(got.join('')).toBe('abc');
    expect(e).toMatchObject({ code: 'CANCEL', streamId: 1 });
    expect((await rejection(r.trailers)).code).toBe('CANCEL');
  });

  it('GOAWAY before the request: refused as retryable, nothing sent, the session closes', async () => {
    let conn!: RawServerConnection;
    const { s } = await hostile((c) => {
      conn = c;
      c.preface();
      c.send(encodeGoaway(0, ErrorCode.NO_ERROR, enc.encode('maintenance')));
    });
    const g = await value(new Promise<[number, number, string]>((resolve) => s.on('goaway', (...a) => resolve(a))));
    expect(g).toEqual([0, ErrorCode.NO_ERROR, 'maintenance']);
    expect(s.closed).toBe(true);
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e).toMatchObject({ code: 'GOAWAY', retryable: true });
    expect(e.message).toMatch(/maintenance.*may be retried/);
    await closed(s);
    expect(conn.count(FrameType.HEADERS)).toBe(0);
  });

  it('GOAWAY with a last-stream-id below in-flight requests: those above reject as retryable, the one below completes', async () => {
    const { s } = await hostile(async (c) => {
      c.preface();
      await c.waitFor(() => c.count(FrameType.HEADERS) >= 3);
      c.send(encodeGoaway(1, ErrorCode.NO_ERROR));
      await new Promise((r) => setTimeout(r, 20));
      c.send(c.headers(1, OK_200), c.data(1, 'one', true));
    });
    const [r1, r3, r5] = [s.request({ ':path': '/1' }), s.request({ ':path': '/3' }), s.request({ ':path': '/5' })];
    for (const [p, id] of [
      [r3, 3],
      [r5, 5],
    ] as const) {
      const e = await rejection(p);
      expect(e).toMatchObject({ code: 'GOAWAY', retryable: true, streamId: id });
    }
    const r = await value(r1);
    expect(await value(r.text())).toBe('one');
    expect((await rejection(s.request({ ':path': '/7' }))).retryable).toBe(true);
    const info = await closed(s);
    expect(info.peerGoaway).toMatchObject({ lastStreamId: 1, errorCode: ErrorCode.NO_ERROR });
  });

  it.each([
    ['before the response', (c: RawServerConnection, _id: number) => c.destroy(), 'request'],
    [
      'after the header section',
      (c: RawServerConnection, id: number) => {
        c.send(
          c.headers(id, [
            [':status', '200'],
            ['content-length', '1000'],
          ]),
        );
        c.socket.end();
      },
      'body',
    ],
    [
      'in the middle of the body',
      (c: RawServerConnection, id: number) => {
        c.send(
          c.headers(id, [
            [':status', '200'],
            ['content-length', '1000'],
          ]),
          c.data(id, 'x'.repeat(100)),
        );
        c.destroy();
      },
      'body',
    ],
    [
      'in the middle of a frame',
      (c: RawServerConnection, id: number) => {
        c.send(c.headers(id, OK_200), c.data(id, 'x'.repeat(1000)).subarray(0, 500));
        c.destroy();
      },
      'body',
    ],
  ] as const)('a TCP close %s: CONNECTION_CLOSED', async (_when, close, where) => {
    const { s } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      close(c, r.streamId);
    });
    const p = s.request({ ':path': '/' });
    let e: Http2Error;
    if (where === 'request') e = await rejection(p);
    else {
      const r = await value(p);
      expect(r.status).toBe(200);
      e = await rejection(r.bytes());
    }
    expect(e.code).toBe('CONNECTION_CLOSED');
    expect(e.message).toMatch(/closed before the response was complete/);
    await closed(s);
    expect(s.activeStreams).toBe(0);
  });

  it('a server that never answers: the request timeout rejects with TIMEOUT and resets the stream', async () => {
    let conn!: RawServerConnection;
    const { s } = await hostile(async (c) => {
      conn = c;
      c.preface();
    });
    const e = await rejection(s.request({ ':path': '/' }, { timeout: 200 }));
    expect(e).toMatchObject({ code: 'TIMEOUT', streamId: 1 });
    expect(e.message).toMatch(/no response for 200 ms/);
    expect((await conn.waitFor((f) => f.type === FrameType.RST_STREAM)).errorCode).toBe(ErrorCode.CANCEL);
    expect(s.activeStreams).toBe(0);
  });

  it('a server that never answers: the session requestTimeout rejects with TIMEOUT', async () => {
    const { s } = await hostile((c) => c.preface(), { requestTimeout: 200 });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('TIMEOUT');
  });

  it('the session requestTimeout counts from the last frame: a slow body that keeps coming is not cut off', async () => {
    const { s } = await hostile(
      async (c) => {
        c.preface();
        const r = await c.request();
        c.send(c.headers(r.streamId, OK_200));
        // 8 x 100 ms: the response takes twice the timeout, but no gap between frames reaches it.
        for (let i = 0; i < 8; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          c.send(c.data(r.streamId, `part ${i};`, i === 7));
        }
      },
      { requestTimeout: 400 },
    );
    const r = await value(s.request({ ':path': '/' }));
    expect(new TextDecoder().decode(await r.bytes())).toBe('part 0;part 1;part 2;part 3;part 4;part 5;part 6;part 7;');
  });

  it('the session requestTimeout of a request made long after the last read counts from the request', async () => {
    const { s } = await hostile(
      async (c) => {
        c.preface();
        for (let from = 0; ; ) {
          const r = await c.request(from, 10_000);
          from = c.frames.indexOf(r) + 1;
          await new Promise((resolve) => setTimeout(resolve, 150));
          c.send(c.headers(r.streamId, OK_200), c.data(r.streamId, 'late but in time', true));
        }
      },
      { requestTimeout: 300 },
    );
    expect((await value(s.request({ ':path': '/' }))).status).toBe(200);
    // Nothing arrives for longer than the timeout; then a request the server answers within it.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const r = await value(s.request({ ':path': '/again' }));
    expect(new TextDecoder().decode(await r.bytes())).toBe('late but in time');
  });

  it('a body that stops coming: the body read rejects with TIMEOUT', async () => {
    const { s } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      c.send(c.headers(r.streamId, OK_200), c.data(r.streamId, 'start'));
    });
    const r = await value(s.request({ ':path': '/' }, { timeout: 300 }));
    expect((await rejection(r.bytes())).code).toBe('TIMEOUT');
  });

  it('a server that never sends its SETTINGS: ENHANCE_YOUR_CALM after limits.handshakeTimeout', async () => {
    const { s } = await hostile(() => {}, { limits: { handshakeTimeout: 300 } });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('ENHANCE_YOUR_CALM');
    expect(e.message).toMatch(/no connection preface and SETTINGS in time/);
  });

  it('a server that never acknowledges our SETTINGS: SETTINGS_TIMEOUT', async () => {
    const { s } = await hostile(
      (c) => {
        c.autoAck = false;
        c.preface();
      },
      { limits: { settingsTimeout: 300 } },
    );
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('SETTINGS_TIMEOUT');
  });

  it('1xx responses, then the final one: resolved with the final status, the 1xx kept in order', async () => {
    const { s } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      c.send(
        c.headers(r.streamId, [[':status', '100']]),
        c.headers(r.streamId, [
          [':status', '103'],
          ['link', '</a.css>; rel=preload'],
        ]),
      );
      c.send(
        c.headers(r.streamId, [
          [':status', '200'],
          ['content-length', '2'],
        ]),
        c.data(r.streamId, 'ok', true),
      );
    });
    const r = await value(s.request({ ':path': '/' }));
    expect(r.status).toBe(200);
    expect(r.informational.map((h) => h.status)).toEqual([100, 103]);
    expect(r.informational[1]!.headers).toEqual([['link', '</a.css>; rel=preload']]);
    expect(await value(r.text())).toBe('ok');
  });

  it.each([
    ['with END_STREAM', [[':status', '100']], true, /a 1xx response with END_STREAM/],
    ['101', [[':status', '101']], false, /101 in HTTP\/2/],
  ] as const)('a 1xx %s: MALFORMED_RESPONSE', async (_what, fields, end, message) => {
    const { s } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      c.send(
        c.headers(
          r.streamId,
          fields.map(([n, v]) => [n, v] as [string, string]),
          end,
        ),
      );
    });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('MALFORMED_RESPONSE');
    expect(e.message).toMatch(message);
  });

  it('an endless stream of 1xx responses: ENHANCE_YOUR_CALM once the budget of frames without progress is spent', async () => {
    let sent = 0;
    const { s, peaks } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      // :status 100 as a literal with a static name (4 octets a frame).
      const block = concat(new Uint8Array([0x08]), hpackString('100'));
      sent = await flood(c, () => encodeHeaders(r.streamId, block), 300_000);
    });
    const e = await rejection(s.request({ ':path': '/' }), 25_000);
    expect(e.code).toBe('ENHANCE_YOUR_CALM');
    expect(e.message).toMatch(/too many frames that make no progress/);
    expect(sent).toBeLessThan(300_000);
    expect(peaks.streams).toBeLessThanOrEqual(1);
  });

  it('many large 1xx responses within the frame budget: the client keeps them only up to maxHeaderListSize', async () => {
    const { s } = await hostile(
      async (c) => {
        c.preface();
        const r = await c.request();
        const early = c.headers(r.streamId, [
          [':status', '103'],
          ['link', `<${'x'.repeat(1000)}>`],
        ]);
        for (let i = 0; i < 500; i++) c.send(early);
        c.send(c.headers(r.streamId, OK_200, true));
      },
      { limits: { zeroProgressBurst: 10_000 } },
    );
    const r = await value(s.request({ ':path': '/' }));
    expect(r.status).toBe(200);
    const kept = r.informational.reduce((n, h) => n + h.headers.reduce((m, [k, v]) => m + k.length + v.length + 32, 0), 0);
    expect(r.informational.length).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(65536);
    expect(r.informational[0]).toMatchObject({ status: 103 });
  });

  it.each([
    ['no :status', [['content-type', 'text/plain']], /missing :status/],
    ['a :status that is not three digits', [[':status', 'abc']], /invalid :status "abc"/],
    ['a :status of four digits', [[':status', '2000']], /invalid :status "2000"/],
    ['a :status below 100', [[':status', '099']], /invalid :status "099"/],
    [
      'two :status',
      [
        [':status', '200'],
        [':status', '204'],
      ],
      /duplicate :status/,
    ],
    [
      'a pseudo-header after a regular field',
      [
        ['x-a', '1'],
        [':status', '200'],
      ],
      /pseudo-header :status after a regular field/,
    ],
    [
      'a request pseudo-header',
      [
        [':status', '200'],
        [':path', '/'],
      ],
      /:path in a response/,
    ],
    [
      'an uppercase field name',
      [
        [':status', '200'],
        ['X-Upper', '1'],
      ],
      /invalid field name "X-Upper"/,
    ],
    [
      'a connection-specific field',
      [
        [':status', '200'],
        ['connection', 'close'],
      ],
      /connection-specific field connection/,
    ],
    [
      'an invalid content-length',
      [
        [':status', '200'],
        ['content-length', '12a'],
      ],
      /invalid content-length "12a"/,
    ],
  ] as const)('a malformed response head (%s): MALFORMED_RESPONSE, RST_STREAM PROTOCOL_ERROR, the session goes on', async (_what, fields, message) => {
    let conn!: RawServerConnection;
    const { s } = await hostile(async (c) => {
      conn = c;
      c.preface();
      const a = await c.request();
      c.send(
        c.headers(
          a.streamId,
          fields.map(([n, v]) => [n, v] as [string, string]),
          true,
        ),
      );
      const b = await c.request(c.frames.indexOf(a) + 1);
      c.send(c.headers(b.streamId, OK_200), c.data(b.streamId, 'fine', true));
    });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e).toMatchObject({ code: 'MALFORMED_RESPONSE', streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR });
    expect(e.message).toMatch(message);
    expect((await conn.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === 1)).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(await value((await value(s.request({ ':path': '/next' }))).text())).toBe('fine');
  });

  it('DATA before HEADERS: MALFORMED_RESPONSE, and its octets go back to the connection window', async () => {
    let conn!: RawServerConnection;
    const { s } = await hostile(
      async (c) => {
        conn = c;
        c.preface();
        const r = await c.request();
        // 4 x 16 KiB: the first is malformed, the rest arrive for a stream the client has reset.
        for (let i = 0; i < 4; i++) c.send(c.data(r.streamId, new Uint8Array(16384)));
      },
      { settings: { connectionWindowSize: 65535 } },
    );
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e).toMatchObject({ code: 'MALFORMED_RESPONSE', streamId: 1 });
    expect(e.message).toMatch(/DATA before the response HEADERS/);
    expect((await conn.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === 1)).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    // All 65,536 octets are given back to the server (the connection window is not shrunk for good).
    const credited = (): number => conn.frames.filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0).reduce((n, f) => n + f.increment!, 0);
    await conn.waitFor(() => credited() >= 4 * 16384, 3000);
    expect(credited()).toBe(4 * 16384);
  });

  it('a content-length larger than the DATA: the body read rejects with PROTOCOL_ERROR', async () => {
    const { s } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      c.send(
        c.headers(r.streamId, [
          [':status', '200'],
          ['content-length', '10'],
        ]),
        c.data(r.streamId, 'abc', true),
      );
    });
    const r = await value(s.request({ ':path': '/' }));
    const e = await rejection(r.bytes());
    expect(e).toMatchObject({ code: 'PROTOCOL_ERROR', streamId: 1 });
    expect(e.message).toMatch(/3 octets of DATA but content-length 10/);
  });

  it('a content-length smaller than the DATA: the body read rejects with PROTOCOL_ERROR', async () => {
    const { s } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      c.send(
        c.headers(r.streamId, [
          [':status', '200'],
          ['content-length', '2'],
        ]),
        c.data(r.streamId, 'abc', true),
      );
    });
    const r = await value(s.request({ ':path': '/' }));
    const e = await rejection(r.bytes());
    expect(e).toMatchObject({ code: 'PROTOCOL_ERROR', streamId: 1 });
    expect(e.message).toMatch(/more DATA than content-length 2/);
  });

  it('DATA beyond the stream window (a server that ignores flow control): FLOW_CONTROL_ERROR, at most a window held', async () => {
    const { s, peaks } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      c.send(c.headers(r.streamId, OK_200));
      await flood(c, () => c.data(r.streamId, new Uint8Array(16384)), 64, 4);
    });
    const r = await value(s.request({ ':path': '/' }));
    // The application does not read; the server sends anyway.
    await new Promise((res) => setTimeout(res, 200));
    const e = await rejection(r.bytes());
    expect(e).toMatchObject({ code: 'FLOW_CONTROL_ERROR', streamId: 1 });
    expect(peaks.heldBody).toBeLessThanOrEqual(65535);
  });

  it('DATA in tiny frames still arriving after the client cancelled the stream: not a flood, the session goes on', async () => {
    const { s } = await hostile(async (c) => {
      c.preface();
      const a = await c.request();
      c.send(c.headers(a.streamId, OK_200), c.data(a.streamId, 'x'));
      await c.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === a.streamId);
      // What the server had in flight when the cancel came: 3,000 one-octet DATA frames (within the windows).
      c.send(concat(...Array.from({ length: 3000 }, () => c.data(a.streamId, 'x'))));
      const b = await c.request(c.frames.indexOf(a) + 1);
      c.send(c.headers(b.streamId, OK_200), c.data(b.streamId, 'fine', true));
    });
    const r = await value(s.request({ ':path': '/a' }));
    for await (const _ of r.body) break;
    expect(await value((await value(s.request({ ':path': '/b' }))).text())).toBe('fine');
  });

  it('a frame larger than our SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR before its payload is buffered', async () => {
    const { s, peaks } = await hostile(async (c) => {
      c.preface();
      const r = await c.request();
      const h = c.raw(FrameType.DATA, 0, r.streamId, new Uint8Array(0));
      h[0] = 0xff; // a 16 MiB length, of which nothing follows
      c.send(h, new Uint8Array(1000));
    });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('FRAME_SIZE_ERROR');
    expect(peaks.receiveBuffered).toBeLessThan(16384);
  });

  it('SETTINGS_MAX_CONCURRENT_STREAMS 0: queued requests time out and leave nothing queued', async () => {
    let conn!: RawServerConnection;
    const { s } = await hostile((c) => {
      conn = c;
      c.preface([[SettingId.MAX_CONCURRENT_STREAMS, 0]]);
    });
    // The client has applied our SETTINGS once it acknowledges them.
    await conn.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0);
    const all = Array.from({ length: 50 }, (_, i) => s.request({ ':method': 'POST', ':path': `/${i}` }, { body: new Uint8Array(10_000), timeout: 100 }));
    // Every rejection is watched from the start: a request whose timer re-arms for the last
    // millisecond settles after later ones, which would meanwhile be unhandled rejections.
    const rejected = all.map((p) => rejection(p));
    for (const r of rejected) expect((await r).code).toBe('TIMEOUT');
    expect(s.pendingRequests).toBe(0);
    expect(conn.count(FrameType.HEADERS)).toBe(0);
    // Once the server allows a stream, the next request goes out (and only it).
    const next = s.request({ ':path': '/late' });
    conn.send(encodeSettings([[SettingId.MAX_CONCURRENT_STREAMS, 1]]));
    const h = await conn.request();
    expect(h.headers).toContainEqual([':path', '/late']);
    conn.send(conn.headers(h.streamId, OK_200, true));
    expect((await value(next)).status).toBe(200);
    expect(conn.count(FrameType.HEADERS)).toBe(1);
  });

  it('an h2c upgrade answered with an endless HTTP/1.1 head: UPGRADE_REFUSED, nothing buffered without bound', async () => {
    let sent = 0;
    const { s } = await hostile(
      async (c) => {
        await new Promise((r) => c.socket.once('data', r));
        c.send(enc.encode('HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n'));
        sent = await flood(c, (i) => enc.encode(`x-filler-${i}: ${'y'.repeat(100)}\r\n`), 1_000_000);
      },
      { upgrade: true },
    );
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('UPGRADE_REFUSED');
    expect(e.message).toMatch(/too large/);
    await closed(s);
    expect(sent).toBeLessThan(1_000_000);
  });

  it('an h2c upgrade answered with 200: UPGRADE_REFUSED quoting the status line', async () => {
    const { s } = await hostile(
      async (c) => {
        await new Promise((r) => c.socket.once('data', r));
        c.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi');
      },
      { upgrade: true },
    );
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('UPGRADE_REFUSED');
    expect(e.message).toContain('HTTP/1.1 200 OK');
    await closed(s);
  });

  it('HEADERS on a stream the server opened itself: PROTOCOL_ERROR', async () => {
    const { s } = await hostile(async (c) => {
      c.preface();
      await c.request();
      c.send(c.headers(2, OK_200, true));
    });
    const e = await rejection(s.request({ ':path': '/' }));
    expect(e.code).toBe('PROTOCOL_ERROR');
    expect(e.message).toMatch(/HEADERS on idle stream 2/);
  });
});
