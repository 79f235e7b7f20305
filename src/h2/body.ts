/**
 * Outgoing message bodies, whoever sends them (a server's response, a
 * client's request): where the octets come from, the chunk being sent and
 * how far it has gone. The scheduler pulls from them only as fast as the
 * flow-control windows and the transport allow, so a body never has to be
 * held whole in memory.
 */
import type { Readable } from 'node:stream';
import { invalidArgument } from './errors.js';
import type { HeadersInit } from './response.js';

/**
 * A body producer, as nghttp2's data provider: called when the stream may
 * send, with the most octets that can go out now. It returns a chunk (any
 * length; what does not fit waits for the next turn), `null` at the end of
 * the body, or `'deferred'` to pause until the stream is resumed.
 */
export type BodyProducer = (maxLength: number) => Uint8Array | null | 'deferred';

/** A body: text (sent as UTF-8), octets, a Node Readable, an async iterable of chunks, or a producer. */
export type BodyInit = string | Uint8Array | Readable | AsyncIterable<Uint8Array | string> | BodyProducer | null | undefined;

/** Trailers, or a function called for them when the body ends. */
export type TrailersInit = HeadersInit | (() => HeadersInit);

export const BODY_NONE = 0;
export const BODY_BYTES = 1;
export const BODY_READABLE = 2;
export const BODY_PRODUCER = 3;
export const BODY_ITERABLE = 4;

const utf8 = new TextEncoder();

export function isReadable(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as Readable).read === 'function' && typeof (v as Readable).on === 'function';
}

function isAsyncIterable(v: unknown): v is AsyncIterable<Uint8Array | string> {
  return typeof v === 'object' && v !== null && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** The kind of `body`; throws INVALID_ARGUMENT for anything that cannot be a body. */
export function bodyKind(body: BodyInit): number {
  if (body === null || body === undefined) return BODY_NONE;
  if (typeof body === 'string' || body instanceof Uint8Array) return BODY_BYTES;
  if (typeof body === 'function') return BODY_PRODUCER;
  if (isReadable(body)) return BODY_READABLE;
  if (isAsyncIterable(body)) return BODY_ITERABLE;
  throw invalidArgument('body must be a string, a Uint8Array, a Readable, an async iterable or a producer function');
}

/** The octets of a body of kind BODY_BYTES (text as UTF-8); null for the other kinds. */
export function bodyBytes(body: BodyInit, kind: number): Uint8Array | null {
  if (kind !== BODY_BYTES) return null;
  return typeof body === 'string' ? utf8.encode(body) : (body as Uint8Array);
}

/** The kind of `body`, and its octets when it is text or octets; throws INVALID_ARGUMENT for anything else. */
export function classifyBody(body: BodyInit): { kind: number; bytes: Uint8Array | null } {
  const kind = bodyKind(body);
  return { kind, bytes: bodyBytes(body, kind) };
}

/** Releases what a body that will not be sent holds (a Readable is destroyed, an iterator returned). */
export function discardBody(kind: number, body: BodyInit): void {
  if (kind === BODY_READABLE) (body as Readable).destroy();
  else if (kind === BODY_ITERABLE) void closeIterator((body as AsyncIterable<unknown>)[Symbol.asyncIterator]());
}

async function closeIterator(it: AsyncIterator<unknown>): Promise<void> {
  try {
    await it.return?.();
  } catch {
    // the body's own cleanup failed; nothing is waiting for it
  }
}

/** One stream's outgoing body and its place in the send queue. */
export class Outgoing {
  kind = BODY_NONE;
  /** The chunk being sent, and how much of it has gone. */
  chunk: Uint8Array | null = null;
  offset = 0;
  /** No chunk follows the current one. */
  done = false;
  readable: Readable | null = null;
  producer: BodyProducer | null = null;
  iterator: AsyncIterator<Uint8Array | string> | null = null;
  /** Waiting for the source: the producer said 'deferred', the Readable is empty, an iterator's next() is pending. */
  waiting = false;
  /** In the scheduler's queue. */
  queued = false;
  /** Out of the queue until a WINDOW_UPDATE for this stream. */
  blockedOnWindow = false;
  /** Trailers to send after the body (HEADERS with END_STREAM), or null. */
  trailers: TrailersInit | null = null;

  /**
   * Starts sending `body` of the given kind. `wake` is called when a
   * waiting source has data again; `fail` when the source fails.
   */
  constructor(kind: number, body: BodyInit, bytes: Uint8Array | null, trailers: TrailersInit | null, wake: () => void, fail: (err: unknown) => void) {
    this.kind = kind;
    this.trailers = trailers;
    if (kind === BODY_BYTES || kind === BODY_NONE) {
      this.chunk = bytes;
      this.done = true;
    } else if (kind === BODY_PRODUCER) {
      this.producer = body as BodyProducer;
    } else if (kind === BODY_READABLE) {
      const r = body as Readable;
      this.readable = r;
      r.on('readable', () => {
        if (this.readable === r && this.waiting) {
          this.waiting = false;
          wake();
        }
      });
      r.on('end', () => {
        if (this.readable !== r) return;
        this.done = true;
        this.waiting = false;
        wake();
      });
      r.on('error', (err: unknown) => {
        if (this.readable === r) fail(err);
      });
    } else {
      this.iterator = (body as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
      this.wakeIterator = wake;
      this.failIterator = fail;
    }
  }

  private wakeIterator: (() => void) | null = null;
  private failIterator: ((err: unknown) => void) | null = null;

  /**
   * Asks the iterator for its next chunk (one at a time: a chunk is asked
   * for only when the previous one has gone, which is the backpressure).
   */
  pull(): void {
    const it = this.iterator;
    if (it === null) return;
    this.waiting = true;
    it.next().then(
      (r) => {
        if (this.iterator !== it) return;
        this.waiting = false;
        if (r.done) this.done = true;
        else {
          const v = r.value;
          this.chunk = typeof v === 'string' ? utf8.encode(v) : v;
          if (!(this.chunk instanceof Uint8Array)) {
            this.failIterator!(invalidArgument('a body iterable must yield Uint8Array or string chunks'));
            return;
          }
          this.offset = 0;
        }
        this.wakeIterator!();
      },
      (err: unknown) => {
        if (this.iterator === it) this.failIterator!(err);
      },
    );
  }

  /** The stream is gone: let go of the source. */
  release(): void {
    if (this.readable !== null) {
      const r = this.readable;
      this.readable = null;
      if (!r.readableEnded) r.destroy();
    }
    if (this.iterator !== null) {
      const it = this.iterator;
      this.iterator = null;
      if (!this.done) void closeIterator(it);
    }
    this.producer = null;
    this.chunk = null;
  }
}
