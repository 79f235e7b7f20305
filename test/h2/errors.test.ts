/**
 * One error class for the h2 API: whatever the API throws or rejects with is
 * an Http2Error (an Error with a string `code`), bad arguments and calls in
 * the wrong state included, and the protocol error value (H2Error) is one.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  connect,
  createServer,
  ErrorCode,
  encodeFrame,
  encodeHeaders,
  encodePing,
  FRAME_HEADER_LENGTH,
  FrameType,
  H2Error,
  Http2Error,
  parseFrame,
  parseFrameHeader,
  type ServerStream,
} from '../../src/h2/index.js';
import { startTestServer } from '../helpers/h2-test-server.js';

/** What `fn` throws (synchronously), or the rejection of the promise it returns. */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

function expectHttp2Error(e: unknown, code: string, message?: RegExp): void {
  expect(e).toBeInstanceOf(Http2Error);
  expect(e).toBeInstanceOf(Error);
  expect((e as Http2Error).code, (e as Error).message).toBe(code);
  if (message) expect((e as Error).message).toMatch(message);
}

/** Runs `inHandler` on one request and returns what each of its probes threw. */
async function probe(inHandler: (s: ServerStream) => unknown[]): Promise<unknown[]> {
  let results: unknown[] = [];
  const ts = await startTestServer({
    handler(s) {
      results = inHandler(s);
      if (!s.headersSent && !s.closed) s.respond(200, {}, 'ok');
    },
  });
  try {
    const session = await connect(`http://127.0.0.1:${ts.port}`);
    await session.request({ ':path': '/' }).then(
      (r) => r.bytes().catch(() => {}),
      () => {},
    );
    await session.close();
  } finally {
    await ts.close();
  }
  return results;
}

const attempt = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return 'no error';
};

describe('the handler API throws Http2Error', () => {
  it('respond() twice and sendTrailers() out of turn: INVALID_STATE', async () => {
    const [before, twice, after] = await probe((s) => {
      const before = attempt(() => s.sendTrailers({ 'x-a': '1' }));
      s.respond(200, {}, 'x');
      const twice = attempt(() => s.respond(200, {}, 'y'));
      const after = attempt(() => s.sendTrailers({ 'x-a': '1' }));
      return [before, twice, after];
    });
    expectHttp2Error(before, 'INVALID_STATE', /before respond/);
    expectHttp2Error(twice, 'INVALID_STATE', /twice/);
    expectHttp2Error(after, 'INVALID_STATE', /after the body/);
  });

  it('fields HTTP/2 forbids, a bad status, a bad body, a bad push or reset code: INVALID_ARGUMENT', async () => {
    const errors = await probe((s) => [
      attempt(() => s.respond(200, { 'transfer-encoding': 'chunked' })),
      attempt(() => s.respond(200, { 'X Bad': '1' })),
      attempt(() => s.respond(200, { 'x-a': 'line\nbreak' })),
      attempt(() => s.respond(200, { ':status': '204' })),
      attempt(() => s.respond(99)),
      attempt(() => s.respond(200, {}, 42 as unknown as string)),
      attempt(() => s.push('/x', { method: 'POST' as 'GET' })),
      attempt(() => s.push('no-slash')),
      attempt(() => s.reset(-1)),
      attempt(() => s.respond(200, [['x-a', {} as unknown as string]])),
      attempt(() => s.respond(200, [[7 as unknown as string, 'x']])),
    ]);
    expect(errors).toHaveLength(11);
    for (const e of errors) expectHttp2Error(e, 'INVALID_ARGUMENT');
    expect((errors[0] as Error).message).toMatch(/connection-specific field transfer-encoding.*§8\.2\.2/);
    expect((errors[4] as Error).message).toMatch(/status must be an integer/);
  });

  it('trailers that break the rules, given to respond() or sendTrailers(): INVALID_ARGUMENT, at the call', async () => {
    const [e, f] = await probe((s) => {
      const e = attempt(() => s.respond(200, {}, 'x', { trailers: { ':path': '/' } }));
      s.respond(200, {}, () => 'deferred');
      const f = attempt(() => s.sendTrailers({ 'keep-alive': '1' }));
      s.reset();
      return [e, f];
    });
    expectHttp2Error(e, 'INVALID_ARGUMENT', /pseudo-header :path/);
    expectHttp2Error(f, 'INVALID_ARGUMENT', /keep-alive/);
  });
});

describe('the server and the connection', () => {
  it('createServer without a handler or with a bad limit: INVALID_ARGUMENT', () => {
    expectHttp2Error(
      attempt(() => createServer({} as Parameters<typeof createServer>[0])),
      'INVALID_ARGUMENT',
      /handler/,
    );
    expectHttp2Error(
      attempt(() => createServer({ handler: () => {}, limits: { idleTimeout: -1 } })),
      'INVALID_ARGUMENT',
      /idleTimeout/,
    );
    expectHttp2Error(
      attempt(() => createServer({ handler: () => {}, settings: { maxFrameSize: 1 } })),
      'INVALID_ARGUMENT',
      /maxFrameSize/,
    );
  });

  it("listen() twice: INVALID_STATE; on a port in use: LISTEN_FAILED with Node's error as the cause", async () => {
    const a = createServer({ handler: () => {} });
    const { port } = await a.listen(0, '127.0.0.1');
    try {
      expectHttp2Error(await caught(() => a.listen(0, '127.0.0.1')), 'INVALID_STATE');
      const b = createServer({ handler: () => {} });
      const e = await caught(() => b.listen(port, '127.0.0.1'));
      expectHttp2Error(e, 'LISTEN_FAILED', new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
      expect(((e as Error).cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
      await b.close();
    } finally {
      await a.close();
    }
  });

  it('a connection error is reported as an H2Error, itself an Http2Error: code the RFC name, errorCode the number', async () => {
    const ts = await startTestServer();
    try {
      const sock = net.connect(ts.port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      sock.resume();
      sock.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      sock.write(encodeFrame(FrameType.SETTINGS, 0, 1, new Uint8Array(0))); // SETTINGS on stream 1: PROTOCOL_ERROR (§6.5)
      await new Promise((r) => sock.once('close', r));
      for (let i = 0; i < 100 && ts.connectionCloses.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const e = ts.connectionCloses[0]?.error;
      expect(e).toBeInstanceOf(H2Error);
      expectHttp2Error(e, 'PROTOCOL_ERROR', /SETTINGS/);
      expect(e!.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      expect(e!.scope).toBe('connection');
      expect(e!.streamId).toBe(0);
    } finally {
      await ts.close();
    }
  });

  it('parsers return H2Error values (stream errors name their stream)', () => {
    const bytes = encodeFrame(FrameType.PRIORITY, 0, 3, new Uint8Array(4)); // 4 octets: FRAME_SIZE_ERROR on stream 3 (§6.3)
    const e = parseFrame(parseFrameHeader(bytes), bytes.subarray(FRAME_HEADER_LENGTH));
    expectHttp2Error(e, 'FRAME_SIZE_ERROR');
    expect(e).toMatchObject({ scope: 'stream', errorCode: ErrorCode.FRAME_SIZE_ERROR, streamId: 3 });
    expect(String(e)).toMatch(/^stream error FRAME_SIZE_ERROR: /);
  });

  it('the frame encoders refuse bad arguments with INVALID_ARGUMENT', () => {
    expectHttp2Error(
      attempt(() => encodePing(new Uint8Array(3))),
      'INVALID_ARGUMENT',
      /8 octets/,
    );
    expectHttp2Error(
      attempt(() => encodeHeaders(1, new Uint8Array(1), { padLength: 300 })),
      'INVALID_ARGUMENT',
      /padLength/,
    );
  });
});

describe('the client API rejects with Http2Error', () => {
  it("bad settings or limits: INVALID_ARGUMENT before dialling (they used to throw in the socket's connect event); bad fields and trailers", async () => {
    const ts = await startTestServer();
    try {
      expectHttp2Error(await caught(() => connect(`http://127.0.0.1:${ts.port}`, { limits: { idleTimeout: -1 } })), 'INVALID_ARGUMENT', /idleTimeout/);
      expectHttp2Error(
        await caught(() => connect(`http://127.0.0.1:${ts.port}`, { settings: { initialWindowSize: -5 } })),
        'INVALID_ARGUMENT',
        /initialWindowSize/,
      );
      const s = await connect(`http://127.0.0.1:${ts.port}`);
      expectHttp2Error(
        await caught(() => s.request({ ':path': '/' }, { body: 'x', trailers: { connection: 'close' } })),
        'INVALID_ARGUMENT',
        /connection-specific/,
      );
      expectHttp2Error(await caught(() => s.request({ 'x-a': 'bad\r' })), 'INVALID_ARGUMENT', /invalid value/);
      await s.close();
    } finally {
      await ts.close();
    }
  });

  it('priority() and setNextStreamId() out of range, reading a body twice at once, ping() after close', async () => {
    const ts = await startTestServer();
    try {
      const s = await connect(`http://127.0.0.1:${ts.port}`);
      expectHttp2Error(
        attempt(() => s.priority(0, { dependency: 0, weight: 16, exclusive: false })),
        'INVALID_ARGUMENT',
        /stream id/,
      );
      expectHttp2Error(
        attempt(() => s.priority(3, { dependency: 0, weight: 300, exclusive: false })),
        'INVALID_ARGUMENT',
        /weight/,
      );
      expectHttp2Error(
        attempt(() => s.setNextStreamId(2)),
        'INVALID_ARGUMENT',
        /odd/,
      );
      const r = await s.request({ ':path': '/defer' });
      const it1 = r.body[Symbol.asyncIterator]();
      const it2 = r.body[Symbol.asyncIterator]();
      const first = it1.next();
      expectHttp2Error(await caught(() => it2.next()), 'INVALID_STATE', /being read/);
      expect(new TextDecoder().decode((await first).value)).toBe('later');
      await s.close();
      expectHttp2Error(await caught(() => s.ping()), 'CONNECTION_CLOSED');
    } finally {
      await ts.close();
    }
  });
});
