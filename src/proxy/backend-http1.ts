/**
 * HTTP/1.1 backends through undici's Pool: keep-alive connections (closed
 * after --backend-keep-alive-timeout idle), no pipelining, the response
 * read with backpressure (a paused sink pauses the socket), headers kept as
 * raw octets and in order (Set-Cookie fields stay apart).
 *
 * undici rather than node:http's Agent: with the same backend and load,
 * its dispatcher handled more requests per second in bench/h2proxy.mjs's
 * client comparison (see BENCHMARKS.md), and its handler interface hands
 * over raw header octets without building an IncomingMessage per response.
 */
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { isConnectError, type BackendCall, type BackendFailure, type BackendPool, type BackendRequest, type ResponseSink } from './backend.js';
import type { Fields } from './headers.js';

export interface Http1PoolOptions {
  host: string;
  port: number;
  tls: boolean;
  servername: string | null;
  /** Most connections; 0: no limit. */
  connections: number;
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

  constructor(private readonly sink: ResponseSink) {}

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
    const t = rawFields(trailers);
    this.sink.end(t.length > 0 ? t : null);
  }

  onError(err: Error): void {
    if (this.done) return;
    this.done = true;
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
  private readonly pool: Pool;
  private readonly origin: string;

  constructor(o: Http1PoolOptions) {
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    this.origin = `${o.tls ? 'https' : 'http'}://${host}:${o.port}`;
    this.pool = new Pool(this.origin, {
      connections: o.connections > 0 ? o.connections : null,
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
    });
    // A pool error with no request to report to (e.g. while idle) must not crash the process.
    this.pool.on('connectionError', () => {});
  }

  dispatch(req: BackendRequest, sink: ResponseSink): BackendCall {
    const call = new Call(sink);
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
    try {
      this.pool.dispatch(opts, call);
    } catch (e) {
      queueMicrotask(() => call.onError(e as Error));
    }
    return call;
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => {});
  }

  destroy(): void {
    void this.pool.destroy().catch(() => {});
  }
}
