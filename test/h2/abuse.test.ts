/**
 * Abuse limits: each attack gets GOAWAY (ENHANCE_YOUR_CALM or the RFC's code)
 * and a closed connection, memory per connection stays within its caps, and a
 * well-behaved connection to the same server keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/h2/index.js';
import { CONNECTION_PREFACE, ErrorCode, encodePing, encodeSettings, Flag, FrameType } from '../../src/h2/index.js';
import { DEFAULT_LIMITS } from '../../src/h2/limits.js';
import { connect, expectConnectionError, expectOk, open, until } from '../helpers/h2-expect.js';
import type { RawClient } from '../helpers/h2-raw-client.js';
import { startTestServer, type TestServer } from '../helpers/h2-test-server.js';

let ts: TestServer; // default limits
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(() => ts.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A well-behaved client on the same server: before, during and after the attack. */
async function bystander(port: number): Promise<{ check(): Promise<void> }> {
  const c = await open(port);
  let id = 1;
  const check = async () => {
    c.send(c.request(id, '/'));
    await expectOk(c, id, 'hello');
    id += 2;
  };
  await check();
  return { check };
}

const calm = (c: RawClient) => expectConnectionError(c, ErrorCode.ENHANCE_YOUR_CALM);

describe('rapid reset (CVE-2023-44487)', () => {
  it('streams opened and reset by the client beyond the budget (default 1000 + 33/s) -> ENHANCE_YOUR_CALM', async () => {
    const good = await bystander(ts.port);
    const c = await open(ts.port);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 1200; i++) {
      const id = 1 + 2 * i;
      frames.push(c.request(id, '/hold'), c.raw(FrameType.RST_STREAM, 0, id, [0, 0, 0, ErrorCode.CANCEL]));
    }
    c.send(...frames);
    await calm(c);
    const g = c.frames.find((f) => f.type === FrameType.GOAWAY)!;
    expect(g.lastStreamId).toBeGreaterThan(1000 * 2 - 1);
    await good.check();
  });

  it('fewer resets than the budget are fine', async () => {
    const c = await open(ts.port);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 500; i++) {
      const id = 1 + 2 * i;
      frames.push(c.request(id, '/hold'), c.raw(FrameType.RST_STREAM, 0, id, [0, 0, 0, ErrorCode.CANCEL]));
    }
    c.send(...frames, c.request(1001, '/'));
    await expectOk(c, 1001, 'hello');
  });

  it('streams the server must reset (malformed requests) count too -> ENHANCE_YOUR_CALM', async () => {
    const s = await startTestServer({ limits: { rapidResetBurst: 50, rapidResetRate: 1 } });
    try {
      const good = await bystander(s.port);
      const c = await open(s.port);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 80; i++)
        frames.push(
          c.headersFrame(1 + 2 * i, [
            [':method', 'GET'],
            [':path', '/'],
          ]),
        ); // no :scheme
      c.send(...frames);
      await calm(c);
      // Exactly the budget is answered with RST_STREAM; the next one gets GOAWAY instead.
      expect(c.frames.filter((f) => f.type === FrameType.RST_STREAM).length).toBe(50);
      await good.check();
    } finally {
      await s.close();
    }
  });

  it('refused streams (beyond MAX_CONCURRENT_STREAMS) count too -> ENHANCE_YOUR_CALM', async () => {
    const s = await startTestServer({ settings: { maxConcurrentStreams: 1 }, limits: { rapidResetBurst: 20, rapidResetRate: 1 } });
    try {
      const c = await open(s.port);
      const frames: Uint8Array[] = [c.request(1, '/hold')];
      for (let i = 1; i < 40; i++) frames.push(c.request(1 + 2 * i, '/hold'));
      c.send(...frames);
      await calm(c);
    } finally {
      await s.close();
    }
  });
});

describe('CONTINUATION flood', () => {
  it(`header block octets are capped before END_HEADERS (default ${DEFAULT_LIMITS.maxHeaderBlockSize}) -> ENHANCE_YOUR_CALM`, async () => {
    const good = await bystander(ts.port);
    const c = await open(ts.port);
    const block = c.encode([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/'],
    ]);
    c.send(c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, block));
    const junk = new Uint8Array(16384).fill(0x41);
    let sent = 0;
    while (!c.closed && sent < 8 << 20) {
      c.send(c.raw(FrameType.CONTINUATION, 0, 1, junk));
      sent += junk.length;
      if (sent % (256 << 10) === 0) await sleep(1);
    }
    await calm(c);
    const g = c.frames.find((f) => f.type === FrameType.GOAWAY)!;
    expect(Buffer.from(g.payload.subarray(8)).toString()).toMatch(/header block larger than 262144/);
    await good.check();
  });

  it(`CONTINUATION frames are counted too: one-octet frames stop after ${DEFAULT_LIMITS.maxContinuations} -> ENHANCE_YOUR_CALM`, async () => {
    const good = await bystander(ts.port);
    const c = await open(ts.port);
    const block = c.encode([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/'],
      ['x-pad', 'y'.repeat(200)],
    ]);
    const frames = [c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, block.subarray(0, 1))];
    for (let i = 1; i < 200; i++) frames.push(c.raw(FrameType.CONTINUATION, 0, 1, block.subarray(i, i + 1)));
    c.send(...frames);
    await calm(c);
    const g = c.frames.find((f) => f.type === FrameType.GOAWAY)!;
    expect(Buffer.from(g.payload.subarray(8)).toString()).toMatch(new RegExp(`more than ${DEFAULT_LIMITS.maxContinuations} CONTINUATION frames`));
    await good.check();
  });

  it('a header block split into the allowed number of CONTINUATION frames is served', async () => {
    const c = await open(ts.port);
    const block = c.encode([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/'],
      ['x-pad', 'y'.repeat(200)],
    ]);
    const step = Math.ceil(block.length / (DEFAULT_LIMITS.maxContinuations + 1));
    c.send(c.split(1, block, true, step));
    expect((await c.response(1)).status).toBe('200');
  });

  it('empty CONTINUATION frames are zero-progress frames -> ENHANCE_YOUR_CALM', async () => {
    const c = await open(ts.port);
    const block = c.encode([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/'],
    ]);
    const frames = [c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, block)];
    for (let i = 0; i < 2000; i++) frames.push(c.raw(FrameType.CONTINUATION, 0, 1, []));
    c.send(...frames);
    await calm(c);
  });

  it('the server never holds more than the cap of one header block', async () => {
    const s = await startTestServer({ limits: { maxHeaderBlockSize: 8192 } });
    try {
      const c = await open(s.port);
      c.send(c.raw(FrameType.HEADERS, 0, 1, new Uint8Array(4000)), c.raw(FrameType.CONTINUATION, 0, 1, new Uint8Array(4000)));
      const conn = s.server.getConnections()[0]!;
      await until(() => conn.stats.headerBlock === 8000);
      expect(conn.stats.headerBlock).toBe(8000);
      c.send(c.raw(FrameType.CONTINUATION, 0, 1, new Uint8Array(400)));
      await calm(c);
    } finally {
      await s.close();
    }
  });
});

describe('HPACK bomb', () => {
  it('a block that decodes beyond SETTINGS_MAX_HEADER_LIST_SIZE gets 431 and the connection stays', async () => {
    const c = await open(ts.port);
    // :method GET, :scheme http, :path /, :authority "a" (literal without indexing): 6 octets.
    const pseudo = [0x82, 0x86, 0x84, 0x01, 0x01, 0x61];
    // x-bomb: 4000 octets, literal with incremental indexing: the newest entry (index 62).
    const entry = Buffer.concat([Buffer.from([0x40, 0x06]), Buffer.from('x-bomb'), Buffer.from([0x7f, 0xa1, 0x1e]), Buffer.alloc(4000, 0x62)]);
    c.send(c.split(1, Buffer.concat([Buffer.from(pseudo), entry])));
    await expectOk(c, 1, 'hello');
    // 100 one-octet references to it: 400 KB decoded from 106 octets.
    const bomb = Buffer.concat([Buffer.from(pseudo), Buffer.alloc(100, 0xbe)]);
    c.send(c.raw(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3, bomb));
    const r = await c.response(3);
    expect(r.status).toBe('431');
    // The HPACK context is intact: index 62 is still the entry.
    c.send(
      c.raw(
        FrameType.HEADERS,
        Flag.END_HEADERS | Flag.END_STREAM,
        5,
        Buffer.from([...pseudo.slice(0, 2), 0x04, 0x05, 0x2f, 0x69, 0x6e, 0x66, 0x6f, 0x01, 0x01, 0x61, 0xbe]),
      ),
    );
    const info = await c.response(5);
    expect(info.status).toBe('200');
    expect(JSON.parse(info.body.toString()).headers).toEqual([['x-bomb', 'b'.repeat(4000)]]);
  });

  it(`the "HTTP/2 bomb": more than ${DEFAULT_LIMITS.maxHeaderFields} fields of one-octet indexed references get 431, the context stays intact`, async () => {
    const c = await open(ts.port);
    const pseudo = [0x82, 0x86, 0x84, 0x01, 0x01, 0x61];
    // accept-encoding: gzip, deflate (static index 16) 2000 times: 2 KB on the wire, under 64 KiB of list size.
    const refs = Buffer.alloc(2000, 0x90);
    c.send(c.split(1, Buffer.concat([Buffer.from(pseudo), refs])));
    expect((await c.response(1)).status).toBe('431');
    // Just at the cap: served.
    c.send(c.split(3, Buffer.concat([Buffer.from(pseudo), Buffer.alloc(DEFAULT_LIMITS.maxHeaderFields - 4, 0x90)])));
    await expectOk(c, 3, 'hello');
  });

  it('a header list just under the limit is served', async () => {
    const c = await open(ts.port);
    const block = c.encode([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/'],
      ['x-big', 'v'.repeat(60000)],
    ]);
    c.send(c.split(1, block));
    await expectOk(c, 1, 'hello');
  });

  it('a smaller SETTINGS_MAX_HEADER_LIST_SIZE is enforced (and advertised)', async () => {
    const s = await startTestServer({ settings: { maxHeaderListSize: 1000 } });
    try {
      const c = await open(s.port);
      const settings = c.frames.find((f) => f.type === FrameType.SETTINGS)!;
      expect(Buffer.from(settings.payload).toString('hex')).toContain('0006000003e8');
      c.send(c.request(1, '/', { extra: [['x-big', 'v'.repeat(1000)]] }));
      expect((await c.response(1)).status).toBe('431');
      c.send(c.request(3, '/'));
      await expectOk(c, 3, 'hello');
    } finally {
      await s.close();
    }
  });
});

/** Writes `frame` repeatedly without reading our socket, until the server gives up on the connection (or `max` octets). */
async function floodWithoutReading(c: RawClient, conn: Connection, frame: Uint8Array, max: number): Promise<number> {
  c.socket.pause();
  const batch = Buffer.concat(Array.from({ length: Math.floor(65536 / frame.length) }, () => frame));
  let sent = 0;
  while (sent < max && !c.closed && !conn.closed) {
    const ok = c.socket.write(batch);
    sent += batch.length;
    if (!ok) await Promise.race([new Promise((r) => c.socket.once('drain', r)), sleep(100)]);
  }
  return sent;
}

describe('control frame floods while the peer does not read', () => {
  it('PING flood without reading the ACKs: queued replies are capped -> ENHANCE_YOUR_CALM', async () => {
    const s = await startTestServer({ limits: { zeroProgressBurst: 1e9, zeroProgressRate: 1e9 } });
    try {
      const good = await bystander(s.port);
      const c = await open(s.port);
      const conn = s.server.getConnections().find((x) => x.remotePort === c.socket.localPort)!;
      let maxQueued = 0;
      const sampler = setInterval(() => (maxQueued = Math.max(maxQueued, conn.stats.queuedBytes)), 1);
      const sent = await floodWithoutReading(c, conn, encodePing(new Uint8Array(8)), 256 << 20);
      clearInterval(sampler);
      expect(conn.closed).toBe(true);
      expect(sent).toBeLessThan(256 << 20);
      c.socket.resume();
      await calm(c);
      await until(() => s.connectionCloses.length > 0);
      expect(s.connectionCloses.some((i) => i.error?.errorCode === ErrorCode.ENHANCE_YOUR_CALM && /does not read/.test(i.reason))).toBe(true);
      expect(maxQueued).toBeLessThanOrEqual(DEFAULT_LIMITS.maxQueuedBytes + 65536);
      await good.check();
    } finally {
      await s.close();
    }
  });

  it('SETTINGS flood without reading the ACKs -> ENHANCE_YOUR_CALM', async () => {
    const s = await startTestServer({ limits: { zeroProgressBurst: 1e9, zeroProgressRate: 1e9, maxQueuedFrames: 2000 } });
    try {
      const c = await open(s.port);
      const conn = s.server.getConnections().find((x) => x.remotePort === c.socket.localPort)!;
      await floodWithoutReading(c, conn, encodeSettings([[3, 100]]), 256 << 20);
      expect(conn.closed).toBe(true);
      c.socket.resume();
      await calm(c);
      await until(() => s.connectionCloses.length > 0);
      expect(s.connectionCloses.some((i) => /does not read/.test(i.reason))).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('zero-progress frame floods (default budget 1000 + 100/s)', () => {
  it('empty DATA frames without END_STREAM -> ENHANCE_YOUR_CALM', async () => {
    const good = await bystander(ts.port);
    const c = await open(ts.port);
    const frames = [c.request(1, '/count', { method: 'POST', endStream: false })];
    for (let i = 0; i < 1500; i++) frames.push(c.data(1, '', false));
    c.send(...frames);
    await calm(c);
    await good.check();
  });

  it('PING flood (read, but endless) -> ENHANCE_YOUR_CALM', async () => {
    const c = await open(ts.port);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 1500; i++) frames.push(encodePing(new Uint8Array(8)));
    c.send(...frames);
    await calm(c);
    expect(c.frames.filter((f) => f.type === FrameType.PING).length).toBeLessThanOrEqual(1100);
  });

  it('PRIORITY flood -> ENHANCE_YOUR_CALM', async () => {
    const c = await open(ts.port);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 1500; i++) frames.push(c.raw(FrameType.PRIORITY, 0, 1 + 2 * i, [0, 0, 0, 0, 7]));
    c.send(...frames);
    await calm(c);
  });

  it('SETTINGS flood (read) -> ENHANCE_YOUR_CALM', async () => {
    const c = await open(ts.port);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 1500; i++) frames.push(encodeSettings([]));
    c.send(...frames);
    await calm(c);
  });

  it('unknown frame type flood -> ENHANCE_YOUR_CALM', async () => {
    const c = await open(ts.port);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 1500; i++) frames.push(c.raw(0x42, 0, 0, []));
    c.send(...frames);
    await calm(c);
  });

  it('WINDOW_UPDATE flood on a closed stream -> ENHANCE_YOUR_CALM', async () => {
    const c = await open(ts.port);
    c.send(c.request(1));
    await expectOk(c, 1);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 1500; i++) frames.push(c.windowUpdate(1, 1));
    c.send(...frames);
    await calm(c);
  });

  it('DATA with content still arriving on a stream the server reset (an upload in small frames) is not a flood', async () => {
    const s = await startTestServer({ handler: (st) => st.reset(ErrorCode.CANCEL) });
    try {
      const c = await open(s.port);
      c.send(c.request(1, '/up', { method: 'POST', endStream: false }));
      await c.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === 1);
      // What the client had in flight when the reset came: 3,000 one-octet DATA frames (within the windows).
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 3000; i++) frames.push(c.data(1, 'x', false));
      c.send(...frames);
      expect(await c.ping()).toBe(true);
      expect(c.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(false);
      c.close();
    } finally {
      await s.close();
    }
  });

  it('a few hundred such frames are tolerated', async () => {
    const c = await open(ts.port);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) frames.push(encodePing(new Uint8Array(8)), c.raw(FrameType.PRIORITY, 0, 3, [0, 0, 0, 0, 7]));
    c.send(...frames, c.request(1));
    await expectOk(c, 1, 'hello');
  });
});

describe('idle and slow connections', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ limits: { idleTimeout: 300, handshakeTimeout: 300, frameTimeout: 300 } });
  });
  afterAll(() => s.close());

  it('idle timeout: no streams and no frames -> GOAWAY NO_ERROR and close', async () => {
    const c = await open(s.port);
    const t0 = Date.now();
    await expectConnectionError(c, ErrorCode.NO_ERROR);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
  });

  it('idle timeout does not close a connection with an open stream', async () => {
    const c = await open(s.port);
    c.send(c.request(1, '/hold'));
    await sleep(700);
    expect(c.closed).toBe(false);
    expect(await c.ping()).toBe(true);
  });

  it('slowloris: no preface within the handshake timeout -> SETTINGS (our preface comes first), GOAWAY, close', async () => {
    const c = await connect(s.port, { preface: false });
    c.send(CONNECTION_PREFACE.subarray(0, 10));
    await c.waitClosed(2000);
    expect(c.closed).toBe(true);
    expect(c.frames[0]!.type).toBe(FrameType.SETTINGS);
    expect(c.frames.at(-1)!.type).toBe(FrameType.GOAWAY);
    await until(() => s.connectionCloses.some((i) => /preface/.test(i.reason)));
    expect(s.connectionCloses.some((i) => /preface/.test(i.reason))).toBe(true);
  });

  it('slowloris: a frame left incomplete -> ENHANCE_YOUR_CALM', async () => {
    const c = await open(s.port);
    const h = c.request(1, '/');
    c.send(h.subarray(0, h.length - 3));
    await calm(c);
  });

  it('slowloris: a frame dribbled one octet per 50 ms -> ENHANCE_YOUR_CALM', async () => {
    const c = await open(s.port);
    const h = c.request(1, '/', { extra: [['x-pad', 'p'.repeat(200)]] });
    let i = 0;
    const timer = setInterval(() => {
      if (i < h.length) c.send(h.subarray(i, ++i));
    }, 50);
    try {
      await calm(c);
    } finally {
      clearInterval(timer);
    }
  });

  it('slowloris: a header block kept open with a CONTINUATION every 100 ms -> ENHANCE_YOUR_CALM', async () => {
    const c = await open(s.port);
    c.send(c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, c.encode([[':method', 'GET']])));
    const timer = setInterval(() => c.send(c.raw(FrameType.CONTINUATION, 0, 1, c.encode([['x-a', 'b']]))), 100);
    try {
      await calm(c);
    } finally {
      clearInterval(timer);
    }
  });

  it('a slow but progressing upload is not a slowloris', async () => {
    const c = await open(s.port);
    c.send(c.request(1, '/count', { method: 'POST', endStream: false }));
    for (let i = 0; i < 8; i++) {
      c.send(c.data(1, 'x', false));
      await sleep(60);
    }
    c.send(c.data(1, '', true));
    await expectOk(c, 1, '8');
  });
});

describe('slow reads (send timeout)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ limits: { sendTimeout: 300 } });
  });
  afterAll(() => s.close());

  it('a window the peer never opens -> ENHANCE_YOUR_CALM after the send timeout', async () => {
    const good = await bystander(s.port);
    const c = await open(s.port, [[4, 0]]); // SETTINGS_INITIAL_WINDOW_SIZE 0
    c.send(c.request(1, '/size/1000'));
    await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1);
    const t0 = Date.now();
    await calm(c);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    await good.check();
  });

  it('a peer that stops reading a large response -> ENHANCE_YOUR_CALM after the send timeout', async () => {
    const c = await open(s.port, [[4, 2 ** 31 - 1]]);
    c.send(c.windowUpdate(0, 2 ** 31 - 1 - 65535));
    c.socket.pause();
    c.send(c.request(1, '/size/67108864'));
    const conn = s.server.getConnections().find((x) => x.remotePort === c.socket.localPort)!;
    await until(() => conn.closed, 5000);
    expect(conn.closed).toBe(true);
    await until(() => s.connectionCloses.some((i) => /none of our DATA/.test(i.reason)), 5000);
    expect(s.connectionCloses.some((i) => i.error?.errorCode === ErrorCode.ENHANCE_YOUR_CALM && /none of our DATA/.test(i.reason))).toBe(true);
  });

  it('a slow reader that keeps making progress is served', async () => {
    const c = await open(s.port, [[4, 1000]]);
    c.send(c.request(1, '/size/5000'));
    for (let i = 0; i < 5; i++) {
      await sleep(150);
      c.send(c.windowUpdate(1, 1000));
    }
    const r = await c.response(1);
    expect(r.body.length).toBe(5000);
  });
});

describe('memory per connection stays bounded', () => {
  it('a request body without a reader is held only up to the windows (FLOW_CONTROL_ERROR beyond)', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/hold', { method: 'POST', endStream: false }));
    for (let i = 0; i < 4; i++) c.send(c.data(1, new Uint8Array(16000), false));
    await c.ping();
    const conn = ts.server.getConnections().find((x) => x.remotePort === c.socket.localPort)!;
    expect(conn.stats.heldBody).toBe(64000);
    c.send(c.data(1, new Uint8Array(1536), false)); // 65536 > 65535
    expect(await c.rst(1)).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expect(conn.stats.heldBody).toBe(0);
  });

  it('a frame header announcing more than SETTINGS_MAX_FRAME_SIZE is refused before its payload is buffered', async () => {
    const c = await open(ts.port);
    c.send(new Uint8Array([0xff, 0xff, 0xff, FrameType.DATA, 0, 0, 0, 0, 1]));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });
});
