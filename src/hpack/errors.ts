/**
 * Every way a header block can be rejected. Most are decoding errors in the
 * sense of RFC 7541 §3 (an HTTP/2 connection treats them as COMPRESSION_ERROR).
 * Three are not (see HpackError.breaksContext): HEADER_LIST_TOO_LARGE (the
 * block was decoded to the end, so the table is in sync, but the list is over
 * the limit), INVALID_UTF8 (inflate() could not turn valid HPACK octets into
 * text; inflateRaw() and inflateLatin1() return such blocks) and
 * ENCODER_INPUT (the deflater was given something it cannot encode).
 */
export type HpackErrorCode =
  | 'TRUNCATED' // the block ends inside a representation
  | 'INTEGER_OVERFLOW' // a prefix integer above 2^32 - 1 (§5.1)
  | 'INTEGER_TOO_LONG' // more continuation octets than a 32-bit integer needs (§5.1)
  | 'STRING_PAST_END' // a string length that runs past the end of the block (§5.2)
  | 'HUFFMAN_EOS' // the EOS symbol inside a Huffman-coded string (§5.2)
  | 'HUFFMAN_PADDING_TOO_LONG' // more than 7 bits of padding (§5.2)
  | 'HUFFMAN_PADDING_NOT_EOS' // padding that is not the most significant bits of EOS (§5.2)
  | 'INDEX_ZERO' // index 0 in an indexed header field (§6.1)
  | 'INDEX_OUT_OF_RANGE' // index beyond the static plus dynamic table (§2.3.3)
  | 'SIZE_UPDATE_TOO_LARGE' // dynamic table size update above SETTINGS_HEADER_TABLE_SIZE (§6.3)
  | 'SIZE_UPDATE_NOT_AT_START' // dynamic table size update after a header field (§4.2)
  | 'SIZE_UPDATE_MISSING' // the maximum was lowered and the block does not start by signalling it (§4.2)
  | 'HEADER_LIST_TOO_LARGE' // decoded list above maxHeaderListSize (RFC 9113 §6.5.2)
  | 'CONTEXT_BROKEN' // an earlier block failed; the dynamic table can no longer be trusted
  | 'INVALID_UTF8' // a name or value is not UTF-8 (only from inflate())
  | 'ENCODER_INPUT'; // the deflater was given something it cannot encode

/** An error in a header block, with the byte offset in the block where it was found. */
export class HpackError extends Error {
  override readonly name = 'HpackError';
  constructor(
    readonly code: HpackErrorCode,
    readonly offset: number,
    message: string,
    /**
     * For INVALID_UTF8: the whole decoded block as octet strings (one char
     * per octet), as inflateLatin1() would have returned it.
     */
    readonly headers?: Array<[string, string]>,
  ) {
    super(message);
  }

  /**
   * True for the errors after which the decoder's dynamic table can no longer
   * be trusted (an HTTP/2 connection must end with COMPRESSION_ERROR).
   */
  get breaksContext(): boolean {
    return this.code !== 'INVALID_UTF8' && this.code !== 'ENCODER_INPUT' && this.code !== 'HEADER_LIST_TOO_LARGE';
  }
}
