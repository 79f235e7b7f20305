/**
 * nghttp2's encoder output for the raw-data stories under six option sets
 * (test/cases from shared/golden): every wire byte for byte, and the table
 * after every case (size, max_size, entry count, and entries for stories 00 to 03).
 */
import { describe, expect, it } from 'vitest';
import { Deflater, Inflater } from '../../src/hpack/index.js';
import { hex, pairs, type StoryCase, unhex, vectorFolder, vectorFolders, vectorJson } from '../helpers/vectors.js';

interface GoldenCase extends StoryCase {
  seq: number;
  wire: string;
  header_table: {
    size: number;
    max_size: number;
    entry_count: number;
    entries?: Array<{ index: number; name: string; value: string; size: number }>;
  };
}
interface Golden {
  options: string[];
  cases: GoldenCase[];
}

function options(args: string[]): { s: number; S: number } {
  let s = 4096;
  let S = 4096;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-s') s = Number(args[++i]);
    else if (args[i] === '-S') S = Number(args[++i]);
    else throw new Error(`unknown golden option ${args[i]}`);
  }
  return { s, S };
}

const folders = vectorFolders('golden');

describe('nghttp2 golden deflate vectors', () => {
  it('has the six option sets', () => {
    expect(folders).toEqual(['S512', 'default', 'per-case-sizes', 's0', 's16384-S8192', 's256']);
  });

  for (const folder of folders) {
    it(`${folder}: wire and table match after every case`, () => {
      let cases = 0;
      let entriesChecked = 0;
      for (const file of vectorFolder(`golden/${folder}`)) {
        const g = vectorJson<Golden>(file);
        const { s, S } = options(g.options);
        // As deflatehd: -S is the encoder's limit, and -s other than 4096 is a SETTINGS change before the first block.
        const d = new Deflater(S);
        if (s !== 4096) d.changeTableSize(s);
        const inf = new Inflater(s !== 4096 ? { maxTableSize: s } : {});
        for (const c of g.cases) {
          if (c.header_table_size != null && folder === 'per-case-sizes') {
            d.changeTableSize(c.header_table_size);
            inf.changeTableSize(c.header_table_size);
          }
          const where = `${file} seq ${c.seq}`;
          expect(hex(d.deflate(pairs(c))), where).toBe(c.wire);
          const t = d.getTable();
          expect([t.size, t.maxSize, t.entries.length], where).toEqual([c.header_table.size, c.header_table.max_size, c.header_table.entry_count]);
          if (/story_0[0-3]\.json$/.test(file)) {
            expect(c.header_table.entries, where).toBeDefined();
            expect(t.entries, where).toEqual(c.header_table.entries);
            entriesChecked++;
          }
          // Our decoder takes nghttp2's blocks back to the input.
          expect(inf.inflate(unhex(c.wire)), where).toEqual(pairs(c));
          expect(inf.getTable().entries, where).toEqual(t.entries);
          cases++;
        }
      }
      expect(cases).toBeGreaterThan(3000);
      expect(entriesChecked).toBeGreaterThanOrEqual(20);
    });
  }
});
