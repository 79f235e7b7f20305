/**
 * The frame serializer (RFC 9113 §4, §6): one method per frame type, used by
 * both roles, by the tests (through the encode*() wrappers below) and by the
 * tools. Frames are written into large slabs, and each take() hands the
 * transport the written regions in one batch (one write, or one corked
 * writev when large payloads are attached without copying). A region handed
 * out is not written again, so the transport may keep it, unless the owner
 * learns that it has been consumed (rewind()).
 *
 * The methods write what they are given, valid or not (tests craft invalid
 * frames with them); the endpoint decides what is legal to send.
 */
import { invalidArgument } from './errors.js';
import {
  Flag as FlagImport,
  FRAME_HEADER_LENGTH as FRAME_HEADER_LENGTH_IMPORT,
  FrameType as FrameTypeImport,
  type PriorityFields,
  writeFrameHeader as writeFrameHeaderImport,
  writeUint32,
} from './frame.js';

// The imports used per frame as module constants: V8 embeds a constant, where it loads and checks an import at every use.
const Flag = FlagImport;
const FRAME_HEADER_LENGTH = FRAME_HEADER_LENGTH_IMPORT;
const FrameType = FrameTypeImport;
const writeFrameHeader = writeFrameHeaderImport;

const SLAB_SIZE = 64 * 1024;
/** Payloads at least this large are attached by reference rather than copied. */
export const ZERO_COPY_THRESHOLD = 16 * 1024;
const EMPTY = new Uint8Array(0);

const allocSlab: (n: number) => Uint8Array =
  typeof (globalThis as { Buffer?: unknown }).Buffer === 'function'
    ? (n) => (globalThis as unknown as { Buffer: { allocUnsafeSlow(n: number): Uint8Array } }).Buffer.allocUnsafeSlow(n)
    : (n) => new Uint8Array(n);

/**
 * Slabs that writers gave back once their transport had consumed every
 * region (an idle or closed connection), for the next writer that needs
 * one. Connections come and go; a fresh slab per connection would be
 * garbage that only a full collection frees, and in the C heap, where
 * Node allocates its memory, it sits among TLS buffers freed since and
 * keeps that memory from being returned (the resident set after a TLS
 * load grew by megabytes for it). Bounded: 32 slabs, 2 MiB.
 */
const slabPool: Uint8Array[] = [];
const SLAB_POOL_MAX = 32;

function newSlab(n: number): Uint8Array {
  if (n <= SLAB_SIZE) {
    const pooled = slabPool.pop();
    if (pooled !== undefined) return pooled;
  }
  return allocSlab(Math.max(SLAB_SIZE, n));
}

function poolSlab(slab: Uint8Array | null): void {
  if (slab !== null && slab.length === SLAB_SIZE && slabPool.length < SLAB_POOL_MAX) slabPool.push(slab);
}

/** Slabs in the shared pool (for tests). */
export function pooledSlabs(): number {
  return slabPool.length;
}

/** Called for each frame a multi-frame method wrote: its type, flags and payload length. */
export type WrittenFrame = (type: number, flags: number, length: number) => void;

export class FrameWriter {
  private slab: Uint8Array;
  /** Start of the region not yet handed out. */
  private start = 0;
  pos = 0;
  private chunks: Uint8Array[] = [];
  private chunkBytes = 0;
  /** Frames written since the last take(). */
  frames = 0;
  /**
   * Set by the owner when it can tell that everything taken so far has been
   * consumed (the transport copied or sent it). A full slab is then not
   * replaced by new memory but by the slab retired before it: over TLS a
   * write is pending until the next tick, so rewind() rarely applies, and
   * without this each connection would fill a fresh 64 KiB slab every few
   * dozen responses (garbage that outlives young-generation collections).
   */
  consumed: (() => boolean) | null = null;
  /** The slab retired before the current one, and whether all of it has been taken. */
  private spare: Uint8Array | null = null;
  private spareTaken = false;

  /**
   * `slabSize` 0 allocates the first slab on the first write (an idle
   * connection holds none); release() gives it back.
   */
  constructor(private readonly slabSize = SLAB_SIZE) {
    this.slab = slabSize > 0 ? allocSlab(slabSize) : EMPTY;
  }

  /** Octets waiting to be taken. */
  get pendingBytes(): number {
    return this.chunkBytes + this.pos - this.start;
  }

  /** Makes room for `n` octets at `pos`; returns the slab to write into. */
  reserve(n: number): Uint8Array {
    if (this.slab.length - this.pos < n) {
      this.seal();
      this.replaceSlab(n);
    }
    return this.slab;
  }

  /** Writes a frame header; the caller writes `length` payload octets next (room for `reservePayload` is made). */
  header(length: number, type: number, flags: number, streamId: number, reservePayload: number): Uint8Array {
    const slab = this.reserve(FRAME_HEADER_LENGTH + reservePayload);
    this.pos = writeFrameHeader(slab, this.pos, length, type, flags, streamId);
    this.frames++;
    return slab;
  }

  /** Copies octets at `pos` (room must have been reserved). */
  copy(data: Uint8Array, from = 0, to = data.length): void {
    if (from === 0 && to === data.length) this.slab.set(data, this.pos);
    else this.slab.set(data.subarray(from, to), this.pos);
    this.pos += to - from;
  }

  /** Any frame from raw parts, the payload copied or (when large) attached by reference. */
  frame(type: number, flags: number, streamId: number, payload: Uint8Array = EMPTY, from = 0, to = payload.length): void {
    const len = to - from;
    if (len >= ZERO_COPY_THRESHOLD) {
      this.header(len, type, flags, streamId, 0);
      this.seal();
      this.chunks.push(from === 0 && to === payload.length ? payload : payload.subarray(from, to));
      this.chunkBytes += len;
      return;
    }
    this.header(len, type, flags, streamId, len);
    if (len > 0) this.copy(payload, from, to);
  }

  // ---- one serializer per frame type -------------------------------------------

  /**
   * DATA (§6.1): `buf[from, to)`, with `padLength` zero octets of padding
   * after the Pad Length field (-1: not PADDED). Returns the frame's payload
   * length, which is what flow control counts (§6.9.1).
   */
  data(streamId: number, buf: Uint8Array, from: number, to: number, endStream: boolean, padLength = -1): number {
    const n = to - from;
    const flags = endStream ? Flag.END_STREAM : 0;
    if (padLength < 0) {
      this.frame(FrameType.DATA, flags, streamId, buf, from, to);
      return n;
    }
    const len = n + 1 + padLength;
    const slab = this.header(len, FrameType.DATA, flags | Flag.PADDED, streamId, len);
    slab[this.pos++] = padLength;
    if (n > 0) this.copy(buf, from, to);
    slab.fill(0, this.pos, this.pos + padLength);
    this.pos += padLength;
    return len;
  }

  /**
   * One HEADERS (§6.2) or PUSH_PROMISE (§6.6) frame carrying `fragment`
   * as given (END_HEADERS or not), with optional padding and priority.
   */
  headersFrame(
    streamId: number,
    fragment: Uint8Array,
    opts: { endStream?: boolean; endHeaders?: boolean; padLength?: number; priority?: PriorityFields | null; promisedStreamId?: number } = {},
  ): number {
    const promised = opts.promisedStreamId !== undefined;
    const type = promised ? FrameType.PUSH_PROMISE : FrameType.HEADERS;
    const pad = opts.padLength ?? -1;
    if (pad > 255) throw invalidArgument(`padLength must be 0..255, got ${pad}`);
    const prio = !promised && opts.priority ? opts.priority : null;
    const fixed = (pad >= 0 ? 1 : 0) + (prio ? 5 : 0) + (promised ? 4 : 0);
    const len = fixed + fragment.length + Math.max(0, pad);
    const flags =
      (!promised && opts.endStream ? Flag.END_STREAM : 0) |
      (opts.endHeaders === false ? 0 : Flag.END_HEADERS) |
      (pad >= 0 ? Flag.PADDED : 0) |
      (prio ? Flag.PRIORITY : 0);
    const slab = this.header(len, type, flags, streamId, len);
    if (pad >= 0) slab[this.pos++] = pad;
    if (prio) this.priorityFields(slab, prio);
    if (promised) {
      writeUint32(slab, this.pos, opts.promisedStreamId! & 0x7fffffff);
      this.pos += 4;
    }
    this.copy(fragment);
    if (pad > 0) {
      slab.fill(0, this.pos, this.pos + pad);
      this.pos += pad;
    }
    return flags;
  }

  /**
   * A whole field block (§4.3) as HEADERS or PUSH_PROMISE (`promisedStreamId`
   * > 0) plus CONTINUATIONs, each within `maxFrameSize`. Padding (`pad`
   * octets, the Pad Length field included; 0 for none) goes on the first
   * frame only: CONTINUATION has none (§6.10); so does `priority` (HEADERS
   * only, §6.2). `written` sees each frame.
   */
  fieldBlock(
    streamId: number,
    promisedStreamId: number,
    block: Uint8Array,
    endStream: boolean,
    pad: number,
    maxFrameSize: number,
    written?: WrittenFrame,
    priority: PriorityFields | null = null,
  ): void {
    const prefix = promisedStreamId > 0 ? 4 : priority !== null ? 5 : 0;
    const type = promisedStreamId > 0 ? FrameType.PUSH_PROMISE : FrameType.HEADERS;
    const max = maxFrameSize - prefix - pad;
    const first = Math.min(block.length, max);
    const flags =
      (endStream ? Flag.END_STREAM : 0) | (first === block.length ? Flag.END_HEADERS : 0) | (pad ? Flag.PADDED : 0) | (prefix === 5 ? Flag.PRIORITY : 0);
    const length = pad + prefix + first;
    const slab = this.header(length, type, flags, streamId, length);
    if (pad) slab[this.pos++] = pad - 1;
    if (prefix === 4) {
      writeUint32(slab, this.pos, promisedStreamId);
      this.pos += 4;
    } else if (prefix === 5) {
      this.priorityFields(slab, priority!);
    }
    this.copy(block, 0, first);
    if (pad > 1) {
      slab.fill(0, this.pos, this.pos + pad - 1);
      this.pos += pad - 1;
    }
    written?.(type, flags, length);
    for (let o = first; o < block.length; o += max + pad) {
      const n = Math.min(max + pad, block.length - o);
      const f = o + n === block.length ? Flag.END_HEADERS : 0;
      this.frame(FrameType.CONTINUATION, f, streamId, block, o, o + n);
      written?.(FrameType.CONTINUATION, f, n);
    }
  }

  /** CONTINUATION (§6.10). */
  continuation(streamId: number, fragment: Uint8Array, endHeaders = true): void {
    this.frame(FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, streamId, fragment);
  }

  /** PRIORITY (§6.3). */
  priority(streamId: number, p: PriorityFields): void {
    const slab = this.header(5, FrameType.PRIORITY, 0, streamId, 5);
    this.priorityFields(slab, p);
  }

  private priorityFields(slab: Uint8Array, p: PriorityFields): void {
    if (!(p.weight >= 1 && p.weight <= 256)) throw invalidArgument(`weight must be 1..256, got ${p.weight}`);
    writeUint32(slab, this.pos, (p.dependency & 0x7fffffff) | (p.exclusive ? 0x80000000 : 0));
    slab[this.pos + 4] = p.weight - 1;
    this.pos += 5;
  }

  /** RST_STREAM (§6.4). */
  rstStream(streamId: number, errorCode: number): void {
    const slab = this.header(4, FrameType.RST_STREAM, 0, streamId, 4);
    writeUint32(slab, this.pos, errorCode);
    this.pos += 4;
  }

  /** SETTINGS (§6.5): the entries in order, or an ACK (no entries). */
  settings(entries: ReadonlyArray<readonly [number, number]>, ack = false): void {
    const len = entries.length * 6;
    const slab = this.header(len, FrameType.SETTINGS, ack ? Flag.ACK : 0, 0, len);
    let o = this.pos;
    for (const [id, v] of entries) {
      slab[o] = id >>> 8;
      slab[o + 1] = id;
      writeUint32(slab, o + 2, v);
      o += 6;
    }
    this.pos = o;
  }

  /** PING (§6.7). */
  ping(opaque: Uint8Array, ack = false): void {
    if (opaque.length !== 8) throw invalidArgument('PING opaque data must be 8 octets');
    this.frame(FrameType.PING, ack ? Flag.ACK : 0, 0, opaque);
  }

  /** GOAWAY (§6.8). */
  goaway(lastStreamId: number, errorCode: number, debugData: Uint8Array = EMPTY): void {
    const len = 8 + debugData.length;
    const slab = this.header(len, FrameType.GOAWAY, 0, 0, len);
    writeUint32(slab, this.pos, lastStreamId & 0x7fffffff);
    writeUint32(slab, this.pos + 4, errorCode);
    this.pos += 8;
    this.copy(debugData);
  }

  /** WINDOW_UPDATE (§6.9). */
  windowUpdate(streamId: number, increment: number): void {
    const slab = this.header(4, FrameType.WINDOW_UPDATE, 0, streamId, 4);
    writeUint32(slab, this.pos, increment & 0x7fffffff);
    this.pos += 4;
  }

  // ---- handing frames out ------------------------------------------------------

  private seal(): void {
    if (this.pos > this.start) {
      this.chunks.push(this.slab.subarray(this.start, this.pos));
      this.chunkBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }

  /** Everything written since the last call, in order; null when nothing was. */
  take(): Uint8Array[] | null {
    this.seal();
    if (this.chunks.length === 0) return null;
    const out = this.chunks;
    this.chunks = [];
    this.chunkBytes = 0;
    this.frames = 0;
    this.spareTaken = true;
    // Keep writing after the handed-out region; a nearly full slab is retired now (the next write finds a slab).
    if (this.slab.length - this.pos < 1024 && this.slab !== EMPTY) {
      if (this.consumed !== null) this.spare = this.slab; // reusable only when the owner can tell
      this.slab = EMPTY;
    }
    return out;
  }

  /** A slab with room for `n` octets in place of the current one (whose regions are sealed). */
  private replaceSlab(n: number): void {
    const spare = this.spare;
    const old = this.slab;
    if (spare !== null && this.spareTaken && spare.length >= n && this.consumed?.() === true) {
      this.spare = null;
      this.slab = spare;
    } else {
      // Pooled slabs are for connection writers (an owner that gives them back); one-off writers get their own.
      this.slab = this.slabSize === 0 && this.consumed !== null ? newSlab(n) : allocSlab(Math.max(this.slabSize || SLAB_SIZE, n));
    }
    if (old !== EMPTY && this.consumed !== null) {
      this.spare = old;
      this.spareTaken = this.chunks.length === 0;
    }
    this.start = 0;
    this.pos = 0;
  }

  /** Everything written since the last take(), as one array (for tests and tools). */
  bytes(): Uint8Array {
    const chunks = this.take();
    if (chunks === null) return new Uint8Array(0);
    if (chunks.length === 1) return chunks[0]!.slice();
    let n = 0;
    for (const c of chunks) n += c.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }

  /**
   * Everything taken so far has been consumed (the transport copied or sent
   * it): the next frames are written from the start of the slab again, which
   * keeps one warm slab instead of filling new ones.
   */
  rewind(): void {
    if (this.chunks.length === 0 && this.pos === this.start) this.start = this.pos = 0;
  }

  /**
   * Everything taken has been consumed and the connection is idle: give the
   * slab back (a lazily allocating writer gets a new one on the next write).
   */
  release(): void {
    if (this.slabSize === 0 && this.chunks.length === 0 && this.pos === this.start) {
      // Into the pool only when the owner can tell that nothing reads the regions any more.
      if (this.consumed?.() === true) {
        poolSlab(this.slab);
        poolSlab(this.spare);
      }
      this.slab = EMPTY;
      this.spare = null;
      this.start = this.pos = 0;
    }
  }

  /** Drops whatever has not been taken (on a fatal error). */
  discard(): void {
    this.chunks = [];
    this.chunkBytes = 0;
    this.frames = 0;
    this.start = this.pos;
  }
}

// ---- one frame as an array: for tests, tools and cold paths ------------------

function one(write: (w: FrameWriter) => void): Uint8Array {
  const w = new FrameWriter(0);
  write(w);
  return w.bytes();
}

/** Any frame from raw parts: also the way to craft invalid frames in tests. */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Uint8Array = EMPTY): Uint8Array {
  // Copied even when large: the caller owns the result.
  return one((w) => {
    const slab = w.header(payload.length, type, flags, streamId, payload.length);
    slab.set(payload, w.pos);
    w.pos += payload.length;
  });
}

export function encodeData(streamId: number, data: Uint8Array, opts: { endStream?: boolean; padLength?: number } = {}): Uint8Array {
  const pad = opts.padLength ?? -1;
  if (pad > 255 || (opts.padLength !== undefined && !(pad >= 0))) throw invalidArgument(`padLength must be 0..255, got ${opts.padLength}`);
  return one((w) => {
    const len = data.length + (pad >= 0 ? 1 + pad : 0);
    const slab = w.header(len, FrameType.DATA, (opts.endStream ? Flag.END_STREAM : 0) | (pad >= 0 ? Flag.PADDED : 0), streamId, len);
    if (pad >= 0) slab[w.pos++] = pad;
    w.copy(data);
    if (pad > 0) {
      slab.fill(0, w.pos, w.pos + pad);
      w.pos += pad;
    }
  });
}

export function encodeHeaders(
  streamId: number,
  fragment: Uint8Array,
  opts: { endStream?: boolean; endHeaders?: boolean; padLength?: number; priority?: PriorityFields } = {},
): Uint8Array {
  if (opts.padLength !== undefined && !(opts.padLength >= 0 && opts.padLength <= 255)) throw invalidArgument(`padLength must be 0..255, got ${opts.padLength}`);
  return one((w) => w.headersFrame(streamId, fragment, opts));
}

export function encodePriority(streamId: number, priority: PriorityFields): Uint8Array {
  return one((w) => w.priority(streamId, priority));
}

export function encodeRstStream(streamId: number, errorCode: number): Uint8Array {
  return one((w) => w.rstStream(streamId, errorCode));
}

export function encodeSettings(settings: ReadonlyArray<readonly [number, number]> = [], ack = false): Uint8Array {
  return one((w) => w.settings(settings, ack));
}

export function encodePushPromise(
  streamId: number,
  promisedStreamId: number,
  fragment: Uint8Array,
  opts: { endHeaders?: boolean; padLength?: number } = {},
): Uint8Array {
  if (opts.padLength !== undefined && !(opts.padLength >= 0 && opts.padLength <= 255)) throw invalidArgument(`padLength must be 0..255, got ${opts.padLength}`);
  return one((w) => w.headersFrame(streamId, fragment, { ...opts, promisedStreamId }));
}

export function encodePing(opaque: Uint8Array, ack = false): Uint8Array {
  return one((w) => w.ping(opaque, ack));
}

export function encodeGoaway(lastStreamId: number, errorCode: number, debugData: Uint8Array = EMPTY): Uint8Array {
  return one((w) => w.goaway(lastStreamId, errorCode, debugData));
}

export function encodeWindowUpdate(streamId: number, increment: number): Uint8Array {
  return one((w) => w.windowUpdate(streamId, increment));
}

export function encodeContinuation(streamId: number, fragment: Uint8Array, endHeaders = true): Uint8Array {
  return one((w) => w.continuation(streamId, fragment, endHeaders));
}
