/**
 * h2serve's verbose output, in nghttpd's format so the two can be compared
 * line by line:
 *
 *   [id=1] [  0.003] recv (stream_id=1) :method: GET
 *   [id=1] [  0.003] recv HEADERS frame <length=30, flags=0x05, stream_id=1>
 *             ; END_STREAM | END_HEADERS
 *             (padlen=0)
 *             ; Open new stream
 *
 * and the canonical hex+ASCII dump of --hexdump.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { errorCodeName, flagNames, FrameType, frameTypeName, settingName, type FrameEvent, type UpgradeInfo } from '../h2/index.js';

const INDENT = '          ';

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
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    this.write(text);
  };
}

export class FrameLog {
  private readonly c: ChalkInstance;
  /** Per connection: streams whose first HEADERS we have seen, received and sent. */
  private readonly seen = new Map<number, { recv: Set<number>; sent: Set<number> }>();

  constructor(
    private readonly out: LineSink,
    color: boolean,
    private readonly start: bigint = process.hrtime.bigint(),
  ) {
    this.c = new Chalk({ level: color ? 1 : 0 });
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
    const s = this.seen.get(connectionId);
    s?.recv.delete(streamId);
    s?.sent.delete(streamId);
    this.event(connectionId, `stream_id=${streamId} closed`);
  }

  /** An HTTP/1.1 request upgraded its connection to h2c and became stream 1, with the client's HTTP2-Settings. */
  upgrade(info: UpgradeInfo): void {
    this.event(info.connectionId, `HTTP/1.1 Upgrade to h2c: ${text(info.method)} ${text(info.target)} becomes stream 1; HTTP2-Settings:`);
    this.out.push(`${INDENT}(niv=${info.settings.length})`);
    for (const [id, v] of info.settings) this.out.push(`${INDENT}[${settingName(id)}(0x${hex2(id)}):${v}]`);
  }

  connectionClosed(connectionId: number): void {
    this.seen.delete(connectionId);
    this.event(connectionId, 'closed');
  }

  frame(e: FrameEvent): void {
    const c = this.c;
    const p = this.prefix(e.connectionId);
    let state = this.seen.get(e.connectionId);
    if (!state) this.seen.set(e.connectionId, (state = { recv: new Set(), sent: new Set() }));
    const recv = e.direction === 'recv';
    const lines: string[] = [];
    // nghttpd prints received fields one per line before the frame that carried them.
    if (recv && e.headers) {
      for (const [n, v] of e.headers) lines.push(`${p} ${c.bold.cyan('recv')} (stream_id=${e.streamId}) ${c.bold.blue(text(n))}: ${text(v)}`);
    }
    const name = recv ? c.bold.cyan(frameTypeName(e.type)) : c.bold.magenta(frameTypeName(e.type));
    lines.push(`${p} ${e.direction} ${name} frame <length=${e.length}, flags=0x${hex2(e.flags)}, stream_id=${e.streamId}>`);
    const flags = flagNames(e.type, e.flags);
    if (flags.length) lines.push(`${INDENT}; ${flags.join(' | ')}`);
    switch (e.type) {
      case FrameType.DATA:
        if (e.padLength) lines.push(`${INDENT}(padlen=${e.padLength})`);
        break;
      case FrameType.HEADERS: {
        let attr = `(padlen=${e.padLength ?? 0}`;
        if (e.priority) attr += `, dep_stream_id=${e.priority.dependency}, weight=${e.priority.weight}, exclusive=${e.priority.exclusive ? 1 : 0}`;
        lines.push(`${INDENT}${attr})`);
        const set = recv ? state.recv : state.sent;
        if (!set.has(e.streamId)) {
          set.add(e.streamId);
          lines.push(`${INDENT}; ${recv ? 'Open new stream' : e.streamId % 2 === 0 ? 'First push response header' : 'First response header'}`);
        }
        if (!recv && e.headers) for (const [n, v] of e.headers) lines.push(`${INDENT}${c.bold.blue(text(n))}: ${text(v)}`);
        break;
      }
      case FrameType.PRIORITY:
        if (e.priority) lines.push(`${INDENT}(dep_stream_id=${e.priority.dependency}, weight=${e.priority.weight}, exclusive=${e.priority.exclusive ? 1 : 0})`);
        break;
      case FrameType.RST_STREAM:
        lines.push(`${INDENT}(error_code=${errorCodeName(e.errorCode ?? 0)}(0x${hex2(e.errorCode ?? 0)}))`);
        break;
      case FrameType.SETTINGS:
        lines.push(`${INDENT}(niv=${e.settings?.length ?? 0})`);
        for (const [id, v] of e.settings ?? []) lines.push(`${INDENT}[${settingName(id)}(0x${hex2(id)}):${v}]`);
        break;
      case FrameType.PUSH_PROMISE:
        lines.push(`${INDENT}(padlen=${e.padLength ?? 0}, promised_stream_id=${e.promisedStreamId ?? 0})`);
        if (!recv && e.headers) for (const [n, v] of e.headers) lines.push(`${INDENT}${c.bold.blue(text(n))}: ${text(v)}`);
        break;
      case FrameType.PING:
        lines.push(`${INDENT}(opaque_data=${Buffer.from(e.opaque ?? new Uint8Array(8)).toString('hex')})`);
        break;
      case FrameType.GOAWAY: {
        const d = e.debugData ?? new Uint8Array(0);
        lines.push(`${INDENT}(last_stream_id=${e.lastStreamId ?? 0}, error_code=${errorCodeName(e.errorCode ?? 0)}(0x${hex2(e.errorCode ?? 0)}), opaque_data(${d.length})=[${asciiDump(d)}])`);
        break;
      }
      case FrameType.WINDOW_UPDATE:
        lines.push(`${INDENT}(window_size_increment=${e.increment ?? 0})`);
        break;
      default:
        break;
    }
    for (const l of lines) this.out.push(l);
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Received names and values are octet strings: show them as UTF-8 where they are. */
function text(octets: string): string {
  return /[^\x00-\x7f]/.test(octets) ? Buffer.from(octets, 'latin1').toString('utf8') : octets;
}

function asciiDump(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.';
  return s;
}

/**
 * The canonical hex+ASCII dump (as `hexdump -C`) of received octets; runs of
 * identical 16-octet lines collapse into `*`.
 */
export function hexdump(data: Uint8Array): string {
  const lines: string[] = [];
  let prev = '';
  let starred = false;
  for (let off = 0; off < data.length; off += 16) {
    const row = data.subarray(off, Math.min(off + 16, data.length));
    const key = Buffer.from(row).toString('hex');
    if (row.length === 16 && key === prev) {
      if (!starred) lines.push('*');
      starred = true;
      continue;
    }
    prev = key;
    starred = false;
    let hexPart = '';
    for (let i = 0; i < 16; i++) {
      hexPart += i < row.length ? `${hex2(row[i]!)} ` : '   ';
      if (i === 7) hexPart += ' ';
    }
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hexPart} |${asciiDump(row)}|`);
  }
  lines.push(data.length.toString(16).padStart(8, '0'));
  return lines.join('\n');
}
