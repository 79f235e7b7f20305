/**
 * h2get's -v log: nghttp's lines (the frame lines are h2/frame-lines.ts,
 * shared with h2serve), prefixed with the seconds since the run started:
 *
 *   [  0.001] Connected
 *   [  0.001] send SETTINGS frame <length=12, flags=0x00, stream_id=0>
 *
 * plus the HTTP/1.1 blocks of -u. With --json, the same events as one JSON
 * object per line instead (see frameJson).
 */
import { errorCodeName, type FrameEvent, FrameLines, flagNames, frameTypeName, hexdump, type Paint, settingName } from '../h2/index.js';

/** One line of the JSON log. */
export type JsonLogLine = { time: number; event: string } & Record<string, unknown>;

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** A frame event as a JSON object: every decoded detail, names next to numbers. */
export function frameJson(e: FrameEvent, time: number): JsonLogLine {
  const o: JsonLogLine = {
    time,
    event: 'frame',
    direction: e.direction,
    type: frameTypeName(e.type),
    flags: flagNames(e.type, e.flags),
    flagBits: e.flags,
    stream: e.streamId,
    length: e.length,
  };
  if (e.padLength !== undefined) o['padLength'] = e.padLength;
  if (e.priority) o['priority'] = { dependency: e.priority.dependency, weight: e.priority.weight, exclusive: e.priority.exclusive };
  if (e.promisedStreamId !== undefined) o['promisedStream'] = e.promisedStreamId;
  if (e.headers) o['headers'] = e.headers;
  if (e.settings) o['settings'] = e.settings.map(([id, value]) => ({ id, name: settingName(id), value }));
  if (e.increment !== undefined) o['increment'] = e.increment;
  if (e.errorCode !== undefined) o['errorCode'] = { code: e.errorCode, name: errorCodeName(e.errorCode) };
  if (e.lastStreamId !== undefined) o['lastStream'] = e.lastStreamId;
  if (e.debugData !== undefined) o['debugData'] = Buffer.from(e.debugData).toString('latin1');
  if (e.opaque !== undefined) o['opaque'] = hex(e.opaque);
  if (e.reason !== undefined) o['reason'] = e.reason;
  return o;
}

export interface ClientLogOptions {
  json: boolean;
  paint: Paint;
  /** performance.now() at the start of the run. */
  start: number;
}

/** The log of one run (one or more connections, one after the other). */
export class ClientLog {
  private frames: FrameLines;
  private connectedShown = true;
  private pending: { uri: URL; tls: boolean; address: string } | null = null;

  constructor(
    private readonly emit: (line: string) => void,
    private readonly options: ClientLogOptions,
  ) {
    this.frames = new FrameLines('client', options.paint);
  }

  /** Seconds since the start, as a number (JSON) and as nghttp's `[  0.003]`. */
  private seconds(): number {
    return Math.max(0, Math.round(performance.now() - this.options.start)) / 1000;
  }

  private timer(): string {
    const ms = Math.max(0, Math.floor(performance.now() - this.options.start));
    return `[${String(Math.floor(ms / 1000)).padStart(3)}.${String(ms % 1000).padStart(3, '0')}]`;
  }

  private json(o: JsonLogLine): void {
    this.emit(JSON.stringify(o));
  }

  /**
   * A new connection is being made: "Connected" is printed before its
   * first line (its first frame is written as the connection comes up).
   */
  connecting(uri: URL, tls: boolean, address: string): void {
    this.frames = new FrameLines('client', this.options.paint);
    this.pending = { uri, tls, address };
    this.connectedShown = false;
  }

  private showConnected(): void {
    if (this.connectedShown) return;
    this.connectedShown = true;
    const p = this.pending!;
    if (this.options.json) {
      this.json({ time: this.seconds(), event: 'connected', uri: p.uri.href, address: p.address, tls: p.tls, ...(p.tls ? { alpn: 'h2' } : {}) });
      return;
    }
    this.emit(`${this.timer()} Connected`);
    if (p.tls) this.emit('The negotiated protocol: h2');
  }

  frame(e: FrameEvent): void {
    this.showConnected();
    if (this.options.json) return this.json(frameJson(e, this.seconds()));
    for (const l of this.frames.lines(e, this.timer())) this.emit(l);
  }

  /** The HTTP/1.1 request or response of -u, as nghttp shows them (the head as sent, then an empty line). */
  http1(direction: 'send' | 'recv', head: string): void {
    this.showConnected();
    const what = direction === 'send' ? 'request' : 'response';
    if (this.options.json) return this.json({ time: this.seconds(), event: `upgrade-${what}`, head });
    this.emit(`${this.timer()} HTTP Upgrade ${what}\n${head}`);
    if (direction === 'recv' && /^HTTP\/1\.[01] 101\b/.test(head)) this.emit(`${this.timer()} HTTP Upgrade success`);
  }

  /** --hexdump: octets received (decrypted under TLS). */
  received(data: Uint8Array): void {
    this.showConnected();
    if (this.options.json) return this.json({ time: this.seconds(), event: 'received', octets: hex(data) });
    this.emit(hexdump(data));
  }
}
