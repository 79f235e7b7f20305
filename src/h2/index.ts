/**
 * h2kit/h2: the server side of HTTP/2 (RFC 9113) on Node.js.
 */
export { createServer, Http2Server, type ServerOptions, type CloseOptions, type RequestHandler } from './server.js';
export {
  ServerStream,
  type BodyProducer,
  type ResponseBody,
  type RespondOptions,
  type PushOptions,
} from './server-stream.js';
export type { HeaderList, HeadersInit } from './response.js';
export { Connection, type ConnectionOptions, type ConnectionCloseInfo, type Transport, type UpgradeInfo } from './connection.js';
export { DEFAULT_LIMITS, DEFAULT_SETTINGS, type Limits, type LocalSettings } from './limits.js';
export { flagNames, formatFrameEvent, type FrameEvent, type FrameObserver } from './observer.js';
export * from './frame.js';
export { StreamState, StreamEvent, transition, stateName, eventName, type Transition } from './stream.js';
export { validateRequest, validateTrailers, type RequestHead } from './request.js';
