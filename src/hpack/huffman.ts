/**
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B).
 *
 * Strings here are octet strings: JS strings whose char codes are all 0..255,
 * one char per octet (see octets.ts).
 *
 * Encoding takes two octets at a time: PAIRS holds the joined code of every
 * pair of ASCII octets whose codes fit in 26 bits together (nearly all that
 * occur in header fields); other octets take their own code. Bits go out 32
 * at a time. The caller encodes first and compares lengths after: counting
 * the length first costs a second pass over the string, more than the rare
 * string that ends up raw saves (measured with bench/hpack.mjs's corpora).
 */
import { HpackError } from './errors.js';
import { HUFFMAN_LENGTH_COUNTS, HUFFMAN_SYMBOLS_IN_CODE_ORDER } from './huffman-canonical.js';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from './spec-data.js';

const EOS = 256;
const CODES = Int32Array.from(HUFFMAN_CODES);
const LENGTHS = Uint8Array.from(HUFFMAN_LENGTHS);

// ---- encoder ---------------------------------------------------------------

/** PAIRS[a << 7 | b] for ASCII octets a, b: their codes joined << 5 | the joined length; 0 when over 26 bits. */
const PAIR_MAX_BITS = 26;
// A constant filled on first use, as the decoder's tables below (and for the same reason). Its first
// entry (two NULs, 26 bits) is never 0 once filled: testing it costs a load, where a `let` flag costs
// a check for its temporal dead zone and a conversion to boolean at every call.
const PAIRS = new Int32Array(128 * 128);

function fillPairs(): void {
  const t = PAIRS;
  for (let a = 0; a < 128; a++) {
    for (let b = 0; b < 128; b++) {
      const len = LENGTHS[a]! + LENGTHS[b]!;
      if (len <= PAIR_MAX_BITS) t[(a << 7) | b] = (((CODES[a]! << LENGTHS[b]!) | CODES[b]!) << 5) | len;
    }
  }
}

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
 * after the last octet written, which is pos + huffmanEncodedLength(s). The
 * final octet is padded with the most significant bits of EOS (all ones).
 */
export function huffmanEncode(s: string, dst: Uint8Array, pos: number): number {
  return encode(s, dst, pos, 0x100);
}

/**
 * Like huffmanEncode, for text that is expected to be ASCII (and so its own
 * octet string): returns -1 at the first char >= 0x80, having written part
 * of the code.
 */
export function huffmanEncodeAscii(s: string, dst: Uint8Array, pos: number): number {
  return encode(s, dst, pos, 0x80);
}

/**
 * A DataView of the last output array (a deflater's arena): each 32 bits go out as one big-endian
 * store. It keeps that one array alive until another is written to.
 */
let lastDst: Uint8Array | null = null;
let lastView: DataView = new DataView(new ArrayBuffer(0));

function encode(s: string, dst: Uint8Array, pos: number, limit: number): number {
  if (PAIRS[0] === 0) fillPairs();
  if (dst !== lastDst) {
    lastDst = dst;
    lastView = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  }
  const view = lastView;
  const p = PAIRS;
  const n = s.length;
  // `acc` holds `bits` pending bits (under 32) in its low bits; every 32 bits go out as one word.
  let acc = 0;
  let bits = 0;
  let i = 0;
  while (i < n) {
    let code: number;
    let len: number;
    const a = s.charCodeAt(i);
    const b = i + 1 < n ? s.charCodeAt(i + 1) : 0x100;
    const w = (a | b) < 0x80 ? p[(a << 7) | b]! : 0;
    if (w !== 0) {
      code = w >>> 5;
      len = w & 31;
      i += 2;
    } else {
      // One octet: part of a pair over 26 bits, a long code, or the last octet.
      if (a >= limit) return -1;
      code = CODES[a]!;
      len = LENGTHS[a]!;
      i++;
    }
    if (bits + len < 32) {
      acc = (acc << len) | code;
      bits += len;
      continue;
    }
    // 32 bits are complete: the pending ones and the first 32 - bits of this code.
    // One store instead of four (one bounds check). `acc` keeps the code's first bits above the
    // `over` pending ones: every later use shifts them out, so they need no mask.
    const over = bits + len - 32;
    view.setInt32(pos, (acc << (32 - bits)) | (code >>> over));
    pos += 4;
    acc = code;
    bits = over;
  }
  for (; bits >= 8; bits -= 8) dst[pos++] = acc >>> (bits - 8);
  if (bits > 0) dst[pos++] = (acc << (8 - bits)) | (0xff >>> bits);
  return pos;
}

// ---- decoder -------------------------------------------------------------
//
// Decoding reads 12 input bits at a time: FAST[w] gives the one or two whole
// codes at the start of the 12-bit window w (codes of up to 12 bits: every
// letter, digit and common punctuation) and the bits they take. A window
// with no whole code is the prefix (0xffc to 0xfff) of a code of 13 to 30
// bits; MID, indexed by the prefix's last two bits and the next 12 bits,
// gives codes of up to 24 bits, and for longer ones a group of LONG, indexed
// by the last 6 bits. The tables (16 KiB + 32 KiB + 2 KiB; FAST stays in the
// L1 cache) are filled on first use from the canonical code
// (huffman-canonical.ts, generated from Appendix B), so a process that only
// encodes pays only for their zeroed memory.

// FAST word: bits 0-3 bits taken, bits 5-6 number of symbols (0: a longer
// code), bits 8-15 and 16-23 the symbols (an unused one 0, so that an OR of
// words tells whether any symbol is >= 0x80).
const F_COUNT = 0x60;
const F_NON_ASCII = 0x808000;
// MID and LONG words: bits 0-8 the symbol (256 = EOS), bits 9-12 the code's
// length beyond the bits already read; in MID, 0x8000 | group for a code
// longer than 24 bits.
const LEN_SHIFT = 9;
const MID_LONGER = 0x8000;
const MID_PREFIX = 0xffc;
/** Groups of codes over 24 bits sharing a 24-bit prefix (RFC 7541 has 10). */
const LONG_GROUPS = 16;

// The tables are constants, allocated (zeroed) when the module loads and filled on first use: the
// decoder then reads objects V8 knows, without checking their kind and reloading their length and
// address at every lookup, as it does for tables reached through a variable (5-6% faster decoding
// of hpack-test-case's strings).
const FAST = new Int32Array(1 << 12);
const MID = new Uint16Array(4 << 12);
const LONG = new Uint16Array(LONG_GROUPS << 6);

function fillDecodeTables(): void {
  // The first code of every 12-bit window: symbol | length << 9, 0 for longer codes.
  const first = new Int32Array(1 << 12);
  const mid = MID;
  const long = LONG;
  let group = -1;
  let groupPrefix = -1;
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 30; len++) {
    code <<= 1;
    for (let c = 0; c < HUFFMAN_LENGTH_COUNTS[len]!; c++, code++, k++) {
      const sym = HUFFMAN_SYMBOLS_IN_CODE_ORDER[k]!;
      if (len <= 12) {
        const from = code << (12 - len);
        first.fill(sym | (len << LEN_SHIFT), from, from + (1 << (12 - len)));
      } else if (len <= 24) {
        const from = (code << (24 - len)) - (MID_PREFIX << 12);
        mid.fill(sym | ((len - 12) << LEN_SHIFT), from, from + (1 << (24 - len)));
      } else {
        // Canonical codes ascend, so the codes sharing a 24-bit prefix are consecutive.
        const prefix = code >>> (len - 24);
        if (prefix !== groupPrefix) {
          groupPrefix = prefix;
          if (++group >= LONG_GROUPS) throw new Error('Huffman code has more long-code groups than LONG_GROUPS');
          mid[prefix - (MID_PREFIX << 12)] = MID_LONGER | group;
        }
        const from = (group << 6) | ((code << (30 - len)) & 63);
        long.fill(sym | ((len - 24) << LEN_SHIFT), from, from + (1 << (30 - len)));
      }
    }
  }
  const fast = FAST;
  for (let w = 0; w < 1 << 12; w++) {
    let used = 0;
    let n = 0;
    let word = 0;
    while (n < 2) {
      const f = first[(w << used) & 0xfff]!;
      const len = f >>> LEN_SHIFT;
      if (f === 0 || len > 12 - used) break;
      word |= (f & 0xff) << (8 + 8 * n);
      used += len;
      n++;
    }
    fast[w] = word | (n << 5) | used;
  }
}

/**
 * Octets `dst` must hold to decode `n` Huffman-coded octets: the most they
 * can decode to (the shortest code has 5 bits), plus one that the decoder
 * may write past the decoded length.
 */
export function huffmanMaxDecodedLength(n: number): number {
  return (((n * 8) / 5) | 0) + 1; // n is below 2^28: a block is far smaller
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
  if (FAST[0] === 0) fillDecodeTables(); // filled: window 0 holds two codes ('0', '0')
  const fast = FAST;
  // `acc` holds the unread bits in its low `bits` bits (at most 32).
  let acc = 0;
  let bits = 0;
  let i = start;
  let n = 0;
  let or = 0;
  const pairEnd = end - 1;
  const tripleEnd = end - 2;
  for (;;) {
    // While three octets are left: at least 24 bits, so two lookups per refill. The loop keeps
    // `sh` = bits - 12 (the window's shift) rather than `bits`: one operation fewer between a
    // lookup and the next, which waits for it (7% faster on hpack-test-case's strings).
    let sh = bits - 12;
    while (i < tripleEnd) {
      if (sh <= 4) {
        acc = (acc << 16) | (src[i]! << 8) | src[i + 1]!;
        i += 2;
        sh += 16;
      }
      if (sh < 12) {
        acc = (acc << 8) | src[i++]!;
        sh += 8;
      }
      const w1 = fast[(acc >>> sh) & 0xfff]!;
      if ((w1 & F_COUNT) === 0) break;
      // Two stores whatever the count: cheaper than branching on it.
      dst[n] = w1 >>> 8;
      dst[n + 1] = w1 >>> 16;
      n += (w1 >>> 5) & 3;
      or |= w1;
      sh -= w1 & 15;
      const w2 = fast[(acc >>> sh) & 0xfff]!;
      if ((w2 & F_COUNT) === 0) break;
      dst[n] = w2 >>> 8;
      dst[n + 1] = w2 >>> 16;
      n += (w2 >>> 5) & 3;
      or |= w2;
      sh -= w2 & 15;
    }
    bits = sh + 12;
    if (bits < 12) {
      if (i >= pairEnd) break;
      acc = (acc << 16) | (src[i]! << 8) | src[i + 1]!;
      i += 2;
      bits += 16;
    }
    const w = fast[(acc >>> (bits - 12)) & 0xfff]!;
    if ((w & F_COUNT) !== 0) {
      dst[n] = w >>> 8;
      dst[n + 1] = w >>> 16;
      n += (w >>> 5) & 3;
      or |= w;
      bits -= w & 15;
      continue;
    }
    // A code of 13 to 30 bits: its 12-bit prefix, then 12 more bits (MID).
    const sel = ((acc >>> (bits - 12)) & 3) << 12;
    bits -= 12;
    if (bits < 12 && !(i < pairEnd && ((acc = (acc << 16) | (src[i]! << 8) | src[i + 1]!), (i += 2), (bits += 16)))) {
      // The last octet, if any; then the code must end within what is left.
      if (i < end) {
        acc = (acc << 8) | src[i++]!;
        bits += 8;
      }
      if (bits < 12) {
        const m = MID[sel | (((acc << (12 - bits)) | ((1 << (12 - bits)) - 1)) & 0xfff)]!;
        if (m >= MID_LONGER || m >>> LEN_SHIFT > bits) paddingTooLong(baseOffset + end - 1);
        dst[n++] = m & 0xff;
        or |= m << 8;
        bits -= m >>> LEN_SHIFT;
        continue;
      }
    }
    const m = MID[sel | ((acc >>> (bits - 12)) & 0xfff)]!;
    if (m < MID_LONGER) {
      dst[n++] = m & 0xff;
      or |= m << 8;
      bits -= m >>> LEN_SHIFT;
      continue;
    }
    // A code of 25 to 30 bits: 6 more bits (LONG).
    bits -= 12;
    if (bits < 6 && !(i < pairEnd && ((acc = (acc << 16) | (src[i]! << 8) | src[i + 1]!), (i += 2), (bits += 16)))) {
      if (i < end) {
        acc = (acc << 8) | src[i++]!;
        bits += 8;
      }
      if (bits < 6) {
        const l = LONG[((m & 0xff) << 6) | (((acc << (6 - bits)) | ((1 << (6 - bits)) - 1)) & 63)]!;
        if ((l & 0x1ff) === EOS || l >>> LEN_SHIFT > bits) paddingTooLong(baseOffset + end - 1);
        dst[n++] = l & 0xff;
        or |= l << 8;
        bits -= l >>> LEN_SHIFT;
        continue;
      }
    }
    const l = LONG[((m & 0xff) << 6) | ((acc >>> (bits - 6)) & 63)]!;
    if ((l & 0x1ff) === EOS) {
      // The octet that holds the last bit of EOS.
      const at = baseOffset + start + ((((i - start) << 3) - bits + 5) >>> 3);
      throw new HpackError('HUFFMAN_EOS', at, `Huffman-coded string contains the EOS symbol (byte ${at})`);
    }
    dst[n++] = l & 0xff;
    or |= l << 8;
    bits -= l >>> LEN_SHIFT;
  }
  // Fewer than 12 bits and at most one octet left: one code at a time, the
  // window padded with ones (a prefix of EOS, so never a whole code).
  if (i < end) {
    acc = (acc << 8) | src[i++]!;
    bits += 8;
  }
  while (bits > 0) {
    const w = fast[bits >= 12 ? (acc >>> (bits - 12)) & 0xfff : ((acc << (12 - bits)) | ((1 << (12 - bits)) - 1)) & 0xfff]!;
    let sym = 0;
    let len = 31;
    if ((w & F_COUNT) !== 0) {
      sym = (w >>> 8) & 0xff;
      len = LENGTHS[sym]!;
    } else if (bits > 12) {
      // At most 7 bits after a 12-bit prefix: a code of 13 to 19 bits.
      const r = bits - 12;
      const m = MID[(((acc >>> r) & 3) << 12) | (((acc << (12 - r)) | ((1 << (12 - r)) - 1)) & 0xfff)]!;
      if (m < MID_LONGER) {
        sym = m & 0xff;
        len = 12 + (m >>> LEN_SHIFT);
      }
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
