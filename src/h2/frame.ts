/**
 * HTTP/2 frame codec (RFC 9113 §4, §6): the 9-octet frame header, one parser
 * and one serializer per frame type, and the validation each type requires.
 *
 * Parsers take a frame header and its payload and return a typed frame or an
 * H2Error naming the RFC error code and whether it is a stream or a
 * connection error (§5.4). Checks that need connection state (stream states,
 * flow-control windows, header-block sequencing) live in endpoint.ts and
 * field-section.ts.
 *
 * No node: imports: the codec is plain Uint8Array code.
 */
import { ErrorCode, H2Error } from './errors.js';

// The error codes and the protocol error value live with the API's errors; the codec names them too.
export { ErrorCode, type ErrorCodeName, errorCodeName, H2Error } from './errors.js';

/** Frame types (RFC 9113 §6; the registry of §11.2). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;
export type FrameTypeName = keyof typeof FrameType;

/** Frame flags (RFC 9113 §6). ACK and END_STREAM share bit 0x1. */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Setting identifiers (RFC 9113 §6.5.2, RFC 9218 §2.1). */
export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  NO_RFC7540_PRIORITIES: 0x9,
} as const;

export const FRAME_HEADER_LENGTH = 9;
/** SETTINGS_MAX_FRAME_SIZE bounds (§6.5.2) and the initial value. */
export const DEFAULT_MAX_FRAME_SIZE = 16384;
export const MAX_MAX_FRAME_SIZE = 16777215;
/** Flow-control windows (§6.9.1, §6.9.2). */
export const DEFAULT_INITIAL_WINDOW_SIZE = 65535;
export const MAX_WINDOW_SIZE = 0x7fffffff;
/** SETTINGS_HEADER_TABLE_SIZE's initial value: HPACK's (RFC 7541 §4.2). */
export { DEFAULT_HEADER_TABLE_SIZE } from '../hpack/types.js';

/** The client connection preface (§3.4). */
export const CONNECTION_PREFACE = new Uint8Array([
  0x50, 0x52, 0x49, 0x20, 0x2a, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x53, 0x4d, 0x0d, 0x0a, 0x0d, 0x0a,
]); // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

const TYPE_NAMES: readonly string[] = Object.keys(FrameType);
const SETTING_NAMES = new Map<number, string>(Object.entries(SettingId).map(([k, v]) => [v, k]));

/** "DATA", "HEADERS", ... or "UNKNOWN(0x..)" for an extension type. */
export function frameTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `UNKNOWN(0x${type.toString(16).padStart(2, '0')})`;
}

/** "SETTINGS_MAX_FRAME_SIZE", ... or "UNKNOWN(0x..)". */
export function settingName(id: number): string {
  const n = SETTING_NAMES.get(id);
  return n ? `SETTINGS_${n}` : `UNKNOWN(0x${id.toString(16).padStart(2, '0')})`;
}

/**
 * Flags each type defines; others "MUST be ignored" on receipt and left
 * unset when sending (§4.1).
 */
export const DEFINED_FLAGS: readonly number[] = [
  Flag.END_STREAM | Flag.PADDED, // DATA
  Flag.END_STREAM | Flag.END_HEADERS | Flag.PADDED | Flag.PRIORITY, // HEADERS
  0, // PRIORITY
  0, // RST_STREAM
  Flag.ACK, // SETTINGS
  Flag.END_HEADERS | Flag.PADDED, // PUSH_PROMISE
  Flag.ACK, // PING
  0, // GOAWAY
  0, // WINDOW_UPDATE
  Flag.END_HEADERS, // CONTINUATION
];

// ---- errors ---------------------------------------------------------------

const connectionError = (code: number, message: string): H2Error => new H2Error('connection', code, message);
const streamError = (code: number, message: string, streamId: number): H2Error => new H2Error('stream', code, message, streamId);

// ---- frame header (§4.1) -----------------------------------------------------

export interface FrameHeader {
  /** Payload length (24 bits). */
  length: number;
  type: number;
  /** The flags as received (unknown bits included); parsers mask them. */
  flags: number;
  /** Stream identifier; the reserved bit is ignored on receipt (§4.1). */
  streamId: number;
}

/** Reads the 9-octet frame header at `offset`. */
export function parseFrameHeader(buf: Uint8Array, offset = 0): FrameHeader {
  return {
    length: (buf[offset]! << 16) | (buf[offset + 1]! << 8) | buf[offset + 2]!,
    type: buf[offset + 3]!,
    flags: buf[offset + 4]!,
    streamId: readUint31(buf, offset + 5),
  };
}

/** Writes a frame header; the reserved bit is left unset (§4.1). Returns the offset after it. */
export function writeFrameHeader(buf: Uint8Array, offset: number, length: number, type: number, flags: number, streamId: number): number {
  buf[offset] = length >>> 16;
  buf[offset + 1] = length >>> 8;
  buf[offset + 2] = length;
  buf[offset + 3] = type;
  buf[offset + 4] = flags;
  writeUint32(buf, offset + 5, streamId & 0x7fffffff);
  return offset + FRAME_HEADER_LENGTH;
}

export function readUint31(buf: Uint8Array, o: number): number {
  return ((buf[o]! & 0x7f) * 0x1000000 + ((buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!)) >>> 0;
}

export function readUint32(buf: Uint8Array, o: number): number {
  return (buf[o]! * 0x1000000 + ((buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!)) >>> 0;
}

export function writeUint32(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v >>> 24;
  buf[o + 1] = v >>> 16;
  buf[o + 2] = v >>> 8;
  buf[o + 3] = v;
}

// ---- frames ---------------------------------------------------------------

/** Priority fields of HEADERS and PRIORITY (RFC 7540 §5.3; deprecated by RFC 9113 §5.3.2). */
export interface PriorityFields {
  exclusive: boolean;
  /** Stream dependency (31 bits). */
  dependency: number;
  /** Weight 1..256 (the octet plus one). */
  weight: number;
}

export interface FrameBase {
  /** Defined flags only. */
  flags: number;
  streamId: number;
  /** Payload length, padding included. */
  length: number;
}
export interface DataFrame extends FrameBase {
  type: typeof FrameType.DATA;
  data: Uint8Array;
  /** Padding octets (0 when not PADDED). */
  padLength: number;
}
export interface HeadersFrame extends FrameBase {
  type: typeof FrameType.HEADERS;
  fragment: Uint8Array;
  padLength: number;
  priority: PriorityFields | null;
}
export interface PriorityFrame extends FrameBase {
  type: typeof FrameType.PRIORITY;
  priority: PriorityFields;
}
export interface RstStreamFrame extends FrameBase {
  type: typeof FrameType.RST_STREAM;
  errorCode: number;
}
export interface SettingsFrame extends FrameBase {
  type: typeof FrameType.SETTINGS;
  ack: boolean;
  /** [identifier, value] in the order received (§6.5.3: processed in order). */
  settings: Array<[number, number]>;
}
export interface PushPromiseFrame extends FrameBase {
  type: typeof FrameType.PUSH_PROMISE;
  promisedStreamId: number;
  fragment: Uint8Array;
  padLength: number;
}
export interface PingFrame extends FrameBase {
  type: typeof FrameType.PING;
  ack: boolean;
  /** The 8 octets of opaque data. */
  opaque: Uint8Array;
}
export interface GoawayFrame extends FrameBase {
  type: typeof FrameType.GOAWAY;
  lastStreamId: number;
  errorCode: number;
  debugData: Uint8Array;
}
export interface WindowUpdateFrame extends FrameBase {
  type: typeof FrameType.WINDOW_UPDATE;
  /** Window size increment (31 bits). */
  increment: number;
}
export interface ContinuationFrame extends FrameBase {
  type: typeof FrameType.CONTINUATION;
  fragment: Uint8Array;
}
/** A frame of a type this codec does not know; it is ignored (§4.1, §5.5). */
export interface UnknownFrame extends FrameBase {
  type: number;
  unknown: true;
  payload: Uint8Array;
}

export type Frame =
  | DataFrame
  | HeadersFrame
  | PriorityFrame
  | RstStreamFrame
  | SettingsFrame
  | PushPromiseFrame
  | PingFrame
  | GoawayFrame
  | WindowUpdateFrame
  | ContinuationFrame
  | UnknownFrame;

// ---- parsers --------------------------------------------------------------
// Each takes the header and exactly `header.length` payload octets.

/** Strips padding (§6.1, §6.2, §6.6): returns [start, end) of the content or an error. */
function unpad(h: FrameHeader, p: Uint8Array, fixed: number): number | H2Error {
  if ((h.flags & Flag.PADDED) === 0) return 0;
  if (p.length < 1 + fixed) {
    // §4.2: too small to contain mandatory frame data; it carries connection state.
    return connectionError(ErrorCode.FRAME_SIZE_ERROR, `${frameTypeName(h.type)} frame too short for its Pad Length field`);
  }
  const pad = p[0]!;
  if (pad > p.length - 1 - fixed) {
    // §6.1: padding the length of the payload or more; §6.2, §6.6: padding beyond the fragment.
    return connectionError(ErrorCode.PROTOCOL_ERROR, `${frameTypeName(h.type)} frame Pad Length ${pad} exceeds the payload (${p.length} octets)`);
  }
  return pad;
}

function readPriority(p: Uint8Array, o: number): PriorityFields {
  return { exclusive: (p[o]! & 0x80) !== 0, dependency: readUint31(p, o), weight: p[o + 4]! + 1 };
}

/** DATA (§6.1). */
export function parseData(h: FrameHeader, p: Uint8Array): DataFrame | H2Error {
  if (h.streamId === 0) return connectionError(ErrorCode.PROTOCOL_ERROR, 'DATA frame on stream 0');
  const pad = unpad(h, p, 0);
  if (typeof pad !== 'number') return pad;
  const start = pad === 0 && (h.flags & Flag.PADDED) === 0 ? 0 : 1;
  return {
    type: FrameType.DATA,
    flags: h.flags & DEFINED_FLAGS[FrameType.DATA]!,
    streamId: h.streamId,
    length: h.length,
    data: start === 0 && pad === 0 ? p : p.subarray(start, p.length - pad),
    padLength: pad,
  };
}

/** HEADERS (§6.2). A self-dependency is a stream error (RFC 7540 §5.3.1). */
export function parseHeaders(h: FrameHeader, p: Uint8Array): HeadersFrame | H2Error {
  if (h.streamId === 0) return connectionError(ErrorCode.PROTOCOL_ERROR, 'HEADERS frame on stream 0');
  const hasPriority = (h.flags & Flag.PRIORITY) !== 0;
  const fixed = hasPriority ? 5 : 0;
  const pad = unpad(h, p, fixed);
  if (typeof pad !== 'number') return pad;
  let o = (h.flags & Flag.PADDED) !== 0 ? 1 : 0;
  if (p.length < o + fixed) {
    return connectionError(ErrorCode.FRAME_SIZE_ERROR, 'HEADERS frame too short for its priority fields');
  }
  let priority: PriorityFields | null = null;
  if (hasPriority) {
    priority = readPriority(p, o);
    o += 5;
  }
  return {
    type: FrameType.HEADERS,
    flags: h.flags & DEFINED_FLAGS[FrameType.HEADERS]!,
    streamId: h.streamId,
    length: h.length,
    fragment: o === 0 && pad === 0 ? p : p.subarray(o, p.length - pad),
    padLength: pad,
    priority,
  };
}

/** PRIORITY (§6.3). */
export function parsePriority(h: FrameHeader, p: Uint8Array): PriorityFrame | H2Error {
  if (h.streamId === 0) return connectionError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY frame on stream 0');
  if (p.length !== 5) {
    return streamError(ErrorCode.FRAME_SIZE_ERROR, `PRIORITY frame of ${p.length} octets (must be 5)`, h.streamId);
  }
  return { type: FrameType.PRIORITY, flags: 0, streamId: h.streamId, length: h.length, priority: readPriority(p, 0) };
}

/** RST_STREAM (§6.4). */
export function parseRstStream(h: FrameHeader, p: Uint8Array): RstStreamFrame | H2Error {
  if (h.streamId === 0) return connectionError(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM frame on stream 0');
  if (p.length !== 4) return connectionError(ErrorCode.FRAME_SIZE_ERROR, `RST_STREAM frame of ${p.length} octets (must be 4)`);
  return { type: FrameType.RST_STREAM, flags: 0, streamId: h.streamId, length: h.length, errorCode: readUint32(p, 0) };
}

/**
 * SETTINGS (§6.5), with the value checks of §6.5.2. Unknown identifiers are
 * kept in the list (the observer shows them); the connection ignores them.
 */
export function parseSettings(h: FrameHeader, p: Uint8Array): SettingsFrame | H2Error {
  if (h.streamId !== 0) return connectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS frame on stream ${h.streamId}`);
  const ack = (h.flags & Flag.ACK) !== 0;
  if (ack && p.length !== 0) return connectionError(ErrorCode.FRAME_SIZE_ERROR, `SETTINGS ACK with a payload of ${p.length} octets`);
  if (p.length % 6 !== 0) return connectionError(ErrorCode.FRAME_SIZE_ERROR, `SETTINGS payload of ${p.length} octets is not a multiple of 6`);
  const settings: Array<[number, number]> = [];
  for (let o = 0; o < p.length; o += 6) {
    const id = (p[o]! << 8) | p[o + 1]!;
    const value = readUint32(p, o + 2);
    const bad = checkSetting(id, value);
    if (bad) return bad;
    settings.push([id, value]);
  }
  return { type: FrameType.SETTINGS, flags: ack ? Flag.ACK : 0, streamId: 0, length: h.length, ack, settings };
}

/** The per-setting rules of §6.5.2 (and RFC 9218 §2.1). */
export function checkSetting(id: number, value: number): H2Error | null {
  switch (id) {
    case SettingId.ENABLE_PUSH:
      return value > 1 ? connectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value} (must be 0 or 1)`) : null;
    case SettingId.INITIAL_WINDOW_SIZE:
      return value > MAX_WINDOW_SIZE ? connectionError(ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value} above 2^31-1`) : null;
    case SettingId.MAX_FRAME_SIZE:
      return value < DEFAULT_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE
        ? connectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value} outside 16384..16777215`)
        : null;
    case SettingId.NO_RFC7540_PRIORITIES:
      return value > 1 ? connectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_NO_RFC7540_PRIORITIES ${value} (must be 0 or 1)`) : null;
    default:
      return null;
  }
}

/** PUSH_PROMISE (§6.6). A server treats any as a connection error (§8.4); the parser still checks the form. */
export function parsePushPromise(h: FrameHeader, p: Uint8Array): PushPromiseFrame | H2Error {
  if (h.streamId === 0) return connectionError(ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE frame on stream 0');
  const pad = unpad(h, p, 4);
  if (typeof pad !== 'number') return pad;
  const o = (h.flags & Flag.PADDED) !== 0 ? 1 : 0;
  if (p.length < o + 4) return connectionError(ErrorCode.FRAME_SIZE_ERROR, 'PUSH_PROMISE frame too short for its Promised Stream ID');
  return {
    type: FrameType.PUSH_PROMISE,
    flags: h.flags & DEFINED_FLAGS[FrameType.PUSH_PROMISE]!,
    streamId: h.streamId,
    length: h.length,
    promisedStreamId: readUint31(p, o),
    fragment: p.subarray(o + 4, p.length - pad),
    padLength: pad,
  };
}

/** PING (§6.7). */
export function parsePing(h: FrameHeader, p: Uint8Array): PingFrame | H2Error {
  if (h.streamId !== 0) return connectionError(ErrorCode.PROTOCOL_ERROR, `PING frame on stream ${h.streamId}`);
  if (p.length !== 8) return connectionError(ErrorCode.FRAME_SIZE_ERROR, `PING frame of ${p.length} octets (must be 8)`);
  const ack = (h.flags & Flag.ACK) !== 0;
  return { type: FrameType.PING, flags: ack ? Flag.ACK : 0, streamId: 0, length: 8, ack, opaque: p };
}

/** GOAWAY (§6.8). */
export function parseGoaway(h: FrameHeader, p: Uint8Array): GoawayFrame | H2Error {
  if (h.streamId !== 0) return connectionError(ErrorCode.PROTOCOL_ERROR, `GOAWAY frame on stream ${h.streamId}`);
  if (p.length < 8) return connectionError(ErrorCode.FRAME_SIZE_ERROR, `GOAWAY frame of ${p.length} octets (at least 8)`);
  return {
    type: FrameType.GOAWAY,
    flags: 0,
    streamId: 0,
    length: h.length,
    lastStreamId: readUint31(p, 0),
    errorCode: readUint32(p, 4),
    debugData: p.subarray(8),
  };
}

/** WINDOW_UPDATE (§6.9). A zero increment is a stream error, or a connection error on stream 0. */
export function parseWindowUpdate(h: FrameHeader, p: Uint8Array): WindowUpdateFrame | H2Error {
  if (p.length !== 4) return connectionError(ErrorCode.FRAME_SIZE_ERROR, `WINDOW_UPDATE frame of ${p.length} octets (must be 4)`);
  const increment = readUint31(p, 0);
  if (increment === 0) {
    return h.streamId === 0
      ? connectionError(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE with an increment of 0 on the connection')
      : streamError(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE with an increment of 0', h.streamId);
  }
  return { type: FrameType.WINDOW_UPDATE, flags: 0, streamId: h.streamId, length: 4, increment };
}

/** CONTINUATION (§6.10); whether one is expected is the connection's business. */
export function parseContinuation(h: FrameHeader, p: Uint8Array): ContinuationFrame | H2Error {
  if (h.streamId === 0) return connectionError(ErrorCode.PROTOCOL_ERROR, 'CONTINUATION frame on stream 0');
  return {
    type: FrameType.CONTINUATION,
    flags: h.flags & Flag.END_HEADERS,
    streamId: h.streamId,
    length: h.length,
    fragment: p,
  };
}

/** Parses any frame; unknown types become UnknownFrame (to be ignored, §4.1). */
export function parseFrame(h: FrameHeader, p: Uint8Array): Frame | H2Error {
  switch (h.type) {
    case FrameType.DATA:
      return parseData(h, p);
    case FrameType.HEADERS:
      return parseHeaders(h, p);
    case FrameType.PRIORITY:
      return parsePriority(h, p);
    case FrameType.RST_STREAM:
      return parseRstStream(h, p);
    case FrameType.SETTINGS:
      return parseSettings(h, p);
    case FrameType.PUSH_PROMISE:
      return parsePushPromise(h, p);
    case FrameType.PING:
      return parsePing(h, p);
    case FrameType.GOAWAY:
      return parseGoaway(h, p);
    case FrameType.WINDOW_UPDATE:
      return parseWindowUpdate(h, p);
    case FrameType.CONTINUATION:
      return parseContinuation(h, p);
    default:
      return { type: h.type, flags: h.flags, streamId: h.streamId, length: h.length, unknown: true, payload: p };
  }
}
