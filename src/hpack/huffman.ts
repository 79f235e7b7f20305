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

// Transition word layout: bits 0-7 next state, bits 8-9 number of symbols
// emitted, bits 10-17 first symbol, bits 18-25 second symbol, bit 26 EOS seen.
const T_COUNT_SHIFT = 8;
const T_SYM1_SHIFT = 10;
const T_SYM2_SHIFT = 18;
const T_EOS = 1 << 26;

/** Per state: 0 = the string may end here; otherwise the padding error. */
const END_OK = 0;
const END_TOO_LONG = 1;
const END_NOT_EOS = 2;

interface DecodeTables {
  transitions: Int32Array;
  endState: Uint8Array;
}

let tables: DecodeTables | null = null;

function buildDecodeTables(): DecodeTables {
  // Code tree: internal nodes are numbered in creation order, root = 0.
  // child[node * 2 + bit] >= 0 is an internal node; < 0 is leaf ~symbol.
  const child = new Int32Array(256 * 2).fill(0x7fffffff);
  const depth = new Uint8Array(256);
  const allOnes = new Uint8Array(256);
  allOnes[0] = 1;
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = CODES[sym]!;
    const len = LENGTHS[sym]!;
    let node = 0;
    for (let b = len - 1; b > 0; b--) {
      const bit = (code >>> b) & 1;
      let next = child[node * 2 + bit]!;
      if (next === 0x7fffffff) {
        next = nodes++;
        child[node * 2 + bit] = next;
        depth[next] = depth[node]! + 1;
        allOnes[next] = allOnes[node]! & bit;
      }
      node = next;
    }
    child[node * 2 + (code & 1)] = ~sym;
  }
  if (nodes !== 256) throw new Error(`Huffman tree has ${nodes} internal nodes, expected 256`);

  const transitions = new Int32Array(256 * 256);
  for (let state = 0; state < 256; state++) {
    for (let byte = 0; byte < 256; byte++) {
      let node = state;
      let count = 0;
      let word = 0;
      for (let b = 7; b >= 0; b--) {
        const next = child[node * 2 + ((byte >>> b) & 1)]!;
        if (next >= 0) {
          node = next;
          continue;
        }
        const sym = ~next;
        node = 0;
        if (sym === EOS) {
          word |= T_EOS;
          break;
        }
        word |= sym << (count === 0 ? T_SYM1_SHIFT : T_SYM2_SHIFT);
        count++;
      }
      transitions[state * 256 + byte] = word | (count << T_COUNT_SHIFT) | node;
    }
  }
  const endState = new Uint8Array(256);
  for (let s = 0; s < 256; s++) {
    endState[s] = depth[s]! > 7 ? END_TOO_LONG : allOnes[s] ? END_OK : END_NOT_EOS;
  }
  return { transitions, endState };
}

/** Largest number of octets `n` Huffman-coded octets can decode to (the shortest code has 5 bits). */
export function huffmanMaxDecodedLength(n: number): number {
  return Math.floor((n * 8) / 5);
}

/**
 * Decodes the Huffman-coded octets `src[start..end)` into `dst` from 0
 * (which must hold huffmanMaxDecodedLength(end - start) octets). Returns the
 * decoded length and leaves the OR of the decoded octets in `decodedOr`, so
 * the caller knows without another pass whether the string is ASCII.
 * `baseOffset` is added to `start`-relative positions in error offsets.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, dst: Uint8Array, baseOffset: number): number {
  const t = (tables ??= buildDecodeTables());
  const transitions = t.transitions;
  let state = 0;
  let n = 0;
  let or = 0;
  for (let i = start; i < end; i++) {
    const w = transitions[(state << 8) | src[i]!]!;
    const count = (w >>> T_COUNT_SHIFT) & 3;
    if (count !== 0) {
      const s1 = (w >>> T_SYM1_SHIFT) & 0xff;
      dst[n++] = s1;
      or |= s1;
      if (count === 2) {
        const s2 = (w >>> T_SYM2_SHIFT) & 0xff;
        dst[n++] = s2;
        or |= s2;
      }
    }
    if ((w & T_EOS) !== 0) {
      throw new HpackError('HUFFMAN_EOS', baseOffset + i, `Huffman-coded string contains the EOS symbol (byte ${baseOffset + i})`);
    }
    state = w & 0xff;
  }
  const endState = t.endState[state]!;
  if (endState !== END_OK) {
    const at = baseOffset + end - 1;
    if (endState === END_TOO_LONG) {
      throw new HpackError('HUFFMAN_PADDING_TOO_LONG', at, `Huffman-coded string ends with more than 7 bits of padding (byte ${at})`);
    }
    throw new HpackError('HUFFMAN_PADDING_NOT_EOS', at, `Huffman padding is not a prefix of EOS (not all ones) (byte ${at})`);
  }
  decodedOr = or;
  return n;
}

/** OR of all octets produced by the last successful huffmanDecode(). */
export let decodedOr = 0;
