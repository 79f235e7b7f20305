/** h2kit: HTTP/2 toolkit. */

/** The HTTP/2 server engine (RFC 9113): `h2.createServer(...)`. */
export * as h2 from './h2/index.js';
export * from './hpack/index.js';
