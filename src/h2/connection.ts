/**
 * The server side of one HTTP/2 connection (RFC 9113), independent of the
 * transport: bytes go in through receive(), frames come out through a
 * Transport. The receiver is a byte-level state machine over buffered chunks
 * (preface, frame header, payload); the sender coalesces every frame of a
 * tick into one write and stops producing DATA while the transport is full.
 *
 * Errors are values: a connection error becomes GOAWAY with its RFC code and
 * the close of the transport (§5.4.1), a stream error an RST_STREAM (§5.4.2).
 */
import { Deflater, HpackError, Inflater, type HeaderInput } from '../hpack/index.js';
import { ENTRY_OVERHEAD } from '../hpack/static-table.js';
import {
  CONNECTION_PREFACE,
  DEFAULT_HEADER_TABLE_SIZE,
  DEFAULT_INITIAL_WINDOW_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  Flag,
  FRAME_HEADER_LENGTH,
  FrameType,
  H2Error,
  MAX_WINDOW_SIZE,
  parseContinuation,
  parseData,
  parseGoaway,
  parseHeaders,
  parsePing,
  parsePriority,
  parsePushPromise,
  parseRstStream,
  parseSettings,
  parseWindowUpdate,
  readUint31,
  SettingId,
  writeUint32,
  type FrameHeader,
  type PriorityFields,
} from './frame.js';
import { resolveLimits, resolveSettings, TokenBucket, type Limits, type LocalSettings } from './limits.js';
import type { FrameEvent, FrameObserver } from './observer.js';
import { validateRequest, validateTrailers } from './request.js';
import { promiseFields, responseFields, trailerFields, type HeadersInit } from './response.js';
import {
  BODY_BYTES,
  BODY_NONE,
  BODY_PRODUCER,
  BODY_READABLE,
  ServerStream,
  type BodyProducer,
  type PushOptions,
  type ResponseBody,
} from './server-stream.js';
import { StreamEvent, StreamState, transition } from './stream.js';
import { http1HeadEnd, http1Response, MAX_HTTP1_HEAD, parseHttp1Request, SWITCHING_PROTOCOLS } from './upgrade.js';
import { FrameWriter } from './writer.js';
import type { Readable } from 'node:stream';

/** Where the connection's octets go. */
export interface Transport {
  /** Writes the chunks in order (as one batch when possible). */
  write(chunks: Uint8Array[]): void;
  /** Octets written but not yet handed to the network. */
  readonly bufferedAmount: number;
  /**
   * True when, once bufferedAmount is 0, the transport keeps no reference to
   * the chunks it was given (a Node socket: the kernel, or TLS, has copied
   * them). The connection then writes its next frames over the same memory
   * instead of new memory. Leave it unset for a transport that may hold on
   * to chunks (e.g. one that passes them to a reader).
   */
  readonly releasesWritten?: boolean;
  /** Closes the sending side once everything written has gone out. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
}

/** How a connection ended. */
export interface ConnectionCloseInfo {
  connectionId: number;
  remoteAddress: string;
  remotePort: number;
  /** The connection error we sent in GOAWAY, or null when it closed without one. */
  error: H2Error | null;
  /** Why it closed, in words. */
  reason: string;
  /**
   * The client sent an HTTP/1.x request instead of the preface and was
   * answered in HTTP/1.1 with this status (505 when it was not an h2c
   * upgrade, 400, 408, 431 or 503); null otherwise.
   */
  http1Status: number | null;
}

/** An HTTP/1.1 request upgraded the connection to h2c (RFC 7540 §3.2) and became stream 1. */
export interface UpgradeInfo {
  connectionId: number;
  method: string;
  target: string;
  /** The client's settings, from its HTTP2-Settings field. */
  settings: Array<[number, number]>;
}

export interface ConnectionOptions {
  /** Called for every request, when its header section has been received and validated. */
  onStream: (stream: ServerStream) => void;
  id?: number;
  remoteAddress?: string;
  remotePort?: number;
  settings?: Partial<LocalSettings>;
  limits?: Partial<Limits>;
  onFrame?: FrameObserver | null;
  /** A handler or listener threw; the stream (if any) has been reset with INTERNAL_ERROR. */
  onError?: (error: unknown, stream: ServerStream | null) => void;
  onClose?: (info: ConnectionCloseInfo) => void;
  /**
   * Padding (§6.1, §6.2, §6.6): up to this many octets (the Pad Length field
   * included, at most 256) are added to every DATA, HEADERS and PUSH_PROMISE
   * frame, within the peer's frame size and flow-control windows, as
   * nghttpd's -b does. Default 0 (no padding).
   */
  padding?: number;
  /**
   * The HPACK encoder's own dynamic table limit (nghttpd's
   * --encoder-header-table-size); the table used is the smaller of this and
   * the peer's SETTINGS_HEADER_TABLE_SIZE. Default 4096.
   */
  encoderTableSize?: number;
  /**
   * Answer a client that sends an HTTP/1.x request instead of the preface
   * with an HTTP/1.1 505 it can show (the h2c port of a server). The server
   * preface then waits until the client's first four octets rule HTTP/1.x
   * out, or for PREFACE_GRACE ms of silence, so that the 505 is not preceded
   * by a binary frame. Default false: the preface is sent at once, as after
   * TLS has negotiated ALPN h2.
   */
  answerHttp1?: boolean;
  /** With answerHttp1: an HTTP/1.1 request upgraded the connection to h2c. */
  onUpgrade?: (info: UpgradeInfo) => void;
}

/**
 * How long (ms) an h2c connection holds the server preface for the client's
 * first octets. Clients send their preface without waiting for ours (§3.4),
 * so this only delays a client that waits, and only this once.
 */
export const PREFACE_GRACE = 100;

// Receiver states.
const R_PREFACE = 0; // reading the 24 octets of the client preface (§3.4)
const R_FIRST = 1; // the next frame must be SETTINGS (§3.4)
const R_HEADER = 2; // reading a 9-octet frame header
const R_PAYLOAD = 3; // reading the payload of the frame whose header is in `fh`
const R_CLOSED = 4;
const R_HTTP1 = 5; // reading an HTTP/1.1 request head that came instead of the preface (h2c port)

const EMPTY = new Uint8Array(0);
/** Octets of DATA produced per pump before handing them to the transport. */
const PUMP_BUDGET = 256 * 1024;
/** Pump-and-write rounds per tick before yielding to other connections. */
const MAX_ROUNDS = 4;
const { PROTOCOL_ERROR, FLOW_CONTROL_ERROR, ENHANCE_YOUR_CALM, NO_ERROR } = ErrorCode;
const utf8 = new TextEncoder();

function isReadable(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as Readable).read === 'function' && typeof (v as Readable).on === 'function';
}

export class Connection {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly transport: Transport;
  private readonly onStream: (stream: ServerStream) => void;
  private readonly onFrame: FrameObserver | null;
  private readonly onErrorCb: ((error: unknown, stream: ServerStream | null) => void) | null;
  private readonly onCloseCb: ((info: ConnectionCloseInfo) => void) | null;
  readonly settings: LocalSettings;
  readonly limits: Limits;

  // ---- receiver
  private rstate = R_PREFACE;
  private prefacePos = 0;
  private prefaceSent = false;
  private readonly answerHttp1Requests: boolean;
  private prefaceTimer: ReturnType<typeof setTimeout> | null = null;
  /** The HTTP/1.1 status an HTTP/1.x client was answered with (see answerHttp1). */
  private http1Status: number | null = null;
  /** The HTTP/1.1 request head being read in R_HTTP1, and how far it has been searched for its end. */
  private http1Head: Uint8Array = EMPTY;
  private http1Len = 0;
  private http1Scanned = 0;
  private readonly onUpgradeCb: ((info: UpgradeInfo) => void) | null;
  private chunks: Uint8Array[] = [];
  private chunkHead = 0;
  private buffered = 0;
  /** The header of the frame being received (reused; copy it to keep it). */
  private readonly fh: FrameHeader = { length: 0, type: 0, flags: 0, streamId: 0 };
  private inReceive = false;

  // ---- header block being assembled (HEADERS + CONTINUATION, §6.10)
  private hbStream = 0;
  private hbFlags = 0;
  private hbPriority: PriorityFields | null = null;
  private hbBuf: Uint8Array = EMPTY;
  private hbLen = 0;
  private hbStartedAt = 0;

  // ---- streams
  private readonly streams = new Map<number, ServerStream>();
  /** Recently closed streams and how they closed, oldest first (bounded). */
  private readonly recent = new Map<number, StreamState>();
  private readonly recentCap: number;
  /** Highest stream id the client opened (§5.1.1); also GOAWAY's Last-Stream-ID. */
  private lastPeerStreamId = 0;
  /** Client-initiated streams that count toward MAX_CONCURRENT_STREAMS (§5.1.2). */
  private activeClientStreams = 0;
  private activePushes = 0;
  private nextPushId = 2;

  // ---- settings
  private peerEnablePush = true;
  private peerMaxConcurrentStreams = Infinity;
  private peerInitialWindow = DEFAULT_INITIAL_WINDOW_SIZE;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  /** SETTINGS we sent that the peer has not acknowledged, oldest first (§6.5.3). */
  private readonly pendingAcks: Array<{ entries: Array<[number, number]>; at: number }> = [];
  /** The initial stream window we enforce for request bodies. */
  private recvInitialWindow = DEFAULT_INITIAL_WINDOW_SIZE;
  /** The largest frame we accept. */
  private recvMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;

  // ---- flow control (§6.9)
  /** The peer's window for our DATA on the connection. */
  private sendWindow = DEFAULT_INITIAL_WINDOW_SIZE;
  /** Our window for the peer's DATA on the connection. */
  private recvWindow = DEFAULT_INITIAL_WINDOW_SIZE;
  private recvUnacked = 0;

  // ---- output
  private readonly writer = new FrameWriter();
  private readonly deflater: Deflater;
  private readonly inflater: Inflater;
  /** Maximum padding per frame, Pad Length field included (0: none). */
  private readonly padding: number;
  private readonly sendQueue: Array<ServerStream | undefined> = [];
  private sendHead = 0;
  /** Streams with DATA that wait for the connection window. */
  private connWaiters: ServerStream[] = [];
  private blocked = false;
  private flushScheduled = false;
  private immediateScheduled = false;

  // ---- lifecycle
  private goawaySent = false;
  private goawayLastId = 0;
  private peerGoaway = false;
  private dead = false;
  private transportClosed = false;
  private closeError: H2Error | null = null;
  private closeReason = '';
  private closeNotified = false;
  private lingerTimer: ReturnType<typeof setTimeout> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly createdAt: number;
  private lastActivity: number;
  private partialSince = 0;
  /** Since when DATA has been waiting on a full transport or a closed window (0: not stalled). */
  private stallSince = 0;
  private readonly rapidReset: TokenBucket;
  private readonly zeroProgress: TokenBucket;

  constructor(transport: Transport, options: ConnectionOptions) {
    this.transport = transport;
    this.onStream = options.onStream;
    this.id = options.id ?? 1;
    this.remoteAddress = options.remoteAddress ?? '';
    this.remotePort = options.remotePort ?? 0;
    this.onFrame = options.onFrame ?? null;
    this.onErrorCb = options.onError ?? null;
    this.onCloseCb = options.onClose ?? null;
    this.onUpgradeCb = options.onUpgrade ?? null;
    this.settings = resolveSettings(options.settings);
    this.limits = resolveLimits(options.limits);
    this.inflater = new Inflater({ maxHeaderListSize: this.settings.maxHeaderListSize });
    this.deflater = new Deflater(options.encoderTableSize ?? 4096);
    this.padding = Math.max(0, Math.min(256, Math.floor(options.padding ?? 0)));
    this.recentCap = Math.max(256, Math.min(4096, this.settings.maxConcurrentStreams * 2));
    const now = Date.now();
    this.createdAt = now;
    this.lastActivity = now;
    this.rapidReset = new TokenBucket(this.limits.rapidResetBurst, this.limits.rapidResetRate, now);
    this.zeroProgress = new TokenBucket(this.limits.zeroProgressBurst, this.limits.zeroProgressRate, now);
    // The server preface (§3.4) goes out at once, or on an h2c port once the client's first
    // octets show it is not speaking HTTP/1.x (see answerHttp1 and PREFACE_GRACE).
    this.answerHttp1Requests = options.answerHttp1 ?? false;
    if (this.answerHttp1Requests) {
      this.prefaceTimer = setTimeout(() => {
        this.prefaceTimer = null;
        if (this.dead || this.transportClosed) return;
        this.sendPreface();
        this.scheduleFlush();
      }, PREFACE_GRACE);
      (this.prefaceTimer as { unref?: () => void }).unref?.();
    } else {
      this.sendPreface();
      this.scheduleFlush();
    }
    const L = this.limits;
    const timeouts = [L.handshakeTimeout, L.settingsTimeout, L.frameTimeout, L.idleTimeout, L.sendTimeout].filter((t) => t > 0);
    if (timeouts.length) {
      const period = Math.max(10, Math.min(1000, Math.min(...timeouts) / 4));
      this.timer = setInterval(this.tick, period);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Number of open streams (both directions). */
  get streamCount(): number {
    return this.streams.size;
  }

  /**
   * What this connection holds in memory now: received octets not yet parsed,
   * an unfinished header block, frames queued for a transport that is not
   * taking them, request bodies held for the handler, open streams.
   */
  get stats(): { receiveBuffered: number; headerBlock: number; queuedBytes: number; queuedFrames: number; heldBody: number; streams: number } {
    let held = 0;
    for (const s of this.streams.values()) held += s.heldBytes;
    return {
      receiveBuffered: this.buffered,
      headerBlock: this.hbLen,
      queuedBytes: this.writer.pendingBytes,
      queuedFrames: this.writer.frames,
      heldBody: held,
      streams: this.streams.size,
    };
  }

  /** True once the connection has ended or is ending because of an error. */
  get closed(): boolean {
    return this.dead || this.transportClosed;
  }

  // ==== input ===================================================================

  /** Feeds octets received from the transport. */
  receive(chunk: Uint8Array): void {
    if (this.rstate === R_CLOSED || chunk.length === 0) return;
    const now = Date.now();
    this.lastActivity = now;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.inReceive = true;
    let frames = 0;
    try {
      frames = this.parse();
    } finally {
      this.inReceive = false;
    }
    if (this.buffered > 0 || this.rstate === R_PAYLOAD || this.rstate === R_PREFACE || this.rstate === R_HTTP1) {
      if (this.partialSince === 0 || frames > 0) this.partialSince = now;
    } else {
      this.partialSince = 0;
    }
    this.flush();
  }

  /** The transport can take more octets. */
  onDrain(): void {
    if (!this.blocked) return;
    this.blocked = false;
    this.stallSince = 0;
    this.flush();
  }

  /** The transport closed (peer gone, or after our end()). */
  onTransportClose(reason = 'transport closed'): void {
    if (this.transportClosed) return;
    this.transportClosed = true;
    this.rstate = R_CLOSED;
    if (!this.closeReason) this.closeReason = reason;
    this.stopTimers();
    const code = this.closeError?.code ?? ErrorCode.CANCEL;
    for (const s of [...this.streams.values()]) this.abortStream(s, code);
    this.chunks = [];
    this.buffered = 0;
    this.notifyClose();
  }

  private take(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    const c = this.chunks[0]!;
    const h = this.chunkHead;
    this.buffered -= n;
    if (c.length - h >= n) {
      const out = c.subarray(h, h + n);
      if (h + n === c.length) {
        this.chunks.shift();
        this.chunkHead = 0;
      } else this.chunkHead = h + n;
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
      if (this.chunkHead === d.length) {
        this.chunks.shift();
        this.chunkHead = 0;
      }
    }
    return out;
  }

  /** Runs the receiver state machine over the buffered octets; returns the frames completed. */
  private parse(): number {
    let frames = 0;
    while (true) {
      switch (this.rstate) {
        case R_PREFACE: {
          // §3.4: compare as octets arrive, so that e.g. an HTTP/1.1 request fails at once.
          while (this.prefacePos < CONNECTION_PREFACE.length && this.buffered > 0) {
            const b = this.take(1)[0]!;
            if (b !== CONNECTION_PREFACE[this.prefacePos]) {
              // "GET ", "POST", "PUT " ...: an uppercase method token where "PRI " was expected.
              if (this.answerHttp1Requests && !this.prefaceSent && this.prefacePos <= 3 && b >= 0x41 && b <= 0x5a) {
                this.startHttp1(b);
                break;
              }
              this.connectionError(PROTOCOL_ERROR, 'invalid connection preface (§3.4)');
              return frames;
            }
            this.prefacePos++;
            // "PRI " cannot start an HTTP/1.x request line ("PROPFIND" diverges at its third octet).
            if (this.prefacePos === 4 && !this.prefaceSent) this.sendPreface();
          }
          if ((this.rstate as number) === R_HTTP1) break; // startHttp1() switched states
          if (this.prefacePos < CONNECTION_PREFACE.length) return frames;
          this.sendPreface();
          this.rstate = R_FIRST;
          break;
        }
        case R_FIRST:
        case R_HEADER: {
          if (this.buffered < FRAME_HEADER_LENGTH) return frames;
          let b = this.chunks[0]!;
          let o = this.chunkHead;
          if (b.length - o >= FRAME_HEADER_LENGTH) {
            this.chunkHead += FRAME_HEADER_LENGTH;
            this.buffered -= FRAME_HEADER_LENGTH;
            if (this.chunkHead === b.length) {
              this.chunks.shift();
              this.chunkHead = 0;
            }
          } else {
            b = this.take(FRAME_HEADER_LENGTH);
            o = 0;
          }
          const h = this.fh;
          h.length = (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
          h.type = b[o + 3]!;
          h.flags = b[o + 4]!;
          h.streamId = readUint31(b, o + 5);
          if (this.rstate === R_FIRST && (h.type !== FrameType.SETTINGS || (h.flags & Flag.ACK) !== 0)) {
            this.connectionError(PROTOCOL_ERROR, 'the client preface must be followed by a SETTINGS frame (§3.4)');
            return frames;
          }
          if (h.length > this.recvMaxFrameSize) {
            // §4.2: checked before buffering the payload, so memory stays bounded.
            this.connectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${h.length} octets exceeds SETTINGS_MAX_FRAME_SIZE ${this.recvMaxFrameSize} (§4.2)`);
            return frames;
          }
          this.rstate = R_PAYLOAD;
          break;
        }
        case R_HTTP1: {
          const n = Math.min(MAX_HTTP1_HEAD - this.http1Len, this.buffered);
          if (n > 0) {
            this.http1Head.set(this.take(n), this.http1Len);
            this.http1Len += n;
          }
          const head = this.http1Head.subarray(0, this.http1Len);
          const end = http1HeadEnd(head, Math.max(0, this.http1Scanned - 3));
          if (end === -1) {
            this.http1Scanned = this.http1Len;
            if (this.http1Len >= MAX_HTTP1_HEAD) this.answerHttp1(431, `the request head exceeds ${MAX_HTTP1_HEAD} octets`);
            return frames;
          }
          // What follows the head (after an upgrade: the client's preface) goes back in the queue.
          if (end < head.length) {
            if (this.chunkHead > 0) {
              this.chunks[0] = this.chunks[0]!.subarray(this.chunkHead);
              this.chunkHead = 0;
            }
            this.chunks.unshift(head.slice(end));
            this.buffered += head.length - end;
          }
          this.http1Request(head.subarray(0, end));
          break;
        }
        case R_PAYLOAD: {
          if (this.buffered < this.fh.length) return frames;
          const payload = this.take(this.fh.length);
          this.rstate = R_HEADER;
          frames++;
          this.dispatch(payload);
          break;
        }
        default:
          return frames;
      }
    }
  }

  private dispatch(p: Uint8Array): void {
    const h = this.fh;
    if (this.hbStream !== 0 && h.type !== FrameType.CONTINUATION) {
      // §6.10 and §4.3: a field block is contiguous; §5.5: extension frames in it too.
      this.connectionError(PROTOCOL_ERROR, `${h.type <= 9 ? 'frame' : 'extension frame'} of type ${h.type} inside a header block on stream ${this.hbStream} (§6.10)`);
      return;
    }
    switch (h.type) {
      case FrameType.DATA:
        return this.onData(h, p);
      case FrameType.HEADERS:
        return this.onHeaders(h, p);
      case FrameType.PRIORITY:
        return this.onPriority(h, p);
      case FrameType.RST_STREAM:
        return this.onRstStream(h, p);
      case FrameType.SETTINGS:
        return this.onSettings(h, p);
      case FrameType.PUSH_PROMISE: {
        const f = parsePushPromise(h, p);
        if (f instanceof H2Error) return this.frameError(f);
        if (this.onFrame !== null) this.observeRecv(h, { padLength: f.padLength, promisedStreamId: f.promisedStreamId });
        // §8.4: a client cannot push.
        return this.connectionError(PROTOCOL_ERROR, 'PUSH_PROMISE from a client (§8.4)');
      }
      case FrameType.PING:
        return this.onPing(h, p);
      case FrameType.GOAWAY:
        return this.onGoaway(h, p);
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(h, p);
      case FrameType.CONTINUATION:
        return this.onContinuation(h, p);
      default:
        // §4.1, §5.5: unknown frame types are ignored.
        this.observeRecv(h, {});
        this.zeroProgressFrame();
        return;
    }
  }

  private frameError(e: H2Error): void {
    if (e.scope === 'connection') this.connectionError(e.code, e.message);
    else this.streamErrorById(e.streamId, e.code, e.message);
  }

  private observeRecv(h: FrameHeader, details: Partial<FrameEvent>): void {
    if (this.onFrame === null) return;
    this.onFrame({ connectionId: this.id, direction: 'recv', type: h.type, flags: h.flags, streamId: h.streamId, length: h.length, ...details });
  }

  /** True when `id` is in the idle state: never opened by the client, never promised by us (§5.1). */
  private isIdle(id: number): boolean {
    return (id & 1) === 1 ? id > this.lastPeerStreamId : id >= this.nextPushId;
  }

  /** The state of a stream that is not in the map: idle, or closed (remembered or forgotten). */
  private stateOfUnknown(id: number): StreamState {
    if (this.isIdle(id)) return StreamState.IDLE;
    return this.recent.get(id) ?? StreamState.CLOSED;
  }

  private zeroProgressFrame(): void {
    if (!this.zeroProgress.take(Date.now())) {
      this.connectionError(ENHANCE_YOUR_CALM, 'too many frames that make no progress');
    }
  }

  // ---- DATA (§6.1) ------------------------------------------------------------

  private onData(h: FrameHeader, p: Uint8Array): void {
    const f = parseData(h, p);
    if (f instanceof H2Error) return this.frameError(f);
    if (this.onFrame !== null) this.observeRecv(h, { padLength: f.padLength });
    const len = h.length;
    // §6.9: DATA counts against the connection window whatever the stream's state.
    if (len > this.recvWindow) {
      return this.connectionError(FLOW_CONTROL_ERROR, `DATA of ${len} octets exceeds the connection window ${this.recvWindow} (§6.9.1)`);
    }
    this.recvWindow -= len;
    const endStream = (f.flags & Flag.END_STREAM) !== 0;
    const s = this.streams.get(h.streamId);
    if (s === undefined) {
      const t = transition(this.stateOfUnknown(h.streamId), StreamEvent.RECV_DATA);
      this.creditConnection(len);
      if (t.action === 'connection-error') return this.connectionError(t.code, `DATA on idle stream ${h.streamId} (§5.1)`);
      if (t.action === 'stream-error') return this.streamErrorById(h.streamId, t.code, `DATA on closed stream ${h.streamId} (§6.1)`);
      return this.zeroProgressFrame(); // ignored: we reset that stream
    }
    const t = transition(s.state, StreamEvent.RECV_DATA);
    if (t.action !== 'ok') {
      this.creditConnection(len);
      if (t.action === 'connection-error') return this.connectionError(t.code, `DATA on stream ${h.streamId} in state ${s.state} (§5.1)`);
      if (t.action === 'stream-error') return this.resetStream(s, t.code, `DATA on half-closed (remote) stream ${h.streamId} (§5.1)`, true);
      return;
    }
    if (len > s.recvWindow) {
      this.creditConnection(len);
      return this.resetStream(s, FLOW_CONTROL_ERROR, `DATA of ${len} octets exceeds the stream window ${s.recvWindow} (§6.9.1)`, true);
    }
    s.recvWindow -= len;
    const data = f.data;
    if (len === 0 && !endStream) {
      this.zeroProgressFrame();
      if (this.dead) return;
    }
    s.received += data.length;
    if (s.contentLength >= 0 && s.received > s.contentLength) {
      this.creditConnection(len);
      return this.resetStream(s, PROTOCOL_ERROR, `more DATA than content-length ${s.contentLength} (§8.1.1)`, true);
    }
    // Padding is consumed at once (§6.1: it counts toward flow control).
    const pad = len - data.length;
    if (pad > 0) {
      this.creditConnection(pad);
      this.creditStream(s, pad);
    }
    if (data.length > 0) this.deliver(s, data);
    if (endStream) this.endRequest(s);
  }

  /** Hands a body chunk to the handler, or holds it until there is a 'data' listener. */
  private deliver(s: ServerStream, data: Uint8Array): void {
    if (s.held === null && s.hasListener('data')) {
      s.emit('data', data);
      this.creditConnection(data.length);
      this.creditStream(s, data.length);
      return;
    }
    (s.held ??= []).push(data);
    s.heldBytes += data.length;
  }

  /** @internal A 'data' listener was added: deliver what was held, and the end if it came. */
  releaseHeld(s: ServerStream): void {
    const held = s.held;
    if (held === null || this.dead) return;
    queueMicrotask(() => {
      if (s.held !== held) return;
      s.held = null;
      const n = s.heldBytes;
      s.heldBytes = 0;
      for (const c of held) s.emit('data', c);
      if (!s.closed) {
        this.creditConnection(n);
        this.creditStream(s, n);
      }
      if (s.requestComplete && !s.endEmitted) {
        s.endEmitted = true;
        s.emit('end');
      }
      this.scheduleFlush();
    });
  }

  /** The request's END_STREAM: check content-length, half-close, emit 'end'. */
  private endRequest(s: ServerStream): void {
    if (s.contentLength >= 0 && s.received !== s.contentLength) {
      return this.resetStream(s, PROTOCOL_ERROR, `${s.received} octets of DATA but content-length ${s.contentLength} (§8.1.1)`, true);
    }
    this.apply(s, StreamEvent.RECV_END_STREAM);
    s.requestComplete = true;
    if (s.held === null) {
      s.endEmitted = true;
      s.emit('end');
    }
    if (s.state === StreamState.CLOSED) this.closeStream(s, NO_ERROR);
  }

  /** Returns consumed octets to the peer's connection window (WINDOW_UPDATE when half is used). */
  private creditConnection(n: number): void {
    if (n <= 0 || this.dead) return;
    this.recvUnacked += n;
    if (this.recvUnacked >= this.settings.connectionWindowSize >>> 1) {
      this.recvWindow += this.recvUnacked;
      this.writeWindowUpdate(0, this.recvUnacked);
      this.recvUnacked = 0;
    }
  }

  private creditStream(s: ServerStream, n: number): void {
    if (n <= 0 || s.requestComplete || s.closed) return;
    s.recvUnacked += n;
    if (s.recvUnacked >= this.recvInitialWindow >>> 1 || s.recvWindow <= 0) {
      s.recvWindow += s.recvUnacked;
      this.writeWindowUpdate(s.streamId, s.recvUnacked);
      s.recvUnacked = 0;
    }
  }

  // ---- HEADERS (§6.2) and CONTINUATION (§6.10) ----------------------------------

  private onHeaders(h: FrameHeader, p: Uint8Array): void {
    const f = parseHeaders(h, p);
    if (f instanceof H2Error) return this.frameError(f);
    const id = h.streamId;
    if ((id & 1) === 0) {
      // §5.1.1: clients open odd streams; even ones are ours (reserved (local) or idle).
      return this.connectionError(PROTOCOL_ERROR, `HEADERS on server-initiated stream ${id} (§5.1.1)`);
    }
    if ((f.flags & Flag.END_HEADERS) !== 0) {
      if (this.onFrame) this.observeRecvHeaders(h, f.padLength, f.priority);
      return this.headerBlock(id, f.flags, f.priority, f.fragment);
    }
    if (this.onFrame !== null) this.observeRecv(h, { padLength: f.padLength, ...(f.priority ? { priority: f.priority } : {}) });
    if (f.fragment.length > this.limits.maxHeaderBlockSize) return this.headerBlockTooLarge();
    this.hbStream = id;
    this.hbFlags = f.flags;
    this.hbPriority = f.priority;
    this.hbBuf = new Uint8Array(Math.max(f.fragment.length, Math.min(this.limits.maxHeaderBlockSize, Math.max(4096, f.fragment.length * 2))));
    this.hbBuf.set(f.fragment);
    this.hbLen = f.fragment.length;
    this.hbStartedAt = Date.now();
  }

  private onContinuation(h: FrameHeader, p: Uint8Array): void {
    const f = parseContinuation(h, p);
    if (f instanceof H2Error) return this.frameError(f);
    if (this.hbStream === 0) return this.connectionError(PROTOCOL_ERROR, `CONTINUATION on stream ${h.streamId} without HEADERS (§6.10)`);
    if (h.streamId !== this.hbStream) {
      return this.connectionError(PROTOCOL_ERROR, `CONTINUATION on stream ${h.streamId} while a header block is open on stream ${this.hbStream} (§6.10)`);
    }
    const frag = f.fragment;
    if (this.hbLen + frag.length > this.limits.maxHeaderBlockSize) return this.headerBlockTooLarge();
    if (this.hbLen + frag.length > this.hbBuf.length) {
      const next = new Uint8Array(Math.min(this.limits.maxHeaderBlockSize, Math.max(this.hbBuf.length * 2, this.hbLen + frag.length)));
      next.set(this.hbBuf.subarray(0, this.hbLen));
      this.hbBuf = next;
    }
    this.hbBuf.set(frag, this.hbLen);
    this.hbLen += frag.length;
    const end = (f.flags & Flag.END_HEADERS) !== 0;
    if (!end) {
      this.observeRecv(h, {});
      if (frag.length === 0) this.zeroProgressFrame();
      return;
    }
    const block = this.hbBuf.subarray(0, this.hbLen);
    const id = this.hbStream;
    this.hbStream = 0;
    this.hbBuf = EMPTY;
    this.hbLen = 0;
    if (this.onFrame) this.observeRecvHeaders(h, undefined, null);
    this.headerBlock(id, this.hbFlags, this.hbPriority, block);
  }

  private headerBlockTooLarge(): void {
    // CONTINUATION flood: the block cannot be decoded partially, so the connection goes.
    this.connectionError(ENHANCE_YOUR_CALM, `header block larger than ${this.limits.maxHeaderBlockSize} octets`);
  }

  /** The frame that ended a header block, reported once the block is decoded so that the event carries the fields. */
  private pendingObserved: { h: FrameHeader; padLength: number | undefined; priority: PriorityFields | null } | null = null;
  private observeRecvHeaders(h: FrameHeader, padLength: number | undefined, priority: PriorityFields | null): void {
    this.pendingObserved = { h: { ...h }, padLength, priority };
  }

  private flushObservedHeaders(fields: Array<[string, string]> | null): void {
    const o = this.pendingObserved;
    if (o === null) return;
    this.pendingObserved = null;
    const details: Partial<FrameEvent> = {};
    if (o.padLength !== undefined) details.padLength = o.padLength;
    if (o.priority) details.priority = o.priority;
    if (fields) details.headers = fields;
    this.observeRecv(o.h, details);
  }

  /** A complete header block for stream `id`: decode, then open a stream or take trailers. */
  private headerBlock(id: number, flags: number, priority: PriorityFields | null, block: Uint8Array): void {
    let fields: Array<[string, string]> | null = null;
    let tooLarge = false;
    try {
      fields = this.inflater.inflateLatin1(block);
    } catch (e) {
      if (!(e instanceof HpackError)) throw e;
      if (e.breaksContext) {
        this.flushObservedHeaders(null);
        // §4.3: a decoding error is a connection error COMPRESSION_ERROR.
        return this.connectionError(ErrorCode.COMPRESSION_ERROR, `HPACK ${e.code} at octet ${e.offset}: ${e.message}`);
      }
      tooLarge = true; // HEADER_LIST_TOO_LARGE: the table is in sync; only this request is refused
    }
    this.flushObservedHeaders(fields);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const s = this.streams.get(id);
    if (s !== undefined) return this.trailersBlock(s, endStream, fields, tooLarge);

    if (id <= this.lastPeerStreamId) {
      const state = this.recent.get(id);
      if (state === undefined) {
        return this.connectionError(PROTOCOL_ERROR, `HEADERS on stream ${id}, lower than stream ${this.lastPeerStreamId} already opened (§5.1.1)`);
      }
      const t = transition(state, StreamEvent.RECV_HEADERS);
      if (t.action === 'connection-error') return this.connectionError(t.code, `HEADERS on closed stream ${id} (§5.1)`);
      if (t.action === 'stream-error') return this.streamErrorById(id, t.code, `HEADERS on closed stream ${id} (§5.1)`);
      return this.zeroProgressFrame(); // discarded after decoding (§5.1: we reset it)
    }

    // A new stream (§5.1.1): every lower idle stream is now closed.
    this.lastPeerStreamId = id;
    if (this.goawaySent && id > this.goawayLastId) {
      // §6.8: streams above the GOAWAY's last stream id are not processed.
      this.remember(id, StreamState.CLOSED_RESET_SENT);
      return;
    }
    if (priority !== null && priority.dependency === id) {
      // RFC 7540 §5.3.1: a stream cannot depend on itself.
      return this.refuse(id, PROTOCOL_ERROR, `stream ${id} depends on itself (RFC 7540 §5.3.1)`);
    }
    this.openRequestStream(id, endStream, fields, tooLarge);
  }

  /** A request on new stream `id`: state, windows, validation, and the handler (§5.1, §8.1). */
  private openRequestStream(id: number, endStream: boolean, fields: Array<[string, string]> | null, tooLarge: boolean): void {
    if (this.activeClientStreams >= this.settings.maxConcurrentStreams) {
      return this.refuse(id, ErrorCode.REFUSED_STREAM, `more than ${this.settings.maxConcurrentStreams} concurrent streams (§5.1.2)`);
    }
    const s2 = new ServerStream(this, id, false, transition(StreamState.IDLE, StreamEvent.RECV_HEADERS).next);
    s2.sendWindow = this.peerInitialWindow;
    s2.recvWindow = this.recvInitialWindow;
    this.streams.set(id, s2);
    this.activeClientStreams++;
    if (endStream) {
      this.apply(s2, StreamEvent.RECV_END_STREAM);
      s2.requestComplete = true;
    }
    if (tooLarge) {
      // The HPACK bomb stops at maxHeaderListSize: answer 431 and keep the connection.
      this.respond(s2, 431, undefined, undefined, null);
      return;
    }
    const head = validateRequest(fields!);
    if (typeof head === 'string') return this.resetStream(s2, PROTOCOL_ERROR, `malformed request: ${head}`, true);
    s2.method = head.method;
    s2.scheme = head.scheme;
    s2.authority = head.authority;
    s2.path = head.path;
    s2.headers = head.headers;
    s2.contentLength = head.contentLength;
    if (endStream && head.contentLength > 0) {
      return this.resetStream(s2, PROTOCOL_ERROR, `END_STREAM with content-length ${head.contentLength} (§8.1.1)`, true);
    }
    try {
      this.onStream(s2);
    } catch (err) {
      this.handlerFailed(err, s2);
      return;
    }
    // A request without a body ends here, after the handler attached its listeners
    // (even when it already answered), unless the stream was reset.
    if (endStream && !s2.endEmitted && s2.held === null && s2.state !== StreamState.CLOSED_RESET_SENT) {
      s2.endEmitted = true;
      s2.emit('end');
    }
  }

  /** A header block on an open stream: trailers (§8.1), or a state error. */
  private trailersBlock(s: ServerStream, endStream: boolean, fields: Array<[string, string]> | null, tooLarge: boolean): void {
    const t = transition(s.state, StreamEvent.RECV_HEADERS);
    if (t.action === 'connection-error') return this.connectionError(t.code, `HEADERS on stream ${s.streamId} (§5.1)`);
    if (t.action === 'stream-error') return this.resetStream(s, t.code, `HEADERS on half-closed (remote) stream ${s.streamId} (§5.1)`, true);
    if (t.action === 'ignore') return;
    if (!endStream) return this.resetStream(s, PROTOCOL_ERROR, 'a second HEADERS without END_STREAM (§8.1)', true);
    if (tooLarge) {
      if (!s.responded) {
        this.apply(s, StreamEvent.RECV_END_STREAM);
        s.requestComplete = true;
        this.respond(s, 431, undefined, undefined, null);
        return;
      }
      return this.resetStream(s, ErrorCode.CANCEL, 'trailers larger than SETTINGS_MAX_HEADER_LIST_SIZE', true);
    }
    const trailers = validateTrailers(fields!);
    if (typeof trailers === 'string') return this.resetStream(s, PROTOCOL_ERROR, `malformed trailers: ${trailers}`, true);
    s.trailers = trailers;
    s.emit('trailers', trailers);
    if (!s.closed) this.endRequest(s);
  }

  // ---- PRIORITY (§6.3), RST_STREAM (§6.4) -----------------------------------------

  private onPriority(h: FrameHeader, p: Uint8Array): void {
    const f = parsePriority(h, p);
    if (f instanceof H2Error) return this.frameError(f);
    if (this.onFrame !== null) this.observeRecv(h, { priority: f.priority });
    if (f.priority.dependency === h.streamId) {
      return this.streamErrorById(h.streamId, PROTOCOL_ERROR, `stream ${h.streamId} depends on itself (RFC 7540 §5.3.1)`);
    }
    // Priorities are otherwise ignored (RFC 9113 §5.3.2), but count as no progress.
    this.zeroProgressFrame();
  }

  private onRstStream(h: FrameHeader, p: Uint8Array): void {
    const f = parseRstStream(h, p);
    if (f instanceof H2Error) return this.frameError(f);
    if (this.onFrame !== null) this.observeRecv(h, { errorCode: f.errorCode });
    const s = this.streams.get(h.streamId);
    if (s === undefined) {
      const t = transition(this.stateOfUnknown(h.streamId), StreamEvent.RECV_RST_STREAM);
      if (t.action === 'connection-error') return this.connectionError(t.code, `RST_STREAM on idle stream ${h.streamId} (§6.4)`);
      return this.zeroProgressFrame();
    }
    const t = transition(s.state, StreamEvent.RECV_RST_STREAM);
    if (t.action === 'connection-error') return this.connectionError(t.code, `RST_STREAM on stream ${h.streamId} (§5.1)`);
    const counts = !s.pushed;
    s.state = t.next;
    this.closeStream(s, f.errorCode);
    if (counts && !this.rapidReset.take(Date.now())) {
      // CVE-2023-44487.
      this.connectionError(ENHANCE_YOUR_CALM, 'too many streams reset (rapid reset)');
    }
  }

  // ---- SETTINGS (§6.5) ----------------------------------------------------------

  private sendPreface(): void {
    // §3.4: the server preface is a SETTINGS frame; only values that differ from the defaults.
    if (this.prefaceSent) return;
    this.prefaceSent = true;
    const st = this.settings;
    const entries: Array<[number, number]> = [[SettingId.MAX_CONCURRENT_STREAMS, st.maxConcurrentStreams]];
    if (st.headerTableSize !== DEFAULT_HEADER_TABLE_SIZE) entries.push([SettingId.HEADER_TABLE_SIZE, st.headerTableSize]);
    if (st.initialWindowSize !== DEFAULT_INITIAL_WINDOW_SIZE) entries.push([SettingId.INITIAL_WINDOW_SIZE, st.initialWindowSize]);
    if (st.maxFrameSize !== DEFAULT_MAX_FRAME_SIZE) entries.push([SettingId.MAX_FRAME_SIZE, st.maxFrameSize]);
    entries.push([SettingId.MAX_HEADER_LIST_SIZE, st.maxHeaderListSize]);
    this.writeSettings(entries);
    // Larger limits apply at once (the peer may use them as soon as it reads them);
    // smaller ones when acknowledged (§6.5.3).
    if (st.initialWindowSize > this.recvInitialWindow) this.recvInitialWindow = st.initialWindowSize;
    if (st.maxFrameSize > this.recvMaxFrameSize) this.recvMaxFrameSize = st.maxFrameSize;
    if (st.connectionWindowSize > DEFAULT_INITIAL_WINDOW_SIZE) {
      const inc = st.connectionWindowSize - DEFAULT_INITIAL_WINDOW_SIZE;
      this.recvWindow += inc;
      this.writeWindowUpdate(0, inc);
    }
  }

  private writeSettings(entries: Array<[number, number]>): void {
    const slab = this.writer.header(entries.length * 6, FrameType.SETTINGS, 0, 0, entries.length * 6);
    let o = this.writer.pos;
    for (const [id, v] of entries) {
      slab[o] = id >>> 8;
      slab[o + 1] = id;
      writeUint32(slab, o + 2, v);
      o += 6;
    }
    this.writer.pos = o;
    this.pendingAcks.push({ entries, at: Date.now() });
    if (this.onFrame) this.observeSend(FrameType.SETTINGS, 0, 0, entries.length * 6, { settings: entries });
  }

  private onSettings(h: FrameHeader, p: Uint8Array): void {
    const f = parseSettings(h, p);
    if (f instanceof H2Error) return this.frameError(f);
    if (this.onFrame !== null) this.observeRecv(h, { settings: f.settings });
    if (f.ack) {
      const acked = this.pendingAcks.shift();
      if (acked === undefined) return this.zeroProgressFrame(); // unsolicited ACK: nothing to apply
      for (const [id, v] of acked.entries) this.applyAckedSetting(id, v);
      return;
    }
    if (this.settingsSeen) this.zeroProgressFrame();
    this.settingsSeen = true;
    if (this.dead) return;
    if (!this.applyPeerSettings(f.settings)) return;
    this.writeFrameBytes(FrameType.SETTINGS, Flag.ACK, 0, EMPTY);
  }

  /** Applies the peer's settings (§6.5.3: in order, the last of an id wins); false after a connection error. */
  private applyPeerSettings(settings: ReadonlyArray<readonly [number, number]>): boolean {
    for (const [id, v] of settings) {
      switch (id) {
        case SettingId.HEADER_TABLE_SIZE:
          this.deflater.changeTableSize(v);
          break;
        case SettingId.ENABLE_PUSH:
          this.peerEnablePush = v === 1;
          break;
        case SettingId.MAX_CONCURRENT_STREAMS:
          this.peerMaxConcurrentStreams = v;
          break;
        case SettingId.INITIAL_WINDOW_SIZE: {
          // §6.9.2: the change applies to every stream's window, which may go negative.
          const delta = v - this.peerInitialWindow;
          this.peerInitialWindow = v;
          for (const s of this.streams.values()) {
            s.sendWindow += delta;
            if (s.sendWindow > MAX_WINDOW_SIZE) {
              this.connectionError(FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE makes the window of stream ${s.streamId} exceed 2^31-1 (§6.9.2)`);
              return false;
            }
            if (delta > 0 && s.blockedOnWindow && s.sendWindow > 0) {
              s.blockedOnWindow = false;
              this.enqueue(s);
            }
          }
          break;
        }
        case SettingId.MAX_FRAME_SIZE:
          this.peerMaxFrameSize = v;
          break;
        default:
          break; // MAX_HEADER_LIST_SIZE is advisory; unknown settings are ignored (§6.5.2)
      }
    }
    return true;
  }
  /** The peer's first SETTINGS arrived (§3.4). */
  private settingsSeen = false;

  /** Our setting `id` = `v` is now acknowledged (§6.5.3). */
  private applyAckedSetting(id: number, v: number): void {
    switch (id) {
      case SettingId.HEADER_TABLE_SIZE:
        this.inflater.changeTableSize(v);
        break;
      case SettingId.INITIAL_WINDOW_SIZE: {
        const delta = v - this.recvInitialWindow;
        this.recvInitialWindow = v;
        if (delta !== 0) for (const s of this.streams.values()) s.recvWindow += delta;
        break;
      }
      case SettingId.MAX_FRAME_SIZE:
        this.recvMaxFrameSize = v;
        break;
      default:
        break;
    }
  }

  // ---- PING (§6.7), GOAWAY (§6.8), WINDOW_UPDATE (§6.9) ------------------------------

  private onPing(h: FrameHeader, p: Uint8Array): void {
    const f = parsePing(h, p);
    if (f instanceof H2Error) return this.frameError(f);
    if (this.onFrame !== null) this.observeRecv(h, { opaque: f.opaque });
    this.zeroProgressFrame();
    if (this.dead || f.ack) return;
    this.writeFrameBytes(FrameType.PING, Flag.ACK, 0, f.opaque);
  }

  private onGoaway(h: FrameHeader, p: Uint8Array): void {
    const f = parseGoaway(h, p);
    if (f instanceof H2Error) return this.frameError(f);
    if (this.onFrame !== null) this.observeRecv(h, { lastStreamId: f.lastStreamId, errorCode: f.errorCode, debugData: f.debugData });
    // §6.8: the peer opens no more streams; ours finish, then the connection closes.
    this.peerGoaway = true;
    for (const s of [...this.streams.values()]) {
      if (s.pushed && s.streamId > f.lastStreamId) this.abortStream(s, ErrorCode.REFUSED_STREAM);
    }
    this.maybeFinish();
  }

  private onWindowUpdate(h: FrameHeader, p: Uint8Array): void {
    const f = parseWindowUpdate(h, p);
    if (f instanceof H2Error) {
      if (f.scope === 'stream') {
        const s = this.streams.get(h.streamId);
        if (s === undefined && this.isIdle(h.streamId)) return this.connectionError(PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${h.streamId} (§5.1)`);
      }
      return this.frameError(f);
    }
    if (this.onFrame !== null) this.observeRecv(h, { increment: f.increment });
    if (h.streamId === 0) {
      this.sendWindow += f.increment;
      if (this.sendWindow > MAX_WINDOW_SIZE) {
        return this.connectionError(FLOW_CONTROL_ERROR, 'WINDOW_UPDATE makes the connection window exceed 2^31-1 (§6.9.1)');
      }
      if (this.sendWindow > 0 && this.connWaiters.length > 0) {
        const waiters = this.connWaiters;
        this.connWaiters = [];
        for (const s of waiters) this.enqueue(s);
      }
      return;
    }
    const s = this.streams.get(h.streamId);
    if (s === undefined) {
      const t = transition(this.stateOfUnknown(h.streamId), StreamEvent.RECV_WINDOW_UPDATE);
      if (t.action === 'connection-error') return this.connectionError(t.code, `WINDOW_UPDATE on idle stream ${h.streamId} (§5.1)`);
      return this.zeroProgressFrame();
    }
    const t = transition(s.state, StreamEvent.RECV_WINDOW_UPDATE);
    if (t.action === 'connection-error') return this.connectionError(t.code, `WINDOW_UPDATE on stream ${h.streamId} (§5.1)`);
    s.sendWindow += f.increment;
    if (s.sendWindow > MAX_WINDOW_SIZE) {
      return this.resetStream(s, FLOW_CONTROL_ERROR, 'WINDOW_UPDATE makes the stream window exceed 2^31-1 (§6.9.1)', true);
    }
    if (s.blockedOnWindow && s.sendWindow > 0) {
      s.blockedOnWindow = false;
      this.enqueue(s);
    }
  }

  // ==== errors and closing ===========================================================

  /** A connection error (§5.4.1): GOAWAY with `code`, then close. */
  connectionError(code: number, message: string): void {
    if (this.dead) return;
    if (this.rstate === R_HTTP1) return this.answerHttp1(503, `the server closed the connection: ${message}`);
    const err = new H2Error('connection', code, message);
    this.closeError = err;
    this.closeReason = message;
    this.die();
    this.writeGoaway(code, message);
    const streamCode = code === NO_ERROR ? ErrorCode.CANCEL : code;
    for (const s of [...this.streams.values()]) this.abortStream(s, streamCode);
    this.finishTransport();
  }

  /** The first octet of an HTTP/1.x request line (`b`) arrived where the preface belongs: read the request head. */
  private startHttp1(b: number): void {
    this.rstate = R_HTTP1;
    if (this.prefaceTimer !== null) {
      clearTimeout(this.prefaceTimer); // nothing binary may precede the HTTP/1.1 answer
      this.prefaceTimer = null;
    }
    this.http1Head = new Uint8Array(MAX_HTTP1_HEAD);
    this.http1Head.set(CONNECTION_PREFACE.subarray(0, this.prefacePos));
    this.http1Head[this.prefacePos] = b;
    this.http1Len = this.prefacePos + 1;
  }

  /** A complete HTTP/1.x request head: upgrade to h2c (RFC 7540 §3.2), or answer in HTTP/1.1. */
  private http1Request(head: Uint8Array): void {
    const r = parseHttp1Request(head);
    this.http1Head = EMPTY;
    if (!r.upgrade) return this.answerHttp1(r.status, r.reason);
    this.onUpgradeCb?.({ connectionId: this.id, method: r.method, target: r.target, settings: r.settings });
    const sw = utf8.encode(SWITCHING_PROTOCOLS);
    this.writer.reserve(sw.length);
    this.writer.copy(sw);
    this.sendPreface();
    // The settings count as received; the 101 acknowledges them (RFC 7540 §3.2.1).
    if (!this.applyPeerSettings(r.settings)) return;
    // Next: the client's connection preface and SETTINGS, as with prior knowledge.
    this.rstate = R_PREFACE;
    this.prefacePos = 0;
    // RFC 7540 §3.2: the request is stream 1, half-closed (remote).
    this.lastPeerStreamId = 1;
    let size = 0;
    for (const [n, v] of r.fields) size += n.length + v.length + ENTRY_OVERHEAD;
    this.openRequestStream(1, true, r.fields, size > this.settings.maxHeaderListSize);
  }

  /**
   * The client sent an HTTP/1.x request where the connection preface belongs
   * and it does not upgrade to h2c: it gets an HTTP/1.1 answer it can show,
   * rather than frames it would take for garbage. Still a connection error
   * (§3.4), without GOAWAY.
   */
  private answerHttp1(status: number, reason: string): void {
    if (this.dead) return;
    const message = `an HTTP/1.x request instead of the connection preface (§3.4), answered ${status}: ${reason}`;
    this.closeError = new H2Error('connection', PROTOCOL_ERROR, message);
    this.closeReason = message;
    this.http1Status = status;
    this.die();
    const body =
      status === 505
        ? `This server speaks HTTP/2 (RFC 9113), and this was ${reason}.\n` +
          'Connect with HTTP/2 directly (curl --http2-prior-knowledge, nghttp, h2load), or upgrade with an\n' +
          'HTTP/1.1 request without a body that carries "Upgrade: h2c", one "HTTP2-Settings" and\n' +
          '"Connection: Upgrade, HTTP2-Settings" (curl --http2, nghttp -u).\n'
        : `${reason}.\n`;
    const response = utf8.encode(http1Response(status, body));
    this.writer.reserve(response.length);
    this.writer.copy(response);
    this.finishTransport();
  }

  /** Stops all input processing and DATA production. */
  private die(): void {
    this.dead = true;
    this.rstate = R_CLOSED;
    this.chunks = [];
    this.buffered = 0;
    this.hbStream = 0;
    this.hbBuf = EMPTY;
    this.hbLen = 0;
    this.sendQueue.length = 0;
    this.sendHead = 0;
    this.connWaiters = [];
  }

  /** Writes what is pending, ends the transport, and destroys it if the peer lingers. */
  private finishTransport(): void {
    this.stopTimers();
    const chunks = this.writer.take();
    if (!this.transportClosed) {
      if (chunks) this.transport.write(chunks);
      this.transport.end();
      if (this.limits.closeLinger > 0) {
        this.lingerTimer = setTimeout(() => this.transport.destroy(), this.limits.closeLinger);
        (this.lingerTimer as { unref?: () => void }).unref?.();
      } else this.transport.destroy();
    }
  }

  /** Graceful shutdown (§6.8): GOAWAY NO_ERROR, let open streams finish, then close. */
  shutdown(): void {
    if (this.rstate === R_HTTP1) return this.answerHttp1(503, 'the server is shutting down');
    if (this.dead || this.goawaySent) {
      this.maybeFinish();
      return;
    }
    this.writeGoaway(NO_ERROR, '');
    this.maybeFinish();
    this.scheduleFlush();
  }

  /** Closes now: GOAWAY with `code` (streams close with CANCEL when it is NO_ERROR), then the transport. */
  destroy(code: number = NO_ERROR, message = 'closed by the server'): void {
    if (this.dead) {
      if (!this.transportClosed) this.transport.destroy();
      return;
    }
    this.connectionError(code, message);
  }

  private maybeFinish(): void {
    if (this.dead || this.streams.size > 0) return;
    if (!this.goawaySent && !this.peerGoaway) return;
    if (!this.goawaySent) this.writeGoaway(NO_ERROR, '');
    this.die();
    this.finishTransport();
  }

  private notifyClose(): void {
    if (this.closeNotified) return;
    this.closeNotified = true;
    this.onCloseCb?.({
      connectionId: this.id,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      error: this.closeError,
      reason: this.closeReason || 'closed',
      http1Status: this.http1Status,
    });
  }

  private stopTimers(): void {
    if (this.prefaceTimer !== null) {
      clearTimeout(this.prefaceTimer);
      this.prefaceTimer = null;
    }
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    if (this.transportClosed && this.lingerTimer !== null) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
  }

  private readonly tick = (): void => {
    if (this.dead || this.transportClosed) return this.stopTimers();
    const now = Date.now();
    const L = this.limits;
    if (this.rstate === R_HTTP1) {
      const limit = L.handshakeTimeout > 0 ? L.handshakeTimeout : L.frameTimeout;
      if (limit > 0 && now - this.createdAt > limit) this.answerHttp1(408, 'the request head did not arrive in time');
      return;
    }
    if (L.handshakeTimeout > 0 && !this.settingsSeen && now - this.createdAt > L.handshakeTimeout) {
      return this.connectionError(ENHANCE_YOUR_CALM, 'no connection preface and SETTINGS in time');
    }
    if (L.settingsTimeout > 0 && this.pendingAcks.length > 0 && now - this.pendingAcks[0]!.at > L.settingsTimeout) {
      return this.connectionError(ErrorCode.SETTINGS_TIMEOUT, 'SETTINGS not acknowledged in time (§6.5.3)');
    }
    if (L.frameTimeout > 0) {
      if (this.partialSince !== 0 && now - this.partialSince > L.frameTimeout) {
        return this.connectionError(ENHANCE_YOUR_CALM, 'a frame stayed incomplete for too long');
      }
      if (this.hbStream !== 0 && now - this.hbStartedAt > L.frameTimeout) {
        return this.connectionError(ENHANCE_YOUR_CALM, 'a header block stayed incomplete for too long');
      }
    }
    if (L.sendTimeout > 0) {
      if (!this.outputStalled()) this.stallSince = 0;
      else if (this.stallSince === 0) this.stallSince = now;
      else if (now - this.stallSince > L.sendTimeout) {
        return this.connectionError(ENHANCE_YOUR_CALM, 'the peer has taken none of our DATA for too long');
      }
    }
    if (L.idleTimeout > 0 && this.streams.size === 0 && now - this.lastActivity > L.idleTimeout) {
      this.closeReason = 'idle timeout';
      if (!this.goawaySent) this.writeGoaway(NO_ERROR, 'idle');
      this.maybeFinish();
    }
  };

  /** True when DATA waits for a transport that takes nothing or for a window the peer keeps closed. */
  private outputStalled(): boolean {
    if (this.blocked || this.connWaiters.length > 0) return true;
    for (const s of this.streams.values()) if (s.blockedOnWindow) return true;
    return false;
  }

  /** A stream error on a stream that may not exist (§5.4.2). */
  private streamErrorById(id: number, code: number, message: string): void {
    const s = this.streams.get(id);
    if (s !== undefined) return this.resetStream(s, code, message, true);
    if (!this.countPeerFault()) return;
    this.writeRst(id, code);
    if (!this.isIdle(id)) this.remember(id, StreamState.CLOSED_RESET_SENT);
  }

  /** Refuses a new stream before it reaches the handler. */
  private refuse(id: number, code: number, _message: string): void {
    if (!this.countPeerFault()) return;
    this.writeRst(id, code);
    this.remember(id, StreamState.CLOSED_RESET_SENT);
  }

  /** A stream reset caused by the peer: false (and GOAWAY ENHANCE_YOUR_CALM) when over budget. */
  private countPeerFault(): boolean {
    if (this.dead) return false;
    if (this.rapidReset.take(Date.now())) return true;
    this.connectionError(ENHANCE_YOUR_CALM, 'too many streams reset or refused');
    return false;
  }

  /**
   * @internal Resets a stream (§5.4.2): RST_STREAM with `code`. `peerFault`
   * counts it against the rapid-reset budget.
   */
  resetStream(s: ServerStream, code: number, _message: string, peerFault = false): void {
    if (s.closed || this.dead) return;
    if (peerFault && !this.countPeerFault()) return;
    this.apply(s, StreamEvent.SEND_RST_STREAM);
    this.writeRst(s.streamId, code);
    this.closeStream(s, code);
    this.scheduleFlush();
  }

  private remember(id: number, state: StreamState): void {
    if (this.recent.size >= this.recentCap) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
    this.recent.set(id, state);
  }

  /** Removes a closed stream and tells the handler. */
  private closeStream(s: ServerStream, code: number): void {
    if (!this.streams.delete(s.streamId)) return;
    if (s.pushed) this.activePushes--;
    else this.activeClientStreams--;
    this.remember(s.streamId, s.state === StreamState.CLOSED_RESET_SENT ? StreamState.CLOSED_RESET_SENT : StreamState.CLOSED);
    this.releaseBody(s);
    if (s.heldBytes > 0) {
      this.creditConnection(s.heldBytes);
      s.held = null;
      s.heldBytes = 0;
    }
    this.lastActivity = Date.now();
    s.emit('close', code);
    this.maybeFinish();
  }

  /** The connection is going: the stream closes with `code` without a frame of its own. */
  private abortStream(s: ServerStream, code: number): void {
    if (!this.streams.delete(s.streamId)) return;
    if (s.pushed) this.activePushes--;
    else this.activeClientStreams--;
    s.state = StreamState.CLOSED;
    this.releaseBody(s);
    s.held = null;
    s.emit('close', code);
  }

  private releaseBody(s: ServerStream): void {
    if (s.readable !== null) {
      const r = s.readable;
      s.readable = null;
      if (!r.readableEnded) r.destroy();
    }
    s.producer = null;
    s.chunk = null;
  }

  /** @internal */
  reportError(err: unknown, stream: ServerStream | null): void {
    if (this.onErrorCb) {
      try {
        this.onErrorCb(err, stream);
      } catch {
        // an error reporter that throws has nowhere else to report to
      }
    }
  }

  private handlerFailed(err: unknown, s: ServerStream): void {
    this.reportError(err, s);
    this.resetStream(s, ErrorCode.INTERNAL_ERROR, 'the handler threw');
  }

  /** Applies a transition we initiate; a refused one is a bug in the engine. */
  private apply(s: ServerStream, event: StreamEvent): void {
    const t = transition(s.state, event);
    if (t.action !== 'ok' && t.action !== 'ignore') {
      throw new Error(`h2: event ${event} not allowed on stream ${s.streamId} in state ${s.state}`);
    }
    s.state = t.next;
  }

  // ==== output ===========================================================================

  /** @internal See ServerStream.respond(). */
  respond(
    s: ServerStream,
    status: number,
    headers: HeadersInit | undefined,
    body: ResponseBody,
    trailers: HeadersInit | (() => HeadersInit) | null,
  ): void {
    if (s.responded) throw new Error(`respond() called twice on stream ${s.streamId}`);
    this.scheduleFlush();
    let kind = BODY_NONE;
    let bytes: Uint8Array | null = null;
    if (body === null || body === undefined) kind = BODY_NONE;
    else if (typeof body === 'string') {
      kind = BODY_BYTES;
      bytes = utf8.encode(body);
    } else if (body instanceof Uint8Array) {
      kind = BODY_BYTES;
      bytes = body;
    } else if (typeof body === 'function') kind = BODY_PRODUCER;
    else if (isReadable(body)) kind = BODY_READABLE;
    else throw new TypeError('body must be a string, a Uint8Array, a Readable or a producer function');
    if (s.closed || this.dead) {
      if (kind === BODY_READABLE) (body as Readable).destroy();
      return;
    }
    const noBody = s.method === 'HEAD' || status === 204 || status === 304;
    const fields = responseFields(status, headers, bytes !== null && status !== 204 ? bytes.length : -1);
    s.responded = true;
    const empty = kind === BODY_NONE || (bytes !== null && bytes.length === 0);
    if (noBody || (empty && trailers === null)) {
      this.writeHeaders(s, fields, true);
      if (kind === BODY_READABLE) (body as Readable).destroy();
      this.sentEnd(s);
      return;
    }
    this.writeHeaders(s, fields, false);
    s.trailersOut = trailers;
    s.bodyKind = kind;
    if (kind === BODY_BYTES || kind === BODY_NONE) {
      s.chunk = bytes;
      s.chunkOffset = 0;
      s.bodyDone = true;
      const n = bytes === null ? 0 : bytes.length;
      // Fast path: the whole body fits in one frame and both windows.
      if (trailers === null && !this.blocked && n <= this.peerMaxFrameSize && n <= this.sendWindow && n <= s.sendWindow) {
        this.writeData(s, bytes!, 0, n, true);
        this.sentEnd(s);
        return;
      }
    } else if (kind === BODY_PRODUCER) {
      s.producer = body as BodyProducer;
    } else {
      const r = body as Readable;
      s.readable = r;
      r.on('readable', () => {
        if (s.readable === r && s.waiting) {
          s.waiting = false;
          this.enqueue(s);
          this.scheduleFlush();
        }
      });
      r.on('end', () => {
        if (s.readable !== r) return;
        s.bodyDone = true;
        s.waiting = false;
        this.enqueue(s);
        this.scheduleFlush();
      });
      r.on('error', (err: unknown) => {
        if (s.readable !== r) return;
        this.reportError(err, s);
        this.resetStream(s, ErrorCode.INTERNAL_ERROR, 'the response body failed');
      });
    }
    this.enqueue(s);
    this.scheduleFlush();
  }

  /** @internal See ServerStream.resume(). */
  resumeStream(s: ServerStream): void {
    if (!s.waiting || s.bodyKind !== BODY_PRODUCER || s.closed) return;
    s.waiting = false;
    this.enqueue(s);
    this.scheduleFlush();
  }

  /** @internal See ServerStream.push(). */
  push(parent: ServerStream, path: string, opts: PushOptions): ServerStream | null {
    const method = opts.method ?? 'GET';
    const reqFields = promiseFields(method, parent.scheme || 'https', parent.authority, path, opts.requestHeaders);
    if (!this.peerEnablePush || this.dead || this.goawaySent || this.peerGoaway || parent.pushed) return null;
    // §6.6: PUSH_PROMISE only on a peer-initiated stream that is open or half-closed (remote).
    if (parent.state !== StreamState.OPEN && parent.state !== StreamState.HALF_CLOSED_REMOTE) return null;
    if (this.activePushes >= this.peerMaxConcurrentStreams || this.nextPushId > MAX_WINDOW_SIZE) return null;
    const id = this.nextPushId;
    this.nextPushId += 2;
    const pushed = new ServerStream(this, id, true, transition(StreamState.IDLE, StreamEvent.SEND_PUSH_PROMISE).next);
    this.apply(parent, StreamEvent.SEND_PUSH_PROMISE);
    pushed.method = method;
    pushed.scheme = parent.scheme || 'https';
    pushed.authority = parent.authority;
    pushed.path = path;
    pushed.sendWindow = this.peerInitialWindow;
    pushed.requestComplete = true;
    pushed.endEmitted = true;
    this.streams.set(id, pushed);
    this.activePushes++;
    this.writeBlock(FrameType.PUSH_PROMISE, parent.streamId, id, reqFields, false);
    this.respond(pushed, opts.status ?? 200, opts.headers, opts.body, opts.trailers ?? null);
    return pushed;
  }

  /** We sent END_STREAM: close, or (request still arriving) reset with NO_ERROR as §8.1 allows. */
  private sentEnd(s: ServerStream): void {
    this.releaseBody(s);
    if (s.state === StreamState.CLOSED) {
      this.closeStream(s, NO_ERROR);
    } else if (s.state === StreamState.HALF_CLOSED_LOCAL) {
      this.resetStream(s, NO_ERROR, 'response complete before the request (§8.1)');
    }
  }

  private writeHeaders(s: ServerStream, fields: readonly HeaderInput[], endStream: boolean): void {
    this.apply(s, StreamEvent.SEND_HEADERS);
    if (endStream) this.apply(s, StreamEvent.SEND_END_STREAM);
    this.writeBlock(FrameType.HEADERS, s.streamId, 0, fields, endStream);
  }

  /** A field block as HEADERS or PUSH_PROMISE plus CONTINUATIONs within the peer's frame size (§4.3). */
  private writeBlock(type: number, streamId: number, promisedId: number, fields: readonly HeaderInput[], endStream: boolean): void {
    const block = this.deflater.deflate(fields);
    const prefix = type === FrameType.PUSH_PROMISE ? 4 : 0;
    // Padding, if any, goes on the first frame only: CONTINUATION has none (§6.10).
    const pad = this.padding;
    const max = this.peerMaxFrameSize - prefix - pad;
    const first = Math.min(block.length, max);
    const flags = (endStream ? Flag.END_STREAM : 0) | (first === block.length ? Flag.END_HEADERS : 0) | (pad ? Flag.PADDED : 0);
    const w = this.writer;
    const length = pad + prefix + first;
    const slab = w.header(length, type, flags, streamId, length);
    if (pad) slab[w.pos++] = pad - 1;
    if (prefix) {
      writeUint32(slab, w.pos, promisedId);
      w.pos += 4;
    }
    w.copy(block, 0, first);
    if (pad > 1) {
      slab.fill(0, w.pos, w.pos + pad - 1);
      w.pos += pad - 1;
    }
    const headers = this.onFrame ? fields.map(([n, v]) => [String(n), String(v)] as [string, string]) : null;
    if (headers) {
      this.observeSend(type, flags, streamId, length, {
        padLength: pad,
        ...(prefix ? { promisedStreamId: promisedId } : {}),
        ...(first === block.length ? { headers } : {}),
      });
    }
    for (let o = first; o < block.length; o += max + pad) {
      const n = Math.min(max + pad, block.length - o);
      const f = o + n === block.length ? Flag.END_HEADERS : 0;
      w.frame(FrameType.CONTINUATION, f, streamId, block, o, o + n);
      if (headers) this.observeSend(FrameType.CONTINUATION, f, streamId, n, f ? { headers } : {});
    }
  }

  private writeData(s: ServerStream, buf: Uint8Array, from: number, to: number, endStream: boolean): void {
    const n = to - from;
    // Padding counts against both windows (§6.9.1) and the frame size; take what room is left.
    const pad = this.padding === 0 ? 0 : Math.max(0, Math.min(this.padding, this.peerMaxFrameSize - n, this.sendWindow - n, s.sendWindow - n));
    const flags = (endStream ? Flag.END_STREAM : 0) | (pad ? Flag.PADDED : 0);
    if (pad === 0) {
      this.writer.frame(FrameType.DATA, flags, s.streamId, buf, from, to);
    } else {
      const w = this.writer;
      const slab = w.header(n + pad, FrameType.DATA, flags, s.streamId, n + pad);
      slab[w.pos++] = pad - 1;
      if (n > 0) w.copy(buf, from, to);
      slab.fill(0, w.pos, w.pos + pad - 1);
      w.pos += pad - 1;
    }
    this.sendWindow -= n + pad;
    s.sendWindow -= n + pad;
    if (n > 0) this.stallSince = 0;
    if (endStream) this.apply(s, StreamEvent.SEND_END_STREAM);
    if (this.onFrame) this.observeSend(FrameType.DATA, flags, s.streamId, n + pad, { padLength: pad });
  }

  private writeRst(id: number, code: number): void {
    const slab = this.writer.header(4, FrameType.RST_STREAM, 0, id, 4);
    writeUint32(slab, this.writer.pos, code);
    this.writer.pos += 4;
    if (this.onFrame) this.observeSend(FrameType.RST_STREAM, 0, id, 4, { errorCode: code });
  }

  private writeWindowUpdate(id: number, increment: number): void {
    const slab = this.writer.header(4, FrameType.WINDOW_UPDATE, 0, id, 4);
    writeUint32(slab, this.writer.pos, increment);
    this.writer.pos += 4;
    if (this.onFrame) this.observeSend(FrameType.WINDOW_UPDATE, 0, id, 4, { increment });
  }

  /** GOAWAY with the last stream we opened (§6.8); streams above it are not processed from now on. */
  private writeGoaway(code: number, message: string): void {
    this.sendPreface(); // our first frame is always SETTINGS, even when we close before the client's preface
    const lastId = this.lastPeerStreamId;
    this.goawayLastId = lastId;
    this.goawaySent = true;
    const debug = utf8.encode(message.slice(0, 200));
    const slab = this.writer.header(8 + debug.length, FrameType.GOAWAY, 0, 0, 8 + debug.length);
    writeUint32(slab, this.writer.pos, lastId);
    writeUint32(slab, this.writer.pos + 4, code);
    this.writer.pos += 8;
    this.writer.copy(debug);
    if (this.onFrame) this.observeSend(FrameType.GOAWAY, 0, 0, 8 + debug.length, { lastStreamId: lastId, errorCode: code, debugData: debug });
  }

  private writeFrameBytes(type: number, flags: number, streamId: number, payload: Uint8Array): void {
    this.writer.frame(type, flags, streamId, payload);
    if (this.onFrame) {
      const details: Partial<FrameEvent> = type === FrameType.PING ? { opaque: payload.slice() } : type === FrameType.SETTINGS ? { settings: [] } : {};
      this.observeSend(type, flags, streamId, payload.length, details);
    }
  }

  private observeSend(type: number, flags: number, streamId: number, length: number, details: Partial<FrameEvent>): void {
    this.onFrame!({ connectionId: this.id, direction: 'send', type, flags, streamId, length, ...details });
  }

  private enqueue(s: ServerStream): void {
    if (s.queued || this.dead) return;
    s.queued = true;
    this.sendQueue.push(s);
  }

  /** @internal Flushes soon (coalescing everything written in this tick). */
  scheduleFlush(): void {
    if (this.inReceive || this.flushScheduled || this.transportClosed) return;
    this.flushScheduled = true;
    queueMicrotask(this.flushTask);
  }
  private readonly flushTask = (): void => {
    this.flushScheduled = false;
    this.flush();
  };
  private readonly immediateTask = (): void => {
    this.immediateScheduled = false;
    this.flush();
  };

  /** Produces DATA while the transport takes it, and hands it all the frames written. */
  private flush(): void {
    if (this.transportClosed) return;
    for (let round = 0; ; round++) {
      if (this.blocked) {
        // The peer is not reading: our replies queue up, within bounds.
        if (this.writer.frames > this.limits.maxQueuedFrames || this.writer.pendingBytes > this.limits.maxQueuedBytes) {
          this.writer.discard();
          this.connectionError(ENHANCE_YOUR_CALM, 'the peer does not read our frames');
        }
        return;
      }
      if (!this.dead) this.pump();
      const chunks = this.writer.take();
      if (chunks === null) return;
      this.transport.write(chunks);
      const buffered = this.transport.bufferedAmount;
      if (buffered === 0 && this.transport.releasesWritten === true) this.writer.rewind();
      if (buffered >= this.limits.outputHighWater) {
        this.blocked = true;
        return;
      }
      if (this.sendHead >= this.sendQueue.length) return;
      if (round + 1 >= MAX_ROUNDS) {
        if (!this.immediateScheduled) {
          this.immediateScheduled = true;
          setImmediate(this.immediateTask);
        }
        return;
      }
    }
  }

  /** Round-robin over streams with DATA to send: one frame per stream per turn. */
  private pump(): void {
    const q = this.sendQueue;
    while (this.sendHead < q.length) {
      if (this.writer.pendingBytes >= PUMP_BUDGET) break;
      const s = q[this.sendHead]!;
      q[this.sendHead++] = undefined;
      s.queued = false;
      if (this.sendSome(s)) {
        s.queued = true;
        q.push(s);
      }
    }
    if (this.sendHead >= q.length) {
      q.length = 0;
      this.sendHead = 0;
    } else if (this.sendHead > 1024) {
      q.splice(0, this.sendHead);
      this.sendHead = 0;
    }
  }

  /** Sends at most one DATA frame (or the end of the body) for `s`; true to come back. */
  private sendSome(s: ServerStream): boolean {
    if (s.state !== StreamState.OPEN && s.state !== StreamState.HALF_CLOSED_REMOTE) return false;
    let c = s.chunk;
    if (c === null || s.chunkOffset >= c.length) {
      c = s.chunk = null;
      if (!s.bodyDone) {
        const win = Math.min(this.sendWindow, s.sendWindow);
        if (s.bodyKind === BODY_READABLE) {
          const r = s.readable!.read() as Uint8Array | string | null;
          if (r === null) {
            s.waiting = true;
            return false;
          }
          c = s.chunk = typeof r === 'string' ? utf8.encode(r) : r;
          s.chunkOffset = 0;
        } else if (s.bodyKind === BODY_PRODUCER) {
          if (win <= 0) return this.waitWindow(s);
          let r: Uint8Array | null | 'deferred';
          try {
            r = s.producer!(Math.min(win, this.peerMaxFrameSize * 4));
          } catch (err) {
            this.handlerFailed(err, s);
            return false;
          }
          if (s.closed) return false;
          if (r === 'deferred') {
            s.waiting = true;
            return false;
          }
          if (r === null) s.bodyDone = true;
          else {
            c = s.chunk = r;
            s.chunkOffset = 0;
          }
        }
      }
      if (c === null) {
        if (!s.bodyDone) return true;
        this.finishBody(s);
        return false;
      }
      if (c.length === 0) {
        s.chunk = null;
        return true;
      }
    }
    const avail = c.length - s.chunkOffset;
    const win = Math.min(this.sendWindow, s.sendWindow);
    if (win <= 0) return this.waitWindow(s);
    const n = Math.min(avail, win, this.peerMaxFrameSize);
    const end = n === avail && s.bodyDone && s.trailersOut === null;
    this.writeData(s, c, s.chunkOffset, s.chunkOffset + n, end);
    s.chunkOffset += n;
    if (end) {
      this.sentEnd(s);
      return false;
    }
    return true;
  }

  private waitWindow(s: ServerStream): boolean {
    if (s.sendWindow <= 0) s.blockedOnWindow = true;
    else this.connWaiters.push(s);
    return false;
  }

  /** The body is over: trailers (HEADERS with END_STREAM, §8.1) or an empty END_STREAM DATA. */
  private finishBody(s: ServerStream): void {
    const t = s.trailersOut;
    if (t !== null) {
      let fields: HeaderInput[];
      try {
        fields = trailerFields(typeof t === 'function' ? t() : t);
      } catch (err) {
        this.handlerFailed(err, s);
        return;
      }
      s.trailersOut = null;
      this.writeHeaders(s, fields, true);
    } else {
      this.writeData(s, EMPTY, 0, 0, true);
    }
    this.sentEnd(s);
  }
}
