/**
 * -r and -s from exchange records: HAR 1.2 timings (-1 where a phase does
 * not apply, `time` their sum), cookies, postData, the document valid
 * against the HAR 1.2 schema; nghttp's statistics columns.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { type ConnectionTimes, type Exchange, ExchangeRecorder, newExchange } from '../../src/client/exchange.js';
import { buildHar, harTimings } from '../../src/client/har.js';
import { formatDuration, statistics } from '../../src/client/stats.js';
import { FrameType } from '../../src/h2/index.js';
import { ROOT } from '../helpers/cli.js';

const conn: ConnectionTimes = { index: 1, start: 1000, dnsEnd: 1002, connectEnd: 1005, secureEnd: 1010, tls: true, serverAddress: '127.0.0.1' };

function exchange(over: Partial<Exchange>): Exchange {
  return {
    ...newExchange(new URL('https://h.test/p?q=1&r=%20x'), 'GET', conn),
    issuedAt: 1000,
    headersSentAt: 1011,
    requestEndAt: 1011,
    responseStartAt: 1020,
    endAt: 1030,
    status: 200,
    ...over,
  };
}

const validate = (() => {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  const v = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'test/cases/har-1.2.schema.json'), 'utf8')) as object);
  return (doc: unknown) => {
    const ok = v(doc);
    return ok ? 'valid' : ajv.errorsText(v.errors);
  };
})();

describe('HAR timings', () => {
  it('a request made before its connection was up carries dns, connect and ssl (within connect)', () => {
    expect(harTimings(exchange({}))).toEqual({ blocked: 1, dns: 2, connect: 8, ssl: 5, send: 0, wait: 9, receive: 10 });
  });

  it('a later request: no set-up (-1), blocked from when it was made to its HEADERS', () => {
    expect(harTimings(exchange({ issuedAt: 1050, headersSentAt: 1052, requestEndAt: 1060, responseStartAt: 1070, endAt: 1071.5 }))).toEqual({
      blocked: 2,
      dns: -1,
      connect: -1,
      ssl: -1,
      send: 8,
      wait: 10,
      receive: 1.5,
    });
  });

  it('h2c: no ssl; a pushed response: nothing sent, waited from the promise', () => {
    expect(harTimings(exchange({ connection: { ...conn, tls: false } })).ssl).toBe(-1);
    expect(harTimings(exchange({ pushed: true, issuedAt: 1021, responseStartAt: 1022, endAt: 1025 }))).toEqual({
      blocked: -1,
      dns: -1,
      connect: -1,
      ssl: -1,
      send: 0,
      wait: 1,
      receive: 3,
    });
  });
});

describe('buildHar', () => {
  it('a document the HAR 1.2 schema accepts: entries in order, time = the sum of the timings that apply, fields as name/value', () => {
    const a = exchange({
      requestHeaders: [
        [':method', 'POST'],
        [':path', '/p?q=1&r=%20x'],
        ['cookie', 'a=1; b=2'],
        ['content-type', 'text/plain'],
      ],
      responseHeaders: [
        [':status', '200'],
        ['content-type', 'text/html'],
        ['set-cookie', 'sid=xyz; Path=/; Domain=h.test; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly; Secure'],
        ['location', '/next'],
        ['x-name', 'caf\xc3\xa9'],
      ],
      method: 'POST',
      requestBodySize: 5,
      requestText: 'hello',
      bodySize: 40,
      contentSize: 100,
    });
    const b = exchange({
      url: new URL('https://h.test/style.css'),
      pushed: true,
      streamId: 2,
      issuedAt: 1021,
      startedDateTime: new Date(a.startedDateTime.getTime() + 5),
      responseStartAt: 1022,
      endAt: 1025,
    });
    const failed = exchange({
      url: new URL('https://h.test/gone'),
      status: 0,
      error: 'stream 15 was reset by the server with CANCEL',
      startedDateTime: new Date(a.startedDateTime.getTime() + 9),
    });
    const har = buildHar([b, failed, a], { name: 'h2get', version: '9.9.9' });
    expect(validate(har)).toBe('valid');
    const [ea, eb, ef] = har.log.entries;
    expect([ea!.request.url, eb!.request.url, ef!.request.url]).toEqual(['https://h.test/p?q=1&r=%20x', 'https://h.test/style.css', 'https://h.test/gone']);
    expect(ea!.time).toBe(1 + 2 + 8 + 0 + 9 + 10);
    expect(ea!.request.queryString).toEqual([
      { name: 'q', value: '1' },
      { name: 'r', value: ' x' },
    ]);
    expect(ea!.request.cookies).toEqual([
      { name: 'a', value: '1' },
      { name: 'b', value: '2' },
    ]);
    expect(ea!.request.postData).toEqual({ mimeType: 'text/plain', text: 'hello' });
    expect(ea!.response.cookies).toEqual([
      { name: 'sid', value: 'xyz', path: '/', domain: 'h.test', expires: '2037-10-21T07:28:00.000Z', httpOnly: true, secure: true },
    ]);
    expect(ea!.response.redirectURL).toBe('/next');
    expect(ea!.response.content).toEqual({ size: 100, compression: 60, mimeType: 'text/html' });
    expect(ea!.response.headers).toContainEqual({ name: 'x-name', value: 'caf\u00e9' });
    expect(eb!.comment).toBe('pushed on stream 2');
    expect(ef!.comment).toBe('stream 15 was reset by the server with CANCEL');
    expect(ef!.response.bodySize).toBe(-1);
  });

  it('the schema refuses what HAR 1.2 does not allow (so that the tests that use it can fail)', () => {
    const har = buildHar([exchange({})], { name: 'h2get', version: '1' });
    const bad = JSON.parse(JSON.stringify(har)) as { log: { entries: Array<Record<string, unknown> & { timings: Record<string, unknown> }> } };
    bad.log.entries[0]!.timings['wait'] = -1;
    expect(validate(bad)).toMatch(/wait/);
    const extra = JSON.parse(JSON.stringify(har)) as { log: { entries: Array<Record<string, unknown>> } };
    extra.log.entries[0]!['streamId'] = 13;
    expect(validate(extra)).toMatch(/additional properties/);
    extra.log.entries[0]!['_streamId'] = 13;
    delete extra.log.entries[0]!['streamId'];
    expect(validate(extra)).toBe('valid');
  });
});

describe('ExchangeRecorder', () => {
  it('takes the times of HEADERS sent, END_STREAM sent, the first HEADERS and END_STREAM received for the stream it was bound to', () => {
    const r = new ExchangeRecorder();
    const x = newExchange(new URL('http://h.test/'), 'GET', conn);
    r.bind(13, x);
    r.frame({ connectionId: 1, direction: 'send', type: FrameType.HEADERS, flags: 0x24, streamId: 13, length: 10, headers: [[':method', 'GET']] });
    expect(x.headersSentAt).toBeGreaterThan(0);
    expect(x.requestEndAt).toBe(-1);
    expect(x.requestHeaders).toEqual([[':method', 'GET']]);
    r.frame({ connectionId: 1, direction: 'send', type: FrameType.DATA, flags: 0x01, streamId: 13, length: 0 });
    expect(x.requestEndAt).toBeGreaterThan(0);
    r.frame({ connectionId: 1, direction: 'recv', type: FrameType.HEADERS, flags: 0x04, streamId: 15, length: 3 });
    expect(x.responseStartAt).toBe(-1);
    r.frame({ connectionId: 1, direction: 'recv', type: FrameType.HEADERS, flags: 0x04, streamId: 13, length: 3 });
    expect(x.responseStartAt).toBeGreaterThan(0);
    r.frame({ connectionId: 1, direction: 'recv', type: FrameType.DATA, flags: 0x01, streamId: 13, length: 3 });
    expect(x.endAt).toBeGreaterThanOrEqual(x.responseStartAt);
    expect(x.streamId).toBe(13);
  });
});

describe('-s', () => {
  it("nghttp's durations: microseconds, then two truncated decimals", () => {
    expect(formatDuration(0.234)).toBe('234us');
    expect(formatDuration(0.9994)).toBe('999us');
    expect(formatDuration(1.2349)).toBe('1.23ms');
    expect(formatDuration(0.9996)).toBe('1.00ms');
    expect(formatDuration(999.999)).toBe('999.99ms');
    expect(formatDuration(2500)).toBe('2.50s');
  });

  it("nghttp's columns, completed first, '*' for a push", () => {
    const a = exchange({ streamId: 13, endAt: 1010.332, headersSentAt: 1010.097, bodySize: 157 });
    const p = exchange({ url: new URL('https://h.test/style.css'), pushed: true, streamId: 2, issuedAt: 1010.216, endAt: 1010.375, bodySize: 7 });
    const lines = statistics([p, a]).split('\n');
    const table = lines.slice(lines.indexOf('id  responseEnd requestStart  process code size request path'));
    expect(table.slice(1, 3)).toEqual([
      ' 13      +332us        +97us    235us  200  157 /p?q=1&r=%20x',
      '  2      +375us *     +216us    159us  200    7 /style.css',
    ]);
  });
});
