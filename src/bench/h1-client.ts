/**
 * A benchmark client speaking HTTP/1.1 (--h1, -p http/1.1) on undici's
 * Client: one connection, -m requests pipelined on it. Sockets come from
 * openConnection (so that connect times and TLS are measured as for
 * HTTP/2); when the server closes a connection, undici asks for another and
 * the queued requests go on there (h2load reconnects as well). Requests use
 * undici's callback handler interface, with recycled handler objects.
 */
import type { Socket } from 'node:net';
import { type Dispatcher, Client as UndiciClient } from 'undici';
import { Client, type ClientHost, Phase } from './client.js';
import { ConnectError, type Established, openConnection } from './connect.js';

type Handler = Dispatcher.DispatchHandler;

/** One request in flight; reused once it has ended. */
class Request implements Handler {
  status = -1;
  sentAt = 0;
  dueAt = 0;
  ended = false;

  constructor(readonly client: H1Client) {}

  onConnect(): void {}
  onHeaders(status: number, raw: Buffer[]): boolean {
    this.status = status;
    this.client.head(raw);
    return true;
  }
  onData(chunk: Buffer): boolean {
    this.client.data(chunk.length);
    return true;
  }
  onComplete(): void {
    this.client.ended(this, true, null);
  }
  onError(err: Error): void {
    this.client.ended(this, false, err);
  }
}

export class H1Client extends Client {
  private undici: UndiciClient | null = null;
  private readonly free: Request[] = [];
  private readonly options: Dispatcher.DispatchOptions[];
  /** socket.bytesRead already counted, per socket. */
  private current: Socket | null = null;
  private readSeen = 0;
  /** The socket openConnection made for the first connection; later ones are made on undici's demand. */
  private first: Socket | null = null;

  constructor(host: ClientHost, id: number, reqTodo: number) {
    super(host, id, reqTodo);
    const c = this.config;
    const origin = `${c.scheme}://${c.authority}`;
    // h2load's request: Host first, then user-agent and -H, Content-Length with -d.
    const headers: string[] = ['host', c.authority];
    for (const [n, v] of c.headers) headers.push(String(n), String(v));
    if (c.data !== null) headers.push('content-length', String(c.data.length));
    this.options = c.paths.map((path) => ({
      origin,
      path,
      method: c.method as Dispatcher.HttpMethod,
      headers,
      body: c.data === null ? null : Buffer.from(c.data.buffer, c.data.byteOffset, c.data.length),
    }));
  }

  protected startSession(e: Established): void {
    const c = this.config;
    this.first = e.socket;
    this.undici = new UndiciClient(`${c.scheme}://${c.authority}`, {
      // -d: one request at a time, as h2load does for HTTP/1.1.
      pipelining: c.data !== null ? 1 : c.maxConcurrentStreams,
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 3_600_000,
      keepAliveMaxTimeout: 3_600_000,
      connect: (_opts, cb) => {
        const s = this.first;
        this.first = null;
        // undici expects the callback later, never from inside connect().
        if (s !== null) return process.nextTick(cb, null, this.track(s));
        openConnection(c, (err, est) => {
          if (err) return cb(err, null);
          cb(null, this.track(est!.socket));
        });
      },
    });
    this.undici.on('connectionError', () => {});
  }

  private track(s: Socket): Socket {
    this.countRead();
    this.current = s;
    this.readSeen = 0;
    s.on('data', this.onBytes);
    return s;
  }

  private readonly onBytes = (): void => {
    const now = performance.now() / 1000;
    this.host.clock = now;
    this.lastActivity = now;
  };

  private countRead(): void {
    const s = this.current;
    if (s === null) return;
    const n = s.bytesRead;
    if (this.host.phase === Phase.MAIN) this.host.counters.bytesTotal += n - this.readSeen;
    this.readSeen = n;
  }

  protected send(path: number, now: number, dueAt: number): boolean {
    const u = this.undici;
    if (u === null || u.closed || u.destroyed) return false;
    const r = this.free.pop() ?? new Request(this);
    r.status = -1;
    r.ended = false;
    r.sentAt = now;
    r.dueAt = dueAt;
    u.dispatch(this.options[path]!, r);
    return true;
  }

  protected flush(): void {}

  head(raw: Buffer[]): void {
    if (this.host.phase !== Phase.MAIN) return;
    // h2load counts the octets of the header names and values.
    let n = 0;
    for (let i = 0; i < raw.length; i++) n += raw[i]!.length;
    const c = this.host.counters;
    c.bytesHead += n;
    c.bytesHeadDecoded += n;
  }

  data(n: number): void {
    const h = this.host;
    this.firstByte(h.clock);
    if (h.phase === Phase.MAIN) h.counters.bytesBody += n;
  }

  ended(r: Request, ok: boolean, err: Error | null): void {
    if (r.ended) return;
    r.ended = true;
    if (ok) this.firstByte(this.host.clock);
    this.countRead();
    this.free.push(r);
    if (err instanceof ConnectError) {
      // The server went away for good: what is left is abandoned.
      this.host.connectFailed(err);
      if (!this.finished) this.fail();
      return;
    }
    if (err !== null) this.host.requestFailed((err as NodeJS.ErrnoException).code ?? err.message);
    this.streamClosed(r.status, ok, r.sentAt, r.dueAt);
  }

  protected terminate(): void {
    this.countRead();
    const u = this.undici;
    if (u === null) {
      this.socket?.destroy();
      return;
    }
    this.undici = null;
    u.destroy().catch(() => {});
  }
}
