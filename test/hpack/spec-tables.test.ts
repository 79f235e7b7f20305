import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, STATIC_ENTRIES } from '../../src/hpack/spec-data.js';
import { CASES_DIR } from '../helpers/vectors.js';

// src/hpack/spec-data.ts is generated (scripts/gen-hpack-tables.mjs); it must
// stay equal to the RFC 7541 tables it was generated from.
describe('generated RFC 7541 tables', () => {
  it('static table equals Appendix A', () => {
    const spec = JSON.parse(readFileSync(`${CASES_DIR}spec/rfc7541-static-table.json`, 'utf8')) as { entries: string[][] };
    expect(STATIC_ENTRIES.map((e) => [...e])).toEqual(spec.entries);
    expect(STATIC_ENTRIES[0]).toEqual([':authority', '']);
    expect(STATIC_ENTRIES[60]).toEqual(['www-authenticate', '']);
  });

  it('Huffman code equals Appendix B', () => {
    const spec = JSON.parse(readFileSync(`${CASES_DIR}spec/rfc7541-huffman.json`, 'utf8')) as { codes: number[][] };
    expect(HUFFMAN_CODES).toEqual(spec.codes.map((c) => c[0]));
    expect(HUFFMAN_LENGTHS).toEqual(spec.codes.map((c) => c[1]));
    expect(HUFFMAN_CODES[256]).toBe(0x3fffffff);
    expect(HUFFMAN_LENGTHS[256]).toBe(30);
  });
});
