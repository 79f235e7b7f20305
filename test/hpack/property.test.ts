/** Property tests: round trips through random tables and size changes; the decoder on random bytes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deflater, type HeaderInput, HpackError, Inflater, STATIC_ENTRIES } from '../../src/hpack/index.js';

const utf8 = new TextEncoder();
const octets = (x: string | Uint8Array): string => {
  const b = typeof x === 'string' ? utf8.encode(x) : x;
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
};

const text = fc.oneof(
  fc.string({ maxLength: 40 }), // printable ASCII
  fc.string({ unit: 'grapheme', maxLength: 12 }), // any Unicode
  fc.constantFrom('', 'GET', '/', 'gzip, deflate', 'x'.repeat(300), 'a'.repeat(3000)),
);
const name = fc.oneof(
  fc.constantFrom(...STATIC_ENTRIES.map(([n]) => n), 'x-a', 'x-b', 'cookie', 'authorization', 'x-ünïcode'),
  fc.string({ minLength: 1, maxLength: 12 }),
);
const value: fc.Arbitrary<string | Uint8Array> = fc.oneof({ weight: 5, arbitrary: text }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }) });
const field: fc.Arbitrary<HeaderInput> = fc.tuple(name, value, fc.boolean()).map(([n, v, sensitive]) => (sensitive ? [n, v, { sensitive }] : [n, v]));
const step = fc.oneof(
  { weight: 4, arbitrary: fc.array(field, { maxLength: 12 }).map((b) => ({ block: b })) },
  {
    weight: 1,
    arbitrary: fc.array(fc.oneof(fc.integer({ min: 0, max: 10000 }), fc.constantFrom(0, 32, 4096)), { minLength: 1, maxLength: 3 }).map((sizes) => ({ sizes })),
  },
);

describe('properties', () => {
  it('deflate then inflate returns the input, and both tables agree, for any options and size changes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9000 }),
        fc.constantFrom('nghttp2', 'linear', 'static', 'naive'),
        fc.constantFrom('auto', 'always', 'never'),
        fc.array(step, { maxLength: 25 }),
        (limit, strategy, huffman, steps) => {
          const d = new Deflater(limit, { strategy, huffman });
          const inf = new Inflater({ maxHeaderListSize: Infinity });
          for (const s of steps) {
            if ('sizes' in s) {
              for (const n of s.sizes) {
                d.changeTableSize(n);
                inf.changeTableSize(n);
              }
              continue;
            }
            const got = inf.inflateLatin1(d.deflate(s.block));
            expect(got).toEqual(s.block.map(([n, v]) => [octets(n), octets(v)]));
            expect(inf.getTable('latin1')).toEqual(d.getTable('latin1'));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('random bytes make the decoder return or throw HpackError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 8192 }), (bytes, tableSize) => {
        for (const inf of [new Inflater(), new Inflater({ maxTableSize: tableSize, maxHeaderListSize: 1000 })]) {
          try {
            inf.inflate(bytes);
            inf.inflateRaw(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(HpackError);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid blocks make the decoder return or throw HpackError', () => {
    fc.assert(
      fc.property(
        fc.array(field, { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (block, flips, cut) => {
          const wire = new Deflater().deflate(block).slice();
          for (const [at, b] of flips) wire[at % wire.length] = b;
          const inf = new Inflater();
          try {
            inf.inflateLatin1(wire.subarray(0, wire.length - (cut % 3)));
          } catch (e) {
            expect(e).toBeInstanceOf(HpackError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
