/**
 * h2kit/hpack: HPACK (RFC 7541) in pure TypeScript. The encoder reproduces
 * nghttp2's choices byte for byte; the decoder is strict and bounded.
 */
export { Deflater, type DeflaterOptions, type DeflateStrategy, type HuffmanMode } from './deflater.js';
export { HpackError, type HpackErrorCode } from './errors.js';
export { Inflater, type InflaterOptions, type RepresentationKind, type TraceItem } from './inflater.js';
export { STATIC_ENTRIES, STATIC_TABLE_LENGTH } from './static-table.js';
export { formatTable } from './table-format.js';
export {
  DEFAULT_HEADER_TABLE_SIZE,
  DEFAULT_MAX_HEADER_LIST_SIZE,
  DEFLATE_MAX_HEADER_TABLE_SIZE,
  type HeaderInput,
  type TableEntry,
  type TableSnapshot,
} from './types.js';
