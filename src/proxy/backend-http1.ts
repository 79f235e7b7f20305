/**
 * HTTP/1.1 backends through undici: one undici Client per connection,
 * kept alive (closed after --backend-keep-alive-timeout idle, at most
 * MAX_IDLE kept) and reused most-recently-freed first, one request at a
 * time on each (no pipelining, as nghttpx); the response read with
 * backpressure (a paused sink pauses the socket), headers kept as raw octets
 * and in order (Set-Cookie fields stay apart). The free list is ours rather
 * than undici's Pool, whose dispatch looks through every connection for a
 * free one: with a hundred connections busy that costs more than the request
 * itself. How many requests run at once is the frontends' business
 * (BackendQueue); a connection whose request failed or was cancelled is
 * closed, never reused, and one still being set up is given up at once.
 *
 * undici rather than node:http's Agent: with the same backend and load,
 * its dispatcher handled more requests per second in bench/h2proxy.mjs's
 * client comparison (see BENCHMARKS.md), and its handler interface hands
 * over raw header octets without building an IncomingMessage per response.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { buildConnector, Client, type Dispatcher, util } from 'undici';
import { type BackendCall, type BackendFailure, type BackendPool, type BackendRequest, isConnectError, type ResponseSink } from './backend.js';
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

/** Raw name/value octets as fields: lowercase names (known ones without a new string, by undici's table), latin1 values. */
function rawFields(raw: Buffer[] | string[]): Fields {
  const out: Fields = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const v = raw[i + 1]!;
    out.push([util.headerNameToString(raw[i]!), typeof v === 'string' ? v : v.toString('latin1')]);
  }
  return out;
}

function failureOf(err: Error & { code?: string }, connected: boolean): BackendFailure {
  const code = err.code;
  if (!connected && isConnectError(code))
    return { kind: 'connect', message: `${code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect timeout' : code}: ${err.message}` };
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
    private readonly pool: Http1Pool,
    private readonly client: Client | null,
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
    this.pool.release(this.client, true);
    this.sink.end(trailers !== null && trailers.length > 0 ? rawFields(trailers) : null);
  }

  onError(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.pool.release(this.client, false);
    this.sink.error(this.cancelled ? { kind: 'cancelled', message: 'cancelled' } : failureOf(err, this.connected));
  }

  resume(): void {
    this.resumeFn?.();
  }

  cancel(): void {
    if (this.done || this.cancelled) return;
    this.cancelled = true;
    // Sent (or being sent): aborting closes the connection. Not yet: the connection is still
    // being made for this request alone, so it is given up rather than finished and then closed.
    if (this.abortFn !== null) this.abortFn(new CancelledError());
    else this.pool.release(this.client, false);
  }
}

class CancelledError extends Error {
  readonly code = 'UND_ERR_ABORTED';
  constructor() {
    super('the client went away');
  }
}

/** Idle connections kept per backend address; more are closed as they become idle. */
export const MAX_IDLE = 128;

export class Http1Pool implements BackendPool {
  readonly version = '1.1';
  private readonly origin: string;
  private readonly options: Client.Options;
  private readonly connector: buildConnector.connector;
  /** Connections with nothing in flight, the most recently freed last. */
  private readonly idle: Client[] = [];
  /** Every connection, with its socket once one is being made. */
  private readonly clients = new Map<Client, Socket | null>();
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
    };
    this.connector = buildConnector({
      timeout: o.connectTimeout,
      ...(o.tls
        ? {
            rejectUnauthorized: o.rejectUnauthorized,
            ...(o.ca ? { ca: o.ca } : {}),
            ...(o.servername ? { servername: o.servername } : {}),
            ALPNProtocols: ['http/1.1'],
          }
        : {}),
    });
  }

  /** Connections open or being opened (busy or idle). */
  get connections(): number {
    return this.clients.size;
  }

  /** A connection with nothing in flight, or a new one. */
  private take(): Client {
    const c = this.idle.pop();
    if (c !== undefined) return c;
    // undici's connector, watched: the socket it makes (undici's connector returns it) can be
    // destroyed while it is still connecting, which undici's Client itself cannot do.
    const n: Client = new Client(this.origin, {
      ...this.options,
      connect: (opts, cb) => {
        const socket = (this.connector as (o: buildConnector.Options, c: buildConnector.Callback) => Socket | undefined)(opts, cb);
        if (socket !== undefined && this.clients.has(n)) this.clients.set(n, socket);
      },
    });
    // An error with no request to report to (e.g. while idle) must not crash the process.
    n.on('connectionError', () => {});
    // Closed while idle (keep-alive timeout, or the backend closed it): forget it.
    n.on('disconnect', () => {
      const i = this.idle.indexOf(n);
      if (i >= 0) {
        this.idle.splice(i, 1);
        this.drop(n);
      }
    });
    this.clients.set(n, null);
    return n;
  }

  private drop(c: Client): void {
    const socket = this.clients.get(c);
    this.clients.delete(c);
    // With an error, so that undici's connect callback runs (and finds the Client destroyed).
    if (socket?.connecting) socket.destroy(new CancelledError());
    if (!c.destroyed) void c.destroy().catch(() => {});
  }

  /** A request on `c` is over: a complete exchange leaves it reusable; anything else closes it. */
  release(c: Client | null, reusable: boolean): void {
    if (c === null || !this.clients.has(c)) return;
    if (reusable && !this.closed && !c.closed && !c.destroyed && this.idle.length < MAX_IDLE) this.idle.push(c);
    else this.drop(c);
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
    const client = this.closed ? null : this.take();
    const call = new Call(sink, this, client);
    if (client === null) {
      call.onError(Object.assign(new Error('the backend pool is closed'), { code: 'UND_ERR_DESTROYED' }));
      return call;
    }
    try {
      client.dispatch(opts, call);
    } catch (e) {
      call.onError(e as Error);
    }
    return call;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.idle.splice(0)) this.drop(c);
    await Promise.all([...this.clients.keys()].map((c) => c.close().catch(() => {})));
  }

  destroy(): void {
    this.closed = true;
    this.idle.length = 0;
    for (const c of [...this.clients.keys()]) this.drop(c);
  }
}
