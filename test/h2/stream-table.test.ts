/**
 * StreamTable's memory of recently closed streams (RFC 9113 §5.1 "closed"):
 * bounded, oldest forgotten first, a stream remembered again keeps its
 * place; what is forgotten counts as closed.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type StreamCore, StreamState } from '../../src/h2/stream.js';
import { StreamMap, StreamTable } from '../../src/h2/stream-table.js';

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

describe('StreamMap', () => {
  const stream = (id: number) => ({ id }) as unknown as StreamCore;
  it('agrees with a Map over random sets and deletes of clustered ids (probe runs wrap and shift)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 200 })), { maxLength: 400 }), (ops) => {
        const m = new StreamMap<StreamCore>();
        const ref = new Map<number, StreamCore>();
        for (const [add, k] of ops) {
          // Ids that collide modulo the table size, as old and new streams do.
          const id = k % 2 === 0 ? k * 16 + 1 : k;
          if (add) {
            const s = stream(id);
            m.set(id, s);
            ref.set(id, s);
          } else {
            expect(m.delete(id)).toBe(ref.delete(id));
          }
          expect(m.size).toBe(ref.size);
        }
        for (const [id, s] of ref) expect(m.get(id)).toBe(s);
        for (let id = 1; id < 4000; id++) if (!ref.has(id)) expect(m.get(id)).toBeUndefined();
        expect(new Set(m.values())).toEqual(new Set(ref.values()));
      }),
      { numRuns: 300 },
    );
  });
});
