/**
 * The abuse limits, with their defaults, and the watchdog that enforces the
 * ones in time. Every limit exists because a peer can otherwise make a
 * connection cost us unbounded memory or CPU; each is configurable and has a
 * test.
 */
import { invalidArgument } from './errors.js';

export interface Limits {
  /**
   * Rapid reset (CVE-2023-44487): streams the peer resets before we finished
   * them, and streams we reset or refuse because of the peer, drain a token
   * bucket of `rapidResetBurst` tokens refilled at `rapidResetRate` per second;
   * when empty: GOAWAY ENHANCE_YOUR_CALM. Defaults 1000 and 33 (nghttp2's).
   */
  rapidResetBurst: number;
  rapidResetRate: number;
  /**
   * Frames that make no progress (empty DATA without END_STREAM, empty
   * CONTINUATION, PRIORITY, PING, SETTINGS, unknown types, frames for closed
   * streams) drain a bucket of `zeroProgressBurst` refilled at
   * `zeroProgressRate` per second; when empty: GOAWAY ENHANCE_YOUR_CALM.
   * Defaults 1000 and 100.
   */
  zeroProgressBurst: number;
  zeroProgressRate: number;
  /**
   * CONTINUATION flood: the octets of one header block (HEADERS plus
   * CONTINUATIONs) before END_HEADERS; above: GOAWAY ENHANCE_YOUR_CALM.
   * Default 256 KiB (4 x maxHeaderListSize of compressed octets).
   */
  maxHeaderBlockSize: number;
  /**
   * CONTINUATION flood of small frames: CONTINUATION frames in one header
   * block; above: GOAWAY ENHANCE_YOUR_CALM. Default 16 (enough for a block
   * of maxHeaderBlockSize in frames of the default 16 KiB; nghttp2 allows 8).
   */
  maxContinuations: number;
  /**
   * Fields in one header section; more are handled as a list over
   * SETTINGS_MAX_HEADER_LIST_SIZE (a request gets 431). Bounds what one
   * stream holds when a peer sends thousands of one-octet indexed fields
   * and keeps the streams open (the "HTTP/2 bomb"). Default 128.
   */
  maxHeaderFields: number;
  /**
   * While the peer does not read (the transport holds more than
   * `outputHighWater` octets), our replies (PING and SETTINGS ACKs, RST_STREAM,
   * WINDOW_UPDATE, HEADERS) queue up; more than `maxQueuedFrames` frames or
   * `maxQueuedBytes` octets of them: GOAWAY ENHANCE_YOUR_CALM.
   * Defaults 10000 frames, 1 MiB.
   */
  maxQueuedFrames: number;
  maxQueuedBytes: number;
  /** Octets buffered in the transport above which we stop producing DATA. Default 64 KiB. */
  outputHighWater: number;
  /** Milliseconds for the peer to send the preface and its SETTINGS. Default 10 s. */
  handshakeTimeout: number;
  /** Milliseconds for the peer to ACK our SETTINGS (§6.5.3): GOAWAY SETTINGS_TIMEOUT. Default 10 s. */
  settingsTimeout: number;
  /**
   * Slowloris: milliseconds a partly received frame or an unfinished header
   * block may stay incomplete. Default 30 s.
   */
  frameTimeout: number;
  /**
   * Slow reads: milliseconds DATA may wait, without any progress, on a
   * transport the peer does not drain or on a flow-control window it keeps
   * closed; then GOAWAY ENHANCE_YOUR_CALM. Default 60 s.
   */
  sendTimeout: number;
  /** Milliseconds without frames and without open streams before GOAWAY NO_ERROR. Default 120 s. */
  idleTimeout: number;
  /** Milliseconds a closing connection waits for the peer to read our last frames before destroying it. Default 2 s. */
  closeLinger: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  rapidResetBurst: 1000,
  rapidResetRate: 33,
  zeroProgressBurst: 1000,
  zeroProgressRate: 100,
  maxHeaderBlockSize: 256 * 1024,
  maxContinuations: 16,
  maxHeaderFields: 128,
  maxQueuedFrames: 10000,
  maxQueuedBytes: 1 << 20,
  outputHighWater: 64 * 1024,
  handshakeTimeout: 10_000,
  settingsTimeout: 10_000,
  frameTimeout: 30_000,
  sendTimeout: 60_000,
  idleTimeout: 120_000,
  closeLinger: 2_000,
});

/** A token bucket: `burst` tokens, refilled at `rate` per second. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly burst: number,
    private readonly rate: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token; false when the bucket is empty. */
  take(now: number): boolean {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export function checkNumber(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || !Number.isInteger(v)) {
    throw invalidArgument(`${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

export function resolveLimits(l: Partial<Limits> = {}): Limits {
  const r = { ...DEFAULT_LIMITS, ...l };
  for (const k of Object.keys(DEFAULT_LIMITS) as Array<keyof Limits>) {
    if (typeof r[k] !== 'number' || !(r[k] >= 0)) throw invalidArgument(`limit ${k} must be a number >= 0, got ${String(r[k])}`);
  }
  return r;
}

/** What the watchdog reads of its connection on each check. */
export interface WatchedConnection {
  /** The peer's preface (its first SETTINGS) has not arrived. */
  readonly starting: boolean;
  /** When our oldest unacknowledged SETTINGS went out (0: none pending). */
  readonly unackedSettingsSince: number;
  /** When the open field block began (0: none open). */
  readonly fieldBlockSince: number;
  /** True when DATA waits for a transport that takes nothing or for a window the peer keeps closed. */
  readonly outputStalled: boolean;
  /** Open streams. */
  readonly streamCount: number;
}

/** A verdict of the watchdog: a connection error to send, or 'idle' (close gracefully). */
export type WatchVerdict = { code: number; message: string } | 'idle' | null;

/**
 * The time-based limits of one connection (handshake, SETTINGS ACK,
 * slowloris, slow reading, idleness) and the budgets of frames that cost us
 * without making progress (rapid reset, zero-progress floods).
 */
export class Watchdog {
  readonly createdAt: number;
  /** Last time octets arrived or a stream closed. */
  lastActivity: number;
  /** Since when part of a frame has been outstanding (0: none). */
  private partialSince = 0;
  /** Since when DATA has been waiting (0: not stalled). */
  private stallSince = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Streams reset by or because of the peer (CVE-2023-44487, CVE-2025-8671). */
  readonly resets: TokenBucket;
  /** Frames that make no progress (CVE-2019-9512, -9515, -9518...). */
  readonly zeroProgress: TokenBucket;

  constructor(
    private readonly limits: Limits,
    now: number,
  ) {
    this.createdAt = now;
    this.lastActivity = now;
    this.resets = new TokenBucket(limits.rapidResetBurst, limits.rapidResetRate, now);
    this.zeroProgress = new TokenBucket(limits.zeroProgressBurst, limits.zeroProgressRate, now);
  }

  /** Calls `tick` periodically (a fraction of the shortest timeout) until stop(). */
  start(tick: () => void): void {
    const L = this.limits;
    const timeouts = [L.handshakeTimeout, L.settingsTimeout, L.frameTimeout, L.idleTimeout, L.sendTimeout].filter((t) => t > 0);
    if (timeouts.length === 0) return;
    const period = Math.max(10, Math.min(1000, Math.min(...timeouts) / 4));
    this.timer = setInterval(tick, period);
    (this.timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Octets arrived: `frames` frames completed, and part of one is outstanding when `midFrame`. */
  received(now: number, midFrame: boolean, frames: number): void {
    this.lastActivity = now;
    if (midFrame) {
      if (this.partialSince === 0 || frames > 0) this.partialSince = now;
    } else this.partialSince = 0;
  }

  /** DATA went out, or the transport drained. */
  progressed(): void {
    this.stallSince = 0;
  }

  /** Checks every timeout at `now`. */
  check(now: number, c: WatchedConnection): WatchVerdict {
    const L = this.limits;
    const calm = 0xb; // ENHANCE_YOUR_CALM
    if (L.handshakeTimeout > 0 && c.starting && now - this.createdAt > L.handshakeTimeout) {
      return { code: calm, message: 'no connection preface and SETTINGS in time' };
    }
    if (L.settingsTimeout > 0 && c.unackedSettingsSince > 0 && now - c.unackedSettingsSince > L.settingsTimeout) {
      return { code: 0x4, message: 'SETTINGS not acknowledged in time (§6.5.3)' }; // SETTINGS_TIMEOUT
    }
    if (L.frameTimeout > 0) {
      if (this.partialSince !== 0 && now - this.partialSince > L.frameTimeout) return { code: calm, message: 'a frame stayed incomplete for too long' };
      if (c.fieldBlockSince !== 0 && now - c.fieldBlockSince > L.frameTimeout) return { code: calm, message: 'a header block stayed incomplete for too long' };
    }
    if (L.sendTimeout > 0) {
      if (!c.outputStalled) this.stallSince = 0;
      else if (this.stallSince === 0) this.stallSince = now;
      else if (now - this.stallSince > L.sendTimeout) return { code: calm, message: 'the peer has taken none of our DATA for too long' };
    }
    if (L.idleTimeout > 0 && c.streamCount === 0 && now - this.lastActivity > L.idleTimeout) return 'idle';
    return null;
  }
}
