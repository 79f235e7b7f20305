import { describe, expect, it } from 'vitest';
import { HpackError } from '../../src/hpack/errors.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength, huffmanMaxDecodedLength } from '../../src/hpack/huffman.js';
import { bytesToOctets } from '../../src/hpack/octets.js';
import { HUFFMAN_LENGTHS } from '../../src/hpack/spec-data.js';
import { hex, unhex } from '../helpers/vectors.js';

function encode(octets: string): Uint8Array {
  const buf = new Uint8Array(huffmanEncodedLength(octets) + 8).fill(0xaa);
  const end = huffmanEncode(octets, buf, 0);
  expect(end).toBe(huffmanEncodedLength(octets));
  return buf.subarray(0, end);
}

function decode(bytes: Uint8Array): string {
  const out = new Uint8Array(huffmanMaxDecodedLength(bytes.length));
  const n = huffmanDecode(bytes, 0, bytes.length, out, 0);
  return bytesToOctets(out, 0, n);
}

function decodeError(bytes: Uint8Array): HpackError {
  try {
    decode(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(HpackError);
    return e as HpackError;
  }
  throw new Error('expected an HpackError');
}

describe('Huffman code (RFC 7541 §5.2, Appendix B)', () => {
  it('encodes the RFC 7541 Appendix C strings', () => {
    expect(hex(encode('www.example.com'))).toBe('f1e3c2e5f23a6ba0ab90f4ff');
    expect(hex(encode('no-cache'))).toBe('a8eb10649cbf');
    expect(hex(encode('custom-key'))).toBe('25a849e95ba97d7f');
    expect(hex(encode('custom-value'))).toBe('25a849e95bb8e8b4bf');
    expect(hex(encode('Mon, 21 Oct 2013 20:13:21 GMT'))).toBe('d07abe941054d444a8200595040b8166e082a62d1bff');
    expect(hex(encode('https://www.example.com'))).toBe('9d29ad171863c78f0b97c8e9ae82ae43d3');
  });

  it('every octet alone and all octets in a row round-trip, long codes included', () => {
    for (let c = 0; c < 256; c++) {
      const s = String.fromCharCode(c);
      const enc = encode(s);
      expect(enc.length).toBe(Math.ceil(HUFFMAN_LENGTHS[c]! / 8));
      expect(decode(enc)).toBe(s);
    }
    let all = '';
    for (let c = 0; c < 256; c++) all += String.fromCharCode(c);
    for (const s of [all, [...all].reverse().join(''), all.repeat(3)]) expect(decode(encode(s))).toBe(s);
  });

  it('pads with the most significant bits of EOS', () => {
    // '0' is 00000 (5 bits): three bits of padding, all ones.
    expect(hex(encode('0'))).toBe('07');
    expect(hex(encode(''))).toBe('');
  });

  it('decodes the empty string', () => expect(decode(new Uint8Array(0))).toBe(''));

  it('rejects EOS inside a string at the octet where it ends', () => {
    // 'a' (00011) then EOS (30 ones) then padding: 00011111 11111111 11111111 11111111 11111000 -> EOS ends in octet 4.
    const e = decodeError(unhex('1fffffffff'));
    expect(e.code).toBe('HUFFMAN_EOS');
    expect(e.offset).toBe(4);
  });

  it('rejects padding longer than 7 bits', () => {
    // '0' (00000) + 111 then a whole octet of ones.
    const e = decodeError(unhex('07ff'));
    expect(e.code).toBe('HUFFMAN_PADDING_TOO_LONG');
    expect(e.offset).toBe(1);
  });

  it('rejects padding that is not all ones', () => {
    // '0' then 3 bits 110 of padding.
    const e = decodeError(unhex('06'));
    expect(e.code).toBe('HUFFMAN_PADDING_NOT_EOS');
    expect(e.offset).toBe(0);
  });

  it('rejects a string of zero bits (not a code, not padding)', () => {
    // 00000 = '0', 000 = incomplete code that is not all ones.
    expect(decodeError(unhex('00')).code).toBe('HUFFMAN_PADDING_NOT_EOS');
  });
});
