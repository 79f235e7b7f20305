/**
 * Header blocks repeated octet for octet (a load generator's requests, a
 * server's responses): the decoder hands back the same field list, and the
 * connection skips validating it again. Every stream and every response
 * must still get fields of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientSession, connect } from '../../src/h2/index.js';
import { startTestServer, type TestServer } from '../helpers/h2-test-server.js';

let ts: TestServer;
const seen: Array<Array<[string, string]>> = [];
beforeAll(async () => {
  ts = await startTestServer({
    handler(stream) {
      // What this stream was given, copied; then the handler spoils its own list.
      seen.push(stream.headers.map(([n, v]) => [n, v] as [string, string]));
      (stream.headers as Array<[string, string]>).push(['x-spoiled', 'yes']);
      if (stream.headers[0]) (stream.headers as Array<[string, string]>)[0] = ['x-replaced', 'yes'];
      stream.respond(200, { 'content-type': 'text/plain', 'x-fixed': 'same' }, 'ok');
    },
  });
});
afterAll(async () => {
  await ts.close();
});

describe('repeated header blocks', () => {
  it('each request and each response has fields of its own, equal to what was sent', async () => {
    const s: ClientSession = await connect(`http://127.0.0.1:${ts.port}`);
    try {
      const request = { ':path': '/same', 'user-agent': 'repeat/1', accept: '*/*' };
      for (let i = 0; i < 20; i++) {
        const r = await s.request(request);
        expect(r.status).toBe(200);
        expect(r.headers).toContainEqual(['x-fixed', 'same']);
        expect(r.headers.some(([n]) => n === 'x-mine')).toBe(false);
        (r.headers as Array<[string, string]>).push(['x-mine', String(i)]);
        await r.text();
      }
    } finally {
      await s.close();
    }
    expect(seen).toHaveLength(20);
    for (const h of seen) {
      expect(h).toContainEqual(['user-agent', 'repeat/1']);
      expect(h).toContainEqual(['accept', '*/*']);
      expect(h.some(([n]) => n.startsWith('x-'))).toBe(false);
    }
  });
});
