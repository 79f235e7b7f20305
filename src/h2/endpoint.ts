/**
 * One HTTP/2 connection (RFC 9113), either role, independent of the
 * transport: octets go in through receive(), frames come out through a
 * Transport. This is what frames mean to both ends: SETTINGS, PING, GOAWAY,
 * RST_STREAM, WINDOW_UPDATE, DATA and the stream states, flow control, the
 * abuse limits and the timeouts. The roles (server.ts's ServerConnection,
 * client.ts's ClientConnection) add what a header section means to them.
 * What the connection sends is the base class's (endpoint-output.ts).
 *
 * Errors are values: frame handlers return an H2Error, and fail() turns it
 * into GOAWAY with its RFC code and the close of the transport (§5.4.1), or
 * into an RST_STREAM (§5.4.2); either way the reason reaches the observer.
 */
import { Deflater, Inflater } from '../hpack/index.js';
import { EndpointOutput } from './endpoint-output.js';
import { type ConnectionCloseInfo, type ConnectionStats, type EndpointOptions, Phase as PhaseImport, type StreamEnd } from './endpoint-types.js';
import { Http2Error } from './errors.js';
import { FieldSectionReader } from './field-section.js';
import { RecvWindow } from './flow.js';
import {
  DEFAULT_INITIAL_WINDOW_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  errorCodeName,
  Flag as FlagImport,
  type FrameHeader,
  FrameType as FrameTypeImport,
  H2Error,
  type PriorityFields,
  parseData,
  parseGoaway,
  parsePing,
  parsePriority,
  parseRstStream,
  parseSettings,
  parseWindowUpdate,
  SettingId,
} from './frame.js';
import { FrameReader, type FrameSink } from './frame-reader.js';
import { type Limits, resolveLimits, Watchdog } from './limits.js';
import type { FrameEvent, FrameObserver } from './observer.js';
import { Scheduler } from './scheduler.js';
import { Sender, type Transport } from './sender.js';
import { type LocalSettings, resolveSettings } from './settings.js';
import { type StreamCore, StreamEvent as StreamEventImport, StreamState as StreamStateImport, transition as transitionImport } from './stream.js';
import { type StreamMap, StreamTable } from './stream-table.js';

// The imports used per frame as module constants: V8 embeds a constant, where it loads and checks an import at every use.
const Phase = PhaseImport;
type Phase = PhaseImport;
const Flag = FlagImport;
const FrameType = FrameTypeImport;
const StreamEvent = StreamEventImport;
const StreamState = StreamStateImport;
type StreamState = StreamStateImport;
const transition = transitionImport;

export type { ConnectionCloseInfo, ConnectionStats, EndpointOptions, StreamEnd, Transport };
export { Phase };

const { PROTOCOL_ERROR, FLOW_CONTROL_ERROR, ENHANCE_YOUR_CALM, NO_ERROR } = ErrorCode;

const connErr = (code: number, message: string): H2Error => new H2Error('connection', code, message);
const streamErr = (id: number, code: number, message: string): H2Error => new H2Error('stream', code, message, id);

export abstract class Endpoint<S extends StreamCore = StreamCore> extends EndpointOutput<S> implements FrameSink {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly settings: LocalSettings;
  readonly limits: Limits;
  protected readonly onFrame: FrameObserver | null;
  private readonly onCloseCb: ((info: ConnectionCloseInfo) => void) | null;

  protected readonly reader: FrameReader;
  protected readonly sections: FieldSectionReader;
  protected readonly inflater: Inflater;

  // ---- streams
  /** The open streams (the table's). */
  protected readonly streams: StreamMap<S>;

  // ---- settings (§6.5)
  /** The initial stream window we enforce for the peer's DATA. */
  protected recvInitialWindow = DEFAULT_INITIAL_WINDOW_SIZE;
  protected prefaceSent = false;

  // ---- flow control (§6.9)
  /** Our window for the peer's DATA on the connection. */
  protected readonly recvWindow = new RecvWindow(DEFAULT_INITIAL_WINDOW_SIZE);

  // ---- lifecycle
  /** The peer's GOAWAY, once received. */
  protected peerGoaway: ConnectionCloseInfo['peerGoaway'] = null;
  protected closeError: H2Error | null = null;
  protected closeReason = '';
  /** Date.now() at the read being handled: one clock read per read, not one per frame (2% of a client's CPU). */
  protected readAt = 0;
  /** Date.now(), or the read's time while a read is being handled. */
  protected clock(): number {
    return this.sender.inReceive ? this.readAt : Date.now();
  }

  /** True for the server role: the peer opens odd streams and we push even ones (§5.1.1). */
  protected readonly isServer: boolean;

  constructor(transport: Transport, options: EndpointOptions, server: boolean) {
    const settings = resolveSettings(options.settings);
    const limits = resolveLimits(options.limits);
    super(
      new StreamTable<S>(server, Math.max(256, Math.min(4096, settings.maxConcurrentStreams * 2))),
      new Deflater(options.encoderTableSize ?? 4096),
      Math.max(0, Math.min(256, Math.floor(options.padding ?? 0))),
      new Watchdog(limits, Date.now()),
    );
    this.isServer = server;
    this.id = options.id ?? 1;
    this.remoteAddress = options.remoteAddress ?? '';
    this.remotePort = options.remotePort ?? 0;
    this.onFrame = options.onFrame ?? null;
    this.onCloseCb = options.onClose ?? null;
    this.settings = settings;
    this.limits = limits;
    this.streams = this.table.streams;
    this.reader = new FrameReader(this, server, DEFAULT_MAX_FRAME_SIZE);
    this.inflater = new Inflater({ maxHeaderListSize: this.settings.maxHeaderListSize, sharedPairs: true });
    this.sections = new FieldSectionReader(
      this.inflater,
      this.limits.maxHeaderBlockSize,
      this.limits.maxContinuations,
      {
        fieldSection: (type, id, flags, priority, promised, fields) => this.fieldSection(type, id, flags, priority, promised, fields),
        observeRecv: (h, details) => this.observeRecv(h, details),
        zeroProgressFrame: () => this.zeroProgressFrame(),
      },
      this.onFrame !== null,
      this.limits.maxHeaderFields,
    );
    this.sender = new Sender(transport, this.limits, this.id, this.onFrame, {
      pump: (budget) => this.scheduler.pump(budget),
      producing: () => this.phase < Phase.CLOSING,
      moreToSend: () => this.scheduler.pending,
      peerNotReading: () => this.connectionError(ENHANCE_YOUR_CALM, 'the peer does not read our frames'),
    });
    this.sender.coalesce = options.coalesceWrites === true;
    this.scheduler = new Scheduler(this);
    this.watchdog.start(this.tick);
  }

  /** Number of open streams (both directions). */
  get streamCount(): number {
    return this.streams.size;
  }

  /** What this connection holds in memory now (see ConnectionStats). */
  get stats(): ConnectionStats {
    let held = 0;
    for (const s of this.streams.values()) held += this.heldBytes(s);
    return {
      receiveBuffered: this.reader.buffered,
      headerBlock: this.sections.block.length,
      queuedBytes: this.sender.writer.pendingBytes,
      queuedFrames: this.sender.writer.frames,
      heldBody: held,
      streams: this.streams.size,
    };
  }

  /** True once the connection has ended or is ending because of an error. */
  get closed(): boolean {
    return this.phase >= Phase.CLOSING;
  }

  // ==== what the roles add ======================================================

  /** The SETTINGS of our preface (§3.4). */
  protected abstract prefaceSettings(): Array<[number, number]>;
  /**
   * A complete, decoded field block: HEADERS on `streamId` (a new stream, a
   * response, trailers), or PUSH_PROMISE on `streamId` promising
   * `promisedStreamId`. `fields` is null when the list exceeded our
   * SETTINGS_MAX_HEADER_LIST_SIZE (`tooLarge`; the HPACK context is intact).
   */
  protected abstract fieldSection(
    type: number,
    streamId: number,
    flags: number,
    priority: PriorityFields | null,
    promisedStreamId: number,
    fields: ReadonlyArray<readonly [string, string]> | null,
  ): H2Error | null | void;
  /** DATA for `s` passed the checks (state, windows, content-length): hand it to the application. */
  protected abstract deliver(s: S, data: Uint8Array): H2Error | null | void;
  /** The peer's END_STREAM on `s` (after DATA or trailers). */
  protected abstract remoteEnd(s: S): void;
  /** `s` closed with `code`; tell the application. */
  protected abstract streamClosed(s: S, code: number, reason: string, how: StreamEnd): void;
  /** Received body octets of `s` not yet taken by the application. */
  protected heldBytes(_s: S): number {
    return 0;
  }
  /** Drops what `s` holds of received body (it closed); returns the octets dropped. */
  protected dropHeld(_s: S): number {
    return 0;
  }
  /** A handler or listener threw; `s` (if any) is reset with INTERNAL_ERROR. */
  protected reportError(_err: unknown, _s: S | null): void {}

  // ==== input ===================================================================

  /** Feeds octets received from the transport. */
  receive(chunk: Uint8Array): void {
    if (this.phase >= Phase.CLOSING || chunk.length === 0) return;
    this.readAt = Date.now();
    this.sender.inReceive = true;
    let frames = 0;
    try {
      frames = this.reader.push(chunk);
    } finally {
      this.sender.inReceive = false;
    }
    this.watchdog.received(Date.now(), this.reader.midFrame, frames); // idle from the read's end: a handler may have run long
    // coalesceWrites: what the read produced goes out with the rest of this turn's frames.
    if (this.sender.coalesce) this.scheduleFlush();
    else this.flush();
  }

  /** The transport can take more octets. */
  onDrain(): void {
    if (!this.sender.blocked) return;
    this.watchdog.progressed();
    this.sender.drained();
  }

  /** The transport closed (peer gone, or after our end()). */
  onTransportClose(reason = 'transport closed'): void {
    if (this.phase === Phase.CLOSED) return;
    this.phase = Phase.CLOSED;
    this.reader.close();
    if (!this.closeReason) this.closeReason = reason;
    this.stopTimers();
    const code = this.closeError?.errorCode ?? ErrorCode.CANCEL;
    for (const s of [...this.streams.values()]) this.abortStream(s, code, this.closeReason, 'transport');
    this.sender.transportClosed();
    this.notifyClose();
  }

  /** FrameSink: the framing rules were broken. */
  framingError(code: number, message: string): void {
    this.connectionError(code, message);
  }

  /** FrameSink: one frame. */
  frame(h: FrameHeader, p: Uint8Array): void {
    let err: H2Error | null | void;
    if (this.sections.block.streamId !== 0 && h.type !== FrameType.CONTINUATION) {
      // §6.10 and §4.3: a field block is contiguous; §5.5: extension frames in it too.
      err = connErr(
        PROTOCOL_ERROR,
        `${h.type <= 9 ? 'frame' : 'extension frame'} of type ${h.type} inside a header block on stream ${this.sections.block.streamId} (§6.10)`,
      );
    } else {
      switch (h.type) {
        case FrameType.DATA:
          err = this.onData(h, p);
          break;
        case FrameType.HEADERS:
          err = this.onHeaders(h, p);
          break;
        case FrameType.PRIORITY:
          err = this.onPriority(h, p);
          break;
        case FrameType.RST_STREAM:
          err = this.onRstStream(h, p);
          break;
        case FrameType.SETTINGS:
          err = this.onSettings(h, p);
          break;
        case FrameType.PUSH_PROMISE:
          err = this.onPushPromise(h, p);
          break;
        case FrameType.PING:
          err = this.onPing(h, p);
          break;
        case FrameType.GOAWAY:
          err = this.onGoaway(h, p);
          break;
        case FrameType.WINDOW_UPDATE:
          err = this.onWindowUpdate(h, p);
          break;
        case FrameType.CONTINUATION:
          err = this.sections.continuation(h, p);
          break;
        default:
          // §4.1, §5.5: unknown frame types are ignored.
          this.observeRecv(h, {});
          err = this.zeroProgressFrame();
      }
    }
    if (err) this.fail(err);
  }

  /** The one place where errors become frames: GOAWAY and close, or RST_STREAM (§5.4). */
  protected fail(e: H2Error): void {
    if (e.scope === 'connection') this.connectionError(e.errorCode, e.message);
    else this.streamError(e.streamId, e.errorCode, e.message);
  }

  protected observeRecv(h: FrameHeader, details: Partial<FrameEvent>): void {
    if (this.onFrame === null) return;
    this.onFrame({ connectionId: this.id, direction: 'recv', type: h.type, flags: h.flags, streamId: h.streamId, length: h.length, ...details });
  }

  /** A header block on a stream that is no longer open (§5.1): the state table's error, or a frame without progress. */
  protected headersOnClosed(id: number, state: StreamState): H2Error | null {
    const t = transition(state, StreamEvent.RECV_HEADERS);
    if (t.action === 'connection-error') return connErr(t.code, `HEADERS on closed stream ${id} (§5.1)`);
    if (t.action === 'stream-error') return streamErr(id, t.code, `HEADERS on closed stream ${id} (§5.1)`);
    return this.zeroProgressFrame();
  }

  protected zeroProgressFrame(): H2Error | null {
    return this.watchdog.zeroProgress.take(Date.now()) ? null : connErr(ENHANCE_YOUR_CALM, 'too many frames that make no progress');
  }

  // ---- DATA (§6.1) ------------------------------------------------------------

  private onData(h: FrameHeader, p: Uint8Array): H2Error | null | void {
    const f = parseData(h, p);
    if (f instanceof H2Error) return f;
    if (this.onFrame !== null) this.observeRecv(h, { padLength: f.padLength });
    const len = h.length;
    const id = h.streamId;
    // §6.9: DATA counts against the connection window whatever the stream's state.
    if (!this.recvWindow.consume(len)) {
      return connErr(FLOW_CONTROL_ERROR, `DATA of ${len} octets exceeds the connection window ${this.recvWindow.size} (§6.9.1)`);
    }
    const endStream = (f.flags & Flag.END_STREAM) !== 0;
    const s = this.streams.get(id);
    if (s === undefined) {
      const t = transition(this.table.stateOf(id), StreamEvent.RECV_DATA);
      this.creditConnection(len);
      if (t.action === 'connection-error') return connErr(t.code, `DATA on idle stream ${id} (§5.1)`);
      if (t.action === 'stream-error') return streamErr(id, t.code, `DATA on closed stream ${id} (§6.1)`);
      // Ignored: we reset that stream, and the peer had DATA in flight (§5.4.2), maybe many small frames.
      // Octets cost the peer connection window like any DATA; only empty frames make no progress.
      return len === 0 ? this.zeroProgressFrame() : undefined;
    }
    const t = transition(s.state, StreamEvent.RECV_DATA);
    if (t.action !== 'ok') {
      this.creditConnection(len);
      if (t.action === 'connection-error') return connErr(t.code, `DATA on stream ${id} in state ${s.state} (§5.1)`);
      if (t.action === 'stream-error') return streamErr(id, t.code, `DATA on half-closed (remote) stream ${id} (§5.1)`);
      return;
    }
    if (!s.recvWindow.consume(len)) {
      this.creditConnection(len);
      return streamErr(id, FLOW_CONTROL_ERROR, `DATA of ${len} octets exceeds the stream window ${s.recvWindow.size} (§6.9.1)`);
    }
    const data = f.data;
    if (len === 0 && !endStream) {
      const e = this.zeroProgressFrame();
      if (e) return e;
    }
    s.received += data.length;
    if (s.contentLength >= 0 && s.received > s.contentLength) {
      this.creditConnection(len);
      return streamErr(id, PROTOCOL_ERROR, `more DATA than content-length ${s.contentLength} (§8.1.1)`);
    }
    // Padding is consumed at once (§6.1: it counts toward flow control).
    const pad = len - data.length;
    if (pad > 0) {
      this.creditConnection(pad);
      this.creditStream(s, pad);
    }
    if (data.length > 0) {
      const e = this.deliver(s, data);
      if (e) return e;
    }
    if (endStream) return this.endOfMessage(s);
  }

  /** The peer's END_STREAM: content-length must match (§8.1.1); half-close, tell the role. */
  protected endOfMessage(s: S): H2Error | null | void {
    if (s.contentLength >= 0 && s.received !== s.contentLength) {
      return streamErr(s.id, PROTOCOL_ERROR, `${s.received} octets of DATA but content-length ${s.contentLength} (§8.1.1)`);
    }
    this.apply(s, StreamEvent.RECV_END_STREAM);
    s.remoteEnded = true;
    this.remoteEnd(s);
    if (s.state === StreamState.CLOSED) this.closeStream(s, NO_ERROR);
  }

  /** Returns consumed octets to the peer's connection window (WINDOW_UPDATE when half is used). */
  protected creditConnection(n: number): void {
    if (n <= 0 || this.phase >= Phase.CLOSING) return;
    const inc = this.recvWindow.release(n, this.settings.connectionWindowSize >>> 1, false);
    if (inc > 0) this.writeWindowUpdate(0, inc);
  }

  /** Returns octets of `s` the application took to the peer's stream window. */
  protected creditStream(s: S, n: number): void {
    if (n <= 0 || s.remoteEnded || s.closed) return;
    const inc = s.recvWindow.release(n, this.recvInitialWindow >>> 1, true);
    if (inc > 0) this.writeWindowUpdate(s.id, inc);
  }

  // ---- HEADERS (§6.2), PUSH_PROMISE (§6.6) and CONTINUATION (§6.10) ----------------

  private onHeaders(h: FrameHeader, p: Uint8Array): H2Error | null | void {
    if (this.isServer && !this.table.isPeerId(h.streamId) && h.streamId !== 0) {
      // §5.1.1: clients open odd streams; even ones are ours (reserved (local) or idle).
      return connErr(PROTOCOL_ERROR, `HEADERS on server-initiated stream ${h.streamId} (§5.1.1)`);
    }
    return this.sections.headers(h, p);
  }

  private onPushPromise(h: FrameHeader, p: Uint8Array): H2Error | null | void {
    if (this.isServer || !this.settings.enablePush) {
      if (this.onFrame !== null) this.observeRecv(h, {});
      // §8.4: a client cannot push; §6.6: nor may a server once the client disabled push.
      return connErr(PROTOCOL_ERROR, this.isServer ? 'PUSH_PROMISE from a client (§8.4)' : 'PUSH_PROMISE while SETTINGS_ENABLE_PUSH is 0 (§6.6)');
    }
    return this.sections.pushPromise(h, p);
  }

  // ---- PRIORITY (§6.3), RST_STREAM (§6.4) -----------------------------------------

  private onPriority(h: FrameHeader, p: Uint8Array): H2Error | null | void {
    const f = parsePriority(h, p);
    if (f instanceof H2Error) return f;
    if (this.onFrame !== null) this.observeRecv(h, { priority: f.priority });
    if (f.priority.dependency === h.streamId) {
      return streamErr(h.streamId, PROTOCOL_ERROR, `stream ${h.streamId} depends on itself (RFC 7540 §5.3.1)`);
    }
    // Priorities are otherwise ignored (RFC 9113 §5.3.2), but count as no progress.
    return this.zeroProgressFrame();
  }

  private onRstStream(h: FrameHeader, p: Uint8Array): H2Error | null | void {
    const f = parseRstStream(h, p);
    if (f instanceof H2Error) return f;
    if (this.onFrame !== null) this.observeRecv(h, { errorCode: f.errorCode });
    const s = this.streams.get(h.streamId);
    if (s === undefined) {
      const t = transition(this.table.stateOf(h.streamId), StreamEvent.RECV_RST_STREAM);
      if (t.action === 'connection-error') return connErr(t.code, `RST_STREAM on idle stream ${h.streamId} (§6.4)`);
      return this.zeroProgressFrame();
    }
    const t = transition(s.state, StreamEvent.RECV_RST_STREAM);
    if (t.action === 'connection-error') return connErr(t.code, `RST_STREAM on stream ${h.streamId} (§5.1)`);
    // Streams the peer cancels of the ones it opened count toward the rapid reset budget (CVE-2023-44487).
    const counts = !s.local;
    s.state = t.next;
    this.closeStream(s, f.errorCode, `reset by the peer (${errorCodeName(f.errorCode)})`, 'peer-reset');
    if (counts && !this.watchdog.resets.take(Date.now())) return connErr(ENHANCE_YOUR_CALM, 'too many streams reset (rapid reset)');
  }

  // ---- SETTINGS (§6.5) ----------------------------------------------------------

  /** Our preface (§3.4): SETTINGS, and a WINDOW_UPDATE for a connection window above the default. */
  protected sendPreface(): void {
    if (this.prefaceSent) return;
    this.prefaceSent = true;
    const st = this.settings;
    this.writeSettings(this.prefaceSettings());
    // Larger limits apply at once (the peer may use them as soon as it reads them);
    // smaller ones when acknowledged (§6.5.3).
    if (st.initialWindowSize > this.recvInitialWindow) this.recvInitialWindow = st.initialWindowSize;
    if (st.maxFrameSize > this.reader.maxFrameSize) this.reader.maxFrameSize = st.maxFrameSize;
    if (st.connectionWindowSize > DEFAULT_INITIAL_WINDOW_SIZE) {
      const inc = st.connectionWindowSize - DEFAULT_INITIAL_WINDOW_SIZE;
      this.recvWindow.size += inc;
      this.writeWindowUpdate(0, inc);
    }
  }

  private onSettings(h: FrameHeader, p: Uint8Array): H2Error | null | void {
    const f = parseSettings(h, p);
    if (f instanceof H2Error) return f;
    if (this.onFrame !== null) this.observeRecv(h, { settings: f.settings });
    if (f.ack) {
      const acked = this.pendingSettings.acked();
      if (acked === undefined) return this.zeroProgressFrame(); // unsolicited ACK: nothing to apply
      for (const [id, v] of acked) this.applyAckedSetting(id, v);
      return;
    }
    if (this.phase === Phase.STARTING) this.phase = Phase.ACTIVE;
    else {
      const e = this.zeroProgressFrame();
      if (e) return e;
    }
    const e = this.applyPeerSettings(f.settings);
    if (e) return e;
    this.sender.settingsAck();
  }

  /** Applies the peer's settings (§6.5.3: in order, the last of an id wins). */
  protected applyPeerSettings(settings: ReadonlyArray<readonly [number, number]>): H2Error | null {
    for (const [id, v] of settings) {
      switch (id) {
        case SettingId.HEADER_TABLE_SIZE:
          this.deflater.changeTableSize(v);
          break;
        case SettingId.ENABLE_PUSH:
          if (!this.isServer && v !== 0) return connErr(PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${v} from a server (§6.5.2)`);
          this.peer.enablePush = v === 1;
          break;
        case SettingId.INITIAL_WINDOW_SIZE: {
          // §6.9.2: the change applies to every stream's window, which may go negative.
          const delta = v - this.peer.initialWindowSize;
          this.peer.initialWindowSize = v;
          for (const s of this.streams.values()) {
            if (!s.sendWindow.add(delta)) {
              return connErr(FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE makes the window of stream ${s.id} exceed 2^31-1 (§6.9.2)`);
            }
            if (delta > 0) this.scheduler.streamWindowOpened(s);
          }
          break;
        }
        default:
          this.peer.record(id, v); // the limits that are only kept; unknown settings are ignored (§6.5.2)
      }
    }
    this.peerSettingsChanged();
    return null;
  }

  /** The peer's settings changed (e.g. more concurrent streams are allowed). */
  protected peerSettingsChanged(): void {}

  /** Our setting `id` = `v` is now acknowledged (§6.5.3). */
  private applyAckedSetting(id: number, v: number): void {
    switch (id) {
      case SettingId.HEADER_TABLE_SIZE:
        this.inflater.changeTableSize(v);
        break;
      case SettingId.INITIAL_WINDOW_SIZE: {
        const delta = v - this.recvInitialWindow;
        this.recvInitialWindow = v;
        if (delta !== 0) for (const s of this.streams.values()) s.recvWindow.adjust(delta);
        break;
      }
      case SettingId.MAX_FRAME_SIZE:
        this.reader.maxFrameSize = v;
        break;
      default:
        break;
    }
  }

  // ---- PING (§6.7), GOAWAY (§6.8), WINDOW_UPDATE (§6.9) ------------------------------

  private onPing(h: FrameHeader, p: Uint8Array): H2Error | null | void {
    const f = parsePing(h, p);
    if (f instanceof H2Error) return f;
    if (this.onFrame !== null) this.observeRecv(h, { opaque: f.opaque });
    if (f.ack && this.pings.acked(f.opaque, Date.now())) return;
    const e = this.zeroProgressFrame();
    if (e) return e;
    if (f.ack) return;
    this.sender.ping(f.opaque, true);
  }

  private onGoaway(h: FrameHeader, p: Uint8Array): H2Error | null | void {
    const f = parseGoaway(h, p);
    if (f instanceof H2Error) return f;
    if (this.onFrame !== null) this.observeRecv(h, { lastStreamId: f.lastStreamId, errorCode: f.errorCode, debugData: f.debugData });
    // §6.8: the peer opens no more streams; ours above its last stream id were not processed.
    this.peerGoaway = { lastStreamId: f.lastStreamId, errorCode: f.errorCode, debug: new TextDecoder().decode(f.debugData) };
    if (this.phase < Phase.DRAINING) this.phase = Phase.DRAINING;
    for (const s of [...this.streams.values()]) {
      if (s.local && s.id > f.lastStreamId) this.abortStream(s, ErrorCode.REFUSED_STREAM, 'not processed by the peer (GOAWAY)', 'goaway');
    }
    this.peerWentAway(f.lastStreamId, f.errorCode);
    this.maybeFinish();
  }

  /** The peer sent GOAWAY (the streams above `lastStreamId` are already closed with REFUSED_STREAM). */
  protected peerWentAway(_lastStreamId: number, _code: number): void {}

  private onWindowUpdate(h: FrameHeader, p: Uint8Array): H2Error | null | void {
    const f = parseWindowUpdate(h, p);
    if (f instanceof H2Error) {
      if (f.scope === 'stream' && !this.streams.has(h.streamId) && this.table.isIdle(h.streamId)) {
        return connErr(PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${h.streamId} (§5.1)`);
      }
      return f;
    }
    if (this.onFrame !== null) this.observeRecv(h, { increment: f.increment });
    if (h.streamId === 0) {
      if (!this.sendWindow.add(f.increment)) {
        return connErr(FLOW_CONTROL_ERROR, 'WINDOW_UPDATE makes the connection window exceed 2^31-1 (§6.9.1)');
      }
      this.scheduler.connectionWindowOpened();
      return;
    }
    const s = this.streams.get(h.streamId);
    if (s === undefined) {
      const t = transition(this.table.stateOf(h.streamId), StreamEvent.RECV_WINDOW_UPDATE);
      if (t.action === 'connection-error') return connErr(t.code, `WINDOW_UPDATE on idle stream ${h.streamId} (§5.1)`);
      return this.zeroProgressFrame();
    }
    const t = transition(s.state, StreamEvent.RECV_WINDOW_UPDATE);
    if (t.action === 'connection-error') return connErr(t.code, `WINDOW_UPDATE on stream ${h.streamId} (§5.1)`);
    if (!s.sendWindow.add(f.increment)) {
      return streamErr(s.id, FLOW_CONTROL_ERROR, 'WINDOW_UPDATE makes the stream window exceed 2^31-1 (§6.9.1)');
    }
    this.scheduler.streamWindowOpened(s);
  }

  // ==== errors and closing ===========================================================

  /** A connection error (§5.4.1): GOAWAY with `code`, then close. */
  connectionError(code: number, message: string): void {
    if (this.phase >= Phase.CLOSING) return;
    this.closeError = new H2Error('connection', code, message);
    this.closeReason = message;
    this.die();
    this.writeGoaway(code, message);
    const streamCode = code === NO_ERROR ? ErrorCode.CANCEL : code;
    for (const s of [...this.streams.values()]) this.abortStream(s, streamCode, message, 'connection');
    this.finishTransport();
  }

  /** A stream error (§5.4.2) caused by the peer, on a stream that may not exist. */
  protected streamError(id: number, code: number, message: string): void {
    const s = this.streams.get(id);
    if (s !== undefined) return this.resetStream(s, code, message, true);
    if (!this.countPeerFault()) return;
    this.writeRst(id, code, message);
    if (!this.table.isIdle(id)) this.table.remember(id, StreamState.CLOSED_RESET_SENT);
  }

  /** Refuses a new stream of the peer's before it reaches the application. */
  protected refuse(id: number, code: number, message: string): void {
    if (!this.countPeerFault()) return;
    this.writeRst(id, code, message);
    this.table.remember(id, StreamState.CLOSED_RESET_SENT);
  }

  /**
   * A stream reset caused by the peer drains the same budget as the peer's
   * own resets (rapid reset, CVE-2023-44487; MadeYouReset, CVE-2025-8671):
   * false (and GOAWAY ENHANCE_YOUR_CALM) when it is empty.
   */
  private countPeerFault(): boolean {
    if (this.phase >= Phase.CLOSING) return false;
    if (this.watchdog.resets.take(Date.now())) return true;
    this.connectionError(ENHANCE_YOUR_CALM, 'too many streams reset or refused');
    return false;
  }

  /** Resets `s` (§5.4.2): RST_STREAM with `code`; `peerFault` counts it against the reset budget. */
  resetStream(s: S, code: number, message: string, peerFault = false): void {
    if (s.closed || this.phase >= Phase.CLOSING) return;
    if (peerFault && !this.countPeerFault()) return;
    this.apply(s, StreamEvent.SEND_RST_STREAM);
    this.writeRst(s.id, code, message);
    this.closeStream(s, code, message, 'reset');
    this.scheduleFlush();
  }

  protected addStream(s: S): void {
    this.table.add(s);
  }

  private removeStream(s: S): boolean {
    if (!this.table.remove(s)) return false;
    s.out?.release();
    s.out = null;
    return true;
  }

  /** Removes a closed stream and tells the role. */
  protected closeStream(s: S, code: number, reason = '', how: StreamEnd = 'done'): void {
    if (!this.removeStream(s)) return;
    this.table.remember(s.id, s.state === StreamState.CLOSED_RESET_SENT ? StreamState.CLOSED_RESET_SENT : StreamState.CLOSED);
    const held = this.dropHeld(s);
    if (held > 0) this.creditConnection(held);
    // Idleness counts from the last stream's close (Watchdog.check looks at it only with no streams).
    if (this.streams.size === 0) this.watchdog.lastActivity = this.clock();
    s.closeCode = code;
    this.streamClosed(s, code, reason, how);
    this.maybeFinish();
  }

  /** The connection is going (or the peer refused the stream): `s` closes with `code` without a frame of its own. */
  protected abortStream(s: S, code: number, reason: string, how: StreamEnd): void {
    if (!this.removeStream(s)) return;
    s.state = StreamState.CLOSED;
    this.dropHeld(s);
    s.closeCode = code;
    this.streamClosed(s, code, reason, how);
  }

  /** Stops all input processing and DATA production. */
  protected die(): void {
    this.phase = Phase.CLOSING;
    this.reader.close();
    this.sections.block.reset();
    this.scheduler.clear();
    this.pings.fail(new Http2Error('CONNECTION_CLOSED', 'the connection closed before the PING was acknowledged'));
  }

  /** Writes what is pending, ends the transport, and destroys it if the peer lingers. */
  protected finishTransport(): void {
    this.stopTimers();
    this.sender.finish();
  }

  /** Graceful shutdown (§6.8): GOAWAY NO_ERROR, let open streams finish, then close. */
  shutdown(): void {
    if (this.phase >= Phase.CLOSING || this.goawayLastId >= 0) {
      this.maybeFinish();
      return;
    }
    this.writeGoaway(NO_ERROR, '');
    this.maybeFinish();
    this.scheduleFlush();
  }

  /** Closes now: GOAWAY with `code` (streams close with CANCEL when it is NO_ERROR), then the transport. */
  destroy(code: number = NO_ERROR, message = 'closed'): void {
    if (this.phase >= Phase.CLOSING) {
      this.sender.destroy();
      return;
    }
    this.connectionError(code, message);
  }

  protected maybeFinish(): void {
    if (this.phase >= Phase.CLOSING || this.streams.size > 0) return;
    if (this.goawayLastId < 0 && this.peerGoaway === null) return;
    if (this.goawayLastId < 0) this.writeGoaway(NO_ERROR, '');
    this.die();
    this.finishTransport();
  }

  private notifyClose(): void {
    this.onCloseCb?.({
      connectionId: this.id,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      error: this.closeError,
      reason: this.closeReason || 'closed',
      http1Status: this.http1Status(),
      peerGoaway: this.peerGoaway,
    });
  }

  /** The HTTP/1.1 status an HTTP/1.x peer was answered with, if any (server role). */
  protected http1Status(): number | null {
    return null;
  }

  protected stopTimers(): void {
    this.watchdog.stop();
  }

  /**
   * A role's own timeouts, checked first on every tick; true when it
   * handled the tick (the connection is closing, or nothing else applies).
   */
  protected roleTick(_now: number): boolean {
    return false;
  }

  private readonly tick = (): void => {
    if (this.phase >= Phase.CLOSING) return this.stopTimers();
    const now = Date.now();
    if (this.roleTick(now)) return;
    const verdict = this.watchdog.check(now, {
      starting: this.phase === Phase.STARTING,
      unackedSettingsSince: this.pendingSettings.since,
      fieldBlockSince: this.sections.block.streamId !== 0 ? this.sections.block.startedAt : 0,
      outputStalled: this.outputStalled(),
      streamCount: this.streams.size,
    });
    if (verdict === 'idle') {
      this.closeReason = 'idle timeout';
      if (this.goawayLastId < 0) this.writeGoaway(NO_ERROR, 'idle');
      return this.maybeFinish();
    }
    if (verdict !== null) return this.connectionError(verdict.code, verdict.message);
    // An idle connection gives its output slab back (a new one is taken on the next write).
    if (this.streams.size === 0) this.sender.releaseIfIdle();
  };

  /** True when DATA waits for a transport that takes nothing or for a window the peer keeps closed. */
  private outputStalled(): boolean {
    if (this.sender.blocked || this.scheduler.waitingForWindow) return true;
    for (const s of this.streams.values()) if (s.out?.blockedOnWindow) return true;
    return false;
  }
}
