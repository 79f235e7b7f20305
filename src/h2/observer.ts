/**
 * The frame observer: an optional callback that sees every frame sent and
 * received, with its decoded details, and a plain one-line formatter.
 */
import { errorCodeName, Flag, FrameType, frameTypeName, type PriorityFields, settingName } from './frame.js';

/** One frame, sent or received, with the details of its type. */
export interface FrameEvent {
  /** The connection (numbered from 1 by the server). */
  connectionId: number;
  direction: 'send' | 'recv';
  type: number;
  /** The flags as on the wire (received unknown flags included). */
  flags: number;
  streamId: number;
  /** Payload length. */
  length: number;
  /** DATA, HEADERS, PUSH_PROMISE: padding octets (0 when not padded). */
  padLength?: number;
  /** HEADERS with PRIORITY, PRIORITY. */
  priority?: PriorityFields;
  /**
   * The decoded field section, on the frame that completes it (HEADERS or
   * PUSH_PROMISE with END_HEADERS, or the last CONTINUATION), as text:
   * the octets as UTF-8, U+FFFD where they are not UTF-8 (both directions).
   */
  headers?: Array<[string, string]>;
  /** SETTINGS: [identifier, value] in order. */
  settings?: Array<[number, number]>;
  /** WINDOW_UPDATE. */
  increment?: number;
  /** RST_STREAM, GOAWAY. */
  errorCode?: number;
  /** GOAWAY. */
  lastStreamId?: number;
  /** GOAWAY debug data. */
  debugData?: Uint8Array;
  /** PING opaque data. */
  opaque?: Uint8Array;
  /** PUSH_PROMISE. */
  promisedStreamId?: number;
  /** RST_STREAM and GOAWAY we send: why, in words. */
  reason?: string;
}

export type FrameObserver = (event: FrameEvent) => void;

/** The names of the flags a frame type defines that are set, in nghttp2's order: END_STREAM, END_HEADERS, PADDED, PRIORITY (ACK for SETTINGS and PING). */
export function flagNames(type: number, flags: number): string[] {
  const names: string[] = [];
  if (type === FrameType.SETTINGS || type === FrameType.PING) {
    if (flags & Flag.ACK) names.push('ACK');
    return names;
  }
  if (flags & Flag.END_STREAM && (type === FrameType.DATA || type === FrameType.HEADERS)) names.push('END_STREAM');
  if (flags & Flag.END_HEADERS && (type === FrameType.HEADERS || type === FrameType.PUSH_PROMISE || type === FrameType.CONTINUATION)) names.push('END_HEADERS');
  if (flags & Flag.PADDED && (type === FrameType.DATA || type === FrameType.HEADERS || type === FrameType.PUSH_PROMISE)) names.push('PADDED');
  if (flags & Flag.PRIORITY && type === FrameType.HEADERS) names.push('PRIORITY');
  return names;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * One line per frame, e.g.
 * `[id=1] recv HEADERS frame <length=30, flags=0x05, stream_id=1> END_STREAM|END_HEADERS; :method: GET, :path: /`.
 */
export function formatFrameEvent(e: FrameEvent): string {
  const head = `[id=${e.connectionId}] ${e.direction} ${frameTypeName(e.type)} frame <length=${e.length}, flags=0x${e.flags
    .toString(16)
    .padStart(2, '0')}, stream_id=${e.streamId}>`;
  const parts: string[] = [];
  const flags = flagNames(e.type, e.flags);
  if (flags.length) parts.push(flags.join('|'));
  if (e.padLength) parts.push(`padlen=${e.padLength}`);
  if (e.priority) parts.push(`dep_stream_id=${e.priority.dependency}, weight=${e.priority.weight}, exclusive=${e.priority.exclusive ? 1 : 0}`);
  if (e.promisedStreamId !== undefined) parts.push(`promised_stream_id=${e.promisedStreamId}`);
  if (e.settings)
    parts.push(`niv=${e.settings.length}${e.settings.map(([id, v]) => ` [${settingName(id)}(0x${id.toString(16).padStart(2, '0')}):${v}]`).join('')}`);
  if (e.increment !== undefined) parts.push(`window_size_increment=${e.increment}`);
  if (e.lastStreamId !== undefined) parts.push(`last_stream_id=${e.lastStreamId}`);
  if (e.errorCode !== undefined) parts.push(`error_code=${errorCodeName(e.errorCode)}(0x${e.errorCode.toString(16).padStart(2, '0')})`);
  if (e.debugData?.length) parts.push(`opaque_data=${hex(e.debugData)}`);
  if (e.opaque) parts.push(`opaque_data=${hex(e.opaque)}`);
  if (e.headers) parts.push(e.headers.map(([n, v]) => `${n}: ${v}`).join(', '));
  return parts.length ? `${head} ${parts.join('; ')}` : head;
}
