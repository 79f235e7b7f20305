/**
 * The deflater keeps its names as the keys of a dictionary object with no prototype. Names that
 * are also keys of Object.prototype (`__proto__`, `constructor`, `toString`) or array indices
 * (`0`, `4294967295`) must be names like any other: new the first time, then found.
 */
import { describe, expect, it } from 'vitest';
import { Deflater, Inflater } from '../../src/hpack/index.js';

const NAMES = ['__proto__', 'constructor', '0', '4294967295', 'toString', 'hasownproperty'];

describe('deflater: names that are keys of Object.prototype or array indices', () => {
  it('are new names the first time, indexed fields the second, indexed names the third', () => {
    const d = new Deflater();
    const inf = new Inflater();
    const fields = NAMES.map((n, i): [string, string] => [n, `v${i}`]);

    const one = d.deflate(fields).slice();
    expect(inf.inflate(one)).toEqual(fields);
    // Each field: 0x40 (incremental indexing, new name), then its name and value as strings.
    let at = 0;
    for (const [name, value] of fields) {
      expect(one[at], name).toBe(0x40);
      at += 1 + 1 + (one[at + 1]! & 0x7f);
      at += 1 + (one[at]! & 0x7f);
      expect(value.length).toBeGreaterThan(0);
    }
    expect(at).toBe(one.length);

    // Six entries, the last inserted (hasownproperty) at index 62: the first field's is 67.
    const two = d.deflate(fields).slice();
    expect([...two]).toEqual([0x80 | 67, 0x80 | 66, 0x80 | 65, 0x80 | 64, 0x80 | 63, 0x80 | 62]);
    expect(inf.inflate(two)).toEqual(fields);

    // New values: `__proto__`'s name is index 67, past the 6-bit prefix (63 + 4).
    const again = NAMES.map((n): [string, string] => [n, 'z']);
    const three = d.deflate(again).slice();
    expect([...three.subarray(0, 2)]).toEqual([0x7f, 0x04]);
    expect(inf.inflate(three)).toEqual(again);
    expect(d.tableSize).toBe(12 * 32 + 2 * NAMES.join('').length + 6 * 2 + 6 * 1);
  });

  it('a name unmapped when it has no entries is new again', () => {
    // A 64-octet table holds one entry: every insertion evicts the one before, and past 256 idle
    // names they are all unmapped. `constructor` must then be a new name, not Object's.
    const d = new Deflater(64);
    const inf = new Inflater();
    inf.inflate(d.deflate([]));
    for (let i = 0; i < 300; i++) inf.inflate(d.deflate([[`x-${i}`, 'v']]));
    const block = d.deflate([['constructor', 'v']]);
    expect(block[0]).toBe(0x40);
    expect(inf.inflate(block)).toEqual([['constructor', 'v']]);
  });
});
