/**
 * The server role of a connection (RFC 9113 §8): the client's preface,
 * requests on the streams it opens (validated, then handed to the handler),
 * responses, trailers and server push; on a cleartext port, an HTTP/1.1
 * request instead of the preface either upgrades to h2c (RFC 7540 §3.2) or
 * gets a short HTTP/1.1 answer.
 */
import type { HeaderInput } from '../hpack/index.js';
import { ENTRY_OVERHEAD } from '../hpack/static-table.js';
import { bodyBytes, bodyKind, discardBody, type TrailersInit } from './body.js';
import { type ConnectionStats, Endpoint, type EndpointOptions, Phase as PhaseImport, type Transport } from './endpoint.js';
import { errorCodeArg, invalidState } from './errors.js';
import { fieldsText, fieldText } from './fields.js';
import { ErrorCode, Flag as FlagImport, H2Error, type PriorityFields, SettingId } from './frame.js';
import { copyRequestHead, HeadMemo, type RequestHead, validateRequest, validateTrailers } from './request.js';
import { type HeadersInit, promiseFields, responseFields, trailerFields } from './response.js';
import { type ExchangeHost, type PushOptions, type ResponseBody, ServerExchange, type ServerStream } from './server-stream.js';
import { changedSettings } from './settings.js';
import { StreamEvent as StreamEventImport, StreamState as StreamStateImport, transition as transitionImport } from './stream.js';
import { Http1HeadReader, http1Response, isHttp1RequestLine, parseHttp1Request, SWITCHING_PROTOCOLS } from './upgrade.js';

// The imports used per frame as module constants: V8 embeds a constant, where it loads and checks an import at every use.
const Phase = PhaseImport;
const Flag = FlagImport;
const StreamEvent = StreamEventImport;
const StreamState = StreamStateImport;
const transition = transitionImport;

/** An HTTP/1.1 request upgraded the connection to h2c (RFC 7540 §3.2) and became stream 1. */
export interface UpgradeInfo {
  connectionId: number;
  method: string;
  target: string;
  /** The client's settings, from its HTTP2-Settings field. */
  settings: Array<[number, number]>;
}

export interface ConnectionOptions extends EndpointOptions {
  /** Called for every request, when its header section has been received and validated. */
  onStream: (stream: ServerStream) => void;
  /** A handler or listener threw; the stream (if any) has been reset with INTERNAL_ERROR. */
  onError?: (error: unknown, stream: ServerStream | null) => void;
  /**
   * Answer a client that sends an HTTP/1.x request instead of the preface
   * with an HTTP/1.1 response it can show (the h2c port of a server). The
   * server preface then waits until the client's first four octets rule
   * HTTP/1.x out, or for PREFACE_GRACE ms of silence, so that the answer is
   * not preceded by a binary frame. Default false: the preface is sent at
   * once, as after TLS has negotiated ALPN h2.
   */
  answerHttp1?: boolean;
  /** With answerHttp1: an HTTP/1.1 request upgraded the connection to h2c. */
  onUpgrade?: (info: UpgradeInfo) => void;
}

/**
 * How long (ms) an h2c connection holds the server preface for the client's
 * first octets. Clients send their preface without waiting for ours (§3.4),
 * so this only delays a client that waits, and only this once.
 */
export const PREFACE_GRACE = 100;

const { PROTOCOL_ERROR, NO_ERROR } = ErrorCode;
const utf8 = new TextEncoder();

/** The engine of a server connection; applications see it through ServerConnection. */
export class ServerEndpoint extends Endpoint<ServerExchange> implements ExchangeHost {
  private readonly onStream: (stream: ServerStream) => void;
  private readonly onErrorCb: ((error: unknown, stream: ServerStream | null) => void) | null;
  private readonly onUpgradeCb: ((info: UpgradeInfo) => void) | null;
  private readonly answerHttp1Requests: boolean;
  private prefaceTimer: ReturnType<typeof setTimeout> | null = null;
  /** An HTTP/1.x request head being read where the preface belongs. */
  private http1: Http1HeadReader | null = null;
  /** The HTTP/1.1 status an HTTP/1.x client was answered with. */
  private answeredStatus: number | null = null;
  private activePushes = 0;

  constructor(transport: Transport, options: ConnectionOptions) {
    super(transport, options, true);
    this.onStream = options.onStream;
    this.onErrorCb = options.onError ?? null;
    this.onUpgradeCb = options.onUpgrade ?? null;
    // The server preface (§3.4) goes out at once, or on an h2c port once the client's first
    // octets show it is not speaking HTTP/1.x (see answerHttp1 and PREFACE_GRACE).
    this.answerHttp1Requests = options.answerHttp1 ?? false;
    if (this.answerHttp1Requests) {
      this.prefaceTimer = setTimeout(() => {
        this.prefaceTimer = null;
        if (this.phase >= Phase.CLOSING || this.http1 !== null) return;
        this.sendPreface();
        this.scheduleFlush();
      }, PREFACE_GRACE);
      (this.prefaceTimer as { unref?: () => void }).unref?.();
    } else {
      this.sendPreface();
      this.scheduleFlush();
    }
  }

  protected prefaceSettings(): Array<[number, number]> {
    // Only what differs from the defaults, with MAX_CONCURRENT_STREAMS first and MAX_HEADER_LIST_SIZE last (as nghttpd).
    const st = this.settings;
    const entries = changedSettings(st, [[SettingId.MAX_CONCURRENT_STREAMS, st.maxConcurrentStreams]]);
    entries.push([SettingId.MAX_HEADER_LIST_SIZE, st.maxHeaderListSize]);
    return entries;
  }

  // ---- the preface, or an HTTP/1.x request instead (h2c port) ------------------------

  /** FrameSink: "PRI " arrived, so this is no HTTP/1.x client: our preface can go. */
  prefaceStarted(): void {
    this.sendPreface();
  }

  /** FrameSink: an uppercase letter where "PRI " was expected may start an HTTP/1.x request line ("GET ", "POST"...). */
  prefaceMismatch(pos: number, octet: number): boolean {
    if (!this.answerHttp1Requests || this.prefaceSent || pos > 3 || octet < 0x41 || octet > 0x5a) return false;
    if (this.prefaceTimer !== null) {
      clearTimeout(this.prefaceTimer); // nothing binary may precede the HTTP/1.1 answer
      this.prefaceTimer = null;
    }
    this.http1 = new Http1HeadReader();
    return true;
  }

  /** FrameSink: the octets of an HTTP/1.x request head. */
  diverted(chunk: Uint8Array): void {
    const h = this.http1;
    if (h === null) return;
    const r = h.push(chunk);
    const line = h.firstLine();
    if (line !== null && !isHttp1RequestLine(line)) {
      // Neither the HTTP/2 preface nor an HTTP/1.x request line (§3.4): PROTOCOL_ERROR.
      this.http1 = null;
      return this.connectionError(PROTOCOL_ERROR, 'invalid connection preface (§3.4)');
    }
    if (r === null) return;
    if (r === 'too-large') return this.answerHttp1(431, `the request head exceeds ${h.length} octets`);
    this.http1Request(r.head, r.rest);
  }

  /** A complete HTTP/1.x request head: upgrade to h2c (RFC 7540 §3.2), or answer in HTTP/1.1. */
  private http1Request(head: Uint8Array, rest: Uint8Array): void {
    const r = parseHttp1Request(head);
    if (!r.upgrade) return this.answerHttp1(r.status, r.reason);
    this.http1 = null;
    this.onUpgradeCb?.({ connectionId: this.id, method: r.method, target: fieldText(r.target), settings: r.settings });
    this.sender.octets(utf8.encode(SWITCHING_PROTOCOLS));
    this.sendPreface();
    // The settings count as received; the 101 acknowledges them (RFC 7540 §3.2.1).
    const e = this.applyPeerSettings(r.settings);
    if (e) return this.fail(e);
    // RFC 7540 §3.2: the request is stream 1, half-closed (remote).
    this.table.lastPeerId = 1;
    let size = 0;
    for (const [n, v] of r.fields) size += n.length + v.length + ENTRY_OVERHEAD;
    this.openRequestStream(1, true, size > this.settings.maxHeaderListSize ? null : r.fields);
    // Next: the client's connection preface and SETTINGS, as with prior knowledge.
    this.reader.resume(rest, true);
  }

  /**
   * The client sent an HTTP/1.x request where the connection preface belongs
   * and it does not upgrade to h2c: it gets an HTTP/1.1 answer it can show,
   * rather than frames it would take for garbage. Still a connection error
   * (§3.4), without GOAWAY.
   */
  private answerHttp1(status: number, reason: string): void {
    if (this.phase >= Phase.CLOSING) return;
    const message = `an HTTP/1.x request instead of the connection preface (§3.4), answered ${status}: ${reason}`;
    this.closeError = new H2Error('connection', PROTOCOL_ERROR, message);
    this.closeReason = message;
    this.answeredStatus = status;
    this.http1 = null;
    this.die();
    const body =
      status === 505
        ? `This server speaks HTTP/2 (RFC 9113), and this was ${reason}.\n` +
          'Connect with HTTP/2 directly (curl --http2-prior-knowledge, nghttp, h2load), or upgrade with an\n' +
          'HTTP/1.1 request without a body that carries "Upgrade: h2c", one "HTTP2-Settings" and\n' +
          '"Connection: Upgrade, HTTP2-Settings" (curl --http2, nghttp -u).\n'
        : `${reason}.\n`;
    this.sender.octets(utf8.encode(http1Response(status, body)));
    this.finishTransport();
  }

  protected override http1Status(): number | null {
    return this.answeredStatus;
  }

  override connectionError(code: number, message: string): void {
    if (this.http1 !== null) return this.answerHttp1(503, `the server closed the connection: ${message}`);
    super.connectionError(code, message);
  }

  override shutdown(): void {
    if (this.http1 !== null) return this.answerHttp1(503, 'the server is shutting down');
    super.shutdown();
  }

  protected override roleTick(now: number): boolean {
    if (this.http1 === null) return false;
    const L = this.limits;
    const limit = L.handshakeTimeout > 0 ? L.handshakeTimeout : L.frameTimeout;
    if (limit > 0 && now - this.watchdog.createdAt > limit) this.answerHttp1(408, 'the request head did not arrive in time');
    return true;
  }

  protected override stopTimers(): void {
    if (this.prefaceTimer !== null) {
      clearTimeout(this.prefaceTimer);
      this.prefaceTimer = null;
    }
    super.stopTimers();
  }

  // ---- requests ----------------------------------------------------------------

  protected fieldSection(
    _type: number,
    id: number,
    flags: number,
    priority: PriorityFields | null,
    _promised: number,
    fields: ReadonlyArray<readonly [string, string]> | null,
  ): H2Error | null | void {
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const s = this.streams.get(id);
    if (s !== undefined) return this.trailersBlock(s, endStream, fields);

    if (id <= this.table.lastPeerId) {
      const state = this.table.recentState(id);
      if (state === undefined) {
        return new H2Error('connection', PROTOCOL_ERROR, `HEADERS on stream ${id}, lower than stream ${this.table.lastPeerId} already opened (§5.1.1)`);
      }
      return this.headersOnClosed(id, state); // discarded after decoding (§5.1: we reset it)
    }

    // A new stream (§5.1.1): every lower idle stream is now closed.
    this.table.lastPeerId = id;
    if (this.goawayLastId >= 0 && id > this.goawayLastId) {
      // §6.8: streams above the GOAWAY's last stream id are not processed.
      this.table.remember(id, StreamState.CLOSED_RESET_SENT);
      return;
    }
    if (priority !== null && priority.dependency === id) {
      // RFC 7540 §5.3.1: a stream cannot depend on itself.
      return this.refuse(id, PROTOCOL_ERROR, `stream ${id} depends on itself (RFC 7540 §5.3.1)`);
    }
    this.openRequestStream(id, endStream, fields);
  }

  /** A request on new stream `id`: state, windows, validation, and the handler (§5.1, §8.1). */
  private openRequestStream(id: number, endStream: boolean, fields: ReadonlyArray<readonly [string, string]> | null): void {
    if (this.table.peerCount >= this.settings.maxConcurrentStreams) {
      return this.refuse(id, ErrorCode.REFUSED_STREAM, `more than ${this.settings.maxConcurrentStreams} concurrent streams (§5.1.2)`);
    }
    const s = new ServerExchange(
      this,
      id,
      false,
      transition(StreamState.IDLE, StreamEvent.RECV_HEADERS).next,
      this.peer.initialWindowSize,
      this.recvInitialWindow,
    );
    this.addStream(s);
    if (endStream) {
      this.apply(s, StreamEvent.RECV_END_STREAM);
      s.remoteEnded = true;
    }
    if (fields === null) {
      // The HPACK bomb stops at maxHeaderListSize: answer 431 and keep the connection.
      this.respond(s, 431, undefined, undefined, null);
      return;
    }
    const head = this.requests.get(fields, true);
    if (typeof head === 'string') return this.resetStream(s, PROTOCOL_ERROR, `malformed request: ${head}`, true);
    s.method = head.method;
    s.scheme = head.scheme;
    if (head.ascii) {
      s.authority = head.authority;
      s.path = head.path;
      s.headers = head.headers;
    } else {
      // The exchange keeps text (fields.ts); the octets too, for rawHeaders.
      s.authority = fieldText(head.authority);
      s.path = fieldText(head.path);
      s.headers = fieldsText(head.headers);
      s.rawHeaders = head.headers;
    }
    s.contentLength = head.contentLength;
    if (endStream && head.contentLength > 0) {
      return this.resetStream(s, PROTOCOL_ERROR, `END_STREAM with content-length ${head.contentLength} (§8.1.1)`, true);
    }
    try {
      this.onStream(s.api);
    } catch (err) {
      this.handlerFailed(err, s);
      return;
    }
    // A request without a body ends here, after the handler attached its listeners
    // (even when it already answered), unless the stream was reset.
    if (endStream && s.held === null && s.state !== StreamState.CLOSED_RESET_SENT) s.end();
  }

  /** The last valid request head (a repeated header block is not validated again). */
  private readonly requests = new HeadMemo<RequestHead>(validateRequest, copyRequestHead);

  /** A header block on an open stream: trailers (§8.1), or a state error. */
  private trailersBlock(s: ServerExchange, endStream: boolean, fields: ReadonlyArray<readonly [string, string]> | null): H2Error | null | void {
    const t = transition(s.state, StreamEvent.RECV_HEADERS);
    if (t.action === 'connection-error') return new H2Error('connection', t.code, `HEADERS on stream ${s.id} (§5.1)`);
    if (t.action === 'stream-error') return new H2Error('stream', t.code, `HEADERS on half-closed (remote) stream ${s.id} (§5.1)`, s.id);
    if (t.action === 'ignore') return;
    if (!endStream) return new H2Error('stream', PROTOCOL_ERROR, 'a second HEADERS without END_STREAM (§8.1)', s.id);
    if (fields === null) {
      if (!s.responded) {
        this.apply(s, StreamEvent.RECV_END_STREAM);
        s.remoteEnded = true;
        this.respond(s, 431, undefined, undefined, null);
        return;
      }
      return new H2Error('stream', ErrorCode.CANCEL, 'trailers larger than SETTINGS_MAX_HEADER_LIST_SIZE', s.id);
    }
    const trailers = validateTrailers(fields);
    if (typeof trailers === 'string') return new H2Error('stream', PROTOCOL_ERROR, `malformed trailers: ${trailers}`, s.id);
    s.trailers = fieldsText(trailers);
    if (s.trailers !== trailers) s.rawTrailers = trailers;
    s.emit('trailers', s.trailers);
    if (!s.closed) return this.endOfMessage(s);
  }

  /** Hands a body chunk to the handler, or holds it until there is a 'data' listener. */
  protected deliver(s: ServerExchange, data: Uint8Array): void {
    if (s.held === null && s.hasListener('data')) {
      s.emit('data', data);
      this.creditConnection(data.length);
      this.creditStream(s, data.length);
      return;
    }
    (s.held ??= []).push(data);
    s.heldBytes += data.length;
  }

  protected remoteEnd(s: ServerExchange): void {
    if (s.held === null) s.end();
  }

  protected override heldBytes(s: ServerExchange): number {
    return s.heldBytes;
  }

  protected override dropHeld(s: ServerExchange): number {
    const n = s.heldBytes;
    s.held = null;
    s.heldBytes = 0;
    return n;
  }

  /** A 'data' listener was added: deliver what was held, and the end if it came. */
  releaseHeld(s: ServerExchange): void {
    const held = s.held;
    if (held === null || this.phase >= Phase.CLOSING) return;
    queueMicrotask(() => {
      if (s.held !== held) return;
      s.held = null;
      let n = 0;
      let i = 0;
      // A listener may take itself off (a consumer pausing): what is left stays held, uncredited.
      for (; i < held.length && s.hasListener('data'); i++) {
        n += held[i]!.length;
        s.emit('data', held[i]!);
      }
      s.heldBytes -= n;
      if (i < held.length) s.held = s.held === null ? held.slice(i) : held.slice(i).concat(s.held);
      if (!s.closed) {
        this.creditConnection(n);
        this.creditStream(s, n);
      }
      if (s.remoteEnded && s.held === null) s.end();
      this.scheduleFlush();
    });
  }

  protected streamClosed(s: ServerExchange, code: number): void {
    if (s.local) this.activePushes--;
    s.emit('close', code);
  }

  override reportError(err: unknown, s: ServerExchange | null): void {
    if (this.onErrorCb) {
      try {
        this.onErrorCb(err, s?.api ?? null);
      } catch {
        // an error reporter that throws has nowhere else to report to
      }
    }
  }

  private handlerFailed(err: unknown, s: ServerExchange): void {
    this.reportError(err, s);
    this.resetStream(s, ErrorCode.INTERNAL_ERROR, 'the handler threw');
  }

  // ---- responses and push ----------------------------------------------------------

  /** See ServerStream.respond(). */
  respond(s: ServerExchange, status: number, headers: HeadersInit | undefined, body: ResponseBody, trailers: TrailersInit | null): void {
    if (s.responded) throw invalidState(`respond() called twice on stream ${s.id}`);
    this.scheduleFlush();
    // Two calls rather than one result object: this runs for every response.
    const kind = bodyKind(body);
    const bytes = bodyBytes(body, kind);
    if (s.closed || this.phase >= Phase.CLOSING) {
      discardBody(kind, body);
      return;
    }
    const noBody = s.method === 'HEAD' || status === 204 || status === 304;
    const fields = responseFields(status, headers, bytes !== null && status !== 204 ? bytes.length : -1);
    // Trailers given now are checked now, where the mistake is (a function's are checked when called).
    if (trailers !== null && typeof trailers !== 'function') trailerFields(trailers);
    s.responded = true;
    this.sendMessage(s, fields, kind, body, bytes, trailers, noBody);
  }

  protected trailerSection(init: HeadersInit): HeaderInput[] {
    return trailerFields(init);
  }

  /** We sent END_STREAM: close, or (request still arriving) reset with NO_ERROR as §8.1 allows. */
  protected override sentEnd(s: ServerExchange): void {
    s.out?.release();
    if (s.state === StreamState.CLOSED) this.closeStream(s, NO_ERROR);
    else if (s.state === StreamState.HALF_CLOSED_LOCAL) this.resetStream(s, NO_ERROR, 'response complete before the request (§8.1)');
  }

  /** See ServerStream.push(). */
  push(parent: ServerExchange, path: string, opts: PushOptions): ServerExchange | null {
    const method = opts.method ?? 'GET';
    const scheme = parent.scheme || 'https';
    const reqFields = promiseFields(method, scheme, parent.authority, path, opts.requestHeaders);
    if (!this.peer.enablePush || this.phase >= Phase.DRAINING || parent.local) return null;
    // §6.6: PUSH_PROMISE only on a peer-initiated stream that is open or half-closed (remote).
    if (parent.state !== StreamState.OPEN && parent.state !== StreamState.HALF_CLOSED_REMOTE) return null;
    if (this.activePushes >= this.peer.maxConcurrentStreams) return null;
    const id = this.table.takeLocalId();
    if (id < 0) return null;
    const pushed = new ServerExchange(this, id, true, transition(StreamState.IDLE, StreamEvent.SEND_PUSH_PROMISE).next, this.peer.initialWindowSize, 0);
    this.apply(parent, StreamEvent.SEND_PUSH_PROMISE);
    pushed.method = method;
    pushed.scheme = scheme;
    pushed.authority = parent.authority;
    pushed.path = path;
    pushed.remoteEnded = true;
    pushed.endEmitted = true;
    this.addStream(pushed);
    this.activePushes++;
    this.writeBlock(parent.id, id, reqFields, false);
    this.respond(pushed, opts.status ?? 200, opts.headers, opts.body, opts.trailers ?? null);
    return pushed;
  }
}

/**
 * One HTTP/2 connection, server side, over any Transport: what
 * Http2Server.handleSocket() returns and getConnections() lists, or, made
 * directly, a connection driven by hand (receive() the octets, onDrain() and
 * onTransportClose() as the transport reports them).
 */
export class ServerConnection {
  readonly #e: ServerEndpoint;

  constructor(transport: Transport, options: ConnectionOptions) {
    this.#e = new ServerEndpoint(transport, options);
  }

  /** The id given in the options (numbered by the server). */
  get id(): number {
    return this.#e.id;
  }
  get remoteAddress(): string {
    return this.#e.remoteAddress;
  }
  get remotePort(): number {
    return this.#e.remotePort;
  }
  /** Open streams (both directions). */
  get streamCount(): number {
    return this.#e.streamCount;
  }
  /** What the connection holds in memory now. */
  get stats(): ConnectionStats {
    return this.#e.stats;
  }
  /** True once the connection has ended or is ending. */
  get closed(): boolean {
    return this.#e.closed;
  }

  /** Feeds octets received from the transport. */
  receive(chunk: Uint8Array): void {
    this.#e.receive(chunk);
  }
  /** The transport can take more octets. */
  onDrain(): void {
    this.#e.onDrain();
  }
  /** The transport closed (the peer went away, or after our end()). */
  onTransportClose(reason?: string): void {
    this.#e.onTransportClose(reason);
  }
  /** Sends a PING (§6.7); resolves with the round trip in ms. */
  ping(): Promise<number> {
    return this.#e.ping();
  }
  /** Graceful shutdown (§6.8): GOAWAY NO_ERROR, open streams finish, then the connection closes. */
  shutdown(): void {
    this.#e.shutdown();
  }
  /** Closes now: GOAWAY with `code` (default NO_ERROR; open streams close with CANCEL), then the transport. */
  destroy(code?: number, message?: string): void {
    this.#e.destroy(code === undefined ? code : errorCodeArg(code), message);
  }
}
