/**
 * What the proxy does to header sections on the way through, as nghttpx
 * does it: hop-by-hop fields removed both ways (RFC 9110 §7.6.1: Connection,
 * the fields it names, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding,
 * Upgrade), Host from :authority, TE kept as "trailers" when the client
 * accepts them, cookies crumbled in HTTP/2 joined for HTTP/1.1 backends
 * (RFC 9113 §8.2.3), X-Forwarded-For / X-Forwarded-Proto / Forwarded /
 * Via appended, the added fields of --add-request-header and
 * --add-response-header, and Server rewritten. Names are lowercase and
 * values octet strings (one char per octet) throughout.
 */
import { randomBytes } from 'node:crypto';
import { HOP_BY_HOP } from '../h2/request.js';
import { isAscii } from '../hpack/octets.js';
import type { ProxyConfig } from './config.js';

export type Fields = Array<[string, string]>;

/** A field whose value may go out as octets (a Uint8Array) rather than as text. */
export type OctetField = [string, string | Uint8Array];

/**
 * Fields whose values are octet strings, for an HTTP/2 engine that sends a
 * string value as UTF-8 text: a value with octets over 0x7f becomes those
 * octets (a Buffer), the others stay as they are (ASCII is its own UTF-8).
 * `fields` itself is returned when every value is ASCII.
 */
export function asOctets(fields: Fields): Fields | OctetField[] {
  let out: OctetField[] | null = null;
  for (let i = 0; i < fields.length; i++) {
    const v = fields[i]![1];
    if (isAscii(v)) continue;
    out ??= fields.slice();
    out[i] = [fields[i]![0], Buffer.from(v, 'latin1')];
  }
  return out ?? fields;
}

/** What the request came in over. */
export interface Inbound {
  method: string;
  scheme: string;
  authority: string;
  path: string;
  headers: Fields;
  /** "2" for HTTP/2, "1.1" or "1.0" for HTTP/1.x (Via's protocol version). */
  version: string;
  remoteAddress: string;
  localAddress: string;
  localPort: number;
  tls: boolean;
  /** The connection's obfuscated Forwarded "for" value (nghttpx: one per connection). */
  obfuscatedFor: string;
}

/** A random Forwarded obfuscated identifier (RFC 7239 §6.3). */
export function obfuscatedNode(): string {
  return `_${randomBytes(6).toString('hex')}`;
}

/** The field names Connection nominates, other than the hop-by-hop ones removed anyway; null: none. */
function connectionTokens(headers: Fields): Set<string> | null {
  let set: Set<string> | null = null;
  for (let i = 0; i < headers.length; i++) {
    const f = headers[i]!;
    if (f[0] !== 'connection') continue;
    const v = f[1];
    // "keep-alive", as most backends send: nothing to collect.
    if (HOP_BY_HOP.has(v)) continue;
    for (const t of v.split(',')) {
      const s = t.trim().toLowerCase();
      if (s !== '' && !HOP_BY_HOP.has(s)) (set ??= new Set()).add(s);
    }
  }
  return set;
}

const FORWARDED_ORDER = ['by', 'for', 'host', 'proto'] as const;

/** Appends a value to a comma-separated list (RFC 9110 §5.3). */
function join(prev: string | null, v: string): string {
  return prev === null ? v : `${prev}, ${v}`;
}

function quoteNode(addr: string, port?: number): string {
  if (addr.includes(':')) return `"[${addr}]${port !== undefined ? `:${port}` : ''}"`;
  return port !== undefined ? `"${addr}:${port}"` : addr;
}

/**
 * The precomputed parts of the rules for one configuration (the "by"
 * identifier of Forwarded is made once, as nghttpx makes it at start-up).
 */
export class HeaderRules {
  private readonly forwardedBy: string;
  private readonly serverField: [string, string];
  /** The fields responses get from the configuration (Server, --add-response-header, Via) have octets over 0x7f. */
  readonly addsNonAscii: boolean;
  /** Via entries ("2 h2proxy"...) and fields, by protocol version; x-forwarded-proto fields by scheme. */
  private readonly viaEntries = new Map<string, string>();
  private readonly viaFields = new Map<string, [string, string]>();
  private readonly protoFields = new Map<string, [string, string]>();

  constructor(private readonly c: ProxyConfig) {
    this.forwardedBy = c.forwardedBy === 'obfuscated' ? obfuscatedNode() : c.forwardedBy;
    this.serverField = ['server', c.serverName];
    this.addsNonAscii = !isAscii(c.serverName) || c.addResponseHeaders.some(([, v]) => !isAscii(v));
  }

  private viaEntry(version: string): string {
    let v = this.viaEntries.get(version);
    if (v === undefined) this.viaEntries.set(version, (v = `${version} ${this.c.serverName}`));
    return v;
  }

  /** `via` alone (no Via came in): one pair per version, shared. */
  private viaField(version: string): [string, string] {
    let f = this.viaFields.get(version);
    if (f === undefined) this.viaFields.set(version, (f = ['via', this.viaEntry(version)]));
    return f;
  }

  private protoField(scheme: string): [string, string] {
    let f = this.protoFields.get(scheme);
    if (f === undefined) {
      f = ['x-forwarded-proto', scheme];
      if (this.protoFields.size < 8) this.protoFields.set(scheme, f);
    }
    return f;
  }

  /**
   * The fields the backend sees (without pseudo-headers): `h1` for an
   * HTTP/1.1 backend (Host first, from :authority; cookies joined with "; "
   * into one field), else for HTTP/2 (crumbled cookies kept apart;
   * :authority carries the host).
   */
  request(r: Inbound, h1: boolean): Fields {
    const c = this.c;
    const nominated = connectionTokens(r.headers);
    // HTTP/1.1: Host first (RFC 9112 §3.2), from :authority.
    const out: Fields = h1 ? [['host', r.authority]] : [];
    let xff: string | null = null;
    let forwarded: string | null = null;
    let via: string | null = null;
    let cookies: string[] | null = null;
    let te = false;
    for (let i = 0; i < r.headers.length; i++) {
      const f = r.headers[i]!;
      const n = f[0];
      if (HOP_BY_HOP.has(n)) {
        if (
          n === 'te' &&
          f[1]
            .toLowerCase()
            .split(',')
            .some((t) => t.trim().split(';')[0] === 'trailers')
        )
          te = true;
        continue;
      }
      if (nominated?.has(n)) continue;
      switch (n) {
        case 'x-forwarded-for':
          if (!c.stripIncomingXForwardedFor) xff = join(xff, f[1]);
          continue;
        case 'x-forwarded-proto':
          if (c.noStripIncomingXForwardedProto) out.push(f);
          continue;
        case 'forwarded':
          if (!c.stripIncomingForwarded) forwarded = join(forwarded, f[1]);
          continue;
        case 'via':
          via = join(via, f[1]);
          continue;
        case 'cookie':
          if (h1) {
            (cookies ??= []).push(f[1]);
            continue;
          }
          break;
        case 'early-data':
          continue; // nghttpx strips it unless --no-strip-incoming-early-data
      }
      out.push(f);
    }
    if (cookies !== null) out.push(['cookie', cookies.join('; ')]);
    if (te) out.push(['te', 'trailers']);
    if (c.addForwarded.length > 0) {
      const params: string[] = [];
      // In nghttpx's order, whatever the order of --add-forwarded.
      for (const p of FORWARDED_ORDER) {
        if (!c.addForwarded.includes(p)) continue;
        if (p === 'by') params.push(`by=${c.forwardedBy === 'ip' ? quoteNode(r.localAddress, r.localPort) : this.forwardedBy}`);
        else if (p === 'for') params.push(`for=${c.forwardedFor === 'ip' ? quoteNode(r.remoteAddress) : r.obfuscatedFor}`);
        else if (p === 'host' && r.authority !== '')
          params.push(`host=${/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(r.authority) ? r.authority : JSON.stringify(r.authority)}`);
        else if (p === 'proto') params.push(`proto=${r.scheme || (r.tls ? 'https' : 'http')}`);
      }
      if (params.length > 0) forwarded = join(forwarded, params.join(';'));
    }
    if (forwarded !== null) out.push(['forwarded', forwarded]);
    if (c.addXForwardedFor) xff = join(xff, r.remoteAddress);
    if (xff !== null) out.push(['x-forwarded-for', xff]);
    if (!c.noAddXForwardedProto) out.push(this.protoField(r.scheme || (r.tls ? 'https' : 'http')));
    if (!c.noVia) {
      if (via === null) out.push(this.viaField(r.version));
      else out.push(['via', join(via, this.viaEntry(r.version))]);
    } else if (via !== null) out.push(['via', via]);
    for (const f of c.addRequestHeaders) out.push(f);
    return out;
  }

  /**
   * The response fields the client sees: hop-by-hop removed, Server
   * rewritten, Via appended with the backend's protocol version ("1.1" or
   * "2"), --add-response-header appended. Set-Cookie fields stay apart.
   */
  response(headers: Fields, backendVersion: string): Fields {
    const c = this.c;
    const nominated = connectionTokens(headers);
    const out: Fields = [];
    let via: string | null = null;
    let server = false;
    for (let i = 0; i < headers.length; i++) {
      const f = headers[i]!;
      const n = f[0];
      if (HOP_BY_HOP.has(n) || nominated?.has(n)) continue;
      if (n === 'via') {
        via = join(via, f[1]);
        continue;
      }
      if (n === 'server') {
        if (c.noServerRewrite) {
          out.push(f);
          server = true;
        }
        continue;
      }
      out.push(f);
    }
    if (!server) out.push(this.serverField);
    if (!c.noVia) {
      if (via === null) out.push(this.viaField(backendVersion));
      else out.push(['via', join(via, this.viaEntry(backendVersion))]);
    } else if (via !== null) out.push(['via', via]);
    for (const f of c.addResponseHeaders) out.push(f);
    return out;
  }

  /** Trailer fields passed through: without hop-by-hop fields and pseudo-headers. */
  trailers(fields: Fields): Fields {
    return fields.filter(([n]) => !HOP_BY_HOP.has(n) && n.charCodeAt(0) !== 0x3a);
  }

  /** The fields of an answer h2proxy makes itself (502, 504...). */
  get server(): [string, string] {
    return this.serverField;
  }
}
