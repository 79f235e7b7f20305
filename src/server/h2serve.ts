/**
 * h2serve: a static HTTP/2 file server on the h2kit engine, with nghttpd's
 * behaviour and options (h2c with prior knowledge or TLS with ALPN h2, server
 * push, trailers, upload echo, padding, window and table sizes, the frame
 * log). src/cli/h2serve.ts turns the command line into an H2ServeConfig; this
 * module is also usable on its own.
 */
import type { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';
import { type BodyProducer, createServer, DEFAULT_LIMITS, type Http2Server, type ServerStream } from '../h2/index.js';
import { VERSION } from '../version.js';
import { FileProducer, type ProducerHost, ReadAhead } from './file-body.js';
import { formatHttpDate } from './http-date.js';
import { FrameLog, hexdump, LineSink } from './log.js';
import { type HeaderList, releaseBody, StaticFiles, type StaticFs, type StaticRequest, type StaticResponse } from './static.js';

export interface H2ServeConfig {
  port: number;
  /** Address to listen on; undefined: all interfaces. */
  address?: string;
  htdocs: string;
  /** Key and certificate (PEM) for TLS; null for h2c with prior knowledge (--no-tls). */
  tls: null | { key: string | Buffer; cert: string | Buffer; verifyClient?: boolean };
  verbose?: boolean;
  hexdump?: boolean;
  color?: boolean;
  /** Our SETTINGS_HEADER_TABLE_SIZE (-c). */
  headerTableSize?: number;
  /** The encoder's own table limit (--encoder-header-table-size). */
  encoderHeaderTableSize?: number;
  /** Request path -> paths to push (-p). */
  push?: Map<string, string[]>;
  /** Padding octets per frame (-b). */
  padding?: number;
  maxConcurrentStreams?: number;
  /** Per-stream window: 2^bits - 1 (-w). */
  windowBits?: number;
  /** Connection window: 2^bits - 1 (-W; default 20). */
  connectionWindowBits?: number;
  errorGzip?: boolean;
  earlyResponse?: boolean;
  /** Trailer fields sent after every response body (--trailer). */
  trailers?: Array<[string, string]>;
  echoUpload?: boolean;
  mimeTypesFile?: string;
  noContentLength?: boolean;
  /** Trust a cached file this many ms before a stat checks it again (0, the default: in every event-loop turn). */
  cacheValidMs?: number;
  /** First connection id and the step between ids (workers number theirs apart). */
  connectionIds?: { first: number; step: number };
  /** Where log lines go (default: stdout). */
  write?: (text: string) => void;
  /** Bounds on file bytes read ahead of sending (see ReadAhead; library use and tests). */
  readAhead?: { perConnection?: number; perProcess?: number };
  /** The static layer's file system calls (tests count or delay them). */
  fs?: StaticFs;
  /**
   * Milliseconds a client has to complete the TLS handshake, and then to send
   * its preface and SETTINGS (default 10 s, the engine's handshakeTimeout);
   * Node's TLS default would leave a silent client connected for 120 s.
   */
  handshakeTimeout?: number;
}

export interface H2Serve {
  server: Http2Server;
  address: AddressInfo;
  log: FrameLog;
  /** The static file layer (its cacheStats count cached files and open descriptors). */
  files: StaticFiles;
  /** File bytes read and not yet sent, bounded per connection and per process. */
  readAhead: ReadAhead;
  /** Graceful stop: GOAWAY, in-flight streams finish (at most `timeout` ms), listener closed. */
  close(timeout?: number): Promise<void>;
}

export const SERVER_NAME = `h2serve h2kit/${VERSION}`;

/** A producer that yields `bytes` once. */
function once(bytes: Uint8Array): BodyProducer {
  let done = false;
  return () => {
    if (done) return null;
    done = true;
    return bytes;
  };
}

export async function startH2Serve(config: H2ServeConfig): Promise<H2Serve> {
  const write = config.write ?? ((t: string) => void process.stdout.write(t));
  const sink = new LineSink(write);
  const log = new FrameLog(sink, config.color === true);
  const files = new StaticFiles({
    root: config.htdocs,
    ...(config.mimeTypesFile !== undefined ? { mimeTypesFile: config.mimeTypesFile } : {}),
    noContentLength: config.noContentLength === true,
    errorGzip: config.errorGzip === true,
    dotfiles: 'allow', // as nghttpd
    statOncePerTurn: true, // the requests of one event-loop turn share a stat of their file
    revalidateMs: config.cacheValidMs ?? 0,
    ...(config.fs !== undefined ? { fs: config.fs } : {}),
  });
  const readAhead = new ReadAhead(config.readAhead?.perConnection, config.readAhead?.perProcess);
  const trailers = config.trailers ?? [];
  const trailerHeader: Array<[string, string]> = trailers.length ? [['trailer', trailers.map(([n]) => n).join(', ')]] : [];
  for (const f of trailerHeader) Object.freeze(f);
  const trailerOpts = trailers.length ? { trailers } : undefined;
  const push = config.push ?? new Map<string, string[]>();
  // Requests are answered as soon as their file is known, without a promise,
  // unless they push (PUSH_PROMISEs go first) or the frame log is on (it
  // shows every frame received in a read before our answers, as nghttpd).
  const syncAnswers = config.verbose !== true;

  /** The engine's body for bytes or no content (file bodies get a producer, see prepare). */
  const bodyOf = (res: StaticResponse): Uint8Array | BodyProducer | undefined => {
    const b = res.body;
    if (b.kind !== 'bytes' || !b.bytes.length) return undefined;
    // The engine adds content-length to a Uint8Array body; a producer gets none (--no-content-length).
    return config.noContentLength ? once(b.bytes) : b.bytes;
  };

  const build = (src: HeaderList, date: readonly [string, string], withTrailers: boolean): HeaderList => {
    const list: Array<readonly [string, string]> = [SERVER_FIELD, date];
    for (let i = 0; i < src.length; i++) list.push(src[i]!);
    if (withTrailers) for (const f of trailerHeader) list.push(f);
    return list;
  };
  // A frozen list from the static layer is the same on every call (a cached
  // file's, an error page's): its full list is built once per second, and
  // the engine, seeing the same frozen list again, skips checking and
  // encoding it anew.
  const shaped = new WeakMap<HeaderList, ShapedFields>();

  /** Response fields: ours first (server, date), then the file's, then the trailer field when trailers follow the body. */
  const shape = (res: StaticResponse, withTrailers: boolean): HeaderList => {
    const date = dateHeader();
    const src = res.headers;
    if (!Object.isFrozen(src)) return build(src, date, withTrailers);
    let m = shaped.get(src);
    if (m === undefined) {
      m = { date, plain: null, trailed: null };
      shaped.set(src, m);
    } else if (m.date !== date) {
      m.date = date;
      m.plain = m.trailed = null;
    }
    return withTrailers ? (m.trailed ??= Object.freeze(build(src, date, true))) : (m.plain ??= Object.freeze(build(src, date, false)));
  };

  /**
   * What goes on the wire for a static response: its body, its fields, and
   * the trailers when a body carries them. A file is sent by a producer that
   * reads it as `host`'s windows open; close it when that stream closes.
   */
  const prepare = (res: StaticResponse, host: ProducerHost) => {
    let producer: FileProducer | null = null;
    let body: Uint8Array | BodyProducer | undefined;
    const b = res.body;
    if (b.kind !== 'file') body = bodyOf(res);
    else if (b.end > b.start) body = (producer = new FileProducer(b, host, readAhead)).produce;
    else void b.release();
    const withTrailers = body !== undefined && trailerOpts !== undefined;
    return { body, producer, headers: shape(res, withTrailers), trailers: withTrailers ? trailerOpts : undefined };
  };

  const send = (stream: ServerStream, res: StaticResponse) => {
    if (stream.closed) {
      void releaseBody(res);
      return;
    }
    const { body, producer, headers, trailers } = prepare(res, stream);
    if (producer !== null) stream.on('close', () => producer.close());
    stream.respond(res.status, headers, body, trailers);
  };

  /** A request for the file layer: the stream itself (method, path, headers, scheme, authority, closed), or a pushed path on it. */
  const pushRequest = (path: string, stream: ServerStream): StaticRequest => ({
    method: 'GET',
    path,
    headers: [],
    scheme: stream.scheme,
    authority: stream.authority,
    get closed() {
      return stream.closed;
    },
  });

  /** -v: `stream_id=N closed`, for requests and for pushed streams alike (as nghttpd). */
  const logClose = (stream: ServerStream) => stream.on('close', () => log.streamClosed(stream.connectionId, stream.streamId));

  const answer = async (stream: ServerStream) => {
    const pushes = push.size === 0 ? undefined : push.get(pathOf(stream.path));
    if (pushes && !stream.closed) {
      // PUSH_PROMISEs go before the response (RFC 9113 §8.4), so resolve the pushed files first.
      const responses = await Promise.all(pushes.map((p) => files.respond(pushRequest(p, stream))));
      for (let i = 0; i < responses.length; i++) {
        const res = responses[i]!;
        if (stream.closed) {
          void releaseBody(res);
          continue;
        }
        // The pushed stream exists only once push() returns: its producer reaches it through `host`.
        let pushed: ServerStream | null = null;
        const host: ProducerHost = { connectionId: stream.connectionId, resume: () => pushed?.resume() };
        const { body, producer, headers, trailers } = prepare(res, host);
        pushed = stream.push(pushes[i]!, { status: res.status, headers, ...(body !== undefined ? { body } : {}), ...trailers });
        if (pushed === null) {
          // Push refused: release the file.
          producer?.close();
          void releaseBody(res);
          continue;
        }
        if (producer !== null) pushed.on('close', () => producer.close());
        if (config.verbose) logClose(pushed);
      }
    }
    send(stream, await files.respond(stream));
  };

  const echo = (stream: ServerStream) => {
    const parts: Uint8Array[] = [];
    stream.on('data', (chunk) => parts.push(Uint8Array.from(chunk)));
    stream.on('end', () => {
      if (stream.closed) return;
      const body = Buffer.concat(parts);
      const headers: Array<readonly [string, string]> = [
        SERVER_FIELD,
        dateHeader(),
        ...(body.length && trailers.length ? trailerHeader : []),
        ['nghttpd-response', 'echo'],
        ['content-length', String(body.length)],
      ];
      stream.respond(200, headers, body, body.length && trailers.length ? { trailers } : undefined);
    });
  };

  /** Answers a request whose body (if any) has ended (or at once with --early-response). */
  const go = (stream: ServerStream) => {
    if (syncAnswers && (push.size === 0 || !push.has(pathOf(stream.path)))) {
      // The stream carries method, path, headers, scheme and authority: it is the request.
      const res = files.respondFromCache(stream);
      if (res !== undefined) {
        try {
          send(stream, res);
        } catch {
          stream.reset();
        }
        return;
      }
    }
    answer(stream).catch(() => stream.reset());
  };

  const handler = (stream: ServerStream) => {
    if (config.verbose) logClose(stream);
    if (config.echoUpload && (stream.method === 'POST' || stream.method === 'PUT')) {
      echo(stream);
      return;
    }
    // As nghttpd: the response starts when the request has ended, unless
    // --early-response. END_STREAM already in the handler: a request without a body.
    if (config.earlyResponse || stream.requestEnded || stream.endStreamReceived) go(stream);
    else {
      stream.on('data', () => {}); // discard an unexpected body, keeping the window open
      stream.on('end', () => go(stream));
    }
  };

  const settings = {
    ...(config.headerTableSize !== undefined ? { headerTableSize: config.headerTableSize } : {}),
    ...(config.maxConcurrentStreams !== undefined ? { maxConcurrentStreams: config.maxConcurrentStreams } : {}),
    ...(config.windowBits !== undefined ? { initialWindowSize: 2 ** config.windowBits - 1 } : {}),
    // -W defaults to 20, as its help says (the engine's own default is 2^20, one more).
    connectionWindowSize: 2 ** (config.connectionWindowBits ?? 20) - 1,
  };
  const handshakeTimeout = config.handshakeTimeout ?? DEFAULT_LIMITS.handshakeTimeout;
  const server: Http2Server = createServer({
    handler,
    settings,
    limits: { handshakeTimeout },
    ...(config.padding ? { padding: config.padding } : {}),
    ...(config.encoderHeaderTableSize !== undefined ? { encoderTableSize: config.encoderHeaderTableSize } : {}),
    ...(config.verbose
      ? {
          onFrame: (e) => log.frame(e),
          onUpgrade: (info) => log.upgrade(info),
          onConnectionClose: (info) => {
            if (info.http1Status !== null)
              log.event(info.connectionId, `HTTP/1.x request instead of the HTTP/2 preface: ${info.reason.replace(/^.*answered /, 'answered ')}`);
            log.connectionClosed(info.connectionId);
          },
        }
      : {}),
    ...(config.hexdump ? { onData: (_id: number, d: Uint8Array) => log.line(hexdump(d)) } : {}),
    ...(config.connectionIds ? { firstConnectionId: config.connectionIds.first, connectionIdStep: config.connectionIds.step } : {}),
  });

  let address: AddressInfo;
  if (config.tls) {
    const t = config.tls;
    const tlsServer = tls.createServer({
      key: t.key,
      cert: t.cert,
      minVersion: 'TLSv1.2',
      handshakeTimeout,
      requestCert: t.verifyClient === true,
      rejectUnauthorized: false, // -V requests a certificate and requires one, without verifying it (as nghttpd)
      ALPNCallback: ({ protocols }) => {
        if (config.verbose) log.line(['[ALPN] client offers:', ...protocols.map((p) => ` * ${p}`)].join('\n'));
        // A client that does not offer h2 gets TLS's no_application_protocol alert (RFC 7301 §3.2).
        return protocols.includes('h2') ? 'h2' : undefined;
      },
    });
    tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
      if (config.verbose) log.line(`SSL/TLS handshake completed\nThe negotiated protocol: ${socket.alpnProtocol || '(none)'}`);
      if (socket.alpnProtocol !== 'h2') {
        // No ALPN at all: nothing to speak with this client.
        socket.destroy();
        return;
      }
      if (t.verifyClient && !socket.getPeerCertificate()?.raw) {
        socket.destroy();
        return;
      }
      server.handleSocket(socket);
    });
    // A listener keeps Node from destroying the socket itself (a failed or timed-out handshake): do it here.
    tlsServer.on('tlsClientError', (_err, socket) => socket.destroy());
    // Connections still in (or never starting) the handshake are not the engine's: close() ends them.
    const rawSockets = new Set<Socket>();
    tlsServer.on('connection', (raw: Socket) => {
      rawSockets.add(raw);
      raw.once('close', () => rawSockets.delete(raw));
    });
    address = await new Promise<AddressInfo>((ok, fail) => {
      tlsServer.once('error', fail);
      tlsServer.listen(config.port, config.address, () => ok(tlsServer.address() as AddressInfo));
    });
    return {
      server,
      address,
      log,
      files,
      readAhead,
      close: async (timeout = 5000) => {
        tlsServer.close();
        await server.close({ graceful: true, timeout });
        for (const raw of rawSockets) raw.destroy();
        sink.flush();
      },
    };
  }
  address = await server.listen(config.port, config.address);
  return {
    server,
    address,
    log,
    files,
    readAhead,
    close: async (timeout = 5000) => {
      await server.close({ graceful: true, timeout });
      sink.flush();
    },
  };
}

/** The path without its query. */
function pathOf(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

const SERVER_FIELD: readonly [string, string] = Object.freeze(['server', SERVER_NAME] as const);
let dateSecond = -1;
let dateField: readonly [string, string] = Object.freeze(['date', ''] as const);
/** dateField is of the current second: set when read, cleared by a timer at the second's end (no clock read per response). */
let dateCurrent = false;
const dateExpired = (): void => {
  dateCurrent = false;
};
/** The `date` field of the current second, formatted once per second (frozen; the same object all second). */
function dateHeader(): readonly [string, string] {
  if (dateCurrent) return dateField;
  const now = Date.now();
  const sec = Math.floor(now / 1000);
  if (sec !== dateSecond) {
    dateSecond = sec;
    dateField = Object.freeze(['date', formatHttpDate(sec)] as const);
  }
  dateCurrent = true;
  setTimeout(dateExpired, 1000 - (now % 1000)).unref();
  return dateField;
}

/** A response's full field list for one date, with and without the trailer field (each built when first needed). */
interface ShapedFields {
  date: readonly [string, string];
  plain: HeaderList | null;
  trailed: HeaderList | null;
}
