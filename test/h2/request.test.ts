/** Request and response field rules (RFC 9113 §8.2, §8.3) as pure functions. */
import { describe, expect, it } from 'vitest';
import { Http2Error } from '../../src/h2/errors.js';
import { validateRequest, validateResponse, validateTrailers } from '../../src/h2/request.js';
import { promiseFields, requestFields, responseFields, trailerFields } from '../../src/h2/response.js';

const base: Array<[string, string]> = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'a.example'],
  [':path', '/x'],
];

describe('validateRequest', () => {
  it('returns the head with content-length', () => {
    expect(validateRequest([...base, ['content-length', '42'], ['accept', '*/*']])).toEqual({
      method: 'GET',
      scheme: 'https',
      authority: 'a.example',
      path: '/x',
      headers: [
        ['content-length', '42'],
        ['accept', '*/*'],
      ],
      contentLength: 42,
      ascii: true,
    });
  });

  it('says whether every value is ASCII (octet strings that are their own text)', () => {
    expect(validateRequest([...base, ['x-a', 'caf\xc3\xa9']])).toMatchObject({ ascii: false });
    expect(
      validateRequest([
        [':method', 'GET'],
        [':scheme', 'https'],
        [':authority', 'a.example'],
        [':path', '/\xc3\xa9'],
      ]),
    ).toMatchObject({ ascii: false });
    expect(validateRequest([...base, ['x-a', 'plain']])).toMatchObject({ ascii: true });
    expect(
      validateResponse([
        [':status', '200'],
        ['x-a', '\xff'],
      ]),
    ).toMatchObject({ ascii: false });
    expect(
      validateResponse([
        [':status', '200'],
        ['x-a', 'ok'],
      ]),
    ).toMatchObject({ ascii: true });
  });

  it('returns a reason for malformed requests', () => {
    expect(validateRequest([...base, ['Accept', 'x']])).toMatch(/§8.2.1/);
    expect(
      validateRequest([
        [':method', 'GET'],
        [':path', '/'],
      ]),
    ).toMatch(/missing :scheme/);
    expect(validateRequest([...base, ['content-length', '1'], ['content-length', '1']])).not.toBeTypeOf('string');
    expect(validateRequest([...base, ['content-length', '-1']])).toMatch(/content-length/);
    expect(validateRequest([...base, ['host', '']])).toMatch(/differ/);
    expect(validateTrailers([[':status', '1']])).toMatch(/trailers/);
    expect(validateTrailers([['x-a', 'b']])).toEqual([['x-a', 'b']]);
  });
});

describe('validateRequest: pseudo-header values (§8.3.1)', () => {
  const req = (name: string, value: string) => validateRequest(base.map(([n, v]) => [n, n === name ? value : v] as [string, string]));
  it.each([
    [':scheme', '', /invalid :scheme/],
    [':scheme', '1http', /invalid :scheme/],
    [':scheme', 'ht tp', /invalid :scheme/],
    [':authority', 'a.example/x', /invalid :authority/],
    [':authority', 'a example', /invalid :authority/],
    [':authority', 'a.example:80/', /invalid :authority/],
    [':authority', 'a.example?q', /invalid :authority/],
    [':method', 'G T', /invalid :method/],
  ])('%s %j is malformed', (name, value, reason) => {
    expect(req(name, value)).toMatch(reason);
  });
  it.each([
    [':scheme', 'https'],
    [':scheme', 'coap+tcp'],
    [':authority', 'a.example:8443'],
    [':authority', '[::1]:8443'],
    [':authority', '127.0.0.1'],
    [':authority', 'xn--caf-dma.example'],
  ])('%s %j is accepted', (name, value) => {
    expect(req(name, value)).not.toBeTypeOf('string');
  });
});

describe('response fields', () => {
  it(':status first, names lowercased, arrays repeated, content-length added once', () => {
    expect(responseFields(200, { 'Content-Type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'x-n': 5 }, 10)).toEqual([
      [':status', '200'],
      ['content-type', 'text/plain'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['x-n', '5'],
      ['content-length', '10'],
    ]);
    expect(responseFields(200, [['content-length', '3']], 3)).toEqual([
      [':status', '200'],
      ['content-length', '3'],
    ]);
  });

  it('refuses what HTTP/2 forbids us to send', () => {
    expect(() => responseFields(200, { connection: 'close' }, -1)).toThrow(/connection-specific/);
    expect(() => responseFields(200, { 'x-a': 'a\r\nb' }, -1)).toThrow(/invalid value/);
    expect(() => responseFields(200, { 'bad name': '1' }, -1)).toThrow(/invalid field name/);
    expect(() => responseFields(200, { ':status': '1' }, -1)).toThrow(/pseudo-header/);
    expect(() => responseFields(99, {}, -1)).toThrow(Http2Error);
    expect(() => trailerFields({ ':path': '/' })).toThrow(/trailers/);
    expect(() => promiseFields('POST', 'http', 'a', '/', undefined)).toThrow(/safe and cacheable/);
  });

  it('a frozen list of frozen fields is checked once: the same section comes back for the same status and length', () => {
    const list = Object.freeze([Object.freeze(['server', 'x'] as const), Object.freeze(['Content-Type', 'text/plain'] as const)]);
    const a = responseFields(200, list, 10);
    expect(a).toEqual([
      [':status', '200'],
      ['server', 'x'],
      ['content-type', 'text/plain'],
      ['content-length', '10'],
    ]);
    expect(Object.isFrozen(a) && a.every((f) => Object.isFrozen(f))).toBe(true);
    expect(responseFields(200, list, 10)).toBe(a);
    // Another status or length: another section, built and checked.
    expect(responseFields(404, list, 10)).toEqual([
      [':status', '404'],
      ['server', 'x'],
      ['content-type', 'text/plain'],
      ['content-length', '10'],
    ]);
    expect(responseFields(200, list, -1)).toEqual([
      [':status', '200'],
      ['server', 'x'],
      ['content-type', 'text/plain'],
    ]);
    expect(() => responseFields(99, list, -1)).toThrow(Http2Error);
    // A bad frozen list is refused every time (never remembered).
    const bad = Object.freeze([Object.freeze(['x-a', 'a\r\nb'] as const)]);
    expect(() => responseFields(200, bad, -1)).toThrow(/invalid value/);
    expect(() => responseFields(200, bad, -1)).toThrow(/invalid value/);
  });

  it('lists that can change are checked on every call', () => {
    const loose: Array<[string, string]> = [['x-a', 'ok']];
    const a = responseFields(200, loose, -1);
    expect(responseFields(200, loose, -1)).not.toBe(a);
    loose[0]![1] = 'a\nb';
    expect(() => responseFields(200, loose, -1)).toThrow(/invalid value/);
    // A frozen list of fields that are not frozen: the fields can change.
    const half = Object.freeze([['x-a', 'ok'] as [string, string]]);
    expect(responseFields(200, half, -1)).toEqual([
      [':status', '200'],
      ['x-a', 'ok'],
    ]);
    half[0]![1] = 'a\rb';
    expect(() => responseFields(200, half, -1)).toThrow(/invalid value/);
    expect(Object.isFrozen(responseFields(200, [['x-b', '1']], -1))).toBe(false);
  });
});

describe('request fields (the client)', () => {
  it('pseudo-headers from the session unless given, regular fields checked, host dropped for :authority', () => {
    const r = requestFields({ ':path': '/a?b', accept: '*/*', Host: 'x', 'x-n': 3, 'x-l': ['1', '2'] }, 'https', 'h.example');
    expect(r.fields.map((f) => [...f])).toEqual([
      [':method', 'GET'],
      [':scheme', 'https'],
      [':authority', 'h.example'],
      [':path', '/a?b'],
      ['accept', '*/*'],
      ['x-n', '3'],
      ['x-l', '1'],
      ['x-l', '2'],
    ]);
    expect(
      requestFields(
        [
          [':method', 'CONNECT'],
          [':authority', 'p:443'],
        ],
        'http',
        'h',
      ).fields.map((f) => [...f]),
    ).toEqual([
      [':method', 'CONNECT'],
      [':authority', 'p:443'],
    ]);
    expect(() => requestFields({ ':bogus': 'x' }, 'http', 'h')).toThrow(/unknown pseudo-header/);
    expect(() => requestFields({ te: 'gzip' }, 'http', 'h')).toThrow(/te may only be "trailers"/);
    expect(() => requestFields({ ':method': 'G T' }, 'http', 'h')).toThrow(/invalid :method/);
  });

  it('a frozen head is checked once: the same frozen section for the same :scheme and :authority', () => {
    const head = Object.freeze({ ':path': '/1k', accept: '*/*' });
    const a = requestFields(head, 'http', 'h:1');
    expect(requestFields(head, 'http', 'h:1')).toBe(a);
    expect(Object.isFrozen(a.fields) && a.fields.every((f) => Object.isFrozen(f))).toBe(true);
    const other = requestFields(head, 'http', 'h:2');
    expect(other).not.toBe(a);
    expect(other.fields[2]).toEqual([':authority', 'h:2']);
    const list = Object.freeze([Object.freeze([':path', '/x'] as [string, string])]);
    expect(requestFields(list, 'http', 'h')).toBe(requestFields(list, 'http', 'h'));
  });

  it('heads that can change are checked on every call', () => {
    const head: Record<string, string> = { ':path': '/1' };
    const a = requestFields(head, 'http', 'h');
    head[':path'] = '/2';
    const b = requestFields(head, 'http', 'h');
    expect(b).not.toBe(a);
    expect(b.path).toBe('/2');
    // Frozen outside, mutable inside: not cached either.
    const inner = ['1'];
    const mixed = Object.freeze({ 'x-a': inner });
    const c = requestFields(mixed, 'http', 'h');
    inner[0] = '2';
    expect(requestFields(mixed, 'http', 'h').fields.at(-1)).toEqual(['x-a', '2']);
    expect(c.fields.at(-1)).toEqual(['x-a', '1']);
  });
});

describe('validateResponse', () => {
  it('names found valid once are remembered, values are still checked every time', () => {
    expect(
      validateResponse([
        [':status', '200'],
        ['x-cache-me', 'ok'],
      ]),
    ).toMatchObject({ status: 200, headers: [['x-cache-me', 'ok']] });
    expect(
      validateResponse([
        [':status', '200'],
        ['x-cache-me', 'bad\r\nvalue'],
      ]),
    ).toMatch(/invalid value for x-cache-me/);
    expect(
      validateResponse([
        [':status', '200'],
        ['te', 'trailers'],
      ]),
    ).not.toBeTypeOf('string');
    expect(
      validateResponse([
        [':status', '200'],
        ['te', 'gzip'],
      ]),
    ).toMatch(/te: "gzip"/);
    expect(
      validateResponse([
        [':status', '200'],
        ['connection', 'close'],
      ]),
    ).toMatch(/connection-specific/);
    expect(
      validateResponse([
        [':status', '200'],
        ['connection', 'close'],
      ]),
    ).toMatch(/connection-specific/);
  });
});

describe('names and values found valid are remembered, and nothing more', () => {
  it('requests: a remembered name still has its value checked; te and connection-specific names are never remembered', () => {
    expect(validateRequest([...base, ['x-seen', 'gzip']])).not.toBeTypeOf('string');
    expect(validateRequest([...base, ['x-seen', 'gzip']])).not.toBeTypeOf('string');
    expect(validateRequest([...base, ['x-seen', ' gzip']])).toMatch(/invalid value for x-seen/);
    expect(validateRequest([...base, ['x-seen', 'a\u0000b']])).toMatch(/invalid value for x-seen/);
    // 'gzip' is a remembered good value, but te allows only "trailers" (§8.2.2).
    expect(validateRequest([...base, ['te', 'trailers']])).not.toBeTypeOf('string');
    expect(validateRequest([...base, ['te', 'gzip']])).toMatch(/te: "gzip"/);
    expect(validateRequest([...base, ['keep-alive', 'gzip']])).toMatch(/connection-specific field keep-alive/);
    expect(validateRequest([...base, ['keep-alive', 'gzip']])).toMatch(/connection-specific field keep-alive/);
    expect(validateRequest([...base, ['X-Seen', 'gzip']])).toMatch(/invalid field name/);
  });

  it('a remembered value is ASCII: a non-ASCII value is never taken for one, and the section says so', () => {
    const v = 'caf\u00c3\u00a9';
    for (let i = 0; i < 2; i++) {
      const head = validateRequest([...base, ['x-text', v], ['accept', '*/*']]);
      expect(head).toMatchObject({ ascii: false });
      const plain = validateRequest([...base, ['x-text', 'cafe'], ['accept', '*/*']]);
      expect(plain).toMatchObject({ ascii: true });
    }
    const res = validateResponse([
      [':status', '200'],
      ['server', v],
    ]);
    expect(res).toMatchObject({ ascii: false });
  });

  it('a bad pseudo-header value is caught even after the same value was good in a regular field', () => {
    expect(validateRequest([...base, ['x-path', '/ok']])).not.toBeTypeOf('string');
    expect(
      validateRequest([
        [':method', 'GET'],
        [':scheme', 'https'],
        [':authority', 'a.example'],
        [':path', '/ok '],
      ]),
    ).toMatch(/invalid value for :path/);
  });

  it("the decoder's shared (frozen) pairs: remembered by identity, and what depends on more than the pair is still checked", () => {
    const pair = (n: string, v: string) => Object.freeze([n, v] as [string, string]);
    const good = pair('x-shared', 'ok');
    const cl5 = pair('content-length', '5');
    const cl6 = pair('content-length', '6');
    const host = pair('host', 'b.example');
    const text = pair('x-shared', 'caf\u00c3\u00a9');
    for (let i = 0; i < 3; i++) {
      expect(validateRequest([...base, good])).toMatchObject({ ascii: true });
      // content-length is parsed and compared on every request.
      expect(validateRequest([...base, cl5, cl5])).toMatchObject({ contentLength: 5 });
      expect(validateRequest([...base, cl5, cl6])).toMatch(/conflicting content-length/);
      // host is compared with :authority on every request.
      expect(validateRequest([...base, host])).toMatch(/host and :authority name different hosts/);
      // A non-ASCII value is never remembered: the section still says it is not ASCII.
      expect(validateRequest([...base, text])).toMatchObject({ ascii: false });
      expect(validateResponse([[':status', '200'], cl5])).toMatchObject({ contentLength: 5 });
    }
  });

  it(':status is three digits, the first 1 to 9', () => {
    for (const bad of ['20', '2000', '099', '2a0', ' 200', '']) {
      expect(
        validateResponse([
          [':status', bad],
          ['x', 'y'],
        ]),
        bad,
      ).toMatch(/invalid :status/);
    }
    expect(validateResponse([[':status', '599']])).toMatchObject({ status: 599 });
    expect(validateResponse([[':status', '100']])).toMatchObject({ status: 100 });
  });
});

describe('validateResponse (§8.3.2)', () => {
  const good: Array<[string, string]> = [
    [':status', '200'],
    ['content-type', 'text/plain'],
    ['content-length', '5'],
  ];
  const bad: Array<[string, Array<[string, string]>, RegExp]> = [
    ['no :status', [['content-length', '5']], /missing :status/],
    [
      'a pseudo-header after a regular field',
      [
        ['x-a', '1'],
        [':status', '200'],
      ],
      /pseudo-header :status after a regular field/,
    ],
    [
      'two :status',
      [
        [':status', '200'],
        [':status', '204'],
      ],
      /duplicate :status/,
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
      'a connection-specific field',
      [
        [':status', '200'],
        ['connection', 'close'],
      ],
      /connection-specific field connection/,
    ],
    [
      'conflicting content-length',
      [
        [':status', '200'],
        ['content-length', '5'],
        ['content-length', '6'],
      ],
      /conflicting content-length/,
    ],
    ['an invalid status', [[':status', '20x']], /invalid :status/],
  ];

  it('the head with its regular fields, in order', () => {
    expect(validateResponse(good)).toEqual({
      status: 200,
      headers: [
        ['content-type', 'text/plain'],
        ['content-length', '5'],
      ],
      contentLength: 5,
      ascii: true,
    });
  });

  it('without keepHeaders: the same checks and figures, no copy of the fields', () => {
    const h = validateResponse(good, false);
    expect(h).toEqual({ status: 200, headers: [], contentLength: 5, ascii: true });
    expect(Object.isFrozen((h as { headers: unknown }).headers)).toBe(true);
    for (const [, fields, why] of bad) {
      expect(validateResponse(fields, true)).toMatch(why);
      expect(validateResponse(fields, false)).toMatch(why);
    }
  });
});
