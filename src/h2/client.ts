/**
 * The client API: a session is one HTTP/2 connection to one origin, over
 * TLS with ALPN h2 (https:), over TCP with prior knowledge (http:), or
 * after an HTTP/1.1 Upgrade to h2c (http: with `upgrade`).
 *
 * ```ts
 * const session = await connect('https://localhost:8443', { tls: { rejectUnauthorized: false } });
 * const res = await session.request({ ':path': '/index.html' });
 * console.log(res.status, await res.text());
 * await session.close();
 * ```
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { type BodyInit, classifyBody, discardBody, type TrailersInit } from './body.js';
import { ClientConnection, type PendingRequest, type PushPromise } from './client-connection.js';
import type { ClientResponse } from './client-stream.js';
import type { ConnectionCloseInfo, ConnectionStats } from './endpoint.js';
import { errorCodeArg, Http2Error } from './errors.js';
import { ErrorCode, type PriorityFields } from './frame.js';
import { type Limits, resolveLimits } from './limits.js';
import type { FrameObserver } from './observer.js';
import { type HeadersInit, requestFields, trailerFields } from './response.js';
import { type LocalSettings, resolveSettings } from './settings.js';
import { attachSocket, socketTransport } from './socket.js';

export interface ConnectOptions {
  /** TLS options for https: (ca, cert, key, rejectUnauthorized, servername, ...); ALPN is always h2. */
  tls?: tls.ConnectionOptions;
  /** For http:, upgrade from HTTP/1.1 (RFC 7540 §3.2) instead of prior knowledge. */
  upgrade?: boolean;
  /** What we advertise in SETTINGS (see LocalSettings). */
  settings?: Partial<LocalSettings>;
  /** Abuse limits and timeouts (see Limits). */
  limits?: Partial<Limits>;
  /** The SETTINGS of our preface, exactly (default: what differs from the defaults). */
  prefaceSettings?: Array<[number, number]>;
  /** Sees every frame sent and received. */
  onFrame?: FrameObserver;
  /** Sees the octets received (decrypted, under TLS) before they are parsed. */
  onData?: (data: Uint8Array) => void;
  /** Padding per DATA and HEADERS frame (see EndpointOptions.padding). */
  padding?: number;
  /** The HPACK encoder's own table limit. */
  encoderTableSize?: number;
  /** Milliseconds for TCP (and TLS) to be established. Default 10 s; 0: none. */
  connectTimeout?: number;
  /** Milliseconds a request may go without receiving anything before it fails with TIMEOUT. Default 0: none. */
  requestTimeout?: number;
  /** Connect to this host and port instead of the URL's (the URL still gives :authority and SNI). */
  connectTo?: { host: string; port: number };
  /** Use this connected socket instead of opening one. */
  socket?: Duplex;
  /** Aborts the connection attempt. */
  signal?: AbortSignal;
  /** Number for the observer's events (default 1). */
  id?: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS assumed for the server until its SETTINGS arrive (default 100). */
  peerMaxConcurrentStreams?: number;
  /** Sees the HTTP/1.1 request and response heads of an `upgrade`, as text. */
  onHttp1?: (direction: 'send' | 'recv', head: string) => void;
}

export interface RequestOptions {
  /** The request content: text (UTF-8), octets, a Node Readable, an async iterable of chunks. */
  body?: BodyInit;
  /** Trailers after the body (RFC 9113 §8.1); a function is called when the body ends. */
  trailers?: TrailersInit;
  /** Aborts the request (RST_STREAM CANCEL); the promise or the body rejects with ABORTED. */
  signal?: AbortSignal;
  /** Milliseconds without receiving anything for this request before it fails with TIMEOUT (default: the session's). */
  timeout?: number;
  /** A priority signal on the HEADERS (RFC 7540 §5.3; deprecated by RFC 9113 §5.3.2, still parsed by servers). */
  priority?: PriorityFields;
  /** Told the request's stream id when its stream opens (before its HEADERS go out): to match frame events to it. */
  onStream?: (streamId: number) => void;
}

/** When the connection was established (performance.now() milliseconds). */
export interface SessionTimings {
  start: number;
  /** TCP connected. */
  connect: number;
  /** TLS handshake done (equal to connect for h2c). */
  secureConnect: number;
}

type Events = {
  push: [push: PushPromise];
  goaway: [lastStreamId: number, errorCode: number, debug: string];
  close: [info: ConnectionCloseInfo];
};

let makeSession: (url: URL, socket: Duplex, options: ConnectOptions, timings: SessionTimings) => ClientSession;
let connectionOfSession: (s: ClientSession) => ClientConnection;

/**
 * The engine under a session, for h2kit's own lean callers (h2proxy's HTTP/2
 * backends submit requests with an ExchangeListener); not part of the
 * package's API (src/h2/index.ts does not export it).
 */
export function sessionConnection(s: ClientSession): ClientConnection {
  return connectionOfSession(s);
}

export class ClientSession {
  readonly url: URL;
  /** The :authority of the requests. */
  readonly authority: string;
  readonly scheme: 'http' | 'https';
  /** TLS: whether the certificate verified, and why not. */
  readonly tls: { authorized: boolean; authorizationError: string | null; protocol: string | null; cipher: string | null } | null;
  readonly timings: SessionTimings;
  readonly #conn: ClientConnection;
  readonly #socket: Duplex;
  readonly #requestTimeout: number;
  #timer: ReturnType<typeof setInterval> | null = null;
  #upgradePending: boolean;
  readonly #listeners: { [K in keyof Events]?: Array<(...a: Events[K]) => void> } = {};
  #closeInfo: ConnectionCloseInfo | null = null;
  readonly #closeWaiters: Array<(i: ConnectionCloseInfo) => void> = [];

  static {
    makeSession = (url, socket, options, timings) => new ClientSession(url, socket, options, timings);
    connectionOfSession = (s) => s.#conn;
  }

  // connect() makes sessions (the class is exported for its type and instanceof).
  private constructor(url: URL, socket: Duplex, options: ConnectOptions, timings: SessionTimings) {
    this.url = url;
    this.scheme = url.protocol === 'https:' ? 'https' : 'http';
    this.authority = url.host;
    this.timings = timings;
    this.#socket = socket;
    this.#requestTimeout = options.requestTimeout ?? 0;
    this.#upgradePending = options.upgrade === true && this.scheme === 'http';
    const t = socket instanceof tls.TLSSocket ? socket : null;
    this.tls = t
      ? {
          authorized: t.authorized,
          authorizationError: t.authorizationError ? String(t.authorizationError) : null,
          protocol: t.getProtocol(),
          cipher: t.getCipher()?.name ?? null,
        }
      : null;
    const sock = socket as Duplex & Partial<net.Socket>;
    this.#conn = new ClientConnection(socketTransport(socket), {
      scheme: this.scheme,
      authority: this.authority,
      upgrade: this.#upgradePending,
      id: options.id ?? 1,
      remoteAddress: sock.remoteAddress ?? '',
      remotePort: sock.remotePort ?? 0,
      ...(options.settings ? { settings: options.settings } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.prefaceSettings ? { prefaceSettings: options.prefaceSettings } : {}),
      ...(options.onFrame ? { onFrame: options.onFrame } : {}),
      ...(options.padding !== undefined ? { padding: options.padding } : {}),
      ...(options.encoderTableSize !== undefined ? { encoderTableSize: options.encoderTableSize } : {}),
      ...(options.peerMaxConcurrentStreams !== undefined ? { peerMaxConcurrentStreams: options.peerMaxConcurrentStreams } : {}),
      ...(options.onHttp1 ? { onHttp1: options.onHttp1 } : {}),
      onPush: (p) => this.#emitPush(p),
      wantsPush: () => (this.#listeners.push?.length ?? 0) > 0,
      onGoaway: (last, code, debug) => this.#emit('goaway', last, code, debug),
      onClose: (info) => this.#closed(info),
    });
    attachSocket(socket, this.#conn, options.onData ?? null);
    if (this.#requestTimeout > 0) {
      const period = Math.max(10, Math.min(1000, this.#requestTimeout / 4));
      this.#timer = setInterval(() => this.#conn.expireRequests(this.#requestTimeout), period);
      this.#timer.unref();
    }
  }

  /** The ALPN protocol ("h2") over TLS; null for h2c. */
  get alpnProtocol(): string | null {
    return this.#socket instanceof tls.TLSSocket ? this.#socket.alpnProtocol || null : null;
  }

  /** True once the session can take no more requests (GOAWAY sent or received, or closed). */
  get closed(): boolean {
    return !this.#conn.acceptsRequests;
  }

  /** Open streams, and requests waiting for one. */
  get activeStreams(): number {
    return this.#conn.streamCount;
  }
  get pendingRequests(): number {
    return this.#conn.queued;
  }

  /** What the connection holds in memory now. */
  get stats(): ConnectionStats {
    return this.#conn.stats;
  }

  /**
   * Sends a request. `headers`: a record or a list of pairs; pseudo-headers
   * default to :method GET, :path /, and the session's :scheme and
   * :authority. Resolves with the response once its final header section has
   * arrived; rejects with an Http2Error (code RFC 9113 name or local code).
   */
  request(headers?: HeadersInit, options: RequestOptions = {}): Promise<ClientResponse> {
    let req: ReturnType<typeof requestFields>;
    let body: ReturnType<typeof classifyBody>;
    try {
      req = requestFields(headers, this.scheme, this.authority);
      body = classifyBody(options.body);
      if (options.trailers && typeof options.trailers !== 'function') trailerFields(options.trailers);
    } catch (e) {
      discardBody(0, options.body);
      return Promise.reject(e instanceof Http2Error ? e : new Http2Error('INVALID_ARGUMENT', (e as Error).message, { cause: e }));
    }
    const signal = options.signal;
    if (signal?.aborted) {
      discardBody(body.kind, options.body);
      return Promise.reject(new Http2Error('ABORTED', 'the request was aborted before it was sent'));
    }
    if (this.#upgradePending && body.kind !== 0) {
      // nghttp's way: the upgrade goes first with OPTIONS * (a request with content cannot upgrade here).
      this.#upgradePending = false;
      this.request({ ':method': 'OPTIONS', ':path': '*' }).then(
        (r) => r.cancel(),
        () => {},
      );
    }
    this.#upgradePending = false;
    return new Promise<ClientResponse>((resolve, reject) => {
      const p: PendingRequest = {
        fields: req.fields,
        method: req.method,
        path: req.path,
        body: options.body,
        kind: body.kind,
        bytes: body.bytes,
        trailers: options.trailers ?? null,
        resolve,
        reject,
        exchange: null,
        cancelled: false,
        priority: options.priority ?? null,
        onStream: options.onStream ?? null,
      };
      const timeout = options.timeout ?? 0;
      // The abort and timeout machinery only for requests that have them (the common GET allocates none of it).
      const cleanup = signal !== undefined || timeout > 0 ? this.#watch(p, resolve, reject, signal, timeout) : null;
      this.#conn.submit(p);
      if (cleanup !== null && p.exchange !== null && p.exchange.cleanup === null) p.exchange.cleanup = cleanup;
      this.#conn.scheduleFlush();
    });
  }

  /**
   * Sends a PRIORITY frame for `streamId` (RFC 9113 §6.3), which may be idle:
   * e.g. the "anchor" streams of an RFC 7540 §5.3 dependency tree. Throws a
   * RangeError for ids or weights out of range.
   */
  priority(streamId: number, priority: PriorityFields): void {
    this.#conn.priority(streamId, priority);
  }

  /** Makes `id` (odd, not below the next one) the id of the next stream opened; the ids skipped stay unused. */
  setNextStreamId(id: number): void {
    this.#conn.setNextStreamId(id);
  }

  /**
   * Arms `signal` and the inactivity `timeout` of request `p`: either one
   * withdraws it from the queue, or fails its exchange and resets the stream
   * (RST_STREAM CANCEL). Returns the cleanup (timer and listener), which runs
   * when the request settles or, once it has a response, when its stream ends.
   */
  #watch(
    p: PendingRequest,
    resolve: (r: ClientResponse) => void,
    reject: (e: Http2Error) => void,
    signal: AbortSignal | undefined,
    timeout: number,
  ): () => void {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const abort = (e: Http2Error): void => {
      if (p.exchange === null) {
        if (p.cancelled) return;
        this.#conn.withdraw(p);
        p.reject(e); // with cleanup: the timer and the signal's listener go too
        return;
      }
      const x = p.exchange;
      x.fail(e);
      this.#conn.resetStream(x, ErrorCode.CANCEL, e.message);
    };
    const onAbort = (): void => abort(new Http2Error('ABORTED', 'the request was aborted', { errorCode: ErrorCode.CANCEL }));
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    if (timeout > 0) {
      const started = Date.now();
      // A per-request inactivity timeout: re-armed by each frame for the stream.
      const check = (): void => {
        const x = p.exchange;
        const last = x ? x.lastActivity : started;
        const idle = Date.now() - last;
        if (idle >= timeout) return abort(new Http2Error('TIMEOUT', `no response for ${timeout} ms`, x ? { streamId: x.id } : {}));
        timer = setTimeout(check, timeout - idle);
        timer.unref?.();
      };
      timer = setTimeout(check, timeout);
      timer.unref?.();
    }
    const cleanup = (): void => {
      if (timer !== null) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    p.resolve = (r) => {
      resolve(r);
      if (p.exchange?.remoteEnded) cleanup();
      else if (p.exchange !== null) p.exchange.cleanup = cleanup;
    };
    p.reject = (e) => {
      cleanup();
      reject(e);
    };
    return cleanup;
  }

  /** Sends a PING; resolves with the round-trip time in milliseconds. */
  ping(): Promise<number> {
    return this.#conn.ping().catch((e: unknown) => {
      throw e instanceof Http2Error ? e : new Http2Error('CONNECTION_CLOSED', (e as Error).message);
    });
  }

  /** Closes gracefully: GOAWAY NO_ERROR, open streams finish, then the connection closes. Resolves when it has. */
  close(): Promise<ConnectionCloseInfo> {
    this.#conn.close();
    return this.closedPromise();
  }

  /** Closes at once: open requests fail with CANCEL (or `code`). */
  destroy(code: number = ErrorCode.NO_ERROR): void {
    this.#conn.destroy(errorCodeArg(code), 'closed by the client');
    this.#socket.destroy();
  }

  /** Resolves when the connection has closed, however it closed. */
  closedPromise(): Promise<ConnectionCloseInfo> {
    if (this.#closeInfo !== null) return Promise.resolve(this.#closeInfo);
    return new Promise((resolve) => this.#closeWaiters.push(resolve));
  }

  on<K extends keyof Events>(event: K, fn: (...args: Events[K]) => void): this {
    ((this.#listeners[event] ??= []) as Array<(...a: Events[K]) => void>).push(fn);
    return this;
  }

  off<K extends keyof Events>(event: K, fn: (...args: Events[K]) => void): this {
    const l = this.#listeners[event] as Array<(...a: Events[K]) => void> | undefined;
    const i = l ? l.indexOf(fn) : -1;
    if (i >= 0) l!.splice(i, 1);
    return this;
  }

  #emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const l = this.#listeners[event] as Array<(...a: Events[K]) => void> | undefined;
    if (l) for (const fn of l.slice()) fn(...args);
  }

  #emitPush(p: PushPromise): void {
    if (!this.#listeners.push?.length) return p.cancel();
    this.#emit('push', p);
  }

  #closed(info: ConnectionCloseInfo): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#closeInfo = info;
    for (const w of this.#closeWaiters.splice(0)) w(info);
    this.#emit('close', info);
  }
}

/**
 * Opens a session to `url` (https: TLS with ALPN h2; http: h2c). Resolves
 * once TCP (and TLS) is up; rejects with an Http2Error CONNECT_FAILED,
 * TLS_ALPN, TIMEOUT or ABORTED.
 */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<ClientSession> {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    throw new Http2Error('INVALID_ARGUMENT', `not a URL: ${String(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new Http2Error('INVALID_ARGUMENT', `unsupported scheme ${u.protocol.replace(/:$/, '')} (http or https)`);
  // Bad settings or limits fail here, not in the socket's 'connect' event where nothing could catch them.
  resolveSettings(options.settings);
  resolveLimits(options.limits);
  const start = performance.now();
  if (options.socket) return makeSession(u, options.socket, options, { start, connect: start, secureConnect: start });
  const host = options.connectTo?.host ?? (u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname);
  const port = options.connectTo?.port ?? (u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80);
  const secure = u.protocol === 'https:';
  const timeout = options.connectTimeout ?? 10_000;
  return new Promise<ClientSession>((resolve, reject) => {
    let tcpAt = 0;
    let settled = false;
    const where = `${host}:${port}`;
    const socket: net.Socket = secure
      ? tls.connect({
          rejectUnauthorized: true,
          ...options.tls,
          host,
          port,
          ALPNProtocols: ['h2'],
          ...(net.isIP(u.hostname.replace(/^\[|\]$/g, '')) === 0 && options.tls?.servername === undefined ? { servername: u.hostname } : {}),
        })
      : net.connect({ host, port });
    socket.setNoDelay(true);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (e: Http2Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(e);
    };
    const onAbort = (): void => fail(new Http2Error('ABORTED', `connecting to ${where} was aborted`));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) return onAbort();
    timer = setTimeout(() => fail(new Http2Error('TIMEOUT', `could not connect to ${where} within ${timeout} ms`)), timeout > 0 ? timeout : 2 ** 31 - 1);
    timer.unref?.();
    socket.once('connect', () => {
      tcpAt = performance.now();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const tlsProblem = secure && tcpAt > 0;
      fail(
        new Http2Error(
          'CONNECT_FAILED',
          `${tlsProblem ? 'TLS handshake with' : 'cannot connect to'} ${where}: ${e.code ? `${e.code} ` : ''}${e.message.replace(/^[A-Z_]+: /, '')}`,
          { cause: e },
        ),
      );
    });
    const ready = (): void => {
      if (settled) return;
      if (secure) {
        const t = socket as tls.TLSSocket;
        if (t.alpnProtocol !== 'h2')
          return fail(
            new Http2Error('TLS_ALPN', `${where} did not select h2 with ALPN (it selected ${t.alpnProtocol ? JSON.stringify(t.alpnProtocol) : 'nothing'})`),
          );
      }
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      const now = performance.now();
      resolve(makeSession(u, socket, options, { start, connect: tcpAt || now, secureConnect: now }));
    };
    socket.once(secure ? 'secureConnect' : 'connect', ready);
  });
}
