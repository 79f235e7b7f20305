/** Memory back when a server turns idle (src/cli/idle-memory.ts): when the collections run, and that they run. */
import { describe, expect, it } from 'vitest';
import { fullCollection, IdleDetector } from '../../src/cli/idle-memory.js';

const feed = (d: IdleDetector, periods: number[]): number[] => periods.flatMap((u, i) => (d.period(u) ? [i] : []));

describe('IdleDetector', () => {
  it('collects 2 and 8 quiet periods after a busy spell, then not again until the next one', () => {
    const d = new IdleDetector();
    const periods = [0.5, 0.9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    expect(feed(d, periods)).toEqual([3, 9]);
    expect(feed(d, [0.3, 0.001, 0.002])).toEqual([2]);
  });

  it('never collects in a process that was never busy, nor while light work goes on', () => {
    expect(feed(new IdleDetector(), new Array(20).fill(0))).toEqual([]);
    const d = new IdleDetector();
    // Busy, then 2% for a long time (a lightly loaded server: V8 collects on its own), then quiet.
    expect(feed(d, [0.6, ...new Array(20).fill(0.02), 0, 0])).toEqual([22]);
  });

  it('a busy period in the middle of the quiet ones starts the count again', () => {
    const d = new IdleDetector();
    expect(feed(d, [0.6, 0, 0.4, 0, 0])).toEqual([4]);
  });
});

describe('fullCollection', () => {
  it('is available on this Node and collects what is unreachable', async () => {
    const gc = fullCollection();
    expect(gc).toBeTypeOf('function');
    let target: object | null = { big: new Array(1000).fill(1) };
    const ref = new WeakRef(target);
    target = null;
    // A WeakRef's target is kept until the end of the current job: collect after it.
    await new Promise((r) => setTimeout(r, 0));
    gc!();
    expect(ref.deref()).toBeUndefined();
    // The process's own context did not get gc().
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
