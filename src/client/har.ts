/**
 * A HAR 1.2 document (the HTTP Archive format, W3C Web Performance draft
 * "HTTP Archive (HAR) format", version 1.2) from h2get's exchanges: one
 * entry per request or pushed response, with the timings measured from the
 * engine's events.
 *
 * Timings (milliseconds; -1 where a phase does not apply): the requests
 * made before their connection was up carry its set-up (dns, connect, and
 * ssl, which connect includes); blocked is the time from there (or from
 * the request, for later ones) to its HEADERS going out (waiting for a
 * stream); send, wait and receive as the format defines them.
 */
import type { Exchange } from './exchange.js';

export interface HarNameValue {
  name: string;
  value: string;
}

export interface HarCookie extends HarNameValue {
  path?: string;
  domain?: string;
  expires?: string;
  httpOnly?: boolean;
  secure?: boolean;
}

export interface HarTimings {
  blocked: number;
  dns: number;
  connect: number;
  send: number;
  wait: number;
  receive: number;
  ssl: number;
}

export interface HarEntry {
  pageref: string;
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: HarCookie[];
    headers: HarNameValue[];
    queryString: HarNameValue[];
    postData?: { mimeType: string; text: string };
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: HarCookie[];
    headers: HarNameValue[];
    content: { size: number; compression?: number; mimeType: string };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
  };
  cache: Record<string, never>;
  timings: HarTimings;
  serverIPAddress?: string;
  connection: string;
  comment?: string;
}

export interface Har {
  log: {
    version: '1.2';
    creator: { name: string; version: string };
    pages: Array<{ startedDateTime: string; id: string; title: string; pageTimings: Record<string, never> }>;
    entries: HarEntry[];
  };
}

/** Milliseconds with microsecond precision (HAR numbers are floats). */
const ms = (n: number): number => Math.round(n * 1000) / 1000;
const span = (from: number, to: number): number => (from < 0 || to < 0 ? 0 : ms(Math.max(0, to - from)));

/** Names and values are octet strings: as text where they are UTF-8. */
function text(octets: string): string {
  return /[^\x00-\x7f]/.test(octets) ? Buffer.from(octets, 'latin1').toString('utf8') : octets;
}

const pairs = (fields: ReadonlyArray<readonly [string, string]>): HarNameValue[] => fields.map(([name, value]) => ({ name: text(name), value: text(value) }));

/** `cookie` request fields: name=value pairs separated by ';' (RFC 6265 §4.2.1; HTTP/2 may split them, RFC 9113 §8.2.3). */
function requestCookies(fields: ReadonlyArray<readonly [string, string]>): HarCookie[] {
  const out: HarCookie[] = [];
  for (const [n, v] of fields) {
    if (n !== 'cookie') continue;
    for (const part of v.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0) out.push({ name: text(part.slice(0, eq).trim()), value: text(part.slice(eq + 1).trim()) });
    }
  }
  return out;
}

/** `set-cookie` response fields with their attributes (RFC 6265 §4.1). */
function responseCookies(fields: ReadonlyArray<readonly [string, string]>): HarCookie[] {
  const out: HarCookie[] = [];
  for (const [n, v] of fields) {
    if (n !== 'set-cookie') continue;
    const [first, ...attrs] = v.split(';');
    const eq = first!.indexOf('=');
    if (eq <= 0) continue;
    const c: HarCookie = { name: text(first!.slice(0, eq).trim()), value: text(first!.slice(eq + 1).trim()) };
    for (const a of attrs) {
      const i = a.indexOf('=');
      const key = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
      const val = i < 0 ? '' : text(a.slice(i + 1).trim());
      if (key === 'path') c.path = val;
      else if (key === 'domain') c.domain = val;
      else if (key === 'expires') {
        const d = new Date(val);
        if (!Number.isNaN(d.getTime())) c.expires = d.toISOString();
      } else if (key === 'httponly') c.httpOnly = true;
      else if (key === 'secure') c.secure = true;
    }
    out.push(c);
  }
  return out;
}

function header(fields: ReadonlyArray<readonly [string, string]>, name: string): string | undefined {
  for (const [n, v] of fields) if (n === name) return v;
  return undefined;
}

/** The timings of one exchange (see the module's comment). */
export function harTimings(x: Exchange): HarTimings {
  const c = x.connection;
  if (x.pushed) {
    // Nothing was sent: the promise is the request.
    return { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: span(x.issuedAt, x.responseStartAt), receive: span(x.responseStartAt, x.endAt) };
  }
  const setUp = x.issuedAt < c.secureEnd;
  const sent = x.headersSentAt >= 0 ? x.headersSentAt : x.endAt;
  return {
    blocked: setUp ? span(c.secureEnd, sent) : span(x.issuedAt, sent),
    dns: setUp ? span(c.start, c.dnsEnd) : -1,
    connect: setUp ? span(c.dnsEnd, c.secureEnd) : -1,
    ssl: setUp && c.tls ? span(c.connectEnd, c.secureEnd) : -1,
    send: span(x.headersSentAt, x.requestEndAt),
    wait: span(x.requestEndAt, x.responseStartAt),
    receive: span(x.responseStartAt, x.endAt),
  };
}

function entry(x: Exchange): HarEntry {
  const t = harTimings(x);
  // §entries: time is the sum of the timings that apply (ssl is within connect).
  const time = ms([t.blocked, t.dns, t.connect, t.send, t.wait, t.receive].filter((n) => n > 0).reduce((a, b) => a + b, 0));
  const mimeType = header(x.responseHeaders, 'content-type') ?? 'x-unknown';
  const requestType = header(x.requestHeaders, 'content-type') ?? 'application/octet-stream';
  const e: HarEntry = {
    pageref: 'page_0',
    startedDateTime: x.startedDateTime.toISOString(),
    time,
    request: {
      method: x.method,
      url: x.url.href,
      httpVersion: 'HTTP/2.0',
      cookies: requestCookies(x.requestHeaders),
      headers: pairs(x.requestHeaders),
      queryString: [...x.url.searchParams].map(([name, value]) => ({ name, value })),
      ...(x.requestText !== null ? { postData: { mimeType: requestType, text: x.requestText } } : {}),
      // HTTP/2 header sections are compressed: their size on the wire is not theirs alone (-1: not known).
      headersSize: -1,
      bodySize: x.requestBodySize,
    },
    response: {
      status: x.status,
      statusText: '',
      httpVersion: 'HTTP/2.0',
      cookies: responseCookies(x.responseHeaders),
      headers: pairs(x.responseHeaders),
      content: {
        size: x.contentSize,
        ...(x.contentSize !== x.bodySize ? { compression: x.contentSize - x.bodySize } : {}),
        mimeType: text(mimeType),
      },
      redirectURL: text(header(x.responseHeaders, 'location') ?? ''),
      headersSize: -1,
      bodySize: x.status === 0 ? -1 : x.bodySize,
    },
    cache: {},
    timings: t,
    serverIPAddress: x.connection.serverAddress,
    connection: String(x.connection.index),
  };
  if (x.pushed) e.comment = `pushed on stream ${x.streamId}`;
  else if (x.error !== null) e.comment = x.error;
  return e;
}

/** The HAR document of a run. */
export function buildHar(exchanges: readonly Exchange[], creator: { name: string; version: string }): Har {
  const sorted = [...exchanges].sort((a, b) => a.startedDateTime.getTime() - b.startedDateTime.getTime() || a.issuedAt - b.issuedAt);
  const first = sorted[0]?.startedDateTime ?? new Date();
  return {
    log: {
      version: '1.2',
      creator,
      pages: [{ startedDateTime: first.toISOString(), id: 'page_0', title: sorted[0]?.url.href ?? '', pageTimings: {} }],
      entries: sorted.map(entry),
    },
  };
}
