/**
 * Stream states (RFC 9113 §5.1) as an explicit transition table:
 * (state, event) -> next state, or the error the RFC names for that frame in
 * that state. "send" events are frames we write, "recv" events frames from the
 * peer; END_STREAM is its own event, applied after the frame that carries it.
 *
 * The RFC's "closed" state is split in two, because what may still arrive
 * depends on how the stream closed (§5.1 "closed"): after we sent RST_STREAM
 * the peer may have frames in flight, which are processed minimally and
 * discarded (CLOSED_RESET_SENT); otherwise (END_STREAM both ways, or the
 * peer's RST_STREAM) only PRIORITY, WINDOW_UPDATE and RST_STREAM are
 * tolerated (CLOSED).
 */
import type { Outgoing } from './body.js';
import { RecvWindow, SendWindow } from './flow.js';
import { ErrorCode } from './frame.js';

export const StreamState = {
  IDLE: 0,
  RESERVED_LOCAL: 1,
  RESERVED_REMOTE: 2,
  OPEN: 3,
  HALF_CLOSED_LOCAL: 4,
  HALF_CLOSED_REMOTE: 5,
  CLOSED: 6,
  CLOSED_RESET_SENT: 7,
} as const;
export type StreamState = (typeof StreamState)[keyof typeof StreamState];

export const StreamEvent = {
  SEND_HEADERS: 0,
  SEND_PUSH_PROMISE: 1,
  SEND_DATA: 2,
  SEND_END_STREAM: 3,
  SEND_RST_STREAM: 4,
  SEND_WINDOW_UPDATE: 5,
  RECV_HEADERS: 6,
  RECV_PUSH_PROMISE: 7,
  RECV_DATA: 8,
  RECV_END_STREAM: 9,
  RECV_RST_STREAM: 10,
  RECV_WINDOW_UPDATE: 11,
  RECV_PRIORITY: 12,
} as const;
export type StreamEvent = (typeof StreamEvent)[keyof typeof StreamEvent];

const STATE_NAMES = ['idle', 'reserved (local)', 'reserved (remote)', 'open', 'half-closed (local)', 'half-closed (remote)', 'closed', 'closed'];
const EVENT_NAMES = Object.keys(StreamEvent);

export function stateName(s: StreamState): string {
  return STATE_NAMES[s]!;
}
export function eventName(e: StreamEvent): string {
  return EVENT_NAMES[e]!;
}

/**
 * What a (state, event) pair leads to:
 *  - 'ok': the frame is legal; the stream moves to `next` (possibly the same state);
 *  - 'ignore': the frame is legal but discarded (§5.1 "closed");
 *  - 'stream-error' / 'connection-error': the peer broke §5.1; `code` is the RFC's error code;
 *  - 'local-error': we tried to send something the state forbids (a bug in the caller, never the peer's fault).
 */
export interface Transition {
  readonly action: 'ok' | 'ignore' | 'stream-error' | 'connection-error' | 'local-error';
  readonly next: StreamState;
  readonly code: number;
}

const S = StreamState;
const go = (next: StreamState): Transition => Object.freeze({ action: 'ok', next, code: ErrorCode.NO_ERROR });
const stay = (s: StreamState): Transition => go(s);
const IGNORE = (s: StreamState): Transition => Object.freeze({ action: 'ignore', next: s, code: ErrorCode.NO_ERROR });
const SE = (s: StreamState, code: number): Transition => Object.freeze({ action: 'stream-error', next: s, code });
const CE = (s: StreamState, code: number): Transition => Object.freeze({ action: 'connection-error', next: s, code });
const BUG = (s: StreamState): Transition => Object.freeze({ action: 'local-error', next: s, code: ErrorCode.INTERNAL_ERROR });

const { PROTOCOL_ERROR, STREAM_CLOSED } = ErrorCode;

/*
 * Columns, in StreamEvent order:
 *   SEND_HEADERS  SEND_PUSH_PROMISE  SEND_DATA  SEND_END_STREAM  SEND_RST_STREAM  SEND_WINDOW_UPDATE
 *   RECV_HEADERS  RECV_PUSH_PROMISE  RECV_DATA  RECV_END_STREAM  RECV_RST_STREAM  RECV_WINDOW_UPDATE  RECV_PRIORITY
 */
const ROWS: Record<StreamState, readonly Transition[]> = {
  // §5.1 idle: HEADERS opens the stream, PUSH_PROMISE reserves it; anything but
  // HEADERS or PRIORITY received is a connection error PROTOCOL_ERROR.
  [S.IDLE]: [
    go(S.OPEN),
    go(S.RESERVED_LOCAL),
    BUG(S.IDLE),
    BUG(S.IDLE),
    BUG(S.IDLE),
    BUG(S.IDLE),
    go(S.OPEN),
    go(S.RESERVED_REMOTE),
    CE(S.IDLE, PROTOCOL_ERROR),
    CE(S.IDLE, PROTOCOL_ERROR),
    CE(S.IDLE, PROTOCOL_ERROR),
    CE(S.IDLE, PROTOCOL_ERROR),
    stay(S.IDLE),
  ],
  // §5.1 reserved (local): we may send HEADERS (-> half-closed (remote)) or
  // RST_STREAM; the peer may send RST_STREAM, PRIORITY or WINDOW_UPDATE only.
  [S.RESERVED_LOCAL]: [
    go(S.HALF_CLOSED_REMOTE),
    BUG(S.RESERVED_LOCAL),
    BUG(S.RESERVED_LOCAL),
    BUG(S.RESERVED_LOCAL),
    go(S.CLOSED_RESET_SENT),
    BUG(S.RESERVED_LOCAL),
    CE(S.RESERVED_LOCAL, PROTOCOL_ERROR),
    CE(S.RESERVED_LOCAL, PROTOCOL_ERROR),
    CE(S.RESERVED_LOCAL, PROTOCOL_ERROR),
    CE(S.RESERVED_LOCAL, PROTOCOL_ERROR),
    go(S.CLOSED),
    stay(S.RESERVED_LOCAL),
    stay(S.RESERVED_LOCAL),
  ],
  // §5.1 reserved (remote): the peer may send HEADERS (-> half-closed (local));
  // we may send RST_STREAM, WINDOW_UPDATE (and PRIORITY).
  [S.RESERVED_REMOTE]: [
    BUG(S.RESERVED_REMOTE),
    BUG(S.RESERVED_REMOTE),
    BUG(S.RESERVED_REMOTE),
    BUG(S.RESERVED_REMOTE),
    go(S.CLOSED_RESET_SENT),
    stay(S.RESERVED_REMOTE),
    go(S.HALF_CLOSED_LOCAL),
    CE(S.RESERVED_REMOTE, PROTOCOL_ERROR),
    CE(S.RESERVED_REMOTE, PROTOCOL_ERROR),
    CE(S.RESERVED_REMOTE, PROTOCOL_ERROR),
    go(S.CLOSED),
    CE(S.RESERVED_REMOTE, PROTOCOL_ERROR),
    stay(S.RESERVED_REMOTE),
  ],
  // §5.1 open: every frame type may be sent and received; END_STREAM half-closes.
  [S.OPEN]: [
    stay(S.OPEN),
    stay(S.OPEN),
    stay(S.OPEN),
    go(S.HALF_CLOSED_LOCAL),
    go(S.CLOSED_RESET_SENT),
    stay(S.OPEN),
    stay(S.OPEN),
    stay(S.OPEN),
    stay(S.OPEN),
    go(S.HALF_CLOSED_REMOTE),
    go(S.CLOSED),
    stay(S.OPEN),
    stay(S.OPEN),
  ],
  // §5.1 half-closed (local): we only send WINDOW_UPDATE, PRIORITY, RST_STREAM;
  // the peer's END_STREAM or either RST_STREAM closes.
  [S.HALF_CLOSED_LOCAL]: [
    BUG(S.HALF_CLOSED_LOCAL),
    BUG(S.HALF_CLOSED_LOCAL),
    BUG(S.HALF_CLOSED_LOCAL),
    BUG(S.HALF_CLOSED_LOCAL),
    go(S.CLOSED_RESET_SENT),
    stay(S.HALF_CLOSED_LOCAL),
    stay(S.HALF_CLOSED_LOCAL),
    stay(S.HALF_CLOSED_LOCAL),
    stay(S.HALF_CLOSED_LOCAL),
    go(S.CLOSED),
    go(S.CLOSED),
    stay(S.HALF_CLOSED_LOCAL),
    stay(S.HALF_CLOSED_LOCAL),
  ],
  // §5.1 half-closed (remote): frames other than WINDOW_UPDATE, PRIORITY or
  // RST_STREAM from the peer are a stream error STREAM_CLOSED.
  [S.HALF_CLOSED_REMOTE]: [
    stay(S.HALF_CLOSED_REMOTE),
    stay(S.HALF_CLOSED_REMOTE),
    stay(S.HALF_CLOSED_REMOTE),
    go(S.CLOSED),
    go(S.CLOSED_RESET_SENT),
    BUG(S.HALF_CLOSED_REMOTE),
    SE(S.HALF_CLOSED_REMOTE, STREAM_CLOSED),
    SE(S.HALF_CLOSED_REMOTE, STREAM_CLOSED),
    SE(S.HALF_CLOSED_REMOTE, STREAM_CLOSED),
    SE(S.HALF_CLOSED_REMOTE, STREAM_CLOSED),
    go(S.CLOSED),
    stay(S.HALF_CLOSED_REMOTE),
    stay(S.HALF_CLOSED_REMOTE),
  ],
  // §5.1 closed: WINDOW_UPDATE and RST_STREAM may still be in flight and are
  // ignored, PRIORITY is allowed; DATA is a stream error STREAM_CLOSED (§6.1);
  // any other frame a connection error STREAM_CLOSED.
  [S.CLOSED]: [
    BUG(S.CLOSED),
    BUG(S.CLOSED),
    BUG(S.CLOSED),
    BUG(S.CLOSED),
    IGNORE(S.CLOSED),
    IGNORE(S.CLOSED),
    CE(S.CLOSED, STREAM_CLOSED),
    CE(S.CLOSED, STREAM_CLOSED),
    SE(S.CLOSED, STREAM_CLOSED),
    CE(S.CLOSED, STREAM_CLOSED),
    IGNORE(S.CLOSED),
    IGNORE(S.CLOSED),
    stay(S.CLOSED),
  ],
  // §5.1 closed after we sent RST_STREAM: the peer "could receive any type of
  // frame"... we "MUST minimally process and then discard" what arrives.
  [S.CLOSED_RESET_SENT]: [
    BUG(S.CLOSED_RESET_SENT),
    BUG(S.CLOSED_RESET_SENT),
    BUG(S.CLOSED_RESET_SENT),
    BUG(S.CLOSED_RESET_SENT),
    IGNORE(S.CLOSED_RESET_SENT),
    IGNORE(S.CLOSED_RESET_SENT),
    IGNORE(S.CLOSED_RESET_SENT),
    IGNORE(S.CLOSED_RESET_SENT),
    IGNORE(S.CLOSED_RESET_SENT),
    IGNORE(S.CLOSED_RESET_SENT),
    IGNORE(S.CLOSED_RESET_SENT),
    IGNORE(S.CLOSED_RESET_SENT),
    stay(S.CLOSED_RESET_SENT),
  ],
};

const EVENT_COUNT = EVENT_NAMES.length;
const STATE_COUNT = STATE_NAMES.length;

/** The table flattened: TABLE[state * EVENT_COUNT + event]. */
const TABLE: readonly Transition[] = (() => {
  const flat: Transition[] = [];
  for (let s = 0; s < STATE_COUNT; s++) {
    const row = ROWS[s as StreamState];
    if (row.length !== EVENT_COUNT) throw new Error(`stream table row ${STATE_NAMES[s]} has ${row.length} cells`);
    flat.push(...row);
  }
  return flat;
})();

/** The transition for `event` in `state`: one lookup. */
export function transition(state: StreamState, event: StreamEvent): Transition {
  return TABLE[state * EVENT_COUNT + event]!;
}

/** True in the states that count toward SETTINGS_MAX_CONCURRENT_STREAMS (§5.1.2). */
export function isActive(state: StreamState): boolean {
  return state === S.OPEN || state === S.HALF_CLOSED_LOCAL || state === S.HALF_CLOSED_REMOTE;
}

/** True once the stream is in either closed state. */
export function isClosed(state: StreamState): boolean {
  return state === S.CLOSED || state === S.CLOSED_RESET_SENT;
}

/**
 * What the endpoint keeps of one stream, whichever role opened it: its
 * state, its windows, the body it sends, and what it has received. The
 * roles extend it with their own side (a request being answered, a request
 * being made); the objects applications see wrap it.
 */
export class StreamCore {
  state: StreamState;
  /** The peer's window for our DATA on this stream. */
  readonly sendWindow: SendWindow;
  /** Our window for the peer's DATA. */
  readonly recvWindow: RecvWindow;
  /** The body being sent, once there is one. */
  out: Outgoing | null = null;
  /** content-length of the incoming message, -1 when absent. */
  contentLength = -1;
  /** DATA octets received (padding excluded). */
  received = 0;
  /** The peer's END_STREAM arrived. */
  remoteEnded = false;
  /** We sent the header section that starts our message. */
  headersSent = false;
  /** The code the stream closed with, -1 while it is open. */
  closeCode = -1;

  constructor(
    readonly id: number,
    /** True when this endpoint opened the stream (a client's request, a server's push). */
    readonly local: boolean,
    state: StreamState,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.state = state;
    this.sendWindow = new SendWindow(sendWindow);
    this.recvWindow = new RecvWindow(recvWindow);
  }

  get closed(): boolean {
    return isClosed(this.state) || this.closeCode >= 0;
  }

  /** We may still send on it (§5.1: open or half-closed (remote)). */
  get canSend(): boolean {
    return this.state === S.OPEN || this.state === S.HALF_CLOSED_REMOTE;
  }
}
