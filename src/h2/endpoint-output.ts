/**
 * What a connection sends (RFC 9113 §4, §6, §8.1), the half of Endpoint
 * that writes: messages (a header section, then a body and trailers as the
 * flow-control windows allow, through the Scheduler), single frames (DATA,
 * RST_STREAM, WINDOW_UPDATE, GOAWAY, SETTINGS, PING) and the flush to the
 * transport.
 * Endpoint (endpoint.ts) extends it with what frames received mean; the
 * state both halves read is declared here.
 */
import type { Deflater, HeaderInput } from '../hpack/index.js';
import { BODY_NONE, type BodyInit, discardBody, type TrailersInit } from './body.js';
import { Phase as PhaseImport, type StreamEnd } from './endpoint-types.js';
import { Http2Error } from './errors.js';
import { SendWindow } from './flow.js';
import { DEFAULT_INITIAL_WINDOW_SIZE, ErrorCode, type PriorityFields } from './frame.js';
import type { Watchdog } from './limits.js';
import { Pings } from './ping.js';
import type { Scheduler, SchedulerHost } from './scheduler.js';
import type { Sender } from './sender.js';
import { PeerSettings, PendingSettings } from './settings.js';
import { type StreamCore, StreamEvent as StreamEventImport, StreamState as StreamStateImport, transition as transitionImport } from './stream.js';
import type { StreamTable } from './stream-table.js';

// The imports used per frame as module constants: V8 embeds a constant, where it loads and checks an import at every use.
const Phase = PhaseImport;
type Phase = PhaseImport;
const StreamEvent = StreamEventImport;
type StreamEvent = StreamEventImport;
const StreamState = StreamStateImport;
const transition = transitionImport;

const EMPTY = new Uint8Array(0);
const { NO_ERROR } = ErrorCode;

export abstract class EndpointOutput<S extends StreamCore> implements SchedulerHost {
  protected phase: Phase = Phase.STARTING;
  /** Made by Endpoint's constructor (they call back into the connection). */
  protected sender!: Sender;
  protected scheduler!: Scheduler;
  /** What the peer advertised. */
  protected readonly peer = new PeerSettings();
  /** The peer's window for our DATA on the connection. */
  readonly sendWindow = new SendWindow(DEFAULT_INITIAL_WINDOW_SIZE);
  /** Last-Stream-ID of the GOAWAY we sent, -1 before we send one. */
  protected goawayLastId = -1;
  /** Our SETTINGS awaiting their ACK. */
  protected readonly pendingSettings = new PendingSettings();
  /** Our PINGs awaiting their ACK. */
  protected readonly pings = new Pings();

  constructor(
    protected readonly table: StreamTable<S>,
    protected readonly deflater: Deflater,
    /** Maximum padding per frame, Pad Length field included (0: none). */
    protected readonly padding: number,
    /** Timeouts and the budgets of costly frames. */
    protected readonly watchdog: Watchdog,
  ) {}

  /** Our SETTINGS, first of all (§3.4). */
  protected abstract sendPreface(): void;
  /** Removes a closed stream and tells the role. */
  protected abstract closeStream(s: S, code: number, reason?: string, how?: StreamEnd): void;
  /** RST_STREAM with `code`, and the stream closed. */
  abstract resetStream(s: S, code: number, message: string, peerFault?: boolean): void;
  /** A handler, listener or body source threw. */
  protected abstract reportError(err: unknown, s: S | null): void;

  protected writeSettings(entries: Array<[number, number]>): void {
    this.sender.settings(entries);
    this.pendingSettings.sent(entries, Date.now());
  }

  /** Sends a PING (§6.7); resolves with the round trip in ms when its ACK arrives, or rejects when the connection closes. */
  ping(opaque?: Uint8Array): Promise<number> {
    if (this.phase >= Phase.CLOSING) return Promise.reject(new Http2Error('CONNECTION_CLOSED', 'the connection is closed'));
    const { data, rtt } = this.pings.start(opaque, Date.now());
    if (data.length === 8) {
      this.sender.ping(data, false);
      this.scheduleFlush();
    }
    return rtt;
  }

  /** Applies a transition we initiate; a refused one is a bug in the engine. */
  protected apply(s: S, event: StreamEvent): void {
    const t = transition(s.state, event);
    if (t.action !== 'ok' && t.action !== 'ignore') {
      throw new Error(`h2: event ${event} not allowed on stream ${s.id} in state ${s.state}`);
    }
    s.state = t.next;
  }

  /**
   * Sends a message on `s`: the header section `fields`, then `body` and
   * `trailers` as the windows allow. `noBody`: the message has no content
   * whatever `body` is (HEAD, 204, 304).
   */
  protected sendMessage(
    s: S,
    fields: readonly HeaderInput[],
    kind: number,
    body: BodyInit,
    bytes: Uint8Array | null,
    trailers: TrailersInit | null,
    noBody: boolean,
  ): void {
    this.scheduleFlush();
    const empty = kind === BODY_NONE || (bytes !== null && bytes.length === 0);
    if (noBody || (empty && trailers === null)) {
      this.writeHeaders(s, fields, true);
      discardBody(kind, body);
      this.sentEnd(s);
      return;
    }
    this.writeHeaders(s, fields, false);
    this.scheduler.start(s, kind, body, bytes, trailers);
  }

  /** Resumes the producer of `s` that returned 'deferred'. */
  resumeBody(s: S): void {
    this.scheduler.resume(s);
  }

  /** We sent END_STREAM on `s`: it closes when the peer's side is closed too. */
  protected sentEnd(s: S): void {
    s.out?.release();
    if (s.state === StreamState.CLOSED) this.closeStream(s, NO_ERROR);
  }

  protected writeHeaders(s: S, fields: readonly HeaderInput[], endStream: boolean): void {
    const priority = s.headersSent ? null : this.headersPriority(s);
    this.apply(s, StreamEvent.SEND_HEADERS);
    if (endStream) this.apply(s, StreamEvent.SEND_END_STREAM);
    s.headersSent = true;
    this.writeBlock(s.id, 0, fields, endStream, priority);
  }

  /** The priority signal (RFC 7540 §5.3, deprecated by RFC 9113 §5.3.2) of the first HEADERS on `s`; none by default. */
  protected headersPriority(_s: S): PriorityFields | null {
    return null;
  }

  /** A field block as HEADERS (or PUSH_PROMISE when `promisedId` > 0) plus CONTINUATIONs (§4.3). */
  protected writeBlock(streamId: number, promisedId: number, fields: readonly HeaderInput[], endStream: boolean, priority: PriorityFields | null = null): void {
    this.sender.fieldBlock(streamId, promisedId, this.deflater.deflate(fields), endStream, this.padding, this.peer.maxFrameSize, fields, priority);
  }

  /** SchedulerHost: one DATA frame (END_STREAM when `end`), counted against both windows. */
  writeData(s: S, buf: Uint8Array, from: number, to: number, end: boolean): void {
    const n = to - from;
    // Padding counts against both windows (§6.9.1) and the frame size; take what room is left.
    const pad = this.padding === 0 ? 0 : Math.max(0, Math.min(this.padding, this.peer.maxFrameSize - n, this.sendWindow.size - n, s.sendWindow.size - n));
    const len = this.sender.data(s.id, buf, from, to, end, pad);
    this.sendWindow.take(len);
    s.sendWindow.take(len);
    if (n > 0) this.watchdog.progressed();
    if (end) {
      this.apply(s, StreamEvent.SEND_END_STREAM);
      this.sentEnd(s);
    }
  }

  /** SchedulerHost: the body is over: trailers (HEADERS with END_STREAM, §8.1) or an empty END_STREAM DATA. */
  finishBody(s: S): void {
    const t = s.out?.trailers ?? null;
    if (t === null) return this.writeData(s, EMPTY, 0, 0, true);
    let fields: HeaderInput[];
    try {
      fields = this.trailerSection(typeof t === 'function' ? t() : t);
    } catch (err) {
      return this.bodyFailed(s, err);
    }
    s.out!.trailers = null;
    // No trailer fields after all (a function that returned none): END_STREAM on an empty DATA, not an empty HEADERS.
    if (fields.length === 0) return this.writeData(s, EMPTY, 0, 0, true);
    this.writeHeaders(s, fields, true);
    this.sentEnd(s);
  }

  /** The trailer section to send (checked as the role requires). */
  protected abstract trailerSection(init: Exclude<TrailersInit, () => unknown>): HeaderInput[];

  /** SchedulerHost: the body's source threw. */
  bodyFailed(s: S, err: unknown): void {
    this.reportError(err, s);
    this.resetStream(s, ErrorCode.INTERNAL_ERROR, 'the body source threw');
  }

  /** SchedulerHost: the transport is full. */
  get outputBlocked(): boolean {
    return this.sender.blocked;
  }

  /** SchedulerHost: the peer's SETTINGS_MAX_FRAME_SIZE. */
  get peerMaxFrameSize(): number {
    return this.peer.maxFrameSize;
  }

  get pendingBytes(): number {
    return this.sender.writer.pendingBytes;
  }

  protected writeRst(id: number, code: number, reason: string): void {
    this.sender.rst(id, code, reason);
  }

  protected writeWindowUpdate(id: number, increment: number): void {
    this.sender.windowUpdate(id, increment);
  }

  /** GOAWAY with the last stream the peer opened (§6.8); its streams above it are not processed from now on. */
  protected writeGoaway(code: number, message: string): void {
    this.sendPreface(); // our first frame is always SETTINGS, even when we close before the peer's preface
    const lastId = this.table.lastPeerId;
    this.goawayLastId = lastId;
    if (this.phase < Phase.DRAINING) this.phase = Phase.DRAINING;
    this.sender.goaway(lastId, code, message);
  }

  /** Flushes soon (coalescing everything written in this tick). */
  scheduleFlush(): void {
    this.sender.scheduleFlush();
  }

  protected flush(): void {
    this.sender.flush();
  }
}
