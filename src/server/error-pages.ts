/**
 * The small HTML bodies of error responses. They are built once per server
 * (status, optional signature) and, with nghttpd's -e/--error-gzip, also
 * kept gzip-compressed.
 */
import { gzipSync } from 'node:zlib';
import { reasonPhrase } from '../h2/reason-phrases.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * `<title>` and `<h1>` carry "404 Not Found"; the signature (e.g. the
 * server name and port, as nghttpd prints) goes in an `<address>` when given.
 */
export function errorPageHtml(status: number, signature?: string): string {
  // Reason phrases (RFC 9110 §15): src/h2/reason-phrases.ts, the table the whole project uses.
  const title = `${status} ${reasonPhrase(status) ?? 'Error'}`;
  const address = signature === undefined || signature === '' ? '' : `<hr><address>${escapeHtml(signature)}</address>`;
  return `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1>${address}</body></html>`;
}

/** The page as UTF-8 bytes, and gzip-compressed when asked. */
export function errorPageBytes(status: number, signature: string | undefined, gzip: boolean): Uint8Array {
  const plain = new TextEncoder().encode(errorPageHtml(status, signature));
  return gzip ? new Uint8Array(gzipSync(plain)) : plain;
}
