/**
 * Frame events as the lines nghttp2's tools print with -v (nghttpd and
 * nghttp share them; each adds its own prefix: `[id=1] [  0.003]` for
 * nghttpd, `[  0.003]` for nghttp):
 *
 *   [  0.003] recv (stream_id=13) :status: 200
 *   [  0.003] recv HEADERS frame <length=93, flags=0x04, stream_id=13>
 *             ; END_HEADERS
 *             (padlen=0)
 *             ; First response header
 *
 * and the canonical hex+ASCII dump of --hexdump. Colour comes from a Paint
 * (none by default); NGHTTP2_PAINT draws nghttp2's with Node's own
 * util.styleText, so the engine depends on no terminal library.
 */
import util from 'node:util';
import { errorCodeName, FrameType, frameTypeName, settingName } from './frame.js';
import { type FrameEvent, flagNames } from './observer.js';

/** The indent of the lines under a frame line. */
export const INDENT = '          ';

/** How the three coloured parts are drawn: the received and sent frame names, and field names. */
export interface Paint {
  recv(s: string): string;
  send(s: string): string;
  name(s: string): string;
}

const identity = (s: string): string => s;
export const NO_PAINT: Paint = { recv: identity, send: identity, name: identity };

// Whether to colour is the caller's decision (--color, FORCE_COLOR, NO_COLOR, a terminal): no stream check
// here. One format per call (arrays came after Node 20.12); styleText is missing before 20.12: no colour.
const bold =
  (colour: 'cyan' | 'magenta' | 'blue') =>
  (s: string): string =>
    util.styleText('bold', util.styleText(colour, s, { validateStream: false }), { validateStream: false });

/** nghttp2's colours: bold cyan for received frames, bold magenta for sent ones, bold blue for field names. */
export const NGHTTP2_PAINT: Paint = typeof util.styleText === 'function' ? { recv: bold('cyan'), send: bold('magenta'), name: bold('blue') } : NO_PAINT;

/**
 * The lines of each frame event. The role decides what a first HEADERS on
 * a stream is: a request ("; Open new stream"), a response ("; First
 * response header") or a pushed response on an even stream ("; First push
 * response header"); later HEADERS (trailers) get no such line, except a
 * final response after 1xx ones.
 */
export class FrameLines {
  /** Per connection: the streams whose header section we have seen, received and sent. */
  readonly #seen = new Map<number, { recv: Set<number>; send: Set<number> }>();
  readonly #role: 'client' | 'server';
  readonly #paint: Paint;

  constructor(role: 'client' | 'server', paint: Paint = NO_PAINT) {
    this.#role = role;
    this.#paint = paint;
  }

  /** Forgets a closed stream (its id cannot come back, but the sets stay small). */
  streamClosed(connectionId: number, streamId: number): void {
    const s = this.#seen.get(connectionId);
    s?.recv.delete(streamId);
    s?.send.delete(streamId);
  }

  connectionClosed(connectionId: number): void {
    this.#seen.delete(connectionId);
  }

  /** `(niv=N)` and one line per setting, indented. */
  settingsLines(settings: ReadonlyArray<readonly [number, number]>): string[] {
    const lines = [`${INDENT}(niv=${settings.length})`];
    for (const [id, v] of settings) lines.push(`${INDENT}[${settingName(id)}(0x${hex2(id)}):${v}]`);
    return lines;
  }

  /**
   * The lines for one frame: the received fields (one per line, each with
   * `prefix`, before the frame as nghttp2 prints them as they are decoded),
   * the frame line with `prefix`, then its indented details.
   */
  lines(e: FrameEvent, prefix: string): string[] {
    const p = this.#paint;
    const recv = e.direction === 'recv';
    const lines: string[] = [];
    if (recv && e.headers) {
      for (const [n, v] of e.headers) lines.push(`${prefix} ${p.recv('recv')} (stream_id=${e.streamId}) ${p.name(n)}: ${v}`);
    }
    const name = recv ? p.recv(frameTypeName(e.type)) : p.send(frameTypeName(e.type));
    lines.push(`${prefix} ${e.direction} ${name} frame <length=${e.length}, flags=0x${hex2(e.flags)}, stream_id=${e.streamId}>`);
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
        const category = this.#category(e);
        if (category) lines.push(`${INDENT}; ${category}`);
        if (!recv && e.headers) for (const [n, v] of e.headers) lines.push(`${INDENT}${p.name(n)}: ${v}`);
        break;
      }
      case FrameType.PRIORITY:
        if (e.priority) lines.push(`${INDENT}(dep_stream_id=${e.priority.dependency}, weight=${e.priority.weight}, exclusive=${e.priority.exclusive ? 1 : 0})`);
        break;
      case FrameType.RST_STREAM:
        lines.push(`${INDENT}(error_code=${errorCodeName(e.errorCode ?? 0)}(0x${hex2(e.errorCode ?? 0)}))`);
        break;
      case FrameType.SETTINGS:
        lines.push(...this.settingsLines(e.settings ?? []));
        break;
      case FrameType.CONTINUATION:
        // The sent fields are shown on the frame that completes the block.
        if (!recv && e.headers) for (const [n, v] of e.headers) lines.push(`${INDENT}${p.name(n)}: ${v}`);
        break;
      case FrameType.PUSH_PROMISE:
        lines.push(`${INDENT}(padlen=${e.padLength ?? 0}, promised_stream_id=${e.promisedStreamId ?? 0})`);
        if (!recv && e.headers) for (const [n, v] of e.headers) lines.push(`${INDENT}${p.name(n)}: ${v}`);
        break;
      case FrameType.PING:
        lines.push(`${INDENT}(opaque_data=${Buffer.from(e.opaque ?? new Uint8Array(8)).toString('hex')})`);
        break;
      case FrameType.GOAWAY: {
        const d = e.debugData ?? new Uint8Array(0);
        lines.push(
          `${INDENT}(last_stream_id=${e.lastStreamId ?? 0}, error_code=${errorCodeName(e.errorCode ?? 0)}(0x${hex2(e.errorCode ?? 0)}), opaque_data(${d.length})=[${asciiDump(d)}])`,
        );
        break;
      }
      case FrameType.WINDOW_UPDATE:
        lines.push(`${INDENT}(window_size_increment=${e.increment ?? 0})`);
        break;
      default:
        break;
    }
    return lines;
  }

  /** What a HEADERS frame starts, the first time a header section goes this way on its stream. */
  #category(e: FrameEvent): string | null {
    let state = this.#seen.get(e.connectionId);
    if (!state) this.#seen.set(e.connectionId, (state = { recv: new Set(), send: new Set() }));
    const set = e.direction === 'recv' ? state.recv : state.send;
    if (set.has(e.streamId)) return null;
    const request = (this.#role === 'client') === (e.direction === 'send');
    // A 1xx response is followed by the final one, which is a response too (RFC 9113 §8.1).
    const interim = !request && e.headers?.some(([n, v]) => n === ':status' && v.length === 3 && v[0] === '1') === true;
    if (!interim) set.add(e.streamId);
    if (request) return 'Open new stream';
    return e.streamId % 2 === 0 ? 'First push response header' : 'First response header';
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
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
