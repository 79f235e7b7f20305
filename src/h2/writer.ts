/**
 * Coalescing frame writer: frames are serialized into large slabs, and each
 * flush hands the transport the written regions in one batch (one write, or
 * one corked writev when large payloads are attached without copying). A
 * region handed out is not written again, so the transport may keep it,
 * unless the connection learns that it has been consumed (rewind()).
 */
import { FRAME_HEADER_LENGTH, writeFrameHeader } from './frame.js';

const SLAB_SIZE = 64 * 1024;
/** Payloads at least this large are attached by reference rather than copied. */
export const ZERO_COPY_THRESHOLD = 16 * 1024;

const allocSlab: (n: number) => Uint8Array =
  typeof (globalThis as { Buffer?: unknown }).Buffer === 'function'
    ? (n) => (globalThis as unknown as { Buffer: { allocUnsafeSlow(n: number): Uint8Array } }).Buffer.allocUnsafeSlow(n)
    : (n) => new Uint8Array(n);

export class FrameWriter {
  private slab: Uint8Array = allocSlab(SLAB_SIZE);
  /** Start of the region not yet handed out. */
  private start = 0;
  pos = 0;
  private chunks: Uint8Array[] = [];
  private chunkBytes = 0;
  /** Frames written since the last take(). */
  frames = 0;

  /** Octets waiting to be taken. */
  get pendingBytes(): number {
    return this.chunkBytes + this.pos - this.start;
  }

  /** Makes room for `n` octets at `pos`; returns the slab to write into. */
  reserve(n: number): Uint8Array {
    if (this.slab.length - this.pos < n) {
      this.seal();
      this.slab = allocSlab(Math.max(SLAB_SIZE, n));
      this.start = 0;
      this.pos = 0;
    }
    return this.slab;
  }

  /** Writes a frame header followed by nothing: the caller writes `length` payload octets next. */
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

  /** A whole frame: header plus payload, the payload copied or attached by reference. */
  frame(type: number, flags: number, streamId: number, payload: Uint8Array, from = 0, to = payload.length): void {
    const len = to - from;
    if (len >= ZERO_COPY_THRESHOLD) {
      this.header(len, type, flags, streamId, 0);
      this.seal();
      const view = from === 0 && to === payload.length ? payload : payload.subarray(from, to);
      this.chunks.push(view);
      this.chunkBytes += len;
      return;
    }
    this.header(len, type, flags, streamId, len);
    if (len > 0) this.copy(payload, from, to);
  }

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
    // Keep writing after the handed-out region; a nearly full slab is replaced now.
    if (this.slab.length - this.pos < 1024) {
      this.slab = allocSlab(SLAB_SIZE);
      this.start = 0;
      this.pos = 0;
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

  /** Drops whatever has not been taken (on a fatal error). */
  discard(): void {
    this.chunks = [];
    this.chunkBytes = 0;
    this.frames = 0;
    this.start = this.pos;
  }
}
