import { describe, expect, it } from 'vitest';
import { Inflater } from '../../src/hpack/index.js';
import { encodeInteger, integerLength } from '../../src/hpack/integer.js';

function enc(value: number, prefix: number, flags = 0): number[] {
  const buf = new Uint8Array(16);
  const end = encodeInteger(buf, 0, value, prefix, flags);
  expect(integerLength(value, prefix)).toBe(end);
  return [...buf.subarray(0, end)];
}

describe('prefix integers (RFC 7541 §5.1)', () => {
  it('C.1.1: 10 with a 5-bit prefix', () => expect(enc(10, 5)).toEqual([0x0a]));
  it('C.1.2: 1337 with a 5-bit prefix', () => expect(enc(1337, 5)).toEqual([0x1f, 0x9a, 0x0a]));
  it('C.1.3: 42 starting at an octet boundary', () => expect(enc(42, 8)).toEqual([0x2a]));
  it('the prefix maximum takes a zero continuation octet', () => {
    expect(enc(31, 5)).toEqual([0x1f, 0x00]);
    expect(enc(127, 7)).toEqual([0x7f, 0x00]);
    expect(enc(30, 5)).toEqual([0x1e]);
  });
  it('flags are kept in the first octet', () => expect(enc(62, 7, 0x80)).toEqual([0xbe]));
  it('2^32-1 round-trips through the decoder as a size update', () => {
    const bytes = enc(0xffffffff, 5, 0x20);
    expect(bytes).toEqual([0x3f, 0xe0, 0xff, 0xff, 0xff, 0x0f]);
    const inf = new Inflater({ maxTableSize: 0xffffffff });
    expect(inf.inflate(new Uint8Array(bytes))).toEqual([]);
    expect(inf.maxTableSize).toBe(0xffffffff);
  });
});
