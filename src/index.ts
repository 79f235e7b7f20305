/** h2kit: HTTP/2 toolkit. */
export * from './hpack/index.js';
