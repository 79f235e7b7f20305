/**
 * The text of an HTTP/1.x response head and trailer section (RFC 9112),
 * read strictly: the status line, field lines (no obs-fold, no bare CR or
 * LF, no NUL, token names lowercased), and the framing they set
 * (Content-Length, chunked, or the connection's close) with whether the
 * connection may carry another exchange. Anything else throws a
 * ResponseError saying what. Values are octet strings (one char per octet).
 * The connection that reads the octets is backend-http1.ts.
 */
import { isAscii } from 'node:buffer';
import type { Fields } from './headers.js';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: |$)/;
const CHUNK_SIZE = /^0*([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/;

/** ResponseHead.length for chunked content. */
export const CHUNKED = -1;
/** ResponseHead.length for content that runs to the connection's close. */
export const UNTIL_CLOSE = -2;

/** A response head as parsed. */
export interface ResponseHead {
  status: number;
  fields: Fields;
  /** Some field value has octets over 0x7f. */
  nonAscii: boolean;
  /** The content's length, or CHUNKED or UNTIL_CLOSE (for a response that has content). */
  length: number;
  /** The connection may carry another exchange after this message (its version and Connection say so). */
  keepAlive: boolean;
  /** The content's framing ends the connection's use, content or not being read (only for a response with content). */
  framingCloses: boolean;
}

/**
 * Field names as received -> lowercase, for names seen before (bounded).
 * What is kept is a copy: a substring of the head would keep the whole head
 * alive for as long as the process runs.
 */
const names = new Map<string, string>();
const NAME_CACHE_SIZE = 1024;
const NAME_CACHE_LONGEST = 64;
function lowerName(raw: string): string | null {
  const known = names.get(raw);
  if (known !== undefined) return known;
  if (!TOKEN.test(raw)) return null;
  const lower = flat(raw.toLowerCase());
  if (names.size < NAME_CACHE_SIZE && raw.length <= NAME_CACHE_LONGEST) names.set(lower === raw ? lower : flat(raw), lower);
  return lower;
}

/** A copy of `s` that refers to no other string. */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/**
 * Values of a header section larger than this are made from the octets, not
 * as substrings of the section's text: a value kept for long (in a frontend's
 * HPACK table) then keeps only itself alive, not the whole section.
 */
const SUBSTRINGS_UP_TO = 1024;

/** What makes a response unusable: the message says why (the proxy answers 502 with it in its log). */
export class ResponseError extends Error {}

/**
 * Field lines (between `from` and the end) as fields; throws ResponseError
 * for anything that is not a field line, and for a bare CR or LF or a NUL
 * anywhere (each line must end in CRLF; the last one has no terminator).
 */
function parseFieldLines(text: string, from: number, src: Buffer | null, srcStart: number): Fields {
  const out: Fields = [];
  const n = text.length;
  if (text.indexOf('\0', from) >= 0) throw new ResponseError('a NUL in the header section');
  let i = from;
  while (i < n) {
    let eol = text.indexOf('\n', i);
    if (eol < 0) eol = n;
    else if (text.charCodeAt(eol - 1) !== 0x0d) throw new ResponseError('a bare LF in the header section');
    else eol--;
    const cr = text.indexOf('\r', i);
    if (cr >= 0 && cr < eol) throw new ResponseError('a bare CR in the header section');
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09) throw new ResponseError('obsolete line folding in a header field');
    const colon = text.indexOf(':', i);
    if (colon < 0 || colon > eol) throw new ResponseError(`a header line without a colon: ${JSON.stringify(text.slice(i, Math.min(eol, i + 40)))}`);
    const name = lowerName(text.slice(i, colon));
    if (name === null) throw new ResponseError(`an invalid header field name: ${JSON.stringify(text.slice(i, colon).slice(0, 40))}`);
    let a = colon + 1;
    let b = eol;
    while (a < b && (text.charCodeAt(a) === 0x20 || text.charCodeAt(a) === 0x09)) a++;
    while (b > a && (text.charCodeAt(b - 1) === 0x20 || text.charCodeAt(b - 1) === 0x09)) b--;
    out.push([name, src === null ? text.slice(a, b) : src.toString('latin1', srcStart + a, srcStart + b)]);
    i = eol + 2;
  }
  return out;
}

/** A Content-Length value (a list of equal lengths is taken: RFC 9110 §8.6); throws for anything else. */
function contentLength(value: string): number {
  let n = 0;
  let digits = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9 || ++digits > 15) {
      digits = -1;
      break;
    }
    n = n * 10 + c;
  }
  if (digits > 0) return n;
  let length = -1;
  for (const part of value.split(',')) {
    const v = part.trim();
    if (!/^\d{1,15}$/.test(v)) throw new ResponseError(`an invalid Content-Length ${JSON.stringify(value.slice(0, 40))}`);
    const k = Number(v);
    if (length >= 0 && k !== length) throw new ResponseError(`two different Content-Lengths (${length} and ${k})`);
    length = k;
  }
  return length;
}

/** Does a comma-separated field value list `token` (case-insensitively)? */
function listHas(value: string, token: string): boolean {
  if (value.length === token.length) return value.toLowerCase() === token;
  for (const t of value.split(',')) if (t.trim().toLowerCase() === token) return true;
  return false;
}

/**
 * The head in `text`, whose octets are src[srcStart..]: status, fields and
 * framing; throws ResponseError for anything unusable.
 */
export function parseHead(text: string, src: Buffer, srcStart: number): ResponseHead {
  const sl = text.indexOf('\r\n');
  const statusLine = sl < 0 ? text : text.slice(0, sl);
  const m = STATUS_LINE.exec(statusLine);
  if (m === null) throw new ResponseError(`not an HTTP/1.x status line: ${JSON.stringify(statusLine.slice(0, 60))}`);
  if (/[\0\r\n]/.test(statusLine)) throw new ResponseError('a bare CR or LF, or a NUL, in the status line');
  const status = Number(m[2]);
  if (status < 100) throw new ResponseError(`status ${m[2]} is not a status code (100 to 999)`);
  const fields = sl < 0 ? [] : parseFieldLines(text, sl + 2, text.length > SUBSTRINGS_UP_TO ? src : null, srcStart);
  const nonAscii = !isAscii(src.subarray(srcStart, srcStart + text.length));
  const http10 = m[1] === '0';
  let length = -1;
  let chunked = false;
  let te = false;
  let keepAlive = !http10;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const name = f[0];
    if (name === 'content-length') {
      const n = contentLength(f[1]);
      if (length >= 0 && n !== length) throw new ResponseError(`two different Content-Lengths (${length} and ${n})`);
      length = n;
    } else if (name === 'transfer-encoding') {
      te = true;
      const codings = f[1].toLowerCase().split(',');
      chunked = codings[codings.length - 1]!.trim() === 'chunked';
    } else if (name === 'connection') {
      if (listHas(f[1], 'close')) keepAlive = false;
      else if (http10 && listHas(f[1], 'keep-alive')) keepAlive = true;
    }
  }
  if (te) {
    // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3); the connection is not reused after such a
    // message, nor after Transfer-Encoding in an HTTP/1.0 message (§6.1: faulty framing).
    const framingCloses = length >= 0 || http10 || !chunked;
    return { status, fields, nonAscii, length: chunked ? CHUNKED : UNTIL_CLOSE, keepAlive, framingCloses };
  }
  if (length < 0) return { status, fields, nonAscii, length: UNTIL_CLOSE, keepAlive, framingCloses: true };
  return { status, fields, nonAscii, length, keepAlive, framingCloses: false };
}

/**
 * A trailer section's text, seeded with the CRLF that ended the last chunk's
 * line (so '' is an empty section): its fields, or null when there are none.
 */
export function parseTrailers(text: string, src: Buffer, srcStart: number): Fields | null {
  if (text === '') return null;
  return parseFieldLines(text, 2, text.length > SUBSTRINGS_UP_TO ? src : null, srcStart);
}

/** The size of a chunk-size line (extensions ignored), or -1 when it is not one. */
export function chunkSize(line: string): number {
  const m = CHUNK_SIZE.exec(line);
  return m === null ? -1 : Number.parseInt(m[1]!, 16);
}
