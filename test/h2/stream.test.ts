/** The stream state table (RFC 9113 §5.1). */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/h2/index.js';
import { StreamEvent as E, eventName, isActive, StreamState as S, type StreamEvent, type StreamState, stateName, transition } from '../../src/h2/stream.js';

const STATES = Object.values(S) as StreamState[];
const EVENTS = Object.values(E) as StreamEvent[];

describe('§5.1 stream state table', () => {
  it('defines every (state, event) pair', () => {
    for (const s of STATES) for (const e of EVENTS) expect(transition(s, e), `${stateName(s)} x ${eventName(e)}`).toBeDefined();
  });

  const rows: Array<[StreamState, StreamEvent, string, StreamState | null, number | null]> = [
    [S.IDLE, E.RECV_HEADERS, 'ok', S.OPEN, null],
    [S.IDLE, E.SEND_PUSH_PROMISE, 'ok', S.RESERVED_LOCAL, null],
    [S.IDLE, E.RECV_PRIORITY, 'ok', S.IDLE, null],
    [S.IDLE, E.RECV_DATA, 'connection-error', null, ErrorCode.PROTOCOL_ERROR],
    [S.IDLE, E.RECV_RST_STREAM, 'connection-error', null, ErrorCode.PROTOCOL_ERROR],
    [S.IDLE, E.RECV_WINDOW_UPDATE, 'connection-error', null, ErrorCode.PROTOCOL_ERROR],
    [S.IDLE, E.SEND_DATA, 'local-error', null, null],
    [S.RESERVED_LOCAL, E.SEND_HEADERS, 'ok', S.HALF_CLOSED_REMOTE, null],
    [S.RESERVED_LOCAL, E.RECV_RST_STREAM, 'ok', S.CLOSED, null],
    [S.RESERVED_LOCAL, E.RECV_WINDOW_UPDATE, 'ok', S.RESERVED_LOCAL, null],
    [S.RESERVED_LOCAL, E.RECV_DATA, 'connection-error', null, ErrorCode.PROTOCOL_ERROR],
    [S.RESERVED_LOCAL, E.RECV_HEADERS, 'connection-error', null, ErrorCode.PROTOCOL_ERROR],
    [S.RESERVED_REMOTE, E.RECV_HEADERS, 'ok', S.HALF_CLOSED_LOCAL, null],
    [S.RESERVED_REMOTE, E.RECV_WINDOW_UPDATE, 'connection-error', null, ErrorCode.PROTOCOL_ERROR],
    [S.OPEN, E.RECV_END_STREAM, 'ok', S.HALF_CLOSED_REMOTE, null],
    [S.OPEN, E.SEND_END_STREAM, 'ok', S.HALF_CLOSED_LOCAL, null],
    [S.OPEN, E.SEND_RST_STREAM, 'ok', S.CLOSED_RESET_SENT, null],
    [S.OPEN, E.RECV_RST_STREAM, 'ok', S.CLOSED, null],
    [S.HALF_CLOSED_LOCAL, E.RECV_DATA, 'ok', S.HALF_CLOSED_LOCAL, null],
    [S.HALF_CLOSED_LOCAL, E.RECV_END_STREAM, 'ok', S.CLOSED, null],
    [S.HALF_CLOSED_LOCAL, E.SEND_DATA, 'local-error', null, null],
    [S.HALF_CLOSED_REMOTE, E.SEND_END_STREAM, 'ok', S.CLOSED, null],
    [S.HALF_CLOSED_REMOTE, E.RECV_DATA, 'stream-error', null, ErrorCode.STREAM_CLOSED],
    [S.HALF_CLOSED_REMOTE, E.RECV_HEADERS, 'stream-error', null, ErrorCode.STREAM_CLOSED],
    [S.HALF_CLOSED_REMOTE, E.RECV_WINDOW_UPDATE, 'ok', S.HALF_CLOSED_REMOTE, null],
    [S.CLOSED, E.RECV_DATA, 'stream-error', null, ErrorCode.STREAM_CLOSED],
    [S.CLOSED, E.RECV_HEADERS, 'connection-error', null, ErrorCode.STREAM_CLOSED],
    [S.CLOSED, E.RECV_WINDOW_UPDATE, 'ignore', null, null],
    [S.CLOSED, E.RECV_RST_STREAM, 'ignore', null, null],
    [S.CLOSED, E.RECV_PRIORITY, 'ok', S.CLOSED, null],
    [S.CLOSED_RESET_SENT, E.RECV_DATA, 'ignore', null, null],
    [S.CLOSED_RESET_SENT, E.RECV_HEADERS, 'ignore', null, null],
  ];
  for (const [s, e, action, next, code] of rows) {
    it(`${stateName(s)} + ${eventName(e)} -> ${action}${next !== null ? ` ${stateName(next)}` : ''}${code !== null ? ` ${code}` : ''}`, () => {
      const t = transition(s, e);
      expect(t.action).toBe(action);
      if (next !== null) expect(t.next).toBe(next);
      if (code !== null) expect(t.code).toBe(code);
    });
  }

  it('every state but idle and the closed ones can be reset by us, landing in closed (reset sent)', () => {
    for (const s of [S.RESERVED_LOCAL, S.RESERVED_REMOTE, S.OPEN, S.HALF_CLOSED_LOCAL, S.HALF_CLOSED_REMOTE]) {
      expect(transition(s, E.SEND_RST_STREAM)).toMatchObject({ action: 'ok', next: S.CLOSED_RESET_SENT });
    }
  });

  it('the request/response path walks idle -> open -> half-closed (remote) -> closed', () => {
    let s: StreamState = S.IDLE;
    for (const e of [E.RECV_HEADERS, E.RECV_END_STREAM, E.SEND_HEADERS, E.SEND_DATA, E.SEND_END_STREAM]) s = transition(s, e).next;
    expect(s).toBe(S.CLOSED);
  });

  it('active states are the ones that count toward MAX_CONCURRENT_STREAMS (§5.1.2)', () => {
    expect(STATES.filter(isActive)).toEqual([S.OPEN, S.HALF_CLOSED_LOCAL, S.HALF_CLOSED_REMOTE]);
  });
});
