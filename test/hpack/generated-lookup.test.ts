/**
 * The tables scripts/gen-hpack-lookup.mjs generates must describe RFC 7541
 * exactly: the canonical Huffman form gives back every Appendix B code, and
 * the static-name switch finds every Appendix A name and nothing else.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HUFFMAN_LENGTH_COUNTS, HUFFMAN_SYMBOLS_IN_CODE_ORDER } from '../../src/hpack/huffman-canonical.js';
import { Deflater, Inflater } from '../../src/hpack/index.js';
import { STATIC_ENTRIES } from '../../src/hpack/spec-data.js';
import { staticNameIndex } from '../../src/hpack/static-names.js';
import { CASES_DIR } from '../helpers/vectors.js';

const huffman = JSON.parse(readFileSync(`${CASES_DIR}spec/rfc7541-huffman.json`, 'utf8')) as { codes: Array<[number, number]> };
const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
/** HPACK index of the first static entry named `s`, or 0. */
const firstIndex = (s: string): number => STATIC_ENTRIES.findIndex(([n]) => n === s) + 1;

describe('generated lookup tables', () => {
  it('the committed generated files are what their generators write (formatting included)', () => {
    for (const script of ['gen-hpack-lookup.mjs', 'gen-hpack-tables.mjs']) {
      const r = spawnSync(process.execPath, [join(import.meta.dirname, '../../scripts', script), '--check'], { encoding: 'utf8' });
      expect({ script, status: r.status, stderr: r.stderr }).toEqual({ script, status: 0, stderr: '' });
    }
  });

  it('the canonical Huffman form gives back every Appendix B code', () => {
    expect([...HUFFMAN_SYMBOLS_IN_CODE_ORDER].sort((a, b) => a - b)).toEqual(Array.from({ length: 257 }, (_, i) => i));
    const codes: Array<[number, number]> = [];
    let code = 0;
    let k = 0;
    for (let len = 1; len <= 30; len++) {
      code *= 2;
      for (let c = 0; c < HUFFMAN_LENGTH_COUNTS[len]!; c++, code++, k++) codes[HUFFMAN_SYMBOLS_IN_CODE_ORDER[k]!] = [code, len];
    }
    expect(codes).toEqual(huffman.codes);
  });

  it('finds every static name, at any offset, with the index of its first entry', () => {
    STATIC_ENTRIES.forEach(([name], i) => {
      const first = firstIndex(name);
      const b = bytes(`xy${name}z`);
      expect(staticNameIndex(b, 2, name.length), name).toBe(first);
      if (first === i + 1) expect(staticNameIndex(bytes(name), 0, name.length)).toBe(i + 1);
    });
  });

  it('finds nothing else: near misses (one octet changed, cut, extended) and random octets', () => {
    const names = new Set(STATIC_ENTRIES.map(([n]) => n));
    for (const name of names) {
      for (let k = 0; k < name.length; k++) {
        const b = bytes(name);
        b[k] = b[k]! ^ 0x20;
        expect(staticNameIndex(b, 0, b.length), `${name} with octet ${k} changed`).toBe(0);
      }
      expect(staticNameIndex(bytes(name), 0, name.length - 1)).toBe(firstIndex(name.slice(0, -1)));
      expect(staticNameIndex(bytes(`${name}-`), 0, name.length + 1)).toBe(0);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 30 }), (b) => {
        expect(staticNameIndex(b, 0, b.length)).toBe(firstIndex(String.fromCharCode(...b)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('static names found from octets in the coders', () => {
  const names = [...new Set(STATIC_ENTRIES.map(([n]) => n)), 'content-typf', 'x-content-type', 'age2', 'ag', 'Accept', 'cookie\u00ff'];

  it('the inflater returns literal names (raw and Huffman-coded) as sent, static or not', () => {
    for (const huffman of ['never', 'always'] as const) {
      // The 'naive' strategy sends every name as a literal.
      const d = new Deflater(4096, { strategy: 'naive', huffman });
      const fields = names.map((n): [string, string] => [n, 'v']);
      const wire = d.deflate(fields);
      expect(new Inflater().inflateTrace(wire).trace.every((t) => t.index === undefined)).toBe(true);
      // Text is sent as UTF-8: the octet strings of the last name differ from its text.
      expect(new Inflater().inflateLatin1(wire)).toEqual(fields.map(([n, v]) => [n === 'cookie\u00ff' ? 'cookie\u00c3\u00bf' : n, v]));
      expect(new Inflater().inflate(wire)).toEqual(fields);
    }
  });

  it('the deflater gives a name as bytes the same wire as the name as text', () => {
    const utf8 = new TextEncoder();
    const a = new Deflater();
    const b = new Deflater();
    for (const n of names) {
      expect(b.deflate([[utf8.encode(n), 'x']]), n).toEqual(a.deflate([[n, 'x']]));
    }
  });
});
