/**
 * HTTP/1.1 backends on our own client: a pool of keep-alive connections per
 * backend address, one request at a time on each (no pipelining, as
 * nghttpx), reused most-recently-freed first, at most MAX_IDLE kept idle and
 * each closed after --backend-keep-alive-timeout. The request is written
 * with one write when it has no content, its content streamed with
 * backpressure otherwise (chunked when the client gave no Content-Length).
 * The response is parsed as it arrives (RFC 9112: status line, field lines,
 * Content-Length, chunked or close-delimited content, 1xx skipped; the text
 * of heads and trailers in http1-response.ts) and its
 * content handed on as slices of the socket's reads, the socket paused
 * while the sink cannot take more. Header octets stay raw and in order
 * (Set-Cookie fields stay apart); names are lowercased, values kept as
 * latin1 strings (one char per octet).
 *
 * Strictness, since what a backend sends goes on to clients: a response
 * whose framing is ambiguous (two different Content-Lengths, a bad chunk
 * size, obs-fold, a bare CR or LF, NUL) is a 502, never guessed at; a
 * connection that might hold octets of anything but the next response
 * (close-delimited, Transfer-Encoding with Content-Length, an early response
 * to a request still being sent, extra octets) is closed, never reused.
 *
 * A request on a reused connection that the backend closed before sending
 * a single octet back (it timed the connection out as we sent) is sent
 * again once on a new connection when the method is idempotent and it has
 * no content (RFC 9110 §9.2.2).
 *
 * Why not undici or node:http: per request, undici spent 17 µs of CPU and
 * node:http's Agent 55 µs in bench/h2proxy.mjs's comparison, more than the
 * rest of the proxy together; this client is measured there too
 * (BENCHMARKS.md).
 */
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { BackendCall, BackendFailure, BackendPool, BackendRequest, ResponseSink } from './backend.js';
import type { Fields } from './headers.js';
import { CHUNKED, chunkSize, parseHead, parseTrailers, ResponseError, UNTIL_CLOSE } from './http1-response.js';

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
  /** The largest response header (or trailer) section taken, in octets (--response-header-field-buffer); MAX_HEAD by default. */
  maxHead?: number;
}

/** Idle connections kept per backend address; more are closed as they become idle. */
export const MAX_IDLE = 128;

/** The largest response header section (or trailer section) taken by default, in octets (nghttpx's 64K). */
export const MAX_HEAD = 64 * 1024;

/** Interim (1xx) responses taken before the final one; more is a backend that never answers. */
export const MAX_INTERIM = 16;

/** The longest chunk-size line (with extensions) taken. */
const MAX_CHUNK_LINE = 4096;

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Plain-TCP reads land in a buffer of the connection's own (onread: no
 * stream machinery per read): 16 KiB, or 64 KiB once a read has filled it.
 * A socket keeps the buffer it was given until its next read, so the buffer
 * cannot be shared between connections. It is replaced only after octets of
 * it were handed on as they are (slices of COPY_BELOW octets or more, or a
 * read held during a pause); smaller slices are copied out instead, which
 * costs less than a fresh buffer per read.
 */
const READ_MIN = 16 * 1024;
const READ_MAX = 64 * 1024;
const COPY_BELOW = 8 * 1024;

/** Methods that carry content even when empty: sent with Content-Length: 0 when the client sent none. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** Methods that may be sent again (RFC 9110 §9.2.2), when nothing came back. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

// Where the parser is in a response.
const HEAD = 0;
const BODY_LENGTH = 1;
const CHUNK_LINE = 2;
const CHUNK_DATA = 3;
const CHUNK_END = 4;
const TRAILERS = 5;
const BODY_UNTIL_CLOSE = 6;

/** One request on a connection: what the proxy holds to resume or cancel it. */
class Call implements BackendCall {
  conn: Conn | null = null;
  /** The response is complete, or failed, or the call was cancelled. */
  done = false;
  /** Octets of the response received. */
  received = 0;
  /** The request has been written in full. */
  sent = false;
  paused = false;
  retried = false;

  constructor(
    readonly req: BackendRequest,
    readonly sink: ResponseSink,
  ) {}

  resume(): void {
    if (this.done || !this.paused) return;
    this.paused = false;
    this.conn?.resumeReading(this);
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    const c = this.conn;
    this.conn = null;
    if (c === null) return;
    // Whatever is being parsed for it stops at once (the sink may cancel from inside head() or data()).
    if (c.call === this) c.call = null;
    c.destroy();
  }
}

/** One connection to the backend. */
class Conn {
  readonly socket: Socket;
  /** Reads land in the connection's read buffer (plain TCP), so what is kept of them must not stay there. */
  private readonly shared: boolean;
  private rbuf: Buffer | null = null;
  /** Octets of rbuf were handed on or held: the next read needs another buffer. */
  private lent = false;
  /** The last read filled rbuf: the next one gets READ_MAX. */
  private grow = false;
  connected = false;
  /** It has carried a complete exchange (a new request on it may meet a close the backend had already decided on). */
  reused = false;
  call: Call | null = null;
  /** When it last became idle (Date.now()). */
  idleSince = 0;
  /** The connection may carry another request once this one is done. */
  private keepAlive = true;
  private phase = HEAD;
  private remaining = 0;
  /**
   * Octets of a head, chunk-size line or trailer section split across reads
   * (acc[0..accLen), grown by doubling), and where in the read the section
   * that section() found ended.
   */
  private acc: Buffer | null = null;
  private accLen = 0;
  private after = 0;
  /** The octets the text section() returned was made of, and where it starts in them. */
  private src: Buffer | null = null;
  private srcStart = 0;
  private headOnly = false;
  private readonly maxHead: number;
  /** Interim responses seen for this request. */
  private interim = 0;
  /** Octets of a read not yet parsed because the sink asked for a pause. */
  private held: Buffer | null = null;
  private socketPaused = false;
  private drainWaiter: (() => void) | null = null;
  private error: (Error & { code?: string }) | null = null;
  private timedOut = false;

  constructor(private readonly pool: Http1Pool) {
    const o = pool.options;
    this.maxHead = o.maxHead ?? MAX_HEAD;
    const socket = o.tls
      ? tls.connect({
          host: o.host,
          port: o.port,
          ...(o.servername ? { servername: o.servername } : {}),
          rejectUnauthorized: o.rejectUnauthorized,
          ...(o.ca ? { ca: o.ca } : {}),
          ALPNProtocols: ['http/1.1'],
        })
      : net.connect({ host: o.host, port: o.port, onread: { buffer: () => this.readBuffer(), callback: (n: number, buf: Uint8Array) => this.onRead(n, buf) } });
    this.shared = !o.tls;
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(o.connectTimeout);
    socket.once(o.tls ? 'secureConnect' : 'connect', () => this.onConnect());
    if (o.tls) socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('timeout', () => this.onTimeout());
    socket.on('error', (err: Error) => {
      this.error ??= err;
    });
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.wakeWriter());
  }

  private onConnect(): void {
    this.connected = true;
    // From now on the read timeout, restarted by every read and write (none is set per request);
    // idle connections are closed by the pool's keep-alive sweep.
    this.socket.setTimeout(this.pool.options.readTimeout);
    const call = this.call;
    if (call !== null) this.send(call);
  }

  /** Takes `call`: written now if connected, else once connected. */
  start(call: Call): void {
    this.call = call;
    call.conn = this;
    this.phase = HEAD;
    this.keepAlive = true;
    this.headOnly = call.req.method === 'HEAD';
    this.interim = 0;
    if (this.connected) this.send(call);
  }

  private send(call: Call): void {
    const req = call.req;
    const socket = this.socket;
    let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
    let length = false;
    const fields = req.fields;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (f[0] === 'content-length') length = true;
      head += `${f[0]}: ${f[1]}\r\n`;
    }
    if (req.body === null) {
      if (!length && BODY_METHODS.has(req.method)) head += 'content-length: 0\r\n';
      socket.write(`${head}\r\n`, 'latin1');
      call.sent = true;
      return;
    }
    const chunked = !length;
    if (chunked) head += 'transfer-encoding: chunked\r\n';
    socket.write(`${head}\r\n`, 'latin1');
    void this.pump(call, req.body, chunked);
  }

  /** Writes the request content as the client sends it, waiting for the socket to drain. */
  private async pump(call: Call, body: AsyncIterable<Uint8Array>, chunked: boolean): Promise<void> {
    const it = body[Symbol.asyncIterator]();
    try {
      for (;;) {
        const r = await it.next();
        if (this.call !== call || call.done) {
          void it.return?.();
          return;
        }
        if (r.done) break;
        const c = r.value;
        if (c.length === 0) continue;
        let ok: boolean;
        if (chunked) {
          this.socket.cork();
          this.socket.write(`${c.length.toString(16)}\r\n`, 'latin1');
          this.socket.write(c);
          ok = this.socket.write('\r\n', 'latin1');
          this.socket.uncork();
        } else ok = this.socket.write(c);
        if (!ok) {
          await new Promise<void>((resolve) => {
            this.drainWaiter = resolve;
          });
          if (this.call !== call || call.done) {
            void it.return?.();
            return;
          }
        }
      }
      if (chunked) this.socket.write('0\r\n\r\n', 'latin1');
      call.sent = true;
    } catch (e) {
      if (this.call === call && !call.done) this.fail(call, { kind: 'reset', message: `the request content could not be read: ${(e as Error).message}` });
    }
  }

  private wakeWriter(): void {
    const w = this.drainWaiter;
    this.drainWaiter = null;
    w?.();
  }

  /** `call`'s sink can take more: the held octets first, then the socket. */
  resumeReading(call: Call): void {
    const held = this.held;
    this.held = null;
    if (held !== null) this.process(call, held);
    if (this.call === call && !call.paused && this.socketPaused) {
      this.socketPaused = false;
      this.socket.setTimeout(this.pool.options.readTimeout);
      this.socket.resume();
    }
  }

  // ---- reading the response ---------------------------------------------------------------

  /** Where the next plain-TCP read goes: the connection's buffer, a new one once it was lent or filled. */
  private readBuffer(): Uint8Array {
    let b = this.rbuf;
    if (b === null || this.lent || this.grow) {
      b = this.rbuf = Buffer.allocUnsafe(this.grow || (b !== null && b.length === READ_MAX) ? READ_MAX : READ_MIN);
      this.lent = false;
      this.grow = false;
    }
    return b;
  }

  /** A plain-TCP read, into the connection's read buffer. */
  private onRead(n: number, buf: Uint8Array): boolean {
    if (n === buf.length && buf.length < READ_MAX) this.grow = true;
    this.onData(Buffer.from(buf.buffer, buf.byteOffset, n));
    // A pause is made by deliver() itself (socket.pause()).
    return true;
  }

  private onData(chunk: Buffer): void {
    const call = this.call;
    if (call === null) {
      // Octets while idle: nothing asked for them, and the next response could not be told apart.
      this.destroy();
      return;
    }
    call.received += chunk.length;
    this.process(call, chunk);
  }

  /**
   * Parses `buf` for `call`. When the sink asks for a pause, the rest of
   * `buf` is held (and the response not completed) until resumeReading():
   * the connection stays busy rather than a whole read being buffered.
   */
  private process(call: Call, buf: Buffer): void {
    let pos = 0;
    for (;;) {
      if (this.call !== call) {
        // The exchange ended (or was cancelled) with octets left over: they belong to nothing.
        if (pos < buf.length && this.call === null) this.destroy();
        return;
      }
      if (call.paused) {
        this.held = buf.subarray(pos);
        if (this.shared) this.lent = true;
        return;
      }
      if (this.phase === BODY_LENGTH && this.remaining === 0) {
        this.complete(call, null, buf.length - pos);
        continue;
      }
      if (pos >= buf.length) return;
      switch (this.phase) {
        case HEAD:
        case TRAILERS: {
          const trailers = this.phase === TRAILERS;
          let text: string | null;
          try {
            text = this.section(buf, pos, CRLFCRLF, this.maxHead, 'header section');
            if (text === null) return;
            pos = this.after;
            if (!trailers) this.onHead(call, text, buf.length - pos);
            // The trailer section was seeded with the CRLF that ended the last chunk's line.
            else this.complete(call, parseTrailers(text, this.src!, this.srcStart), buf.length - pos);
          } catch (e) {
            if (e instanceof ResponseError) return this.invalid(call, e.message);
            throw e;
          }
          break;
        }
        case BODY_LENGTH: {
          const n = Math.min(this.remaining, buf.length - pos);
          const slice = pos === 0 && n === buf.length ? buf : buf.subarray(pos, pos + n);
          pos += n;
          this.remaining -= n;
          this.deliver(call, slice);
          break;
        }
        case BODY_UNTIL_CLOSE: {
          const slice = pos === 0 ? buf : buf.subarray(pos);
          pos = buf.length;
          this.deliver(call, slice);
          break;
        }
        case CHUNK_LINE: {
          let line: string | null;
          try {
            line = this.section(buf, pos, CRLF, MAX_CHUNK_LINE, 'chunk-size line');
          } catch (e) {
            if (e instanceof ResponseError) return this.invalid(call, e.message);
            throw e;
          }
          if (line === null) return;
          pos = this.after;
          const size = chunkSize(line);
          if (size < 0) return this.invalid(call, `an invalid chunk size ${JSON.stringify(line.slice(0, 40))}`);
          if (size === 0) {
            this.phase = TRAILERS;
            this.seed(CRLF);
          } else {
            this.remaining = size;
            this.phase = CHUNK_DATA;
          }
          break;
        }
        case CHUNK_DATA: {
          const n = Math.min(this.remaining, buf.length - pos);
          const slice = buf.subarray(pos, pos + n);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.phase = CHUNK_END;
            this.remaining = 2;
          }
          this.deliver(call, slice);
          break;
        }
        case CHUNK_END: {
          // The CRLF after a chunk's data, possibly split across reads.
          const want = this.remaining === 2 ? 0x0d : 0x0a;
          if (buf[pos] !== want) return this.invalid(call, 'chunk data not followed by CRLF');
          pos++;
          if (--this.remaining === 0) this.phase = CHUNK_LINE;
          break;
        }
      }
    }
  }

  /**
   * The octets before `term` in what is pending plus buf[pos..], as latin1
   * text, with this.after set to the position in `buf` after `term`; null
   * when `term` has not come yet (buf[pos..] is then kept). Kept octets
   * grow by doubling and each search starts where the last one stopped, so
   * a section sent an octet at a time costs linear time, and at most
   * `limit` octets of it are taken.
   */
  private section(buf: Buffer, pos: number, term: Buffer, limit: number, what: string): string | null {
    const before = this.accLen;
    if (before === 0) {
      const end = buf.indexOf(term, pos);
      if (end >= 0) {
        if (end - pos > limit) throw new ResponseError(`a ${what} larger than ${limit} octets`);
        this.after = end + term.length;
        this.src = buf;
        this.srcStart = pos;
        return buf.toString('latin1', pos, end);
      }
    }
    const add = buf.length - pos;
    const need = before + add;
    let acc = this.acc;
    if (acc === null || acc.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(256, 2 * need));
      if (acc !== null) acc.copy(grown, 0, 0, before);
      this.acc = acc = grown;
    }
    buf.copy(acc, before, pos);
    this.accLen = need;
    const end = acc.subarray(0, need).indexOf(term, Math.max(0, before - term.length + 1));
    if (end < 0) {
      if (need - term.length + 1 > limit) throw new ResponseError(`a ${what} larger than ${limit} octets`);
      return null;
    }
    if (end > limit) throw new ResponseError(`a ${what} larger than ${limit} octets`);
    this.accLen = 0;
    this.after = pos + end + term.length - before;
    this.src = acc;
    this.srcStart = 0;
    return acc.toString('latin1', 0, end);
  }

  /** Starts the pending octets with `octets` (the CRLF that a trailer section's end may share). */
  private seed(octets: Buffer): void {
    if (this.acc === null || this.acc.length < octets.length) this.acc = Buffer.allocUnsafe(256);
    octets.copy(this.acc, 0);
    this.accLen = octets.length;
  }

  /** The status line and fields of a response: a 1xx is skipped; the final one goes to the sink and sets the framing. */
  private onHead(call: Call, text: string, left: number): void {
    const h = parseHead(text, this.src!, this.srcStart);
    if (h.status < 200) {
      if (h.status === 101) throw new ResponseError('a 101 (Switching Protocols) response to a request that asked for no upgrade');
      if (++this.interim > MAX_INTERIM) throw new ResponseError(`more than ${MAX_INTERIM} interim (1xx) responses`);
      return; // 100, 102, 103: the final response follows
    }
    if (!h.keepAlive) this.keepAlive = false;
    const sink = call.sink;
    if (this.headOnly || h.status === 204 || h.status === 304) {
      sink.head(h.status, h.fields, h.nonAscii);
      if (this.call === call) this.complete(call, null, left);
      return;
    }
    if (h.framingCloses) this.keepAlive = false;
    if (h.length === CHUNKED) this.phase = CHUNK_LINE;
    else if (h.length === UNTIL_CLOSE) this.phase = BODY_UNTIL_CLOSE;
    else {
      this.phase = BODY_LENGTH;
      this.remaining = h.length;
    }
    // An empty body (Content-Length: 0) completes in process().
    sink.head(h.status, h.fields, h.nonAscii);
  }

  private deliver(call: Call, slice: Buffer): void {
    if (slice.length === 0) return;
    // From the shared read buffer: small slices are copied, large ones handed on (and the buffer replaced).
    if (this.shared) {
      if (slice.length < COPY_BELOW) slice = Buffer.from(slice);
      else this.lent = true;
    }
    if (!call.sink.data(slice) && this.call === call && !call.done) {
      call.paused = true;
      // No read timeout while the client holds us back.
      this.socketPaused = true;
      this.socket.setTimeout(0);
      this.socket.pause();
    }
  }

  /** The response is complete; `left` octets followed it in the same read. */
  private complete(call: Call, trailers: Fields | null, left: number): void {
    call.done = true;
    call.conn = null;
    this.call = null;
    this.accLen = 0;
    this.phase = HEAD;
    // A request still being written, octets after the response, or framing that ends with the
    // connection: the connection cannot carry another exchange.
    const reusable = this.keepAlive && call.sent && left === 0;
    this.reused = true;
    this.held = null;
    if (this.socketPaused) {
      // The pause had taken the read timeout off: it goes back on with the reading.
      this.socketPaused = false;
      this.socket.setTimeout(this.pool.options.readTimeout);
      this.socket.resume();
    }
    this.wakeWriter();
    this.pool.release(this, reusable);
    call.sink.end(trailers);
  }

  private invalid(call: Call, why: string): void {
    this.fail(call, { kind: 'reset', message: `invalid response: ${why}` });
  }

  private fail(call: Call, f: BackendFailure): void {
    if (call.done) return;
    call.done = true;
    call.conn = null;
    this.call = null;
    this.destroy();
    call.sink.error(f);
  }

  // ---- the socket's end ---------------------------------------------------------------

  private onTimeout(): void {
    const call = this.call;
    if (!this.connected) {
      this.timedOut = true;
      this.socket.destroy();
      return;
    }
    // Idle: the keep-alive sweep decides.
    if (call === null) return;
    this.fail(call, { kind: 'timeout', message: `no response octets for ${this.pool.options.readTimeout} ms` });
  }

  private onEnd(): void {
    const call = this.call;
    if (call !== null && this.phase === BODY_UNTIL_CLOSE) {
      this.keepAlive = false;
      this.complete(call, null, 0);
    }
    this.destroy();
  }

  private onClose(): void {
    this.wakeWriter();
    const call = this.call;
    this.call = null;
    this.pool.forget(this);
    if (call === null || call.done) return;
    call.conn = null;
    if (!this.connected) {
      call.done = true;
      // The pool was destroyed under it (shutdown): not the backend's fault.
      if (this.pool.isClosed) return call.sink.error({ kind: 'reset', message: 'the backend pool was closed' });
      const err = this.error;
      const code = err?.code;
      // Nothing was sent: whatever failed (refused, unreachable, the TLS handshake or the backend's
      // certificate), another backend may be tried and this one is left out for a while.
      if (this.timedOut) return call.sink.error({ kind: 'connect', message: `connect timeout after ${this.pool.options.connectTimeout} ms` });
      return call.sink.error({
        kind: 'connect',
        message: err !== null ? `${code ? `${code}: ` : ''}${err.message}` : 'the connection closed while being set up',
      });
    }
    // A reused connection closed before any answer: the backend had given up on it as we sent.
    if (this.reused && call.received === 0 && !call.retried && call.req.body === null && IDEMPOTENT.has(call.req.method)) {
      call.retried = true;
      this.pool.restart(call);
      return;
    }
    call.done = true;
    const err = this.error;
    const why =
      err !== null
        ? `${err.code ? `${err.code}: ` : ''}${err.message}`
        : call.received === 0
          ? 'the backend closed the connection without a response'
          : 'the backend closed the connection before the response was complete';
    call.sink.error({ kind: 'reset', message: why });
  }

  destroy(): void {
    // Out of the idle list at once: 'close' comes later, and a request must not be given to it meanwhile.
    this.pool.unidle(this);
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

export class Http1Pool implements BackendPool {
  readonly version = '1.1';
  readonly options: Http1PoolOptions;
  /** Connections with nothing in flight, the most recently freed last. */
  private readonly idle: Conn[] = [];
  /** Every connection, open or being opened. */
  private readonly conns = new Set<Conn>();
  private closed = false;
  private sweepTimer: NodeJS.Timeout | null = null;
  private closeWaiters: Array<() => void> = [];

  constructor(o: Http1PoolOptions) {
    this.options = o;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Connections open or being opened (busy or idle). */
  get connections(): number {
    return this.conns.size;
  }

  dispatch(req: BackendRequest, sink: ResponseSink): BackendCall {
    const call = new Call(req, sink);
    if (this.closed) {
      call.done = true;
      sink.error({ kind: 'reset', message: 'the backend pool is closed' });
      return call;
    }
    this.take().start(call);
    return call;
  }

  /** A connection with nothing in flight, or a new one. */
  private take(): Conn {
    for (let c = this.idle.pop(); c !== undefined; c = this.idle.pop()) if (!c.socket.destroyed) return c;
    const n = new Conn(this);
    this.conns.add(n);
    return n;
  }

  /** Sends `call` again on a new connection. */
  restart(call: Call): void {
    if (this.closed) {
      call.done = true;
      call.sink.error({ kind: 'reset', message: 'the backend closed the connection without a response' });
      return;
    }
    const n = new Conn(this);
    this.conns.add(n);
    n.start(call);
  }

  /** An exchange on `c` is over: a complete one leaves it reusable; anything else closes it. */
  release(c: Conn, reusable: boolean): void {
    if (reusable && !this.closed && !c.socket.destroyed && this.idle.length < MAX_IDLE) {
      c.idleSince = Date.now();
      this.idle.push(c);
      this.scheduleSweep();
    } else c.destroy();
  }

  /** One timer for the pool: it fires when the longest-idle connection has been idle for the keep-alive timeout. */
  private scheduleSweep(): void {
    if (this.sweepTimer !== null || this.idle.length === 0) return;
    const wait = Math.max(1, this.idle[0]!.idleSince + this.options.keepAliveTimeout - Date.now());
    this.sweepTimer = setTimeout(() => this.sweep(), wait);
    this.sweepTimer.unref();
  }

  /** Closes the connections idle for the keep-alive timeout (the longest idle are first in the list). */
  private sweep(): void {
    this.sweepTimer = null;
    const limit = Date.now() - this.options.keepAliveTimeout;
    while (this.idle.length > 0 && this.idle[0]!.idleSince <= limit) this.idle.shift()!.destroy();
    this.scheduleSweep();
  }

  /** `c` is being closed: no request may be given to it. */
  unidle(c: Conn): void {
    const i = this.idle.lastIndexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** `c` has closed. */
  forget(c: Conn): void {
    this.conns.delete(c);
    this.unidle(c);
    if (this.conns.size === 0 && this.closeWaiters.length > 0) {
      const w = this.closeWaiters;
      this.closeWaiters = [];
      for (const fn of w) fn();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer);
    for (const c of this.idle.splice(0)) c.destroy();
    if (this.conns.size === 0) return;
    await new Promise<void>((resolve) => this.closeWaiters.push(resolve));
  }

  destroy(): void {
    this.closed = true;
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer);
    this.idle.length = 0;
    for (const c of [...this.conns]) c.destroy();
  }
}
