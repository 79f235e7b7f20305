/**
 * One request/response exchange as the handler sees it, and the per-stream
 * bookkeeping the connection needs (state, windows, the body being sent).
 * One plain object per stream: no Node stream, no EventEmitter.
 */
import type { Readable } from 'node:stream';
import type { Connection } from './connection.js';
import { ErrorCode } from './frame.js';
import type { HeadersInit } from './response.js';
import { StreamState, isClosed } from './stream.js';

/**
 * A body producer, as nghttp2's data provider: called when the stream may
 * send, with the most octets that can go out now. It returns a chunk (any
 * length; what does not fit waits for the next turn), `null` at the end of
 * the body, or `'deferred'` to pause until `stream.resume()`.
 */
export type BodyProducer = (maxLength: number) => Uint8Array | null | 'deferred';

/** A response body: text (sent as UTF-8), octets, a Node Readable, or a producer. */
export type ResponseBody = string | Uint8Array | Readable | BodyProducer | null | undefined;

export interface RespondOptions {
  /** Trailers sent after the body (RFC 9113 §8.1); a function is called when the body ends. */
  trailers?: HeadersInit | (() => HeadersInit);
}

export interface PushOptions {
  /** GET (default) or HEAD: pushed requests are safe and cacheable (RFC 9113 §8.4). */
  method?: 'GET' | 'HEAD';
  /** Extra fields of the promised request. */
  requestHeaders?: HeadersInit;
  /** Status of the pushed response, default 200. */
  status?: number;
  headers?: HeadersInit;
  body?: ResponseBody;
  trailers?: HeadersInit | (() => HeadersInit);
}

type Listener<A extends unknown[]> = (...args: A) => void;
interface StreamEvents {
  /** A chunk of the request body (a view: copy it to keep it past the handler). */
  data: [chunk: Uint8Array];
  /** Request trailers, just before 'end'. */
  trailers: [trailers: Array<[string, string]>];
  /** The request body is complete. */
  end: [];
  /** The stream is closed: NO_ERROR when the exchange completed, otherwise the RST_STREAM / GOAWAY code. */
  close: [code: number];
}

/** Body kinds being sent. */
export const BODY_NONE = 0;
export const BODY_BYTES = 1;
export const BODY_READABLE = 2;
export const BODY_PRODUCER = 3;

export class ServerStream {
  /** :method. Request fields are octet strings (one char per octet, as received). */
  method = '';
  /** :scheme ('' for CONNECT). */
  scheme = '';
  /** :authority, or the host field when :authority is absent. */
  authority = '';
  /** :path ('' for CONNECT). */
  path = '';
  /** Regular request fields, in order. */
  headers: Array<[string, string]> = [];
  /** Request trailers, once received. */
  trailers: Array<[string, string]> | null = null;

  /** @internal */ state: StreamState;
  /** @internal Peer's window for our DATA on this stream (may go negative, §6.9.2). */
  sendWindow = 0;
  /** @internal Our window for the peer's DATA. */
  recvWindow = 0;
  /** @internal Octets consumed but not yet returned with WINDOW_UPDATE. */
  recvUnacked = 0;
  /** @internal content-length of the request, -1 when absent. */
  contentLength = -1;
  /** @internal Request body octets received. */
  received = 0;
  /** @internal Request body chunks held until a 'data' listener exists. */
  held: Uint8Array[] | null = null;
  /** @internal */ heldBytes = 0;
  /** @internal The request's END_STREAM arrived. */
  requestComplete = false;
  /** @internal 'end' was emitted. */
  endEmitted = false;

  /** @internal respond() was called. */
  responded = false;
  /** @internal */ bodyKind = BODY_NONE;
  /** @internal Current chunk being sent, and the offset in it. */
  chunk: Uint8Array | null = null;
  /** @internal */ chunkOffset = 0;
  /** @internal No chunk will follow the current one. */
  bodyDone = false;
  /** @internal */ readable: Readable | null = null;
  /** @internal */ producer: BodyProducer | null = null;
  /** @internal The producer said 'deferred', or the Readable has nothing buffered. */
  waiting = false;
  /** @internal In the connection's send queue. */
  queued = false;
  /** @internal Out of the queue until a WINDOW_UPDATE for this stream. */
  blockedOnWindow = false;
  /** @internal */ trailersOut: HeadersInit | (() => HeadersInit) | null = null;

  private listeners: { [K in keyof StreamEvents]?: Array<Listener<StreamEvents[K]>> } | null = null;
  private closeCode = -1;

  constructor(
    /** @internal */ readonly conn: Connection,
    readonly streamId: number,
    /** True for a stream we pushed (RFC 9113 §8.4). */
    readonly pushed: boolean,
    state: StreamState,
  ) {
    this.state = state;
  }

  /** The id of the connection this stream belongs to (numbered by the server). */
  get connectionId(): number {
    return this.conn.id;
  }

  /** The client's address, as the transport reported it. */
  get remoteAddress(): string {
    return this.conn.remoteAddress;
  }
  get remotePort(): number {
    return this.conn.remotePort;
  }

  /** True once the stream is closed (completed, reset, or its connection gone). */
  get closed(): boolean {
    return isClosed(this.state) || this.closeCode >= 0;
  }

  /** True once the whole request body has been delivered ('end' emitted). */
  get requestEnded(): boolean {
    return this.endEmitted;
  }

  /**
   * True once the request's END_STREAM has arrived: no more DATA will come
   * (chunks that came may still wait for a 'data' listener). In the handler
   * it means the request has no body; 'end' follows the handler.
   */
  get endStreamReceived(): boolean {
    return this.requestComplete;
  }

  /** True once respond() has been called. */
  get headersSent(): boolean {
    return this.responded;
  }

  // ---- events ---------------------------------------------------------------

  /**
   * Listens to 'data', 'trailers', 'end' or 'close'. Body chunks that arrive
   * before a 'data' listener exists are held (within the flow-control window)
   * and delivered when one is added; 'end' and 'close' are delivered
   * (asynchronously) to listeners added after they happened.
   */
  on<K extends keyof StreamEvents>(event: K, fn: Listener<StreamEvents[K]>): this {
    const ls = (this.listeners ??= {});
    ((ls[event] ??= []) as Array<Listener<StreamEvents[K]>>).push(fn);
    if (event === 'data' && this.held !== null) this.conn.releaseHeld(this);
    else if (event === 'end' && this.endEmitted) queueMicrotask(() => (fn as Listener<[]>)());
    else if (event === 'close' && this.closeCode >= 0) {
      const code = this.closeCode;
      queueMicrotask(() => (fn as Listener<[number]>)(code));
    }
    return this;
  }

  /** Like on(), removed after the first call. */
  once<K extends keyof StreamEvents>(event: K, fn: Listener<StreamEvents[K]>): this {
    const wrapper = ((...args: StreamEvents[K]) => {
      this.off(event, wrapper);
      fn(...args);
    }) as Listener<StreamEvents[K]>;
    return this.on(event, wrapper);
  }

  off<K extends keyof StreamEvents>(event: K, fn: Listener<StreamEvents[K]>): this {
    const list = this.listeners?.[event] as Array<Listener<StreamEvents[K]>> | undefined;
    if (list) {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }

  /** @internal */
  hasListener(event: keyof StreamEvents): boolean {
    const l = this.listeners?.[event];
    return l !== undefined && l.length > 0;
  }

  /**
   * @internal Calls the listeners; a throwing listener is reported, not
   * propagated. 'close' is the last event: its code is recorded at once, its
   * listeners run in a microtask, after the 'end' of a request answered
   * synchronously.
   */
  emit<K extends keyof StreamEvents>(event: K, ...args: StreamEvents[K]): void {
    const list = this.listeners?.[event] as Array<Listener<StreamEvents[K]>> | undefined;
    if (event === 'close') {
      if (this.closeCode >= 0) return;
      this.closeCode = args[0] as number;
      if (!list || list.length === 0) return;
      const snapshot = list.slice();
      queueMicrotask(() => this.call(snapshot, args));
      return;
    }
    if (!list || list.length === 0) return;
    this.call(list.length === 1 ? list : list.slice(), args);
  }

  private call<A extends unknown[]>(list: Array<Listener<A>>, args: A): void {
    for (const fn of list) {
      try {
        fn(...args);
      } catch (err) {
        this.conn.reportError(err, this);
      }
    }
  }

  // ---- the response ----------------------------------------------------------

  /**
   * Sends the response: HEADERS with `:status` and `headers`, then the body.
   * A string or Uint8Array body gets a content-length unless one is given. A
   * Readable is read as the peer's flow-control windows allow (bounded
   * memory); a producer is called likewise. HEAD requests and 204/304
   * responses carry no body. Does nothing when the stream is already closed.
   * Throws when called twice or with fields HTTP/2 forbids. `headers` as a
   * frozen array of frozen pairs is checked once and its header block reused
   * while the connection's HPACK table is unchanged (see responseFields).
   */
  respond(status: number, headers?: HeadersInit, body?: ResponseBody, options?: RespondOptions): void {
    this.conn.respond(this, status, headers, body, options?.trailers ?? null);
  }

  /**
   * Sets trailers to send after the body (RFC 9113 §8.1). Call it before the
   * body ends: with a producer or a Readable body, before the end is reached.
   */
  sendTrailers(trailers: HeadersInit): void {
    if (!this.responded) throw new Error('sendTrailers() before respond()');
    if (this.bodyDone && this.chunk === null && !this.queued && this.bodyKind !== BODY_NONE) {
      throw new Error('sendTrailers() after the body was sent');
    }
    this.trailersOut = trailers;
  }

  /** Resumes a producer that returned 'deferred'. */
  resume(): void {
    this.conn.resumeStream(this);
  }

  /**
   * Pushes a response (RFC 9113 §8.4): a PUSH_PROMISE on this stream for
   * `path`, then the pushed response. Returns the pushed stream, or null when
   * the peer disabled push (SETTINGS_ENABLE_PUSH 0), its
   * SETTINGS_MAX_CONCURRENT_STREAMS is reached, or this stream can no longer
   * carry a PUSH_PROMISE.
   */
  push(path: string, options: PushOptions = {}): ServerStream | null {
    return this.conn.push(this, path, options);
  }

  /** Resets the stream (RST_STREAM, default CANCEL). */
  reset(code: number = ErrorCode.CANCEL): void {
    this.conn.resetStream(this, code, 'reset by the handler');
  }
}
