/**
 * The frontends: listening sockets, and what each connection speaks.
 *
 * - TLS: ALPN picks h2 (h2kit's server engine) or http/1.1 (Node's HTTP/1.1
 *   server); a client that offers no ALPN speaks HTTP/1.1.
 * - Cleartext: the first octets decide. The HTTP/2 connection preface (h2c
 *   with prior knowledge) and an HTTP/1.1 request that upgrades to h2c
 *   (RFC 7540 §3.2) go to the engine, which does the upgrade; any other
 *   HTTP/1.x request goes to the HTTP/1.1 server and is proxied as it is.
 *   The octets read to decide are put back (socket.unshift) before the
 *   socket is handed over, so neither side knows it was looked at.
 *
 * Each request becomes a FrontExchange for the proxy core: HTTP/2 streams
 * through H2Exchange, HTTP/1.1 requests through Http1Exchange.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createServer, ErrorCode, type Http2Server, type ServerStream } from '../h2/index.js';
import { requestOctetFields, requestOctetTrailers } from '../h2/server-stream.js';
import { http1HeadEnd, isHttp1RequestLine, MAX_HTTP1_HEAD, parseHttp1Request } from '../h2/upgrade.js';
import { BackendQueue } from './backend-queue.js';
import type { FrontendAddress, ProxyConfig } from './config.js';
import { asOctets, type Fields, type Inbound, type OctetField, obfuscatedNode } from './headers.js';
import type { ErrorLog } from './logs.js';
import type { ExchangeOwner, FrontExchange, ProxyCore, TlsInfo } from './proxy.js';

/** What a connection knows about itself (for Forwarded, the access log). */
interface ConnInfo {
  localAddress: string;
  localPort: number;
  tls: TlsInfo | null;
  alpn: string;
  obfuscatedFor: string;
  /** HTTP/2 connections: their share of HTTP/1.1 backend connections. */
  queue: BackendQueue | null;
}

function tlsInfoOf(s: tls.TLSSocket): TlsInfo {
  const servername = (s as tls.TLSSocket & { servername?: string | false }).servername;
  return { cipher: s.getCipher()?.name ?? null, protocol: s.getProtocol(), sni: servername ? servername : null, reused: s.isSessionReused() };
}

function connInfo(socket: net.Socket, alpn: string, queue: BackendQueue | null): ConnInfo {
  return {
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
    tls: socket instanceof tls.TLSSocket ? tlsInfoOf(socket) : null,
    alpn,
    obfuscatedFor: obfuscatedNode(),
    queue,
  };
}

/** Body chunks held for the backend before the HTTP/2 stream's 'data' listener is taken off (its window then closes). */
const REQUEST_HIGH_WATER = 64 * 1024;
/**
 * Response octets queued for an HTTP/2 stream before the backend is paused:
 * what the engine asked for at its last pull (it pulls only while the
 * stream's and the connection's windows are open and the socket drains),
 * but at least RESPONSE_MIN_QUEUE so that a response arriving with its head
 * is taken whole, and at most RESPONSE_MAX_QUEUE.
 */
const RESPONSE_MIN_QUEUE = 16 * 1024;
const RESPONSE_MAX_QUEUE = 64 * 1024;

/** An HTTP/2 stream as a FrontExchange. */
class H2Exchange implements FrontExchange {
  readonly inbound: Inbound;
  readonly alpn: string;
  readonly protocolVersion = 'HTTP/2';
  readonly remotePort: number;
  readonly tlsInfo: TlsInfo | null;
  readonly hasBody: boolean;
  readonly queue: BackendQueue | null;
  responded = false;
  owner: ExchangeOwner | null = null;
  bytesSent = 0;
  private readonly out: Uint8Array[] = [];
  /** The octets the engine could take at its last pull (0 until it pulls: the window may be closed). */
  private demand = 0;
  private outHead = 0;
  private outBytes = 0;
  private paused = false;
  private waiting = false;
  private ended = false;
  private complete = false;
  private trailersOut: Fields | null = null;
  /** A response head held until the read that brought it has been handled (see respond()). */
  private headStatus = 0;
  private headFields: Fields | OctetField[] | null = null;

  constructor(
    private readonly stream: ServerStream,
    info: ConnInfo,
    hasBody: boolean,
  ) {
    this.inbound = {
      method: stream.method,
      scheme: stream.scheme,
      authority: stream.authority,
      path: stream.path,
      headers: requestOctetFields(stream),
      version: '2',
      remoteAddress: stream.remoteAddress,
      localAddress: info.localAddress,
      localPort: info.localPort,
      tls: info.tls !== null,
      obfuscatedFor: info.obfuscatedFor,
    };
    this.alpn = info.alpn;
    this.remotePort = stream.remotePort;
    this.tlsInfo = info.tls;
    this.hasBody = hasBody;
    this.queue = info.queue;
    stream.on('close', (code) => {
      if (code !== ErrorCode.NO_ERROR || !this.complete) this.owner?.clientGone();
    });
  }

  body(): AsyncIterable<Uint8Array> {
    const s = this.stream;
    const queue: Uint8Array[] = [];
    let queued = 0;
    let ended = false;
    let failed = false;
    let wake: (() => void) | null = null;
    let listening = true;
    const onData = (c: Uint8Array): void => {
      queue.push(Buffer.from(c)); // a view into the connection's buffer: copy
      queued += c.length;
      if (queued >= REQUEST_HIGH_WATER && listening) {
        // Chunks that come now are held by the engine without WINDOW_UPDATE: the client's window closes.
        listening = false;
        s.off('data', onData);
      }
      const w = wake;
      wake = null;
      w?.();
    };
    s.on('data', onData);
    s.on('end', () => {
      ended = true;
      const w = wake;
      wake = null;
      w?.();
    });
    s.on('close', (code) => {
      if (code !== ErrorCode.NO_ERROR && !ended) failed = true;
      const w = wake;
      wake = null;
      w?.();
    });
    return {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<Uint8Array>> => {
          for (;;) {
            if (queue.length > 0) {
              const c = queue.shift()!;
              queued -= c.length;
              if (!listening && queued < REQUEST_HIGH_WATER / 2) {
                listening = true;
                s.on('data', onData);
              }
              return { value: c, done: false };
            }
            if (failed) throw new Error('the client reset the request');
            if (ended) return { value: undefined, done: true };
            await new Promise<void>((resolve) => (wake = resolve));
          }
        },
      }),
    };
  }

  trailers(): Fields | null {
    return requestOctetTrailers(this.stream);
  }

  get gone(): boolean {
    return this.stream.closed && !this.complete;
  }

  respond(status: number, fields: Fields, body: boolean, nonAscii: boolean): void {
    this.responded = true;
    // Octet strings: what is over 0x7f goes out as those octets (the engine sends strings as UTF-8).
    const out = nonAscii ? asOctets(fields) : fields;
    if (!body) {
      this.complete = true;
      this.stream.respond(status, out);
      return;
    }
    // The head waits for the end of the read that brought it (backend reads are handled whole):
    // a response complete by then, as most small ones are, goes out in one piece (HEADERS, then
    // DATA with END_STREAM) without a body producer; any other one starts streaming then.
    this.headStatus = status;
    this.headFields = out;
    queueMicrotask(() => this.startBody());
  }

  private startBody(): void {
    const fields = this.headFields;
    if (fields === null) return;
    this.headFields = null;
    this.stream.respond(this.headStatus, fields, (max) => this.produce(max));
  }

  /** The whole response is here before its head went: one piece. */
  private sendWhole(trailers: Fields | null): void {
    const fields = this.headFields!;
    this.headFields = null;
    const n = this.out.length - this.outHead;
    const body = n === 0 ? EMPTY : n === 1 ? this.out[this.outHead]! : Buffer.concat(this.out.slice(this.outHead));
    this.out.length = 0;
    this.outHead = 0;
    this.outBytes = 0;
    this.complete = true;
    this.stream.respond(this.headStatus, fields, body, trailers !== null && trailers.length > 0 ? { trailers: asOctets(trailers) } : undefined);
  }

  private shift(): Uint8Array | null {
    if (this.outHead >= this.out.length) return null;
    const c = this.out[this.outHead]!;
    this.out[this.outHead++] = EMPTY;
    if (this.outHead === this.out.length) {
      this.out.length = 0;
      this.outHead = 0;
    }
    this.outBytes -= c.length;
    return c;
  }

  /** The engine's body producer: queued chunks, then the end (with trailers), or 'deferred'. */
  private produce(max: number): Uint8Array | null | 'deferred' {
    this.demand = Math.min(max, RESPONSE_MAX_QUEUE);
    let c = this.shift();
    if (this.paused && this.outBytes <= this.demand) {
      this.paused = false;
      // The backend goes on (perhaps at once, writing into the queue).
      this.owner?.clientDrained();
      c ??= this.shift();
    }
    if (c !== null) return c;
    if (this.ended) {
      this.complete = true;
      if (this.trailersOut !== null && this.trailersOut.length > 0) this.stream.sendTrailers(asOctets(this.trailersOut));
      return null;
    }
    this.waiting = true;
    return 'deferred';
  }

  write(chunk: Uint8Array): boolean {
    if (chunk.length === 0) return true;
    this.bytesSent += chunk.length;
    this.out.push(chunk);
    this.outBytes += chunk.length;
    if (this.waiting) {
      this.waiting = false;
      this.stream.resume();
    }
    if (this.outBytes > Math.max(this.demand, RESPONSE_MIN_QUEUE)) {
      this.paused = true;
      return false;
    }
    return true;
  }

  end(trailers: Fields | null): void {
    if (this.headFields !== null) return this.sendWhole(trailers);
    this.ended = true;
    this.trailersOut = trailers;
    if (this.waiting) {
      this.waiting = false;
      this.stream.resume();
    }
  }

  abort(): void {
    this.headFields = null;
    this.stream.reset(ErrorCode.INTERNAL_ERROR);
  }
}

const EMPTY = new Uint8Array(0);

function pairs(raw: string[]): Fields {
  const out: Fields = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

/** An HTTP/1.1 request on Node's server as a FrontExchange. */
class Http1Exchange implements FrontExchange {
  readonly inbound: Inbound;
  readonly alpn = 'http/1.1';
  readonly protocolVersion: string;
  readonly remotePort: number;
  readonly tlsInfo: TlsInfo | null;
  readonly hasBody: boolean;
  /** One request at a time per HTTP/1.1 connection: no queue needed. */
  readonly queue = null;
  responded = false;
  owner: ExchangeOwner | null = null;
  bytesSent = 0;

  constructor(
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    info: ConnInfo,
    closing: boolean,
  ) {
    const headers = pairs(req.rawHeaders);
    let authority = req.headers.host ?? '';
    let path = req.url ?? '/';
    const m = /^https?:\/\/([^/?#]*)(.*)$/i.exec(path);
    if (m) {
      // absolute-form (RFC 9112 §3.2.2): its authority wins over Host.
      authority = m[1]!;
      path = m[2] === '' ? '/' : m[2]!.startsWith('?') ? `/${m[2]}` : m[2]!;
    }
    this.inbound = {
      method: req.method ?? 'GET',
      scheme: info.tls ? 'https' : 'http',
      authority,
      path,
      headers,
      version: req.httpVersion,
      remoteAddress: req.socket.remoteAddress ?? '',
      localAddress: info.localAddress,
      localPort: info.localPort,
      tls: info.tls !== null,
      obfuscatedFor: info.obfuscatedFor,
    };
    this.protocolVersion = `HTTP/${req.httpVersion}`;
    this.remotePort = req.socket.remotePort ?? 0;
    this.tlsInfo = info.tls;
    const cl = req.headers['content-length'];
    this.hasBody = req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
    if (closing) res.shouldKeepAlive = false;
    res.on('drain', () => this.owner?.clientDrained());
    res.on('close', () => {
      if (!res.writableFinished) this.owner?.clientGone();
    });
  }

  body(): AsyncIterable<Uint8Array> {
    return this.req;
  }

  get gone(): boolean {
    return this.res.destroyed && !this.res.writableFinished;
  }

  trailers(): Fields | null {
    return this.req.rawTrailers.length > 0 ? pairs(this.req.rawTrailers) : null;
  }

  respond(status: number, fields: Fields, _body: boolean, _nonAscii: boolean): void {
    const flat: string[] = [];
    for (const [n, v] of fields) flat.push(n, v);
    this.res.writeHead(status, flat);
    this.responded = true;
  }

  write(chunk: Uint8Array): boolean {
    this.bytesSent += chunk.length;
    return this.res.write(chunk);
  }

  end(trailers: Fields | null): void {
    if (trailers !== null && trailers.length > 0 && this.res.chunkedEncoding) this.res.addTrailers(trailers);
    this.res.end();
  }

  abort(): void {
    this.res.destroy();
  }
}

/** A listening frontend. */
interface Listener {
  spec: FrontendAddress;
  server: net.Server;
  address: AddressInfo;
}

const keyOf = (f: FrontendAddress): string => `${f.host}|${f.port}|${f.tls ? 'tls' : 'tcp'}`;

export class Frontends {
  readonly h2: Http2Server;
  readonly h1: http.Server;
  private readonly listeners = new Map<string, Listener>();
  private readonly conns = new Map<number, ConnInfo>();
  /** Cleartext sockets whose first octets are being looked at. */
  private readonly sniffing = new Set<net.Socket>();
  private secure: { key: Buffer; cert: Buffer } | null = null;
  private closing = false;
  private config: ProxyConfig;

  constructor(
    private readonly core: ProxyCore,
    config: ProxyConfig,
    private readonly log: ErrorLog,
    connectionIds?: { first: number; step: number },
  ) {
    this.config = config;
    this.h2 = createServer({
      handler: (stream) => this.h2Request(stream),
      settings: { maxConcurrentStreams: config.frontendHttp2MaxConcurrentStreams, maxHeaderListSize: config.requestHeaderFieldBuffer },
      limits: { idleTimeout: config.frontendHttp2ReadTimeout, sendTimeout: config.frontendWriteTimeout },
      onConnectionClose: (info) => this.conns.delete(info.connectionId),
      // Responses come from backend sockets' events: one write per loop turn, not one per response.
      coalesceWrites: true,
      onError: (err) => this.log.error(`frontend stream: ${(err as Error)?.message ?? String(err)}`),
      ...(connectionIds ? { firstConnectionId: connectionIds.first, connectionIdStep: connectionIds.step } : {}),
    });
    this.h1 = http.createServer(
      {
        maxHeaderSize: config.requestHeaderFieldBuffer,
        requestTimeout: 0,
        headersTimeout: config.frontendReadTimeout,
        keepAliveTimeout: config.frontendKeepAliveTimeout,
      },
      (req, res) => this.h1Request(req, res),
    );
    this.h1.timeout = config.frontendReadTimeout;
    this.h1.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
      if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
      const status =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    });
  }

  private h2Request(stream: ServerStream): void {
    const info = this.conns.get(stream.connectionId);
    if (!info) return stream.reset(ErrorCode.INTERNAL_ERROR);
    // Taken up once the frames read with it have been: a stream that they reset or that the
    // engine reset because of them (rapid reset, MadeYouReset) costs the backend nothing.
    this.arrived.push(stream, info, !stream.endStreamReceived);
    if (this.arrived.length === 3) queueMicrotask(this.takeUp);
  }

  /** Requests of the current read, three entries each: stream, its connection, whether a body follows. */
  private arrived: Array<ServerStream | ConnInfo | boolean> = [];
  private readonly takeUp = (): void => {
    const a = this.arrived;
    this.arrived = [];
    for (let i = 0; i < a.length; i += 3) {
      const stream = a[i] as ServerStream;
      if (!stream.closed) this.core.handle(new H2Exchange(stream, a[i + 1] as ConnInfo, a[i + 2] as boolean));
    }
  };

  private h1Request(req: http.IncomingMessage, res: http.ServerResponse): void {
    const s = req.socket as net.Socket & { h2proxyInfo?: ConnInfo };
    const info = (s.h2proxyInfo ??= connInfo(s, 'http/1.1', null));
    this.core.handle(new Http1Exchange(req, res, info, this.closing));
  }

  /** Hands a socket to the HTTP/2 engine. */
  private toH2(socket: net.Socket, alpn: string): void {
    const info = connInfo(socket, alpn, new BackendQueue(this.config.backendConnectionsPerHost, this.config.backendConnectionsPerFrontend));
    const conn = this.h2.handleSocket(socket);
    this.conns.set(conn.id, info);
  }

  private toH1(socket: net.Socket): void {
    (socket as net.Socket & { h2proxyInfo?: ConnInfo }).h2proxyInfo = connInfo(socket, 'http/1.1', null);
    this.h1.emit('connection', socket);
  }

  /** Cleartext: reads until the preface or an HTTP/1.x head shows what the client speaks. */
  private sniff(socket: net.Socket): void {
    socket.setNoDelay(true);
    this.sniffing.add(socket);
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), this.config.frontendReadTimeout);
    const done = (): void => {
      clearTimeout(timer);
      this.sniffing.delete(socket);
      socket.off('readable', onReadable);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    const onClose = (): void => done();
    const onError = (): void => {
      done();
      socket.destroy();
    };
    const onReadable = (): void => {
      for (let c = socket.read() as Buffer | null; c !== null; c = socket.read() as Buffer | null) buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
      const n = Math.min(buf.length, 4);
      const start = buf.toString('latin1', 0, n);
      if (start === 'PRI '.slice(0, n)) {
        if (n < 4) return;
        done();
        socket.unshift(buf);
        return this.toH2(socket, 'h2c');
      }
      // Neither the preface nor an HTTP/1.x request line: the engine answers with GOAWAY PROTOCOL_ERROR (RFC 9113 §3.4).
      const lf = buf.indexOf(0x0a);
      if (lf >= 0 && !isHttp1RequestLine(buf.toString('latin1', 0, lf > 0 && buf[lf - 1] === 0x0d ? lf - 1 : lf))) {
        done();
        socket.unshift(buf);
        return this.toH2(socket, 'h2c');
      }
      const end = http1HeadEnd(buf);
      if (end < 0 && buf.length < MAX_HTTP1_HEAD) return;
      done();
      socket.unshift(buf);
      // Only a request that upgrades to h2c goes to the engine (which then upgrades it).
      if (end >= 0 && /\bh2c\b/i.test(buf.toString('latin1', 0, end)) && parseHttp1Request(buf.subarray(0, end)).upgrade) return this.toH2(socket, 'h2c');
      this.toH1(socket);
    };
    socket.on('readable', onReadable);
    socket.on('close', onClose);
    socket.on('error', onError);
    if (this.closing) socket.destroy();
  }

  private tlsServer(): tls.Server {
    const srv = tls.createServer({
      ...this.secure!,
      minVersion: 'TLSv1.2',
      ALPNCallback: ({ protocols }) => (protocols.includes('h2') ? 'h2' : protocols.includes('http/1.1') ? 'http/1.1' : undefined),
    });
    srv.on('secureConnection', (socket: tls.TLSSocket) => {
      if (this.closing) return socket.destroy();
      if (socket.alpnProtocol === 'h2') this.toH2(socket, 'h2');
      else this.toH1(socket);
    });
    srv.on('tlsClientError', () => {});
    return srv;
  }

  /** Listens on the frontends of `config` that are not listening yet and closes the ones it no longer has. */
  async apply(config: ProxyConfig, keyCert: { key: Buffer; cert: Buffer } | null): Promise<Listener[]> {
    this.config = config;
    this.h1.headersTimeout = config.frontendReadTimeout;
    this.h1.keepAliveTimeout = config.frontendKeepAliveTimeout;
    this.h1.timeout = config.frontendReadTimeout;
    const keyChanged = keyCert !== null && (this.secure === null || !keyCert.key.equals(this.secure.key) || !keyCert.cert.equals(this.secure.cert));
    this.secure = keyCert;
    const wanted = new Map(config.frontends.map((f) => [keyOf(f), f]));
    for (const [k, l] of this.listeners) {
      if (!wanted.has(k)) {
        l.server.close();
        this.listeners.delete(k);
        this.log.notice(`Stopped listening on ${describe(l.address)}`);
      } else if (l.spec.tls && keyChanged) (l.server as tls.Server).setSecureContext(this.secure!);
    }
    const added: Listener[] = [];
    for (const [k, f] of wanted) {
      if (this.listeners.has(k)) continue;
      const server = f.tls ? this.tlsServer() : net.createServer((s) => this.sniff(s));
      const address = await new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        const cb = () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        };
        if (f.host === '*') server.listen(f.port, cb);
        else server.listen(f.port, f.host, cb);
      });
      server.on('error', (e) => this.log.error(`listener ${describe(address)}: ${e.message}`));
      const l = { spec: f, server, address };
      this.listeners.set(k, l);
      added.push(l);
    }
    return added;
  }

  /** The listening frontends. */
  get listening(): Listener[] {
    return [...this.listeners.values()];
  }

  /** Stops accepting; graceful: GOAWAY, HTTP/1.1 connections closed once idle, in-flight requests finish within `timeout`. */
  async close(graceful: boolean, timeout: number): Promise<void> {
    this.closing = true;
    for (const l of this.listeners.values()) l.server.close();
    this.listeners.clear();
    for (const s of this.sniffing) s.destroy();
    const h1 = (async () => {
      this.h1.closeIdleConnections();
      if (graceful) await this.core.idle(timeout);
      this.h1.closeAllConnections();
    })();
    await Promise.all([this.h2.close({ graceful, timeout }), h1]);
  }
}

/** "127.0.0.1:3000" / "[::]:3000". */
export function describe(a: AddressInfo): string {
  return a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
