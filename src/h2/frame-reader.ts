/**
 * Octets to frames (RFC 9113 §3.4, §4.1, §4.2, §6.10): a byte-level state
 * machine over buffered chunks. It checks the client connection preface (on
 * the server), that the first frame is SETTINGS (§3.4), and each frame's
 * length against SETTINGS_MAX_FRAME_SIZE before buffering its payload, so
 * memory stays bounded; then it hands each whole frame up. What frames mean
 * is the endpoint's business.
 */
import {
  CONNECTION_PREFACE,
  ErrorCode,
  Flag,
  FRAME_HEADER_LENGTH as FRAME_HEADER_LENGTH_IMPORT,
  type FrameHeader,
  FrameType,
  readUint31 as readUint31Import,
} from './frame.js';

// The imports used per frame as module constants: V8 embeds a constant, where it loads and checks an import at every use.
const FRAME_HEADER_LENGTH = FRAME_HEADER_LENGTH_IMPORT;
const readUint31 = readUint31Import;

const EMPTY = new Uint8Array(0);
const EMPTY_BUFFER = new ArrayBuffer(0);

/** What the reader reports to its owner. */
export interface FrameSink {
  /** A whole frame. `h` is reused and `payload` is a view: both are valid during the call only. */
  frame(h: FrameHeader, payload: Uint8Array): void;
  /** The peer broke the framing rules: a connection error (§5.4.1). The reader has stopped. */
  framingError(code: number, message: string): void;
  /**
   * An octet differed from the connection preface at `pos` (0-based): true
   * to divert the input (what came so far, from the first octet, and all
   * that follows) to `diverted()`, false for a connection error.
   */
  prefaceMismatch?(pos: number, octet: number): boolean;
  /** The first four octets of the preface ("PRI ") have arrived: the peer is not speaking HTTP/1.x. */
  prefaceStarted?(): void;
  /** Input while diverted. */
  diverted?(chunk: Uint8Array): void;
}

const PREFACE = 0; // reading the 24 octets of the client preface (§3.4)
const HEADER = 1; // reading a 9-octet frame header
const PAYLOAD = 2; // reading the payload of the frame whose header is in `h`
const DIVERTED = 3; // input goes to sink.diverted()
const CLOSED = 4;

export class FrameReader {
  private state: number;
  private prefacePos = 0;
  /** The next frame is the peer's first: it must be SETTINGS (§3.4). */
  private first = true;
  private chunks: Uint8Array[] = [];
  private chunkHead = 0;
  /**
   * chunks[0]'s ArrayBuffer and byteOffset, read once per chunk: TurboFan leaves `buffer` a generic
   * load that calls into the runtime, and a chunk from the socket holds many frames.
   */
  private headBuffer: ArrayBufferLike = EMPTY_BUFFER;
  private headOffset = 0;
  /** Octets buffered and not yet consumed. */
  buffered = 0;
  /** The header of the frame being received (reused). */
  private readonly h: FrameHeader = { length: 0, type: 0, flags: 0, streamId: 0 };

  /**
   * `preface`: expect the client connection preface first (a server).
   * `maxFrameSize`: the largest payload accepted (our SETTINGS_MAX_FRAME_SIZE).
   * `firstSettings` false skips the §3.4 first-frame check (test tools).
   */
  constructor(
    private readonly sink: FrameSink,
    preface: boolean,
    public maxFrameSize: number,
    private readonly firstSettings = true,
  ) {
    this.state = preface ? PREFACE : HEADER;
  }

  /** True while part of a frame (or of the preface, or diverted input) is outstanding. */
  get midFrame(): boolean {
    return this.buffered > 0 || this.state === PAYLOAD || this.state === PREFACE || this.state === DIVERTED;
  }

  get closed(): boolean {
    return this.state === CLOSED;
  }

  /** Stops reading and drops what is buffered. */
  close(): void {
    this.state = CLOSED;
    this.chunks = [];
    this.chunkHead = 0;
    this.headBuffer = EMPTY_BUFFER;
    this.buffered = 0;
  }

  /** Sends the input to sink.diverted() from now on (e.g. an HTTP/1.1 response head before h2c frames). */
  divert(): void {
    this.state = DIVERTED;
  }

  /**
   * Ends a diversion: `rest` (octets that followed what the diverted reader
   * consumed) and later input are read as HTTP/2 again, starting with the
   * client preface when `preface`.
   */
  resume(rest: Uint8Array, preface: boolean): number {
    if (this.state !== DIVERTED) return 0;
    this.state = preface ? PREFACE : HEADER;
    this.prefacePos = 0;
    return rest.length > 0 ? this.push(rest) : 0;
  }

  /** Feeds octets; returns the number of frames handed up. The chunk may be kept until consumed. */
  push(chunk: Uint8Array): number {
    if (this.state === CLOSED || chunk.length === 0) return 0;
    if (this.state === DIVERTED) {
      this.sink.diverted?.(chunk);
      return 0;
    }
    if (this.chunks.length === 0) {
      this.headBuffer = chunk.buffer;
      this.headOffset = chunk.byteOffset;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    return this.parse();
  }

  /** Drops chunks[0], all of it consumed. */
  private shiftChunk(): void {
    const chunks = this.chunks;
    chunks.shift();
    this.chunkHead = 0;
    if (chunks.length > 0) {
      const next = chunks[0]!;
      this.headBuffer = next.buffer;
      this.headOffset = next.byteOffset;
    } else {
      this.headBuffer = EMPTY_BUFFER; // an idle connection keeps no read buffer alive
    }
  }

  private take(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    const c = this.chunks[0]!;
    const h = this.chunkHead;
    this.buffered -= n;
    if (c.length - h >= n) {
      // A view made by the constructor: subarray() would look up the species constructor (a Buffer's is slower still).
      const out = new Uint8Array(this.headBuffer, this.headOffset + h, n);
      if (h + n === c.length) this.shiftChunk();
      else this.chunkHead = h + n;
      return out;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const d = this.chunks[0]!;
      const k = Math.min(d.length - this.chunkHead, n - o);
      out.set(d.subarray(this.chunkHead, this.chunkHead + k), o);
      o += k;
      this.chunkHead += k;
      if (this.chunkHead === d.length) this.shiftChunk();
    }
    return out;
  }

  /** Everything buffered, as one array (for a diversion). */
  private takeAll(): Uint8Array {
    return this.take(this.buffered);
  }

  private fail(code: number, message: string): number {
    this.close();
    this.sink.framingError(code, message);
    return 0;
  }

  private parse(): number {
    let frames = 0;
    while (true) {
      switch (this.state) {
        case PREFACE: {
          // §3.4: compared as octets arrive, so that e.g. an HTTP/1.1 request is told apart at once.
          while (this.prefacePos < CONNECTION_PREFACE.length && this.buffered > 0) {
            const c = this.chunks[0]!;
            const b = c[this.chunkHead]!;
            if (b !== CONNECTION_PREFACE[this.prefacePos]) {
              if (this.sink.prefaceMismatch?.(this.prefacePos, b)) {
                const seen = CONNECTION_PREFACE.subarray(0, this.prefacePos);
                const rest = this.takeAll();
                this.state = DIVERTED;
                const all = new Uint8Array(seen.length + rest.length);
                all.set(seen);
                all.set(rest, seen.length);
                this.sink.diverted?.(all);
                return frames;
              }
              return this.fail(ErrorCode.PROTOCOL_ERROR, 'invalid connection preface (§3.4)');
            }
            this.take(1);
            this.prefacePos++;
            if (this.prefacePos === 4) this.sink.prefaceStarted?.();
            if ((this.state as number) !== PREFACE) return frames;
          }
          if (this.prefacePos < CONNECTION_PREFACE.length) return frames;
          this.state = HEADER;
          break;
        }
        case HEADER: {
          if (this.buffered < FRAME_HEADER_LENGTH) return frames;
          let b = this.chunks[0]!;
          let o = this.chunkHead;
          if (b.length - o >= FRAME_HEADER_LENGTH) {
            this.chunkHead += FRAME_HEADER_LENGTH;
            this.buffered -= FRAME_HEADER_LENGTH;
            if (this.chunkHead === b.length) this.shiftChunk();
          } else {
            b = this.take(FRAME_HEADER_LENGTH);
            o = 0;
          }
          const h = this.h;
          h.length = (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
          h.type = b[o + 3]!;
          h.flags = b[o + 4]!;
          h.streamId = readUint31(b, o + 5);
          if (this.first && this.firstSettings) {
            if (h.type !== FrameType.SETTINGS || (h.flags & Flag.ACK) !== 0) {
              return this.fail(ErrorCode.PROTOCOL_ERROR, 'the connection preface must begin with a SETTINGS frame (§3.4)');
            }
          }
          this.first = false;
          if (h.length > this.maxFrameSize) {
            // §4.2: checked before buffering the payload, so memory stays bounded.
            return this.fail(ErrorCode.FRAME_SIZE_ERROR, `frame of ${h.length} octets exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize} (§4.2)`);
          }
          this.state = PAYLOAD;
          break;
        }
        case PAYLOAD: {
          if (this.buffered < this.h.length) return frames;
          const payload = this.take(this.h.length);
          this.state = HEADER;
          frames++;
          this.sink.frame(this.h, payload);
          break;
        }
        default:
          return frames;
      }
    }
  }
}
