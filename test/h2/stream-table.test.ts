/**
 * StreamTable's memory of recently closed streams (RFC 9113 §5.1 "closed"):
 * bounded, oldest forgotten first, a stream remembered again keeps its
 * place; what is forgotten counts as closed.
 */
import { describe, expect, it } from 'vitest';
import { StreamState, type StreamCore } from '../../src/h2/stream.js';
import { StreamTable } from '../../src/h2/stream-table.js';

describe('StreamTable: recently closed streams', () => {
  it('forgets the oldest first once full, round after round', () => {
    const t = new StreamTable<StreamCore>(true, 3);
    t.lastPeerId = 99;
    for (const id of [1, 3, 5]) t.remember(id, StreamState.CLOSED_RESET_SENT);
    expect([1, 3, 5].map((id) => t.recentState(id))).toEqual([StreamState.CLOSED_RESET_SENT, StreamState.CLOSED_RESET_SENT, StreamState.CLOSED_RESET_SENT]);
    t.remember(7, StreamState.CLOSED_RESET_SENT);
    expect(t.recentState(1)).toBeUndefined();
    // Forgotten, but not idle: closed (§5.1).
    expect(t.stateOf(1)).toBe(StreamState.CLOSED);
    for (const id of [9, 11, 13]) t.remember(id, StreamState.CLOSED_RESET_SENT);
    expect([3, 5, 7].map((id) => t.recentState(id))).toEqual([undefined, undefined, undefined]);
    expect([9, 11, 13].map((id) => t.recentState(id))).toEqual([StreamState.CLOSED_RESET_SENT, StreamState.CLOSED_RESET_SENT, StreamState.CLOSED_RESET_SENT]);
  });

  it('a stream remembered again takes the new state and keeps its place', () => {
    const t = new StreamTable<StreamCore>(true, 3);
    t.lastPeerId = 99;
    t.remember(1, StreamState.CLOSED);
    t.remember(3, StreamState.CLOSED);
    t.remember(1, StreamState.CLOSED_RESET_SENT);
    t.remember(5, StreamState.CLOSED);
    expect(t.recentState(1)).toBe(StreamState.CLOSED_RESET_SENT);
    // 1 is still the oldest: the next one evicts it, not 3.
    t.remember(7, StreamState.CLOSED);
    expect(t.recentState(1)).toBeUndefined();
    expect(t.recentState(3)).toBe(StreamState.CLOSED);
    expect(t.recentState(5)).toBe(StreamState.CLOSED);
    expect(t.recentState(7)).toBe(StreamState.CLOSED);
  });

  it('ids never used are idle, not closed', () => {
    const t = new StreamTable<StreamCore>(true, 3);
    t.lastPeerId = 5;
    expect(t.stateOf(7)).toBe(StreamState.IDLE);
    expect(t.stateOf(5)).toBe(StreamState.CLOSED);
  });
});
