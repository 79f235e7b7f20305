/**
 * The proxy's core, whatever protocol the client spoke: route the request
 * (Router), rewrite its fields (HeaderRules), hand it to a backend pool of
 * the chosen backend, and carry the response back with backpressure both
 * ways. A backend that cannot be connected to is left out and the request
 * tried on the next one of its group while nothing of it was sent; other
 * failures become 502 (504 for timeouts) with a short page saying why and an
 * error log line, or a reset once the response has started. A client that
 * goes away cancels its backend request.
 */
import { readFileSync } from 'node:fs';
import { reasonPhrase } from '../h2/reason-phrases.js';
import { type AccessRecord, compileAccessLog } from './access-log.js';
import type { BackendCall, BackendFailure, BackendPool, BackendRequest, ResponseSink } from './backend.js';
import { Http1Pool } from './backend-http1.js';
import { Http2Pool } from './backend-http2.js';
import type { BackendQueue, QueueEntry } from './backend-queue.js';
import type { ProxyConfig } from './config.js';
import { type Fields, HeaderRules, type Inbound } from './headers.js';
import type { ErrorLog, LogFile } from './logs.js';
import { type Backend, type Group, Router } from './router.js';

/** TLS facts of a frontend connection, for the access log. */
export interface TlsInfo {
  cipher: string | null;
  protocol: string | null;
  sni: string | null;
  reused: boolean;
}

/** One request as a frontend (HTTP/2 stream or HTTP/1.1 exchange) presents it to the core. */
export interface FrontExchange {
  readonly inbound: Inbound;
  /** "h2", "h2c" or "http/1.1". */
  readonly alpn: string;
  /** "HTTP/2", "HTTP/1.1"... */
  readonly protocolVersion: string;
  readonly remotePort: number;
  readonly tlsInfo: TlsInfo | null;
  /** The request has content to forward. */
  readonly hasBody: boolean;
  /** The request content, read with backpressure. */
  body(): AsyncIterable<Uint8Array>;
  /** Request trailers, once the body has ended. */
  trailers(): Fields | null;
  /**
   * Starts the response; `body` false: no content follows (HEAD, 204, 304);
   * `nonAscii`: some value has octets over 0x7f (see ResponseSink.head).
   */
  respond(status: number, fields: Fields, body: boolean, nonAscii: boolean): void;
  /** A chunk of the response; false: stop until owner.clientDrained() is called. */
  write(chunk: Uint8Array): boolean;
  /** Ends the response (trailers where the frontend can carry them). */
  end(trailers: Fields | null): void;
  /** Breaks off a response that has started (RST_STREAM, or closing the HTTP/1.1 connection). */
  abort(): void;
  /** True once respond() was called. */
  readonly responded: boolean;
  /** Set by the core: told when the client can take more, and when it went away before the response was complete. */
  owner: ExchangeOwner | null;
  /** Response body octets handed to the client. */
  readonly bytesSent: number;
  /** The frontend connection's share of HTTP/1.1 backend connections, or null: no limit (one request at a time anyway). */
  readonly queue: BackendQueue | null;
  /** True once the client's stream or connection is gone (clientGone() may still be on its way). */
  readonly gone: boolean;
}

/** What a FrontExchange tells the core (methods rather than callbacks: no closures per request). */
export interface ExchangeOwner {
  /** The client can take more of the response. */
  clientDrained(): void;
  /** The client went away before the response was complete. */
  clientGone(): void;
}

/** A short HTML page saying what went wrong (nghttpx's shape, with the reason). */
export function errorPage(status: number, why: string, serverName: string): string {
  const title = `${status} ${reasonPhrase(status) ?? ''}`.trim();
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<!DOCTYPE html><html lang="en"><title>${title}</title><body><h1>${title}</h1><p>${esc(why)}</p><footer>${esc(serverName)}</footer></body></html>\n`;
}

/** One configuration in force: routes, rules, pools. A reload makes a new one; the old one drains. */
export class Generation {
  readonly router: Router;
  readonly rules: HeaderRules;
  readonly access: ((r: AccessRecord) => string) | null;
  private readonly pools = new Map<string, BackendPool>();
  private readonly ca: Buffer | null;
  inFlight = 0;

  constructor(
    readonly config: ProxyConfig,
    readonly accessLog: LogFile | null,
  ) {
    this.router = new Router(config.backends, config.backendMaxBackoff);
    this.rules = new HeaderRules(config);
    this.access = accessLog ? compileAccessLog(config.accesslogFormat) : null;
    this.ca = config.cacert ? readFileSync(config.cacert) : null;
  }

  pool(b: Backend): BackendPool {
    let p = this.pools.get(b.key);
    if (p) return p;
    const a = b.address;
    const c = this.config;
    const servername = a.sni ?? (/^[\d.]+$|:/.test(a.host) ? null : a.host);
    const readTimeout = a.readTimeout ?? c.backendReadTimeout;
    if (a.proto === 'h2') {
      p = new Http2Pool({
        host: a.host,
        port: a.port,
        tls: a.tls,
        servername,
        connectTimeout: c.backendConnectTimeout,
        readTimeout,
        maxConcurrentStreams: c.backendHttp2MaxConcurrentStreams,
        rejectUnauthorized: !c.insecure,
        ca: this.ca,
      });
    } else {
      p = new Http1Pool({
        host: a.host,
        port: a.port,
        tls: a.tls,
        servername,
        connectTimeout: c.backendConnectTimeout,
        readTimeout,
        keepAliveTimeout: c.backendKeepAliveTimeout,
        rejectUnauthorized: !c.insecure,
        ca: this.ca,
        // The raw section holds ": " and CRLF besides names and values: room for them on every line.
        maxHead: c.responseHeaderFieldBuffer + 4 * c.maxResponseHeaderFields,
      });
    }
    this.pools.set(b.key, p);
    return p;
  }

  /** Closes the pools once their requests are done. */
  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }

  destroy(): void {
    for (const p of this.pools.values()) p.destroy();
  }
}

/** The request's content as the backend pulls it; remembers whether pulling began (then no retry). */
class BodyOnce implements AsyncIterable<Uint8Array> {
  started = false;
  constructor(private readonly fx: FrontExchange) {}
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.started = true;
    return this.fx.body()[Symbol.asyncIterator]();
  }
}

const NO_SLOT = 0;
const WAITING = 1;
const HOLDING = 2;

/** One request through the proxy. */
class Exchange implements ResponseSink, QueueEntry, ExchangeOwner {
  private backend: Backend | null = null;
  private call: BackendCall | null = null;
  private attempts = 0;
  /** The backends the request's route names (the router is fixed per generation: a retry picks from them again). */
  private group: Group | null = null;
  private status = 0;
  private finished = false;
  /** For the access log's $request_time (taken only when there is an access log). */
  private readonly start: number;
  private readonly body: BodyOnce | null;
  private pool: BackendPool | null = null;
  /** Where the request stands in its frontend connection's BackendQueue (HTTP/1.1 backends). */
  private slot = NO_SLOT;
  backendKey = '';

  constructor(
    private readonly core: ProxyCore,
    private readonly gen: Generation,
    private readonly fx: FrontExchange,
  ) {
    this.body = fx.hasBody ? new BodyOnce(fx) : null;
    this.start = gen.access !== null ? performance.now() : 0;
    gen.inFlight++;
    fx.owner = this;
  }

  // ---- ExchangeOwner -------------------------------------------------------------------

  clientGone(): void {
    if (this.finished) return;
    this.call?.cancel();
    this.finish();
  }

  clientDrained(): void {
    this.call?.resume();
  }

  run(): void {
    const fx = this.fx;
    const c = this.gen.config;
    if (fx.inbound.headers.length > c.maxRequestHeaderFields) {
      return this.answer(
        431,
        `The request has ${fx.inbound.headers.length} header fields; at most ${c.maxRequestHeaderFields} are taken.`,
        'too many request header fields',
      );
    }
    const path = fx.inbound.method === 'CONNECT' ? '/' : fx.inbound.path;
    const group = this.gen.router.match(fx.inbound.authority, path);
    if (group === null) return this.answer(404, 'No backend serves this host and path.', `no backend pattern matches ${fx.inbound.authority}${path}`);
    this.group = group;
    this.attempt(group.pick(Date.now()));
  }

  private attempt(b: Backend | null): void {
    this.attempts++;
    if (b === null) return this.answer(502, 'No backend is available: every one of them refused connections recently.', 'no backend available for the request');
    this.backend = b;
    const pool = this.gen.pool(b);
    this.pool = pool;
    const q = pool.version === '1.1' ? this.fx.queue : null;
    if (q !== null) {
      this.backendKey = b.key;
      if (!q.enter(this)) {
        this.slot = WAITING;
        return;
      }
      this.slot = HOLDING;
    }
    this.dispatch();
  }

  /** QueueEntry: a backend connection slot is ours now. */
  admitted(): void {
    this.slot = HOLDING;
    // Its stream closed meanwhile (the connection went away with all its streams): no backend work.
    if (this.fx.gone) return this.finish();
    this.dispatch();
  }

  private releaseSlot(): void {
    const q = this.fx.queue;
    if (q === null || this.slot === NO_SLOT) return;
    if (this.slot === WAITING) q.drop(this);
    else q.leave(this.backendKey);
    this.slot = NO_SLOT;
  }

  private dispatch(): void {
    const pool = this.pool!;
    const fx = this.fx;
    const fields = this.gen.rules.request(fx.inbound, pool.version === '1.1');
    const req: BackendRequest = {
      method: fx.inbound.method,
      scheme: fx.inbound.scheme || (fx.inbound.tls ? 'https' : 'http'),
      authority: fx.inbound.authority,
      path: fx.inbound.path,
      fields,
      body: this.body,
      front: fx,
    };
    this.call = pool.dispatch(req, this);
  }

  // ---- ResponseSink ------------------------------------------------------------------

  head(status: number, fields: Fields, nonAscii: boolean): void {
    if (this.finished) return;
    this.gen.router.succeeded(this.backend!);
    const c = this.gen.config;
    let size = 0;
    for (let i = 0; i < fields.length; i++) size += fields[i]![0].length + fields[i]![1].length;
    if (fields.length > c.maxResponseHeaderFields || size > c.responseHeaderFieldBuffer) {
      this.call?.cancel();
      return this.answer(
        502,
        'The backend sent a response header section larger than this proxy takes.',
        `backend ${this.backend!.label} sent ${fields.length} response header fields of ${size} octets; at most ${c.maxResponseHeaderFields} fields and ${c.responseHeaderFieldBuffer} octets are taken`,
      );
    }
    this.status = status;
    const method = this.fx.inbound.method;
    const body = method !== 'HEAD' && status !== 204 && status !== 304;
    let out: Fields;
    try {
      out = this.gen.rules.response(fields, this.pool!.version);
      this.fx.respond(status, out, body, nonAscii || this.gen.rules.addsNonAscii);
    } catch (e) {
      this.call?.cancel();
      if (!this.fx.responded)
        return this.answer(
          502,
          'The backend sent a response that cannot be forwarded.',
          `backend ${this.backend!.label} sent an unusable response: ${(e as Error).message}`,
        );
      return this.fail(`backend ${this.backend!.label}: ${(e as Error).message}`);
    }
  }

  data(chunk: Uint8Array): boolean {
    if (this.finished) return true;
    return this.fx.write(chunk);
  }

  end(trailers: Fields | null): void {
    if (this.finished) return;
    try {
      this.fx.end(trailers === null ? null : this.gen.rules.trailers(trailers));
    } catch (e) {
      return this.fail(`trailers from backend ${this.backend!.label}: ${(e as Error).message}`);
    }
    this.finish();
  }

  error(f: BackendFailure): void {
    if (this.finished || f.kind === 'cancelled') return;
    const b = this.backend!;
    const log = this.core.errorLog;
    if (f.kind === 'connect') {
      const backoff = this.gen.router.failed(b);
      log.warn(`Backend connect failed; addr=${b.label}: ${f.message}; left out for ${(backoff / 1000).toFixed(1)} s`);
      if (!this.fx.responded && (this.body === null || !this.body.started) && this.attempts < this.group!.backends.length) {
        this.releaseSlot();
        return this.attempt(this.group!.pick(Date.now()));
      }
      const page = /\bECONNREFUSED\b/.test(f.message) ? 'The backend refused the connection.' : 'No connection to the backend could be made.';
      return this.answer(502, page, `request to ${b.label} failed: cannot connect`);
    }
    if (!this.fx.responded) {
      if (f.kind === 'timeout') return this.answer(504, 'The backend did not answer in time.', `backend ${b.label} timed out: ${f.message}`);
      return this.answer(502, 'The backend closed the connection or sent an invalid response.', `backend ${b.label} failed: ${f.message}`);
    }
    this.fail(`backend ${b.label} failed during the response: ${f.message}`);
  }

  // ---- endings -------------------------------------------------------------------------

  /** An answer of our own (error page), logged. */
  private answer(status: number, why: string, logLine: string): void {
    if (this.finished) return;
    const level = status >= 500 ? 'WARN' : 'INFO';
    this.core.errorLog.log(level, `${status} for ${this.fx.inbound.method} ${this.fx.inbound.authority}${this.fx.inbound.path}: ${logLine}`);
    const body = errorPage(status, why, this.gen.config.serverName);
    // The page's text is ASCII but for the server name, an octet string (UTF-8 octets) like every field value.
    const bytes = Buffer.from(body, 'latin1');
    this.status = status;
    try {
      this.fx.respond(
        status,
        [this.gen.rules.server, ['content-type', 'text/html; charset=UTF-8'], ['content-length', String(bytes.length)]],
        this.fx.inbound.method !== 'HEAD',
        this.gen.rules.addsNonAscii,
      );
      if (this.fx.inbound.method !== 'HEAD') this.fx.write(bytes);
      this.fx.end(null);
    } catch {
      this.fx.abort();
    }
    this.finish();
  }

  private fail(logLine: string): void {
    this.core.errorLog.warn(logLine);
    this.call?.cancel();
    this.fx.abort();
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.releaseSlot();
    this.gen.inFlight--;
    this.core.exchangeDone(this.gen);
    const g = this.gen;
    if (g.access === null || g.accessLog === null) return;
    const fx = this.fx;
    const t = fx.tlsInfo;
    const b = this.backend;
    const rec: AccessRecord = {
      remoteAddress: fx.inbound.remoteAddress,
      remotePort: fx.remotePort,
      serverPort: fx.inbound.localPort,
      method: fx.inbound.method,
      path: fx.inbound.method === 'CONNECT' ? fx.inbound.authority : fx.inbound.path,
      protocolVersion: fx.protocolVersion,
      alpn: fx.alpn,
      status: this.status,
      bodyBytesSent: fx.bytesSent,
      headers: fx.inbound.headers,
      start: this.start,
      end: performance.now(),
      wallClock: new Date(),
      tlsCipher: t?.cipher ?? null,
      tlsProtocol: t?.protocol ?? null,
      tlsSni: t?.sni ?? null,
      tlsSessionReused: t ? t.reused : null,
      backendHost: b?.address.host ?? null,
      backendPort: b?.address.port ?? null,
    };
    g.accessLog.write(g.access(rec));
  }
}

/** Holds the generation in force and runs exchanges on it. */
export class ProxyCore {
  private gen: Generation;
  private readonly draining = new Set<Generation>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    gen: Generation,
    readonly errorLog: ErrorLog,
  ) {
    this.gen = gen;
  }

  get generation(): Generation {
    return this.gen;
  }

  /** Requests not yet finished, over every generation. */
  get inFlight(): number {
    let n = this.gen.inFlight;
    for (const g of this.draining) n += g.inFlight;
    return n;
  }

  handle(fx: FrontExchange): void {
    new Exchange(this, this.gen, fx).run();
  }

  /** Puts a new configuration in force; the old one's pools close once their requests are done. */
  replace(next: Generation): void {
    const old = this.gen;
    this.gen = next;
    if (old.inFlight === 0) void old.close();
    else this.draining.add(old);
  }

  exchangeDone(g: Generation): void {
    if (g !== this.gen && g.inFlight === 0 && this.draining.delete(g)) void g.close();
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const fn of w) fn();
    }
  }

  /** Resolves when no request is in flight (or after `timeout` ms). */
  idle(timeout: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeout);
      t.unref();
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.gen.close(), ...[...this.draining].map((g) => g.close())]);
  }

  destroy(): void {
    this.gen.destroy();
    for (const g of this.draining) g.destroy();
  }
}
