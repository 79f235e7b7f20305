/**
 * What nghttp's command line needs from the client engine: PRIORITY frames
 * on idle anchor streams and a priority signal on HEADERS (RFC 7540 §5.3),
 * the first stream id after the anchors, the server's concurrency limit
 * assumed before its SETTINGS (-M), the HTTP/1.1 heads of an upgrade, the
 * stream id of a request as it opens, and nghttp's pseudo-header order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type FrameEvent, FrameType } from '../../src/h2/index.js';
import { requestFields } from '../../src/h2/response.js';
import { startTestServer, type TestServer } from '../helpers/h2-test-server.js';

let ts: TestServer;
let url: string;
const serverSaw: FrameEvent[] = [];
beforeAll(async () => {
  ts = await startTestServer({ onFrame: (e) => serverSaw.push(e) });
  url = `http://127.0.0.1:${ts.port}`;
});
afterAll(async () => {
  await ts.close();
});

const recvBy = (events: FrameEvent[], type: number) => events.filter((e) => e.direction === 'recv' && e.type === type);

const invalidArgument = expect.objectContaining({ name: 'Http2Error', code: 'INVALID_ARGUMENT' });

describe('priority signals (RFC 7540 §5.3)', () => {
  it('PRIORITY on idle anchor streams, then a request on stream 13 whose HEADERS carry PRIORITY', async () => {
    serverSaw.length = 0;
    const s = await connect(url);
    try {
      s.priority(3, { dependency: 0, weight: 201, exclusive: false });
      s.priority(11, { dependency: 3, weight: 1, exclusive: false });
      s.setNextStreamId(13);
      let opened = 0;
      const r = await s.request({ ':path': '/' }, { priority: { dependency: 11, weight: 16, exclusive: false }, onStream: (id) => (opened = id) });
      expect(opened).toBe(13);
      expect(r.streamId).toBe(13);
      expect(await r.text()).toBe('hello');
      // A second request: its HEADERS have no priority unless asked.
      const r2 = await s.request({ ':path': '/' });
      expect(r2.streamId).toBe(15);
      await r2.text();
    } finally {
      await s.close();
    }
    // What the server parsed off the wire.
    const prio = recvBy(serverSaw, FrameType.PRIORITY);
    expect(prio.map((e) => [e.streamId, e.priority])).toEqual([
      [3, { dependency: 0, weight: 201, exclusive: false }],
      [11, { dependency: 3, weight: 1, exclusive: false }],
    ]);
    const headers = recvBy(serverSaw, FrameType.HEADERS);
    expect(headers.map((e) => [e.streamId, e.flags, e.priority])).toEqual([
      [13, 0x25, { dependency: 11, weight: 16, exclusive: false }],
      [15, 0x05, undefined],
    ]);
  });

  it('bad ids and weights are Http2Error INVALID_ARGUMENT; stream ids only grow', async () => {
    const s = await connect(url);
    try {
      expect(() => s.priority(0, { dependency: 0, weight: 16, exclusive: false })).toThrow(invalidArgument);
      expect(() => s.priority(3, { dependency: 0, weight: 0, exclusive: false })).toThrow(invalidArgument);
      expect(() => s.priority(3, { dependency: 0, weight: 257, exclusive: false })).toThrow(invalidArgument);
      expect(() => s.priority(5, { dependency: 5, weight: 16, exclusive: false })).toThrow(/itself/);
      expect(() => s.setNextStreamId(4)).toThrow(invalidArgument);
      s.setNextStreamId(7);
      expect(() => s.setNextStreamId(5)).toThrow(invalidArgument);
      const r = await s.request({ ':path': '/' });
      expect(r.streamId).toBe(7);
      await r.text();
    } finally {
      await s.close();
    }
  });

  it('under the h2c upgrade, PRIORITY waits for the connection preface; the HTTP/1.1 heads are observed', async () => {
    serverSaw.length = 0;
    const heads: Array<[string, string]> = [];
    const sent: FrameEvent[] = [];
    const s = await connect(url, { upgrade: true, onHttp1: (d, h) => heads.push([d, h]), onFrame: (e) => sent.push(e) });
    try {
      const p = s.request({ ':path': '/' });
      s.setNextStreamId(13);
      s.priority(3, { dependency: 0, weight: 201, exclusive: false });
      s.priority(1, { dependency: 3, weight: 16, exclusive: false });
      // Nothing is framed before the 101.
      expect(sent).toEqual([]);
      const r = await p;
      expect(r.streamId).toBe(1);
      expect(await r.text()).toBe('hello');
      const r2 = await s.request({ ':path': '/' });
      expect(r2.streamId).toBe(13);
      await r2.text();
    } finally {
      await s.close();
    }
    expect(heads.map(([d]) => d)).toEqual(['send', 'recv']);
    expect(heads[0]![1]).toMatch(/^GET \/ HTTP\/1\.1\r\n[\s\S]*Upgrade: h2c\r\n[\s\S]*\r\n\r\n$/);
    expect(heads[1]![1]).toMatch(/^HTTP\/1\.1 101 [\s\S]*\r\n\r\n$/);
    // The preface (SETTINGS) first, then the PRIORITY frames.
    expect(sent.filter((e) => e.direction === 'send')[0]!.type).toBe(FrameType.SETTINGS);
    expect(sent.some((e) => e.direction === 'send' && e.type === FrameType.PRIORITY)).toBe(true);
    expect(recvBy(serverSaw, FrameType.PRIORITY).map((e) => e.streamId)).toEqual([3, 1]);
    expect(ts.errors).toEqual([]);
  });
});

describe('the server limit before its SETTINGS (nghttp -M)', () => {
  it.each([
    [1, 1],
    [100, 2],
  ])('peerMaxConcurrentStreams %i: %i HEADERS go out before the server speaks', async (limit, expected) => {
    const sent: FrameEvent[] = [];
    const s = await connect(url, { peerMaxConcurrentStreams: limit, onFrame: (e) => sent.push(e) });
    try {
      const a = s.request({ ':path': '/' });
      const b = s.request({ ':path': '/' });
      // Synchronously after the calls: what was written before anything was received.
      expect(sent.filter((e) => e.direction === 'send' && e.type === FrameType.HEADERS).length).toBe(expected);
      await Promise.all([(await a).text(), (await b).text()]);
    } finally {
      await s.close();
    }
  });
});

describe("request pseudo-headers in nghttp's order", () => {
  it('all four given: kept in the order given; otherwise :method, :scheme, :authority, :path', () => {
    const given = requestFields(
      [
        [':method', 'GET'],
        [':path', '/x'],
        [':scheme', 'http'],
        [':authority', 'a:1'],
        ['accept', '*/*'],
      ],
      'https',
      'b',
    );
    expect(given.fields.map(([n]) => n)).toEqual([':method', ':path', ':scheme', ':authority', 'accept']);
    const partial = requestFields([[':path', '/x']], 'https', 'b');
    expect(partial.fields).toEqual([
      [':method', 'GET'],
      [':scheme', 'https'],
      [':authority', 'b'],
      [':path', '/x'],
    ]);
  });
});
