/**
 * The client role of a connection (RFC 9113 §8): the connection preface,
 * requests on the streams we open (odd ids), responses with their 1xx,
 * bodies and trailers, and pushed responses (§8.4). Requests beyond the
 * server's SETTINGS_MAX_CONCURRENT_STREAMS wait in a queue. With `upgrade`,
 * the first request goes out as an HTTP/1.1 request that upgrades to h2c
 * (RFC 7540 §3.2).
 *
 * Every way an exchange can fail ends in the request's promise (or its
 * body) rejecting with an Http2Error that says what happened.
 */
import type { HeaderInput } from '../hpack/index.js';
import { type BodyInit, discardBody, type TrailersInit } from './body.js';
import { ClientExchange, type ClientExchangeHost, type ClientResponse, type ExchangeListener } from './client-stream.js';
import { Endpoint, type EndpointOptions, Phase as PhaseImport, type StreamEnd, type Transport } from './endpoint.js';
import { Http2Error, invalidArgument } from './errors.js';
import { type FieldList, fieldsRaw, fieldsText, sentText } from './fields.js';
import {
  CONNECTION_PREFACE,
  ErrorCode,
  errorCodeName,
  Flag as FlagImport,
  FrameType as FrameTypeImport,
  H2Error,
  MAX_WINDOW_SIZE,
  type PriorityFields,
  SettingId,
} from './frame.js';
import { encodeSettings } from './frame-writer.js';
import { copyResponseHead, HeadMemo, type ResponseHead, validateRequest, validateResponse, validateTrailers } from './request.js';
import { type HeadersInit, trailerFields } from './response.js';
import { changedSettings } from './settings.js';
import { StreamEvent as StreamEventImport, StreamState as StreamStateImport, transition as transitionImport } from './stream.js';
import { Http1HeadReader } from './upgrade.js';

// The imports used per frame as module constants: V8 embeds a constant, where it loads and checks an import at every use.
const Phase = PhaseImport;
const Flag = FlagImport;
const FrameType = FrameTypeImport;
const StreamEvent = StreamEventImport;
const StreamState = StreamStateImport;
const transition = transitionImport;

/** A response the server promised to push (RFC 9113 §8.4). */
export interface PushPromise {
  /** The promised (pushed) stream. */
  streamId: number;
  /** The request stream it was promised on. */
  parentStreamId: number;
  /** The promised request's fields (pseudo-headers included), as text (see ClientResponse.headers). */
  headers: Array<[string, string]>;
  /** The same fields with the exact octets of each value. */
  rawHeaders: Array<[string, Uint8Array]>;
  /** The pushed response; reject it (or never read it) and the push is cancelled. */
  response: Promise<ClientResponse>;
  /** Cancels the push (RST_STREAM CANCEL). */
  cancel(): void;
}

export interface ClientConnectionOptions extends EndpointOptions {
  /** :scheme and :authority of the requests. */
  scheme: string;
  authority: string;
  /** Start with the HTTP/1.1 Upgrade to h2c: the first request is sent as HTTP/1.1 (RFC 7540 §3.2). */
  upgrade?: boolean;
  /** The SETTINGS of our preface, as given (default: what differs from the defaults, as nghttp sends them). */
  prefaceSettings?: Array<[number, number]>;
  /** A pushed response was promised. Without it, pushes are refused (RST_STREAM CANCEL). */
  onPush?: (push: PushPromise) => void;
  /** Whether pushes are wanted now (e.g. someone listens); when not, they are refused as without onPush. */
  wantsPush?: () => boolean;
  /** The server sent GOAWAY. */
  onGoaway?: (lastStreamId: number, errorCode: number, debug: string) => void;
  /** SETTINGS_MAX_CONCURRENT_STREAMS assumed for the server until its SETTINGS arrive (default 100; nghttp's -M). */
  peerMaxConcurrentStreams?: number;
  /** Sees the HTTP/1.1 heads of the h2c Upgrade (RFC 7540 §3.2): the request sent, then the response received, as text. */
  onHttp1?: (direction: 'send' | 'recv', head: string) => void;
}

/** A request waiting for a stream (the server's SETTINGS_MAX_CONCURRENT_STREAMS) or being opened. */
export interface PendingRequest {
  fields: HeaderInput[];
  method: string;
  path: string;
  body: BodyInit;
  kind: number;
  bytes: Uint8Array | null;
  trailers: TrailersInit | null;
  resolve: (r: ClientResponse) => void;
  reject: (e: Http2Error) => void;
  /** The stream, once opened. */
  exchange: ClientExchange | null;
  /** Removed from the queue before it was opened (aborted, timed out). */
  cancelled: boolean;
  /** The priority signal of its HEADERS (RFC 7540 §5.3), if any. */
  priority?: PriorityFields | null;
  /** Told the stream id when the request's stream is opened (before its HEADERS go out). */
  onStream?: ((streamId: number) => void) | null;
  /** Takes the response instead of resolve() (see ExchangeListener). */
  listener?: ExchangeListener | null;
  /** When it was queued (Date.now()), for the session's request timeout; set by submit() when it must wait. */
  queuedAt?: number;
}

const { PROTOCOL_ERROR, CANCEL, REFUSED_STREAM, NO_ERROR } = ErrorCode;
const utf8 = new TextEncoder();
const CRLF = new Uint8Array([0x0d, 0x0a]);
function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const p of parts) {
    out.set(p, n);
    n += p.length;
  }
  return out;
}

export class ClientConnection extends Endpoint<ClientExchange> implements ClientExchangeHost {
  readonly scheme: string;
  readonly authority: string;
  private readonly onPush: ((p: PushPromise) => void) | null;
  private readonly wantsPush: () => boolean;
  private readonly onGoawayCb: ClientConnectionOptions['onGoaway'] | null;
  private readonly explicitPreface: Array<[number, number]> | null;
  private readonly queue: PendingRequest[] = [];
  private queueHead = 0;
  /** Queued requests withdrawn since the queue was last compacted. */
  private withdrawn = 0;
  /** The server's SETTINGS arrived (until then, 100 concurrent streams are assumed). */
  private peerSettingsSeen = false;
  /** Upgrade: not started, the HTTP/1.1 request is out and its response head is awaited, or done. */
  private upgrade: 'waiting' | 'sent' | null;
  private upgradeHead: Http1HeadReader | null = null;
  /** The first octets received, to say what a server that does not speak HTTP/2 answered. */
  private firstOctets: Uint8Array | null = null;
  private readonly onHttp1: ClientConnectionOptions['onHttp1'] | null;
  /** PRIORITY frames asked for before the preface could be sent (during the upgrade): they follow it. */
  private deferredPriority: Array<[number, PriorityFields]> = [];
  /** Octets of the HEADERS field blocks received (HPACK-encoded, padding and priority excluded). */
  headerOctets = 0;
  /** Octets of the names and values those blocks decoded to. */
  headerFieldOctets = 0;

  constructor(transport: Transport, options: ClientConnectionOptions) {
    super(transport, options, false);
    this.scheme = options.scheme;
    this.authority = options.authority;
    this.onPush = options.onPush ?? null;
    this.wantsPush = options.wantsPush ?? (() => true);
    this.onGoawayCb = options.onGoaway ?? null;
    this.explicitPreface = options.prefaceSettings ?? null;
    this.onHttp1 = options.onHttp1 ?? null;
    // Until the server's SETTINGS say otherwise (§6.5.2: "initially, there is no limit"; 100 is the RFC's advice).
    this.peer.maxConcurrentStreams = options.peerMaxConcurrentStreams ?? 100;
    this.upgrade = options.upgrade ? 'waiting' : null;
    if (this.upgrade) this.reader.divert();
    else {
      this.sendPreface();
      this.scheduleFlush();
    }
  }

  protected prefaceSettings(): Array<[number, number]> {
    if (this.explicitPreface !== null) return this.explicitPreface.slice();
    const st = this.settings;
    const entries: Array<[number, number]> = [[SettingId.MAX_CONCURRENT_STREAMS, st.maxConcurrentStreams]];
    if (!st.enablePush) entries.unshift([SettingId.ENABLE_PUSH, 0]);
    changedSettings(st, entries);
    if (st.maxHeaderListSize !== 65536) entries.push([SettingId.MAX_HEADER_LIST_SIZE, st.maxHeaderListSize]);
    return entries;
  }

  /** The client preface: the 24 octets, then SETTINGS (§3.4). */
  protected override sendPreface(): void {
    if (this.prefaceSent) return;
    this.sender.octets(CONNECTION_PREFACE);
    super.sendPreface();
    for (const [id, p] of this.deferredPriority) this.sender.priority(id, p);
    this.deferredPriority = [];
  }

  /**
   * Sends PRIORITY for `streamId` (§6.3), in any state, idle included: how
   * nghttp builds its RFC 7540 §5.3 dependency tree on idle "anchor"
   * streams. Before the preface (an upgrade in progress) it waits for it.
   */
  priority(streamId: number, p: PriorityFields): void {
    if (!Number.isInteger(streamId) || streamId < 1 || streamId > MAX_WINDOW_SIZE) throw invalidArgument(`stream id must be 1 to 2^31-1, got ${streamId}`);
    if (!(Number.isInteger(p.weight) && p.weight >= 1 && p.weight <= 256)) throw invalidArgument(`weight must be 1 to 256, got ${p.weight}`);
    if (!Number.isInteger(p.dependency) || p.dependency < 0 || p.dependency > MAX_WINDOW_SIZE)
      throw invalidArgument(`dependency must be 0 to 2^31-1, got ${p.dependency}`);
    // §5.3.1 of RFC 7540: a stream cannot depend on itself (the peer would answer PROTOCOL_ERROR).
    if (p.dependency === streamId) throw invalidArgument(`stream ${streamId} cannot depend on itself`);
    if (this.phase >= Phase.CLOSING) return;
    if (!this.prefaceSent) {
      this.deferredPriority.push([streamId, { ...p }]);
      return;
    }
    this.sender.priority(streamId, { ...p });
    this.scheduleFlush();
  }

  /**
   * Makes `id` the next stream we open (§5.1.1: ids only grow; the ones
   * skipped stay idle, then count as closed). nghttp starts at 13, after
   * its anchor streams 3 to 11.
   */
  setNextStreamId(id: number): void {
    if (!Number.isInteger(id) || (id & 1) !== 1 || id < this.table.nextLocalId || id > MAX_WINDOW_SIZE) {
      throw invalidArgument(`the next stream id must be odd, at least ${this.table.nextLocalId} and at most 2^31-1, got ${id}`);
    }
    this.table.nextLocalId = id;
  }

  /**
   * Flushes once per turn of the event loop (setImmediate) rather than per
   * microtask checkpoint: requests an application makes from promise chains
   * (one per response it reads, say) then leave in one write, not one each.
   */
  override scheduleFlush(): void {
    if (this.flushPending || this.sender.inReceive || this.sender.closed) return;
    this.flushPending = true;
    setImmediate(this.flushSoon);
  }
  private flushPending = false;
  private readonly flushSoon = (): void => {
    this.flushPending = false;
    this.flush();
  };

  override receive(chunk: Uint8Array): void {
    if (this.firstOctets === null && chunk.length > 0) this.firstOctets = chunk.subarray(0, 200).slice();
    super.receive(chunk);
  }

  override framingError(code: number, message: string): void {
    const first = this.firstOctets;
    if (first !== null && first.length >= 5 && String.fromCharCode(...first.subarray(0, 5)) === 'HTTP/') {
      const line = String.fromCharCode(...first).split(/\r?\n/)[0]!;
      return this.connectionError(PROTOCOL_ERROR, `the server answered in HTTP/1.x ("${line}") instead of HTTP/2`);
    }
    super.framingError(code, message);
  }

  // ---- requests --------------------------------------------------------------------

  /** True while new requests can be made on this connection. */
  get acceptsRequests(): boolean {
    return this.phase < Phase.DRAINING && this.table.nextLocalId <= MAX_WINDOW_SIZE;
  }

  /** Requests waiting for a stream. */
  get queued(): number {
    if (this.withdrawn > 0) this.compactQueue();
    return this.queue.length - this.queueHead;
  }

  /**
   * A queued request was aborted or timed out: it lets go of its body now and
   * leaves the queue (compacted once withdrawn requests are half of it), so
   * that a server that never lets a stream open cannot make the queue grow.
   */
  withdraw(p: PendingRequest): void {
    if (p.cancelled) return;
    p.cancelled = true;
    discardBody(p.kind, p.body);
    p.body = null;
    p.bytes = null;
    if (++this.withdrawn >= 32 && this.withdrawn * 2 >= this.queue.length - this.queueHead) this.compactQueue();
  }

  private compactQueue(): void {
    const q = this.queue;
    let j = 0;
    for (let i = this.queueHead; i < q.length; i++) if (!q[i]!.cancelled) q[j++] = q[i]!;
    q.length = j;
    this.queueHead = 0;
    this.withdrawn = 0;
  }

  /** Sends the request now if a stream is free, else queues it. */
  submit(p: PendingRequest): void {
    if (this.phase >= Phase.DRAINING) {
      discardBody(p.kind, p.body);
      return p.reject(this.refusedError());
    }
    if (this.queueHead === this.queue.length && this.canOpen()) return this.open(p);
    p.queuedAt = Date.now();
    this.queue.push(p);
  }

  private canOpen(): boolean {
    return this.phase < Phase.DRAINING && this.table.localCount < this.peer.maxConcurrentStreams && this.upgrade !== 'sent';
  }

  /** Opens streams for queued requests while the server's limit allows. */
  private drainQueue(): void {
    const q = this.queue;
    while (this.queueHead < q.length && this.canOpen()) {
      const p = q[this.queueHead]!;
      q[this.queueHead++] = undefined as unknown as PendingRequest;
      if (!p.cancelled) this.open(p);
      else if (this.withdrawn > 0) this.withdrawn--;
    }
    if (this.queueHead === q.length) {
      q.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 1024) {
      q.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  /** Rejects every queued request (the connection is going). */
  private rejectQueue(e: () => Http2Error): void {
    const q = this.queue.splice(this.queueHead);
    this.queue.length = 0;
    this.queueHead = 0;
    this.withdrawn = 0;
    for (const p of q) {
      if (p.cancelled) continue;
      p.cancelled = true;
      discardBody(p.kind, p.body);
      p.reject(e());
    }
  }

  private refusedError(): Http2Error {
    const g = this.peerGoaway;
    if (g !== null) {
      return new Http2Error(
        'GOAWAY',
        `the server is going away (GOAWAY ${errorCodeName(g.errorCode)}${g.debug ? `: ${g.debug}` : ''}); the request was not sent and may be retried on a new connection`,
        { retryable: true, errorCode: g.errorCode },
      );
    }
    if (this.phase >= Phase.CLOSING) return this.closedError();
    return new Http2Error('GOAWAY', 'the connection is closing; the request was not sent and may be retried on a new connection', { retryable: true });
  }

  private closedError(): Http2Error {
    const e = this.closeError;
    if (e !== null) return Http2Error.fromCode(e.errorCode, `the connection failed: ${e.message}`);
    return new Http2Error('CONNECTION_CLOSED', `the connection closed${this.closeReason ? ` (${this.closeReason})` : ''}`);
  }

  private open(p: PendingRequest): void {
    const id = this.table.takeLocalId();
    if (id < 0) {
      discardBody(p.kind, p.body);
      return p.reject(new Http2Error('STREAM_IDS_EXHAUSTED', 'no stream identifiers left on this connection (§5.1.1); use a new one', { retryable: true }));
    }
    const x = new ClientExchange(this, id, true, StreamState.IDLE, this.peer.initialWindowSize, this.recvInitialWindow);
    x.lastActivity = this.clock();
    x.method = p.method;
    x.priority = p.priority ?? null;
    p.exchange = x;
    p.onStream?.(id);
    this.bind(x, p);
    this.addStream(x);
    if (this.upgrade === 'waiting') return this.sendUpgrade(x, p);
    this.sendMessage(x, p.fields, p.kind, p.body, p.bytes, p.trailers, false);
    this.scheduleFlush();
  }

  private bind(x: ClientExchange, p: PendingRequest): void {
    x.onResponse = p.resolve;
    x.onFailure = p.reject;
    x.listener = p.listener ?? null;
  }

  // ---- the HTTP/1.1 Upgrade (RFC 7540 §3.2) --------------------------------------------

  /**
   * The first request, as an HTTP/1.1 request asking to upgrade to h2c; it
   * becomes stream 1, half-closed (local), and its response arrives in
   * HTTP/2 after the 101.
   */
  private sendUpgrade(x: ClientExchange, p: PendingRequest): void {
    this.upgrade = 'sent';
    discardBody(p.kind, p.body);
    const settings = encodeSettings(this.prefaceSettings()).subarray(9);
    const b64 = Buffer.from(settings).toString('base64url');
    // Text is sent as UTF-8 and octets as they are, as in HTTP/2 fields.
    const parts: Uint8Array[] = [
      utf8.encode(
        `${p.method} ${p.path} HTTP/1.1\r\nHost: ${this.authority}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: ${b64}\r\n`,
      ),
    ];
    let head = '';
    for (const [n, v] of p.fields) {
      const name = sentText(n);
      if (name.charCodeAt(0) === 0x3a) continue;
      parts.push(utf8.encode(`${name}: `), typeof v === 'string' ? utf8.encode(v) : v, CRLF);
      head += `${name}: ${sentText(v)}\r\n`;
    }
    parts.push(CRLF);
    this.onHttp1?.('send', `${new TextDecoder().decode(parts[0])}${head}\r\n`);
    this.sender.octets(concat(parts));
    x.state = StreamState.HALF_CLOSED_LOCAL;
    x.headersSent = true;
    this.upgradeHead = new Http1HeadReader();
    this.scheduleFlush();
  }

  /** FrameSink: the HTTP/1.1 response to the upgrade request. */
  diverted(chunk: Uint8Array): void {
    const h = this.upgradeHead;
    if (h === null) {
      // Octets before we sent anything: the server spoke first.
      this.upgradeHead = new Http1HeadReader();
      return this.diverted(chunk);
    }
    const r = h.push(chunk);
    if (r === null) return;
    if (r === 'too-large') return this.upgradeFailed('the response head to the upgrade request is too large');
    this.onHttp1?.('recv', String.fromCharCode(...r.head));
    const statusLine = String.fromCharCode(...r.head.subarray(0, Math.min(r.head.length, 200))).split(/\r?\n/)[0]!;
    if (!/^HTTP\/1\.[01] 101\b/.test(statusLine)) return this.upgradeFailed(`the server answered the upgrade request with "${statusLine}"`);
    this.upgradeHead = null;
    this.upgrade = null;
    // RFC 7540 §3.2: now the client preface; the server's follows the 101.
    this.sendPreface();
    this.reader.resume(r.rest, false);
    this.drainQueue();
    this.scheduleFlush();
  }

  private upgradeFailed(message: string): void {
    this.upgradeHead = null;
    const e = new Http2Error('UPGRADE_REFUSED', `h2c upgrade refused: ${message}`);
    for (const s of [...this.streams.values()]) s.fail(e);
    this.rejectQueue(() => e);
    this.closeReason = message;
    this.die();
    this.finishTransport();
  }

  // ---- responses ---------------------------------------------------------------------

  protected fieldSection(
    type: number,
    id: number,
    flags: number,
    _priority: PriorityFields | null,
    promised: number,
    fields: ReadonlyArray<readonly [string, string]> | null,
  ): H2Error | null | void {
    if (type === FrameType.PUSH_PROMISE) return this.pushPromise(id, promised, fields);
    this.headerOctets += this.sections.blockLength;
    if (fields !== null) this.headerFieldOctets += this.inflater.decodedOctets;
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const s = this.streams.get(id);
    if (s === undefined) {
      // §8.4: a server opens streams only by promising them.
      if (this.table.isIdle(id)) return new H2Error('connection', PROTOCOL_ERROR, `HEADERS on idle stream ${id} (§5.1.1, §8.4)`);
      return this.headersOnClosed(id, this.table.stateOf(id));
    }
    const t = transition(s.state, StreamEvent.RECV_HEADERS);
    if (t.action === 'connection-error') return new H2Error('connection', t.code, `HEADERS on stream ${id} in state ${s.state} (§5.1)`);
    if (t.action === 'stream-error') return new H2Error('stream', t.code, `HEADERS on half-closed (remote) stream ${id} (§5.1)`, id);
    if (t.action === 'ignore') return;
    s.state = t.next;
    s.lastActivity = this.readAt;
    if (fields === null) {
      const e = new Http2Error(
        'HEADER_LIST_TOO_LARGE',
        `the response's header section exceeds SETTINGS_MAX_HEADER_LIST_SIZE ${this.settings.maxHeaderListSize}`,
        { streamId: id },
      );
      s.fail(e);
      return new H2Error('stream', CANCEL, e.message, id);
    }
    if (s.head === null) {
      const head = this.responses.get(fields, s.listener === null || s.listener.onChunk !== undefined);
      if (typeof head === 'string') return this.malformed(s, `malformed response: ${head}`);
      if (head.status < 200) {
        // §8.1: informational responses come before the final one, never with END_STREAM; 101 is not used (§8.6).
        if (endStream || head.status === 101)
          return this.malformed(s, `malformed response: ${endStream ? 'a 1xx response with END_STREAM' : '101 in HTTP/2'} (§8.1)`);
        // A 1xx brings the exchange no closer to its end: it spends the budget of frames without progress,
        // and the 1xx of a stream are kept only while they fit, together, in our SETTINGS_MAX_HEADER_LIST_SIZE.
        const e = this.zeroProgressFrame();
        if (e) return e;
        s.keepInformational(head, this.settings.maxHeaderListSize); // sized on the octets
        if (!head.ascii) head.headers = fieldsText(head.headers);
        return;
      }
      if (!head.ascii) {
        // The exchange keeps text (fields.ts); the octets too, for rawHeaders.
        s.rawHeaders = head.headers;
        head.headers = fieldsText(head.headers);
      }
      s.responded(head);
      if (endStream) return this.endOfMessage(s);
      return;
    }
    // Trailers (§8.1).
    if (!endStream) return this.malformed(s, 'a second HEADERS without END_STREAM (§8.1)');
    const trailers = validateTrailers(fields);
    if (typeof trailers === 'string') return this.malformed(s, `malformed trailers: ${trailers}`);
    s.trailerFields = fieldsText(trailers);
    if (s.trailerFields !== trailers) s.rawTrailers = trailers;
    return this.endOfMessage(s);
  }

  /** The last valid response head (a repeated header block is not validated again). */
  private readonly responses = new HeadMemo<ResponseHead>(validateResponse, copyResponseHead);

  private malformed(s: ClientExchange, message: string): H2Error {
    s.fail(new Http2Error('MALFORMED_RESPONSE', message, { streamId: s.id, errorCode: PROTOCOL_ERROR }));
    return new H2Error('stream', PROTOCOL_ERROR, message, s.id);
  }

  protected override endOfMessage(s: ClientExchange): H2Error | null | void {
    if (s.head === null) return this.malformed(s, 'END_STREAM before a final response (§8.1)');
    return super.endOfMessage(s);
  }

  protected deliver(s: ClientExchange, data: Uint8Array): H2Error | null | void {
    // The connection window is given back on receipt; only the stream's waits for the reader.
    // Stream windows bound what is held, and a response not read yet must not starve the
    // one being read of the connection window (a deadlock, §5.2.2).
    this.creditConnection(data.length);
    if (s.head === null) return this.malformed(s, 'DATA before the response HEADERS (§8.1)');
    s.lastActivity = this.readAt;
    if (s.push(data)) return;
  }

  protected remoteEnd(s: ClientExchange): void {
    s.ended();
  }

  /** ClientExchangeHost: the application read `n` octets. */
  consumed(s: ClientExchange, n: number): void {
    this.creditStream(s, n);
    this.scheduleFlush();
  }

  /** ClientExchangeHost: the application gave up on `s`. */
  cancel(s: ClientExchange, reason: string): void {
    s.fail(new Http2Error('ABORTED', reason, { streamId: s.id, errorCode: CANCEL }));
    if (s.closed) {
      s.drop();
      return;
    }
    this.resetStream(s, CANCEL, reason);
  }

  protected override headersPriority(s: ClientExchange): PriorityFields | null {
    return s.priority;
  }

  protected override heldBytes(s: ClientExchange): number {
    return s.heldBytes;
  }

  protected override dropHeld(s: ClientExchange): number {
    s.drop();
    return 0; // the connection window had them back on receipt
  }

  protected streamClosed(s: ClientExchange, code: number, reason: string, how: StreamEnd): void {
    s.cleanup?.();
    s.cleanup = null;
    if (how !== 'done' || !s.remoteEnded) s.fail(this.failure(s, code, reason, how));
    else s.completeListener();
    this.drainQueue();
  }

  /** The error an exchange that ended early rejects with. */
  private failure(s: ClientExchange, code: number, reason: string, how: StreamEnd): Http2Error {
    const streamId = s.id;
    switch (how) {
      case 'peer-reset':
        return Http2Error.fromCode(
          code,
          `stream ${streamId} was reset by the server with ${errorCodeName(code)}${code === REFUSED_STREAM ? ' (not processed: it may be retried)' : ''}`,
          {
            streamId,
            retryable: code === REFUSED_STREAM,
          },
        );
      case 'goaway':
        return new Http2Error('GOAWAY', `stream ${streamId} was not processed by the server (GOAWAY); it may be retried on a new connection`, {
          streamId,
          retryable: true,
          errorCode: REFUSED_STREAM,
        });
      case 'reset':
        return Http2Error.fromCode(code, `stream ${streamId} was reset: ${reason}`, { streamId });
      case 'connection':
      case 'transport':
        if (this.closeError !== null && this.closeError.errorCode === NO_ERROR) {
          return Http2Error.fromCode(code, `stream ${streamId} was cancelled: the connection was closed (${this.closeError.message})`, { streamId });
        }
        if (this.closeError !== null) return Http2Error.fromCode(this.closeError.errorCode, `the connection failed: ${this.closeError.message}`, { streamId });
        if (this.peerGoaway !== null && this.peerGoaway.errorCode !== NO_ERROR) {
          // The server said why it closed (§6.8): that is the error, not the close that followed.
          const g = this.peerGoaway;
          return Http2Error.fromCode(
            g.errorCode,
            `the server sent GOAWAY ${errorCodeName(g.errorCode)}${g.debug ? ` (${g.debug})` : ''} and closed the connection before the response on stream ${streamId} was complete`,
            { streamId },
          );
        }
        return new Http2Error('CONNECTION_CLOSED', `the connection closed before the response was complete${reason ? ` (${reason})` : ''}`, { streamId });
      default:
        return new Http2Error('CONNECTION_CLOSED', `stream ${streamId} closed before the response was complete`, { streamId });
    }
  }

  protected trailerSection(init: HeadersInit): HeaderInput[] {
    return trailerFields(init);
  }

  // ---- push (§8.4) -----------------------------------------------------------------

  private pushPromise(parentId: number, promised: number, shared: ReadonlyArray<readonly [string, string]> | null): H2Error | null | void {
    // The promised request is kept and handed to the application: its own list, not the decoder's.
    const fields = shared === null ? null : (shared.slice() as FieldList);
    const parent = this.streams.get(parentId);
    // §6.6: on a stream we opened that is open or half-closed (local) for us.
    if (parent === undefined || !parent.local || (parent.state !== StreamState.OPEN && parent.state !== StreamState.HALF_CLOSED_LOCAL)) {
      const state = parent === undefined ? this.table.stateOf(parentId) : parent.state;
      if (state === StreamState.CLOSED_RESET_SENT) {
        // We reset the parent: the promised stream is refused without a look (§6.6 "MUST" be handled).
        if (promised > this.table.lastPeerId && (promised & 1) === 0) this.table.lastPeerId = promised;
        this.refuse(promised, CANCEL, 'promised on a stream we reset');
        return;
      }
      return new H2Error('connection', PROTOCOL_ERROR, `PUSH_PROMISE on stream ${parentId}, which is not an open request of ours (§6.6)`);
    }
    if ((promised & 1) !== 0 || promised <= this.table.lastPeerId) {
      return new H2Error('connection', PROTOCOL_ERROR, `PUSH_PROMISE promising stream ${promised}, which is not a new even stream (§6.6, §5.1.1)`);
    }
    this.table.lastPeerId = promised;
    if (fields === null) return this.refuse(promised, CANCEL, 'the promised request exceeds SETTINGS_MAX_HEADER_LIST_SIZE');
    const req = validateRequest(fields);
    // §8.4: the promised request must be safe, cacheable and without content; else a stream error on the promised stream.
    if (typeof req === 'string' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      this.refuse(
        promised,
        PROTOCOL_ERROR,
        `malformed promised request: ${typeof req === 'string' ? req : `method ${req.method} is not safe and cacheable (§8.4)`}`,
      );
      return;
    }
    // Refusals count against the reset budget (refuse()): a server cannot push what we refuse forever.
    const wanted = this.onPush !== null && this.wantsPush();
    if (!wanted || this.table.peerCount >= this.settings.maxConcurrentStreams || this.goawayLastId >= 0) {
      this.refuse(promised, wanted ? REFUSED_STREAM : CANCEL, 'push not wanted');
      return;
    }
    const x = new ClientExchange(this, promised, false, StreamState.RESERVED_REMOTE, this.peer.initialWindowSize, this.recvInitialWindow);
    x.lastActivity = this.readAt;
    x.pushRequest = fields;
    x.parentId = parentId;
    x.method = req.method;
    this.addStream(x);
    const response = new Promise<ClientResponse>((resolve, reject) => {
      x.onResponse = resolve;
      x.onFailure = reject;
    });
    // Nobody may ever await it: do not let its rejection go unhandled.
    response.catch(() => {});
    try {
      this.onPush({
        streamId: promised,
        parentStreamId: parentId,
        headers: fieldsText(fields),
        rawHeaders: fieldsRaw(fields),
        response,
        cancel: () => this.cancel(x, 'push cancelled by the application'),
      });
    } catch (err) {
      this.reportError(err, x);
      this.cancel(x, 'the push listener threw');
    }
  }

  // ---- the connection ----------------------------------------------------------------

  protected override applyPeerSettings(settings: ReadonlyArray<readonly [number, number]>): H2Error | null {
    if (!this.peerSettingsSeen) {
      this.peerSettingsSeen = true;
      // No MAX_CONCURRENT_STREAMS: no limit (§6.5.2).
      if (!settings.some(([id]) => id === SettingId.MAX_CONCURRENT_STREAMS)) this.peer.maxConcurrentStreams = Infinity;
    }
    return super.applyPeerSettings(settings);
  }

  protected override peerSettingsChanged(): void {
    this.drainQueue();
  }

  protected override peerWentAway(lastStreamId: number, code: number): void {
    const g = this.peerGoaway!;
    this.rejectQueue(() => this.refusedError());
    this.onGoawayCb?.(lastStreamId, code, g.debug);
  }

  override connectionError(code: number, message: string): void {
    if (this.phase >= Phase.CLOSING) return;
    super.connectionError(code, message);
    this.rejectQueue(() => this.closedError());
  }

  override onTransportClose(reason?: string): void {
    super.onTransportClose(reason);
    this.rejectQueue(() => this.closedError());
  }

  override shutdown(): void {
    super.shutdown();
    this.rejectQueue(() => this.refusedError());
  }

  /** Checks each stream's inactivity against `timeout` ms: those past it are reset and fail with TIMEOUT. */
  expireRequests(timeout: number, now = Date.now()): void {
    // Requests still waiting for a stream (the server's SETTINGS_MAX_CONCURRENT_STREAMS) time out too.
    const q = this.queue;
    for (let i = this.queueHead; i < q.length; i++) {
      const p = q[i]!;
      if (p.cancelled || p.queuedAt === undefined || now - p.queuedAt <= timeout) continue;
      this.withdraw(p);
      p.reject(new Http2Error('TIMEOUT', `no stream for the request within ${timeout} ms`));
    }
    for (const s of [...this.streams.values()]) {
      if (now - s.lastActivity <= timeout) continue;
      s.fail(new Http2Error('TIMEOUT', `no response on stream ${s.id} for ${timeout} ms`, { streamId: s.id }));
      this.resetStream(s, CANCEL, 'request timeout');
    }
  }

  /** Closes gracefully: GOAWAY NO_ERROR; open streams finish. */
  close(): void {
    if (this.phase < Phase.DRAINING) this.shutdown();
    else this.maybeFinish();
    if (this.streams.size === 0 && this.phase < Phase.CLOSING) this.destroy(NO_ERROR, 'closed by the client');
  }
}
