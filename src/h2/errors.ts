/**
 * The error the h2 API gives its users: an Error with a `code` that says
 * what happened in one word. RFC 9113 error names (PROTOCOL_ERROR,
 * REFUSED_STREAM, ...) when a frame carried or caused the error, and local
 * codes for what happened around the protocol.
 */
import { errorCodeName } from './frame.js';

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
  /** The application called the API wrongly (bad argument, wrong state). */
  | 'INVALID_ARGUMENT'
  | 'INVALID_STATE'
  /** No more stream identifiers on this connection (§5.1.1). */
  | 'STREAM_IDS_EXHAUSTED';

export class Http2Error extends Error {
  override readonly name = 'Http2Error';
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
