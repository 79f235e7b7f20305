import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileChangedError, FileRangeReader } from '../../src/server/file-body.js';
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
  return { kind: 'file', handle: await open(path, 'r'), path, start, end, size: data.length };
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
