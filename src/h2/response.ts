/**
 * Response (and pushed request) field sections built from the handler's
 * input, checked against what RFC 9113 §8.2 lets us generate: lowercase
 * names without forbidden characters, values without NUL, CR or LF and
 * without surrounding whitespace, no connection-specific fields (§8.2.2).
 * A violation is the handler's mistake, so it throws a TypeError rather than
 * sending a malformed message.
 */
import type { HeaderInput } from '../hpack/index.js';
import { badValue, CONNECTION_SPECIFIC } from './request.js';

/** Fields as [name, value] pairs. */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

/** Fields as pairs, or as an object whose array values become repeated fields. */
export type HeadersInit = HeaderList | Readonly<Record<string, string | number | ReadonlyArray<string | number>>>;

const TOKEN_LOWER = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

// Names already checked; bounded so that odd handlers cannot grow it forever.
const goodNames = new Set<string>();

function checkName(raw: string): string {
  if (goodNames.has(raw)) return raw;
  const name = raw.toLowerCase();
  if (!TOKEN_LOWER.test(name)) throw new TypeError(`invalid field name ${JSON.stringify(raw)} (RFC 9113 §8.2.1)`);
  if (CONNECTION_SPECIFIC.has(name)) throw new TypeError(`connection-specific field ${name} is not allowed in HTTP/2 (RFC 9113 §8.2.2)`);
  if (name === raw) {
    if (goodNames.size >= 1024) goodNames.clear();
    goodNames.add(name);
  }
  return name;
}

function checkValue(name: string, value: string): string {
  if (badValue(value)) throw new TypeError(`invalid value for field ${name} (RFC 9113 §8.2.1)`);
  return value;
}

/** A handler's regular field, checked: the name lowercased, a number value as text. */
function checkedField(rawName: string, value: string | number): [string, string] {
  const name = checkName(rawName);
  return [name, checkValue(name, typeof value === 'number' ? String(value) : value)];
}

/** Calls `fn` for every field of `init`, in order; an array value of a record gives one field per item. */
function eachField(init: HeadersInit, fn: (rawName: string, value: string | number) => void): void {
  if (Array.isArray(init)) {
    for (const f of init as HeaderList) fn(f[0], f[1]);
    return;
  }
  const rec = init as Readonly<Record<string, string | number | ReadonlyArray<string | number>>>;
  for (const k of Object.keys(rec)) {
    const v = rec[k]!;
    if (Array.isArray(v)) for (const x of v as ReadonlyArray<string | number>) fn(k, x);
    else fn(k, v as string | number);
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
    throw new RangeError(`status must be an integer from 200 to 999, got ${status}`);
  }
  const out: Array<readonly [string, string]> = [[':status', statusText(status)]];
  let hasLength = false;
  if (init !== undefined) {
    eachField(init, (rawName, value) => {
      if (rawName.charCodeAt(0) === 0x3a) throw new TypeError(`pseudo-header ${rawName} cannot be set by the handler (RFC 9113 §8.3)`);
      const field = checkedField(rawName, value);
      if (field[0] === 'content-length') hasLength = true;
      out.push(field);
    });
  }
  if (contentLength >= 0 && !hasLength) out.push(['content-length', String(contentLength)]);
  if (frozen && (init as HeaderList).every((f) => Object.isFrozen(f))) {
    for (const f of out) Object.freeze(f);
    sections.set(init as HeaderList, { status, contentLength, fields: Object.freeze(out) });
  }
  return out;
}

/** A trailer section: regular fields only (RFC 9113 §8.1). */
export function trailerFields(init: HeadersInit): HeaderInput[] {
  const out: HeaderInput[] = [];
  eachField(init, (rawName, value) => {
    if (rawName.charCodeAt(0) === 0x3a) throw new TypeError(`pseudo-header ${rawName} is not allowed in trailers (RFC 9113 §8.1)`);
    out.push(checkedField(rawName, value));
  });
  return out;
}

/** The request section of a PUSH_PROMISE (§8.4): pseudo-headers then the given fields. */
export function promiseFields(method: string, scheme: string, authority: string, path: string, init: HeadersInit | undefined): HeaderInput[] {
  if (method !== 'GET' && method !== 'HEAD') throw new TypeError(`a pushed request must be safe and cacheable (GET or HEAD), got ${method} (RFC 9113 §8.4)`);
  if (path.length === 0 || (path.charCodeAt(0) !== 0x2f && path !== '*')) throw new TypeError(`push path must start with '/', got ${JSON.stringify(path)}`);
  checkValue(':path', path);
  const out: HeaderInput[] = [[':method', method], [':scheme', scheme], [':authority', authority], [':path', path]];
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
export function requestFields(init: HeadersInit | undefined, scheme: string, authority: string): { fields: HeaderInput[]; method: string; path: string } {
  let method = 'GET';
  let path = '/';
  let sch = scheme;
  let auth = authority;
  const regular: HeaderInput[] = [];
  const order: string[] = [];
  if (init !== undefined) {
    eachField(init, (rawName, value) => {
      const v = typeof value === 'number' ? String(value) : value;
      if (rawName.charCodeAt(0) === 0x3a && !order.includes(rawName)) order.push(rawName);
      switch (rawName) {
        case ':method':
          method = v;
          return;
        case ':path':
          path = v;
          return;
        case ':scheme':
          sch = v;
          return;
        case ':authority':
          auth = v;
          return;
        default:
          if (rawName.charCodeAt(0) === 0x3a) throw new TypeError(`unknown pseudo-header ${rawName} in a request (RFC 9113 §8.3.1)`);
      }
      const field = checkedField(rawName, v);
      if (field[0] === 'te' && field[1] !== 'trailers') throw new TypeError('te may only be "trailers" in HTTP/2 (RFC 9113 §8.2.2)');
      if (field[0] === 'host') return; // :authority carries it (§8.3.1)
      regular.push(field);
    });
  }
  if (!TOKEN.test(method)) throw new TypeError(`invalid :method ${JSON.stringify(method)}`);
  checkValue(':path', path);
  checkValue(':authority', auth);
  const value: Record<string, string> = { ':method': method, ':scheme': sch, ':authority': auth, ':path': path };
  const fields: HeaderInput[] =
    method === 'CONNECT'
      ? [[':method', method], [':authority', auth]]
      : order.length === 4
        ? order.map((n) => [n, value[n]!] as HeaderInput)
        : [[':method', method], [':scheme', sch], [':authority', auth], [':path', path]];
  for (const f of regular) fields.push(f);
  return { fields, method, path };
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
