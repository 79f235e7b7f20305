/**
 * Frames out: the connection's side of the transport. Frames are written
 * into the FrameWriter's slabs as they are decided; everything written in
 * one tick goes to the transport in one batch (a microtask later, or at the
 * end of the input being processed). While the transport is full, DATA
 * production stops and only control frames queue up, within limits: a peer
 * that does not read cannot make us buffer without bound. Every frame sent
 * is reported to the observer here.
 */
import type { HeaderInput } from '../hpack/index.js';
import { sentText } from './fields.js';
import { Flag, FrameType, type PriorityFields } from './frame.js';
import { FrameWriter } from './frame-writer.js';
import type { Limits } from './limits.js';
import type { FrameEvent, FrameObserver } from './observer.js';

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

/** What the sender asks of its connection. */
export interface SenderHost {
  /** Writes DATA until `budget` octets are pending (the scheduler's turn); not called once the connection is closing. */
  pump(budget: number): void;
  /** True while DATA can still be produced (the connection is not closing). */
  producing(): boolean;
  /** True when some stream has DATA waiting for its turn. */
  moreToSend(): boolean;
  /** The peer reads nothing while our replies pile up past the limits. */
  peerNotReading(): void;
}

/** Octets of DATA produced per pump before handing them to the transport. */
const PUMP_BUDGET = 256 * 1024;
/** Pump-and-write rounds per tick before yielding to other connections. */
const MAX_ROUNDS = 4;

export class Sender {
  /** Frames are written here (an idle connection holds no slab). */
  readonly writer = new FrameWriter(0);
  /** The transport holds more than limits.outputHighWater octets. */
  blocked = false;
  /** While input is processed, flushes wait for its end (one batch per read). */
  inReceive = false;
  /** The transport is closed: nothing more is written. */
  closed = false;
  private flushScheduled = false;
  private immediateScheduled = false;
  /** Flushes wait for setImmediate rather than a microtask (see EndpointOptions.coalesceWrites). */
  coalesce = false;
  private lingerTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly transport: Transport,
    private readonly limits: Limits,
    private readonly connectionId: number,
    readonly observer: FrameObserver | null,
    private readonly host: SenderHost,
  ) {
    if (transport.releasesWritten === true) this.writer.consumed = () => transport.bufferedAmount === 0;
  }

  observe(type: number, flags: number, streamId: number, length: number, details: Partial<FrameEvent>): void {
    this.observer!({ connectionId: this.connectionId, direction: 'send', type, flags, streamId, length, ...details });
  }

  // ---- frames ---------------------------------------------------------------------

  settings(entries: Array<[number, number]>): void {
    this.writer.settings(entries);
    if (this.observer) this.observe(FrameType.SETTINGS, 0, 0, entries.length * 6, { settings: entries });
  }

  settingsAck(): void {
    this.writer.settings([], true);
    if (this.observer) this.observe(FrameType.SETTINGS, Flag.ACK, 0, 0, { settings: [] });
  }

  ping(opaque: Uint8Array, ack: boolean): void {
    this.writer.ping(opaque, ack);
    if (this.observer) this.observe(FrameType.PING, ack ? Flag.ACK : 0, 0, 8, { opaque: opaque.slice() });
  }

  rst(id: number, code: number, reason: string): void {
    this.writer.rstStream(id, code);
    if (this.observer) this.observe(FrameType.RST_STREAM, 0, id, 4, { errorCode: code, ...(reason ? { reason } : {}) });
  }

  windowUpdate(id: number, increment: number): void {
    this.writer.windowUpdate(id, increment);
    if (this.observer) this.observe(FrameType.WINDOW_UPDATE, 0, id, 4, { increment });
  }

  goaway(lastId: number, code: number, message: string): void {
    const debug = new TextEncoder().encode(message.slice(0, 200));
    this.writer.goaway(lastId, code, debug);
    if (this.observer)
      this.observe(FrameType.GOAWAY, 0, 0, 8 + debug.length, {
        lastStreamId: lastId,
        errorCode: code,
        debugData: debug,
        ...(message ? { reason: message } : {}),
      });
  }

  /**
   * An encoded field block as HEADERS (or PUSH_PROMISE when `promisedId` >
   * 0) plus CONTINUATIONs (§4.3); `fields` is what the observer is shown.
   */
  fieldBlock(
    streamId: number,
    promisedId: number,
    block: Uint8Array,
    endStream: boolean,
    pad: number,
    maxFrameSize: number,
    fields: readonly HeaderInput[],
    priority: PriorityFields | null = null,
  ): void {
    if (this.observer === null) {
      this.writer.fieldBlock(streamId, promisedId, block, endStream, pad, maxFrameSize, undefined, priority);
      return;
    }
    const headers = fields.map(([n, v]) => [sentText(n), sentText(v)] as [string, string]);
    this.writer.fieldBlock(
      streamId,
      promisedId,
      block,
      endStream,
      pad,
      maxFrameSize,
      (type, flags, length) => {
        const details: Partial<FrameEvent> =
          type === FrameType.CONTINUATION ? {} : { padLength: pad, ...(promisedId ? { promisedStreamId: promisedId } : {}), ...(priority ? { priority } : {}) };
        if (flags & Flag.END_HEADERS) details.headers = headers;
        this.observe(type, flags, streamId, length, details);
      },
      priority,
    );
  }

  /** PRIORITY (§6.3). */
  priority(streamId: number, p: PriorityFields): void {
    this.writer.priority(streamId, p);
    if (this.observer) this.observe(FrameType.PRIORITY, 0, streamId, 5, { priority: p });
  }

  /** One DATA frame with `pad` octets of padding (the Pad Length field included; 0: none); returns its flow-controlled length. */
  data(streamId: number, buf: Uint8Array, from: number, to: number, end: boolean, pad: number): number {
    const len = this.writer.data(streamId, buf, from, to, end, pad - 1);
    if (this.observer) this.observe(FrameType.DATA, (end ? Flag.END_STREAM : 0) | (pad ? Flag.PADDED : 0), streamId, len, { padLength: pad });
    return len;
  }

  /** Raw octets before or instead of frames (an HTTP/1.1 answer, the 101 of an upgrade). */
  octets(b: Uint8Array): void {
    this.writer.reserve(b.length);
    this.writer.copy(b);
  }

  // ---- to the transport --------------------------------------------------------------

  /** Flushes soon (coalescing everything written in this tick). */
  scheduleFlush(): void {
    if (this.inReceive || this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    if (this.coalesce) setImmediate(this.flushTask);
    else queueMicrotask(this.flushTask);
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
  flush(): void {
    if (this.closed) return;
    for (let round = 0; ; round++) {
      if (this.blocked) {
        // The peer is not reading: our replies queue up, within bounds.
        if (this.writer.frames > this.limits.maxQueuedFrames || this.writer.pendingBytes > this.limits.maxQueuedBytes) {
          this.writer.discard();
          this.host.peerNotReading();
        }
        return;
      }
      if (this.host.producing()) this.host.pump(PUMP_BUDGET);
      const chunks = this.writer.take();
      if (chunks === null) return;
      this.transport.write(chunks);
      const buffered = this.transport.bufferedAmount;
      if (buffered === 0 && this.transport.releasesWritten === true) this.writer.rewind();
      if (buffered >= this.limits.outputHighWater) {
        this.blocked = true;
        return;
      }
      if (!this.host.moreToSend()) return;
      if (round + 1 >= MAX_ROUNDS) {
        if (!this.immediateScheduled) {
          this.immediateScheduled = true;
          setImmediate(this.immediateTask);
        }
        return;
      }
    }
  }

  /** The transport drained: true when it had been full (DATA may flow again). */
  drained(): boolean {
    if (!this.blocked) return false;
    this.blocked = false;
    this.flush();
    return true;
  }

  /** Idle: give the slab back once the transport has consumed it (a new one is taken on the next write). */
  releaseIfIdle(): void {
    if (!this.blocked && this.transport.releasesWritten === true && this.transport.bufferedAmount === 0) this.writer.release();
  }

  /** Writes what is pending, ends the transport, and destroys it if the peer lingers. */
  finish(): void {
    const chunks = this.writer.take();
    if (this.closed) return;
    if (chunks) this.transport.write(chunks);
    this.transport.end();
    if (this.limits.closeLinger > 0) {
      this.lingerTimer = setTimeout(() => this.transport.destroy(), this.limits.closeLinger);
      (this.lingerTimer as { unref?: () => void }).unref?.();
    } else this.transport.destroy();
  }

  /** Closes the transport at once. */
  destroy(): void {
    if (!this.closed) this.transport.destroy();
  }

  /** The transport closed: drop what was not written. */
  transportClosed(): void {
    this.closed = true;
    if (this.lingerTimer !== null) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    this.writer.discard();
    // A transport told of its close may still hold chunks (one that queues or tees them): release()
    // asks consumed() (nothing buffered) before the slabs go to the shared pool.
    this.writer.release();
  }
}
