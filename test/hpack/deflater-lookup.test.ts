/**
 * The deflater's dynamic-table lookup when one name has many entries (it then
 * keeps a map by value): a model of the table (a list, newest first) says
 * which index each field must get; every block is checked against it byte
 * for byte, through insertions, duplicates, evictions and size changes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deflater, Inflater } from '../../src/hpack/index.js';

/** What nghttp2's strategy does with a field `x-id: value` (name not static), from a model of the table. */
function expected(model: Array<[string, string]>, maxSize: number, name: string, value: string): { indexed: number } | { insert: boolean } {
  const at = model.findIndex(([n, v]) => n === name && v === value);
  if (at >= 0) return { indexed: 62 + at };
  return { insert: name.length + value.length + 32 <= Math.floor((maxSize * 3) / 4) };
}

function applyInsert(model: Array<[string, string]>, maxSize: number, name: string, value: string): void {
  model.unshift([name, value]);
  let size = model.reduce((a, [n, v]) => a + n.length + v.length + 32, 0);
  while (size > maxSize) {
    const [n, v] = model.pop()!;
    size -= n.length + v.length + 32;
  }
}

describe('deflater lookup with many entries of one name', () => {
  it('indexes the newest entry with the value, forgets evicted ones, for any sequence', () => {
    const step = fc.oneof(
      {
        weight: 20,
        arbitrary: fc.tuple(fc.constantFrom('x-id', 'x-id', 'x-id', 'x-other'), fc.integer({ min: 0, max: 40 })).map(([n, k]) => ({ n, v: `value-${k}` })),
      },
      { weight: 1, arbitrary: fc.constantFrom(256, 1024, 4096, 8192).map((size) => ({ size })) },
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 50, maxLength: 300, size: 'max' }), (steps) => {
        const d = new Deflater(8192);
        const inf = new Inflater({ maxTableSize: 8192 });
        d.changeTableSize(8192);
        inf.changeTableSize(8192);
        let maxSize = 8192;
        const model: Array<[string, string]> = [];
        for (const s of steps) {
          if ('size' in s) {
            d.changeTableSize(s.size);
            inf.changeTableSize(s.size);
            maxSize = s.size;
            let size = model.reduce((a, [n, v]) => a + n.length + v.length + 32, 0);
            while (size > maxSize) {
              const [n, v] = model.pop()!;
              size -= n.length + v.length + 32;
            }
            continue;
          }
          const block = d.deflate([[s.n, s.v]]);
          const { trace } = inf.inflateTrace(block);
          const field = trace[trace.length - 1]!;
          const want = expected(model, maxSize, s.n, s.v);
          if ('indexed' in want) {
            expect(field).toMatchObject({ kind: 'indexed', index: want.indexed });
          } else {
            expect(field.kind).toBe(want.insert ? 'literal-incremental' : 'literal-without-indexing');
            if (want.insert) applyInsert(model, maxSize, s.n, s.v);
          }
          expect(d.getTable('latin1').entries.map((e) => [e.name, e.value])).toEqual(model);
        }
      }),
      { numRuns: 100 },
    );
  });
});
