/**
 * Names that leave a 4 KiB table and come back, block after block, against libnghttp2's deflater
 * (test/cases/name-churn.json, made by scripts/oracle/gen-name-churn.mjs): the deflater keeps such
 * names mapped up to a bound and unmaps them past it, and none of that may change a single octet.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { Deflater, Inflater } from '../../src/hpack/index.js';
import { CASES_DIR, hex } from '../helpers/vectors.js';

const data = JSON.parse(readFileSync(`${CASES_DIR}name-churn.json`, 'utf8')) as { sets: Array<Array<[string, string]>>; wires: string[] };

it('name churn: every block byte-identical with libnghttp2, and decoded back', () => {
  expect(data.sets.length).toBe(9000);
  const d = new Deflater();
  const f = new Inflater();
  data.sets.forEach((set, i) => {
    const block = d.deflate(set);
    expect(hex(block), `block ${i}`).toBe(data.wires[i]);
    expect(f.inflate(block), `block ${i}`).toEqual(set);
  });
});
