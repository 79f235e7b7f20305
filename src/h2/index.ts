/**
 * h2kit/h2: HTTP/2 (RFC 9113) on Node.js, both ends of the wire. Only what
 * is exported here is the API; the engine's parts (endpoint, reader,
 * writer, scheduler...) stay inside.
 */

export type { BodyInit, TrailersInit } from './body.js';
export { ClientSession, type ConnectOptions, connect, type RequestOptions, type SessionTimings } from './client.js';
export type { PushPromise } from './client-connection.js';
export { ClientResponse } from './client-stream.js';
export type { ConnectionCloseInfo, ConnectionStats, EndpointOptions, Transport } from './endpoint.js';
export { ErrorCode, type ErrorCodeName, errorCodeName, H2Error, Http2Error, type LocalErrorCode } from './errors.js';
// The frame codec: one parser and one serializer per frame type (RFC 9113 §4, §6).
export {
  CONNECTION_PREFACE,
  type ContinuationFrame,
  type DataFrame,
  DEFAULT_HEADER_TABLE_SIZE,
  DEFAULT_INITIAL_WINDOW_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  Flag,
  FRAME_HEADER_LENGTH,
  type Frame,
  type FrameBase,
  type FrameHeader,
  FrameType,
  type FrameTypeName,
  frameTypeName,
  type GoawayFrame,
  type HeadersFrame,
  MAX_MAX_FRAME_SIZE,
  MAX_WINDOW_SIZE,
  type PingFrame,
  type PriorityFields,
  type PriorityFrame,
  type PushPromiseFrame,
  parseContinuation,
  parseData,
  parseFrame,
  parseFrameHeader,
  parseGoaway,
  parseHeaders,
  parsePing,
  parsePriority,
  parsePushPromise,
  parseRstStream,
  parseSettings,
  parseWindowUpdate,
  type RstStreamFrame,
  SettingId,
  type SettingsFrame,
  settingName,
  type UnknownFrame,
  type WindowUpdateFrame,
} from './frame.js';
export { FrameLines, hexdump, NO_PAINT, type Paint } from './frame-lines.js';
export {
  encodeContinuation,
  encodeData,
  encodeFrame,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodePriority,
  encodePushPromise,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
} from './frame-writer.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
export { type FrameEvent, type FrameObserver, flagNames, formatFrameEvent } from './observer.js';
export { type RequestHead, type ResponseHead, validateRequest, validateResponse, validateTrailers } from './request.js';
export type { FieldValue, HeaderList, HeadersInit } from './response.js';
export { type CloseOptions, createSecureServer, createServer, Http2Server, type RequestHandler, type ServerOptions } from './server.js';
export {
  type ConnectionOptions,
  PREFACE_GRACE,
  ServerConnection,
  ServerConnection as Connection,
  type UpgradeInfo,
} from './server-connection.js';
export {
  type BodyProducer,
  type PushOptions,
  type RespondOptions,
  type ResponseBody,
  ServerStream,
  type StreamEvents,
} from './server-stream.js';
export { DEFAULT_SETTINGS, type LocalSettings } from './settings.js';
// The stream states of §5.1, as a table.
export { eventName, StreamEvent, StreamState, stateName, type Transition, transition } from './stream.js';
