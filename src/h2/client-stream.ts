/**
 * One request on the client: what the connection keeps of it
 * (ClientExchange: the response as it arrives, the body chunks not yet
 * read) and what the application sees (ClientResponse). The body is read
 * with backpressure: octets are given back to the server's flow-control
 * windows only as the application takes them, so a slow reader holds at
 * most a window's worth.
 */
import { type Http2Error, invalidState } from './errors.js';
import { fieldGet, fieldGetAll, fieldsRaw } from './fields.js';
import type { PriorityFields } from './frame.js';
import type { ResponseHead } from './request.js';
import { StreamCore, type StreamState } from './stream.js';

/** What an exchange needs from its connection (the client role implements it). */
export interface ClientExchangeHost {
  /** The application took `n` body octets of `x`: return them to the windows. */
  consumed(x: ClientExchange, n: number): void;
  /** The application no longer wants `x`: RST_STREAM CANCEL, unless it is over. */
  cancel(x: ClientExchange, reason: string): void;
}

/**
 * Takes one response as it arrives, with no promise, no ClientResponse and
 * no buffering: content octets are returned to the flow-control windows at
 * once (a load generator counts them and reads nothing). With a listener the
 * request's resolve() is never called; reject() still reports every failure,
 * before or after the head.
 *
 * A listener with onChunk() (a proxy) gets the content itself instead, and
 * the response's fields and trailers are kept on the exchange (head.headers
 * and rawHeaders, trailerFields and rawTrailers) as without a listener.
 */
export interface ExchangeListener {
  /** The final response's head arrived (RFC 9113 §8.1). */
  onHead(status: number): void;
  /** `n` octets of content arrived (without onChunk). */
  onData(n: number): void;
  /**
   * A chunk of content; true: its octets go back to the stream window now,
   * false: they are held off it (the peer soon stops sending) until the
   * exchange's release().
   */
  onChunk?(chunk: Uint8Array): boolean;
  /** The response is complete and the stream closed. */
  onComplete(): void;
  /** The exchange failed (reset, connection gone, timeout): once, and instead of onComplete(). */
  onError(e: Http2Error): void;
}

interface Waiter {
  resolve: (r: IteratorResult<Uint8Array>) => void;
  reject: (e: Http2Error) => void;
}

/** The connection's side of one request (or of one pushed response). */
export class ClientExchange extends StreamCore {
  /** The promised request, for a pushed stream. */
  pushRequest: Array<[string, string]> | null = null;
  /** The stream a push was promised on. */
  parentId = 0;
  /** The request's method (a HEAD response has no content, §8.1.1). */
  method = 'GET';
  /** The priority signal of the request's HEADERS (RFC 7540 §5.3), if any. */
  priority: PriorityFields | null = null;
  /** 1xx responses before the final one (as many as keepInformational() kept); null until one arrives. */
  informational: ResponseHead[] | null = null;
  /** Octets of the kept 1xx fields (name + value + 32 each, as SETTINGS_MAX_HEADER_LIST_SIZE counts them). */
  private informationalSize = 0;
  /** The final response head; its fields as text (see fields.ts). */
  head: ResponseHead | null = null;
  /** The octets of the response's fields and trailers, kept only when they are not all ASCII (else they are the text). */
  rawHeaders: Array<[string, string]> | null = null;
  rawTrailers: Array<[string, string]> | null = null;
  response: ClientResponse | null = null;
  onResponse: ((r: ClientResponse) => void) | null = null;
  onFailure: ((e: Http2Error) => void) | null = null;
  /** Body chunks received and not read yet (null while there are none: most bodies are taken at once). */
  private chunks: Uint8Array[] | null = null;
  private chunkHead = 0;
  heldBytes = 0;
  private waiter: Waiter | null = null;
  /** The exchange failed: reads reject with this. */
  error: Http2Error | null = null;
  trailerFields: Array<[string, string]> | null = null;
  private trailersWaiters: Array<[(t: Array<[string, string]>) => void, (e: Http2Error) => void]> | null = null;
  /** Cleanup of the request's timer and AbortSignal listener. */
  cleanup: (() => void) | null = null;
  /** Last time a frame arrived for this stream (request inactivity timeout); the connection sets it when it opens the stream. */
  lastActivity = 0;
  /** Takes the response instead of a ClientResponse (see ExchangeListener). */
  listener: ExchangeListener | null = null;
  /** Octets a listener's onChunk() has held off the stream window. */
  private withheld = 0;
  /** The listener's onComplete() was called. */
  private completed = false;

  constructor(
    readonly host: ClientExchangeHost,
    id: number,
    local: boolean,
    state: StreamState,
    sendWindow: number,
    recvWindow: number,
  ) {
    super(id, local, state, sendWindow, recvWindow);
  }

  /** A 1xx arrived: kept while the kept ones, together, stay within `max` octets. */
  keepInformational(head: ResponseHead, max: number): void {
    let size = 32 + 7; // :status
    for (const [n, v] of head.headers) size += n.length + v.length + 32;
    if (this.informationalSize + size > max) return;
    this.informationalSize += size;
    (this.informational ??= []).push(head);
  }

  /** The final response head arrived. */
  responded(head: ResponseHead): void {
    this.head = head;
    this.contentLength = this.method === 'HEAD' || head.status === 204 || head.status === 304 ? -1 : head.contentLength;
    if (this.listener !== null) return this.listener.onHead(head.status);
    this.response = makeClientResponse(this);
    const cb = this.onResponse;
    this.onResponse = null;
    this.onFailure = null;
    cb?.(this.response);
  }

  /** A body chunk arrived; returns true when a reader took it at once. */
  push(chunk: Uint8Array): boolean {
    const l = this.listener;
    if (l !== null) {
      if (l.onChunk === undefined) l.onData(chunk.length);
      else if (!l.onChunk(chunk)) {
        this.withheld += chunk.length;
        return true;
      }
      this.host.consumed(this, chunk.length);
      return true;
    }
    const w = this.waiter;
    if (w !== null && this.heldBytes === 0) {
      this.waiter = null;
      w.resolve({ value: chunk, done: false });
      return true;
    }
    (this.chunks ??= []).push(chunk);
    this.heldBytes += chunk.length;
    return false;
  }

  /** A listener that held octets off the window (onChunk() false) can take more: they go back to it. */
  release(): void {
    const n = this.withheld;
    if (n === 0 || this.closed) return;
    this.withheld = 0;
    this.host.consumed(this, n);
  }

  /** Tells the listener that the response is complete, once, unless the exchange failed. */
  completeListener(): void {
    if (this.listener === null || this.error !== null || this.completed) return;
    this.completed = true;
    this.listener.onComplete();
  }

  /** The server's END_STREAM: the body (and trailers) are complete. */
  ended(): void {
    // A listener that takes the content hears of the complete response now, even while its request is
    // still being sent (the server may answer early and then reset the stream, with NO_ERROR).
    if (this.listener?.onChunk !== undefined) this.completeListener();
    const w = this.waiter;
    if (w !== null && this.heldBytes === 0) {
      this.waiter = null;
      w.resolve({ value: undefined, done: true });
    }
    this.settleTrailers();
  }

  /** The exchange failed (reset, connection gone, timeout, abort). */
  fail(e: Http2Error): void {
    if (this.error !== null) return;
    if (this.remoteEnded && this.head !== null) {
      // Complete already: what was received stays readable.
      this.settleTrailers();
      return;
    }
    this.error = e;
    if (this.listener !== null) return this.listener.onError(e);
    const f = this.onFailure;
    this.onResponse = null;
    this.onFailure = null;
    f?.(e);
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w.reject(e);
    }
    this.settleTrailers();
  }

  /**
   * The stream closed: unread octets stay readable, unless the exchange
   * failed, in which case they are dropped. (The connection window had them
   * back on receipt; only the stream window waits for the reader.)
   */
  drop(): void {
    if (this.error !== null) {
      this.chunks = null;
      this.chunkHead = 0;
      this.heldBytes = 0;
    }
  }

  /** The next body chunk, or the end. */
  next(): Promise<IteratorResult<Uint8Array>> {
    const cs = this.chunks;
    if (cs !== null) {
      const c = cs[this.chunkHead]!;
      cs[this.chunkHead++] = EMPTY;
      if (this.chunkHead === cs.length) {
        this.chunks = null;
        this.chunkHead = 0;
      }
      this.heldBytes -= c.length;
      this.host.consumed(this, c.length);
      return Promise.resolve({ value: c, done: false });
    }
    if (this.error !== null) return Promise.reject(this.error);
    if (this.remoteEnded) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter !== null) return Promise.reject(invalidState('the body is being read already'));
    return new Promise((resolve, reject) => {
      this.waiter = {
        resolve: (r) => {
          if (!r.done) this.host.consumed(this, r.value.length);
          resolve(r);
        },
        reject,
      };
    });
  }

  /**
   * The rest of the body at once, when all of it has arrived (and nothing
   * failed, and nobody is reading): one array, the octets given back to the
   * windows. Null otherwise.
   */
  takeRest(): Uint8Array | null {
    if (!this.remoteEnded || this.error !== null || this.waiter !== null) return null;
    const chunks = this.chunks;
    if (chunks === null) return EMPTY;
    const n = this.heldBytes;
    let out: Uint8Array;
    if (this.chunkHead === chunks.length - 1) out = chunks[this.chunkHead]!;
    else {
      out = new Uint8Array(n);
      let o = 0;
      for (let i = this.chunkHead; i < chunks.length; i++) {
        out.set(chunks[i]!, o);
        o += chunks[i]!.length;
      }
    }
    this.chunks = null;
    this.chunkHead = 0;
    this.heldBytes = 0;
    if (n > 0) this.host.consumed(this, n);
    return out;
  }

  trailers(): Promise<Array<[string, string]>> {
    if (this.remoteEnded) return Promise.resolve(this.trailerFields ?? []);
    if (this.error !== null) return Promise.reject(this.error);
    return new Promise((resolve, reject) => (this.trailersWaiters ??= []).push([resolve, reject]));
  }

  private settleTrailers(): void {
    const ws = this.trailersWaiters;
    if (ws === null) return;
    this.trailersWaiters = null;
    for (const [resolve, reject] of ws) {
      if (this.remoteEnded) resolve(this.trailerFields ?? []);
      else reject(this.error!);
    }
  }
}

const EMPTY = new Uint8Array(0);
const NO_HEADS: ReadonlyArray<{ status: number; headers: Array<[string, string]> }> = Object.freeze([]);

let makeClientResponse: (x: ClientExchange) => ClientResponse;

/** A response as the application sees it. */
export class ClientResponse {
  readonly #x: ClientExchange;

  // Made by the connection only (the class is exported for its type and instanceof).
  private constructor(x: ClientExchange) {
    this.#x = x;
  }
  static {
    makeClientResponse = (x) => new ClientResponse(x);
  }

  get streamId(): number {
    return this.#x.id;
  }
  /** The status code (RFC 9110 §15). */
  get status(): number {
    return this.#x.head!.status;
  }
  /**
   * The regular fields, in order, as text: the octets received decoded as
   * UTF-8, U+FFFD where they are not UTF-8 (rawHeaders has the octets).
   */
  get headers(): Array<[string, string]> {
    return this.#x.head!.headers;
  }
  /** The fields with the exact octets of each value. */
  get rawHeaders(): Array<[string, Uint8Array]> {
    return fieldsRaw(this.#x.rawHeaders ?? this.#x.head!.headers);
  }
  /** The text of the first field `name` (any case), or undefined. */
  get(name: string): string | undefined {
    return fieldGet(this.#x.head!.headers, name);
  }
  /** The texts of every field `name` (any case), in order. */
  getAll(name: string): string[] {
    return fieldGetAll(this.#x.head!.headers, name);
  }
  /** 1xx responses received before this one (RFC 9113 §8.1), as many as fit together in SETTINGS_MAX_HEADER_LIST_SIZE; fields as text. */
  get informational(): ReadonlyArray<{ status: number; headers: Array<[string, string]> }> {
    const heads = this.#x.informational;
    return heads === null ? NO_HEADS : heads.map((h) => ({ status: h.status, headers: h.headers }));
  }
  /** True for a pushed response (RFC 9113 §8.4). */
  get pushed(): boolean {
    return !this.#x.local;
  }

  /**
   * The body, chunk by chunk (`for await (const chunk of res.body)`). Read
   * it, or cancel(): octets not read keep the server's window closed.
   * Leaving the loop early cancels the stream.
   */
  get body(): AsyncIterable<Uint8Array> {
    const x = this.#x;
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => x.next(),
        return: () => {
          if (!x.remoteEnded) x.host.cancel(x, 'the body was not read to its end');
          return Promise.resolve({ value: undefined, done: true });
        },
      }),
    };
  }

  /** The whole body. */
  bytes(): Promise<Uint8Array> {
    // Most often the body is complete by the time it is asked for: no promise per chunk.
    const whole = this.#x.takeRest();
    return whole !== null ? Promise.resolve(whole) : this.#collect();
  }

  async #collect(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let n = 0;
    for (let r = await this.#x.next(); !r.done; r = await this.#x.next()) {
      parts.push(r.value);
      n += r.value.length;
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** The whole body as UTF-8 text. */
  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  /** The whole body parsed as JSON. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  /** The trailer fields (text, as headers; empty when there were none), once the body is complete. */
  get trailers(): Promise<Array<[string, string]>> {
    return this.#x.trailers();
  }
  /** The trailer fields with the exact octets of each value, once the body is complete. */
  get rawTrailers(): Promise<Array<[string, Uint8Array]>> {
    const x = this.#x;
    return x.trailers().then((t) => fieldsRaw(x.rawTrailers ?? t));
  }

  /** Stops the response: RST_STREAM CANCEL (nothing happens once it is complete). */
  cancel(): void {
    if (!this.#x.remoteEnded) this.#x.host.cancel(this.#x, 'cancelled by the application');
  }
}
