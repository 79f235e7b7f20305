// h2bench keeps request times as they are measured and adds them to their
// histogram once its clients are done (as h2load computes its statistics
// after the run); these tests check that nothing is lost or changed on the way.
import { describe, expect, it } from 'vitest';
import { encodeHistogram, newHistogram, PendingValues } from '../../src/bench/stats.js';

/** A reproducible spread of request times in us: mostly 100-2000, a tail to 10 s, some zeros. */
function sampleTimes(n: number): number[] {
  let x = 12345;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const r = x / 2 ** 32;
    out.push(i % 1000 === 0 ? 0 : r < 0.99 ? 100 + Math.floor(r * 1900) : Math.floor(r * 10_000_000));
  }
  return out;
}

function direct(values: number[]) {
  const h = newHistogram();
  for (const v of values) h.recordValue(v);
  return h;
}

describe('PendingValues', () => {
  it('gives the histogram that recording each value at once gives', () => {
    const values = sampleTimes(50_000);
    const pending = new PendingValues(newHistogram());
    for (const v of values) pending.add(v);
    const h = pending.flush();
    const d = direct(values);
    expect(h.totalCount).toBe(50_000);
    expect(encodeHistogram(h)).toBe(encodeHistogram(d));
    for (const p of [50, 90, 99, 99.9, 100]) expect(h.getValueAtPercentile(p)).toBe(d.getValueAtPercentile(p));
    expect(h.minNonZeroValue).toBe(d.minNonZeroValue);
    expect(h.maxValue).toBe(d.maxValue);
  });

  it('adds a long run in batches, losing none of it, and flushes once more at the end', () => {
    const n = (1 << 20) + 70_000; // past the batch size
    const values = sampleTimes(n);
    const pending = new PendingValues(newHistogram());
    for (const v of values) pending.add(v);
    const h = pending.flush();
    expect(h.totalCount).toBe(n);
    expect(encodeHistogram(h)).toBe(encodeHistogram(direct(values)));
    // A second flush adds nothing again.
    expect(pending.flush().totalCount).toBe(n);
  });

  it('is empty before anything is added', () => {
    expect(new PendingValues(newHistogram()).flush().totalCount).toBe(0);
  });
});
