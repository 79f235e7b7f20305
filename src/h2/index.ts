/**
 * h2kit/h2: HTTP/2 (RFC 9113) on Node.js, both ends of the wire.
 */
export { connect, ClientSession, type ConnectOptions, type RequestOptions, type SessionTimings } from './client.js';
export { ClientResponse, type ExchangeListener } from './client-stream.js';
export { ClientConnection, type ClientConnectionOptions, type PendingRequest, type PushPromise } from './client-connection.js';
export { Http2Error, type LocalErrorCode } from './errors.js';
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
export type { HeaderList, HeadersInit } from './response.js';
export {
  ServerConnection,
  ServerConnection as Connection,
  PREFACE_GRACE,
  type ConnectionOptions,
  type UpgradeInfo,
} from './server-connection.js';
export { Phase, type ConnectionCloseInfo, type Transport, type EndpointOptions, type StreamEnd } from './endpoint.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
export { DEFAULT_SETTINGS, type LocalSettings } from './settings.js';
export { flagNames, formatFrameEvent, type FrameEvent, type FrameObserver } from './observer.js';
export { FrameLines, hexdump, INDENT, NO_PAINT, type Paint } from './frame-lines.js';
export * from './frame.js';
export {
  FrameWriter,
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
export { FrameReader, type FrameSink } from './frame-reader.js';
export { FieldBlock, FieldSectionReader } from './field-section.js';
export { StreamState, StreamEvent, transition, stateName, eventName, type Transition } from './stream.js';
export { validateRequest, validateResponse, validateTrailers, type RequestHead, type ResponseHead } from './request.js';
