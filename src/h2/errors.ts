/**
 * The errors of the h2 API: one class, Http2Error (an Error with a `code`
 * that says what happened in one word), for everything the API throws or
 * rejects with. RFC 9113 error names (PROTOCOL_ERROR, REFUSED_STREAM, ...)
 * when a frame carried or caused the error, and local codes for what
 * happened around the protocol. H2Error, the engine's protocol error as a
 * value (what parsers return and a connection closes with), is one of them.
 *
 * No imports: frame.ts, the codec, uses these.
 */

/** Error codes (RFC 9113 §7). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;

const ERROR_NAMES: readonly string[] = Object.keys(ErrorCode);

/** "PROTOCOL_ERROR", ... or "0x.." for a code this version does not know (§7: no special behaviour). */
export function errorCodeName(code: number): string {
  return ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

/** Codes that are not RFC 9113 error names. */
export type LocalErrorCode =
  /** TCP or TLS could not be established. */
  | 'CONNECT_FAILED'
  /** The TLS peer did not select h2 with ALPN. */
  | 'TLS_ALPN'
  /** A timeout (connect, idle, request) expired. */
  | 'TIMEOUT'
  /** The request was aborted (AbortSignal, or cancelled by the application). */
  | 'ABORTED'
  /** The connection closed (or failed) before the exchange completed. */
  | 'CONNECTION_CLOSED'
  /** The peer sent GOAWAY: the request was not processed and may be retried on a new connection. */
  | 'GOAWAY'
  /** The peer's response is not valid HTTP/2 (RFC 9113 §8.1.1, §8.3.2). */
  | 'MALFORMED_RESPONSE'
  /** A header section exceeded our SETTINGS_MAX_HEADER_LIST_SIZE. */
  | 'HEADER_LIST_TOO_LARGE'
  /** The server refused the HTTP/1.1 Upgrade to h2c. */
  | 'UPGRADE_REFUSED'
  /** The application passed a bad argument: a field HTTP/2 forbids, a status or option out of range, a body of the wrong type. */
  | 'INVALID_ARGUMENT'
  /** The application called a method at the wrong time: respond() twice, sendTrailers() before respond(), listen() twice. */
  | 'INVALID_STATE'
  /** The server could not listen (the cause is Node's error: EADDRINUSE, EACCES, ...). */
  | 'LISTEN_FAILED'
  /** No more stream identifiers on this connection (§5.1.1). */
  | 'STREAM_IDS_EXHAUSTED';

export class Http2Error extends Error {
  override readonly name: string = 'Http2Error';
  /** What happened, in one word: an RFC 9113 error name or a LocalErrorCode. */
  readonly code: string;
  /** The RFC 9113 error code sent or received in a frame, when there was one. */
  readonly errorCode: number | undefined;
  /** The request was not processed by the peer and may be retried (RFC 9113 §8.7). */
  readonly retryable: boolean;
  /** The stream, when the error is about one. */
  readonly streamId: number | undefined;

  constructor(code: string, message: string, options: { errorCode?: number; retryable?: boolean; streamId?: number; cause?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = code;
    this.errorCode = options.errorCode;
    this.retryable = options.retryable ?? false;
    this.streamId = options.streamId;
  }

  /** An error named after an RFC 9113 error code received or sent in a frame. */
  static fromCode(errorCode: number, message: string, options: { retryable?: boolean; streamId?: number } = {}): Http2Error {
    return new Http2Error(errorCodeName(errorCode), message, { ...options, errorCode });
  }
}

/**
 * A protocol error (§5.4) as the engine handles it: its RFC 9113 code
 * (`errorCode`; `code` is its name) and its scope. Parsers return it; the
 * connection turns it into GOAWAY or RST_STREAM, and reports the one it
 * closed with as ConnectionCloseInfo.error.
 */
export class H2Error extends Http2Error {
  override readonly name: string = 'H2Error';
  declare readonly errorCode: number;
  /** 0 for a connection error. */
  declare readonly streamId: number;

  constructor(
    /** 'connection': GOAWAY and close (§5.4.1); 'stream': RST_STREAM on `streamId` (§5.4.2). */
    readonly scope: 'connection' | 'stream',
    errorCode: number,
    message: string,
    streamId = 0,
  ) {
    super(errorCodeName(errorCode), message, { errorCode, streamId });
  }

  override toString(): string {
    return `${this.scope} error ${this.code}: ${this.message}`;
  }
}

/** `code` when it can be an RFC 9113 error code (32 bits, §7); INVALID_ARGUMENT otherwise. */
export function errorCodeArg(code: number): number {
  if (!Number.isInteger(code) || code < 0 || code > 0xffffffff) throw invalidArgument(`an error code is an integer from 0 to 2^32-1, got ${code}`);
  return code;
}

/** An Http2Error for a bad argument (INVALID_ARGUMENT). */
export const invalidArgument = (message: string): Http2Error => new Http2Error('INVALID_ARGUMENT', message);
/** An Http2Error for a call at the wrong time (INVALID_STATE). */
export const invalidState = (message: string): Http2Error => new Http2Error('INVALID_STATE', message);
