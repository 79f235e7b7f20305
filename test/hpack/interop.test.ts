/**
 * hpack-test-case: every story of every implementation folder decodes to its
 * headers, cases in order sharing one decoder. A case's header_table_size is
 * a SETTINGS_HEADER_TABLE_SIZE applied before it (null means none).
 */
import { describe, expect, it } from 'vitest';
import { Inflater } from '../../src/hpack/index.js';
import { pairs, type Story, unhex, vectorFolder, vectorFolders, vectorJson } from '../helpers/vectors.js';

const folders = vectorFolders('hpack-test-case').filter((f) => f !== 'raw-data');

describe('hpack-test-case interop', () => {
  it('has the 14 implementation folders', () => {
    expect(folders).toHaveLength(14);
  });

  for (const folder of folders) {
    it(`${folder}: every story decodes to its headers`, () => {
      const files = vectorFolder(`hpack-test-case/${folder}`);
      expect(files.length).toBeGreaterThanOrEqual(31);
      let cases = 0;
      for (const file of files) {
        const story = vectorJson<Story>(file);
        const inf = new Inflater();
        story.cases.forEach((c, i) => {
          if (c.header_table_size != null) inf.changeTableSize(c.header_table_size);
          expect(inf.inflate(unhex(c.wire!)), `${file} case ${i}`).toEqual(pairs(c));
          cases++;
        });
      }
      expect(cases).toBeGreaterThan(3000);
    });
  }
});
