/**
 * RFC 9113 §8 (HTTP semantics: framing, fields, pseudo-headers, CONNECT) and
 * RFC 7541 decoding errors as an HTTP/2 server must treat them (§4.3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, encodeHeaders, Flag, FrameType } from '../../src/h2/index.js';
import type { HeaderInput } from '../../src/hpack/index.js';
import { expectConnectionError, expectOk, expectStreamError, open } from '../helpers/h2-expect.js';
import { startTestServer, type TestServer } from '../helpers/h2-test-server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(() => ts.close());

const BASE: HeaderInput[] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':authority', 'localhost'],
  [':path', '/info'],
];
const withField = (name: string, value: string): HeaderInput[] => [...BASE, [name, value]];

/** The request must be refused with RST_STREAM PROTOCOL_ERROR and never reach the handler. */
async function malformed(fields: HeaderInput[], endStream = true): Promise<void> {
  const c = await open(ts.port);
  const before = ts.streams.length;
  c.send(c.headersFrame(1, fields, endStream));
  await expectStreamError(c, 1, ErrorCode.PROTOCOL_ERROR);
  expect(ts.streams.length).toBe(before);
}

/** The request must be served; returns what the handler saw (via /info). */
async function served(
  fields: HeaderInput[],
): Promise<{ method: string; scheme: string; authority: string; path: string; headers: Array<[string, string]>; raw: Array<[string, string]> }> {
  const c = await open(ts.port);
  c.send(c.headersFrame(1, fields, true));
  const r = await c.response(1);
  expect(r.rst).toBeNull();
  expect(r.status).toBe('200');
  return JSON.parse(r.body.toString());
}

describe('§8.1 HTTP message framing', () => {
  it('§8.1 a second HEADERS (trailers) without END_STREAM -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/echo', { method: 'POST', endStream: false }), c.headersFrame(1, [['x-t', '1']], false));
    await expectStreamError(c, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it('§8.1 trailers with a pseudo-header -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/echo', { method: 'POST', endStream: false }), c.headersFrame(1, [[':path', '/x']], true));
    await expectStreamError(c, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it('§8.1 trailers with an uppercase name -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/echo', { method: 'POST', endStream: false }), c.headersFrame(1, [['X-Sum', '1']], true));
    await expectStreamError(c, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it('§8.1.1 less DATA than content-length -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/echo', { method: 'POST', endStream: false, extra: [['content-length', '10']] }), c.data(1, 'short'));
    await expectStreamError(c, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it('§8.1.1 more DATA than content-length -> PROTOCOL_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/echo', { method: 'POST', endStream: false, extra: [['content-length', '2']] }), c.data(1, 'toolong', false));
    await expectStreamError(c, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it('§8.1.1 content-length 1 with END_STREAM on HEADERS -> PROTOCOL_ERROR', async () => {
    await malformed(withField('content-length', '1'));
  });

  it('§8.1.1 a content-length that is not a number -> PROTOCOL_ERROR', async () => {
    await malformed(withField('content-length', '12a'), false);
  });

  it('§8.1.1 two different content-length values -> PROTOCOL_ERROR', async () => {
    await malformed([...BASE, ['content-length', '1'], ['content-length', '2']], false);
  });

  it('§8.1.1 content-length equal to the DATA received is accepted (padding not counted)', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/echo', { method: 'POST', endStream: false, extra: [['content-length', '6']] }), c.data(1, 'abc', false, 20), c.data(1, 'def'));
    const r = await c.response(1);
    expect(r.body.toString()).toBe('abcdef');
  });

  it('§8.1 a response to HEAD carries no DATA', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/size/1000', { method: 'HEAD' }));
    const r = await c.response(1);
    expect(r.status).toBe('200');
    expect(r.headers).toContainEqual(['content-length', '1000']);
    expect(c.frames.some((f) => f.type === FrameType.DATA && f.streamId === 1)).toBe(false);
  });

  it('§8.1 a 204 response carries no DATA and no content-length', async () => {
    const c = await open(ts.port);
    c.send(c.request(1, '/empty'));
    const r = await c.response(1);
    expect(r.status).toBe('204');
    expect(r.headers.some(([n]) => n === 'content-length')).toBe(false);
    expect(c.frames.some((f) => f.type === FrameType.DATA && f.streamId === 1)).toBe(false);
  });
});

describe('§8.2 HTTP fields', () => {
  it('§8.2 an uppercase field name -> PROTOCOL_ERROR', async () => {
    await malformed(withField('X-Upper', 'v'));
  });

  it('§8.2.1 a field name with a space -> PROTOCOL_ERROR', async () => {
    await malformed(withField('x bad', 'v'));
  });

  it('§8.2.1 a field name with a control character -> PROTOCOL_ERROR', async () => {
    await malformed(withField('x\x01bad', 'v'));
  });

  it('§8.2.1 a field name with DEL (0x7f) -> PROTOCOL_ERROR', async () => {
    await malformed(withField('x\x7fbad', 'v'));
  });

  it('§8.2.1 a field name with an octet above 0x7f -> PROTOCOL_ERROR', async () => {
    await malformed([...BASE, [new Uint8Array([0x78, 0xe9]), 'v']]);
  });

  it('§8.2.1 a colon inside a regular field name -> PROTOCOL_ERROR', async () => {
    await malformed(withField('x:bad', 'v'));
  });

  it('§8.2.1 an empty field name -> PROTOCOL_ERROR', async () => {
    await malformed(withField('', 'v'));
  });

  it('§8.2.1 a field value with NUL -> PROTOCOL_ERROR', async () => {
    await malformed(withField('x-a', 'a\x00b'));
  });

  it('§8.2.1 a field value with LF -> PROTOCOL_ERROR', async () => {
    await malformed(withField('x-a', 'a\nb'));
  });

  it('§8.2.1 a field value with CR -> PROTOCOL_ERROR', async () => {
    await malformed(withField('x-a', 'a\rb'));
  });

  it('§8.2.1 a field value with leading whitespace -> PROTOCOL_ERROR', async () => {
    await malformed(withField('x-a', ' a'));
  });

  it('§8.2.1 a field value with trailing whitespace (HTAB) -> PROTOCOL_ERROR', async () => {
    await malformed(withField('x-a', 'a\t'));
  });

  it('§8.2.1 inner whitespace and octets above 0x7f in values are allowed, delivered unaltered (as text, U+FFFD where not UTF-8, and as octets)', async () => {
    const info = await served([...BASE, ['x-a', 'a b\tc'], ['x-b', new Uint8Array([0xc3, 0xa9, 0xff])]]);
    expect(info.headers).toEqual([
      ['x-a', 'a b\tc'],
      ['x-b', '\u00e9\ufffd'],
    ]);
    expect(info.raw).toEqual([
      ['x-a', '6120620963'],
      ['x-b', 'c3a9ff'],
    ]);
  });

  it('§8.2.2 connection -> PROTOCOL_ERROR', async () => {
    await malformed(withField('connection', 'keep-alive'));
  });

  it('§8.2.2 keep-alive -> PROTOCOL_ERROR', async () => {
    await malformed(withField('keep-alive', 'timeout=5'));
  });

  it('§8.2.2 proxy-connection -> PROTOCOL_ERROR', async () => {
    await malformed(withField('proxy-connection', 'keep-alive'));
  });

  it('§8.2.2 transfer-encoding -> PROTOCOL_ERROR', async () => {
    await malformed(withField('transfer-encoding', 'chunked'));
  });

  it('§8.2.2 upgrade -> PROTOCOL_ERROR', async () => {
    await malformed(withField('upgrade', 'h2c'));
  });

  it('§8.2.2 te: trailers is allowed', async () => {
    const info = await served(withField('te', 'trailers'));
    expect(info.headers).toEqual([['te', 'trailers']]);
  });

  it('§8.2.2 te with another value -> PROTOCOL_ERROR', async () => {
    await malformed(withField('te', 'gzip'));
  });

  it('§8.2.3 several cookie fields are delivered as they came', async () => {
    const info = await served([...BASE, ['cookie', 'a=1'], ['cookie', 'b=2']]);
    expect(info.headers).toEqual([
      ['cookie', 'a=1'],
      ['cookie', 'b=2'],
    ]);
  });
});

describe('§8.3 HTTP control data (pseudo-header fields)', () => {
  it('§8.3 an unknown pseudo-header -> PROTOCOL_ERROR', async () => {
    await malformed([...BASE, [':foo', 'bar']]);
  });

  it('§8.3 :protocol without extended CONNECT support -> PROTOCOL_ERROR', async () => {
    await malformed([...BASE, [':protocol', 'websocket']]);
  });

  it('§8.3 the response pseudo-header :status in a request -> PROTOCOL_ERROR', async () => {
    await malformed([...BASE, [':status', '200']]);
  });

  it('§8.3 a pseudo-header after a regular field -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'GET'],
      [':scheme', 'http'],
      ['x-a', '1'],
      [':path', '/info'],
      [':authority', 'a'],
    ]);
  });

  it('§8.3.1 duplicate :method -> PROTOCOL_ERROR', async () => {
    await malformed([...BASE, [':method', 'GET']]);
  });

  it('§8.3.1 duplicate :scheme -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/'],
    ]);
  });

  it('§8.3.1 duplicate :path -> PROTOCOL_ERROR', async () => {
    await malformed([...BASE, [':path', '/x']]);
  });

  for (const [name, value] of [
    [':scheme', ''],
    [':scheme', '0x'],
    [':authority', 'localhost/etc'],
    [':authority', 'local host'],
    [':authority', 'a#b'],
  ] as const) {
    it(`§8.3.1 ${name} ${JSON.stringify(value)} -> PROTOCOL_ERROR (not served)`, async () => {
      await malformed(BASE.map(([n, v]) => [n, n === name ? value : v] as HeaderInput));
    });
  }

  it('§8.3.1 duplicate :authority -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':authority', 'a'],
      [':path', '/'],
    ]);
  });

  it('§8.3.1 missing :method -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '/'],
    ]);
  });

  it('§8.3.1 missing :scheme -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'GET'],
      [':authority', 'a'],
      [':path', '/'],
    ]);
  });

  it('§8.3.1 missing :path -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
    ]);
  });

  it('§8.3.1 an empty :path -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', ''],
    ]);
  });

  it('§8.3.1 an http :path that is not origin-form -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', 'index.html'],
    ]);
  });

  it('§8.3.1 OPTIONS with :path * is accepted', async () => {
    const c = await open(ts.port);
    c.send(
      c.headersFrame(1, [
        [':method', 'OPTIONS'],
        [':scheme', 'http'],
        [':authority', 'a'],
        [':path', '*'],
      ]),
    );
    await expectOk(c, 1, 'hello');
  });

  it('§8.3.1 :path * with a method other than OPTIONS -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'a'],
      [':path', '*'],
    ]);
  });

  it('§8.3.1 an empty :authority -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', ''],
      [':path', '/'],
    ]);
  });

  it('§8.3.1 :authority with userinfo -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'user:pw@host'],
      [':path', '/'],
    ]);
  });

  it('§8.3.1 host and :authority that name different hosts -> PROTOCOL_ERROR', async () => {
    await malformed([...BASE, ['host', 'other']]);
  });

  it('§8.3.1 host and :authority equal after scheme-based normalization are accepted', async () => {
    const info = await served([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'Example.ORG:80'],
      [':path', '/info'],
      ['host', 'example.org'],
    ]);
    expect(info.authority).toBe('Example.ORG:80');
  });

  it('§8.3.1 an http request with neither :authority nor host -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/info'],
    ]);
  });

  it('§8.3.1 a scheme without a mandatory authority may omit it', async () => {
    const info = await served([
      [':method', 'GET'],
      [':scheme', 'urn'],
      [':path', '/info'],
    ]);
    expect(info).toMatchObject({ scheme: 'urn', authority: '' });
  });

  it('§8.3.1 without :authority, host gives the authority', async () => {
    const info = await served([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/info'],
      ['host', 'example.org:81'],
    ]);
    expect(info.authority).toBe('example.org:81');
  });

  it('§8.3.1 the handler gets method, scheme, authority, path and regular fields in order', async () => {
    const info = await served([
      [':method', 'PUT'],
      [':scheme', 'https'],
      [':authority', 'h.example'],
      [':path', '/info?q=1'],
      ['x-1', 'a'],
      ['x-2', 'b'],
    ]);
    expect(info).toEqual({
      method: 'PUT',
      scheme: 'https',
      authority: 'h.example',
      path: '/info?q=1',
      headers: [
        ['x-1', 'a'],
        ['x-2', 'b'],
      ],
      raw: [
        ['x-1', '61'],
        ['x-2', '62'],
      ],
    });
  });
});

describe('§8.5 the CONNECT method', () => {
  it('§8.5 CONNECT with :scheme -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'CONNECT'],
      [':scheme', 'http'],
      [':authority', 'a:443'],
    ]);
  });

  it('§8.5 CONNECT with :path -> PROTOCOL_ERROR', async () => {
    await malformed([
      [':method', 'CONNECT'],
      [':authority', 'a:443'],
      [':path', '/'],
    ]);
  });

  it('§8.5 CONNECT without :authority -> PROTOCOL_ERROR', async () => {
    await malformed([[':method', 'CONNECT']]);
  });

  it('§8.5 a well-formed CONNECT reaches the handler with an empty scheme and path', async () => {
    const seen: Array<[string, string, string]> = [];
    const s = await startTestServer({
      handler: (st) => {
        seen.push([st.method, st.authority, st.scheme + st.path]);
        st.respond(200, {});
      },
    });
    try {
      const c = await open(s.port);
      c.send(
        c.headersFrame(
          1,
          [
            [':method', 'CONNECT'],
            [':authority', 'proxy.example:443'],
          ],
          false,
        ),
      );
      const h = await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1);
      expect(h.headers).toContainEqual([':status', '200']);
      expect(seen).toEqual([['CONNECT', 'proxy.example:443', '']]);
    } finally {
      await s.close();
    }
  });
});

describe('RFC 7541 decoding errors -> connection error COMPRESSION_ERROR (RFC 9113 §4.3)', () => {
  const bad = async (block: number[]) => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, block));
    await expectConnectionError(c, ErrorCode.COMPRESSION_ERROR);
  };

  it('RFC 7541 §6.1 indexed field with index 0', () => bad([0x80]));
  it('RFC 7541 §2.3.3 index beyond the static and dynamic tables', () => bad([0x82, 0xbe]));
  it('RFC 7541 §5.1 integer above 2^32-1', () => bad([0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
  it('RFC 7541 §5.1 integer with too many continuation octets', () => bad([0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]));
  it('RFC 7541 §5.2 string length past the end of the block', () => bad([0x40, 0x05, 0x61, 0x62, 0x63]));
  it('RFC 7541 §5.2 Huffman padding longer than 7 bits', () => bad([0x40, 0x82, 0x07, 0xff, 0x01, 0x61]));
  it('RFC 7541 §5.2 Huffman padding that is not the EOS prefix', () => bad([0x40, 0x81, 0x06, 0x01, 0x61]));
  it('RFC 7541 §5.2 EOS inside a Huffman string', () => bad([0x40, 0x85, 0x1f, 0xff, 0xff, 0xff, 0xff, 0x01, 0x61]));
  it('RFC 7541 §6.3 dynamic table size update above SETTINGS_HEADER_TABLE_SIZE', () => bad([0x3f, 0xe2, 0x1f, 0x82]));
  it('RFC 7541 §4.2 dynamic table size update after a field', () => bad([0x82, 0x20]));
  it('RFC 7541 §5.1 block truncated inside an integer', () => bad([0x82, 0xff]));

  it('RFC 7541 a decoding error inside a CONTINUATION -> COMPRESSION_ERROR', async () => {
    const c = await open(ts.port);
    c.send(c.raw(FrameType.HEADERS, Flag.END_STREAM, 1, [0x82, 0x86]), c.raw(FrameType.CONTINUATION, Flag.END_HEADERS, 1, [0x80]));
    await expectConnectionError(c, ErrorCode.COMPRESSION_ERROR);
  });

  it('RFC 7541 §4.2 a dynamic table size update within the limit is accepted', async () => {
    const c = await open(ts.port);
    c.deflater.changeTableSize(100);
    c.send(c.request(1, '/', { extra: [['x-a', 'b']] }));
    await expectOk(c, 1, 'hello');
  });

  it('RFC 7541 §2.3.2 the dynamic table persists across requests of a connection', async () => {
    const c = await open(ts.port);
    const fields: HeaderInput[] = [...BASE, ['x-custom', 'remembered']];
    const b1 = c.encode(fields);
    const b2 = c.encode(fields); // refers to the entries the first block inserted
    expect(b2.length).toBeLessThan(b1.length / 2);
    c.send(encodeHeaders(1, b1, { endStream: true }));
    await c.response(1);
    c.send(encodeHeaders(3, b2, { endStream: true }));
    const r = await c.response(3);
    expect(JSON.parse(r.body.toString()).headers).toEqual([['x-custom', 'remembered']]);
  });
});
