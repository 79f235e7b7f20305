/**
 * The DATA pump (RFC 9113 §5.2, §6.1, §6.9): streams with a body to send take
 * turns, one frame each per turn (round robin), within the peer's
 * SETTINGS_MAX_FRAME_SIZE and both flow-control windows. A stream whose own
 * window is closed leaves the queue until a WINDOW_UPDATE for it; streams
 * that wait for the connection window come back all together when it opens.
 * Which role sends does not matter here.
 */
import { BODY_BYTES, BODY_ITERABLE, BODY_NONE, BODY_PRODUCER, BODY_READABLE, type BodyInit, Outgoing, type TrailersInit } from './body.js';
import type { SendWindow } from './flow.js';
import type { StreamCore } from './stream.js';

/** What the pump needs from the endpoint. */
export interface SchedulerHost {
  /** The peer's window for our DATA on the connection. */
  readonly sendWindow: SendWindow;
  /** The peer's SETTINGS_MAX_FRAME_SIZE. */
  readonly peerMaxFrameSize: number;
  /** Octets written but not yet handed to the transport. */
  readonly pendingBytes: number;
  /** Writes one DATA frame of `buf[from, to)` on `s`, with END_STREAM when `end`. */
  writeData(s: StreamCore, buf: Uint8Array, from: number, to: number, end: boolean): void;
  /** The body of `s` has gone: send its trailers or an empty END_STREAM DATA. */
  finishBody(s: StreamCore): void;
  /** The body's source failed (a producer threw, a Readable or an iterator errored). */
  bodyFailed(s: StreamCore, err: unknown): void;
  /** The transport is full: no DATA is produced now. */
  readonly outputBlocked: boolean;
  /** Flushes soon. */
  scheduleFlush(): void;
}

const utf8 = new TextEncoder();

/** The callbacks of a body that never calls back (octets, a producer). */
const NO_CALL = (): void => {};

export class Scheduler {
  private queue: Array<StreamCore | undefined> = [];
  private head = 0;
  /** Streams with DATA that wait for the connection window. */
  private connWaiters: StreamCore[] = [];

  constructor(private readonly host: SchedulerHost) {}

  /** True when some stream has a turn coming. */
  get pending(): boolean {
    return this.head < this.queue.length;
  }

  /** True when DATA waits for a window the peer keeps closed. */
  get waitingForWindow(): boolean {
    return this.connWaiters.length > 0;
  }

  /**
   * Starts the body of `s`, whose HEADERS are out: at once when it is octets
   * that fit in one frame and both windows, otherwise by turns as the
   * windows and the source allow.
   */
  start(s: StreamCore, kind: number, body: BodyInit, bytes: Uint8Array | null, trailers: TrailersInit | null): void {
    const host = this.host;
    if (kind === BODY_BYTES || kind === BODY_NONE) {
      const n = bytes === null ? 0 : bytes.length;
      if (trailers === null && !host.outputBlocked && n <= host.peerMaxFrameSize && n <= host.sendWindow.size && n <= s.sendWindow.size) {
        host.writeData(s, bytes!, 0, n, true);
        return;
      }
    }
    // Only a Readable or an iterable calls back; octets and producers are pulled here.
    const calls = kind === BODY_READABLE || kind === BODY_ITERABLE;
    s.out = new Outgoing(
      kind,
      body,
      bytes,
      trailers,
      calls
        ? () => {
            if (s.out === null || s.closed) return;
            this.enqueue(s);
            host.scheduleFlush();
          }
        : NO_CALL,
      calls
        ? (err) => {
            if (!s.closed) host.bodyFailed(s, err);
          }
        : NO_CALL,
    );
    this.enqueue(s);
  }

  /** A producer that returned 'deferred' has more: `s` gets a turn again. */
  resume(s: StreamCore): void {
    const o = s.out;
    if (o === null || !o.waiting || o.producer === null || s.closed) return;
    o.waiting = false;
    this.enqueue(s);
    this.host.scheduleFlush();
  }

  /** Gives `s` a turn. */
  enqueue(s: StreamCore): void {
    const o = s.out;
    if (o === null || o.queued) return;
    o.queued = true;
    this.queue.push(s);
  }

  /** The connection window opened: every stream that waited for it gets a turn. */
  connectionWindowOpened(): void {
    if (this.host.sendWindow.size <= 0 || this.connWaiters.length === 0) return;
    const waiters = this.connWaiters;
    this.connWaiters = [];
    for (const s of waiters) this.enqueue(s);
  }

  /** A WINDOW_UPDATE (or SETTINGS change) opened the window of `s`. */
  streamWindowOpened(s: StreamCore): void {
    const o = s.out;
    if (o?.blockedOnWindow && s.sendWindow.size > 0) {
      o.blockedOnWindow = false;
      this.enqueue(s);
    }
  }

  /** Forgets every stream (the connection failed). */
  clear(): void {
    this.queue.length = 0;
    this.head = 0;
    this.connWaiters = [];
  }

  /** Writes DATA, a frame per stream per turn, until the queue is empty or `budget` octets are pending. */
  pump(budget: number): void {
    const q = this.queue;
    while (this.head < q.length) {
      if (this.host.pendingBytes >= budget) break;
      const s = q[this.head]!;
      q[this.head++] = undefined;
      const o = s.out;
      if (o === null) continue;
      o.queued = false;
      if (this.sendSome(s, o)) {
        o.queued = true;
        q.push(s);
      }
    }
    if (this.head >= q.length) {
      q.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      q.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Sends at most one DATA frame (or the end of the body) for `s`; true to come back. */
  private sendSome(s: StreamCore, o: Outgoing): boolean {
    if (!s.canSend) return false;
    const host = this.host;
    let c = o.chunk;
    if (c === null || o.offset >= c.length) {
      c = o.chunk = null;
      if (!o.done) {
        const win = Math.min(host.sendWindow.size, s.sendWindow.size);
        if (o.kind === BODY_READABLE) {
          const r = o.readable!.read() as Uint8Array | string | null;
          if (r === null) {
            o.waiting = true;
            return false;
          }
          c = o.chunk = typeof r === 'string' ? utf8.encode(r) : r;
          o.offset = 0;
        } else if (o.kind === BODY_PRODUCER) {
          if (win <= 0) return this.waitWindow(s, o);
          let r: Uint8Array | null | 'deferred';
          try {
            r = o.producer!(Math.min(win, host.peerMaxFrameSize * 4));
          } catch (err) {
            host.bodyFailed(s, err);
            return false;
          }
          if (s.closed || s.out !== o) return false;
          if (r === 'deferred') {
            o.waiting = true;
            return false;
          }
          if (r === null) o.done = true;
          else {
            c = o.chunk = r;
            o.offset = 0;
          }
        } else if (o.kind === BODY_ITERABLE) {
          // The next chunk arrives asynchronously; pull() wakes the stream then.
          if (!o.waiting) o.pull();
          return false;
        }
      }
      if (c === null) {
        if (!o.done) return true;
        host.finishBody(s);
        return false;
      }
      if (c.length === 0) {
        o.chunk = null;
        return true;
      }
    }
    const avail = c.length - o.offset;
    const win = Math.min(host.sendWindow.size, s.sendWindow.size);
    if (win <= 0) return this.waitWindow(s, o);
    const n = Math.min(avail, win, host.peerMaxFrameSize);
    const end = n === avail && o.done && o.trailers === null;
    o.offset += n;
    host.writeData(s, c, o.offset - n, o.offset, end);
    return !end;
  }

  private waitWindow(s: StreamCore, o: Outgoing): boolean {
    if (s.sendWindow.size <= 0) o.blockedOnWindow = true;
    else this.connWaiters.push(s);
    return false;
  }
}
