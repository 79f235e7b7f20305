/** A header field to encode: name, value (text is taken as UTF-8; bytes as they are), options. */
export type HeaderInput = readonly [name: string | Uint8Array, value: string | Uint8Array, options?: { readonly sensitive?: boolean }];

/** One dynamic table entry in a snapshot; `index` is its HPACK index (62 is the newest). */
export interface TableEntry {
  index: number;
  name: string;
  value: string;
  /** Octets of name and value plus 32 (RFC 7541 §4.1). */
  size: number;
}

/** The dynamic table at a moment: newest entry first. */
export interface TableSnapshot {
  entries: TableEntry[];
  /** Sum of the entry sizes. */
  size: number;
  /** The table's current maximum size (the last size signalled or applied). */
  maxSize: number;
}

/** RFC 7541 §6.5.2 / RFC 9113 §6.5.2: the initial SETTINGS_HEADER_TABLE_SIZE. */
export const DEFAULT_HEADER_TABLE_SIZE = 4096;

/** Default for the deflater's own table limit (nghttp2's NGHTTP2_HD_DEFAULT_MAX_DEFLATE_BUFFER_SIZE). */
export const DEFLATE_MAX_HEADER_TABLE_SIZE = 4096;

/** Default cap on a decoded header list: name + value + 32 per field (RFC 9113 §6.5.2). */
export const DEFAULT_MAX_HEADER_LIST_SIZE = 64 * 1024;
