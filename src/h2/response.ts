/**
 * Response (and pushed request) field sections built from the handler's
 * input, checked against what RFC 9113 §8.2 lets us generate: lowercase
 * names without forbidden characters, values without NUL, CR or LF and
 * without surrounding whitespace, no connection-specific fields (§8.2.2).
 * A violation is the application's mistake, so it throws an Http2Error
 * INVALID_ARGUMENT rather than sending a malformed message.
 */
import type { HeaderInput } from '../hpack/index.js';
import { invalidArgument } from './errors.js';
import { badValue, badValueOctets, CONNECTION_SPECIFIC } from './request.js';

/** A value to send: text (sent as UTF-8), octets (sent as they are), or a number (sent as its decimal text). */
export type FieldValue = string | Uint8Array;

/** Fields as [name, value] pairs. */
export type HeaderList = ReadonlyArray<readonly [string, FieldValue]>;

/** Fields as pairs, or as an object whose array values become repeated fields. */
export type HeadersInit = HeaderList | Readonly<Record<string, FieldValue | number | ReadonlyArray<FieldValue | number>>>;
type RecordValue = FieldValue | number | ReadonlyArray<FieldValue | number>;

const TOKEN_LOWER = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

// Names already checked; bounded so that odd handlers cannot grow it forever.
const goodNames = new Set<string>();

function checkName(raw: string): string {
  if (goodNames.has(raw)) return raw;
  const name = raw.toLowerCase();
  if (!TOKEN_LOWER.test(name)) throw invalidArgument(`invalid field name ${JSON.stringify(raw)} (RFC 9113 §8.2.1)`);
  if (CONNECTION_SPECIFIC.has(name)) throw invalidArgument(`connection-specific field ${name} is not allowed in HTTP/2 (RFC 9113 §8.2.2)`);
  if (name === raw) {
    if (goodNames.size >= 1024) goodNames.clear();
    goodNames.add(name);
  }
  return name;
}

// §8.2.1 holds for the octets sent; text is sent as UTF-8, whose multi-octet sequences contain no
// octet below 0x80, so the rule can be checked on the text itself.
function checkValue<V extends FieldValue>(name: string, value: V): V {
  if (typeof value === 'string' ? badValue(value) : !(value instanceof Uint8Array) ? notAValue(name) : badValueOctets(value)) {
    throw invalidArgument(`invalid value for field ${name} (RFC 9113 §8.2.1)`);
  }
  return value;
}

function notAValue(name: string): never {
  throw invalidArgument(`the value of field ${name} must be a string, a number or a Uint8Array`);
}

/** The application's regular field, checked: the name lowercased, a number value as text. */
function checkedField(rawName: string, value: FieldValue | number): [string, FieldValue] {
  const name = checkName(rawName);
  return [name, checkValue(name, typeof value === 'number' ? String(value) : value)];
}

/** A regular response field, checked; `pair` is returned as it is when it needs no change. */
function responseField(rawName: string, value: FieldValue | number, pair: readonly [string, FieldValue] | null): readonly [string, FieldValue] {
  if (rawName.charCodeAt(0) === 0x3a) throw invalidArgument(`pseudo-header ${rawName} cannot be set by the handler (RFC 9113 §8.3)`);
  const name = checkName(rawName);
  if (typeof value === 'number') return [name, String(value)];
  checkValue(name, value);
  return pair !== null && name === rawName ? pair : [name, value];
}

/** Calls `fn` for every field of `init`, in order; an array value of a record gives one field per item. */
function eachField(init: HeadersInit, fn: (rawName: string, value: FieldValue | number) => void): void {
  if (Array.isArray(init)) {
    for (const f of init as HeaderList) fn(nameOf(f), f[1]);
    return;
  }
  const rec = init as Readonly<Record<string, RecordValue>>;
  for (const k of Object.keys(rec)) {
    const v = rec[k]!;
    if (Array.isArray(v)) for (const x of v as ReadonlyArray<FieldValue | number>) fn(k, x);
    else fn(k, v as FieldValue | number);
  }
}

const STATUS_TEXT: string[] = [];
function statusText(status: number): string {
  return STATUS_TEXT[status] ?? (STATUS_TEXT[status] = String(status));
}

/**
 * Sections built from frozen field lists of frozen pairs: such a list cannot
 * change, so it is checked once, and the same section (frozen too, so that
 * the HPACK encoder may reuse its block) serves every response that gives
 * the list again with the same status and length.
 */
const sections = new WeakMap<HeaderList, { status: number; contentLength: number; fields: readonly HeaderInput[] }>();

/**
 * The response field section: :status, then the handler's fields, then
 * content-length when `contentLength` >= 0 and the handler gave none.
 */
export function responseFields(status: number, init: HeadersInit | undefined, contentLength: number): readonly HeaderInput[] {
  const frozen = init !== undefined && Array.isArray(init) && Object.isFrozen(init);
  if (frozen) {
    const m = sections.get(init as HeaderList);
    if (m !== undefined && m.status === status && m.contentLength === contentLength) return m.fields;
  }
  if (!Number.isInteger(status) || status < 200 || status > 999) {
    throw invalidArgument(`status must be an integer from 200 to 999, got ${status}`);
  }
  const out: Array<readonly [string, FieldValue]> = [[':status', statusText(status)]];
  let hasLength = false;
  if (init !== undefined) {
    if (Array.isArray(init)) {
      // A plain loop and, for a pair already as HTTP/2 wants it, the pair itself: no closure, no copy.
      for (const f of init as HeaderList) {
        const field = responseField(nameOf(f), f[1], f);
        if (field[0] === 'content-length') hasLength = true;
        out.push(field);
      }
    } else {
      eachField(init, (rawName, value) => {
        const field = responseField(rawName, value, null);
        if (field[0] === 'content-length') hasLength = true;
        out.push(field);
      });
    }
  }
  if (contentLength >= 0 && !hasLength) out.push(['content-length', String(contentLength)]);
  // Octets can change under a frozen pair: only text is remembered.
  if (frozen && (init as HeaderList).every((f) => Object.isFrozen(f) && typeof f[1] === 'string')) {
    for (const f of out) Object.freeze(f);
    sections.set(init as HeaderList, { status, contentLength, fields: Object.freeze(out) });
  }
  return out;
}

/** A trailer section: regular fields only (RFC 9113 §8.1). */
export function trailerFields(init: HeadersInit): HeaderInput[] {
  const out: HeaderInput[] = [];
  eachField(init, (rawName, value) => {
    if (rawName.charCodeAt(0) === 0x3a) throw invalidArgument(`pseudo-header ${rawName} is not allowed in trailers (RFC 9113 §8.1)`);
    out.push(checkedField(rawName, value));
  });
  return out;
}

/** The request section of a PUSH_PROMISE (§8.4): pseudo-headers then the given fields. */
export function promiseFields(method: string, scheme: string, authority: string, path: string, init: HeadersInit | undefined): HeaderInput[] {
  if (method !== 'GET' && method !== 'HEAD') throw invalidArgument(`a pushed request must be safe and cacheable (GET or HEAD), got ${method} (RFC 9113 §8.4)`);
  if (path.length === 0 || (path.charCodeAt(0) !== 0x2f && path !== '*')) throw invalidArgument(`push path must start with '/', got ${JSON.stringify(path)}`);
  checkValue(':path', path);
  const out: HeaderInput[] = [
    [':method', method],
    [':scheme', scheme],
    [':authority', authority],
    [':path', path],
  ];
  if (init !== undefined) for (const f of trailerFields(init)) out.push(f);
  return out;
}

/**
 * A request section to send (§8.3.1): the pseudo-headers (:method GET and
 * :path / unless given; :scheme and :authority from the connection unless
 * given), then the given regular fields, checked as §8.2 requires. The
 * pseudo-headers go in the order :method, :scheme, :authority, :path, or in
 * the order given when all four are (nghttp sends :path second).
 */
export function requestFields(init: HeadersInit | undefined, scheme: string, authority: string): RequestSection {
  // A frozen head (a record, or a list of frozen pairs) is checked once; the same frozen section, whose
  // header block the HPACK encoder may then reuse, serves every request that gives it again.
  const frozen = init !== undefined && Object.isFrozen(init);
  if (frozen) {
    const m = requestSections.get(init);
    if (m !== undefined && m.scheme === scheme && m.authority === authority) return m.section;
  }
  const r: RequestParts = { method: 'GET', path: '/', scheme, authority, regular: null, order: null };
  // Two plain loops rather than eachField(): no closure, no key array, for the request on the hot path.
  if (init !== undefined) {
    if (Array.isArray(init)) {
      for (const f of init as HeaderList) requestField(r, nameOf(f), f[1]);
    } else {
      const rec = init as Readonly<Record<string, RecordValue>>;
      for (const k in rec) {
        if (!Object.hasOwn(rec, k)) continue;
        const v = rec[k]!;
        if (Array.isArray(v)) for (const x of v as ReadonlyArray<FieldValue | number>) requestField(r, k, x);
        else requestField(r, k, v as FieldValue | number);
      }
    }
  }
  const { method, path } = r;
  if (!TOKEN.test(method)) throw invalidArgument(`invalid :method ${JSON.stringify(method)}`);
  checkValue(':path', path);
  checkValue(':authority', r.authority);
  const fields: HeaderInput[] =
    method === 'CONNECT'
      ? [pseudoPair(':method', method), pseudoPair(':authority', r.authority)]
      : r.order !== null && r.order.length === 4
        ? r.order.map((n) => (n === ':path' ? [':path', path] : pseudoPair(n, n === ':method' ? method : n === ':scheme' ? r.scheme : r.authority)))
        : [pseudoPair(':method', method), pseudoPair(':scheme', r.scheme), pseudoPair(':authority', r.authority), [':path', path]];
  if (r.regular !== null) for (const f of r.regular) fields.push(f);
  const section = { fields, method, path };
  if (frozen && deeplyFrozen(init)) {
    for (const f of fields) Object.freeze(f);
    Object.freeze(fields);
    requestSections.set(init, { scheme, authority, section });
  }
  return section;
}

export interface RequestSection {
  fields: HeaderInput[];
  method: string;
  path: string;
}

const requestSections = new WeakMap<object, { scheme: string; authority: string; section: RequestSection }>();

/** A frozen head whose parts (pairs, value lists) are frozen too: it cannot change. */
function deeplyFrozen(init: HeadersInit): boolean {
  if (Array.isArray(init)) return (init as HeaderList).every((f) => Object.isFrozen(f) && typeof f[1] === 'string');
  for (const v of Object.values(init)) if (typeof v === 'object' && !Object.isFrozen(v)) return false;
  return true;
}

interface RequestParts {
  method: string;
  path: string;
  scheme: string;
  authority: string;
  regular: HeaderInput[] | null;
  /** The pseudo-headers in the order given, once each (only kept when some were given). */
  order: string[] | null;
}

/** The name of a [name, value] pair given by the application (anything else is refused). */
function nameOf(f: readonly [string, FieldValue]): string {
  if (!Array.isArray(f) || typeof f[0] !== 'string') throw invalidArgument(`a field is a [name, value] pair with a string name, got ${String(f)}`);
  return f[0];
}

function requestField(r: RequestParts, rawName: string, value: FieldValue | number): void {
  const v = typeof value === 'number' ? String(value) : value;
  if (rawName.charCodeAt(0) === 0x3a) {
    const o = (r.order ??= []);
    if (!o.includes(rawName)) o.push(rawName);
    if (typeof v !== 'string') throw invalidArgument(`pseudo-header ${rawName} must be given as text`);
  }
  switch (rawName) {
    case ':method':
      r.method = v as string;
      return;
    case ':path':
      r.path = v as string;
      return;
    case ':scheme':
      r.scheme = v as string;
      return;
    case ':authority':
      r.authority = v as string;
      return;
    default:
      if (rawName.charCodeAt(0) === 0x3a) throw invalidArgument(`unknown pseudo-header ${rawName} in a request (RFC 9113 §8.3.1)`);
  }
  const field = checkedField(rawName, v);
  if (field[0] === 'te' && !isTrailers(field[1])) throw invalidArgument('te may only be "trailers" in HTTP/2 (RFC 9113 §8.2.2)');
  if (field[0] === 'host') return; // :authority carries it (§8.3.1)
  (r.regular ??= []).push(field);
}

// :method, :scheme and :authority repeat from request to request: one frozen pair each (bounded like goodNames).
const pseudoPairs = new Map<string, Map<string, readonly [string, string]>>();
function pseudoPair(name: string, value: string): readonly [string, string] {
  let byValue = pseudoPairs.get(name);
  if (byValue === undefined) pseudoPairs.set(name, (byValue = new Map()));
  let p = byValue.get(value);
  if (p === undefined) {
    if (byValue.size >= 256) byValue.clear();
    p = Object.freeze([name, value] as const);
    byValue.set(value, p);
  }
  return p;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const TRAILERS = [0x74, 0x72, 0x61, 0x69, 0x6c, 0x65, 0x72, 0x73]; // "trailers"
function isTrailers(v: FieldValue): boolean {
  return typeof v === 'string' ? v === 'trailers' : v.length === 8 && v.every((b, i) => b === TRAILERS[i]);
}
