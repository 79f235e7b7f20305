/**
 * Prefix integers (RFC 7541 §5.1).
 *
 * Decoding is done inline by the inflater (it needs the block position); this
 * module holds the encoder and the limits both sides share.
 */

/** Largest integer the decoder accepts: everything HPACK carries fits in 32 bits. */
export const MAX_INTEGER = 0xffffffff;

/** Continuation octets a 32-bit value can need after the prefix (ceil(32 / 7)). */
export const MAX_CONTINUATION_OCTETS = 5;

/**
 * Writes `value` with an N-bit prefix into `dst` at `pos`, OR-ing `flags`
 * into the first octet. Returns the position after the integer.
 */
export function encodeInteger(dst: Uint8Array, pos: number, value: number, prefixBits: number, flags: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    dst[pos++] = flags | value;
    return pos;
  }
  dst[pos++] = flags | max;
  value -= max;
  while (value >= 128) {
    dst[pos++] = (value % 128) | 128;
    value = Math.floor(value / 128);
  }
  dst[pos++] = value;
  return pos;
}

/** Octets encodeInteger() writes for `value` with an N-bit prefix. */
export function integerLength(value: number, prefixBits: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) return 1;
  let n = 2;
  for (value -= max; value >= 128; value = Math.floor(value / 128)) n++;
  return n;
}
