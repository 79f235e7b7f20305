/**
 * What the proxy needs from a backend connection pool, whichever protocol
 * it speaks: dispatch a request and report the response to a sink, with
 * backpressure (the sink says when to pause; the call's resume() goes on),
 * cancellation, and failures classified for the answer the client gets
 * (502, or 504 for timeouts) and for the backend's health.
 */
import type { Fields } from './headers.js';

/** A request as it goes to a backend. */
export interface BackendRequest {
  method: string;
  /** The client's :scheme (or http/https from the frontend). */
  scheme: string;
  authority: string;
  path: string;
  /** Regular fields, already rewritten by HeaderRules (Host first for HTTP/1.1). */
  fields: Fields;
  /** The request content, pulled with backpressure; null when there is none. */
  body: AsyncIterable<Uint8Array> | null;
  /** Where the request trailers are asked for when the body has ended (HTTP/2 backends only). */
  front: { trailers(): Fields | null };
}

/** Where the response goes. */
export interface ResponseSink {
  /**
   * The final response head; `nonAscii`: some field value has octets over
   * 0x7f (the values are octet strings; an HTTP/2 frontend must send those
   * as octets, not as text).
   */
  head(status: number, fields: Fields, nonAscii: boolean): void;
  /** A body chunk; false asks the backend to pause until resume(). */
  data(chunk: Uint8Array): boolean;
  /** The response is complete (with trailers, or null). */
  end(trailers: Fields | null): void;
  /** The exchange failed (before or after the head). */
  error(f: BackendFailure): void;
}

/**
 * Why a backend exchange failed: `connect` (no connection could be made:
 * refused, unreachable, connect timeout; nothing was sent, so another
 * backend may be tried), `timeout` (no answer within the read timeout:
 * 504), `reset` (the backend broke off or sent something unusable: 502),
 * `cancelled` (we cancelled it).
 */
export interface BackendFailure {
  kind: 'connect' | 'timeout' | 'reset' | 'cancelled';
  message: string;
}

/** A dispatched request. */
export interface BackendCall {
  /** Goes on after data() returned false. */
  resume(): void;
  /** Cancels the request (the client went away). */
  cancel(): void;
}

export interface BackendPool {
  /** "1.1" or "2": the protocol version Via names for the backend. */
  readonly version: string;
  dispatch(req: BackendRequest, sink: ResponseSink): BackendCall;
  /** Closes idle connections now and the others once their requests are done. */
  close(): Promise<void>;
  /** Closes everything at once. */
  destroy(): void;
}
