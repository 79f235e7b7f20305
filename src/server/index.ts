/**
 * h2kit server pieces that do not depend on the HTTP/2 engine: the static
 * file layer of h2serve and its helpers.
 */
export {
  StaticFiles,
  StaticFilesError,
  ABANDONED,
  releaseBody,
  type StaticFs,
  type StaticFilesErrorCode,
  type StaticFilesOptions,
  type StaticRequest,
  type StaticResponse,
  type StaticBody,
  type NoBody,
  type BytesBody,
  type FileBody,
  type HeaderList,
} from './static.js';
export { FileRangeReader, FileChangedError, FileProducer, ReadAhead, type ProducerHost } from './file-body.js';
export {
  BUILTIN_MIME_TYPES,
  DEFAULT_MIME_TYPES_FILE,
  contentTypeFor,
  extensionOf,
  parseMimeTypes,
  readMimeTypesFile,
  type MimeTable,
} from './mime.js';
export { normaliseRequestPath, type NormalisedPath, type RejectedPath } from './request-path.js';
export { formatHttpDate, parseHttpDate } from './http-date.js';
export { errorPageHtml } from './error-pages.js';
export { selfSignedCertificate, type SelfSigned } from './self-signed.js';
