/**
 * Request validation (RFC 9113 §8.1.1, §8.2, §8.3, §8.5). A request that
 * breaks these rules is malformed: the connection answers with a stream
 * error PROTOCOL_ERROR. Names and values are octet strings (one char per
 * octet, as Inflater.inflateLatin1 returns them).
 */

/** A validated request head. */
export interface RequestHead {
  method: string;
  /** Empty for CONNECT (§8.5). */
  scheme: string;
  /** :authority, or the Host field when :authority is absent (§8.3.1); may be empty. */
  authority: string;
  /** Empty for CONNECT (§8.5). */
  path: string;
  /** Regular fields, in order. */
  headers: Array<[string, string]>;
  /** The content-length value, or -1 when absent. */
  contentLength: number;
  /** Every value (pseudo-headers included) is ASCII: the octet strings are their own text. */
  ascii: boolean;
}

const Pseudo = { METHOD: 1, SCHEME: 2, AUTHORITY: 4, PATH: 8 } as const;

/** RFC 9110 §5.6.2 token (a method). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+\-.]*$/;
/** RFC 3986 §3.2.2-3 without userinfo: reg-name or IP literal, then an optional port. No "/", "?", "#", space or controls. */
const AUTHORITY = /^(\[[0-9A-Fa-f:.vV\-_~!$&'()*+,;=]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(:[0-9]*)?$/;

/**
 * §8.2.1: a name must not contain 0x00-0x20, 0x41-0x5a (uppercase) or
 * 0x7f-0xff, nor a colon outside the pseudo-header prefix.
 */
function badName(name: string, from: number): boolean {
  if (name.length <= from) return true; // empty (or a bare ':')
  for (let i = from; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || (c >= 0x41 && c <= 0x5a) || c === 0x3a) return true;
  }
  return false;
}

// The chars of the values badValue() has scanned, OR-ed: the validators tell from it, at no extra pass,
// whether every value is ASCII (and so its own text, see fields.ts).
let seenBits = 0;

/** §8.2.1: no NUL, LF or CR anywhere; no leading or trailing SP or HTAB. */
export function badValue(value: string): boolean {
  const n = value.length;
  if (n === 0) return false;
  let c = value.charCodeAt(0);
  if (c === 0x20 || c === 0x09) return true;
  c = value.charCodeAt(n - 1);
  if (c === 0x20 || c === 0x09) return true;
  let bits = 0;
  for (let i = 0; i < n; i++) {
    c = value.charCodeAt(i);
    bits |= c;
    if (c === 0x00 || c === 0x0a || c === 0x0d) return true;
  }
  seenBits |= bits;
  return false;
}

/**
 * ASCII values already found valid (bounded): the same user-agent, accept,
 * server, content-type... come in message after message, often as the very
 * string the decoder's table holds, whose hash V8 keeps.
 */
const goodValues = new Set<string>();

/** badValue() for values that repeat: a value found valid and ASCII before is not scanned again. */
function badValueSeen(value: string): boolean {
  if (goodValues.has(value)) return false;
  const before = seenBits;
  seenBits = 0;
  const bad = badValue(value);
  if (!bad && seenBits < 0x80 && value.length <= 512) {
    if (goodValues.size >= 1024) goodValues.clear();
    goodValues.add(value);
  }
  seenBits |= before;
  return bad;
}

/**
 * Fields whose value was found valid, by identity: the decoder gives an
 * indexed field as the same frozen pair each time (Inflater's sharedPairs),
 * so a field repeated from its table is checked by one lookup. What depends
 * on more than the pair (content-length, host against :authority, the
 * pseudo-header rules) is still checked on every message; te never gets here
 * (its name is never remembered).
 */
const goodPairs = new WeakSet<readonly [string, string]>();

function rememberPair(pair: readonly [string, string], value: string): void {
  // Only ASCII values (those badValueSeen remembers): a hit adds nothing to seenBits.
  if (goodValues.has(value) && Object.isFrozen(pair)) goodPairs.add(pair);
}

/** badValue() on octets: a value given to send as a Uint8Array. */
export function badValueOctets(value: Uint8Array): boolean {
  const n = value.length;
  if (n === 0) return false;
  let c = value[0]!;
  if (c === 0x20 || c === 0x09) return true;
  c = value[n - 1]!;
  if (c === 0x20 || c === 0x09) return true;
  return value.indexOf(0x00) >= 0 || value.indexOf(0x0a) >= 0 || value.indexOf(0x0d) >= 0;
}

/** §8.2.2: fields that are specific to one HTTP/1.1 connection. */
export const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** Never forwarded from HTTP/1.1 into HTTP/2 or by a proxy (RFC 9110 §7.6.1, RFC 9113 §8.2.2, RFC 7540 §3.2.1): te's one allowed value is added back where it applies. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([...CONNECTION_SPECIFIC, 'http2-settings', 'host', 'te']);

/** A content-length value: 1*DIGIT (RFC 9110 §8.6); -2 when invalid. */
function parseContentLength(v: string): number {
  if (v.length === 0 || v.length > 15) return -2;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -2;
    n = n * 10 + c;
  }
  return n;
}

/** Checks a regular field; returns the reason it is malformed, or null. */
function checkRegular(name: string, value: string): string | null {
  if (badName(name, 0)) return `invalid field name ${JSON.stringify(name)} (§8.2.1)`;
  if (badValue(value)) return `invalid value for ${name} (§8.2.1)`;
  if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name} (§8.2.2)`;
  if (name === 'te' && value !== 'trailers') return `te: ${JSON.stringify(value)} (only "trailers" is allowed, §8.2.2)`;
  return null;
}

/**
 * checkRegular() with memory: a shared pair, a name or an ASCII value found
 * valid before is not checked again (`names`: the good names of requests or
 * of responses).
 */
function checkRegularSeen(field: readonly [string, string], names: Set<string>): string | null {
  if (goodPairs.has(field)) return null;
  const name = field[0];
  const value = field[1];
  if (names.has(name)) {
    if (badValueSeen(value)) return `invalid value for ${name} (§8.2.1)`;
    rememberPair(field, value);
    return null;
  }
  const bad = checkRegular(name, value);
  if (bad) return bad;
  // A name that passed is good whatever its value (te aside: its rule is about the value).
  if (name !== 'te') {
    if (names.size >= 1024) names.clear();
    names.add(name);
  }
  return null;
}

/**
 * Validates a request's field section (§8.3.1). Returns the request head, or
 * a string saying why the request is malformed.
 */
export function validateRequest(fields: ReadonlyArray<readonly [string, string]>): RequestHead | string {
  seenBits = 0;
  let method = '';
  let scheme = '';
  let authority = '';
  let path = '';
  let host: string | null = null;
  let seen = 0;
  let contentLength = -1;
  let firstRegular = -1;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const name = f[0];
    const value = f[1];
    if (name.charCodeAt(0) === 0x3a) {
      // §8.3: pseudo-header fields come first, once each, and only the defined ones.
      if (firstRegular >= 0) return `pseudo-header ${name} after a regular field (§8.3)`;
      let bit: number;
      switch (name) {
        case ':method':
          bit = Pseudo.METHOD;
          method = value;
          break;
        case ':scheme':
          bit = Pseudo.SCHEME;
          scheme = value;
          break;
        case ':authority':
          bit = Pseudo.AUTHORITY;
          authority = value;
          break;
        case ':path':
          bit = Pseudo.PATH;
          path = value;
          break;
        case ':status':
          return 'response pseudo-header :status in a request (§8.3)';
        default:
          return `unknown pseudo-header ${JSON.stringify(name)} (§8.3)`;
      }
      if ((seen & bit) !== 0) return `duplicate pseudo-header ${name} (§8.3.1)`;
      seen |= bit;
      if (!goodPairs.has(f)) {
        if (badValueSeen(value)) return `invalid value for ${name} (§8.2.1)`;
        rememberPair(f, value);
      }
      continue;
    }
    if (firstRegular < 0) firstRegular = i;
    const bad = checkRegularSeen(f, goodRequestNames);
    if (bad) return bad;
    if (name === 'content-length') {
      const n = parseContentLength(value);
      if (n < 0) return `invalid content-length ${JSON.stringify(value)} (§8.1.1)`;
      if (contentLength >= 0 && n !== contentLength) return 'conflicting content-length fields (§8.1.1)';
      contentLength = n;
    } else if (name === 'host') {
      if (host !== null) return 'more than one host field (§8.3.1)';
      host = value;
    }
  }
  // The regular fields follow the pseudo-headers: the decoder's own pairs, not copies.
  const headers = (firstRegular < 0 ? [] : fields.slice(firstRegular)) as Array<[string, string]>;

  if ((seen & Pseudo.METHOD) === 0) return 'missing :method (§8.3.1)';
  if (method.length === 0) return 'empty :method (§8.3.1)';
  if (method !== lastMethod && !TOKEN.test(method)) return `invalid :method ${JSON.stringify(method)} (§8.3.1: a token)`;
  if (method === 'CONNECT') {
    // §8.5: :scheme and :path omitted, :authority required.
    if ((seen & (Pseudo.SCHEME | Pseudo.PATH)) !== 0) return 'CONNECT with :scheme or :path (§8.5)';
    if ((seen & Pseudo.AUTHORITY) === 0 || authority.length === 0) return 'CONNECT without :authority (§8.5)';
  } else {
    if ((seen & Pseudo.SCHEME) === 0) return 'missing :scheme (§8.3.1)';
    if (scheme !== lastScheme && !SCHEME.test(scheme)) return `invalid :scheme ${JSON.stringify(scheme)} (§8.3.1, RFC 3986 §3.1)`;
    if ((seen & Pseudo.PATH) === 0) return 'missing :path (§8.3.1)';
    if (path.length === 0) return 'empty :path (§8.3.1)';
    if (scheme === 'http' || scheme === 'https') {
      // §8.3.1: origin-form, or '*' for OPTIONS (asterisk-form).
      const c = path.charCodeAt(0);
      if (c !== 0x2f && !(path === '*' && method === 'OPTIONS')) return `:path ${JSON.stringify(path)} is not origin-form (§8.3.1)`;
    }
  }
  if ((seen & Pseudo.AUTHORITY) !== 0) {
    if (authority.length === 0) return 'empty :authority (§8.3.1)';
    if (authority.indexOf('@') >= 0) return ':authority with userinfo (§8.3.1)';
    if (authority !== lastAuthority && !AUTHORITY.test(authority))
      return `invalid :authority ${JSON.stringify(authority)} (§8.3.1: host and optional port, RFC 3986 §3.2)`;
    if (host !== null && normalizeAuthority(host, scheme) !== normalizeAuthority(authority, scheme)) {
      return 'host and :authority name different hosts (§8.3.1)';
    }
  } else if (host !== null) {
    if (host.length === 0) return 'empty host (§8.3.1)';
    authority = host;
  } else if (scheme === 'http' || scheme === 'https') {
    // §8.3.1: these schemes have a mandatory authority component.
    return 'neither :authority nor host (§8.3.1)';
  }
  // Most requests repeat these values: the next check of the same one is skipped.
  lastMethod = method;
  if ((seen & Pseudo.SCHEME) !== 0) lastScheme = scheme;
  if ((seen & Pseudo.AUTHORITY) !== 0) lastAuthority = authority;
  return { method, scheme, authority, path, headers, contentLength, ascii: seenBits < 0x80 };
}

/** Request field names already found valid (bounded). */
const goodRequestNames = new Set<string>();

let lastMethod = '';
let lastScheme = '';
let lastAuthority = '';

/** Scheme-based normalization (RFC 3986 §6.2.3) for comparing host with :authority: case and default port. */
function normalizeAuthority(a: string, scheme: string): string {
  let v = a.toLowerCase();
  const port = scheme === 'http' ? ':80' : scheme === 'https' ? ':443' : '';
  if (port && v.endsWith(port)) v = v.slice(0, -port.length);
  else if (v.endsWith(':')) v = v.slice(0, -1);
  return v;
}

/** Validates a trailer section (§8.1): no pseudo-header fields, regular field rules. */
export function validateTrailers(fields: ReadonlyArray<readonly [string, string]>): Array<[string, string]> | string {
  const out: Array<[string, string]> = [];
  for (const [name, value] of fields) {
    if (name.charCodeAt(0) === 0x3a) return `pseudo-header ${name} in trailers (§8.1)`;
    const bad = checkRegular(name, value);
    if (bad) return bad;
    out.push([name, value]);
  }
  return out;
}

const NO_HEADERS: Array<[string, string]> = Object.freeze([]) as unknown as Array<[string, string]>;

/**
 * A connection's last valid head, by the identity of the field list it was
 * validated from: the decoder hands back the same list for a block repeated
 * octet for octet (Inflater.inflateShared), which is not validated again.
 * Each caller gets a head and a headers array of its own (`copy`: an object
 * literal per role, which V8 makes faster than a spread shared by both).
 */
export class HeadMemo<H> {
  private fields: ReadonlyArray<readonly [string, string]> | null = null;
  private keep = false;
  private head: H | null = null;

  constructor(
    private readonly validate: (fields: ReadonlyArray<readonly [string, string]>, keep: boolean) => H | string,
    private readonly copy: (head: H) => H,
  ) {}

  /** validate(fields, keep), or a copy of its last result for the same list and `keep`. */
  get(fields: ReadonlyArray<readonly [string, string]>, keep: boolean): H | string {
    const last = this.head;
    if (fields === this.fields && keep === this.keep && last !== null) return this.copy(last);
    const head = this.validate(fields, keep);
    if (typeof head !== 'string') {
      this.fields = fields;
      this.keep = keep;
      this.head = this.copy(head);
    }
    return head;
  }
}

/** A request head with a headers array of its own. */
export function copyRequestHead(h: RequestHead): RequestHead {
  return {
    method: h.method,
    scheme: h.scheme,
    authority: h.authority,
    path: h.path,
    headers: h.headers.slice(),
    contentLength: h.contentLength,
    ascii: h.ascii,
  };
}

/** A response head with a headers array of its own (the shared empty one stays shared). */
export function copyResponseHead(h: ResponseHead): ResponseHead {
  return { status: h.status, headers: h.headers === NO_HEADERS ? h.headers : h.headers.slice(), contentLength: h.contentLength, ascii: h.ascii };
}

/** A validated response head (§8.3.2). */
export interface ResponseHead {
  status: number;
  /** Regular fields, in order. */
  headers: Array<[string, string]>;
  /** The content-length value, or -1 when absent. */
  contentLength: number;
  /** Every value is ASCII: the octet strings are their own text. */
  ascii: boolean;
}

/**
 * Validates a response's field section (§8.3.2): one :status of three
 * digits before the regular fields, no other pseudo-header. Returns the head
 * (with an empty, frozen header list unless `keepHeaders`), or a string
 * saying why the response is malformed.
 */
export function validateResponse(fields: ReadonlyArray<readonly [string, string]>, keepHeaders = true): ResponseHead | string {
  seenBits = 0;
  let status = -1;
  let contentLength = -1;
  let regular = false;
  // Without keepHeaders (nobody will read them: a load generator), the fields are checked, not copied.
  const headers: Array<[string, string]> = keepHeaders ? [] : NO_HEADERS;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const name = field[0];
    const value = field[1];
    if (name.charCodeAt(0) === 0x3a) {
      if (regular) return `pseudo-header ${name} after a regular field (§8.3)`;
      if (name !== ':status') return `${name} in a response (§8.3.2)`;
      if (status >= 0) return 'duplicate :status (§8.3.2)';
      status = statusCode(value);
      if (status < 0) return `invalid :status ${JSON.stringify(value)} (§8.3.2)`;
      continue;
    }
    const bad = checkRegularSeen(field, goodResponseNames);
    if (bad) return bad;
    if (name === 'content-length') {
      const n = parseContentLength(value);
      if (n < 0) return `invalid content-length ${JSON.stringify(value)} (§8.1.1)`;
      if (contentLength >= 0 && n !== contentLength) return 'conflicting content-length fields (§8.1.1)';
      contentLength = n;
    }
    regular = true;
    if (keepHeaders) headers.push(field as [string, string]);
  }
  if (status < 0) return 'missing :status (§8.3.2)';
  return { status, headers, contentLength, ascii: seenBits < 0x80 };
}

/** Response field names already found valid (bounded): the same few names come in every response. */
const goodResponseNames = new Set<string>();

/** A :status value: three digits, the first 1 to 9 (§8.3.2); -1 otherwise. */
function statusCode(v: string): number {
  if (v.length !== 3) return -1;
  const a = v.charCodeAt(0) - 0x30;
  const b = v.charCodeAt(1) - 0x30;
  const c = v.charCodeAt(2) - 0x30;
  if (a < 1 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9) return -1;
  return a * 100 + b * 10 + c;
}
