/** Inflater's sharedPairs: indexed fields come back as the same frozen pair; literals and results stay right. */
import { describe, expect, it } from 'vitest';
import { Deflater, Inflater } from '../../src/hpack/index.js';

describe('Inflater sharedPairs', () => {
  const fields: Array<[string, string]> = [
    [':method', 'GET'],
    [':path', '/a'],
    ['x-custom', 'v1'],
    ['accept', '*/*'],
  ];

  it('an indexed field is the same frozen pair on every block; the lists are equal to the unshared ones', () => {
    const d = new Deflater();
    const blocks = [d.deflate(fields), d.deflate(fields), d.deflate(fields)].map((b) => b.slice());
    const shared = new Inflater({ sharedPairs: true });
    const plain = new Inflater();
    const a = blocks.map((b) => shared.inflateLatin1(b));
    const b = blocks.map((x) => plain.inflateLatin1(x));
    expect(a).toEqual(b);
    // :method GET is static index 2; x-custom: v1 is in the dynamic table from the second block on.
    expect(a[1]![0]).toBe(a[2]![0]);
    expect(Object.isFrozen(a[1]![0])).toBe(true);
    expect(a[1]![2]).toBe(a[2]![2]);
    expect(Object.isFrozen(a[2]![2])).toBe(true);
    // Without the option: new, mutable pairs every time.
    expect(b[1]![0]).not.toBe(b[2]![0]);
    expect(Object.isFrozen(b[2]![2])).toBe(false);
  });

  it('an evicted entry does not hand out its old pair for the new one in its slot', () => {
    const d = new Deflater(256);
    d.changeTableSize(256);
    const inf = new Inflater({ sharedPairs: true, maxTableSize: 256 });
    const seen: Array<[string, string]> = [];
    // More insertions than the ring has slots (64): every slot is reused by other entries.
    for (let i = 0; i < 200; i++) {
      const set: Array<[string, string]> = [
        ['x-k', `value-${i}`],
        ['x-k', `value-${i}`],
      ];
      const got = inf.inflateLatin1(d.deflate(set).slice());
      expect(got.map((p) => [...p])).toEqual(set);
      seen.push(...(got as Array<[string, string]>));
    }
    expect(seen.length).toBe(400);
  });
});
