/** A server on our engine with a few routes that the tests exercise. */

import type { ConnectionCloseInfo } from '../../src/h2/index.js';
import { createServer, type Http2Server, type ServerOptions, type ServerStream } from '../../src/h2/index.js';

export interface TestServer {
  server: Http2Server;
  port: number;
  /** Every stream the handler saw, in order. */
  streams: ServerStream[];
  /** 'close' codes by stream id (per connection they may repeat; last wins). */
  closeCodes: Map<number, number>;
  /** Connection closes as reported by the server. */
  connectionCloses: ConnectionCloseInfo[];
  errors: unknown[];
  close(): Promise<void>;
}

/** Deterministic body octets: byte i is (i * 7 + 3) mod 251. */
export function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) % 251;
  return b;
}

export function defaultHandler(stream: ServerStream): void {
  const path = stream.path.split('?')[0]!;
  if (path === '/' || path === '*') return stream.respond(200, { 'content-type': 'text/plain' }, 'hello');
  if (path === '/info') {
    return stream.respond(
      200,
      { 'content-type': 'application/json' },
      JSON.stringify({
        method: stream.method,
        scheme: stream.scheme,
        authority: stream.authority,
        path: stream.path,
        headers: stream.headers,
        raw: stream.rawHeaders.map(([n, v]) => [n, Buffer.from(v).toString('hex')]),
      }),
    );
  }
  if (path === '/echo') {
    const parts: Uint8Array[] = [];
    stream.on('data', (c) => parts.push(Buffer.from(c)));
    stream.on('end', () => {
      const body = Buffer.concat(parts);
      const trailers = stream.trailers;
      stream.respond(
        200,
        { 'x-request-bytes': body.length },
        body,
        trailers ? { trailers: trailers.map(([n, v]) => [`x-echo-${n}`, v] as [string, string]) } : {},
      );
    });
    return;
  }
  if (path === '/count') {
    let n = 0;
    stream.on('data', (c) => (n += c.length));
    stream.on('end', () => stream.respond(200, {}, String(n)));
    return;
  }
  const size = /^\/size\/(\d+)$/.exec(path);
  if (size) return stream.respond(200, {}, pattern(Number(size[1])));
  const produced = /^\/stream\/(\d+)$/.exec(path);
  if (produced) {
    const total = Number(produced[1]);
    const all = pattern(total);
    let off = 0;
    return stream.respond(200, {}, (max) => {
      if (off >= total) return null;
      const n = Math.min(max, total - off, 10000);
      const c = all.subarray(off, off + n);
      off += n;
      return c;
    });
  }
  if (path === '/push') {
    const pushed = stream.push('/pushed.css', { headers: { 'content-type': 'text/css' }, body: 'pushed body' });
    return stream.respond(200, { 'x-pushed': pushed ? String(pushed.streamId) : 'none' }, 'main body');
  }
  if (path === '/hold') return; // never answers
  if (path === '/trailers') return stream.respond(200, {}, 'abc', { trailers: { 'x-checksum': '42' } });
  if (path === '/defer') {
    let step = 0;
    stream.respond(200, {}, () => {
      step++;
      if (step === 1) {
        setTimeout(() => stream.resume(), 30);
        return 'deferred';
      }
      if (step === 2) return Buffer.from('later');
      return null;
    });
    return;
  }
  if (path === '/empty') return stream.respond(204, {});
  if (path === '/throw') throw new Error('handler failure (expected by the test)');
  stream.respond(404, {}, 'not found');
}

export async function startTestServer(opts: Partial<ServerOptions> = {}): Promise<TestServer> {
  const streams: ServerStream[] = [];
  const closeCodes = new Map<number, number>();
  const connectionCloses: ConnectionCloseInfo[] = [];
  const errors: unknown[] = [];
  const handler = opts.handler ?? defaultHandler;
  const server = createServer({
    ...opts,
    handler(stream) {
      streams.push(stream);
      stream.on('close', (code) => closeCodes.set(stream.streamId, code));
      handler(stream);
    },
    onError(err) {
      errors.push(err);
    },
    onConnectionClose(info) {
      connectionCloses.push(info);
      opts.onConnectionClose?.(info);
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port, streams, closeCodes, connectionCloses, errors, close: () => server.close({ graceful: false, timeout: 500 }) };
}
