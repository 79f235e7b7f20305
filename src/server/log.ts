/**
 * h2serve's verbose output, in nghttpd's format so the two can be compared
 * line by line (the frame lines are nghttp's too: see h2/frame-lines.ts,
 * with nghttpd's `[id=N]` prefix):
 *
 *   [id=1] [  0.003] recv (stream_id=1) :method: GET
 *   [id=1] [  0.003] recv HEADERS frame <length=30, flags=0x05, stream_id=1>
 *             ; END_STREAM | END_HEADERS
 *             (padlen=0)
 *             ; Open new stream
 */
import { FrameLines, NGHTTP2_PAINT, NO_PAINT } from '../h2/frame-lines.js';
import type { FrameEvent, UpgradeInfo } from '../h2/index.js';

export { hexdump } from '../h2/frame-lines.js';

/** Collects output lines and writes them in batches (one write per tick). */
export class LineSink {
  private lines: string[] = [];
  private scheduled = false;
  constructor(private readonly write: (text: string) => void) {}

  push(line: string): void {
    this.lines.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const text = `${this.lines.join('\n')}\n`;
    this.lines = [];
    this.write(text);
  };
}

export class FrameLog {
  private readonly frames: FrameLines;

  constructor(
    private readonly out: LineSink,
    color: boolean,
    private readonly start: bigint = process.hrtime.bigint(),
  ) {
    this.frames = new FrameLines('server', color ? NGHTTP2_PAINT : NO_PAINT);
  }

  /** `[  0.508]`: seconds and milliseconds since the server started. */
  private timer(): string {
    const ms = Number((process.hrtime.bigint() - this.start) / 1_000_000n);
    return `[${String(Math.floor(ms / 1000)).padStart(3)}.${String(ms % 1000).padStart(3, '0')}]`;
  }

  private prefix(id: number): string {
    return `[id=${id}] ${this.timer()}`;
  }

  /** A line of its own (TLS handshake, listening, errors). */
  line(text: string): void {
    this.out.push(text);
  }

  /** A line about one connection: `[id=1] [  0.509] closed`. */
  event(connectionId: number, text: string): void {
    this.out.push(`${this.prefix(connectionId)} ${text}`);
  }

  streamClosed(connectionId: number, streamId: number): void {
    this.frames.streamClosed(connectionId, streamId);
    this.event(connectionId, `stream_id=${streamId} closed`);
  }

  /** An HTTP/1.1 request upgraded its connection to h2c and became stream 1, with the client's HTTP2-Settings. */
  upgrade(info: UpgradeInfo): void {
    this.event(info.connectionId, `HTTP/1.1 Upgrade to h2c: ${info.method} ${info.target} becomes stream 1; HTTP2-Settings:`);
    for (const l of this.frames.settingsLines(info.settings)) this.out.push(l);
  }

  connectionClosed(connectionId: number): void {
    this.frames.connectionClosed(connectionId);
    this.event(connectionId, 'closed');
  }

  frame(e: FrameEvent): void {
    for (const l of this.frames.lines(e, this.prefix(e.connectionId))) this.out.push(l);
  }
}
