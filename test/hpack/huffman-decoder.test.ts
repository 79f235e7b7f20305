/**
 * The 16-bit table decoder against a reference: a bit-at-a-time decoder
 * written here from the RFC 7541 Appendix B codes, which must agree on every
 * input, valid or not: the same octets, or the same error at the same byte.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HpackError } from '../../src/hpack/errors.js';
import { decodedAscii, huffmanDecode, huffmanEncode, huffmanMaxDecodedLength } from '../../src/hpack/huffman.js';
import { CASES_DIR } from '../helpers/vectors.js';

const spec = JSON.parse(readFileSync(`${CASES_DIR}spec/rfc7541-huffman.json`, 'utf8')) as { codes: Array<[number, number]> };
const SYMBOL = new Map(spec.codes.map(([code, len], sym) => [`${len}:${code}`, sym]));
const EOS = 256;

type Outcome = { octets: number[]; ascii: boolean } | { code: string; offset: number };

/** RFC 7541 §5.2 read literally, one bit at a time. */
function reference(src: Uint8Array, start: number, end: number, baseOffset: number): Outcome {
  const octets: number[] = [];
  let code = 0;
  let len = 0;
  for (let i = start; i < end; i++) {
    for (let b = 7; b >= 0; b--) {
      code = code * 2 + ((src[i]! >> b) & 1);
      len++;
      const sym = SYMBOL.get(`${len}:${code}`);
      if (sym === undefined) continue;
      if (sym === EOS) return { code: 'HUFFMAN_EOS', offset: baseOffset + i };
      octets.push(sym);
      code = 0;
      len = 0;
    }
  }
  if (len > 7) return { code: 'HUFFMAN_PADDING_TOO_LONG', offset: baseOffset + end - 1 };
  if (code !== 2 ** len - 1) return { code: 'HUFFMAN_PADDING_NOT_EOS', offset: baseOffset + end - 1 };
  return { octets, ascii: octets.every((o) => o < 0x80) };
}

function decode(src: Uint8Array, start = 0, end = src.length, baseOffset = 0): Outcome {
  const dst = new Uint8Array(huffmanMaxDecodedLength(end - start));
  try {
    const n = huffmanDecode(src, start, end, dst, baseOffset);
    return { octets: [...dst.subarray(0, n)], ascii: decodedAscii };
  } catch (e) {
    if (!(e instanceof HpackError)) throw e;
    return { code: e.code, offset: e.offset };
  }
}

/** The bits of a sequence of symbols (EOS included), MSB first, padded with `pad` to whole octets. */
function bitsOf(symbols: number[], pad: number[] = []): Uint8Array {
  const bits: number[] = [];
  for (const s of symbols) {
    const [code, len] = spec.codes[s]!;
    for (let b = len - 1; b >= 0; b--) bits.push(Math.floor(code / 2 ** b) % 2);
  }
  bits.push(...pad);
  while (bits.length % 8 !== 0) bits.push(1);
  const out = new Uint8Array(bits.length / 8);
  bits.forEach((bit, k) => {
    out[k >> 3]! |= bit << (7 - (k & 7));
  });
  return out;
}

// Mostly short codes, some long ones (UTF-8 octets, control octets), as header values are.
const octet = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }) },
);
const symbols = fc.array(octet, { maxLength: 60 });

describe('Huffman decoder (12-bit tables) against a bit-at-a-time reference', () => {
  it('decodes what the encoder wrote, at any offset in a larger buffer', () => {
    fc.assert(
      fc.property(symbols, fc.nat({ max: 5 }), fc.nat({ max: 5 }), (syms, before, after) => {
        const s = String.fromCharCode(...syms);
        const buf = new Uint8Array(before + 4 * s.length + 8 + after).fill(0xa5);
        const end = huffmanEncode(s, buf, before);
        const got = decode(buf, before, end, 100);
        expect(got).toEqual({ octets: syms, ascii: syms.every((o) => o < 0x80) });
        expect(got).toEqual(reference(buf, before, end, 100));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with the reference on random octets (nearly all invalid)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 3 }), (bytes, start) => {
        const s = Math.min(start, bytes.length);
        expect(decode(bytes, s, bytes.length, 7)).toEqual(reference(bytes, s, bytes.length, 7));
      }),
      { numRuns: 20000 },
    );
  });

  it('agrees with the reference on strings of mostly ones (long codes, EOS, padding)', () => {
    const mostlyOnes = fc.uint8Array({ maxLength: 12 }).map((b) => b.map((x) => x | 0xf7));
    fc.assert(
      fc.property(symbols, mostlyOnes, (syms, tail) => {
        const bytes = new Uint8Array([...bitsOf(syms), ...tail]);
        expect(decode(bytes)).toEqual(reference(bytes, 0, bytes.length, 0));
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects EOS wherever it stands, at the octet of its last bit', () => {
    fc.assert(
      fc.property(symbols, symbols, (before, after) => {
        const bytes = bitsOf([...before, EOS, ...after]);
        const got = decode(bytes);
        expect(got).toEqual(reference(bytes, 0, bytes.length, 0));
        expect(got).toMatchObject({ code: 'HUFFMAN_EOS' });
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects padding of 8 or more ones, after any string', () => {
    fc.assert(
      fc.property(symbols, fc.integer({ min: 8, max: 22 }), (syms, ones) => {
        const bytes = bitsOf(syms, new Array(ones).fill(1));
        const got = decode(bytes);
        expect(got).toEqual({ code: 'HUFFMAN_PADDING_TOO_LONG', offset: bytes.length - 1 });
        expect(got).toEqual(reference(bytes, 0, bytes.length, 0));
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects padding that is not all ones, after any string', () => {
    fc.assert(
      fc.property(symbols, fc.nat(), (syms, zeroAt) => {
        // Pad to the octet boundary (at least one bit: a '0' symbol, 5 bits, shifts it), one pad bit a zero.
        let bitLength = syms.reduce((a, s) => a + spec.codes[s]![1], 0);
        if (bitLength % 8 === 0) {
          syms = [...syms, 0x30];
          bitLength += 5;
        }
        // Ones then a zero is never a whole code of up to 7 bits; a zero elsewhere may make one.
        const pad = new Array(8 - (bitLength % 8)).fill(1);
        const last = zeroAt % 2 === 0;
        pad[last ? pad.length - 1 : zeroAt % pad.length] = 0;
        const bytes = bitsOf(syms, pad);
        const got = decode(bytes);
        if (last) expect(got).toEqual({ code: 'HUFFMAN_PADDING_NOT_EOS', offset: bytes.length - 1 });
        expect(got).toEqual(reference(bytes, 0, bytes.length, 0));
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects a string cut inside a long code (the fast path ends, the long-code path must see it)', () => {
    fc.assert(
      fc.property(symbols, fc.integer({ min: 0x80, max: 0xff }), fc.integer({ min: 1, max: 3 }), (syms, long, cut) => {
        const whole = bitsOf([...syms, long]);
        const bytes = whole.subarray(0, Math.max(0, whole.length - cut));
        expect(decode(bytes)).toEqual(reference(bytes, 0, bytes.length, 0));
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes every octet after every shift of the bit position, and all 256 octets in a row', () => {
    for (let shift = 0; shift < 8; shift++) {
      const lead = new Array(shift).fill(0x30); // '0' is 5 bits: each one shifts the alignment
      for (let c = 0; c < 256; c++) {
        const syms = [...lead, c, 0x61];
        expect(decode(bitsOf(syms)), `shift ${shift} octet ${c}`).toEqual({ octets: syms, ascii: syms.every((o) => o < 0x80) });
      }
    }
    const all = Array.from({ length: 256 }, (_, c) => c);
    expect(decode(bitsOf(all))).toEqual({ octets: all, ascii: false });
  });
});
