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

describe('Inflater.inflateShared', () => {
  const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/ /g, ''), 'hex'));
  // Block A inserts custom-key: custom-header (RFC 7541 C.2.1); block B is that entry, index 62, with
  // :path /sample/path as a literal without indexing (C.2.2): B leaves the table as it is.
  const A = hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572');
  const B = hex('be 040c 2f73 616d 706c 652f 7061 7468');
  // C inserts another entry (index 62 then names it, not custom-key).
  const C = hex('4003 6f6e 6503 6f6e 65');

  it('a block that left the table unchanged, given again, is the same list, equal to a fresh decoding, its pairs frozen from the start', () => {
    const inf = new Inflater({ sharedPairs: true });
    const plain = new Inflater();
    inf.inflateShared(A);
    plain.inflateLatin1(A);
    const first = inf.inflateShared(B);
    // Frozen from the first use: a change made by its first user cannot reach the next one.
    for (const f of first) expect(Object.isFrozen(f)).toBe(true);
    const again = inf.inflateShared(B.slice());
    expect(again).toBe(first);
    expect(again).toEqual(plain.inflateLatin1(B));
    expect(again).toEqual([
      ['custom-key', 'custom-header'],
      [':path', '/sample/path'],
    ]);
    for (const f of again) expect(Object.isFrozen(f)).toBe(true);
  });

  it('once the table changed, the same octets are decoded again against it', () => {
    const inf = new Inflater({ sharedPairs: true });
    inf.inflateShared(A);
    const before = inf.inflateShared(B);
    expect(inf.inflateShared(B)).toBe(before);
    inf.inflateLatin1(C); // not through inflateShared: B stays the remembered block
    const after = inf.inflateShared(B);
    expect(after).not.toBe(before);
    expect(after[0]).toEqual(['one', 'one']);
    // A new maximum (SETTINGS) counts as a change too.
    const again = inf.inflateShared(B);
    expect(again).toBe(after);
    inf.changeTableSize(8192);
    expect(inf.inflateShared(B)).not.toBe(after);
  });

  it('a block that inserts is never remembered: the same octets insert again', () => {
    const inf = new Inflater({ sharedPairs: true });
    const a1 = inf.inflateShared(A);
    const size = inf.tableSize;
    const a2 = inf.inflateShared(A);
    expect(a2).not.toBe(a1);
    expect(a2).toEqual(a1);
    expect(inf.tableSize).toBe(2 * size);
  });

  it('a decoder broken by a bad block refuses the remembered block too', () => {
    const inf = new Inflater({ sharedPairs: true });
    inf.inflateShared(A);
    inf.inflateShared(B);
    expect(() => inf.inflateShared(hex('ff'))).toThrow();
    expect(() => inf.inflateShared(B)).toThrow(/CONTEXT_BROKEN|no longer in sync/);
  });
});

describe('Inflater decodedOctets', () => {
  it('is the octets of the names and values of the last block, also when inflateShared hands back a remembered list', () => {
    const d = new Deflater();
    const a: Array<[string, string]> = [
      [':status', '200'],
      ['content-length', '1024'],
    ];
    const b: Array<[string, string]> = [
      [':status', '404'],
      ['x-long-name', 'é'],
    ];
    const octets = (fs: Array<[string, string]>) => fs.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    const inf = new Inflater({ sharedPairs: true });
    // :status 200 and content-length without indexing: the second block is the same octets, remembered.
    const blockA = d.deflate([[':status', '200']]).slice();
    inf.inflateShared(blockA);
    expect(inf.decodedOctets).toBe(octets([[':status', '200']]));
    inf.inflateLatin1(d.deflate(b).slice());
    expect(inf.decodedOctets).toBe(octets(b));
    inf.inflateShared(blockA);
    // A static-table field in between leaves the table as it was: the next block is answered from the memo.
    const accept: Array<[string, string]> = [['accept-encoding', 'gzip, deflate']];
    inf.inflateLatin1(d.deflate(accept).slice());
    expect(inf.decodedOctets).toBe(octets(accept));
    const again = d.deflate([[':status', '200']]).slice();
    expect(again).toEqual(blockA);
    inf.inflateShared(again);
    expect(inf.decodedOctets).toBe(octets([[':status', '200']]));
    inf.inflate(d.deflate(a).slice());
    expect(inf.decodedOctets).toBe(octets(a));
  });
});
