/**
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B).
 *
 * Strings here are octet strings: JS strings whose char codes are all 0..255,
 * one char per octet (see octets.ts).
 *
 * Decoding runs a finite-state machine over whole input bytes: a state is an
 * internal node of the code tree (256 of them), and one table lookup per input
 * byte gives the next node and the zero, one or two symbols completed on the
 * way. The table (256 x 256 entries) is built from the spec codes on first use,
 * so a process that only encodes never pays for it.
 */
import { HpackError } from './errors.js';
import { HUFFMAN_LENGTH_COUNTS, HUFFMAN_SYMBOLS_IN_CODE_ORDER } from './huffman-canonical.js';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from './spec-data.js';

const EOS = 256;
const CODES = Uint32Array.from(HUFFMAN_CODES);
const LENGTHS = Uint8Array.from(HUFFMAN_LENGTHS);

/** Number of octets `s` takes when Huffman-coded. */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += LENGTHS[s.charCodeAt(i)]!;
  return (bits + 7) >>> 3;
}

/** Number of octets `bytes[start..end)` takes when Huffman-coded. */
export function huffmanEncodedLengthBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let bits = 0;
  for (let i = start; i < end; i++) bits += LENGTHS[bytes[i]!]!;
  return (bits + 7) >>> 3;
}

/**
 * Huffman-codes the octet string `s` into `dst` at `pos`; returns the position
 * after the last octet written. The final octet is padded with the most
 * significant bits of EOS (all ones). `dst` must have room for
 * huffmanEncodedLength(s) + 3 octets (see encode()).
 */
export function huffmanEncode(s: string, dst: Uint8Array, pos: number): number {
  return encode(s, dst, pos, 0x100);
}

/**
 * Like huffmanEncode, for text that is expected to be ASCII (and so its own
 * octet string): returns -1 at the first char >= 0x80, having written part
 * of the code. `dst` must have room for 4 octets per char.
 */
export function huffmanEncodeAscii(s: string, dst: Uint8Array, pos: number): number {
  return encode(s, dst, pos, 0x80);
}

function encode(s: string, dst: Uint8Array, pos: number, limit: number): number {
  // `acc` holds the pending bits in its low `bits` bits (garbage above them
  // is shifted out or cut off by the 8-bit stores). After each code, three
  // octets are stored unconditionally and `pos` advances by the whole octets
  // done: a data-dependent flush loop mispredicts and costs a quarter more.
  // So `dst` needs 3 octets of slack past the encoded length.
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i);
    if (sym >= limit) return -1;
    let len = LENGTHS[sym]!;
    let code = CODES[sym]!;
    if (len > 24) {
      // Rare (control octets): push the high part first to stay within 32 bits.
      acc = (acc << (len - 16)) | (code >>> 16);
      bits += len - 16;
      dst[pos] = acc >>> (bits - 8);
      dst[pos + 1] = acc >>> (bits - 16);
      pos += bits >>> 3;
      bits &= 7;
      len = 16;
      code &= 0xffff;
    }
    acc = (acc << len) | code;
    bits += len;
    dst[pos] = acc >>> (bits - 8);
    dst[pos + 1] = acc >>> (bits - 16);
    dst[pos + 2] = acc >>> (bits - 24);
    pos += bits >>> 3;
    bits &= 7;
  }
  if (bits > 0) dst[pos++] = (acc << (8 - bits)) | (0xff >>> bits);
  return pos;
}

// ---- decoder -------------------------------------------------------------
//
// Decoding reads 16 input bits at a time. FAST[w] describes the 16-bit window
// w: the up to three whole codes at its start (every code that short is at
// most 15 bits) and the bits they take. A window with no whole code starts a
// code of 19 to 30 bits, whose first 16 bits are 0xfffe or 0xffff: LONG,
// indexed by that last prefix bit and the next 14 bits, gives it. Both tables
// are expanded on first use from the canonical code (huffman-canonical.ts,
// generated from Appendix B), so a process that only encodes never pays for
// them (256 KiB + 64 KiB, about a millisecond).

// FAST word: bits 0-4 bits taken, bits 5-6 number of symbols (0 = long code),
// bits 8-15, 16-23, 24-31 the symbols (unused ones 0, so that an OR of words
// tells whether any symbol is >= 0x80).
const F_COUNT = 0x60;
const F_NON_ASCII = 0x80808000;
// LONG word: bits 0-8 the symbol (256 = EOS), bits 9-12 its length - 16.
const L_LEN_SHIFT = 9;
const LONG_PREFIX = 0xfffe;

interface DecodeTables {
  fast: Int32Array;
  long: Uint16Array;
}

let tables: DecodeTables | null = null;

function buildDecodeTables(): DecodeTables {
  // The first code of every 16-bit window (symbol | length << 9; 0 for long codes), and LONG.
  const first = new Int32Array(1 << 16);
  const long = new Uint16Array(1 << 15);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 30; len++) {
    code <<= 1;
    for (let c = 0; c < HUFFMAN_LENGTH_COUNTS[len]!; c++, code++, k++) {
      const sym = HUFFMAN_SYMBOLS_IN_CODE_ORDER[k]!;
      if (len <= 16) {
        const from = code << (16 - len);
        first.fill(sym | (len << L_LEN_SHIFT), from, from + (1 << (16 - len)));
      } else {
        const from = (code << (30 - len)) - (LONG_PREFIX << 14);
        long.fill(sym | ((len - 16) << L_LEN_SHIFT), from, from + (1 << (30 - len)));
      }
    }
  }
  const fast = new Int32Array(1 << 16);
  for (let w = 0; w < 1 << 16; w++) {
    let used = 0;
    let n = 0;
    let word = 0;
    while (n < 3) {
      const f = first[(w << used) & 0xffff]!;
      const len = f >>> L_LEN_SHIFT;
      if (f === 0 || len > 16 - used) break;
      word |= (f & 0xff) << (8 + 8 * n);
      used += len;
      n++;
    }
    fast[w] = word | (n << 5) | used;
  }
  return { fast, long };
}

/**
 * Octets `dst` must hold to decode `n` Huffman-coded octets: the most they
 * can decode to (the shortest code has 5 bits), plus 2 that the decoder may
 * write past the decoded length.
 */
export function huffmanMaxDecodedLength(n: number): number {
  return Math.floor((n * 8) / 5) + 2;
}

/**
 * Decodes the Huffman-coded octets `src[start..end)` into `dst` from 0
 * (which must hold huffmanMaxDecodedLength(end - start) octets). Returns the
 * decoded length and leaves in `decodedAscii` whether every decoded octet is
 * below 0x80, so the caller knows without another pass.
 * `baseOffset` is added to `src` positions in error offsets.
 * RFC 7541 §5.2: EOS in the string, padding longer than 7 bits and padding
 * that is not the most significant bits of EOS are errors, on every path.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, dst: Uint8Array, baseOffset: number): number {
  const t = (tables ??= buildDecodeTables());
  const fast = t.fast;
  // `acc` holds the unread bits in its low `bits` bits (at most 32).
  let acc = 0;
  let bits = 0;
  let i = start;
  let n = 0;
  let or = 0;
  const pairEnd = end - 1;
  for (;;) {
    if (bits < 16) {
      if (i >= pairEnd) break;
      acc = (acc << 16) | (src[i]! << 8) | src[i + 1]!;
      i += 2;
      bits += 16;
    }
    const w = fast[(acc >>> (bits - 16)) & 0xffff]!;
    if ((w & F_COUNT) !== 0) {
      // Three stores whatever the count: cheaper than branching on it.
      dst[n] = w >>> 8;
      dst[n + 1] = w >>> 16;
      dst[n + 2] = w >>> 24;
      n += (w >>> 5) & 3;
      or |= w;
      bits -= w & 31;
      continue;
    }
    // A code of 19 to 30 bits: its 16-bit prefix, then up to 14 more bits.
    const sub = ((acc >>> (bits - 16)) & 1) << 14;
    bits -= 16;
    if (bits < 14) {
      if (i < pairEnd) {
        acc = (acc << 16) | (src[i]! << 8) | src[i + 1]!;
        i += 2;
        bits += 16;
      } else {
        if (i < end) {
          acc = (acc << 8) | src[i++]!;
          bits += 8;
        }
        if (bits < 14) {
          // The string ends inside the 14 bits: the code must fit in what is left.
          const l = t.long[sub | (((acc << (14 - bits)) | ((1 << (14 - bits)) - 1)) & 0x3fff)]!;
          const sym = l & 0x1ff;
          if (sym === EOS || l >>> L_LEN_SHIFT > bits) paddingTooLong(baseOffset + end - 1);
          dst[n++] = sym;
          or |= sym << 8;
          bits -= l >>> L_LEN_SHIFT;
          continue;
        }
      }
    }
    const l = t.long[sub | ((acc >>> (bits - 14)) & 0x3fff)]!;
    const sym = l & 0x1ff;
    if (sym === EOS) {
      // The octet that holds the last bit of EOS.
      const at = baseOffset + start + ((((i - start) << 3) - bits + 13) >>> 3);
      throw new HpackError('HUFFMAN_EOS', at, `Huffman-coded string contains the EOS symbol (byte ${at})`);
    }
    dst[n++] = sym;
    or |= sym << 8;
    bits -= l >>> L_LEN_SHIFT;
  }
  // Fewer than 16 bits and at most one octet left: one code at a time,
  // the window padded with ones (a prefix of EOS, so never a whole code).
  if (i < end) {
    acc = (acc << 8) | src[i++]!;
    bits += 8;
  }
  while (bits > 0) {
    const w = fast[bits >= 16 ? (acc >>> (bits - 16)) & 0xffff : ((acc << (16 - bits)) | ((1 << (16 - bits)) - 1)) & 0xffff]!;
    let sym: number;
    let len: number;
    if ((w & F_COUNT) !== 0) {
      sym = (w >>> 8) & 0xff;
      len = LENGTHS[sym]!;
    } else if (bits >= 16) {
      const r = bits - 16;
      const l = t.long[(((acc >>> r) & 1) << 14) | (((acc << (14 - r)) | ((1 << (14 - r)) - 1)) & 0x3fff)]!;
      sym = l & 0x1ff;
      len = sym === EOS ? 31 : 16 + (l >>> L_LEN_SHIFT);
    } else {
      len = 31;
      sym = 0;
    }
    if (len > bits) {
      checkPadding(bits, acc, baseOffset + end - 1);
      break;
    }
    dst[n++] = sym;
    or |= sym << 8;
    bits -= len;
  }
  decodedAscii = (or & F_NON_ASCII) === 0;
  return n;
}

/**
 * The string ended inside a code, `bits` bits into it (the low bits of
 * `acc`): that is padding, which must be at most 7 bits and all ones (§5.2).
 */
function checkPadding(bits: number, acc: number, at: number): void {
  if (bits > 7) paddingTooLong(at);
  const ones = (1 << bits) - 1;
  if ((acc & ones) !== ones) {
    throw new HpackError('HUFFMAN_PADDING_NOT_EOS', at, `Huffman padding is not a prefix of EOS (not all ones) (byte ${at})`);
  }
}

function paddingTooLong(at: number): never {
  throw new HpackError('HUFFMAN_PADDING_TOO_LONG', at, `Huffman-coded string ends with more than 7 bits of padding (byte ${at})`);
}

/** Whether every octet produced by the last successful huffmanDecode() is below 0x80. */
export let decodedAscii = true;
