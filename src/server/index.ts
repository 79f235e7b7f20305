/**
 * h2kit server pieces that do not depend on the HTTP/2 engine: the static
 * file layer of h2serve and its helpers.
 */

export { errorPageHtml } from './error-pages.js';
export { FileChangedError, FileProducer, FileRangeReader, type ProducerHost, ReadAhead } from './file-body.js';
export { formatHttpDate, parseHttpDate } from './http-date.js';
export {
  BUILTIN_MIME_TYPES,
  contentTypeFor,
  DEFAULT_MIME_TYPES_FILE,
  extensionOf,
  type MimeTable,
  parseMimeTypes,
  readMimeTypesFile,
} from './mime.js';
export { type NormalisedPath, normaliseRequestPath, type RejectedPath } from './request-path.js';
export { type SelfSigned, selfSignedCertificate } from './self-signed.js';
export {
  ABANDONED,
  type BytesBody,
  type FileBody,
  type HeaderList,
  type NoBody,
  releaseBody,
  type StaticBody,
  StaticFiles,
  StaticFilesError,
  type StaticFilesErrorCode,
  type StaticFilesOptions,
  type StaticFs,
  type StaticRequest,
  type StaticResponse,
} from './static.js';
