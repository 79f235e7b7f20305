/**
 * HTTP/1.1 backends through undici: one undici Client per connection,
 * kept alive (closed after --backend-keep-alive-timeout idle) and reused
 * most-recently-freed first, one request at a time on each (no pipelining,
 * as nghttpx); the response read with backpressure (a paused sink pauses
 * the socket), headers kept as raw octets and in order (Set-Cookie fields
 * stay apart). The free list is ours rather than undici's Pool, whose
 * dispatch looks through every connection for a free one: with a hundred
 * connections busy that costs more than the request itself.
 *
 * undici rather than node:http's Agent: with the same backend and load,
 * its dispatcher handled more requests per second in bench/h2proxy.mjs's
 * client comparison (see BENCHMARKS.md), and its handler interface hands
 * over raw header octets without building an IncomingMessage per response.
 */
import type { Readable } from 'node:stream';
import { Client, type Dispatcher } from 'undici';
import { isConnectError, type BackendCall, type BackendFailure, type BackendPool, type BackendRequest, type ResponseSink } from './backend.js';
import type { Fields } from './headers.js';

export interface Http1PoolOptions {
  host: string;
  port: number;
  tls: boolean;
  servername: string | null;
  connectTimeout: number;
  readTimeout: number;
  keepAliveTimeout: number;
  rejectUnauthorized: boolean;
  ca: string | Buffer | null;
}

function rawFields(raw: Buffer[] | string[] | null | undefined): Fields {
  const out: Fields = [];
  if (!raw) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i]!;
    const v = raw[i + 1]!;
    out.push([(typeof n === 'string' ? n : n.toString('latin1')).toLowerCase(), typeof v === 'string' ? v : v.toString('latin1')]);
  }
  return out;
}

function failureOf(err: Error & { code?: string }, connected: boolean): BackendFailure {
  const code = err.code;
  if (!connected && isConnectError(code)) return { kind: 'connect', message: `${code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect timeout' : code}: ${err.message}` };
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return { kind: 'timeout', message: err.message };
  if (code === 'UND_ERR_ABORTED') return { kind: 'cancelled', message: err.message };
  return { kind: 'reset', message: `${code ? `${code}: ` : ''}${err.message}` };
}

/** One exchange: undici's (legacy, still native in undici 7) handler interface. */
class Call implements Dispatcher.DispatchHandler, BackendCall {
  private abortFn: ((err?: Error) => void) | null = null;
  private resumeFn: (() => void) | null = null;
  private connected = false;
  private cancelled = false;
  private done = false;

  constructor(
    private readonly sink: ResponseSink,
    private readonly release: () => void,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    this.connected = true;
    if (this.cancelled) abort(new CancelledError());
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: the final response follows
    this.resumeFn = resume;
    this.sink.head(statusCode, rawFields(rawHeaders));
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.sink.data(chunk);
  }

  onComplete(trailers: string[] | null): void {
    this.done = true;
    this.release();
    const t = rawFields(trailers);
    this.sink.end(t.length > 0 ? t : null);
  }

  onError(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.release();
    this.sink.error(this.cancelled ? { kind: 'cancelled', message: 'cancelled' } : failureOf(err, this.connected));
  }

  resume(): void {
    this.resumeFn?.();
  }

  cancel(): void {
    if (this.done || this.cancelled) return;
    this.cancelled = true;
    this.abortFn?.(new CancelledError());
  }
}

class CancelledError extends Error {
  readonly code = 'UND_ERR_ABORTED';
  constructor() {
    super('the client went away');
  }
}

export class Http1Pool implements BackendPool {
  readonly version = '1.1';
  private readonly origin: string;
  private readonly options: Client.Options;
  /** Connections with nothing in flight, the most recently freed last. */
  private readonly idle: Client[] = [];
  private readonly clients = new Set<Client>();
  private closed = false;

  constructor(o: Http1PoolOptions) {
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    this.origin = `${o.tls ? 'https' : 'http'}://${host}:${o.port}`;
    this.options = {
      pipelining: 1,
      keepAliveTimeout: o.keepAliveTimeout,
      keepAliveMaxTimeout: o.keepAliveTimeout,
      headersTimeout: o.readTimeout,
      bodyTimeout: o.readTimeout,
      connect: {
        timeout: o.connectTimeout,
        ...(o.tls
          ? {
              rejectUnauthorized: o.rejectUnauthorized,
              ...(o.ca ? { ca: o.ca } : {}),
              ...(o.servername ? { servername: o.servername } : {}),
              ALPNProtocols: ['http/1.1'],
            }
          : {}),
      },
    };
  }

  /** A connection with nothing in flight, or a new one (how many run at once is BackendQueue's business). */
  private take(): Client {
    const c = this.idle.pop();
    if (c !== undefined) return c;
    const n = new Client(this.origin, this.options);
    // An error with no request to report to (e.g. while idle) must not crash the process.
    n.on('connectionError', () => {});
    this.clients.add(n);
    return n;
  }

  private give(c: Client): void {
    if (this.closed || c.closed || c.destroyed) {
      this.clients.delete(c);
      if (!c.closed && !c.destroyed) void c.close().catch(() => {});
    } else this.idle.push(c);
  }

  dispatch(req: BackendRequest, sink: ResponseSink): BackendCall {
    const headers: string[] = [];
    for (const [n, v] of req.fields) headers.push(n, v);
    const opts: Dispatcher.DispatchOptions = {
      path: req.path,
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body: req.body as unknown as Readable | null,
      // The client decides about retries; undici must not replay a request on its own.
      idempotent: false,
    };
    let client: Client | null = null;
    const call = new Call(sink, () => {
      const c = client;
      client = null;
      if (c !== null) this.give(c);
    });
    const go = (): void => {
      if (this.closed) return call.onError(Object.assign(new Error('the backend pool is closed'), { code: 'UND_ERR_DESTROYED' }));
      client = this.take();
      try {
        client.dispatch(opts, call);
      } catch (e) {
        call.onError(e as Error);
      }
    };
    go();
    return call;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.clients].map((c) => c.close().catch(() => {})));
  }

  destroy(): void {
    this.closed = true;
    for (const c of this.clients) void c.destroy().catch(() => {});
  }
}
