/**
 * The pair-table encoder against a reference written here from the RFC 7541
 * Appendix B codes, one bit at a time: the same octets, as many as
 * huffmanEncodedLength counts, and nothing written past them.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { huffmanEncode, huffmanEncodeAscii, huffmanEncodedLength } from '../../src/hpack/huffman.js';
import { CASES_DIR } from '../helpers/vectors.js';

const spec = JSON.parse(readFileSync(`${CASES_DIR}spec/rfc7541-huffman.json`, 'utf8')) as { codes: Array<[number, number]> };

function reference(s: string): number[] {
  const bits: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const [code, len] = spec.codes[s.charCodeAt(i)]!;
    for (let b = len - 1; b >= 0; b--) bits.push(Math.floor(code / 2 ** b) % 2);
  }
  while (bits.length % 8 !== 0) bits.push(1); // the most significant bits of EOS
  const out: number[] = [];
  for (let k = 0; k < bits.length; k += 8) out.push(bits.slice(k, k + 8).reduce((a, b) => a * 2 + b, 0));
  return out;
}

function encode(s: string, at = 3): number[] {
  const len = huffmanEncodedLength(s);
  const buf = new Uint8Array(at + len + 8).fill(0xa5);
  const end = huffmanEncode(s, buf, at);
  expect(end - at).toBe(len);
  expect(
    [...buf.subarray(0, at), ...buf.subarray(end)].every((b) => b === 0xa5),
    'nothing written outside',
  ).toBe(true);
  return [...buf.subarray(at, end)];
}

// Pairs that fit the table, pairs that do not (15-bit and 19-bit codes), long codes, control octets.
const octet = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 2, arbitrary: fc.constantFrom(0x5c, 0x7b, 0x3c, 0x60, 0x7e, 0x5e, 0x7d, 0x00, 0x7f) },
  { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }) },
);
const octets = fc.array(octet, { maxLength: 90 }).map((cs) => String.fromCharCode(...cs));

describe('Huffman encoder (pair table, 32-bit words) against a bit-at-a-time reference', () => {
  it('writes the reference octets, exactly the counted length, at any position', () => {
    fc.assert(
      fc.property(octets, fc.nat({ max: 7 }), (s, at) => {
        expect(encode(s, at)).toEqual(reference(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('long strings: many 32-bit words, every alignment', () => {
    for (const unit of ['a', 'ab\\', '{<`', 'Zoë', '\x00\x01\xff', 'https://www.example.com/path?q=1']) {
      for (let k = 1; k < 70; k += 7) {
        const s = unit.repeat(k) + 'x'.repeat(k % 5);
        expect(encode(s), JSON.stringify(s)).toEqual(reference(s));
      }
    }
  });

  it('text expected to be ASCII: the same octets, or -1 at a char >= 0x80', () => {
    const ascii = (s: string): number => {
      const buf = new Uint8Array(4 * s.length + 8);
      const end = huffmanEncodeAscii(s, buf, 0);
      if (end >= 0) expect([...buf.subarray(0, end)]).toEqual(reference(s));
      return end;
    };
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 8 }), (plain, any) => {
        expect(ascii(plain)).toBe(reference(plain).length);
        const mixed = plain + any;
        const hasHigh = [...mixed].some((c) => c.charCodeAt(0) >= 0x80);
        expect(ascii(mixed)).toBe(hasHigh ? -1 : reference(mixed).length);
      }),
      { numRuns: 3000 },
    );
    // Odd length with the last char high, a high char paired with an ASCII one, above 0xff.
    expect(ascii('abc\u00e9')).toBe(-1);
    expect(ascii('ab\u0100')).toBe(-1);
    expect(ascii('a\u2603b')).toBe(-1);
  });

  it('output arrays in turn: views at other offsets of one buffer, and the same array again', () => {
    // The encoder keeps a DataView of the last array it wrote to; each switch must make a new one.
    const backing = new ArrayBuffer(256);
    const views = [new Uint8Array(backing, 0, 64), new Uint8Array(backing, 96, 64), new Uint8Array(backing, 160, 96)];
    const strings = ['www.example.com', 'custom-value-0123456789', '/index.html?q=abc', 'no-cache'];
    for (let round = 0; round < 12; round++) {
      const view = views[(round * 7) % 3]!;
      const s = strings[round % strings.length]!;
      const at = round % 5;
      new Uint8Array(backing).fill(0xa5);
      const end = huffmanEncode(s, view, at);
      expect([...view.subarray(at, end)], `${round}: ${s}`).toEqual(reference(s));
      const untouched = [...new Uint8Array(backing)].filter((b) => b === 0xa5).length;
      expect(untouched, 'nothing written outside the span encoded').toBe(256 - (end - at));
    }
  });
});
