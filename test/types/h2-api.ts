/**
 * Type-level test of h2kit/h2's public surface: `npm run typecheck` checks
 * it against src, and test/dist/h2-types.test.ts against the published
 * .d.ts (with the import rewritten). Every `@ts-expect-error` line must be
 * an error: engine state and internals are not reachable through the API.
 * Never run.
 */
import type { Duplex } from 'node:stream';
import {
  ClientResponse,
  ClientSession,
  type ConnectionCloseInfo,
  connect,
  createServer,
  H2Error,
  Http2Error,
  type Http2Server,
  ServerConnection,
  ServerStream,
  type Transport,
} from '../../src/h2/index.js';

export function publicSurface(
  stream: ServerStream,
  res: ClientResponse,
  session: ClientSession,
  server: Http2Server,
  conn: ServerConnection,
  transport: Transport,
  socket: Duplex,
): void {
  // What the API offers compiles.
  stream.respond(200, { 'content-type': 'text/plain' }, 'ok');
  const n: number = conn.stats.queuedBytes + conn.streamCount + session.stats.heldBody + server.connectionCount;
  const h: Array<[string, string]> = res.headers;
  const one: string | undefined = stream.get('Content-Type') ?? res.get('etag');
  const all: string[] = [...stream.getAll('cookie'), ...res.getAll('set-cookie')];
  const octets: Uint8Array | undefined = stream.rawHeaders[0]?.[1] ?? res.rawHeaders[0]?.[1];
  stream.respond(200, { 'x-octets': new Uint8Array([0xff]), 'x-text': 'café', 'x-n': 1 }, 'ok', { trailers: [['x-t', new Uint8Array(1)]] });
  const again = new ServerConnection(transport, { onStream: (s) => s.respond(204) });
  again.receive(new Uint8Array(0));
  const e = new Http2Error('ABORTED', 'x');
  const p: H2Error = new H2Error('stream', 1, 'y', 3);
  const code: string = p.code;
  const errorCode: number = p.errorCode;
  const info: ConnectionCloseInfo | null = null;
  void [n, h, one, all, octets, e, code, errorCode, info, connect, createServer];

  // Flow-control state and the engine behind each object are not.
  // @ts-expect-error a stream's windows are the engine's
  stream.sendWindow = 1e9;
  // @ts-expect-error
  stream.recvWindow;
  // @ts-expect-error the exchange behind the facade
  stream.x;
  // @ts-expect-error streams are made by the connection
  new ServerStream(undefined as never);
  // @ts-expect-error responses are made by the connection
  new ClientResponse(undefined as never);
  // @ts-expect-error sessions are made by connect()
  new ClientSession(new URL('http://x/'), socket, {}, { start: 0, connect: 0, secureConnect: 0 });
  // @ts-expect-error the connection window
  conn.sendWindow = 1e9;
  // @ts-expect-error
  conn.sendWindow.add(1e9);
  // @ts-expect-error SchedulerHost, FrameSink: the engine's
  conn.writeData(stream, new Uint8Array(1), 0, 1, true);
  // @ts-expect-error
  conn.frame({ length: 0, type: 0, flags: 0, streamId: 0 }, new Uint8Array(0));
  // @ts-expect-error
  conn.resetStream(stream, 0, 'x');
  // @ts-expect-error
  conn.connectionError(1, 'x');
  // @ts-expect-error
  conn.scheduleFlush();
  // @ts-expect-error
  conn.settings.maxConcurrentStreams = 1;
  // @ts-expect-error a server's sets of connections and sockets
  server.connections.clear();
  // @ts-expect-error
  server.sockets;
  // @ts-expect-error
  server.options;
  // @ts-expect-error the session's connection
  session.conn;
  // @ts-expect-error
  res.x;
}
