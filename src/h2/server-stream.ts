/**
 * One request/response exchange on the server: what the connection keeps of
 * it (ServerExchange: the request, the body held for the handler, the
 * listeners) and what the handler sees (ServerStream: the request and the
 * methods that answer it). One plain object each: no Node stream, no
 * EventEmitter.
 */
import type { BodyInit, BodyProducer, TrailersInit } from './body.js';
import { errorCodeArg, invalidState } from './errors.js';
import { fieldGet, fieldGetAll, fieldsRaw } from './fields.js';
import { ErrorCode } from './frame.js';
import { type HeadersInit, trailerFields } from './response.js';
import { StreamCore, type StreamState } from './stream.js';

export type { BodyProducer };

/** A response body: text (sent as UTF-8), octets, a Node Readable, an async iterable, or a producer. */
export type ResponseBody = BodyInit;

export interface RespondOptions {
  /** Trailers sent after the body (RFC 9113 §8.1); a function is called when the body ends. */
  trailers?: TrailersInit;
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
  trailers?: TrailersInit;
}

type Listener<A extends unknown[]> = (...args: A) => void;
export interface StreamEvents {
  /** A chunk of the request body (a view: copy it to keep it past the handler). */
  data: [chunk: Uint8Array];
  /** Request trailers (text, see ServerStream.headers), just before 'end'. */
  trailers: [trailers: Array<[string, string]>];
  /** The request body is complete. */
  end: [];
  /** The stream is closed: NO_ERROR when the exchange completed, otherwise the RST_STREAM / GOAWAY code. */
  close: [code: number];
}

/** What an exchange needs from its connection (the server role implements it). */
export interface ExchangeHost {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  respond(x: ServerExchange, status: number, headers: HeadersInit | undefined, body: ResponseBody, trailers: TrailersInit | null): void;
  resumeBody(x: ServerExchange): void;
  push(x: ServerExchange, path: string, options: PushOptions): ServerExchange | null;
  resetStream(x: ServerExchange, code: number, message: string): void;
  releaseHeld(x: ServerExchange): void;
  reportError(err: unknown, x: ServerExchange | null): void;
}

/** The connection's side of one exchange. */
export class ServerExchange extends StreamCore {
  method = '';
  scheme = '';
  authority = '';
  path = '';
  /** The request's fields as text (see fields.ts). */
  headers: Array<[string, string]> = [];
  trailers: Array<[string, string]> | null = null;
  /** The octets of headers and trailers, kept only when they are not all ASCII (else they are the text). */
  rawHeaders: Array<[string, string]> | null = null;
  rawTrailers: Array<[string, string]> | null = null;
  /** Request body chunks held until a 'data' listener exists. */
  held: Uint8Array[] | null = null;
  heldBytes = 0;
  /** 'end' was emitted. */
  endEmitted = false;
  /** respond() was called. */
  responded = false;
  /** The stream the handler sees. */
  readonly api: ServerStream;
  private listeners: { [K in keyof StreamEvents]?: Array<Listener<StreamEvents[K]>> } | null = null;

  constructor(
    readonly host: ExchangeHost,
    id: number,
    /** True for a stream we pushed (RFC 9113 §8.4). */
    pushed: boolean,
    state: StreamState,
    sendWindow: number,
    recvWindow: number,
  ) {
    super(id, pushed, state, sendWindow, recvWindow);
    this.api = makeServerStream(this);
  }

  on<K extends keyof StreamEvents>(event: K, fn: Listener<StreamEvents[K]>): void {
    const ls = (this.listeners ??= {});
    ((ls[event] ??= []) as Array<Listener<StreamEvents[K]>>).push(fn);
    if (event === 'data' && this.held !== null) this.host.releaseHeld(this);
    else if (event === 'end' && this.endEmitted) queueMicrotask(() => (fn as Listener<[]>)());
    else if (event === 'close' && this.closeCode >= 0) {
      const code = this.closeCode;
      queueMicrotask(() => (fn as Listener<[number]>)(code));
    }
  }

  off<K extends keyof StreamEvents>(event: K, fn: Listener<StreamEvents[K]>): void {
    const list = this.listeners?.[event] as Array<Listener<StreamEvents[K]>> | undefined;
    if (list) {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    }
  }

  hasListener(event: keyof StreamEvents): boolean {
    const l = this.listeners?.[event];
    return l !== undefined && l.length > 0;
  }

  /**
   * Calls the listeners; a throwing listener is reported, not propagated.
   * 'close' is the last event: its listeners run in a microtask, after the
   * 'end' of a request answered synchronously (the code is already set).
   */
  emit<K extends keyof StreamEvents>(event: K, ...args: StreamEvents[K]): void {
    const list = this.listeners?.[event] as Array<Listener<StreamEvents[K]>> | undefined;
    if (!list || list.length === 0) return;
    if (event === 'close') {
      const snapshot = list.slice();
      queueMicrotask(() => this.call(snapshot, args));
      return;
    }
    this.call(list.length === 1 ? list : list.slice(), args);
  }

  /** Emits 'end' once. */
  end(): void {
    if (this.endEmitted) return;
    this.endEmitted = true;
    this.emit('end');
  }

  private call<A extends unknown[]>(list: Array<Listener<A>>, args: A): void {
    for (const fn of list) {
      try {
        fn(...args);
      } catch (err) {
        this.host.reportError(err, this);
      }
    }
  }
}

let makeServerStream: (x: ServerExchange) => ServerStream;
let exchangeOf: (s: ServerStream) => ServerExchange;

/**
 * A request's fields, and its trailers once received, as octet strings (one
 * char per octet), for h2kit's own proxy; not part of the package's API
 * (src/h2/index.ts does not export them).
 */
export function requestOctetFields(s: ServerStream): Array<[string, string]> {
  const x = exchangeOf(s);
  return x.rawHeaders ?? x.headers;
}

export function requestOctetTrailers(s: ServerStream): Array<[string, string]> | null {
  const x = exchangeOf(s);
  return x.rawTrailers ?? x.trailers;
}

/** One request as the handler sees it, and the methods that answer it. */
export class ServerStream {
  readonly #x: ServerExchange;

  // Made by the connection only (the class is exported for its type and instanceof).
  private constructor(x: ServerExchange) {
    this.#x = x;
  }
  static {
    makeServerStream = (x) => new ServerStream(x);
    exchangeOf = (s) => s.#x;
  }

  get streamId(): number {
    return this.#x.id;
  }
  /** True for a stream we pushed (RFC 9113 §8.4). */
  get pushed(): boolean {
    return this.#x.local;
  }
  /** :method (a token: ASCII). */
  get method(): string {
    return this.#x.method;
  }
  /** :scheme ('' for CONNECT). */
  get scheme(): string {
    return this.#x.scheme;
  }
  /** :authority, or the host field when :authority is absent (text, as headers). */
  get authority(): string {
    return this.#x.authority;
  }
  /** :path ('' for CONNECT), as text (see headers). */
  get path(): string {
    return this.#x.path;
  }
  /**
   * Regular request fields, in order, as text: the octets received decoded
   * as UTF-8, U+FFFD where they are not UTF-8 (rawHeaders has the octets).
   */
  get headers(): Array<[string, string]> {
    return this.#x.headers;
  }
  /** The request fields with the exact octets of each value. */
  get rawHeaders(): Array<[string, Uint8Array]> {
    return fieldsRaw(this.#x.rawHeaders ?? this.#x.headers);
  }
  /** The text of the first request field `name` (any case), or undefined. */
  get(name: string): string | undefined {
    return fieldGet(this.#x.headers, name);
  }
  /** The texts of every request field `name` (any case), in order. */
  getAll(name: string): string[] {
    return fieldGetAll(this.#x.headers, name);
  }
  /** Request trailers (text, as headers), once received. */
  get trailers(): Array<[string, string]> | null {
    return this.#x.trailers;
  }
  /** Request trailers with the exact octets of each value, once received. */
  get rawTrailers(): Array<[string, Uint8Array]> | null {
    const t = this.#x.rawTrailers ?? this.#x.trailers;
    return t === null ? null : fieldsRaw(t);
  }
  /** The id of the connection this stream belongs to (numbered by the server). */
  get connectionId(): number {
    return this.#x.host.id;
  }
  /** The client's address, as the transport reported it. */
  get remoteAddress(): string {
    return this.#x.host.remoteAddress;
  }
  get remotePort(): number {
    return this.#x.host.remotePort;
  }
  /** True once the stream is closed (completed, reset, or its connection gone). */
  get closed(): boolean {
    return this.#x.closed;
  }
  /** True once the whole request body has been delivered ('end' emitted). */
  get requestEnded(): boolean {
    return this.#x.endEmitted;
  }
  /**
   * True once the request's END_STREAM has arrived: no more DATA will come
   * (chunks that came may still wait for a 'data' listener). In the handler
   * it means the request has no body; 'end' follows the handler.
   */
  get endStreamReceived(): boolean {
    return this.#x.remoteEnded;
  }
  /** True once respond() has been called. */
  get headersSent(): boolean {
    return this.#x.responded;
  }

  /**
   * Listens to 'data', 'trailers', 'end' or 'close'. Body chunks that arrive
   * before a 'data' listener exists are held (within the flow-control window)
   * and delivered when one is added; 'end' and 'close' are delivered
   * (asynchronously) to listeners added after they happened.
   */
  on<K extends keyof StreamEvents>(event: K, fn: Listener<StreamEvents[K]>): this {
    this.#x.on(event, fn);
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
    this.#x.off(event, fn);
    return this;
  }

  /**
   * Sends the response: HEADERS with `:status` and `headers`, then the body.
   * A string or Uint8Array body gets a content-length unless one is given. A
   * Readable or an async iterable is read as the peer's flow-control windows
   * allow (bounded memory); a producer is called likewise. HEAD requests and
   * 204/304 responses carry no body. Does nothing when the stream is already
   * closed. Throws when called twice or with fields HTTP/2 forbids.
   * `headers` as a frozen array of frozen pairs is checked once and its
   * header block reused while the connection's HPACK table is unchanged.
   */
  respond(status: number, headers?: HeadersInit, body?: ResponseBody, options?: RespondOptions): void {
    this.#x.host.respond(this.#x, status, headers, body, options?.trailers ?? null);
  }

  /**
   * Sets trailers to send after the body (RFC 9113 §8.1). Call it before the
   * body ends: with a producer or a Readable body, before the end is reached.
   */
  sendTrailers(trailers: HeadersInit): void {
    const x = this.#x;
    if (!x.responded) throw invalidState('sendTrailers() before respond()');
    if (x.out === null) throw invalidState('sendTrailers() after the body was sent');
    trailerFields(trailers);
    x.out.trailers = trailers;
  }

  /** Resumes a producer that returned 'deferred'. */
  resume(): void {
    this.#x.host.resumeBody(this.#x);
  }

  /**
   * Pushes a response (RFC 9113 §8.4): a PUSH_PROMISE on this stream for
   * `path`, then the pushed response. Returns the pushed stream, or null when
   * the peer disabled push (SETTINGS_ENABLE_PUSH 0), its
   * SETTINGS_MAX_CONCURRENT_STREAMS is reached, or this stream can no longer
   * carry a PUSH_PROMISE.
   */
  push(path: string, options: PushOptions = {}): ServerStream | null {
    return this.#x.host.push(this.#x, path, options)?.api ?? null;
  }

  /** Resets the stream (RST_STREAM, default CANCEL). */
  reset(code: number = ErrorCode.CANCEL): void {
    this.#x.host.resetStream(this.#x, errorCodeArg(code), 'reset by the handler');
  }
}
