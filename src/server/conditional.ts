/**
 * Parsers for the request fields that make a static response conditional or
 * partial: entity-tag lists (RFC 9110 §8.8.3, §13.1.1, §13.1.2), If-Range
 * (§13.1.5), Range (§14.1, §14.2) and, for error pages, Accept-Encoding
 * (§12.5.3). They are pure functions of strings and numbers.
 */
import { parseHttpDate } from './http-date.js';

/** One element of an If-Match / If-None-Match list. `tag` keeps its quotes. */
export interface EntityTag {
  readonly weak: boolean;
  readonly tag: string;
}

/**
 * Parses `"*"` or a list of entity-tags. Elements that are not entity-tags
 * are skipped (they can match nothing), so `If-None-Match: abc` behaves as a
 * list with no match rather than being dropped silently.
 */
export function parseEntityTags(value: string): '*' | EntityTag[] {
  const trimmed = value.trim();
  if (trimmed === '*') return '*';
  const tags: EntityTag[] = [];
  let i = 0;
  const n = trimmed.length;
  while (i < n) {
    // Skip separators and whitespace between elements (#rule, §5.6.1).
    let c = trimmed.charCodeAt(i);
    if (c === 0x2c || c === 0x20 || c === 0x09) {
      i++;
      continue;
    }
    let weak = false;
    if (c === 0x57 /* W */ && trimmed.charCodeAt(i + 1) === 0x2f /* / */) {
      weak = true;
      i += 2;
      c = trimmed.charCodeAt(i);
    }
    if (c === 0x22 /* " */) {
      const close = trimmed.indexOf('"', i + 1);
      if (close !== -1 && isEtagc(trimmed, i + 1, close)) {
        const after = close + 1 < n ? trimmed.charCodeAt(close + 1) : 0x2c;
        if (after === 0x2c || after === 0x20 || after === 0x09) {
          tags.push({ weak, tag: trimmed.slice(i, close + 1) });
          i = close + 1;
          continue;
        }
      }
    }
    // Not an entity-tag: skip to the next comma.
    const comma = trimmed.indexOf(',', i);
    i = comma === -1 ? n : comma + 1;
  }
  return tags;
}

// etagc = %x21 / %x23-7E / obs-text
function isEtagc(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/** Weak comparison (§8.8.3.2): the opaque tags are equal, either may be weak. */
export function weakMatch(list: '*' | readonly EntityTag[], etag: string): boolean {
  if (list === '*') return true;
  for (const t of list) if (t.tag === etag) return true;
  return false;
}

/** Strong comparison (§8.8.3.2): neither is weak and the tags are equal. `etag` is ours, always strong. */
export function strongMatch(list: '*' | readonly EntityTag[], etag: string): boolean {
  if (list === '*') return true;
  for (const t of list) if (!t.weak && t.tag === etag) return true;
  return false;
}

/**
 * If-Range (§13.1.5): true when the Range header may be honoured. An
 * entity-tag must match strongly; a date must equal Last-Modified exactly,
 * and only counts when Last-Modified is strong, i.e. at least a second older
 * than the response (§8.8.2.2). Anything else (a weak tag, a bad date) is
 * false, so the full representation is sent.
 */
export function ifRangeHolds(value: string, etag: string | undefined, lastModified: number | undefined, nowSeconds: number): boolean {
  const v = value.trim();
  if (v.startsWith('"') || v.startsWith('W/')) {
    if (etag === undefined) return false;
    const list = parseEntityTags(v);
    return list !== '*' && list.length === 1 && strongMatch(list, etag);
  }
  if (lastModified === undefined || lastModified > nowSeconds - 1) return false;
  const date = parseHttpDate(v, nowSeconds);
  return date !== undefined && date === lastModified;
}

/** What a Range header asks of a representation of a given size. */
export type RangeDecision =
  /** No usable Range: absent, another unit, invalid syntax; send 200. */
  | { readonly kind: 'ignore' }
  /** No range overlaps the representation: 416 (§15.5.17). */
  | { readonly kind: 'unsatisfiable' }
  /** One satisfiable range, `end` exclusive: 206. */
  | { readonly kind: 'single'; readonly start: number; readonly end: number }
  /** More than one range and at least one satisfiable; we send 200 (allowed by §14.2). */
  | { readonly kind: 'multiple' };

const IGNORE: RangeDecision = { kind: 'ignore' };
const UNSATISFIABLE: RangeDecision = { kind: 'unsatisfiable' };
const MULTIPLE: RangeDecision = { kind: 'multiple' };

/**
 * Evaluates `Range: bytes=...` (§14.1.2) against a representation of `size`
 * bytes. Any invalid range-spec makes the whole field invalid, and an
 * invalid field is ignored (§14.2 allows ignoring or rejecting it). For an
 * empty representation every range is unsatisfiable; we ignore the field
 * and send the empty 200 instead of a 416 that helps nobody.
 */
export function evaluateRange(value: string, size: number): RangeDecision {
  const eq = value.indexOf('=');
  if (eq === -1) return IGNORE;
  // Range units are case-insensitive (§14.1); other units are ignored (§14.2).
  if (value.slice(0, eq).toLowerCase() !== 'bytes') return IGNORE;
  if (size === 0) return IGNORE;
  const specs = value.slice(eq + 1).split(',');
  let count = 0;
  let satisfiable = 0;
  let start = 0;
  let end = 0;
  for (const raw of specs) {
    const spec = raw.trim();
    if (spec === '') continue; // empty list elements are allowed (§5.6.1)
    count++;
    const dash = spec.indexOf('-');
    if (dash === -1) return IGNORE;
    const first = spec.slice(0, dash);
    const last = spec.slice(dash + 1);
    if (first === '') {
      // suffix-range: the last N bytes (§14.1.2)
      if (!isDigits(last)) return IGNORE;
      const length = Number(last);
      if (length > 0) {
        satisfiable++;
        start = Math.max(0, size - length);
        end = size;
      }
      continue;
    }
    if (!isDigits(first) || (last !== '' && !isDigits(last))) return IGNORE;
    const firstPos = Number(first);
    const lastPos = last === '' ? Infinity : Number(last);
    if (firstPos > lastPos) return IGNORE; // invalid int-range (§14.1.1)
    if (firstPos < size) {
      satisfiable++;
      start = firstPos;
      end = Math.min(lastPos, size - 1) + 1;
    }
  }
  if (count === 0) return IGNORE;
  if (satisfiable === 0) return UNSATISFIABLE;
  if (count > 1) return MULTIPLE;
  return { kind: 'single', start, end };
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * Whether gzip is an acceptable content coding (§12.5.3): with no
 * Accept-Encoding field any coding is; otherwise gzip (or x-gzip) must be
 * listed, or `*` be, with a non-zero weight. An empty field means identity only.
 */
export function acceptsGzip(value: string | undefined): boolean {
  if (value === undefined) return true;
  let star: boolean | undefined;
  for (const element of value.split(',')) {
    const semi = element.indexOf(';');
    const coding = (semi === -1 ? element : element.slice(0, semi)).trim().toLowerCase();
    if (coding === '') continue;
    const ok = semi === -1 || weightOf(element.slice(semi + 1)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return ok;
    if (coding === '*') star = ok;
  }
  return star === true;
}

function weightOf(params: string): number {
  for (const p of params.split(';')) {
    const eq = p.indexOf('=');
    if (eq === -1) continue;
    if (p.slice(0, eq).trim().toLowerCase() !== 'q') continue;
    const q = Number(p.slice(eq + 1).trim());
    return Number.isFinite(q) ? q : 0;
  }
  return 1;
}
