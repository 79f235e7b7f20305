/**
 * The handler API: an HTTP/2 server over TCP (h2c with prior knowledge) or
 * over any Duplex handed in (e.g. a TLS socket that negotiated "h2").
 *
 * ```ts
 * const server = createServer({
 *   handler(stream) {
 *     stream.respond(200, { 'content-type': 'text/plain' }, `hello ${stream.path}\n`);
 *   },
 * });
 * const { port } = await server.listen(8080);
 * // ...
 * await server.close({ graceful: true });
 * ```
 */
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { ConnectionCloseInfo } from './endpoint.js';
import { Http2Error, invalidArgument, invalidState } from './errors.js';
import { type Limits, resolveLimits } from './limits.js';
import type { FrameObserver } from './observer.js';
import { ServerConnection, type UpgradeInfo } from './server-connection.js';
import type { ServerStream } from './server-stream.js';
import { type LocalSettings, resolveSettings } from './settings.js';
import { attachSocket, socketTransport } from './socket.js';

/** Called once per request, when its field section has arrived and passed validation. */
export type RequestHandler = (stream: ServerStream) => void;

export interface ServerOptions {
  handler: RequestHandler;
  /** What we advertise in SETTINGS (see LocalSettings for the defaults). */
  settings?: Partial<LocalSettings>;
  /** Abuse limits and timeouts (see Limits for the defaults). */
  limits?: Partial<Limits>;
  /** Sees every frame sent and received, with decoded details. */
  onFrame?: FrameObserver;
  /** A handler or stream listener threw (the stream was reset with INTERNAL_ERROR). */
  onError?: (error: unknown, stream: ServerStream | null) => void;
  /** A connection closed; `error` is the connection error we sent, if any. */
  onConnectionClose?: (info: ConnectionCloseInfo) => void;
  /** On a cleartext (h2c) port: an HTTP/1.1 request upgraded its connection (RFC 7540 §3.2) and became stream 1. */
  onUpgrade?: (info: UpgradeInfo) => void;
  /** Sees the octets received on each connection (decrypted, under TLS) before they are parsed. */
  onData?: (connectionId: number, data: Uint8Array) => void;
  /** Padding per DATA, HEADERS and PUSH_PROMISE frame (see ConnectionOptions.padding). */
  padding?: number;
  /** The HPACK encoder's own table limit (see ConnectionOptions.encoderTableSize). */
  encoderTableSize?: number;
  /** Flush frames once per event-loop turn (see EndpointOptions.coalesceWrites). */
  coalesceWrites?: boolean;
  /** Id of the first connection (default 1) and the step between ids (default 1), so that processes can number theirs apart. */
  firstConnectionId?: number;
  connectionIdStep?: number;
  /**
   * Serve HTTP/2 over TLS (ALPN "h2", RFC 9113 §3.2): the key and
   * certificate (PEM), and any other option of tls.createServer. A client
   * that does not offer h2 fails the handshake (no_application_protocol);
   * one that does not finish the handshake within limits.handshakeTimeout
   * is disconnected.
   */
  tls?: tls.TlsOptions;
}

export interface CloseOptions {
  /**
   * true (default): GOAWAY NO_ERROR, in-flight streams finish, then each
   * connection closes. false: GOAWAY and close at once.
   */
  graceful?: boolean;
  /** Milliseconds to wait for in-flight streams before closing anyway. Default 5000. */
  timeout?: number;
}

export class Http2Server {
  readonly #options: ServerOptions;
  #netServer: net.Server | null = null;
  readonly #connections = new Set<ServerConnection>();
  /** Sockets still in the TLS handshake (not yet the engine's). */
  readonly #handshaking = new Set<net.Socket>();
  readonly #sockets = new Set<Duplex>();
  #nextId = 1;
  #closing = false;

  constructor(options: ServerOptions) {
    if (typeof options?.handler !== 'function') throw invalidArgument('createServer: options.handler must be a function');
    // Fail now rather than on the first connection.
    resolveSettings(options.settings);
    resolveLimits(options.limits);
    this.#options = options;
    this.#nextId = options.firstConnectionId ?? 1;
  }

  #takeId(): number {
    const id = this.#nextId;
    this.#nextId += this.#options.connectionIdStep ?? 1;
    return id;
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** The open connections. */
  getConnections(): ServerConnection[] {
    return [...this.#connections];
  }

  /**
   * Listens on TCP: h2c with prior knowledge (and the HTTP/1.1 Upgrade), or
   * TLS with ALPN h2 when the server was created with `tls`. Resolves with
   * the bound address.
   */
  listen(port = 0, host?: string): Promise<AddressInfo> {
    if (this.#netServer) return Promise.reject(invalidState('listen() called twice'));
    const srv = this.#options.tls ? this.#secureServer(this.#options.tls) : net.createServer({ noDelay: true }, (socket) => this.handleSocket(socket));
    this.#netServer = srv;
    return new Promise((resolve, reject) => {
      const failed = (e: NodeJS.ErrnoException): void => {
        this.#netServer = null;
        reject(new Http2Error('LISTEN_FAILED', `cannot listen on ${host ?? '*'}:${port}: ${e.message}`, { cause: e }));
      };
      srv.once('error', failed);
      srv.listen(port, host, () => {
        srv.off('error', failed);
        resolve(srv.address() as AddressInfo);
      });
    });
  }

  #secureServer(options: tls.TlsOptions): tls.Server {
    const limit = resolveLimits(this.#options.limits).handshakeTimeout;
    const srv = tls.createServer({
      minVersion: 'TLSv1.2',
      ...options,
      ...(limit > 0 ? { handshakeTimeout: limit } : {}),
      // A client that does not offer h2 gets TLS's no_application_protocol alert (RFC 7301 §3.2).
      ALPNCallback: ({ protocols }) => (protocols.includes('h2') ? 'h2' : undefined),
    });
    srv.on('connection', (raw: net.Socket) => {
      this.#handshaking.add(raw);
      raw.once('close', () => this.#handshaking.delete(raw));
      if (this.#closing) raw.destroy();
    });
    srv.on('secureConnection', (socket: tls.TLSSocket) => {
      if (socket.alpnProtocol !== 'h2') {
        socket.destroy();
        return;
      }
      this.handleSocket(socket);
    });
    // The handshake failed or timed out. With a listener, Node leaves the socket to us.
    srv.on('tlsClientError', (_err, socket) => socket.destroy());
    return srv;
  }

  /** The listening address, or null. */
  address(): AddressInfo | null {
    const a = this.#netServer?.address();
    return a && typeof a === 'object' ? a : null;
  }

  /** Serves HTTP/2 on an accepted Duplex (TCP socket, or TLS socket after ALPN "h2"). */
  handleSocket(socket: Duplex): ServerConnection {
    const sock = socket as Duplex & Partial<Pick<net.Socket, 'remoteAddress' | 'remotePort' | 'setNoDelay'>>;
    if (this.#closing) {
      socket.destroy();
    }
    sock.setNoDelay?.(true);
    const transport = socketTransport(socket);
    const o = this.#options;
    const conn = new ServerConnection(transport, {
      onStream: o.handler,
      id: this.#takeId(),
      remoteAddress: sock.remoteAddress ?? '',
      remotePort: sock.remotePort ?? 0,
      settings: o.settings,
      limits: o.limits,
      onFrame: o.onFrame ?? null,
      onError: o.onError,
      // A plain TCP socket is an h2c port, where an HTTP/1.1 request may upgrade (or gets an HTTP/1.1 answer);
      // after TLS, ALPN has already settled on h2.
      answerHttp1: socket instanceof net.Socket && (socket as { encrypted?: boolean }).encrypted !== true,
      ...(o.onUpgrade ? { onUpgrade: o.onUpgrade } : {}),
      ...(o.padding !== undefined ? { padding: o.padding } : {}),
      ...(o.encoderTableSize !== undefined ? { encoderTableSize: o.encoderTableSize } : {}),
      ...(o.coalesceWrites ? { coalesceWrites: true } : {}),
      onClose: (info) => {
        this.#connections.delete(conn);
        o.onConnectionClose?.(info);
      },
    });
    this.#connections.add(conn);
    this.#sockets.add(socket);
    const onData = o.onData;
    attachSocket(socket, conn, onData ? (d) => onData(conn.id, d) : null, () => this.#sockets.delete(socket));
    if (this.#closing) conn.destroy();
    return conn;
  }

  /**
   * Stops listening and closes every connection: gracefully (GOAWAY
   * NO_ERROR, in-flight streams finish within `timeout`) or at once.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const graceful = options.graceful ?? true;
    const timeout = options.timeout ?? 5000;
    this.#closing = true;
    const listening = this.#netServer ? new Promise<void>((resolve) => this.#netServer!.close(() => resolve())) : Promise.resolve();
    for (const c of this.#connections) {
      if (graceful) c.shutdown();
      else c.destroy();
    }
    const deadline = Date.now() + timeout;
    while (this.#sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.#connections) c.destroy();
    for (const s of this.#sockets) s.destroy();
    for (const s of this.#handshaking) s.destroy();
    await listening;
  }
}

/** Creates a server; see Http2Server. */
export function createServer(options: ServerOptions): Http2Server {
  return new Http2Server(options);
}

/** Creates a server for HTTP/2 over TLS: createServer() with `tls` (key and certificate at least). */
export function createSecureServer(tlsOptions: tls.TlsOptions, options: ServerOptions): Http2Server {
  return new Http2Server({ ...options, tls: tlsOptions });
}
