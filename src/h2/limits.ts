/**
 * Settings we advertise and the abuse limits, with their defaults. Every
 * limit exists because a peer can otherwise make a connection cost us
 * unbounded memory or CPU; each is configurable and has a test.
 */
import { DEFAULT_HEADER_TABLE_SIZE, DEFAULT_INITIAL_WINDOW_SIZE, DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE, MAX_WINDOW_SIZE } from './frame.js';

/** What we advertise in our SETTINGS (RFC 9113 §6.5.2) plus the connection window. */
export interface LocalSettings {
  /** SETTINGS_HEADER_TABLE_SIZE: our HPACK decoder's table (applied when the peer ACKs). Default 4096. */
  headerTableSize: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS. Default 100 (as nghttpd). */
  maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE for request bodies. Default 65535. */
  initialWindowSize: number;
  /** SETTINGS_MAX_FRAME_SIZE we accept. Default 16384. */
  maxFrameSize: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE, also the Inflater's cap (HPACK bomb). Default 65536. */
  maxHeaderListSize: number;
  /** SETTINGS_ENABLE_PUSH (a client's: whether it accepts pushed responses). Default true. */
  enablePush: boolean;
  /**
   * The connection-level receive window (raised with a WINDOW_UPDATE on stream 0
   * after the preface). It bounds the request-body octets buffered per connection.
   * Default 1 MiB.
   */
  connectionWindowSize: number;
}

export const DEFAULT_SETTINGS: Readonly<LocalSettings> = Object.freeze({
  headerTableSize: DEFAULT_HEADER_TABLE_SIZE,
  maxConcurrentStreams: 100,
  initialWindowSize: DEFAULT_INITIAL_WINDOW_SIZE,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxHeaderListSize: 65536,
  enablePush: true,
  connectionWindowSize: 1 << 20,
});

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

function checkNumber(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || !Number.isInteger(v)) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

/** Defaults merged with the given values, each checked against its legal range. */
export function resolveSettings(s: Partial<LocalSettings> = {}): LocalSettings {
  const r = { ...DEFAULT_SETTINGS, ...s };
  checkNumber('headerTableSize', r.headerTableSize, 0, 0xffffffff);
  checkNumber('maxConcurrentStreams', r.maxConcurrentStreams, 0, 0xffffffff);
  checkNumber('initialWindowSize', r.initialWindowSize, 0, MAX_WINDOW_SIZE);
  checkNumber('maxFrameSize', r.maxFrameSize, DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
  checkNumber('maxHeaderListSize', r.maxHeaderListSize, 0, 0xffffffff);
  if (typeof r.enablePush !== 'boolean') throw new RangeError(`enablePush must be true or false, got ${String(r.enablePush)}`);
  checkNumber('connectionWindowSize', r.connectionWindowSize, DEFAULT_INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE);
  return r;
}

export function resolveLimits(l: Partial<Limits> = {}): Limits {
  const r = { ...DEFAULT_LIMITS, ...l };
  for (const k of Object.keys(DEFAULT_LIMITS) as Array<keyof Limits>) {
    if (typeof r[k] !== 'number' || !(r[k] >= 0)) throw new RangeError(`limit ${k} must be a number >= 0, got ${String(r[k])}`);
  }
  return r;
}
