/**
 * The shapes an Endpoint (endpoint.ts) is configured with and reports:
 * its options, how it ended, what it holds, how a stream ended, its phase.
 */
import type { H2Error } from './frame.js';
import type { Limits } from './limits.js';
import type { FrameObserver } from './observer.js';
import type { LocalSettings } from './settings.js';

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
  /** The GOAWAY the peer sent, if it sent one. */
  peerGoaway: { lastStreamId: number; errorCode: number; debug: string } | null;
}

/**
 * What a connection holds in memory now: received octets not yet parsed,
 * an unfinished header block, frames queued for a transport that is not
 * taking them, received body octets not yet taken, open streams.
 */
export interface ConnectionStats {
  receiveBuffered: number;
  headerBlock: number;
  queuedBytes: number;
  queuedFrames: number;
  heldBody: number;
  streams: number;
}

/** Options both roles share. */
export interface EndpointOptions {
  id?: number;
  remoteAddress?: string;
  remotePort?: number;
  settings?: Partial<LocalSettings>;
  limits?: Partial<Limits>;
  onFrame?: FrameObserver | null;
  onClose?: (info: ConnectionCloseInfo) => void;
  /**
   * Padding (§6.1, §6.2, §6.6): up to this many octets (the Pad Length field
   * included, at most 256) are added to every DATA, HEADERS and PUSH_PROMISE
   * frame, within the peer's frame size and flow-control windows, as
   * nghttp2's -b does. Default 0 (no padding).
   */
  padding?: number;
  /**
   * The HPACK encoder's own dynamic table limit (nghttp2's
   * --encoder-header-table-size); the table used is the smaller of this and
   * the peer's SETTINGS_HEADER_TABLE_SIZE. Default 4096.
   */
  encoderTableSize?: number;
  /**
   * Frames written outside the connection's own input (e.g. responses to
   * requests answered from other sockets' events) are flushed once per turn
   * of the event loop (setImmediate) instead of after each callback
   * (microtask): a proxy answering many streams from many backend reads
   * makes one write instead of one per response. Default false.
   */
  coalesceWrites?: boolean;
}

/**
 * How a stream ended: both sides done ('done'), reset by us ('reset') or by
 * the peer ('peer-reset'), not processed because of the peer's GOAWAY
 * ('goaway'), or gone with its connection ('connection': a connection
 * error; 'transport': the transport closed).
 */
export type StreamEnd = 'done' | 'reset' | 'peer-reset' | 'goaway' | 'connection' | 'transport';

/** Where a connection is in its life. */
export const Phase = {
  /** Waiting for the peer's preface (its first SETTINGS, §3.4). */
  STARTING: 0,
  ACTIVE: 1,
  /** GOAWAY sent or received (§6.8): no new streams; open ones finish. */
  DRAINING: 2,
  /** Failed or finished: no more input is read, the last frames are going out. */
  CLOSING: 3,
  /** The transport is closed. */
  CLOSED: 4,
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];
