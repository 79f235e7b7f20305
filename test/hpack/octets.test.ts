/** Octet strings from bytes (the short path in JavaScript, the long one native) and UTF-8 text from bytes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deflater, HpackError, Inflater } from '../../src/hpack/index.js';
import { bytesToOctets, bytesToText, mediumOctets } from '../../src/hpack/octets.js';

const latin1 = (b: Uint8Array): string => Array.from(b, (c) => String.fromCharCode(c)).join('');

describe('octets', () => {
  it('bytesToOctets: one char per octet for every length around the short/long boundary, at any offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 4 }), fc.nat({ max: 4 }), (b, pre, post) => {
        const buf = new Uint8Array(pre + b.length + post).fill(0x41);
        buf.set(b, pre);
        expect(bytesToOctets(buf, pre, pre + b.length)).toBe(latin1(b));
      }),
      { numRuns: 3000 },
    );
  });

  it('mediumOctets: one char per octet for every length from 25 to 40 (and beyond, by the native path), at any offset', () => {
    const b = Uint8Array.from({ length: 300 }, (_, i) => (i * 73 + 11) & 0xff);
    for (let n = 25; n <= 48; n++) {
      for (const at of [0, 1, 2, 3, 7, 100, 300 - n]) expect(mediumOctets(b, at, n), `${n} at ${at}`).toBe(latin1(b.subarray(at, at + n)));
    }
  });

  it('bytesToText: UTF-8 text, or null when the octets are not UTF-8', () => {
    const utf8 = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 12 }), (s) => {
        const b = new Uint8Array([0xff, ...utf8.encode(s), 0xff]);
        expect(bytesToText(b, 1, b.length - 1)).toBe(s);
      }),
    );
    expect(bytesToText(new Uint8Array([0x61, 0xc3]), 0, 2)).toBeNull();
    expect(bytesToText(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]), 0, 4)).toBe('\ufeffa');
  });

  it('inflate() gives the text of non-ASCII literal names and values, raw and Huffman-coded, and refuses octets that are not UTF-8', () => {
    for (const huffman of ['never', 'always'] as const) {
      const fields: Array<[string, string]> = [
        ['x-ünï', 'välüé €'],
        ['x-ünï', 'välüé € 2'],
        ['x-a', 'Zoë'],
        ['x-ünï', 'välüé €'],
      ];
      const inf = new Inflater();
      const d = new Deflater(4096, { huffman });
      for (const f of fields) expect(inf.inflate(d.deflate([f]))).toEqual([f]);
      const bad = new Deflater(4096, { huffman }).deflate([['x-b', new Uint8Array([0x61, 0xff])]]);
      try {
        new Inflater().inflate(bad);
        throw new Error('expected INVALID_UTF8');
      } catch (e) {
        expect(e).toBeInstanceOf(HpackError);
        expect((e as HpackError).code).toBe('INVALID_UTF8');
        expect((e as HpackError).headers).toEqual([['x-b', 'a\xff']]);
      }
    }
  });

  it('the table keeps the text of non-ASCII entries whichever method inserted them, and refuses non-UTF-8 ones when indexed', () => {
    const d = new Deflater();
    const inf = new Inflater();
    // Inserted by inflateLatin1 (no text made), then referenced by inflate() (text made once, then kept).
    expect(inf.inflateLatin1(d.deflate([['x-ü', 'é']]))).toEqual([['x-\u00c3\u00bc', '\u00c3\u00a9']]);
    for (let k = 0; k < 2; k++) expect(inf.inflate(d.deflate([['x-ü', 'é']]))).toEqual([['x-ü', 'é']]);
    expect(inf.inflate(d.deflate([['x-ü', 'ascii']]))).toEqual([['x-ü', 'ascii']]);
    // Octets that are not UTF-8, inserted, then indexed.
    expect(inf.inflateLatin1(d.deflate([['x-raw', new Uint8Array([0xff])]]))).toEqual([['x-raw', '\u00ff']]);
    let err: unknown;
    try {
      inf.inflate(d.deflate([['x-raw', new Uint8Array([0xff])]]));
    } catch (e) {
      err = e;
    }
    expect((err as HpackError).code).toBe('INVALID_UTF8');
    expect(inf.inflate(d.deflate([['x-a', 'b']]))).toEqual([['x-a', 'b']]);
  });
});
