/**
 * What h2get keeps of each request for -s and -r: what was sent and
 * received, and when, from the engine's frame events (performance.now()
 * milliseconds). One ExchangeRecorder per connection sees every frame of it
 * and updates the record of the stream the frame belongs to.
 */
import { Flag, type FrameEvent, FrameType } from '../h2/index.js';

/** When a connection was set up (performance.now() ms); dnsEnd = start when no lookup was made. */
export interface ConnectionTimes {
  /** Number of the connection in this run, from 1. */
  index: number;
  start: number;
  dnsEnd: number;
  /** TCP connected. */
  connectEnd: number;
  /** TLS done (connectEnd for h2c). */
  secureEnd: number;
  tls: boolean;
  /** The address connected to. */
  serverAddress: string;
}

export interface Exchange {
  url: URL;
  method: string;
  /** The request's fields as sent, pseudo-headers first. */
  requestHeaders: Array<[string, string]>;
  /** Octets of request content (0 without -d). */
  requestBodySize: number;
  /** The request content when it is UTF-8 text (for the HAR's postData). */
  requestText: string | null;
  pushed: boolean;
  streamId: number;
  connection: ConnectionTimes;
  /** Wall clock when the request was made (or the push promised). */
  startedDateTime: Date;
  /** performance.now() when the request was made (or the push promised). */
  issuedAt: number;
  /** Its HEADERS (or HTTP/1.1 upgrade request) went out. */
  headersSentAt: number;
  /** Its last octet went out. */
  requestEndAt: number;
  /** The first HEADERS of the response arrived. */
  responseStartAt: number;
  /** END_STREAM arrived (or the exchange failed). */
  endAt: number;
  status: number;
  responseHeaders: Array<[string, string]>;
  /** Response content octets as received (before any content-coding is undone). */
  bodySize: number;
  /** Response content octets after gzip/deflate were undone. */
  contentSize: number;
  /** Why it failed, or null. */
  error: string | null;
}

/** A new record for a request about to be made. */
export function newExchange(url: URL, method: string, connection: ConnectionTimes, pushed = false): Exchange {
  return {
    url,
    method,
    requestHeaders: [],
    requestBodySize: 0,
    requestText: null,
    pushed,
    streamId: 0,
    connection,
    startedDateTime: new Date(),
    issuedAt: performance.now(),
    headersSentAt: -1,
    requestEndAt: -1,
    responseStartAt: -1,
    endAt: -1,
    status: 0,
    responseHeaders: [],
    bodySize: 0,
    contentSize: 0,
    error: null,
  };
}

/** Feeds one connection's frame events into the records of its streams. */
export class ExchangeRecorder {
  private readonly byStream = new Map<number, Exchange>();

  /** `x` is on stream `streamId` from now on. */
  bind(streamId: number, x: Exchange): void {
    x.streamId = streamId;
    this.byStream.set(streamId, x);
  }

  get(streamId: number): Exchange | undefined {
    return this.byStream.get(streamId);
  }

  /** The HTTP/1.1 upgrade request went out: it is stream 1's HEADERS (RFC 7540 §3.2), without content. */
  upgradeSent(): void {
    const x = this.byStream.get(1);
    if (x === undefined) return;
    const now = performance.now();
    x.headersSentAt = now;
    x.requestEndAt = now;
  }

  frame(e: FrameEvent): void {
    const x = this.byStream.get(e.streamId);
    if (x === undefined) return;
    const now = performance.now();
    const end = (e.flags & Flag.END_STREAM) !== 0 && (e.type === FrameType.DATA || e.type === FrameType.HEADERS);
    if (e.direction === 'send') {
      if (e.type === FrameType.HEADERS && x.headersSentAt < 0) {
        x.headersSentAt = now;
        if (e.headers) x.requestHeaders = e.headers.map(([n, v]) => [n, v]);
      }
      if (end) x.requestEndAt = now;
      return;
    }
    if (e.type === FrameType.HEADERS && x.responseStartAt < 0) x.responseStartAt = now;
    if (e.type === FrameType.RST_STREAM && x.endAt < 0) x.endAt = now;
    if (end) x.endAt = now;
  }
}
