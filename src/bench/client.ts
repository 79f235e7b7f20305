/**
 * One benchmark client: one connection at a time, its share of the
 * requests, at most -m of them in flight, and h2load's bookkeeping for
 * them (what counts as started, done, succeeded, failed, errored, timed
 * out; connect time, time to first byte, req/s). The protocol (HTTP/2 on
 * our engine, HTTP/1.1 on undici) is a subclass's; the schedule (as fast as
 * responses come, or --rps) and the timeouts (-T, -N) are here.
 */
import type net from 'node:net';
import { type BenchConfig, protocolOf } from './config.js';
import { ConnectError, type Established, openConnection } from './connect.js';

/** Where a worker is in a timing-based run (-D); always MAIN otherwise. */
export const Phase = { IDLE: 0, WARM_UP: 1, MAIN: 2, OVER: 3 } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** What a client needs of its worker. */
export interface ClientHost {
  readonly config: BenchConfig;
  readonly phase: Phase;
  /** Seconds (performance.now() / 1000) of the event being handled: one clock read per read from a socket. */
  clock: number;
  readonly counters: import('./stats.js').Counters;
  /**
   * A request ended: `ok` when its stream closed cleanly (else it was reset:
   * done, failed and errored), `status` its final status (-1: none came),
   * when it was sent and when it should have been (seconds).
   */
  requestEnded(status: number, ok: boolean, sentAt: number, dueAt: number): void;
  /** The first connection's negotiation lines, printed once per run by worker 0. */
  established(lines: string[]): void;
  /** -v: a line about what was received. */
  verbose(line: string): void;
  /** A connection failed or was lost (counted by reason). */
  connectFailed(e: ConnectError): void;
  /** A request failed (counted by reason). */
  requestFailed(reason: string): void;
  /** A client finished for good (its figures are final). */
  clientClosed(c: Client): void;
  /** The worker's clients in timing mode start their clock (warm-up starts with the first connection). */
  connecting(): void;
}

export abstract class Client {
  /** Requests still to start (stays 1 in timing-based mode: unbounded). */
  reqLeft: number;
  reqInflight = 0;
  reqDone = 0;
  /** The next path (each client uses the URIs in turn). */
  reqIdx = 0;
  // Per-client figures (seconds; 0: not recorded).
  clientStart = 0;
  clientEnd = 0;
  connectStart = 0;
  connectTime = 0;
  ttfb = 0;
  /** Streams closed cleanly in the main phase. */
  reqSuccess = 0;
  /** When the first requests were due (--rate: the period the connection was scheduled in). */
  dueAt = 0;
  // --rps
  private rpsTimer: ReturnType<typeof setInterval> | null = null;
  private rpsStart = 0;
  private rpsPending = 0;
  /** Requests issued on the --rps schedule: the k-th was due at rpsStart + k / rps. */
  rpsSeq = 0;
  private rpsSlots = 0;
  // -T, -N
  private activeTimer: ReturnType<typeof setTimeout> | null = null;
  private inactivityTimer: ReturnType<typeof setTimeout> | null = null;
  lastActivity = 0;
  /** The connection is up and requests may be made. */
  connected = false;
  /** Finished for good. */
  finished = false;
  protected socket: net.Socket | null = null;

  constructor(
    readonly host: ClientHost,
    readonly id: number,
    readonly reqTodo: number,
  ) {
    // 0 requests to do: timing-based; one always remains.
    this.reqLeft = reqTodo === 0 ? 1 : reqTodo;
  }

  get config(): BenchConfig {
    return this.host.config;
  }

  get timing(): boolean {
    return this.host.config.duration > 0;
  }

  /** Connects; the requests start once the connection is up. */
  connect(): void {
    const now = performance.now() / 1000;
    this.host.clock = now;
    if (!this.timing || this.host.phase === Phase.MAIN) {
      if (this.clientStart === 0) this.clientStart = now;
    } else this.host.connecting();
    // Unlike h2load, connections made during a warm-up keep their connect times.
    this.connectTime = 0;
    this.ttfb = 0;
    this.connectStart = now;
    this.lastActivity = now;
    this.armInactivity();
    this.socket = openConnection(this.config, (err, e) => (err ? this.failConnect(err) : this.established(e!)));
  }

  private failConnect(err: ConnectError): void {
    this.host.connectFailed(err);
    this.fail();
  }

  private established(e: Established): void {
    if (this.finished) {
      e.socket.destroy();
      return;
    }
    const want = protocolOf(this.config);
    if (e.protocol !== want) {
      e.socket.destroy();
      const how = want === 'h2' ? 'run with --h1 to benchmark it over HTTP/1.1' : 'give --alpn-list h2 to benchmark it over HTTP/2';
      return this.failConnect(new ConnectError(`the server chose ${e.protocol} (ALPN): ${how}`));
    }
    const now = performance.now() / 1000;
    this.host.clock = now;
    this.host.established(e.lines);
    this.connected = true;
    if (this.connectStart > 0) this.connectTime = now;
    this.lastActivity = now;
    this.startSession(e);
    if (this.config.rps > 0) {
      this.rpsStart = now;
      this.rpsTimer = setInterval(this.rpsTick, Math.max(10, 1000 / this.config.rps));
      this.rpsSlots = 1;
      this.submit();
    } else {
      let n = this.timing ? Math.max(this.reqLeft, this.config.maxConcurrentStreams) : Math.min(this.reqLeft, this.config.maxConcurrentStreams);
      while (n-- > 0 && this.connected) if (!this.submit()) break;
      this.dueAt = 0;
    }
    this.flush();
  }

  /** Starts the protocol on the established connection. */
  protected abstract startSession(e: Established): void;
  /** Sends one request; false when the connection takes no more. */
  protected abstract send(path: number, now: number, dueAt: number): boolean;
  /** Writes what was queued in this tick. */
  protected abstract flush(): void;
  /** Ends the session gracefully (no more requests) or at once. */
  protected abstract terminate(): void;

  /** Starts one request (h2load's submit_request); false when it could not. */
  submit(): boolean {
    const h = this.host;
    const idx = this.reqIdx;
    if (++this.reqIdx === this.config.paths.length) this.reqIdx = 0;
    const now = h.clock;
    let due = now;
    if (this.config.rps > 0) due = this.rpsStart + this.rpsSeq++ / this.config.rps;
    else if (this.dueAt > 0) due = this.dueAt; // --rate: the first requests were due when the connection was
    if (!this.send(idx, now, due)) {
      this.requestFailure();
      return false;
    }
    if (h.phase !== Phase.MAIN) return true;
    h.counters.started++;
    this.reqInflight++;
    if (!this.timing) this.reqLeft--;
    if (this.config.activeTimeout > 0 && this.reqLeft === 0 && this.activeTimer === null) {
      this.activeTimer = setTimeout(this.onTimeout, this.config.activeTimeout * 1000);
    }
    return true;
  }

  /** h2load's process_request_failure: what is left fails. */
  private requestFailure(): void {
    if (this.host.phase !== Phase.MAIN) return;
    const c = this.host.counters;
    c.failed += this.reqLeft;
    c.errored += this.reqLeft;
    this.reqLeft = 0;
    if (this.reqInflight === 0) this.finish();
  }

  /**
   * A stream closed: `ok` when it closed cleanly with a response (whatever
   * its status), `status` the final status or -1. Counts it and starts the
   * next request.
   */
  protected streamClosed(status: number, ok: boolean, sentAt: number, dueAt: number): void {
    const h = this.host;
    if (h.phase === Phase.MAIN) {
      if (this.reqInflight > 0) this.reqInflight--;
      if (ok) this.reqSuccess++;
      this.reqDone++;
      h.requestEnded(status, ok, sentAt, dueAt);
    }
    if (this.reqLeft === 0 && this.reqInflight === 0) return this.finish();
    if (this.finished || !this.connected || this.reqLeft === 0) return;
    if (this.config.rps > 0) {
      if (this.rpsPending > 0) {
        this.rpsPending--;
        this.submit();
      } else if (this.rpsSlots > 0) this.rpsSlots--;
      return;
    }
    this.submit();
  }

  /** The connection went away with `inflight` requests on it (h2load's process_abandoned_streams). */
  protected connectionLost(): void {
    this.connected = false;
    if (this.host.phase === Phase.MAIN) {
      const c = this.host.counters;
      const abandoned = this.reqInflight + this.reqLeft;
      c.failed += abandoned;
      c.errored += abandoned;
    }
    this.reqInflight = 0;
    this.reqLeft = 0;
    this.close();
  }

  private readonly rpsTick = (): void => {
    if (!this.connected || this.reqLeft === 0) return this.stopRps();
    const now = performance.now() / 1000;
    this.host.clock = now;
    const rps = this.config.rps;
    // The k-th request is due at rpsStart + k / rps: those due and neither sent nor pending yet.
    const n = Math.floor((now - this.rpsStart) * rps) + 1 - this.rpsSeq - this.rpsPending;
    if (n > 0) this.rpsPending += n;
    if (this.rpsPending === 0) return;
    let slots = this.config.maxConcurrentStreams - this.rpsSlots;
    if (slots <= 0) return;
    slots = Math.min(slots, this.timing ? slots : this.reqLeft, this.rpsPending);
    this.rpsSlots += slots;
    this.rpsPending -= slots;
    while (slots-- > 0) if (!this.submit()) break;
    this.flush();
  };

  private stopRps(): void {
    if (this.rpsTimer !== null) clearInterval(this.rpsTimer);
    this.rpsTimer = null;
  }

  /** Some octets arrived: the inactivity timeout starts again. */
  protected active(now: number): void {
    this.lastActivity = now;
  }

  private armInactivity(): void {
    const t = this.config.inactivityTimeout;
    if (t <= 0 || this.inactivityTimer !== null) return;
    const check = () => {
      this.inactivityTimer = null;
      if (this.finished) return;
      const idle = performance.now() / 1000 - this.lastActivity;
      if (idle >= t) return this.onTimeout();
      this.inactivityTimer = setTimeout(check, (t - idle) * 1000);
    };
    this.inactivityTimer = setTimeout(check, t * 1000);
  }

  /** -T or -N ran out: what is in flight timed out; nothing more is sent (h2load's Client::timeout). */
  private readonly onTimeout = (): void => {
    this.activeTimer = null;
    if (this.finished) return;
    if (this.host.phase === Phase.MAIN) this.host.counters.timedOut += this.reqInflight;
    // The streams aborted by closing are counted once, as abandoned, by connectionLost().
    this.terminate();
    this.connectionLost();
  };

  /** No more requests on this connection: close it gracefully. */
  finish(): void {
    if (this.finished) return;
    this.terminate();
    this.close();
  }

  /** Could not connect or the connection broke: what is left fails. */
  fail(): void {
    if (this.finished) return;
    this.connectionLost();
  }

  /** -D is over: stop at once; what is in flight is not counted. */
  stop(): void {
    if (this.finished) return;
    this.reqLeft = 0;
    this.reqInflight = 0;
    this.terminate();
    this.close();
  }

  private close(): void {
    if (this.finished) return;
    this.finished = true;
    this.connected = false;
    this.clientEnd = performance.now() / 1000;
    this.stopRps();
    if (this.activeTimer !== null) clearTimeout(this.activeTimer);
    if (this.inactivityTimer !== null) clearTimeout(this.inactivityTimer);
    this.activeTimer = this.inactivityTimer = null;
    this.host.clientClosed(this);
  }

  /** The first response octets (h2load's time to 1st byte). */
  protected firstByte(now: number): void {
    if (this.ttfb === 0 && this.connectStart > 0) this.ttfb = now;
  }
}
