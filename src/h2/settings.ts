/**
 * SETTINGS (RFC 9113 §6.5): what we advertise, with its defaults; what the
 * peer advertised; and our SETTINGS frames in flight, which apply (where
 * they restrict the peer) only once acknowledged (§6.5.3).
 */

import { invalidArgument } from './errors.js';
import { DEFAULT_HEADER_TABLE_SIZE, DEFAULT_INITIAL_WINDOW_SIZE, DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE, MAX_WINDOW_SIZE, SettingId } from './frame.js';
import { checkNumber } from './limits.js';

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

/** Defaults merged with the given values, each checked against its legal range. */
export function resolveSettings(s: Partial<LocalSettings> = {}): LocalSettings {
  const r = { ...DEFAULT_SETTINGS, ...s };
  checkNumber('headerTableSize', r.headerTableSize, 0, 0xffffffff);
  checkNumber('maxConcurrentStreams', r.maxConcurrentStreams, 0, 0xffffffff);
  checkNumber('initialWindowSize', r.initialWindowSize, 0, MAX_WINDOW_SIZE);
  checkNumber('maxFrameSize', r.maxFrameSize, DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
  checkNumber('maxHeaderListSize', r.maxHeaderListSize, 0, 0xffffffff);
  if (typeof r.enablePush !== 'boolean') throw invalidArgument(`enablePush must be true or false, got ${String(r.enablePush)}`);
  checkNumber('connectionWindowSize', r.connectionWindowSize, DEFAULT_INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE);
  return r;
}

/** The settings in `st` that differ from the RFC's initial values, appended to `entries` in nghttp2's order. */
export function changedSettings(st: LocalSettings, entries: Array<[number, number]>): Array<[number, number]> {
  if (st.headerTableSize !== DEFAULT_HEADER_TABLE_SIZE) entries.push([SettingId.HEADER_TABLE_SIZE, st.headerTableSize]);
  if (st.initialWindowSize !== DEFAULT_INITIAL_WINDOW_SIZE) entries.push([SettingId.INITIAL_WINDOW_SIZE, st.initialWindowSize]);
  if (st.maxFrameSize !== DEFAULT_MAX_FRAME_SIZE) entries.push([SettingId.MAX_FRAME_SIZE, st.maxFrameSize]);
  return entries;
}

/** What the peer advertised: the RFC's initial values until its SETTINGS arrive (§6.5.2). */
export class PeerSettings {
  enablePush = true;
  maxConcurrentStreams = Infinity;
  initialWindowSize = DEFAULT_INITIAL_WINDOW_SIZE;
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  maxHeaderListSize = Infinity;

  /** Keeps the peer's limit `id` = `v` where it is only a number to keep; ignores the others and unknown ids. */
  record(id: number, v: number): void {
    if (id === SettingId.MAX_CONCURRENT_STREAMS) this.maxConcurrentStreams = v;
    else if (id === SettingId.MAX_FRAME_SIZE) this.maxFrameSize = v;
    else if (id === SettingId.MAX_HEADER_LIST_SIZE) this.maxHeaderListSize = v;
  }
}

/** Our SETTINGS frames that the peer has not acknowledged, oldest first (§6.5.3). */
export class PendingSettings {
  private readonly queue: Array<{ entries: Array<[number, number]>; at: number }> = [];

  sent(entries: Array<[number, number]>, now: number): void {
    this.queue.push({ entries, at: now });
  }

  /** An ACK arrived: the entries it acknowledges, or undefined for an ACK nobody asked for. */
  acked(): Array<[number, number]> | undefined {
    return this.queue.shift()?.entries;
  }

  /** When the oldest unacknowledged SETTINGS went out; 0 when none is. */
  get since(): number {
    return this.queue.length > 0 ? this.queue[0]!.at : 0;
  }
}
