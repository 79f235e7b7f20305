/** Every way the decoder rejects a block: the error code and the byte offset it names. */
import { describe, expect, it } from 'vitest';
import { Deflater, HpackError, type HpackErrorCode, Inflater } from '../../src/hpack/index.js';
import { unhex } from '../helpers/vectors.js';

function rejects(block: string, code: HpackErrorCode, offset: number, inf = new Inflater()): HpackError {
  let err: unknown;
  try {
    inf.inflate(unhex(block));
  } catch (e) {
    err = e;
  }
  expect(err, `${block} should fail with ${code}`).toBeInstanceOf(HpackError);
  const e = err as HpackError;
  expect({ code: e.code, offset: e.offset }).toEqual({ code, offset });
  expect(e.message).toMatch(/\S/);
  return e;
}

describe('decoder errors (RFC 7541)', () => {
  it('integer overflow: a value above 2^32-1 (§5.1)', () => {
    const e = rejects('ffffffffff7f', 'INTEGER_OVERFLOW', 0);
    expect(e.message).toContain('2^32-1');
    rejects('82ff80808080ff7f', 'INTEGER_OVERFLOW', 1);
  });

  it('over-long integer: more continuation octets than 32 bits need (§5.1)', () => {
    rejects('ff808080808000', 'INTEGER_TOO_LONG', 0);
    rejects('8240ff80808080808000', 'INTEGER_TOO_LONG', 2);
  });

  it('string length past the end of the block (§5.2), before allocating it', () => {
    rejects('4005616263', 'STRING_PAST_END', 1);
    // A 2 GiB length in an 8-octet block.
    rejects('407f818080800861', 'STRING_PAST_END', 1);
    rejects('400161057a', 'STRING_PAST_END', 3);
  });

  it('Huffman padding longer than 7 bits (§5.2)', () => {
    rejects('408207ff0161', 'HUFFMAN_PADDING_TOO_LONG', 3);
  });

  it('Huffman padding that is not all ones (§5.2)', () => {
    rejects('4081060161', 'HUFFMAN_PADDING_NOT_EOS', 2);
  });

  it('EOS inside a Huffman string (§5.2)', () => {
    rejects('40851fffffffff0161', 'HUFFMAN_EOS', 6);
  });

  it('index 0 (§6.1)', () => {
    rejects('80', 'INDEX_ZERO', 0);
    rejects('8280', 'INDEX_ZERO', 1);
  });

  it('index beyond the static and dynamic table (§2.3.3)', () => {
    rejects('be', 'INDEX_OUT_OF_RANGE', 0);
    rejects('7e0161', 'INDEX_OUT_OF_RANGE', 0); // literal whose name index is out of range
    rejects('8240016101627fff00', 'INDEX_OUT_OF_RANGE', 6); // one dynamic entry (62); 63+ is beyond
    const inf = new Inflater();
    inf.inflate(unhex('4001610162'));
    expect(inf.inflate(unhex('be'))).toEqual([['a', 'b']]);
    rejects('bf', 'INDEX_OUT_OF_RANGE', 0, inf);
  });

  it('dynamic table size update above SETTINGS_HEADER_TABLE_SIZE (§6.3)', () => {
    rejects('3fe21f', 'SIZE_UPDATE_TOO_LARGE', 0); // 4097
    rejects('203fe21f', 'SIZE_UPDATE_TOO_LARGE', 1);
    const inf = new Inflater({ maxTableSize: 8192 });
    expect(inf.inflate(unhex('3fe13f'))).toEqual([]); // 8192 is allowed now
    expect(inf.maxTableSize).toBe(8192);
  });

  it('dynamic table size update after a header field (§4.2)', () => {
    rejects('8220', 'SIZE_UPDATE_NOT_AT_START', 1);
    rejects('20208220', 'SIZE_UPDATE_NOT_AT_START', 3);
  });

  it('no size update at the start of a block after SETTINGS lowered the maximum (§4.2)', () => {
    const lowered = () => {
      const inf = new Inflater();
      inf.changeTableSize(1000);
      return inf;
    };
    rejects('82', 'SIZE_UPDATE_MISSING', 0, lowered());
    rejects('', 'SIZE_UPDATE_MISSING', 0, lowered());
    // Lowered to 1000 and raised back to 4096: the 1000 must still be signalled first.
    const inf = lowered();
    inf.changeTableSize(4096);
    rejects('3fe11f82', 'SIZE_UPDATE_MISSING', 0, inf);
    const ok = lowered();
    ok.changeTableSize(4096);
    expect(ok.inflate(unhex('3fc9073fe11f82'))).toEqual([[':method', 'GET']]);
    // Only the first block after the change must start with it.
    expect(ok.inflate(unhex('82'))).toEqual([[':method', 'GET']]);
    // An initial SETTINGS below 4096 is a lowered maximum too.
    rejects('82', 'SIZE_UPDATE_MISSING', 0, new Inflater({ maxTableSize: 0 }));
    expect(new Inflater({ maxTableSize: 0 }).inflate(unhex('2082'))).toEqual([[':method', 'GET']]);
  });

  it('a truncated block', () => {
    rejects('40', 'TRUNCATED', 0);
    rejects('ff', 'TRUNCATED', 0);
    rejects('82ff80', 'TRUNCATED', 1);
    rejects('82400161', 'TRUNCATED', 1);
    rejects('3f', 'TRUNCATED', 0);
    rejects('1f', 'TRUNCATED', 0);
  });

  it('a decoded list over maxHeaderListSize; the table stays in sync', () => {
    const inf = new Inflater({ maxHeaderListSize: 100 });
    // :method GET is 7 + 3 + 32 = 42 octets: the third field crosses 100.
    const e = rejects('40016101628282', 'HEADER_LIST_TOO_LARGE', 6, inf);
    expect(e.breaksContext).toBe(false);
    expect(inf.usable).toBe(true);
    expect(inf.inflate(unhex('be'))).toEqual([['a', 'b']]); // the entry of the failed block is there
  });

  it('an HPACK bomb: one large entry referenced many times stops at the default 64 KiB', () => {
    const value = 'x'.repeat(4000);
    const block = new Uint8Array(3 + 2 + 4000 + 100);
    block.set([0x40, 0x01, 0x61, 0x7f, 4000 - 127 - 128 * Math.floor((4000 - 127) / 128) + 128, Math.floor((4000 - 127) / 128)]);
    block.fill(0x78, 6, 6 + 4000);
    block.fill(0xbe, 6 + 4000);
    const inf = new Inflater();
    let err: unknown;
    try {
      inf.inflate(block.subarray(0, 6 + 4000 + 99));
    } catch (e) {
      err = e;
    }
    expect((err as HpackError).code).toBe('HEADER_LIST_TOO_LARGE');
    expect(inf.getTable().entries[0]!.value).toBe(value);
    // Without the limit the same block decodes to 100 fields.
    expect(new Inflater({ maxHeaderListSize: Infinity }).inflate(block.subarray(0, 6 + 4000 + 99))).toHaveLength(100);
  });

  it('after a decoding error the context is refused', () => {
    const inf = new Inflater();
    const e = rejects('80', 'INDEX_ZERO', 0, inf);
    expect(e.breaksContext).toBe(true);
    expect(inf.usable).toBe(false);
    rejects('82', 'CONTEXT_BROKEN', 0, inf);
  });

  it('inflate() rejects a value that is not UTF-8; the octets are available and the context intact', () => {
    const inf = new Inflater();
    const e = rejects('400161040062ff63', 'INVALID_UTF8', 0, inf);
    expect(e.breaksContext).toBe(false);
    expect(inf.inflateRaw(unhex('be')).map(([n, v]) => [[...n], [...v]])).toEqual([[[0x61], [0x00, 0x62, 0xff, 0x63]]]);
    expect(inf.inflateLatin1(unhex('be'))).toEqual([['a', '\x00b\xffc']]);
    // A lone continuation octet or a truncated sequence is not UTF-8 either; valid multi-octet text is.
    rejects('824001610180', 'INVALID_UTF8', 1);
    rejects('000161', 'TRUNCATED', 0);
    expect(new Inflater().inflate(unhex('00016105c3a9e282ac'))).toEqual([['a', 'é€']]);
  });
});

describe('text decoding keeps every octet', () => {
  it('INVALID_UTF8 carries the whole block as octet strings', () => {
    // :method GET, then x: "é" (valid), then y: ff (not UTF-8).
    const block = unhex('82' + '000178' + '02c3a9' + '000179' + '01ff');
    let err: HpackError | undefined;
    try {
      new Inflater().inflate(block);
    } catch (e) {
      err = e as HpackError;
    }
    expect(err?.code).toBe('INVALID_UTF8');
    expect(err?.offset).toBe(7);
    expect(err?.headers).toEqual([
      [':method', 'GET'],
      ['x', '\xc3\xa9'],
      ['y', '\xff'],
    ]);
  });

  it('a leading byte order mark is part of the value', () => {
    expect(new Inflater().inflate(unhex('00017803efbbbf'))).toEqual([['x', '\ufeff']]);
    const d = new Deflater(4096, { huffman: 'never' });
    expect(new Inflater().inflateRaw(d.deflate([['x', '\ufeffa']]))[0]![1]).toEqual(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]));
  });
});
