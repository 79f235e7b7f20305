/**
 * Turns a request's `:path` into a normalised, percent-decoded path that can
 * only name something under the document root, or into the status to answer
 * with when it cannot.
 *
 * Rules (RFC 3986 §2.1, §5.2.4; RFC 9113 §8.3.1):
 * - the query (`?...`) and a fragment (`#...`) are cut off first;
 * - the path must start with `/` (origin-form); `*`, absolute-form and
 *   relative paths are 400;
 * - raw characters must be visible ASCII: controls, spaces, DEL and octets
 *   above 0x7f are 400 (clients send them percent-encoded);
 * - each segment is percent-decoded once (so `%252e` stays the literal
 *   `%2e`); a `%` not followed by two hex digits, decoded octets that are
 *   not UTF-8 (overlong forms included), NUL or other controls are 400;
 * - a segment containing `/` once decoded (`%2f`) or a backslash, raw or
 *   encoded, is 404: neither may act as a separator;
 * - empty and `.` segments are dropped, `..` removes the previous segment,
 *   and a `..` that would climb above the root is 404 (nghttpd clamps it to
 *   the root instead; refusing is stricter);
 * - a trailing `/` (or a trailing `.` or `..` segment) marks a directory request.
 */

/** A path that is safe to append to the root. */
export interface NormalisedPath {
  readonly ok: true;
  /**
   * `/` followed by the decoded segments joined with `/`, and a final `/`
   * for a directory request; the root is `/`. Segments never contain `/`,
   * `\`, NUL or controls, and are never `.`, `..` or empty.
   */
  readonly key: string;
  /** The raw query including its `?`, or '' (kept for redirects). */
  readonly query: string;
}

/** A path we refuse, with the status to answer. */
export interface RejectedPath {
  readonly ok: false;
  readonly status: 400 | 404;
  readonly reason: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function reject(status: 400 | 404, reason: string): RejectedPath {
  return { ok: false, status, reason };
}

/** Normalises a raw `:path` (see the module comment for the rules). */
export function normaliseRequestPath(raw: string): NormalisedPath | RejectedPath {
  let cut = raw.length;
  let query = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x3f /* ? */) {
      cut = i;
      const hash = raw.indexOf('#', i);
      query = hash === -1 ? raw.slice(i) : raw.slice(i, hash);
      break;
    }
    if (c === 0x23 /* # */) {
      cut = i;
      break;
    }
  }
  if (cut === 0 || raw.charCodeAt(0) !== 0x2f) return reject(400, 'not an origin-form path');

  // One pass decides whether the path is already normal (the common case:
  // no escapes, no empty or dot segments), so it can be used as it is.
  let simple = true;
  for (let i = 0; i < cut; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return reject(400, 'raw control, space or non-ASCII character');
    if (c === 0x5c /* \ */) return reject(404, 'backslash');
    if (c === 0x25 /* % */) simple = false;
    else if (c === 0x2f && i + 1 < cut) {
      const next = raw.charCodeAt(i + 1);
      if (next === 0x2f || next === 0x2e /* / or . */) simple = false;
    }
  }
  const path = cut === raw.length ? raw : raw.slice(0, cut);
  if (simple) return { ok: true, key: path, query };

  const raws = path.slice(1).split('/');
  const out: string[] = [];
  let directory = false;
  for (let i = 0; i < raws.length; i++) {
    const decoded = decodeSegment(raws[i] as string);
    if (typeof decoded !== 'string') return decoded;
    const last = i === raws.length - 1;
    if (decoded === '' || decoded === '.') {
      if (last) directory = true;
      continue;
    }
    if (decoded === '..') {
      if (out.length === 0) return reject(404, 'climbs above the root');
      out.pop();
      if (last) directory = true;
      continue;
    }
    out.push(decoded);
    directory = false;
  }
  if (out.length === 0) return { ok: true, key: '/', query };
  return { ok: true, key: `/${out.join('/')}${directory ? '/' : ''}`, query };
}

function decodeSegment(seg: string): string | RejectedPath {
  if (seg.indexOf('%') === -1) return seg;
  const bytes = new Uint8Array(seg.length);
  let n = 0;
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c !== 0x25) {
      bytes[n++] = c; // already checked to be visible ASCII
      continue;
    }
    const hi = hexValue(seg.charCodeAt(i + 1));
    const lo = hexValue(seg.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return reject(400, 'invalid percent-encoding');
    const b = (hi << 4) | lo;
    if (b === 0) return reject(400, 'NUL');
    if (b < 0x20 || b === 0x7f) return reject(400, 'control character');
    if (b === 0x2f) return reject(404, 'encoded slash');
    if (b === 0x5c) return reject(404, 'encoded backslash');
    bytes[n++] = b;
    i += 2;
  }
  try {
    return utf8.decode(bytes.subarray(0, n));
  } catch {
    return reject(400, 'not UTF-8');
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** The key as a URI path again (for Location): every segment percent-encoded. */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}
