/**
 * Header text, one rule for the whole h2 API: received names and values are
 * text (the octets as UTF-8, U+FFFD where they are not UTF-8) with the exact
 * octets in rawHeaders; sent strings are UTF-8 and Uint8Array values go as
 * they are. Requests, responses, trailers, push and the frame observer, on
 * both roles; get()/getAll() alike on ServerStream and ClientResponse.
 */
import { describe, expect, it } from 'vitest';
import { connect, type FrameEvent, FrameType, Http2Error, type ServerStream } from '../../src/h2/index.js';
import { open } from '../helpers/h2-expect.js';
import { startRawServer } from '../helpers/h2-raw-server.js';
import { startTestServer } from '../helpers/h2-test-server.js';

const utf8 = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const bytes = (b: Uint8Array | undefined): number[] => [...(b ?? [])];
const raw = (list: Array<[string, Uint8Array]>, name: string): number[] => bytes(list.find(([n]) => n === name)?.[1]);
/** c, é in Latin-1: not UTF-8. */
const NOT_UTF8 = new Uint8Array([0x63, 0xe9]);

async function withServer(handler: (s: ServerStream) => void, fn: (url: string, frames: FrameEvent[]) => Promise<void>): Promise<void> {
  const frames: FrameEvent[] = [];
  const ts = await startTestServer({ handler, onFrame: (e) => frames.push(e) });
  try {
    await fn(`http://127.0.0.1:${ts.port}`, frames);
    expect(ts.errors).toEqual([]);
  } finally {
    await ts.close();
  }
}

describe('requests reach the handler as text', () => {
  it('a UTF-8 value is text (café, not cafÃ©); get() ignores case; getAll() keeps order; rawHeaders has the octets', async () => {
    let seen: Record<string, unknown> = {};
    await withServer(
      (s) => {
        seen = {
          headers: s.headers.filter(([n]) => n.startsWith('x-')),
          get: s.get('X-Name'),
          missing: s.get('x-none'),
          all: s.getAll('x-multi'),
          raw: raw(s.rawHeaders, 'x-name'),
          path: s.path,
        };
        s.respond(200, {}, 'ok');
      },
      async (url) => {
        const session = await connect(url);
        const r = await session.request([
          [':path', '/caf\u00e9?q=\u00fc'],
          ['x-name', 'caf\u00e9'],
          ['x-multi', 'a'],
          ['x-multi', '\u2603'],
        ]);
        await r.text();
        await session.close();
      },
    );
    expect(seen).toEqual({
      headers: [
        ['x-name', 'caf\u00e9'],
        ['x-multi', 'a'],
        ['x-multi', '\u2603'],
      ],
      get: 'caf\u00e9',
      missing: undefined,
      all: ['a', '\u2603'],
      raw: utf8('caf\u00e9'),
      path: '/caf\u00e9?q=\u00fc',
    });
  });

  it('echoing a request field sends the same octets back (no double encoding), on both ends', async () => {
    await withServer(
      (s) => s.respond(200, { 'x-echo': s.get('x-name')!, 'x-echo-raw': s.rawHeaders.find(([n]) => n === 'x-name')![1] }, 'ok'),
      async (url) => {
        const session = await connect(url);
        const r = await session.request({ 'x-name': 'na\u00efve \u{1F600}' });
        expect(r.get('x-echo')).toBe('na\u00efve \u{1F600}');
        expect(r.get('X-ECHO-RAW')).toBe('na\u00efve \u{1F600}');
        expect(raw(r.rawHeaders, 'x-echo')).toEqual(utf8('na\u00efve \u{1F600}'));
        expect(r.getAll('x-echo')).toEqual(['na\u00efve \u{1F600}']);
        expect(r.get('x-absent')).toBeUndefined();
        await r.text();
        await session.close();
      },
    );
  });

  it('octets that are not UTF-8: U+FFFD in the text, exact in rawHeaders, and sent back as they are', async () => {
    let seen: unknown[] = [];
    await withServer(
      (s) => {
        seen = [s.get('x-latin1'), raw(s.rawHeaders, 'x-latin1')];
        s.respond(
          200,
          s.rawHeaders.filter(([n]) => n === 'x-latin1'),
          'ok',
        );
      },
      async (url) => {
        const session = await connect(url);
        const r = await session.request({ 'x-latin1': NOT_UTF8 });
        expect(r.get('x-latin1')).toBe('c\ufffd');
        expect(r.headers).toContainEqual(['x-latin1', 'c\ufffd']);
        expect(raw(r.rawHeaders, 'x-latin1')).toEqual([0x63, 0xe9]);
        await r.text();
        await session.close();
      },
    );
    expect(seen).toEqual(['c\ufffd', [0x63, 0xe9]]);
  });

  it("a raw client's octets: a UTF-8 :path and host reach the handler as text", async () => {
    let seen: unknown[] = [];
    const ts = await startTestServer({
      handler(s) {
        seen = [s.path, s.authority];
        s.respond(200, {}, 'ok');
      },
    });
    try {
      const c = await open(ts.port);
      c.send(
        c.headersFrame(
          1,
          [
            [':method', 'GET'],
            [':scheme', 'http'],
            [':path', Buffer.from('/\u00e9t\u00e9', 'utf8')],
            ['host', Buffer.from('b\u00fccher.example', 'utf8')],
          ],
          true,
        ),
      );
      await c.response(1);
    } finally {
      await ts.close();
    }
    expect(seen).toEqual(['/\u00e9t\u00e9', 'b\u00fccher.example']);
  });

  it('a push promised on such a request carries the same octets back in :authority (not encoded twice)', async () => {
    const ts = await startTestServer({
      handler(s) {
        s.push('/p.css', { body: 'p' });
        s.respond(200, {}, 'ok');
      },
    });
    try {
      const c = await open(ts.port);
      c.send(
        c.headersFrame(
          1,
          [
            [':method', 'GET'],
            [':scheme', 'https'],
            [':path', '/'],
            ['host', Buffer.from('b\u00fccher.example', 'utf8')],
          ],
          true,
        ),
      );
      await c.response(1);
      const promise = c.frames.find((f) => f.type === FrameType.PUSH_PROMISE)!;
      const authority = promise.headers!.find(([n]) => n === ':authority')![1];
      expect([...Buffer.from(authority, 'latin1')]).toEqual(utf8('b\u00fccher.example'));
    } finally {
      await ts.close();
    }
  });
});

describe('trailers, 1xx and push follow the same rule', () => {
  it('trailers both ways: the trailers event and stream.trailers are text; rawTrailers the octets', async () => {
    let event: unknown = null;
    let after: unknown[] = [];
    await withServer(
      (s) => {
        s.on('trailers', (t) => (event = t));
        s.on('data', () => {});
        s.on('end', () => {
          after = [s.trailers, raw(s.rawTrailers!, 'x-sum')];
          s.respond(200, {}, 'ok', { trailers: { 'x-back': '\u00e0 bient\u00f4t', 'x-bytes': NOT_UTF8 } });
        });
      },
      async (url) => {
        const session = await connect(url);
        const r = await session.request({ ':method': 'POST' }, { body: 'x', trailers: { 'x-sum': '\u00bd' } });
        await r.text();
        expect(await r.trailers).toEqual([
          ['x-back', '\u00e0 bient\u00f4t'],
          ['x-bytes', 'c\ufffd'],
        ]);
        expect(raw(await r.rawTrailers, 'x-bytes')).toEqual([0x63, 0xe9]);
        expect(raw(await r.rawTrailers, 'x-back')).toEqual(utf8('\u00e0 bient\u00f4t'));
        await session.close();
      },
    );
    expect(event).toEqual([['x-sum', '\u00bd']]);
    expect(after).toEqual([[['x-sum', '\u00bd']], utf8('\u00bd')]);
  });

  it('a pushed request: its path is text on both ends; PushPromise.rawHeaders has the octets', async () => {
    let pushedPath = '';
    await withServer(
      (s) => {
        const p = s.push('/caf\u00e9.css', { requestHeaders: { 'x-why': '\u00e9' }, headers: { 'x-pushed': '\u00fc' }, body: 'p{}' });
        pushedPath = p?.path ?? 'none';
        s.respond(200, {}, 'main');
      },
      async (url) => {
        const session = await connect(url);
        const pushed = new Promise<{ headers: Array<[string, string]>; raw: Array<[string, Uint8Array]>; response: string | undefined }>((resolve) => {
          session.on('push', (p) => void p.response.then((r) => resolve({ headers: p.headers, raw: p.rawHeaders, response: r.get('x-pushed') })));
        });
        const r = await session.request({ ':path': '/' });
        await r.text();
        const p = await pushed;
        expect(p.headers).toContainEqual([':path', '/caf\u00e9.css']);
        expect(p.headers).toContainEqual(['x-why', '\u00e9']);
        expect(raw(p.raw, ':path')).toEqual(utf8('/caf\u00e9.css'));
        expect(p.response).toBe('\u00fc');
        await session.close();
      },
    );
    expect(pushedPath).toBe('/caf\u00e9.css');
  });

  it('1xx responses: their fields are text too', async () => {
    const srv = await startRawServer(async (c) => {
      c.preface();
      const req = await c.request();
      c.send(
        c.headers(req.streamId, [
          [':status', '103'],
          ['link', Buffer.from('</\u00e9.css>; rel=preload', 'utf8')],
        ]),
      );
      c.send(c.headers(req.streamId, [[':status', '200']], true));
    });
    try {
      const session = await connect(srv.url);
      const r = await session.request({});
      expect(r.informational).toEqual([{ status: 103, headers: [['link', '</\u00e9.css>; rel=preload']] }]);
      session.destroy();
    } finally {
      await srv.close();
    }
  });
});

describe('sending', () => {
  it('Uint8Array values in responses and requests are sent as they are; §8.2.1 is checked on them', async () => {
    await withServer(
      (s) => {
        const bad = [new Uint8Array([0x61, 0x0d, 0x62]), new Uint8Array([0x20, 0x61]), new Uint8Array([0x61, 0x00])].map((v) => {
          try {
            s.respond(200, { 'x-bad': v });
            return 'sent';
          } catch (e) {
            return (e as Http2Error).code;
          }
        });
        s.respond(
          200,
          [
            ['x-bad-results', bad.join(',')],
            ['x-octets', s.rawHeaders.find(([n]) => n === 'x-octets')![1]],
          ],
          'ok',
        );
      },
      async (url) => {
        const session = await connect(url);
        const r = await session.request([['x-octets', new Uint8Array([0xff, 0x41])]]);
        expect(r.get('x-bad-results')).toBe('INVALID_ARGUMENT,INVALID_ARGUMENT,INVALID_ARGUMENT');
        expect(raw(r.rawHeaders, 'x-octets')).toEqual([0xff, 0x41]);
        await r.text();
        const e = await session.request({ 'x-a': new Uint8Array([0x0a]) }).catch((err: unknown) => err);
        expect(e).toBeInstanceOf(Http2Error);
        expect((e as Http2Error).code).toBe('INVALID_ARGUMENT');
        const p = await session.request({ ':path': new Uint8Array([0x2f]) }).catch((err: unknown) => err);
        expect((p as Http2Error).code).toBe('INVALID_ARGUMENT');
        await session.close();
      },
    );
  });

  it('the frame observer sees text both ways: received fields decoded, sent octets as text', async () => {
    await withServer(
      (s) => s.respond(200, { 'x-text': '\u00e9t\u00e9', 'x-octets': Buffer.from('\u00e9t\u00e9', 'utf8') }, 'ok'),
      async (url, frames) => {
        const clientFrames: FrameEvent[] = [];
        const session = await connect(url, { onFrame: (e) => clientFrames.push(e) });
        const r = await session.request({ 'x-name': 'caf\u00e9' });
        await r.text();
        await session.close();
        const fieldsOf = (list: FrameEvent[], direction: string) => list.filter((e) => e.direction === direction && e.headers).flatMap((e) => e.headers!);
        expect(fieldsOf(frames, 'recv')).toContainEqual(['x-name', 'caf\u00e9']);
        expect(fieldsOf(frames, 'send')).toEqual(
          expect.arrayContaining([
            ['x-text', '\u00e9t\u00e9'],
            ['x-octets', '\u00e9t\u00e9'],
          ]),
        );
        expect(fieldsOf(clientFrames, 'send')).toContainEqual(['x-name', 'caf\u00e9']);
        expect(fieldsOf(clientFrames, 'recv')).toEqual(
          expect.arrayContaining([
            ['x-text', '\u00e9t\u00e9'],
            ['x-octets', '\u00e9t\u00e9'],
          ]),
        );
      },
    );
  });

  it('the h2c upgrade request carries text as UTF-8 (the handler sees the same text as over HTTP/2)', async () => {
    let seen: string | undefined;
    await withServer(
      (s) => {
        seen = s.get('x-name');
        s.respond(200, {}, 'ok');
      },
      async (url) => {
        const session = await connect(url, { upgrade: true });
        const r = await session.request({ 'x-name': 'caf\u00e9' });
        await r.text();
        await session.close();
      },
    );
    expect(seen).toBe('caf\u00e9');
  });
});
