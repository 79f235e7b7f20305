/**
 * SETTINGS_HEADER_TABLE_SIZE changes between blocks, several in a row, under
 * various encoder limits: the dynamic table size updates and the rest of each
 * block must be what libnghttp2 emits (test/cases/size-updates.json, made by
 * scripts/oracle/gen-size-updates.py), and our decoder, given the same
 * SETTINGS changes, must accept every block.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Deflater, Inflater } from '../../src/hpack/index.js';
import { CASES_DIR, hex } from '../helpers/vectors.js';

type Op = ['size', number] | ['block', Array<[string, string]>];
interface Scenario {
  limit: number;
  ops: Op[];
  results: Array<{ wire: string; size: number; max_size: number; entry_count: number }>;
}

const data = JSON.parse(readFileSync(`${CASES_DIR}size-updates.json`, 'utf8')) as { scenarios: Scenario[] };

describe('dynamic table size updates (against libnghttp2)', () => {
  it('has scenarios with several changes between blocks', () => {
    const several = data.scenarios.filter((s) => s.ops.some((op, i) => op[0] === 'size' && s.ops[i + 1]?.[0] === 'size'));
    expect(several.length).toBeGreaterThan(50);
  });

  it('every block of every scenario is byte-identical, and decodes back', () => {
    let blocks = 0;
    data.scenarios.forEach((sc, n) => {
      const d = new Deflater(sc.limit);
      const inf = new Inflater();
      let r = 0;
      for (const op of sc.ops) {
        if (op[0] === 'size') {
          d.changeTableSize(op[1]);
          inf.changeTableSize(op[1]);
          continue;
        }
        const want = sc.results[r++]!;
        const where = `scenario ${n} block ${r - 1}`;
        const wire = d.deflate(op[1]);
        expect(hex(wire), where).toBe(want.wire);
        expect([d.tableSize, d.maxTableSize, d.getTable().entries.length], where).toEqual([want.size, want.max_size, want.entry_count]);
        expect(inf.inflate(wire), where).toEqual(op[1]);
        blocks++;
      }
      expect(r).toBe(sc.results.length);
    });
    expect(blocks).toBeGreaterThan(1500);
  });
});
