/**
 * A raw HTTP/2 client for tests: it writes whatever frames a test crafts
 * (valid or not) and records every frame the server sends, decoding field
 * blocks in order with its own HPACK context.
 */
import net from 'node:net';
// The engine's own reader and integer helpers (not API): a raw peer reads frames as the engine does.
import { readUint31, readUint32 } from '../../src/h2/frame.js';
import { FrameReader } from '../../src/h2/frame-reader.js';
import {
  CONNECTION_PREFACE,
  encodeData,
  encodeFrame,
  encodeHeaders,
  encodePing,
  encodeSettings,
  encodeWindowUpdate,
  errorCodeName,
  Flag,
  FrameType,
  frameTypeName,
  MAX_MAX_FRAME_SIZE,
  type PriorityFields,
} from '../../src/h2/index.js';
import { Deflater, type HeaderInput, Inflater } from '../../src/hpack/index.js';

export interface RecvFrame {
  type: number;
  flags: number;
  streamId: number;
  length: number;
  payload: Uint8Array;
  /** Decoded field block, on the frame that completed it (HEADERS/PUSH_PROMISE/CONTINUATION). */
  headers?: Array<[string, string]>;
  /** RST_STREAM / GOAWAY error code. */
  errorCode?: number;
  /** GOAWAY last stream id. */
  lastStreamId?: number;
  /** PUSH_PROMISE promised stream id. */
  promisedStreamId?: number;
  /** DATA content (padding removed). */
  data?: Uint8Array;
  /** WINDOW_UPDATE increment. */
  increment?: number;
}

/** The frames as text, the first 20 and the last 10 when there are many. */
export function describeFrames(frames: RecvFrame[]): string {
  const list =
    frames.length > 30
      ? [...frames.slice(0, 20).map(describeFrame), `... ${frames.length - 30} more ...`, ...frames.slice(-10).map(describeFrame)]
      : frames.map(describeFrame);
  return list.join(', ');
}

export function describeFrame(f: RecvFrame): string {
  let s = `${frameTypeName(f.type)}(stream=${f.streamId}, flags=0x${f.flags.toString(16)}, len=${f.length})`;
  if (f.errorCode !== undefined) s += ` ${errorCodeName(f.errorCode)}`;
  return s;
}

export interface ConnectOptions {
  /** Send the preface and an empty SETTINGS at once (default true). */
  preface?: boolean;
  /** Settings of the client's first SETTINGS frame. */
  settings?: Array<[number, number]>;
  /** Acknowledge the server's SETTINGS automatically (default true). */
  autoAck?: boolean;
}

export class RawClient {
  readonly frames: RecvFrame[] = [];
  readonly deflater = new Deflater();
  readonly inflater = new Inflater({ maxHeaderListSize: 1 << 24 });
  closed = false;
  /** Octets received in total. */
  received = 0;
  private waiters: Array<() => void> = [];
  private block: { frame: RecvFrame; parts: Uint8Array[] } | null = null;
  readonly closedPromise: Promise<void>;
  autoAck = true;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => this.onData(d));
  }

  static async connect(port: number, opts: ConnectOptions = {}): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new RawClient(socket);
    c.autoAck = opts.autoAck ?? true;
    if (opts.preface ?? true) c.send(CONNECTION_PREFACE, encodeSettings(opts.settings ?? []));
    return c;
  }

  /** Connects, exchanges SETTINGS, and waits for the server's SETTINGS and its ACK of ours. */
  static async open(port: number, settings: Array<[number, number]> = []): Promise<RawClient> {
    const c = await RawClient.connect(port, { settings });
    await c.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0);
    await c.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0);
    return c;
  }

  send(...chunks: Uint8Array[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(chunks));
  }

  /** HPACK-encodes `fields` with this client's context. */
  encode(fields: HeaderInput[]): Uint8Array {
    return this.deflater.deflate(fields).slice();
  }

  /** A request HEADERS frame for `path` (GET by default). */
  request(
    streamId: number,
    path = '/',
    opts: { method?: string; endStream?: boolean; extra?: HeaderInput[]; padLength?: number; priority?: PriorityFields } = {},
  ): Uint8Array {
    const fields: HeaderInput[] = [[':method', opts.method ?? 'GET'], [':scheme', 'http'], [':authority', 'localhost'], [':path', path], ...(opts.extra ?? [])];
    return encodeHeaders(streamId, this.encode(fields), {
      endStream: opts.endStream ?? true,
      ...(opts.padLength !== undefined ? { padLength: opts.padLength } : {}),
      ...(opts.priority ? { priority: opts.priority } : {}),
    });
  }

  /** A field block as HEADERS plus CONTINUATION frames of at most `max` octets each. */
  split(streamId: number, block: Uint8Array, endStream = true, max = 16384): Uint8Array {
    const frames: Uint8Array[] = [];
    for (let o = 0; o === 0 || o < block.length; o += max) {
      const end = Math.min(block.length, o + max);
      const last = end === block.length;
      const type = o === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
      const flags = (last ? Flag.END_HEADERS : 0) | (o === 0 && endStream ? Flag.END_STREAM : 0);
      frames.push(encodeFrame(type, flags, streamId, block.subarray(o, end)));
    }
    return Buffer.concat(frames);
  }

  /** HEADERS carrying exactly `fields` (for malformed requests). */
  headersFrame(streamId: number, fields: HeaderInput[], endStream = true): Uint8Array {
    return encodeHeaders(streamId, this.encode(fields), { endStream });
  }

  /**
   * For an h2c upgrade: the HTTP/1.1 response head that precedes the frames
   * (null until it has arrived), when expectHttp1() was called.
   */
  http1Head: string | null = null;
  private http1Pending = false;

  /** The server's first octets are an HTTP/1.1 response head (e.g. a 101 to an upgrade request); frames follow it. */
  expectHttp1(): void {
    this.http1Pending = true;
  }

  /** The server's octets, framed by the engine's own reader (no limits: the tests see whatever the server sends). */
  private readonly reader = new FrameReader(
    {
      frame: (h, payload) => this.record({ type: h.type, flags: h.flags, streamId: h.streamId, length: h.length, payload: payload.slice() }),
      framingError: () => {},
      diverted: (chunk) => this.http1Octets(chunk),
    },
    false,
    MAX_MAX_FRAME_SIZE,
    false,
  );
  private http1Buf: Buffer = Buffer.alloc(0);

  private onData(d: Buffer): void {
    this.received += d.length;
    if (this.http1Pending) this.reader.divert();
    this.http1Pending = false;
    this.reader.push(d);
    this.wake();
  }

  private http1Octets(chunk: Uint8Array): void {
    this.http1Buf = Buffer.concat([this.http1Buf, chunk]);
    const end = this.http1Buf.indexOf('\r\n\r\n');
    if (end === -1) return;
    this.http1Head = this.http1Buf.subarray(0, end + 4).toString('latin1');
    const rest = this.http1Buf.subarray(end + 4);
    this.http1Buf = Buffer.alloc(0);
    this.reader.resume(rest, false);
  }

  private record(f: RecvFrame): void {
    const p = f.payload;
    switch (f.type) {
      case FrameType.DATA: {
        const pad = f.flags & Flag.PADDED ? p[0]! : 0;
        f.data = f.flags & Flag.PADDED ? p.subarray(1, p.length - pad) : p;
        break;
      }
      case FrameType.HEADERS:
      case FrameType.PUSH_PROMISE: {
        let o = f.flags & Flag.PADDED ? 1 : 0;
        const pad = o ? p[0]! : 0;
        if (f.type === FrameType.HEADERS && f.flags & Flag.PRIORITY) o += 5;
        if (f.type === FrameType.PUSH_PROMISE) {
          f.promisedStreamId = readUint31(p, o);
          o += 4;
        }
        const frag = p.subarray(o, p.length - pad);
        if (f.flags & Flag.END_HEADERS) f.headers = this.inflater.inflateLatin1(frag);
        else this.block = { frame: f, parts: [frag] };
        break;
      }
      case FrameType.CONTINUATION:
        if (this.block) {
          this.block.parts.push(p);
          if (f.flags & Flag.END_HEADERS) {
            const all = Buffer.concat(this.block.parts);
            this.block.frame.headers = f.headers = this.inflater.inflateLatin1(all);
            this.block = null;
          }
        }
        break;
      case FrameType.RST_STREAM:
        f.errorCode = readUint32(p, 0);
        break;
      case FrameType.GOAWAY:
        f.lastStreamId = readUint31(p, 0);
        f.errorCode = readUint32(p, 4);
        break;
      case FrameType.WINDOW_UPDATE:
        f.increment = readUint31(p, 0);
        break;
      case FrameType.SETTINGS:
        if (this.autoAck && !(f.flags & Flag.ACK)) this.send(encodeSettings([], true));
        break;
      default:
        break;
    }
    this.frames.push(f);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  /** Resolves with the first recorded frame (from index `from`) matching `pred`; rejects on timeout or close. */
  async waitFor(pred: (f: RecvFrame) => boolean, timeout = 3000, from = 0): Promise<RecvFrame> {
    const deadline = Date.now() + timeout;
    let i = from;
    while (true) {
      for (; i < this.frames.length; i++) if (pred(this.frames[i]!)) return this.frames[i]!;
      if (this.closed) throw new Error(`connection closed; frames: ${describeFrames(this.frames)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout; frames: ${describeFrames(this.frames)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the connection to close (rejects after `timeout`). */
  async waitClosed(timeout = 3000): Promise<void> {
    await Promise.race([this.closedPromise, new Promise((_, reject) => setTimeout(() => reject(new Error('connection did not close')), timeout))]);
  }

  /** Waits for GOAWAY and returns its error code; also waits for the close. */
  async goaway(timeout = 3000): Promise<RecvFrame> {
    const g = await this.waitFor((f) => f.type === FrameType.GOAWAY, timeout).catch(() => null);
    if (!g) throw new Error(`no GOAWAY; frames: ${describeFrames(this.frames)}; closed=${this.closed}`);
    return g;
  }

  /** Waits for RST_STREAM on `streamId` and returns its code. */
  async rst(streamId: number, timeout = 3000): Promise<number> {
    const f = await this.waitFor((x) => x.type === FrameType.RST_STREAM && x.streamId === streamId, timeout);
    return f.errorCode!;
  }

  /** Sends a PING and waits for its ACK: proof that the connection still works. */
  async ping(timeout = 3000): Promise<boolean> {
    const opaque = new Uint8Array(8);
    for (let i = 0; i < 8; i++) opaque[i] = (Math.random() * 256) | 0;
    const from = this.frames.length;
    this.send(encodePing(opaque));
    await this.waitFor((f) => f.type === FrameType.PING && (f.flags & Flag.ACK) !== 0 && Buffer.from(f.payload).equals(Buffer.from(opaque)), timeout, from);
    return true;
  }

  /** The response on a stream: its HEADERS fields, body and whether it ended, after END_STREAM or RST_STREAM. */
  async response(
    streamId: number,
    timeout = 3000,
  ): Promise<{ status: string; headers: Array<[string, string]>; body: Buffer; trailers: Array<[string, string]> | null; rst: number | null }> {
    await this.waitFor(
      (f) =>
        f.streamId === streamId &&
        (f.type === FrameType.RST_STREAM || ((f.type === FrameType.DATA || f.type === FrameType.HEADERS) && (f.flags & Flag.END_STREAM) !== 0)),
      timeout,
    );
    return this.responseSoFar(streamId);
  }

  responseSoFar(streamId: number): {
    status: string;
    headers: Array<[string, string]>;
    body: Buffer;
    trailers: Array<[string, string]> | null;
    rst: number | null;
  } {
    const mine = this.frames.filter((f) => f.streamId === streamId);
    const heads = mine.filter((f) => f.type === FrameType.HEADERS);
    const headers = heads[0]?.headers ?? [];
    const status = headers.find(([n]) => n === ':status')?.[1] ?? '';
    const body = Buffer.concat(mine.filter((f) => f.type === FrameType.DATA).map((f) => f.data!));
    const trailers = heads.length > 1 ? (heads[1]!.headers ?? null) : null;
    const r = mine.find((f) => f.type === FrameType.RST_STREAM);
    return { status, headers, body, trailers, rst: r ? r.errorCode! : null };
  }

  data(streamId: number, body: Uint8Array | string, endStream = true, padLength?: number): Uint8Array {
    const b = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    return encodeData(streamId, b, { endStream, ...(padLength !== undefined ? { padLength } : {}) });
  }

  windowUpdate(streamId: number, inc: number): Uint8Array {
    return encodeWindowUpdate(streamId, inc);
  }

  raw(type: number, flags: number, streamId: number, payload: Uint8Array | number[] = []): Uint8Array {
    return encodeFrame(type, flags, streamId, payload instanceof Uint8Array ? payload : new Uint8Array(payload));
  }

  close(): void {
    this.socket.destroy();
  }
}
