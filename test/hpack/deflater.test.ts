import { describe, expect, it } from 'vitest';
import { Deflater, formatTable, HpackError, Inflater } from '../../src/hpack/index.js';
import { hex } from '../helpers/vectors.js';

describe('Deflater', () => {
  it('emits "never indexed" for sensitive fields, authorization, and short cookies; names only', () => {
    const d = new Deflater();
    // x-a:1 is indexed first; a sensitive x-a:1 then uses the name only.
    expect(hex(d.deflate([['x-a', '1']]))).toBe('4003782d610131');
    expect(hex(d.deflate([['x-a', '1', { sensitive: true }]]))).toBe('1f2f0131');
    expect(hex(d.deflate([['authorization', '']]))).toBe('1f0800');
    expect(hex(d.deflate([['cookie', 'short']])).slice(0, 4)).toBe('1f11');
    const wire = new Deflater().deflate([
      ['cookie', 'short'],
      ['cookie', 'a-long-cookie-value-of-30-chars'],
    ]);
    const trace = new Inflater().inflateTrace(wire).trace;
    expect(trace.map((t) => t.kind)).toEqual(['literal-never-indexed', 'literal-incremental']);
    expect(d.getTable().entries.map((e) => e.name)).toEqual(['x-a']);
  });

  it('takes names and values as UTF-8 text or as bytes, with the same result', () => {
    const a = new Deflater();
    const b = new Deflater();
    const utf8 = new TextEncoder();
    const fields: Array<[string, string]> = [
      ['x-ünï', 'välüé €'],
      ['x-ünï', 'välüé €'],
      ['user-agent', 'ascii'],
      ['user-agent', 'ascii'],
    ];
    const wa = fields.map((f) => hex(a.deflate([f])));
    const wb = fields.map(([n, v]) => hex(b.deflate([[utf8.encode(n), utf8.encode(v)]])));
    expect(wb).toEqual(wa);
    expect(wa[1]).toBe('be');
    expect(wa[3]).toBe('be');
    expect(new Inflater().inflate(new Deflater().deflate(fields))).toEqual(fields);
    // Octets that are not UTF-8 pass through untouched.
    const raw = new Uint8Array([0xff, 0x00, 0x80]);
    const out = new Inflater().inflateRaw(new Deflater().deflate([['x', raw]]));
    expect([...out[0]![1]]).toEqual([0xff, 0x00, 0x80]);
  });

  it('text that looks like an octet string of a table entry is still encoded as UTF-8', () => {
    // Entry inserted from the octets c3 a9; the text "Ã©" is c3 83 c2 a9 and must not match it.
    const d = new Deflater();
    d.deflate([['x', new Uint8Array([0xc3, 0xa9])]]);
    const inf = new Inflater();
    inf.inflateRaw(new Deflater().deflate([['x', new Uint8Array([0xc3, 0xa9])]]));
    const w = d.deflate([['x', '\u00c3\u00a9']]);
    expect(inf.inflate(w)).toEqual([['x', '\u00c3\u00a9']]);
  });

  it('rejects names and values that are neither text nor bytes', () => {
    const d = new Deflater();
    expect(() => d.deflate([['a', 1 as unknown as string]])).toThrow(HpackError);
    try {
      d.deflate([
        ['a', 'b'],
        [null as unknown as string, 'x'],
      ]);
    } catch (e) {
      expect((e as HpackError).code).toBe('ENCODER_INPUT');
      expect((e as HpackError).offset).toBe(1);
    }
    expect(() => new Deflater(-1)).toThrow(RangeError);
    expect(() => new Deflater().changeTableSize(1.5)).toThrow(RangeError);
    expect(() => new Deflater(4096, { strategy: 'best' as 'linear' })).toThrow(TypeError);
  });

  it('returns blocks that later blocks never overwrite', () => {
    const d = new Deflater();
    const blocks: Uint8Array[] = [];
    const hexes: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const b = d.deflate([
        ['x-n', String(i)],
        ['x-pad', 'p'.repeat(i % 100)],
      ]);
      blocks.push(b);
      hexes.push(hex(b));
    }
    expect(blocks.map(hex)).toEqual(hexes);
    expect(d.deflate([['x', 'y'.repeat(200_000)]]).length).toBeGreaterThan(100_000);
  });

  it('holds no large arena before it has much to encode (one per connection: idle ones stay small)', () => {
    const before = process.memoryUsage().arrayBuffers;
    const many = Array.from({ length: 200 }, () => new Deflater());
    for (const d of many)
      d.deflate([
        [':status', '200'],
        ['content-type', 'text/plain'],
      ]);
    const per = (process.memoryUsage().arrayBuffers - before) / many.length;
    expect(per).toBeLessThanOrEqual(8 * 1024);
  });

  it('a -S limit below 4096 starts the first block with a size update to it', () => {
    expect(hex(new Deflater(0).deflate([[':method', 'GET']]))).toBe('2082');
    expect(hex(new Deflater(512).deflate([]))).toBe('3fe103');
    expect(hex(new Deflater(8192).deflate([]))).toBe('');
    const d = new Deflater(8192);
    d.changeTableSize(16384); // capped by the limit
    expect(hex(d.deflate([]))).toBe('3fe13f');
    expect(d.maxTableSize).toBe(8192);
  });

  it('static, naive and linear strategies use the tables as named', () => {
    const fields: Array<[string, string]> = [
      [':method', 'GET'],
      ['x-a', 'b'],
      ['x-a', 'b'],
    ];
    expect(hex(new Deflater(4096, { strategy: 'static', huffman: 'never' }).deflate(fields))).toBe(`82${'0003782d610162'.repeat(2)}`);
    expect(hex(new Deflater(4096, { strategy: 'naive', huffman: 'never' }).deflate(fields))).toBe(
      '00073a6d6574686f640347455400' + '03782d610162' + '0003782d610162',
    );
    expect(hex(new Deflater(4096, { strategy: 'linear', huffman: 'never' }).deflate(fields))).toBe('82' + '4003782d610162' + 'be');
  });

  it('a frozen list encoded again while the table holds gets the same block, without encoding it again', () => {
    const fields = Object.freeze([
      Object.freeze([':status', '200'] as const),
      Object.freeze(['etag', '"abc"'] as const),
      Object.freeze(['content-length', '1024'] as const),
    ]);
    const d = new Deflater();
    const first = d.deflate(fields);
    const again = d.deflate(fields);
    expect(again).toBe(first);
    expect(d.inputOctets).toBe(':status200etag"abc"content-length1024'.length);
    // The table changes (a field with incremental indexing): the list is encoded anew, as a fresh encoder would.
    const other = new Deflater();
    other.deflate(fields.map((f) => [...f] as [string, string]));
    expect(hex(d.deflate([['x-new', 'v']]))).toBe(hex(other.deflate([['x-new', 'v']])));
    const after = d.deflate(fields);
    expect(after).not.toBe(first);
    expect(hex(after)).toBe(hex(first)); // these fields do not use the dynamic table
    // A list that inserts is never reused: the second time it is indexed.
    const indexed = Object.freeze([Object.freeze(['x-indexed', 'yes'] as const)]);
    const a = d.deflate(indexed);
    const b = d.deflate(indexed);
    expect(hex(b)).not.toBe(hex(a));
    expect(hex(b)).toBe('be');
    // Unfrozen lists and lists with unfrozen fields are always encoded anew.
    const loose = [['etag', '"abc"']] as Array<[string, string]>;
    const x = d.deflate(loose);
    loose[0]![1] = '"xyz"';
    expect(hex(d.deflate(loose))).not.toBe(hex(x));
    const half = Object.freeze([['etag', '"abc"'] as [string, string]]);
    const y = d.deflate(half);
    half[0]![1] = '"xyz"';
    expect(hex(d.deflate(half))).not.toBe(hex(y));
  });

  it('reused blocks are byte-identical with a fresh encoding, through any table changes (random runs)', () => {
    const f = (n: string, v: string) => Object.freeze([n, v] as const);
    const pool = [
      Object.freeze([f(':status', '200'), f('server', 'h2serve'), f('date', 'Sat, 21 Nov 2026 03:00:00 GMT'), f('content-length', '1024'), f('etag', '"e1"')]),
      Object.freeze([f(':status', '200'), f('server', 'h2serve'), f('date', 'Sat, 21 Nov 2026 03:00:01 GMT'), f('content-length', '99')]),
      Object.freeze([f(':status', '304'), f('etag', '"e1"'), f('cache-control', 'max-age=3600')]),
      Object.freeze([f(':status', '404'), f('content-type', 'text/html; charset=UTF-8'), f('x-big', 'z'.repeat(900))]),
      Object.freeze([f('cookie', 'short'), f('authorization', 'secret'), f(':path', '/a')]),
    ];
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let reused = 0;
    for (let run = 0; run < 200; run++) {
      const last = new Map<object, Uint8Array>();
      const limit = [0, 64, 256, 1024, 4096][rnd(5)]!;
      const memo = new Deflater(limit);
      const fresh = new Deflater(limit);
      for (let step = 0; step < 40; step++) {
        const k = rnd(10);
        if (k === 0) {
          const size = [0, 100, 512, 4096][rnd(4)]!;
          memo.changeTableSize(size);
          fresh.changeTableSize(size);
        } else if (k === 1) {
          const loose: Array<[string, string]> = [[`x-${rnd(4)}`, String(rnd(3))]];
          expect(hex(memo.deflate(loose))).toBe(hex(fresh.deflate(loose)));
        } else {
          const list = pool[rnd(pool.length)]!;
          const block = memo.deflate(list);
          if (last.get(list) === block) reused++;
          last.set(list, block);
          expect(hex(block)).toBe(hex(fresh.deflate(list.map((x) => [...x] as [string, string]))));
        }
      }
      expect(memo.getTable('latin1')).toEqual(fresh.getTable('latin1'));
    }
    expect(reused).toBeGreaterThan(100);
  });
});

describe('Deflater: empty values and the static table', () => {
  it('indexes a static name with an empty value where its static entry has one, and only there', () => {
    const d = new Deflater();
    // `date` (33), `accept-charset` (15), `www-authenticate` (61): static entries with empty values.
    expect(hex(d.deflate([['date', '']]))).toBe('a1');
    expect(
      hex(
        d.deflate([
          ['accept-charset', ''],
          ['www-authenticate', ''],
        ]),
      ),
    ).toBe('8fbd');
    // `:path` (4, '/'; 5, '/index.html') and `:status` (8-14) have no empty value: literals, by name.
    expect(hex(d.deflate([[':path', '']]))).toBe('0400');
    expect(hex(d.deflate([[':status', '']]))).toBe('4800');
    // `:status: ''` is now in the dynamic table (index 62); a non-empty value still finds its static entry.
    expect(
      hex(
        d.deflate([
          [':status', ''],
          [':status', '404'],
          ['date', 'x'],
        ]),
      ),
    ).toBe('be8d610178'); // date: 0x40 | 33, then 'x' raw (its code, 7 bits, is no shorter)
  });
});

describe('formatTable', () => {
  it('prints one line per entry with index and size, then the totals', () => {
    const d = new Deflater();
    d.deflate([
      [':authority', 'yahoo.co.jp'],
      ['x-a', 'b'],
    ]);
    expect(formatTable(d.getTable())).toBe('[62] (s=36) x-a: b\n[63] (s=53) :authority: yahoo.co.jp\ntable size 89 of 4096, 2 entries');
    expect(formatTable(new Inflater().getTable())).toBe('table size 0 of 4096, 0 entries');
  });
});
