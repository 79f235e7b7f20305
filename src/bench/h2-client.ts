/**
 * A benchmark client speaking HTTP/2 on our engine: one ClientConnection
 * over the socket, and requests on its lean path (PendingRequest with an
 * ExchangeListener). Request objects are recycled, so that the hot loop
 * allocates nothing of its own and creates no promise or closure.
 */

import { BODY_BYTES, BODY_NONE } from '../h2/body.js';
import { ClientConnection, type PendingRequest } from '../h2/client-connection.js';
import type { ExchangeListener } from '../h2/client-stream.js';
import type { Http2Error } from '../h2/errors.js';
import { ErrorCode, FrameType, SettingId } from '../h2/frame.js';
import type { FrameEvent } from '../h2/observer.js';
import { attachSocket, socketTransport } from '../h2/socket.js';
import type { HeaderInput } from '../hpack/index.js';
import { Client, type ClientHost, Phase } from './client.js';
import type { BenchConfig } from './config.js';
import { ConnectError, type Established } from './connect.js';

/** The request fields for each path, made once per run and frozen (h2load's order: :path, :scheme, :authority, :method, then the rest). */
export function requestFieldLists(c: BenchConfig): HeaderInput[][] {
  return c.paths.map((path) => {
    const fields: HeaderInput[] = [
      [':path', path],
      [':scheme', c.requestScheme],
      [':authority', c.authority],
      [':method', c.method],
    ];
    for (const h of c.headers) fields.push(h);
    if (c.data !== null) fields.push(['content-length', String(c.data.length)]);
    // Frozen, the list is the same on every request: the HPACK encoder reuses its block while its table is unchanged.
    for (const f of fields) Object.freeze(f);
    return Object.freeze(fields) as HeaderInput[];
  });
}

/** One request in flight; reused once it has ended. */
class Request implements PendingRequest, ExchangeListener {
  fields: HeaderInput[] = [];
  method = 'GET';
  path = '/';
  body: Uint8Array | undefined = undefined;
  kind: number = BODY_NONE;
  bytes: Uint8Array | null = null;
  trailers = null;
  exchange: PendingRequest['exchange'] = null;
  cancelled = false;
  listener: ExchangeListener = this;
  status = -1;
  /** Seconds: when it was sent, and when it should have been. */
  sentAt = 0;
  dueAt = 0;
  /** Ended (completed or failed): the listener may hear no more. */
  ended = false;

  constructor(readonly client: H2Client) {}

  resolve(): void {}
  /** Refused before it had a stream (the connection is going). */
  reject(e: Http2Error): void {
    this.client.ended(this, false, e);
  }
  onHead(status: number): void {
    this.status = status;
    this.client.head();
  }
  onData(n: number): void {
    this.client.data(n);
  }
  onComplete(): void {
    this.client.ended(this, true);
  }
  onError(e: Http2Error): void {
    this.client.ended(this, false, e);
  }
}

export class H2Client extends Client {
  private conn: ClientConnection | null = null;
  private readonly free: Request[] = [];
  private readonly fields: HeaderInput[][];
  /** The connection's header octet counters already added to the worker's. */
  private headSeen = 0;
  private headDecodedSeen = 0;

  constructor(host: ClientHost, id: number, reqTodo: number, fields: HeaderInput[][]) {
    super(host, id, reqTodo);
    this.fields = fields;
  }

  protected startSession(e: Established): void {
    const c = this.config;
    this.headSeen = this.headDecodedSeen = 0;
    const window = 2 ** c.windowBits - 1;
    // h2load's SETTINGS: push off, the stream window, and the table and frame sizes when not the default.
    const preface: Array<[number, number]> = [
      [SettingId.ENABLE_PUSH, 0],
      [SettingId.INITIAL_WINDOW_SIZE, window],
    ];
    if (c.headerTableSize !== 4096) preface.push([SettingId.HEADER_TABLE_SIZE, c.headerTableSize]);
    if (c.maxFrameSize !== 16384) preface.push([SettingId.MAX_FRAME_SIZE, c.maxFrameSize]);
    const socket = e.socket;
    this.conn = new ClientConnection(socketTransport(socket), {
      scheme: c.scheme,
      authority: c.authority,
      id: this.id + 1,
      prefaceSettings: preface,
      settings: {
        enablePush: false,
        initialWindowSize: window,
        headerTableSize: c.headerTableSize,
        maxFrameSize: c.maxFrameSize,
        connectionWindowSize: Math.max(65535, 2 ** c.connectionWindowBits - 1),
      },
      encoderTableSize: c.encoderHeaderTableSize,
      // h2load waits for the server as long as it takes, unless -T or -N say otherwise; it closes without lingering.
      limits: { idleTimeout: 0, closeLinger: 0 },
      // -v: the header fields of every response, as h2load prints them.
      ...(c.verbose
        ? {
            onFrame: (ev: FrameEvent) => {
              if (ev.direction !== 'recv' || ev.type !== FrameType.HEADERS || !ev.headers) return;
              for (const [n, v] of ev.headers) this.host.verbose(`[stream_id=${ev.streamId}] ${n}: ${v}`);
            },
          }
        : {}),
      onClose: (info) => this.connectionClosed(info.error?.message ?? (info.peerGoaway ? `GOAWAY from the server` : info.reason)),
    });
    attachSocket(socket, this.conn, this.onBytes);
  }

  private readonly onBytes = (d: Uint8Array): void => {
    const now = performance.now() / 1000;
    const h = this.host;
    h.clock = now;
    this.lastActivity = now;
    if (h.phase === Phase.MAIN) h.counters.bytesTotal += d.length;
  };

  protected send(path: number, now: number, dueAt: number): boolean {
    const conn = this.conn;
    if (conn === null || !conn.acceptsRequests) return false;
    const r = this.free.pop() ?? new Request(this);
    r.fields = this.fields[path]!;
    r.method = this.config.method;
    const data = this.config.data;
    if (data !== null) {
      r.kind = BODY_BYTES;
      r.bytes = data;
      r.body = data;
    }
    r.exchange = null;
    r.cancelled = false;
    r.status = -1;
    r.ended = false;
    r.sentAt = now;
    r.dueAt = dueAt;
    conn.submit(r);
    return true;
  }

  protected flush(): void {
    this.conn?.scheduleFlush();
  }

  /** A response head arrived: the header octets it brought (and any trailers before it). */
  head(): void {
    this.countHeaders();
  }

  private countHeaders(): void {
    const conn = this.conn!;
    if (this.host.phase === Phase.MAIN) {
      const c = this.host.counters;
      c.bytesHead += conn.headerOctets - this.headSeen;
      c.bytesHeadDecoded += conn.headerFieldOctets - this.headDecodedSeen;
    }
    this.headSeen = conn.headerOctets;
    this.headDecodedSeen = conn.headerFieldOctets;
  }

  data(n: number): void {
    const h = this.host;
    this.firstByte(h.clock);
    if (h.phase === Phase.MAIN) h.counters.bytesBody += n;
  }

  ended(r: Request, ok: boolean, e: Http2Error | null = null): void {
    if (r.ended) return;
    r.ended = true;
    const status = r.status;
    const conn = this.conn;
    if (ok) this.firstByte(this.host.clock);
    if (!ok && conn !== null && conn.closed) {
      // The connection is gone: counted as abandoned when it reports its close, not as done.
      this.free.push(r);
      return;
    }
    if (e !== null) this.host.requestFailed(e.code);
    const sentAt = r.sentAt;
    const dueAt = r.dueAt;
    this.free.push(r);
    this.streamClosed(status, ok, sentAt, dueAt);
  }

  private connectionClosed(why: string): void {
    if (this.conn !== null && this.host.phase === Phase.MAIN) this.countHeaders();
    if (this.finished) return;
    this.host.connectFailed(new ConnectError(`the connection was lost: ${why}`));
    this.fail();
  }

  protected terminate(): void {
    const conn = this.conn;
    if (conn === null) {
      this.socket?.destroy();
      return;
    }
    if (conn.streamCount === 0) conn.close();
    else conn.destroy(ErrorCode.NO_ERROR);
  }
}
