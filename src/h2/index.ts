/**
 * h2kit/h2: HTTP/2 (RFC 9113) on Node.js, both ends of the wire. Only what
 * is exported here is the API; the engine's parts (endpoint, reader,
 * writer, scheduler...) stay inside.
 */
export { connect, ClientSession, type ConnectOptions, type RequestOptions, type SessionTimings } from './client.js';
export { ClientResponse } from './client-stream.js';
export type { PushPromise } from './client-connection.js';
export { ErrorCode, errorCodeName, H2Error, Http2Error, type ErrorCodeName, type LocalErrorCode } from './errors.js';
export { createServer, createSecureServer, Http2Server, type ServerOptions, type CloseOptions, type RequestHandler } from './server.js';
export {
  ServerStream,
  type BodyProducer,
  type ResponseBody,
  type RespondOptions,
  type PushOptions,
  type StreamEvents,
} from './server-stream.js';
export type { BodyInit, TrailersInit } from './body.js';
export type { FieldValue, HeaderList, HeadersInit } from './response.js';
export {
  ServerConnection,
  ServerConnection as Connection,
  PREFACE_GRACE,
  type ConnectionOptions,
  type UpgradeInfo,
} from './server-connection.js';
export type { ConnectionCloseInfo, ConnectionStats, EndpointOptions, Transport } from './endpoint.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
export { DEFAULT_SETTINGS, type LocalSettings } from './settings.js';
export { flagNames, formatFrameEvent, type FrameEvent, type FrameObserver } from './observer.js';
export { FrameLines, hexdump, NO_PAINT, type Paint } from './frame-lines.js';
// The frame codec: one parser and one serializer per frame type (RFC 9113 §4, §6).
export {
  CONNECTION_PREFACE,
  DEFAULT_HEADER_TABLE_SIZE,
  DEFAULT_INITIAL_WINDOW_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  Flag,
  FRAME_HEADER_LENGTH,
  FrameType,
  frameTypeName,
  MAX_MAX_FRAME_SIZE,
  MAX_WINDOW_SIZE,
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
  SettingId,
  settingName,
  type ContinuationFrame,
  type DataFrame,
  type Frame,
  type FrameBase,
  type FrameHeader,
  type FrameTypeName,
  type GoawayFrame,
  type HeadersFrame,
  type PingFrame,
  type PriorityFields,
  type PriorityFrame,
  type PushPromiseFrame,
  type RstStreamFrame,
  type SettingsFrame,
  type UnknownFrame,
  type WindowUpdateFrame,
} from './frame.js';
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
// The stream states of §5.1, as a table.
export { StreamState, StreamEvent, transition, stateName, eventName, type Transition } from './stream.js';
export { validateRequest, validateResponse, validateTrailers, type RequestHead, type ResponseHead } from './request.js';
