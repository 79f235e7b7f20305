/**
 * The small HTML bodies of error responses. They are built once per server
 * (status, optional signature) and, with nghttpd's -e/--error-gzip, also
 * kept gzip-compressed.
 */
import { gzipSync } from 'node:zlib';

/** Reason phrases (RFC 9110 §15) for the statuses the static layer produces. */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  200: 'OK',
  206: 'Partial Content',
  301: 'Moved Permanently',
  304: 'Not Modified',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  412: 'Precondition Failed',
  416: 'Range Not Satisfiable',
  500: 'Internal Server Error',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * `<title>` and `<h1>` carry "404 Not Found"; the signature (e.g. the
 * server name and port, as nghttpd prints) goes in an `<address>` when given.
 */
export function errorPageHtml(status: number, signature?: string): string {
  const title = `${status} ${REASON_PHRASES[status] ?? 'Error'}`;
  const address = signature === undefined || signature === '' ? '' : `<hr><address>${escapeHtml(signature)}</address>`;
  return `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1>${address}</body></html>`;
}

/** The page as UTF-8 bytes, and gzip-compressed when asked. */
export function errorPageBytes(status: number, signature: string | undefined, gzip: boolean): Uint8Array {
  const plain = new TextEncoder().encode(errorPageHtml(status, signature));
  return gzip ? new Uint8Array(gzipSync(plain)) : plain;
}
