/**
 * HTTP/2 backends through h2kit's client engine: one connection per backend
 * address (h2c with prior knowledge, or TLS with ALPN h2), opened on first
 * use and again after it closed or received GOAWAY; requests beyond the
 * backend's SETTINGS_MAX_CONCURRENT_STREAMS wait in the engine's queue.
 * Request and response bodies stream with the windows as backpressure;
 * trailers pass both ways.
 */
import { Http2Error } from '../h2/errors.js';
import { type ClientResponse, type ClientSession, connect } from '../h2/index.js';
import type { BackendCall, BackendFailure, BackendPool, BackendRequest, ResponseSink } from './backend.js';
import type { Fields } from './headers.js';

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

function failureOf(e: unknown, headSeen: boolean): BackendFailure {
  if (!(e instanceof Http2Error)) return { kind: 'reset', message: (e as Error)?.message ?? String(e) };
  if (e.code === 'TIMEOUT') return { kind: 'timeout', message: e.message };
  if (e.code === 'ABORTED') return { kind: 'cancelled', message: e.message };
  if (!headSeen && (e.code === 'CONNECT_FAILED' || e.code === 'TLS_ALPN')) return { kind: 'connect', message: e.message };
  return { kind: 'reset', message: `${e.code}: ${e.message}` };
}

class Call implements BackendCall {
  private readonly abort = new AbortController();
  private response: ClientResponse | null = null;
  private waiting: (() => void) | null = null;
  private cancelled = false;

  constructor(
    private readonly pool: Http2Pool,
    private readonly req: BackendRequest,
    private readonly sink: ResponseSink,
  ) {}

  async run(): Promise<void> {
    let session: ClientSession;
    try {
      session = await this.pool.session();
    } catch (e) {
      if (!this.cancelled) this.sink.error(failureOf(e, false));
      return;
    }
    if (this.cancelled) return;
    const r = this.req;
    const fields: Fields = [
      [':method', r.method],
      [':scheme', r.scheme],
      [':authority', r.authority],
      [':path', r.path],
    ];
    for (const f of r.fields) fields.push(f);
    let headSeen = false;
    try {
      const res = await session.request(fields, {
        ...(r.body ? { body: r.body, trailers: () => r.front.trailers() ?? [] } : {}),
        signal: this.abort.signal,
        timeout: this.pool.options.readTimeout,
      });
      this.response = res;
      headSeen = true;
      if (this.cancelled) return res.cancel();
      this.sink.head(res.status, res.headers);
      const it = res.body[Symbol.asyncIterator]();
      for (;;) {
        const n = await it.next();
        if (n.done) break;
        if (!this.sink.data(n.value)) await new Promise<void>((resolve) => (this.waiting = resolve));
        if (this.cancelled) return;
      }
      const t = await res.trailers;
      this.sink.end(t.length > 0 ? t : null);
    } catch (e) {
      if (this.cancelled) return;
      this.sink.error(failureOf(e, headSeen));
    }
  }

  resume(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.abort.abort();
    this.response?.cancel();
    this.resume();
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
    const call = new Call(this, req, sink);
    void call.run();
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
