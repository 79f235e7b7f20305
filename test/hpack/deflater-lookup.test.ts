/**
 * The deflater's dynamic-table lookup when one name has many entries (it then
 * keeps a map by value): a model of the table (a list, newest first) says
 * which index each field must get; every block is checked against it byte
 * for byte, through insertions, duplicates, evictions and size changes.
 * An 8 KiB table holds up to 178 `x-id` entries: past the deflater's chain
 * walk limit (64), so that the map is built, used and dropped.
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
        arbitrary: fc.tuple(fc.constantFrom('x-id', 'x-id', 'x-id', 'x-other'), fc.integer({ min: 0, max: 150 })).map(([n, k]) => ({ n, v: `value-${k}` })),
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

describe('deflater: names without entries', () => {
  const mapped = (d: Deflater): number => Object.keys((d as unknown as { names: Record<string, unknown> }).names).length;
  /** Mapped names that have no entry: all mapped names less the static ones and the table's. */
  const idle = (d: Deflater, staticNames: number): number => mapped(d) - staticNames - new Set(d.getTable().entries.map((e) => e.name)).size;

  it('stay mapped up to a bound, in number and in octets, and encode as before when they come back', () => {
    // 4 KiB table: each new name evicts older ones, which stay mapped while there is room.
    const d = new Deflater();
    const staticNames = mapped(d);
    let most = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1000; i++) {
        const block = d.deflate([[`x-name-${i}`, `value-${round}`]]);
        // A name with no entry is a new name (literal, name as a string), mapped or not.
        expect(new Inflater().inflateTrace(block).trace[0]!.index, `round ${round}, name ${i}`).toBeUndefined();
        most = Math.max(most, idle(d, staticNames));
      }
    }
    expect(most).toBeGreaterThan(200); // names without entries were kept
    expect(most).toBeLessThanOrEqual(256);
    // Long names: the octet bound (16 KiB) unmaps them well before 256 of them.
    const e = new Deflater(65536);
    e.changeTableSize(65536);
    let mostLong = 0;
    for (let i = 0; i < 400; i++) {
      e.deflate([[`x-${i}-${'n'.repeat(2000)}`, 'v']]);
      mostLong = Math.max(mostLong, idle(e, staticNames));
    }
    // A SETTINGS change that empties the table: its names are unmapped at once, past the bound.
    const f = new Deflater(65536);
    f.changeTableSize(65536);
    for (let i = 0; i < 1000; i++) f.deflate([[`x-${i}`, 'v']]);
    expect(mapped(f)).toBe(staticNames + 1000);
    f.changeTableSize(0);
    expect(mapped(f)).toBe(staticNames);
    expect(mostLong).toBeGreaterThan(0);
    expect(mostLong).toBeLessThanOrEqual(8); // 16 KiB holds 8 names of 2,004 octets
  });

  it('a name that comes back is counted as having entries again: 100 names cycling stay mapped', () => {
    const d = new Deflater();
    const staticNames = mapped(d);
    for (let k = 0; k < 5000; k++) {
      d.deflate([[`x-cycle-${k % 100}`, `value-${k}`]]);
      if (k >= 100) expect(mapped(d), `after block ${k}`).toBe(staticNames + 100);
    }
  });

  it('a name coming back when the bound is crossed keeps its new entry findable', () => {
    // A 4 KiB table (about 85 of these entries): every other block a name never seen again, which
    // leaves idle names behind until the bound is crossed, and between them 60 names in turn,
    // each back about 35 blocks after its entry was evicted, so idle when it comes back. Whenever
    // the bound is crossed as such a name comes back, the entry just made must still be found.
    const d = new Deflater();
    for (let k = 0; k < 12000; k++) {
      const field: [string, string] = k % 2 === 0 ? [`x-once-${k}`, 'v'] : [`x-turn-${(k >> 1) % 60}`, `v-${k % 3}`];
      d.deflate([field]);
      expect([...d.deflate([field])], `block ${k}: ${field[0]}`).toEqual([0xbe]); // index 62, the newest entry
    }
  });

  it('round trip: names leaving and coming back, with values indexed again', () => {
    const d = new Deflater(512);
    const f = new Inflater();
    for (let k = 0; k < 3000; k++) {
      const n = `x-${(k * 7) % 300}`;
      const fields: Array<[string, string]> = [
        [n, `v${k % 5}`],
        [n, `v${k % 5}`],
        ['x-other', String(k % 3)],
      ];
      expect(f.inflate(d.deflate(fields))).toEqual(fields);
    }
  });
});
