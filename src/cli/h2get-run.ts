/**
 * What h2get does once its options are read: one connection per origin
 * (scheme, host, port), one after the other as nghttp makes them; the
 * requests of that origin on it, with nghttp's request fields and priority
 * tree; bodies to standard output (or files with -O), the -v log, the
 * assets of -a, pushed responses, then -s and -r. Every failure is one line
 * on standard error; the exit status says whether all went well.
 */
import { lookup } from 'node:dns/promises';
import { closeSync, createReadStream, openSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import { Readable } from 'node:stream';
import { createUnzip } from 'node:zlib';
import { type Asset, AssetScanner } from '../client/assets.js';
import { type ConnectionTimes, type Exchange, ExchangeRecorder, newExchange } from '../client/exchange.js';
import { buildHar } from '../client/har.js';
import { ClientLog } from '../client/log.js';
import { ANCHORS, assetPriority, FIRST_STREAM_ID, pagePriority } from '../client/priority.js';
import { statistics } from '../client/stats.js';
import { NGHTTP2_PAINT, NO_PAINT } from '../h2/frame-lines.js';
import {
  type ClientResponse,
  type ClientSession,
  connect,
  errorCodeName,
  FrameType,
  Http2Error,
  hexdump,
  type LocalSettings,
  type PriorityFields,
  type PushPromise,
} from '../h2/index.js';
import { VERSION } from '../version.js';
import { writeAll, writeErr } from './common.js';

/** -d: a regular file (read again for each request) or the octets of standard input. */
export interface Upload {
  path: string | null;
  size: number;
  data: Buffer | null;
}

export interface GetConfig {
  uris: string[];
  verbose: boolean;
  json: boolean;
  color: boolean;
  hexdump: boolean;
  nullOut: boolean;
  remoteName: boolean;
  /** -t in milliseconds (0: none), or null when not given. */
  timeout: number | null;
  assets: boolean;
  stat: boolean;
  headers: Array<[string, string]>;
  trailers: Array<[string, string]>;
  tls: { cert: Buffer; key: Buffer } | null;
  upload: Upload | null;
  multiply: number;
  upgrade: boolean;
  weights: number[];
  peerMaxConcurrentStreams: number;
  settings: Partial<LocalSettings>;
  prefaceSettings: Array<[number, number]>;
  encoderTableSize: number | null;
  padding: number;
  har: string | null;
  continuation: boolean;
  contentLength: boolean;
  dependencies: boolean;
  expectContinue: boolean;
  verifyPeer: boolean;
  /** Both standard output and standard error are terminals. */
  progress: boolean;
}

const USER_AGENT = `h2get h2kit/${VERSION}`;
/** How long --expect-continue holds the body without a 100 response (nghttp: 1 s). */
const EXPECT_CONTINUE_WAIT = 1000;

/** OpenSSL's words for Node's certificate verification codes (what nghttp prints). */
const CERT_PROBLEMS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_REVOKED: 'certificate revoked',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname mismatch',
};

/** Socket errors in words. */
const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  EPIPE: 'the server closed the connection',
};

/** stdout, written synchronously so that log lines and bodies keep their order; a closed pipe ends the run quietly. */
function out(data: string | Uint8Array): void {
  try {
    writeAll(1, typeof data === 'string' ? Buffer.from(data) : data);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') process.exit(141);
    throw e;
  }
}

/** The progress line on a terminal: octets received, of how many when known, and the rate. */
class ProgressLine {
  private readonly start = performance.now();
  private readonly after = Number(process.env['H2KIT_PROGRESS_AFTER_MS'] ?? 1000);
  private last = 0;
  private shown = false;
  received = 0;
  expected = 0;

  constructor(private readonly enabled: boolean) {}

  add(n: number): void {
    this.received += n;
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.start < this.after || now - this.last < 250) return;
    this.last = now;
    const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
    const rate = this.received / 1e6 / ((now - this.start) / 1000);
    const of = this.expected > 0 ? ` of ${mb(this.expected)} (${Math.min(100, Math.floor((this.received * 100) / this.expected))}%)` : '';
    writeErr(`\rh2get: ${mb(this.received)}${of}, ${rate.toFixed(1)} MB/s\x1b[K`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) writeErr('\r\x1b[K');
    this.shown = false;
  }
}

/** The reporter of a run: one line per problem, and whether there was one. */
class Problems {
  failed = false;
  constructor(private readonly progress: ProgressLine) {}
  error(message: string): void {
    this.failed = true;
    this.progress.clear();
    writeErr(`h2get: ${message}\n`);
  }
  warning(message: string): void {
    this.progress.clear();
    writeErr(`h2get: warning: ${message}\n`);
  }
}

/** -O: the URI's last path segment, index.html when it ends with '/'; each name once per run (then name.1, name.2 ...). */
class RemoteNames {
  private readonly used = new Set<string>();
  name(url: URL): string {
    const seg = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
    const base = seg === '' || seg === '.' || seg === '..' ? 'index.html' : seg;
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}.${i}`;
    this.used.add(name);
    return name;
  }
}

function describeError(e: unknown): string {
  if (e instanceof Http2Error && e.code === 'CONNECT_FAILED') {
    // "cannot connect to HOST:PORT: ECONNREFUSED connect ECONNREFUSED ..." -> "cannot connect to HOST:PORT: connection refused"
    const words = SOCKET_ERRORS[(e.cause as NodeJS.ErrnoException | undefined)?.code ?? ''];
    const m = /^(cannot connect to|TLS handshake with) (\S+): /.exec(e.message);
    if (words && m) return `${m[1]} ${m[2]}: ${words}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** The URIs of one connection. */
interface Origin {
  url: URL;
  /** The URIs, with their place on the command line (for -p). */
  uris: Array<{ url: URL; index: number }>;
}

/** Parses the URIs; reports the bad ones (and goes on with the others). */
function origins(uris: string[], problems: Problems): Origin[] {
  const byOrigin = new Map<string, Origin>();
  for (const [index, u] of uris.entries()) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      problems.error(`'${u}' is not a URI (expected http://HOST[:PORT]/PATH or https://...)`);
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.error(`${u}: unsupported scheme ${url.protocol.replace(/:$/, '')} (http or https)`);
      continue;
    }
    if (url.hostname === '') {
      problems.error(`'${u}' has no host`);
      continue;
    }
    const key = url.origin;
    let o = byOrigin.get(key);
    if (o === undefined) byOrigin.set(key, (o = { url: new URL(url.origin), uris: [] }));
    o.uris.push({ url, index });
  }
  return [...byOrigin.values()];
}

/** Runs the whole command; resolves with the exit status. */
export async function runGet(config: GetConfig): Promise<number> {
  const start = performance.now();
  const progress = new ProgressLine(config.progress && !config.verbose && (config.nullOut || config.remoteName));
  const problems = new Problems(progress);
  const log = config.verbose ? new ClientLog((line) => out(`${line}\n`), { json: config.json, paint: config.color ? NGHTTP2_PAINT : NO_PAINT, start }) : null;
  const exchanges: Exchange[] = [];
  const names = new RemoteNames();
  let index = 0;
  for (const origin of origins(config.uris, problems)) {
    const run = new OriginRun(config, origin, ++index, { log, problems, progress, exchanges, names });
    await run.run();
  }
  progress.clear();
  if (config.har !== null) {
    const text = `${JSON.stringify(buildHar(exchanges, { name: 'h2get', version: VERSION }), null, 2)}\n`;
    if (config.har === '-') out(text);
    else {
      try {
        writeFileSync(config.har, text);
      } catch (e) {
        problems.error(`cannot write the HAR file ${config.har}: ${(e as Error).message}`);
      }
    }
  }
  return problems.failed ? 1 : 0;
}

interface RunContext {
  log: ClientLog | null;
  problems: Problems;
  progress: ProgressLine;
  exchanges: Exchange[];
  names: RemoteNames;
}

/** One connection and everything requested on it. */
class OriginRun {
  private session: ClientSession | null = null;
  private readonly recorder = new ExchangeRecorder();
  private readonly times: ConnectionTimes;
  /** Paths requested or pushed on this connection (a URI is requested once unless -m). */
  private readonly requested = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private readonly mine: Exchange[] = [];
  /** Streams whose 100 (Continue) arrived, for --expect-continue. */
  private readonly continued = new Map<number, () => void>();
  /** Streams whose 100 (Continue) response arrived. */
  private readonly gotContinue = new Set<number>();

  constructor(
    private readonly config: GetConfig,
    private readonly origin: Origin,
    index: number,
    private readonly ctx: RunContext,
  ) {
    const now = performance.now();
    this.times = { index, start: now, dnsEnd: now, connectEnd: now, secureEnd: now, tls: origin.url.protocol === 'https:', serverAddress: '' };
  }

  async run(): Promise<void> {
    const { config, origin, ctx } = this;
    const where = origin.url.host;
    // The command line's requests exist from the start: their timings include the connection's set-up.
    const first: Exchange[] = [];
    const weightOf = new Map<Exchange, PriorityFields>();
    for (const { url, index } of origin.uris) {
      const key = url.pathname + url.search;
      const priority = this.pagePriority(index);
      if (config.multiply === 1 && this.requested.has(key)) continue;
      this.requested.add(key);
      for (let i = 0; i < config.multiply; i++) {
        const x = this.exchange(url, 'request');
        weightOf.set(x, priority);
        first.push(x);
      }
    }
    const hostname = origin.url.hostname.replace(/^\[|\]$/g, '');
    let address = hostname;
    if (net.isIP(hostname) === 0) {
      try {
        address = (await lookup(hostname)).address;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return this.failAll(first, `cannot resolve ${hostname}: ${code === 'ENOTFOUND' || code === 'EAI_NONAME' ? 'no such host' : (e as Error).message}`);
      }
    }
    this.times.dnsEnd = performance.now();
    this.times.serverAddress = address;
    const upgrade = config.upgrade && !this.times.tls;
    ctx.log?.connecting(origin.url, this.times.tls, address);
    let session: ClientSession;
    try {
      session = await connect(origin.url, {
        connectTo: { host: address, port: Number(origin.url.port) || (this.times.tls ? 443 : 80) },
        tls: {
          rejectUnauthorized: false,
          ...(net.isIP(hostname) === 0 ? { servername: hostname } : {}),
          ...(config.tls ? { cert: config.tls.cert, key: config.tls.key } : {}),
        },
        upgrade,
        settings: config.settings,
        prefaceSettings: config.prefaceSettings,
        peerMaxConcurrentStreams: config.peerMaxConcurrentStreams,
        padding: config.padding,
        ...(config.encoderTableSize !== null ? { encoderTableSize: config.encoderTableSize } : {}),
        ...(config.timeout !== null ? { connectTimeout: config.timeout, requestTimeout: config.timeout } : {}),
        onFrame: (e) => {
          this.recorder.frame(e);
          ctx.log?.frame(e);
          if (e.direction === 'recv' && e.type === FrameType.HEADERS && e.headers?.some(([n, v]) => n === ':status' && v === '100')) {
            this.gotContinue.add(e.streamId);
            this.continued.get(e.streamId)?.();
          }
        },
        ...(config.hexdump ? { onData: (d: Uint8Array) => (ctx.log ? ctx.log.received(d) : out(`${hexdump(d)}\n`)) } : {}),
        onHttp1: (direction, head) => {
          if (direction === 'send') this.recorder.upgradeSent();
          ctx.log?.http1(direction, head);
        },
        id: this.times.index,
      });
    } catch (e) {
      return this.failAll(first, describeError(e));
    }
    this.session = session;
    this.times.connectEnd = session.timings.connect;
    this.times.secureEnd = session.timings.secureConnect;
    const tls = session.tls;
    if (tls !== null && !tls.authorized && config.verifyPeer) {
      const code = tls.authorizationError ?? 'unknown';
      ctx.problems.warning(`${where}: certificate verification failed: ${CERT_PROBLEMS[code] ?? code} (-y hides this warning)`);
    }
    session.on('push', (p) => this.pushed(p));
    session.on('goaway', (last, code, debug) => {
      if (code !== 0) ctx.problems.error(`${where}: the server sent GOAWAY ${errorCodeName(code)}${debug ? ` (${debug})` : ''} after stream ${last}`);
    });

    // nghttp's order: the upgrade's request (stream 1), then the priority tree, then the other requests.
    let rest = first;
    if (upgrade && first.length > 0) {
      this.submit(first[0]!, weightOf.get(first[0]!)!, 0);
      rest = first.slice(1);
    }
    if (config.dependencies) {
      session.setNextStreamId(FIRST_STREAM_ID);
      for (const [id, p] of ANCHORS) session.priority(id, p);
      // The upgraded request's HEADERS went as HTTP/1.1: its priority follows as a frame.
      if (upgrade && first[0]?.streamId === 1) session.priority(1, weightOf.get(first[0])!);
    }
    for (const x of rest) this.submit(x, weightOf.get(x)!, 0);
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await Promise.race([session.close(), new Promise((r) => setTimeout(r, 2000).unref())]);
    session.destroy();
    if (config.stat) {
      ctx.progress.clear();
      out(statistics(this.mine));
    }
  }

  /** The -p weight of the n-th command-line URI (the last -p repeats; 16 without -p). */
  private pagePriority(n: number): PriorityFields {
    const w = this.config.weights;
    return pagePriority(w.length === 0 ? 16 : w[Math.min(n, w.length - 1)]!);
  }

  private exchange(url: URL, kind: 'request' | 'asset' | 'pushed'): Exchange {
    const method = kind === 'request' ? this.method() : 'GET';
    const x = newExchange(url, method, this.times, kind === 'pushed');
    this.mine.push(x);
    this.ctx.exchanges.push(x);
    return x;
  }

  private method(): string {
    for (const [n, v] of this.config.headers) if (n === ':method') return v;
    return this.config.upload !== null ? 'POST' : 'GET';
  }

  private failAll(xs: Exchange[], why: string): void {
    this.ctx.problems.error(`${this.origin.uris[0]!.url.href}: ${why}`);
    for (const x of xs) x.error = why;
  }

  /**
   * nghttp's request fields: :method, :path, :scheme, :authority, accept,
   * accept-encoding, user-agent, content-length (-d), expect
   * (--expect-continue), the -H fields (a name of those replaces its
   * value), trailer (--trailer), and with --continuation six 4 KiB fields.
   */
  private fields(url: URL, asset: boolean): Array<[string, string]> {
    const c = this.config;
    const f: Array<[string, string]> = [
      [':method', this.method()],
      [':path', url.pathname + url.search],
      [':scheme', url.protocol.slice(0, -1)],
      [':authority', url.host],
      ['accept', '*/*'],
      ['accept-encoding', 'gzip, deflate'],
      ['user-agent', USER_AGENT],
    ];
    const initial = f.length;
    const upload = !asset && c.upload !== null;
    if (upload && c.contentLength) f.push(['content-length', String(c.upload!.size)]);
    if (upload && c.expectContinue) f.push(['expect', '100-continue']);
    for (const [n, v] of c.headers) {
      const i = f.findIndex(([name], k) => k < initial && name === n);
      if (i >= 0) f[i] = [n, v];
      else f.push([n, v]);
    }
    if (asset) f[0] = [':method', 'GET'];
    if (upload && c.trailers.length > 0) f.push(['trailer', c.trailers.map(([n]) => n).join(', ')]);
    if (c.continuation) for (let i = 1; i <= 6; i++) f.push([`continuation-test-${i}`, '-'.repeat(4096)]);
    return f;
  }

  /** The request body of -d: a fresh read of the file (or the octets of stdin), held back by --expect-continue. */
  private body(x: Exchange): AsyncIterable<Uint8Array> | Uint8Array | undefined {
    const u = this.config.upload;
    if (u === null) return undefined;
    x.requestBodySize = u.size;
    const source = (): AsyncIterable<Uint8Array> | Uint8Array => (u.data !== null ? u.data : (createReadStream(u.path!) as AsyncIterable<Uint8Array>));
    if (u.data !== null && u.size <= 1 << 20) {
      const t = new TextDecoder('utf-8', { fatal: true });
      try {
        x.requestText = t.decode(u.data);
      } catch {
        x.requestText = null;
      }
    }
    if (!this.config.expectContinue) return source();
    const { continued, gotContinue } = this;
    return (async function* () {
      // The body is read once the stream is open: its id is known.
      if (!gotContinue.has(x.streamId)) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, EXPECT_CONTINUE_WAIT);
          continued.set(x.streamId, () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      const s = source();
      if (s instanceof Uint8Array) yield s;
      else yield* s;
    })();
  }

  /** Sends one request (level 0: from the command line; 1: an asset) and handles its response. */
  private submit(x: Exchange, priority: PriorityFields, level: number): void {
    const session = this.session!;
    const upload = level === 0 ? this.body(x) : undefined;
    const trailers = level === 0 && this.config.trailers.length > 0 ? this.config.trailers : undefined;
    const p = session
      .request(this.fields(x.url, level > 0), {
        ...(upload !== undefined ? { body: upload } : {}),
        ...(trailers ? { trailers } : {}),
        ...(this.config.dependencies ? { priority } : {}),
        onStream: (id) => this.recorder.bind(id, x),
      })
      .then((r) => this.response(x, r, level));
    this.track(p.catch((e: unknown) => this.failed(x, e)));
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private failed(x: Exchange, e: unknown): void {
    const why = describeError(e);
    x.error = why;
    if (x.endAt < 0) x.endAt = performance.now();
    this.ctx.problems.error(`${x.url.href}: ${why}`);
  }

  /** A promised response: read like the others, its path counts as requested (-a does not ask for it again). */
  private pushed(p: PushPromise): void {
    const path = p.headers.find(([n]) => n === ':path')?.[1] ?? '/';
    const authority = p.headers.find(([n]) => n === ':authority')?.[1] ?? this.origin.url.host;
    const scheme = p.headers.find(([n]) => n === ':scheme')?.[1] ?? this.origin.url.protocol.slice(0, -1);
    let url: URL;
    try {
      url = new URL(`${scheme}://${authority}${path}`);
    } catch {
      url = new URL(path, this.origin.url);
    }
    this.requested.add(url.pathname + url.search);
    const x = this.exchange(url, 'pushed');
    x.requestHeaders = p.headers.map(([n, v]) => [n, v]);
    this.recorder.bind(p.streamId, x);
    this.track(p.response.then((r) => this.response(x, r, 1)).catch((e: unknown) => this.failed(x, e)));
  }

  /** An asset found by -a: requested unless this connection asked for (or was pushed) its path already. */
  private asset(a: Asset): void {
    const key = a.url.pathname + a.url.search;
    if (this.config.multiply === 1 && this.requested.has(key)) return;
    this.requested.add(key);
    if (this.session === null || this.session.closed) return;
    this.submit(this.exchange(a.url, 'asset'), assetPriority(a.kind), 1);
  }

  private async response(x: Exchange, r: ClientResponse, level: number): Promise<void> {
    const { config, ctx } = this;
    x.status = r.status;
    x.responseHeaders = [[':status', String(r.status)], ...r.headers];
    const length = Number(r.get('content-length') ?? NaN);
    if (Number.isFinite(length)) ctx.progress.expected += length;
    const scanner = config.assets && level === 0 ? new AssetScanner(x.url, (a) => this.asset(a)) : null;
    let file: number | null = null;
    if (config.remoteName) {
      const name = ctx.names.name(x.url);
      try {
        file = openSync(name, 'w');
      } catch (e) {
        r.cancel();
        throw new Error(`-O: cannot write ${name}: ${(e as Error).message}`);
      }
    }
    const counted = async function* (body: AsyncIterable<Uint8Array>) {
      for await (const c of body) {
        x.bodySize += c.length;
        ctx.progress.add(c.length);
        yield c;
      }
    };
    const coding = (r.get('content-encoding') ?? '').trim().toLowerCase();
    let content: AsyncIterable<Uint8Array> = counted(r.body);
    if (coding === 'gzip' || coding === 'x-gzip' || coding === 'deflate') {
      // nghttp undoes gzip and deflate (it asks for them); -s and the HAR still count the octets received.
      const raw = Readable.from(content);
      const unzip = createUnzip();
      raw.on('error', (e) => unzip.destroy(e));
      content = raw.pipe(unzip);
    }
    try {
      for await (const c of content) {
        x.contentSize += c.length;
        scanner?.write(c);
        if (file !== null) writeSync(file, c);
        else if (!config.nullOut) out(c);
      }
      scanner?.end();
    } catch (e) {
      if (e instanceof Http2Error) throw e;
      throw new Error(`cannot decode the ${coding} content: ${(e as Error).message}`);
    } finally {
      if (file !== null) closeSync(file);
    }
    if (x.endAt < 0) x.endAt = performance.now();
  }
}
