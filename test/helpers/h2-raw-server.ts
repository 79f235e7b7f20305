/**
 * A raw HTTP/2 server for client tests: a TCP listener whose connections
 * read the client's preface and frames with the engine's FrameReader (and
 * their field blocks with an HPACK decoder of their own) and write whatever
 * frames a test crafts, valid or hostile, with the engine's encoders.
 */
import net from 'node:net';
// The engine's own reader and integer helpers (not API): a raw peer reads frames as the engine does.
import { readUint31, readUint32 } from '../../src/h2/frame.js';
import { FrameReader } from '../../src/h2/frame-reader.js';
import { encodeData, encodeFrame, encodeHeaders, encodeSettings, Flag, FrameType, MAX_MAX_FRAME_SIZE } from '../../src/h2/index.js';
import { Deflater, type HeaderInput, Inflater } from '../../src/hpack/index.js';
import { describeFrames, type RecvFrame } from './h2-raw-client.js';

export class RawServerConnection {
  /** The client's frames, in order (its preface excepted). */
  readonly frames: RecvFrame[] = [];
  readonly deflater = new Deflater();
  readonly inflater = new Inflater({ maxHeaderListSize: 1 << 24 });
  /** Octets received from the client, preface included. */
  received = 0;
  closed = false;
  /** The client's preface was wrong (or the framing broke): what the reader said. */
  framingError: string | null = null;
  readonly closedPromise: Promise<void>;
  /** Acknowledge the client's SETTINGS automatically, once our preface has gone (default true). */
  autoAck = true;
  /** Our SETTINGS went out. */
  prefaceSent = false;
  /** ACKs owed from before our preface (§3.4: our first frame is SETTINGS). */
  private owedAcks = 0;
  private waiters: Array<() => void> = [];
  private block: { frame: RecvFrame; parts: Uint8Array[] } | null = null;
  private readonly reader = new FrameReader(
    {
      frame: (h, payload) => this.record({ type: h.type, flags: h.flags, streamId: h.streamId, length: h.length, payload: payload.slice() }),
      framingError: (_code, message) => {
        this.framingError = message;
      },
    },
    true,
    MAX_MAX_FRAME_SIZE,
  );

  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      this.received += d.length;
      this.reader.push(d);
      this.wake();
    });
  }

  /** Writes octets as they are (false when the socket's buffer is full). */
  send(...chunks: Uint8Array[]): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  }

  /** The server preface: SETTINGS with `entries` (§3.4). */
  preface(entries: Array<[number, number]> = []): void {
    this.prefaceSent = true;
    const acks = Array.from({ length: this.owedAcks }, () => encodeSettings([], true));
    this.owedAcks = 0;
    this.send(encodeSettings(entries), ...acks);
  }

  /** HPACK-encodes `fields` with this connection's context. */
  encode(fields: HeaderInput[]): Uint8Array {
    return this.deflater.deflate(fields).slice();
  }

  /** HEADERS carrying exactly `fields`, encoded with this connection's context. */
  headers(streamId: number, fields: HeaderInput[], endStream = false): Uint8Array {
    return encodeHeaders(streamId, this.encode(fields), { endStream });
  }

  data(streamId: number, body: Uint8Array | string, endStream = false): Uint8Array {
    return encodeData(streamId, typeof body === 'string' ? new TextEncoder().encode(body) : body, { endStream });
  }

  raw(type: number, flags: number, streamId: number, payload: Uint8Array | number[] = []): Uint8Array {
    return encodeFrame(type, flags, streamId, payload instanceof Uint8Array ? payload : new Uint8Array(payload));
  }

  /** Resolves with the first frame (from index `from`) matching `pred`; rejects on timeout or close. */
  async waitFor(pred: (f: RecvFrame) => boolean, timeout = 5000, from = 0): Promise<RecvFrame> {
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

  /** The client's next request HEADERS (from frame index `from`). */
  request(from = 0, timeout = 5000): Promise<RecvFrame> {
    return this.waitFor((f) => f.type === FrameType.HEADERS && f.headers !== undefined && f.headers.some(([n]) => n === ':method'), timeout, from);
  }

  /** The client's GOAWAY. */
  goaway(timeout = 5000): Promise<RecvFrame> {
    return this.waitFor((f) => f.type === FrameType.GOAWAY, timeout);
  }

  /** Waits for the client to close the connection (rejects after `timeout`). */
  async waitClosed(timeout = 5000): Promise<void> {
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.closedPromise,
      new Promise((_, reject) => {
        t = setTimeout(() => reject(new Error(`the client did not close the connection; frames: ${describeFrames(this.frames)}`)), timeout);
      }),
    ]).finally(() => clearTimeout(t));
  }

  /** Frames of `type` received so far. */
  count(type: number, pred: (f: RecvFrame) => boolean = () => true): number {
    let n = 0;
    for (const f of this.frames) if (f.type === type && pred(f)) n++;
    return n;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private record(f: RecvFrame): void {
    const p = f.payload;
    switch (f.type) {
      case FrameType.DATA: {
        const pad = f.flags & Flag.PADDED ? p[0]! : 0;
        f.data = f.flags & Flag.PADDED ? p.subarray(1, p.length - pad) : p;
        break;
      }
      case FrameType.HEADERS: {
        let o = f.flags & Flag.PADDED ? 1 : 0;
        const pad = o ? p[0]! : 0;
        if (f.flags & Flag.PRIORITY) o += 5;
        const frag = p.subarray(o, p.length - pad);
        if (f.flags & Flag.END_HEADERS) f.headers = this.inflater.inflateLatin1(frag);
        else this.block = { frame: f, parts: [frag] };
        break;
      }
      case FrameType.CONTINUATION:
        if (this.block) {
          this.block.parts.push(p);
          if (f.flags & Flag.END_HEADERS) {
            this.block.frame.headers = this.inflater.inflateLatin1(Buffer.concat(this.block.parts));
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
        if (this.autoAck && !(f.flags & Flag.ACK)) {
          if (this.prefaceSent) this.send(encodeSettings([], true));
          else this.owedAcks++;
        }
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
}

export interface RawServer {
  port: number;
  url: string;
  /** Every connection accepted, in order. */
  connections: RawServerConnection[];
  /** The next connection (already accepted or still to come). */
  next(): Promise<RawServerConnection>;
  close(): Promise<void>;
}

/** Listens on a free port of 127.0.0.1; `onConnection` plays the server's part of each connection. */
export async function startRawServer(onConnection: (c: RawServerConnection) => void | Promise<void> = () => {}): Promise<RawServer> {
  const connections: RawServerConnection[] = [];
  let waiting: Array<(c: RawServerConnection) => void> = [];
  let taken = 0;
  const server = net.createServer((socket) => {
    const c = new RawServerConnection(socket);
    connections.push(c);
    const w = waiting;
    waiting = [];
    for (const fn of w) fn(c);
    Promise.resolve()
      .then(() => onConnection(c))
      .catch(() => c.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections,
    next() {
      const i = taken++;
      if (i < connections.length) return Promise.resolve(connections[i]!);
      return new Promise((resolve) => {
        const take = (): void => {
          if (i < connections.length) resolve(connections[i]!);
          else waiting.push(take);
        };
        waiting.push(take);
      });
    },
    close() {
      for (const c of connections) c.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
