/**
 * Routing as nghttpx does it (its --backend help): a pattern is a host, a
 * path, or host + path. A path ending in "/" matches its subtree (and the
 * path without that slash), one ending in "*" matches longer paths that start
 * with it, any other path only itself. Patterns with a host win over
 * path-only ones, exact hosts over "*." wildcards, longer patterns over
 * shorter ones. Backends that share a pattern form a group balanced round
 * robin; a backend that refuses connections is left out for a backoff
 * (1 s, doubling up to --backend-max-backoff) and tried again after it.
 */
import type { BackendAddress } from './config.js';

export interface Pattern {
  /** Lowercase host, "*.example.com" style wildcard, or null for any host. */
  host: string | null;
  path: string;
  /** The pattern as written, for messages and as the group's key. */
  text: string;
}

/** Parses one <PATTERN> ("" and "/" are the catch-all). */
export function parsePattern(text: string): Pattern {
  if (text === '') return { host: null, path: '/', text: '/' };
  const slash = text.indexOf('/');
  const hostPart = slash < 0 ? text : text.slice(0, slash);
  const path = slash < 0 ? '/' : normalizePath(text.slice(slash));
  if (hostPart === '') return { host: null, path, text };
  const host = hostPart.toLowerCase();
  if (host.includes('*') && !(host.startsWith('*') && host.indexOf('*', 1) < 0 && host.length > 1)) {
    throw new Error(`pattern '${text}': "*" may only stand leftmost in the host`);
  }
  return { host, path, text };
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * The path as nghttpx matches it: the query dropped, percent-encoded
 * unreserved characters decoded, dot-segments removed (RFC 3986 §5.2.4).
 */
export function normalizePath(raw: string): string {
  const q = raw.search(/[?#]/);
  let p = q < 0 ? raw : raw.slice(0, q);
  if (p.includes('%')) {
    p = p.replace(/%([0-9A-Fa-f]{2})/g, (m, h: string) => {
      const ch = String.fromCharCode(parseInt(h, 16));
      return UNRESERVED.test(ch) ? ch : m.toUpperCase();
    });
  }
  if (!p.startsWith('/')) p = `/${p}`;
  if (!p.includes('/.')) return p;
  const out: string[] = [];
  const segs = p.split('/');
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    if (s === '.') {
      if (i === segs.length - 1) out.push('');
    } else if (s === '..') {
      out.pop();
      if (i === segs.length - 1) out.push('');
    } else out.push(s);
  }
  return `/${out.join('/')}`;
}

function pathMatches(pattern: string, path: string): boolean {
  if (pattern.endsWith('*')) {
    const base = pattern.slice(0, -1);
    return path.length > base.length && path.startsWith(base);
  }
  if (pattern.endsWith('/')) return path.startsWith(pattern) || path === pattern.slice(0, -1);
  return path === pattern;
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*')) {
    const suffix = pattern.slice(1);
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return pattern === host;
}

/** One backend address and its health. */
export class Backend {
  /** Consecutive connection failures. */
  failures = 0;
  /** Left out until this time (Date.now() ms); 0: in. */
  downUntil = 0;
  /** What makes two backends the same connection pool. */
  readonly key: string;
  constructor(readonly address: BackendAddress) {
    const a = address;
    this.key = `${a.proto}|${a.tls ? 'tls' : 'tcp'}|${a.host}|${a.port}|${a.sni ?? ''}`;
  }

  get label(): string {
    const h = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `${h}:${this.address.port}`;
  }
}

/** Backends that share a pattern. */
export class Group {
  private next = 0;
  readonly backends: Backend[] = [];
  constructor(readonly pattern: Pattern) {}

  /** The next backend round robin, skipping the ones left out; null when all are. */
  pick(now: number): Backend | null {
    const n = this.backends.length;
    for (let i = 0; i < n; i++) {
      const b = this.backends[(this.next + i) % n]!;
      if (b.downUntil <= now) {
        this.next = (this.next + i + 1) % n;
        return b;
      }
    }
    return null;
  }
}

export class Router {
  readonly groups: Group[] = [];
  private readonly exact = new Map<string, Group[]>();
  private readonly wildcard: Group[] = [];
  private readonly pathOnly: Group[] = [];
  /** Every distinct backend (one per address and protocol). */
  readonly backends = new Map<string, Backend>();
  /** The one group when it is a catch-all ("/" for any host): every request goes there. */
  private readonly only: Group | null;

  constructor(
    addresses: BackendAddress[],
    private readonly maxBackoff = 120_000,
  ) {
    const byPattern = new Map<string, Group>();
    for (const a of addresses) {
      for (const p of a.patterns) {
        const key = `${p.host ?? ''}${p.path}`;
        let g = byPattern.get(key);
        if (!g) {
          g = new Group(p);
          byPattern.set(key, g);
          this.groups.push(g);
        }
        const b = new Backend({ ...a, patterns: [p] });
        const existing = this.backends.get(b.key);
        g.backends.push(existing ?? b);
        if (!existing) this.backends.set(b.key, b);
      }
    }
    // Longer patterns first (nghttpx: longer patterns take precedence).
    const longer = (a: Group, b: Group) => b.pattern.path.length - a.pattern.path.length;
    for (const g of this.groups) {
      const h = g.pattern.host;
      if (h === null) this.pathOnly.push(g);
      else if (h.startsWith('*')) this.wildcard.push(g);
      else {
        const list = this.exact.get(h) ?? [];
        list.push(g);
        this.exact.set(h, list);
      }
    }
    for (const l of this.exact.values()) l.sort(longer);
    this.pathOnly.sort(longer);
    // Longer wildcard hosts first, then longer paths.
    this.wildcard.sort((a, b) => b.pattern.host!.length - a.pattern.host!.length || longer(a, b));
    const g = this.groups.length === 1 ? this.groups[0]! : null;
    this.only = g !== null && g.pattern.host === null && g.pattern.path === '/' ? g : null;
  }

  /** The group for a request's host (:authority or Host, port dropped) and path; null when none matches. */
  match(authority: string, rawPath: string): Group | null {
    if (this.only !== null) return this.only;
    const host = hostOf(authority);
    const path = normalizePath(rawPath);
    const exact = this.exact.get(host);
    if (exact) for (const g of exact) if (pathMatches(g.pattern.path, path)) return g;
    for (const g of this.wildcard) if (hostMatches(g.pattern.host!, host) && pathMatches(g.pattern.path, path)) return g;
    for (const g of this.pathOnly) if (pathMatches(g.pattern.path, path)) return g;
    return null;
  }

  /**
   * The backend could not be connected to: leave it out for a backoff that
   * doubles with each failure in a row. Failures while it is already out
   * (the other connection attempts of the same moment) do not count again.
   */
  failed(b: Backend, now = Date.now()): number {
    if (b.downUntil > now) return b.downUntil - now;
    b.failures++;
    const backoff = Math.min(this.maxBackoff, 1000 * 2 ** Math.min(20, b.failures - 1));
    b.downUntil = now + backoff;
    return backoff;
  }

  /** The backend answered: it is in again. */
  succeeded(b: Backend): void {
    b.failures = 0;
    b.downUntil = 0;
  }
}

/** The host of an authority, lowercase, without the port. */
export function hostOf(authority: string): string {
  let h = authority;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return (end < 0 ? h : h.slice(0, end + 1)).toLowerCase();
  }
  const colon = h.lastIndexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  return h.toLowerCase();
}
