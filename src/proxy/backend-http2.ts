/**
 * HTTP/2 backends through h2kit's client engine: one connection per backend
 * address (h2c with prior knowledge, or TLS with ALPN h2), opened on first
 * use and again after it closed or received GOAWAY; requests beyond the
 * backend's SETTINGS_MAX_CONCURRENT_STREAMS wait in the engine's queue.
 * Requests go straight to the engine with an ExchangeListener (no promise,
 * AbortController or async iteration per request): the response's fields
 * come as the octets received, its content chunk by chunk, and a sink that
 * asks for a pause keeps the octets off the stream window until it resumes.
 * Request bodies stream with the windows as backpressure; trailers pass both
 * ways. --backend-read-timeout is the session's request timeout (one timer
 * per connection).
 */
import { classifyBody } from '../h2/body.js';
import { type ClientSession, connect, sessionConnection } from '../h2/client.js';
import type { ClientConnection, PendingRequest } from '../h2/client-connection.js';
import type { ClientExchange, ExchangeListener } from '../h2/client-stream.js';
import { Http2Error } from '../h2/errors.js';
import type { HeaderInput } from '../hpack/index.js';
import type { BackendCall, BackendFailure, BackendPool, BackendRequest, ResponseSink } from './backend.js';
import { asOctets, type Fields } from './headers.js';

export interface Http2PoolOptions {
  host: string;
  port: number;
  tls: boolean;
  servername: string | null;
  connectTimeout: number;
  readTimeout: number;
  maxConcurrentStreams: number;
  rejectUnauthorized: boolean;
  /** Trusted CA certificates (PEM, --cacert), or null for the system's. */
  ca: Buffer | null;
}

function failureOf(e: Http2Error, headSeen: boolean): BackendFailure {
  if (e.code === 'TIMEOUT') return { kind: 'timeout', message: e.message };
  if (e.code === 'ABORTED') return { kind: 'cancelled', message: e.message };
  if (!headSeen && (e.code === 'CONNECT_FAILED' || e.code === 'TLS_ALPN')) return { kind: 'connect', message: e.message };
  return { kind: 'reset', message: `${e.code}: ${e.message}` };
}

/** One request: the engine's PendingRequest and ExchangeListener, and the proxy's BackendCall. */
class Call implements BackendCall, PendingRequest, ExchangeListener {
  fields: HeaderInput[];
  method: string;
  path: string;
  body: PendingRequest['body'];
  kind: number;
  bytes: Uint8Array | null;
  trailers: PendingRequest['trailers'];
  exchange: ClientExchange | null = null;
  cancelled = false;
  listener: ExchangeListener = this;
  private conn: ClientConnection | null = null;
  /** Reported to the sink (end or error), or cancelled: nothing more reaches it. */
  private done = false;
  private headSeen = false;

  constructor(
    req: BackendRequest,
    private readonly sink: ResponseSink,
  ) {
    this.method = req.method;
    this.path = req.path;
    const fields: Fields = [
      [':method', req.method],
      [':scheme', req.scheme],
      [':authority', req.authority],
      [':path', req.path],
    ];
    for (const f of req.fields) fields.push(f);
    // Values are octet strings: those with octets over 0x7f go as those octets, not as UTF-8 text.
    this.fields = asOctets(fields) as HeaderInput[];
    const body = req.body ?? undefined;
    const c = classifyBody(body);
    this.body = body;
    this.kind = c.kind;
    this.bytes = c.bytes;
    this.trailers = req.body !== null ? () => asOctets(req.front.trailers() ?? []) : null;
  }

  /** Goes to the engine of `conn` (queued there beyond the backend's concurrency). */
  start(conn: ClientConnection): void {
    if (this.done) return;
    this.conn = conn;
    conn.submit(this);
    conn.scheduleFlush();
  }

  // ---- PendingRequest: resolve() is never called with a listener; reject() before a stream
  // was opened (connection gone, stream ids exhausted).
  resolve(): void {}
  reject(e: Http2Error): void {
    this.onError(e);
  }

  // ---- ExchangeListener ----------------------------------------------------------------
  onHead(status: number): void {
    if (this.done) return;
    this.headSeen = true;
    const x = this.exchange!;
    // The octets received (latin1 strings), as the proxy's rules and frontends take fields.
    this.sink.head(status, (x.rawHeaders ?? x.head!.headers) as Fields, x.rawHeaders !== null);
  }

  onData(): void {}

  onChunk(chunk: Uint8Array): boolean {
    if (this.done) return true;
    return this.sink.data(chunk);
  }

  onComplete(): void {
    if (this.done) return;
    this.done = true;
    const x = this.exchange!;
    const t = x.rawTrailers ?? x.trailerFields;
    this.sink.end(t !== null && t.length > 0 ? t : null);
  }

  onError(e: Http2Error): void {
    if (this.done) return;
    this.done = true;
    this.sink.error(failureOf(e, this.headSeen));
  }

  // ---- BackendCall ---------------------------------------------------------------------
  resume(): void {
    this.exchange?.release();
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    const conn = this.conn;
    if (conn === null) return; // still waiting for the connection: start() will not submit it
    if (this.exchange === null) conn.withdraw(this);
    else conn.cancel(this.exchange, 'the client went away');
  }
}

export class Http2Pool implements BackendPool {
  readonly version = '2';
  private current: ClientSession | null = null;
  private connecting: Promise<ClientSession> | null = null;
  private readonly sessions = new Set<ClientSession>();
  private closed = false;
  private readonly ca: Buffer | null;

  constructor(readonly options: Http2PoolOptions) {
    this.ca = options.ca;
  }

  /** The open connection, or a new one. */
  session(): Promise<ClientSession> {
    if (this.current && !this.current.closed) return Promise.resolve(this.current);
    if (this.closed) return Promise.reject(new Http2Error('CONNECTION_CLOSED', 'the backend pool is closed'));
    if (this.connecting) return this.connecting;
    const o = this.options;
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    const url = `${o.tls ? 'https' : 'http'}://${host}:${o.port}`;
    this.connecting = connect(url, {
      connectTimeout: o.connectTimeout,
      requestTimeout: o.readTimeout,
      settings: { maxConcurrentStreams: o.maxConcurrentStreams, enablePush: false },
      ...(o.tls
        ? {
            tls: {
              rejectUnauthorized: o.rejectUnauthorized,
              ...(this.ca ? { ca: this.ca } : {}),
              ...(o.servername ? { servername: o.servername } : {}),
            },
          }
        : {}),
    }).then(
      (s) => {
        this.connecting = null;
        this.current = s;
        this.sessions.add(s);
        s.on('close', () => {
          this.sessions.delete(s);
          if (this.current === s) this.current = null;
        });
        if (this.closed) void s.close();
        return s;
      },
      (e: unknown) => {
        this.connecting = null;
        throw e;
      },
    );
    return this.connecting;
  }

  dispatch(req: BackendRequest, sink: ResponseSink): BackendCall {
    const call = new Call(req, sink);
    const s = this.current;
    if (s !== null && !s.closed) call.start(sessionConnection(s));
    else
      this.session().then(
        (s) => call.start(sessionConnection(s)),
        (e: unknown) => call.onError(e instanceof Http2Error ? e : new Http2Error('CONNECT_FAILED', (e as Error)?.message ?? String(e))),
      );
    return call;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.sessions].map((s) => s.close().catch(() => {})));
  }

  destroy(): void {
    this.closed = true;
    for (const s of this.sessions) s.destroy();
  }
}
