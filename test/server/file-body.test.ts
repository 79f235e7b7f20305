import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileChangedError, FileProducer, FileRangeReader, type ProducerHost, ReadAhead } from '../../src/server/file-body.js';
import type { FileBody } from '../../src/server/static.js';
import { pseudoRandomBytes } from './helpers.js';

let dir: string;
const data = pseudoRandomBytes(100_000, 7);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'h2kit-body-'));
  writeFileSync(join(dir, 'f.bin'), data);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function body(start: number, end: number, name = 'f.bin'): Promise<FileBody> {
  const path = join(dir, name);
  const handle = await open(path, 'r');
  return { kind: 'file', handle, path, start, end, size: data.length, release: () => handle.close() };
}

describe('FileRangeReader', () => {
  it('reads exactly [start, end) in chunks no larger than chunkSize', async () => {
    const b = await body(123, 98_765);
    try {
      const r = new FileRangeReader(b, 4096);
      const got: Buffer[] = [];
      for await (const c of r.chunks()) {
        expect(c.length).toBeLessThanOrEqual(4096);
        got.push(Buffer.from(c));
      }
      expect(Buffer.concat(got)).toEqual(data.subarray(123, 98_765));
      expect(r.remaining).toBe(0);
      expect(await r.read()).toBeNull();
    } finally {
      await b.handle.close();
    }
  });
  it('readInto fills a caller buffer at an offset, bounded by max and by the range', async () => {
    const b = await body(10, 20);
    try {
      const r = new FileRangeReader(b);
      const target = Buffer.alloc(32, 0xee);
      expect(await r.readInto(target, 9, 4)).toBe(4);
      expect(target.subarray(9, 13)).toEqual(data.subarray(10, 14));
      expect(target[8]).toBe(0xee);
      expect(target[13]).toBe(0xee);
      expect(await r.readInto(target, 0, 100)).toBe(6);
      expect(target.subarray(0, 6)).toEqual(data.subarray(14, 20));
      expect(await r.readInto(target, 0, 100)).toBe(0);
    } finally {
      await b.handle.close();
    }
  });
  it('two readers of one handle do not disturb each other (positional reads)', async () => {
    const b = await body(0, 1000);
    try {
      const r1 = new FileRangeReader(b, 100);
      const r2 = new FileRangeReader({ ...b, start: 500 }, 100);
      const a1 = await r1.read();
      const a2 = await r2.read();
      const b1 = await r1.read();
      expect(Buffer.from(a1 as Uint8Array)).toEqual(data.subarray(0, 100));
      expect(Buffer.from(a2 as Uint8Array)).toEqual(data.subarray(500, 600));
      expect(Buffer.from(b1 as Uint8Array)).toEqual(data.subarray(100, 200));
    } finally {
      await b.handle.close();
    }
  });
  it('a file truncated while being read raises FileChangedError', async () => {
    writeFileSync(join(dir, 't.bin'), data);
    const b = await body(0, data.length, 't.bin');
    try {
      const r = new FileRangeReader(b, 1000);
      await r.read();
      truncateSync(join(dir, 't.bin'), 1500);
      await r.read(); // bytes 1000..1500, a short read
      await expect(r.read()).rejects.toBeInstanceOf(FileChangedError);
    } finally {
      await b.handle.close();
    }
  });
  it('rejects a chunk size of 0', async () => {
    const b = await body(0, 1);
    try {
      expect(() => new FileRangeReader(b, 0)).toThrow(RangeError);
    } finally {
      await b.handle.close();
    }
  });
});

/** A stream as a producer sees it, counting resume() calls; `resumed` settles at the next one. */
function host(connectionId: number) {
  let wake: () => void = () => {};
  const h = {
    connectionId,
    resumes: 0,
    resume() {
      h.resumes++;
      wake();
    },
    /** Resolves at the next resume(). */
    resumed: () => new Promise<void>((r) => (wake = r)),
  };
  return h satisfies ProducerHost;
}

/** Calls the producer as the engine does: again after each resume(), until it gives something. */
async function next(p: FileProducer, h: ReturnType<typeof host>, max: number): Promise<Uint8Array | null> {
  for (;;) {
    const waiting = h.resumed();
    const r = p.produce(max);
    if (r !== 'deferred') return r;
    await waiting;
  }
}

describe('FileProducer', () => {
  it('reads nothing until called, then at most what may be sent now, one read at a time', async () => {
    const ra = new ReadAhead();
    const b = await body(0, data.length);
    let released = 0;
    const counted = { ...b, release: () => (released++, b.release()) };
    const h = host(1);
    const p = new FileProducer(counted, h, ra, 4096);
    expect(ra.bytes).toBe(0);
    const got: Buffer[] = [];
    // Windows of various sizes, as the engine would pass them.
    const windows = [1, 100, 5000, 70_000, 3];
    for (let i = 0; ; i++) {
      const max = windows[i % windows.length]!;
      const c = await next(p, h, max);
      if (c === null) break;
      expect(c.length).toBeLessThanOrEqual(Math.min(max, 4096));
      // What was handed out whole is the engine's now: nothing stays counted.
      expect(ra.bytes).toBe(0);
      got.push(Buffer.from(c));
    }
    expect(Buffer.concat(got)).toEqual(data);
    expect(ra.bytes).toBe(0);
    expect(released).toBe(1);
    p.close();
    expect(released).toBe(1);
  });

  it('gives the rest of a chunk when the window shrank after the read started', async () => {
    const ra = new ReadAhead();
    const b = await body(0, 10_000);
    const h = host(1);
    const p = new FileProducer(b, h, ra);
    expect(p.produce(8000)).toBe('deferred');
    await h.resumed();
    const a = p.produce(3000) as Uint8Array;
    expect(Buffer.from(a)).toEqual(data.subarray(0, 3000));
    expect(ra.bytes).toBe(8000); // the rest of the chunk is still held
    const c = p.produce(9000) as Uint8Array;
    expect(Buffer.from(c)).toEqual(data.subarray(3000, 8000));
    expect(ra.bytes).toBe(0); // handed out whole
    p.close();
    expect(ra.bytes).toBe(0);
  });

  it('bounds read-ahead per connection; a connection holding nothing may always read', async () => {
    const ra = new ReadAhead(10_000, 15_000);
    const b = await body(0, data.length);
    const h1 = host(1);
    const h2 = host(2);
    const a1 = new FileProducer(b, h1, ra);
    const a2 = new FileProducer(b, h1, ra);
    const a3 = new FileProducer(b, h1, ra);
    const c1 = new FileProducer(b, h2, ra);
    expect(a1.produce(8000)).toBe('deferred'); // connection 1: 8000
    const wokenA2 = h1.resumed();
    expect(a2.produce(8000)).toBe('deferred'); // 16000 > 10000: waits
    expect(ra.bytes).toBe(8000);
    expect(ra.waiting).toBe(1);
    const c1Read = h2.resumed();
    expect(c1.produce(9000)).toBe('deferred'); // connection 2 holds nothing: may read, over the process bound
    expect(ra.bytes).toBe(17_000);
    expect(a3.produce(1000)).toBe('deferred'); // 9000 <= 10000 but 18000 > 15000: waits
    expect(ra.waiting).toBe(2);
    // a1's chunk arrives and is handed to the engine: its bytes are free again, so a2 fits; a3 still not.
    await wokenA2; // a1's read completed (resume on the shared host)
    h1.resumes = 0;
    expect((a1.produce(8000) as Uint8Array).length).toBe(8000);
    expect(h1.resumes).toBe(1); // a2 was granted its 8000
    expect(ra.waiting).toBe(1);
    expect(ra.bytes).toBe(9000 + 8000);
    a1.close();
    expect(ra.bytes).toBe(9000 + 8000);
    // Connection 2's chunk is handed out: now a3 fits.
    await c1Read;
    expect((c1.produce(9000) as Uint8Array).length).toBe(9000);
    expect(h1.resumes).toBe(2);
    expect(ra.waiting).toBe(0);
    c1.close();
    expect(ra.bytes).toBe(8000 + 1000);
    for (const p of [a2, a3]) p.close();
    await new Promise((r) => setTimeout(r, 50)); // reads in flight give back on completion
    expect(ra.bytes).toBe(0);
    expect(ra.peak).toBe(17_000);
  });

  it('a file that ends early makes the producer throw FileChangedError', async () => {
    writeFileSync(join(dir, 'short.bin'), data.subarray(0, 5000));
    const b = await body(0, 10_000, 'short.bin');
    const h = host(1);
    const p = new FileProducer(b, h, new ReadAhead());
    expect((await next(p, h, 5000))?.length).toBe(5000);
    expect(p.produce(5000)).toBe('deferred');
    await h.resumed();
    expect(() => p.produce(5000)).toThrow(FileChangedError);
  });
});

describe('ReadAhead', () => {
  const waiter = (got: string[], name: string, connectionId: number, wanted: number) => ({ connectionId, wanted, granted: () => void got.push(name) });

  it("a full connection's reads wait for that connection, a full process's for anyone, in order", () => {
    const ra = new ReadAhead(100, 150);
    const got: string[] = [];
    expect(ra.take(1, 100)).toBe(true); // connection 1 is full
    expect(ra.take(1, 50)).toBe(false);
    ra.wait(waiter(got, 'a', 1, 50));
    expect(ra.take(2, 40)).toBe(true);
    expect(ra.take(2, 20)).toBe(false); // 160 > 150: the process is full
    ra.wait(waiter(got, 'b', 2, 20));
    expect(ra.take(3, 30)).toBe(true); // a connection holding nothing may always read
    expect(ra.bytes).toBe(170);
    ra.give(3, 30); // 140 + 20 still > 150; connection 1 still full
    expect(got).toEqual([]);
    ra.give(2, 40);
    expect(got).toEqual(['b']);
    ra.give(1, 100);
    expect(got).toEqual(['b', 'a']);
    expect(ra.waiting).toBe(0);
    expect(ra.bytes).toBe(70);
    expect(ra.peak).toBe(170);
  });

  it('a cancelled read is never granted', () => {
    const ra = new ReadAhead(10, 100);
    const got: string[] = [];
    ra.take(1, 10);
    const w = waiter(got, 'w', 1, 5);
    ra.wait(w);
    expect(ra.waiting).toBe(1);
    ra.cancel(w);
    expect(ra.waiting).toBe(0);
    ra.give(1, 10);
    expect(got).toEqual([]);
    expect(ra.bytes).toBe(0);
  });
});
