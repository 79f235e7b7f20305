/**
 * An HTTP/1.1 request that arrives where the HTTP/2 connection preface
 * belongs, on a cleartext (h2c) port: either an upgrade to h2c (RFC 7540
 * §3.2, deprecated by RFC 9113 §3.1 but still sent by curl --http2 and
 * nghttp -u), which turns the request into stream 1, or a plain HTTP/1.x
 * request, which gets a short HTTP/1.1 answer saying how to connect.
 *
 * Pure functions on octets; the connection does the I/O.
 */
import { bytesToOctets } from '../hpack/octets.js';
import { FrameType, H2Error, parseSettings } from './frame.js';
import { reasonPhrase } from './reason-phrases.js';
import { HOP_BY_HOP } from './request.js';

/** The largest HTTP/1.1 request head read before answering 431. */
export const MAX_HTTP1_HEAD = 16 * 1024;

/** A request that upgrades: its HTTP/2 header fields, and the client's settings from HTTP2-Settings. */
export interface H2cUpgrade {
  upgrade: true;
  method: string;
  target: string;
  fields: Array<[string, string]>;
  settings: Array<[number, number]>;
}

/** A request that does not: the HTTP/1.1 status to answer with, and why. */
export interface Http1Refusal {
  upgrade: false;
  status: 400 | 431 | 505;
  reason: string;
}

/**
 * Where the request head ends in `b` (the offset just past its empty line),
 * searching from `from`; -1 when it has not ended yet. Lines end with CRLF,
 * or a bare LF (RFC 9112 §2.2).
 */
export function http1HeadEnd(b: Uint8Array, from = 0): number {
  for (let i = b.indexOf(0x0a, from); i !== -1; i = b.indexOf(0x0a, i + 1)) {
    if (b[i + 1] === 0x0a) return i + 2;
    if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

/**
 * An HTTP/1.x message head arriving in pieces, held up to MAX_HTTP1_HEAD
 * octets: push() octets until it returns the head's end.
 */
export class Http1HeadReader {
  private buf: Uint8Array = new Uint8Array(MAX_HTTP1_HEAD);
  length = 0;
  private scanned = 0;

  /**
   * Adds octets; returns the head and what followed it once the head is
   * complete, 'too-large' when MAX_HTTP1_HEAD octets came without its end,
   * null while it is incomplete.
   */
  push(chunk: Uint8Array): { head: Uint8Array; rest: Uint8Array } | 'too-large' | null {
    const n = Math.min(MAX_HTTP1_HEAD - this.length, chunk.length);
    this.buf.set(chunk.subarray(0, n), this.length);
    this.length += n;
    const all = this.buf.subarray(0, this.length);
    const end = http1HeadEnd(all, Math.max(0, this.scanned - 3));
    if (end === -1) {
      this.scanned = this.length;
      return this.length >= MAX_HTTP1_HEAD ? 'too-large' : null;
    }
    // What follows the head: the rest of this buffer, then the rest of the chunk.
    const extra = chunk.subarray(n);
    const tail = all.subarray(end);
    const rest = new Uint8Array(tail.length + extra.length);
    rest.set(tail);
    rest.set(extra, tail.length);
    return { head: all.subarray(0, end), rest };
  }

  /** The first line so far, when it is complete (without its line end); null before its LF. */
  firstLine(): string | null {
    const lf = this.buf.subarray(0, this.length).indexOf(0x0a);
    if (lf === -1) return null;
    const end = lf > 0 && this.buf[lf - 1] === 0x0d ? lf - 1 : lf;
    return bytesToOctets(this.buf, 0, end);
  }
}

/**
 * True when `line` could be an HTTP/1.x request line (RFC 9112 §3: method
 * SP request-target SP HTTP-version): what tells an HTTP/1.x client that
 * missed the HTTP/2 preface from a peer that sent garbage (RFC 9113 §3.4).
 */
export function isHttp1RequestLine(line: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [^ ]+ HTTP\/\d\.\d$/.test(line);
}

// RFC 9110 §5.6.2: tchar.
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5).
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function tokens(values: string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
}

/**
 * Decides what to do with a complete request head (octets up to and
 * including its empty line, read as Latin-1).
 */
export function parseHttp1Request(head: Uint8Array): H2cUpgrade | Http1Refusal {
  const lines = bytesToOctets(head, 0, head.length)
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const bad = (reason: string): Http1Refusal => ({ upgrade: false, status: 400, reason });

  const requestLine = lines[0] ?? '';
  const parts = requestLine.split(' ');
  if (parts.length !== 3) return bad(`malformed request line "${printable(requestLine)}"`);
  const [method, target, version] = parts as [string, string, string];
  if (!TCHAR.test(method)) return bad(`invalid method "${printable(method)}"`);
  if (!/^HTTP\/\d\.\d$/.test(version)) return bad(`invalid HTTP version "${printable(version)}"`);
  if (target === '' || /[\x00-\x20\x7f]/.test(target)) return bad('invalid request target');

  const fields: Array<[string, string]> = [];
  const byName = new Map<string, string[]>();
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.startsWith(' ') || line.startsWith('\t')) return bad(`line ${n + 1}: obsolete line folding (RFC 9112 §5.2)`);
    const colon = line.indexOf(':');
    if (colon <= 0) return bad(`line ${n + 1}: not a "name: value" field line`);
    const name = line.slice(0, colon);
    if (!TCHAR.test(name)) return bad(`line ${n + 1}: invalid field name "${printable(name)}"`);
    const value = trimOws(line.slice(colon + 1));
    if (!FIELD_VALUE.test(value)) return bad(`line ${n + 1}: invalid octet in the value of ${name}`);
    const lower = name.toLowerCase();
    fields.push([lower, value]);
    const list = byName.get(lower);
    if (list) list.push(value);
    else byName.set(lower, [value]);
  }

  const notHttp2 = (reason: string): Http1Refusal => ({ upgrade: false, status: 505, reason });
  if (version !== 'HTTP/1.1') return notHttp2(`an ${version} request; only an HTTP/1.1 request can upgrade to h2c`);
  if (!tokens(byName.get('upgrade') ?? []).includes('h2c')) return notHttp2('an HTTP/1.1 request without "Upgrade: h2c"');
  const settingsValues = byName.get('http2-settings') ?? [];
  // RFC 7540 §3.2.1: no upgrade without exactly one HTTP2-Settings, which Connection lists.
  if (settingsValues.length !== 1)
    return notHttp2(`"Upgrade: h2c" with ${settingsValues.length} HTTP2-Settings fields (exactly one is needed, RFC 7540 §3.2.1)`);
  const connection = tokens(byName.get('connection') ?? []);
  if (!connection.includes('upgrade') || !connection.includes('http2-settings')) {
    return notHttp2('"Upgrade: h2c" without "Connection: Upgrade, HTTP2-Settings" (RFC 7540 §3.2.1)');
  }
  const hosts = byName.get('host') ?? [];
  if (hosts.length !== 1) return bad(`${hosts.length} Host fields (RFC 9112 §3.2 wants exactly one)`);
  if (byName.has('transfer-encoding')) return notHttp2('an h2c upgrade with a request body (Transfer-Encoding), which this server does not take');
  const lengths = byName.get('content-length') ?? [];
  if (lengths.length > 0) {
    if (lengths.some((v) => !/^\d+$/.test(v)) || new Set(lengths).size > 1) return bad('invalid Content-Length');
    if (Number(lengths[0]) > 0) return notHttp2('an h2c upgrade with a request body, which this server does not take');
  }

  const settings = decodeSettings(settingsValues[0]!);
  if (typeof settings === 'string') return bad(`HTTP2-Settings: ${settings}`);

  let authority = hosts[0]!;
  let path = target;
  if (/^http:\/\//i.test(target)) {
    // absolute-form (RFC 9112 §3.2.2): the target's authority wins over Host.
    const rest = target.slice(7);
    const slash = rest.search(/[/?]/);
    authority = slash === -1 ? rest : rest.slice(0, slash);
    path = slash === -1 ? '/' : rest[slash] === '?' ? `/${rest.slice(slash)}` : rest.slice(slash);
  } else if (target === '*') {
    if (method !== 'OPTIONS') return bad('asterisk-form target with a method other than OPTIONS');
  } else if (!target.startsWith('/')) {
    return bad(`request target "${printable(target)}" is not in origin, absolute or asterisk form`);
  }
  if (authority === '') return bad('empty Host');

  const options = new Set(connection);
  const h2fields: Array<[string, string]> = [
    [':method', method],
    [':scheme', 'http'],
    [':authority', authority],
    [':path', path],
  ];
  for (const [name, value] of fields) {
    if (name === 'te' && value.toLowerCase() === 'trailers') h2fields.push([name, 'trailers']);
    else if (!HOP_BY_HOP.has(name) && !options.has(name)) h2fields.push([name, value]);
  }
  return { upgrade: true, method, target, fields: h2fields, settings };
}

/** The payload of a SETTINGS frame from base64url (RFC 4648 §5; trailing '=' allowed), validated as §6.5.2 says. */
export function decodeSettings(value: string): Array<[number, number]> | string {
  let end = value.length;
  while (end > 0 && end > value.length - 2 && value.charCodeAt(end - 1) === 0x3d) end--; // at most two '='
  const s = value.slice(0, end);
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return 'not base64url';
  if (s.length % 4 === 1) return 'not base64url (bad length)';
  const octets = new Uint8Array(Math.floor((s.length * 6) / 8));
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c >= 0x61 && c <= 0x7a ? c - 0x61 + 26 : c >= 0x41 && c <= 0x5a ? c - 0x41 : c >= 0x30 && c <= 0x39 ? c - 0x30 + 52 : c === 0x2d ? 62 : 63;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      octets[n++] = (acc >> bits) & 0xff;
    }
  }
  if (n % 6 !== 0) return `a SETTINGS payload of ${n} octets, not a multiple of 6`;
  const f = parseSettings({ length: n, type: FrameType.SETTINGS, flags: 0, streamId: 0 }, octets);
  return f instanceof H2Error ? f.message : f.settings;
}

/** A complete HTTP/1.1 response with a plain-text body, after which the connection closes. */
export function http1Response(status: number, body: string): string {
  const bytes = new TextEncoder().encode(body).length;
  return `HTTP/1.1 ${status} ${reasonPhrase(status) ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${bytes}\r\nconnection: close\r\n\r\n${body}`;
}

/** The 101 that switches the connection to h2c (RFC 7540 §3.2). */
export const SWITCHING_PROTOCOLS = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n';

/**
 * Strips spaces and tabs at both ends (RFC 9110 §5.5 OWS). A loop, not a
 * regular expression: /[ \t]+$/ takes quadratic time on a long run of
 * spaces that does not end the string, and the head is the client's to choose.
 */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return s.slice(a, b);
}

function printable(s: string): string {
  const t = s.length > 60 ? `${s.slice(0, 60)}...` : s;
  return t.replace(/[^\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
