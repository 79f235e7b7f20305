/** The static layer's requests and responses (re-exported by static.ts). */
import type { FileHandle } from 'node:fs/promises';

/** Header fields: lower-case names. Shared arrays; never mutate them. */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

export interface StaticRequest {
  readonly method: string;
  /** The raw `:path`. */
  readonly path: string;
  /** Request header fields, lower-case names; pseudo-header fields may be included. */
  readonly headers: HeaderList;
  /** `:scheme`, when the engine keeps it out of `headers` (used for redirects). */
  readonly scheme?: string;
  /** `:authority`, when the engine keeps it out of `headers` (used for redirects). */
  readonly authority?: string;
  /**
   * True once nobody waits for the answer (the stream was reset or its
   * connection closed): checked before each step of looking the file up, so
   * an abandoned request costs no file work. An engine stream has it.
   */
  readonly closed?: boolean;
}

/** No content: send HEADERS with END_STREAM. */
export interface NoBody {
  readonly kind: 'none';
}

/** Content in memory (cached files and error pages). Shared; never mutate it. */
export interface BytesBody {
  readonly kind: 'bytes';
  readonly bytes: Uint8Array;
}

/**
 * Content to stream from a file: bytes [start, end) of a file of `size`
 * bytes. `handle` is shared by every response streaming the same file: read
 * it with positional reads only (`FileRangeReader` and `fileProducer` do),
 * never close it; call `release()` once when done or when the response is
 * abandoned (`releaseBody` does), and the last release closes it.
 */
export interface FileBody {
  readonly kind: 'file';
  readonly handle: FileHandle;
  /** The real path that was opened (for logs). */
  readonly path: string;
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
  readonly size: number;
  /** Gives the descriptor back; later calls do nothing. Settles when it is closed, if this was its last user. */
  readonly release: () => Promise<void>;
}

export type StaticBody = NoBody | BytesBody | FileBody;

export interface StaticResponse {
  readonly status: number;
  /** Without `:status`, `date` and `server`, which are the caller's. */
  readonly headers: HeaderList;
  readonly body: StaticBody;
}
