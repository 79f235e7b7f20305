/**
 * Field sections in (RFC 9113 §4.3, §6.2, §6.6, §6.10): HEADERS and
 * PUSH_PROMISE frames, with the CONTINUATIONs that complete them, assembled
 * into one field block within limits (octets and frames: CONTINUATION
 * floods), then decoded with the connection's HPACK decoder. A decoding
 * error breaks the compression context: a connection error
 * COMPRESSION_ERROR. A list over SETTINGS_MAX_HEADER_LIST_SIZE leaves the
 * context intact and reaches the connection as `null` fields, as does a
 * section of more fields than allowed.
 */
import { HpackError, type Inflater } from '../hpack/index.js';
import { type FieldList, fieldsText } from './fields.js';
import {
  ErrorCode,
  Flag as FlagImport,
  type FrameHeader,
  FrameType as FrameTypeImport,
  H2Error,
  type PriorityFields,
  parseContinuation,
  parseHeaders,
  parsePushPromise,
} from './frame.js';
import type { FrameEvent } from './observer.js';

// The imports used per frame as module constants: V8 embeds a constant, where it loads and checks an import at every use.
const Flag = FlagImport;
const FrameType = FrameTypeImport;

const EMPTY = new Uint8Array(0);
const { PROTOCOL_ERROR, ENHANCE_YOUR_CALM } = ErrorCode;
const connErr = (code: number, message: string): H2Error => new H2Error('connection', code, message);

/** What the reader hands up. */
export interface FieldSectionSink {
  /**
   * A decoded field section: HEADERS on `streamId`, or PUSH_PROMISE on
   * `streamId` promising `promisedStreamId`; `fields` null when over
   * SETTINGS_MAX_HEADER_LIST_SIZE.
   */
  fieldSection(
    type: number,
    streamId: number,
    flags: number,
    priority: PriorityFields | null,
    promisedStreamId: number,
    fields: ReadonlyArray<readonly [string, string]> | null,
  ): H2Error | null | void;
  /** A received frame of the section, for the observer (the last one with the decoded fields). */
  observeRecv(h: FrameHeader, details: Partial<FrameEvent>): void;
  /** An empty CONTINUATION: a frame that makes no progress. */
  zeroProgressFrame(): H2Error | null;
}

export class FieldSectionReader {
  readonly block: FieldBlock;
  /** Octets of the field block decoded last (its fragments, without padding or priority fields). */
  blockLength = 0;
  /** The frame that ended a block, reported once the block is decoded so that the event carries the fields. */
  private pendingObserved: { h: FrameHeader; padLength: number | undefined; priority: PriorityFields | null; promised: number } | null = null;

  constructor(
    private readonly inflater: Inflater,
    maxOctets: number,
    maxContinuations: number,
    private readonly sink: FieldSectionSink,
    private readonly observing: boolean,
    /** More fields than this in one section count as over the list size: the "HTTP/2 bomb" of indexed references. */
    private readonly maxFields = Infinity,
  ) {
    this.block = new FieldBlock(maxOctets, maxContinuations);
  }

  /** HEADERS (§6.2). */
  headers(h: FrameHeader, p: Uint8Array): H2Error | null | void {
    // Most HEADERS are a whole block without padding or priority: decoded without a parsed frame object.
    if ((h.flags & (Flag.END_HEADERS | Flag.PADDED | Flag.PRIORITY)) === Flag.END_HEADERS && h.streamId !== 0 && !this.observing) {
      return this.decode(FrameType.HEADERS, h.streamId, h.flags & (Flag.END_STREAM | Flag.END_HEADERS), null, 0, p);
    }
    const f = parseHeaders(h, p);
    if (f instanceof H2Error) return f;
    if ((f.flags & Flag.END_HEADERS) !== 0) {
      if (this.observing) this.pendingObserved = { h: { ...h }, padLength: f.padLength, priority: f.priority, promised: 0 };
      return this.decode(FrameType.HEADERS, h.streamId, f.flags, f.priority, 0, f.fragment);
    }
    if (this.observing) this.sink.observeRecv(h, { padLength: f.padLength, ...(f.priority ? { priority: f.priority } : {}) });
    const tooBig = this.block.open(FrameType.HEADERS, h.streamId, f.flags, f.priority, 0, f.fragment, Date.now());
    if (tooBig) return connErr(ENHANCE_YOUR_CALM, tooBig);
  }

  /** PUSH_PROMISE (§6.6), once the connection has checked that it may arrive at all. */
  pushPromise(h: FrameHeader, p: Uint8Array): H2Error | null | void {
    const f = parsePushPromise(h, p);
    if (f instanceof H2Error) return f;
    if ((f.flags & Flag.END_HEADERS) !== 0) {
      if (this.observing) this.pendingObserved = { h: { ...h }, padLength: f.padLength, priority: null, promised: f.promisedStreamId };
      return this.decode(FrameType.PUSH_PROMISE, h.streamId, f.flags, null, f.promisedStreamId, f.fragment);
    }
    if (this.observing) this.sink.observeRecv(h, { padLength: f.padLength, promisedStreamId: f.promisedStreamId });
    const tooBig = this.block.open(FrameType.PUSH_PROMISE, h.streamId, f.flags, null, f.promisedStreamId, f.fragment, Date.now());
    if (tooBig) return connErr(ENHANCE_YOUR_CALM, tooBig);
  }

  /** CONTINUATION (§6.10). */
  continuation(h: FrameHeader, p: Uint8Array): H2Error | null | void {
    const f = parseContinuation(h, p);
    if (f instanceof H2Error) return f;
    const b = this.block;
    if (b.streamId === 0) return connErr(PROTOCOL_ERROR, `CONTINUATION on stream ${h.streamId} without HEADERS (§6.10)`);
    if (h.streamId !== b.streamId) {
      return connErr(PROTOCOL_ERROR, `CONTINUATION on stream ${h.streamId} while a header block is open on stream ${b.streamId} (§6.10)`);
    }
    const over = b.append(f.fragment);
    if (over) return connErr(ENHANCE_YOUR_CALM, over);
    if ((f.flags & Flag.END_HEADERS) === 0) {
      if (this.observing) this.sink.observeRecv(h, {});
      if (f.fragment.length === 0) return this.sink.zeroProgressFrame();
      return;
    }
    const { type, streamId, flags, priority, promisedStreamId } = b;
    const block = b.finish();
    if (this.observing) this.pendingObserved = { h: { ...h }, padLength: undefined, priority: null, promised: 0 };
    return this.decode(type, streamId, flags, priority, promisedStreamId, block);
  }

  private flushObserved(fields: ReadonlyArray<readonly [string, string]> | null): void {
    const o = this.pendingObserved;
    if (o === null) return;
    this.pendingObserved = null;
    const details: Partial<FrameEvent> = {};
    if (o.padLength !== undefined) details.padLength = o.padLength;
    if (o.priority) details.priority = o.priority;
    if (o.promised) details.promisedStreamId = o.promised;
    // The observer sees text, as the application does (a list of its own: observing decodes without sharing).
    if (fields) details.headers = fieldsText(fields as FieldList);
    this.sink.observeRecv(o.h, details);
  }

  /** Decodes a whole field block (§4.3) and hands it up. */
  private decode(type: number, streamId: number, flags: number, priority: PriorityFields | null, promised: number, block: Uint8Array): H2Error | null | void {
    let fields: ReadonlyArray<readonly [string, string]> | null = null;
    this.blockLength = block.length;
    try {
      // A block repeated from the last one decodes to the same frozen list (the observer gets its own copy).
      fields = this.observing ? this.inflater.inflateLatin1(block) : this.inflater.inflateShared(block);
    } catch (e) {
      if (!(e instanceof HpackError)) throw e;
      if (e.breaksContext) {
        this.flushObserved(null);
        // §4.3: a decoding error is a connection error COMPRESSION_ERROR.
        return connErr(ErrorCode.COMPRESSION_ERROR, `HPACK ${e.code} at octet ${e.offset}: ${e.message}`);
      }
      // HEADER_LIST_TOO_LARGE: the table is in sync; only this message is refused.
    }
    if (fields !== null && fields.length > this.maxFields) fields = null;
    this.flushObserved(fields);
    return this.sink.fieldSection(type, streamId, flags, priority, promised, fields);
  }
}

/**
 * A field block being received (§4.3, §6.10): HEADERS or PUSH_PROMISE
 * without END_HEADERS, then CONTINUATIONs on the same stream, nothing else
 * in between. Bounded in octets and in frames: a CONTINUATION flood of tiny
 * frames is stopped as early as one of huge ones.
 */
export class FieldBlock {
  /** The stream whose block is open; 0 when none is. */
  streamId = 0;
  /** HEADERS or PUSH_PROMISE. */
  type = 0;
  /** Flags of the frame that opened the block (END_STREAM, PRIORITY...). */
  flags = 0;
  priority: PriorityFields | null = null;
  promisedStreamId = 0;
  /** When the block was opened (ms), for the slowloris timeout. */
  startedAt = 0;
  private buf: Uint8Array = EMPTY;
  length = 0;
  private continuations = 0;

  constructor(
    private readonly maxOctets: number,
    private readonly maxContinuations: number,
  ) {}

  /** Opens a block with its first fragment; an error message when that alone is over the limit. */
  open(
    type: number,
    streamId: number,
    flags: number,
    priority: PriorityFields | null,
    promisedStreamId: number,
    fragment: Uint8Array,
    now: number,
  ): string | null {
    if (fragment.length > this.maxOctets) return this.tooLarge();
    this.type = type;
    this.streamId = streamId;
    this.flags = flags;
    this.priority = priority;
    this.promisedStreamId = promisedStreamId;
    this.startedAt = now;
    this.continuations = 0;
    this.buf = new Uint8Array(Math.max(fragment.length, Math.min(this.maxOctets, Math.max(4096, fragment.length * 2))));
    this.buf.set(fragment);
    this.length = fragment.length;
    return null;
  }

  /** Adds a CONTINUATION's fragment; an error message when over a limit. */
  append(fragment: Uint8Array): string | null {
    if (++this.continuations > this.maxContinuations) {
      return `more than ${this.maxContinuations} CONTINUATION frames in one field block`;
    }
    if (this.length + fragment.length > this.maxOctets) return this.tooLarge();
    if (this.length + fragment.length > this.buf.length) {
      const next = new Uint8Array(Math.min(this.maxOctets, Math.max(this.buf.length * 2, this.length + fragment.length)));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.buf.set(fragment, this.length);
    this.length += fragment.length;
    return null;
  }

  /** The whole block (END_HEADERS arrived); the assembler is empty again. */
  finish(): Uint8Array {
    const block = this.buf.subarray(0, this.length);
    this.reset();
    return block;
  }

  reset(): void {
    this.streamId = 0;
    this.buf = EMPTY;
    this.length = 0;
  }

  private tooLarge(): string {
    return `header block larger than ${this.maxOctets} octets`;
  }
}
