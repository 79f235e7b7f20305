/**
 * Integers at the edges of their prefixes (RFC 7541 §5.1): the deflater writes an integer that
 * fits its prefix itself and leaves the others to encodeInteger(), so both sides of every edge
 * are pinned here, octet by octet: an index (7-bit prefix), a name index with incremental
 * indexing (6-bit) and without (4-bit), and a string length, raw and Huffman-coded (7-bit).
 */
import { describe, expect, it } from 'vitest';
import { Deflater, Inflater } from '../../src/hpack/index.js';

const first = (block: Uint8Array, n: number): number[] => [...block.subarray(0, n)];

/** A deflater whose 64 KiB table holds x-0 .. x-(count-1), x-0 the oldest, and the blocks that filled it. */
function filled(count: number): { d: Deflater; blocks: Uint8Array[] } {
  const d = new Deflater(65536);
  d.changeTableSize(65536);
  const blocks = [d.deflate([]).slice()]; // the size update goes out with this block
  for (let i = 0; i < count; i++) blocks.push(d.deflate([[`x-${i}`, 'v']]).slice());
  return { d, blocks };
}

describe('deflater: integers at the edge of their prefix', () => {
  it('indexed field: 126 in one octet; 127 and 128 with a continuation octet', () => {
    // The newest entry is index 62; the one inserted k entries before it is 62 + k.
    for (const [index, octets] of [
      [126, [0xfe]],
      [127, [0xff, 0x00]],
      [128, [0xff, 0x01]],
    ] as const) {
      const { d } = filled(80);
      const block = d.deflate([[`x-${80 - 1 - (index - 62)}`, 'v']]);
      expect(first(block, block.length), `index ${index}`).toEqual(octets);
    }
  });

  it('literal with incremental indexing, indexed name: 62 in the 6-bit prefix, 63 and 64 beyond it', () => {
    for (const [index, octets] of [
      [62, [0x7e]],
      [63, [0x7f, 0x00]],
      [64, [0x7f, 0x01]],
    ] as const) {
      const { d, blocks } = filled(10);
      const block = d.deflate([[`x-${10 - 1 - (index - 62)}`, 'new']]);
      expect(first(block, octets.length), `name index ${index}`).toEqual(octets);
      const wire = Uint8Array.from([...blocks, block].flatMap((b) => [...b]));
      const trace = new Inflater({ maxTableSize: 65536 }).inflateTrace(wire).trace.at(-1)!;
      expect(trace.kind).toBe('literal-incremental');
      expect(trace.index).toBe(index);
    }
  });

  it('literal without indexing, indexed name: 4 in the 4-bit prefix, 15 and 16 beyond it', () => {
    // :path (4) is never indexed by nghttp2's rules; accept-charset (15) and accept-encoding (16)
    // are not indexed when the entry would take more than 3/4 of the table.
    const big = 'a'.repeat(3100);
    for (const [name, value, octets] of [
      [':path', '/x', [0x04]],
      ['accept-charset', big, [0x0f, 0x00]],
      ['accept-encoding', big, [0x0f, 0x01]],
    ] as const) {
      const block = new Deflater().deflate([[name, value]]);
      expect(first(block, octets.length), name).toEqual(octets);
      expect(new Inflater().inflate(block)).toEqual([[name, value]]);
    }
  });

  it('name index: the largest in two octets, and the smallest that takes three', () => {
    // Written inline up to prefix max + 127 (a second octet), by encodeInteger() from there.
    for (const [index, sensitive, octets] of [
      [190, false, [0x7f, 0x7f]],
      [191, false, [0x7f, 0x80, 0x01]],
      [142, true, [0x1f, 0x7f]],
      [143, true, [0x1f, 0x80, 0x01]],
    ] as const) {
      const { d, blocks } = filled(140);
      const name = `x-${140 - 1 - (index - 62)}`;
      const block = d.deflate([sensitive ? [name, 'new', { sensitive: true }] : [name, 'new']]);
      expect(first(block, octets.length), `name index ${index}`).toEqual(octets);
      const wire = Uint8Array.from([...blocks, block].flatMap((b) => [...b]));
      const trace = new Inflater({ maxTableSize: 65536 }).inflateTrace(wire).trace.at(-1)!;
      expect(trace.kind).toBe(sensitive ? 'literal-never-indexed' : 'literal-incremental');
      expect(trace.index).toBe(index);
    }
  });

  it('string lengths: 126 in the 7-bit prefix, 127 and 128 beyond it, raw and Huffman-coded', () => {
    // '~' takes 13 bits: never shorter coded, so the value goes raw; 'a' takes 5 bits, so
    // 8k/5 octets of it code to k octets (k = 126, 127, 128 below).
    for (const [value, octets] of [
      ['~'.repeat(126), [0x7e]],
      ['~'.repeat(127), [0x7f, 0x00]],
      ['~'.repeat(128), [0x7f, 0x01]],
      ['a'.repeat(201), [0xfe]],
      ['a'.repeat(203), [0xff, 0x00]],
      ['a'.repeat(204), [0xff, 0x01]],
    ] as const) {
      // x-custom: a new name, so the block is 0x40, the name as a string, then the value's length.
      const block = new Deflater().deflate([['x-custom', value]]);
      const at = 1 + 1 + 6; // 0x40, the name's length octet, 'x-custom' Huffman-coded in 6 octets
      expect(first(block.subarray(at), octets.length), `${value[0]} x ${value.length}`).toEqual(octets);
      expect(new Inflater().inflate(block)).toEqual([['x-custom', value]]);
    }
    // Huffman always: 78 '~' code to 127 octets, first written after a one-octet prefix, then
    // moved one octet on for the two-octet one: the octet after 0xff must be the continuation.
    const block = new Deflater(4096, { huffman: 'always' }).deflate([['x-custom', '~'.repeat(78)]]);
    expect(first(block.subarray(8), 3)).toEqual([0xff, 0x00, 0xff]);
    expect(new Inflater().inflate(block)).toEqual([['x-custom', '~'.repeat(78)]]);
  });
});
