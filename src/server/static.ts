/**
 * The static-file layer of h2serve: turns a GET or HEAD request into a
 * response description (status, header fields, body) without knowing about
 * HTTP/2. The engine sends it; this module only finds files.
 *
 * Safety: the request path is normalised by request-path.ts (nothing in it
 * can climb out), and files are opened by open-inside.ts, which checks the
 * resolved path and then the descriptor against the root.
 *
 * Speed and bounds: files up to `memoryFileLimit` bytes are read whole and
 * cached with their responses ready; larger ones are streamed from one
 * descriptor per file, shared by every response streaming it (shared-file.ts).
 * Both are answered without opening anything while a stat shows the same
 * file (file-cache.ts), so a hit costs a path check, a Map lookup and one
 * synchronous stat (`statOncePerTurn` shares it between the requests that
 * arrived in one turn of the event loop). Concurrent lookups of one path share one load, and a
 * load whose requests are all gone (`StaticRequest.closed`) stops before its
 * next file operation. Header lists that are the same on every call (cached
 * files, error pages) are frozen, so a caller may memoise work per list
 * (`Object.isFrozen`).
 */

import { createHash } from 'node:crypto';
import { realpathSync, type Stats, statSync } from 'node:fs';
import { acceptsGzip, evaluateRange, ifRangeHolds, parseEntityTags, strongMatch, weakMatch } from './conditional.js';
import { errorPageBytes } from './error-pages.js';
import { type Checked, FileCache, type OpenEntry, type Representation, type SmallEntry } from './file-cache.js';
import { formatHttpDate, parseHttpDate } from './http-date.js';
import { BUILTIN_MIME_TYPES, contentTypeFor, DEFAULT_MIME_TYPES_FILE, type MimeTable, readMimeTypesFile } from './mime.js';
import { NODE_FS, type Opened, openInside, procFdWorks, type RootCheck, type StaticFs, sameFile } from './open-inside.js';
import { encodeKey, type NormalisedPath, normaliseRequestPath } from './request-path.js';
import { OpenFiles } from './shared-file.js';
import type { BytesBody, HeaderList, NoBody, StaticBody, StaticRequest, StaticResponse } from './types.js';

export type { StaticFs } from './open-inside.js';
export type { BytesBody, FileBody, HeaderList, NoBody, StaticBody, StaticRequest, StaticResponse } from './types.js';

export interface StaticFilesOptions {
  /** Document root (nghttpd's -d). Must be an existing directory. */
  readonly root: string;
  /**
   * A mime.types file (nghttpd's --mime-types-file). When given and
   * unreadable, the constructor throws. When not given, /etc/mime.types is
   * used if readable, else the built-in table.
   */
  readonly mimeTypesFile?: string;
  /** A ready table; wins over `mimeTypesFile`. */
  readonly mimeTypes?: MimeTable;
  /** Content-Type for unknown extensions; by default none is sent (as nghttpd). */
  readonly defaultContentType?: string;
  /** nghttpd's --no-content-length: no content-length on any response. */
  readonly noContentLength?: boolean;
  /** nghttpd's -e/--error-gzip: gzip error pages (when Accept-Encoding allows). */
  readonly errorGzip?: boolean;
  /** Cache-Control on file responses; default 'max-age=3600' (nghttpd's); null for none. */
  readonly cacheControl?: string | null;
  /**
   * 'deny' (default): any path segment starting with '.' (in the request or
   * in the resolved file's path under the root) is 404, so .git, .env and
   * .htpasswd are never served. 'allow': served like other files (nghttpd).
   */
  readonly dotfiles?: 'deny' | 'allow';
  /** Served for directory requests; default 'index.html'. */
  readonly indexFile?: string;
  /** Text for the `<address>` line of error pages, e.g. "h2serve at port 8080". */
  readonly signature?: string;
  /** Files up to this size are read into memory and cached; larger ones are streamed. Default 256 KiB. */
  readonly memoryFileLimit?: number;
  /** Total bytes of cached file contents. Default 64 MiB. */
  readonly cacheMaxBytes?: number;
  /** Number of cached files. Default 10000. */
  readonly cacheMaxEntries?: number;
  /**
   * 0 (default): every cache hit is checked with a stat. n > 0: an entry
   * checked less than n ms ago is served without one (for slow file systems).
   */
  readonly revalidateMs?: number;
  /**
   * false (default): every cache hit is checked with its own stat. true: a
   * cached file is checked at most once per turn of the event loop (all the
   * reads of one poll, on every connection, up to the next check phase:
   * setImmediate), so the requests that arrived together share one stat. A change made
   * before the turn began is always seen; one made during it is seen from
   * the next turn on.
   */
  readonly statOncePerTurn?: boolean;
  /**
   * A file whose ctime is less than this many ms old is "racy": a second
   * write in the same tick of the file system's clock, keeping the size,
   * would leave its stat unchanged. Racy cached files are read again once
   * the window has passed, and racy streamed files get no ETag. Default 2000
   * (covers file systems with 1 s or 2 s timestamps).
   */
  readonly racyWindowMs?: number;
  /** The clock, in ms since the epoch (tests pin it). Default Date.now. */
  readonly now?: () => number;
  /** The file system calls (tests count or delay them). Default node:fs. */
  readonly fs?: StaticFs;
}

export type StaticFilesErrorCode = 'ROOT_UNUSABLE' | 'MIME_TYPES_UNREADABLE' | 'BAD_OPTION';

/** A configuration problem found by the constructor. */
export class StaticFilesError extends Error {
  override readonly name = 'StaticFilesError';
  constructor(
    readonly code: StaticFilesErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The answer to a request that was closed (`StaticRequest.closed`) before
 * its file was found: nothing more was looked up, and nobody will see it.
 */
export const ABANDONED: StaticResponse = Object.freeze({ status: 503, headers: Object.freeze([]), body: Object.freeze({ kind: 'none' }) });

/** What loading a path found: the same for every request that waited for it. */
type Loaded =
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'redirect' }
  | { readonly kind: 'small'; readonly entry: SmallEntry }
  | { readonly kind: 'open'; readonly entry: OpenEntry; readonly release: () => Promise<void> }
  | { readonly kind: 'abandoned' };

/** One load of a path and the requests waiting for it. */
interface Load {
  readonly waiters: Array<{ readonly req: StaticRequest; readonly resolve: (res: StaticResponse) => void }>;
}

interface Conditionals {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
  range?: string;
  ifRange?: string;
}

type Decision = 200 | 304 | 412 | 416 | { readonly start: number; readonly end: number };

const NO_BODY: NoBody = Object.freeze({ kind: 'none' });
const ALLOW: readonly [string, string] = ['allow', 'GET, HEAD'];
const ERROR_STATUSES = [400, 404, 405, 412, 416, 500] as const;
const LOAD_ABANDONED: Loaded = Object.freeze({ kind: 'abandoned' });
const LOAD_REDIRECT: Loaded = Object.freeze({ kind: 'redirect' });

interface ErrorVariant {
  readonly headers: HeaderList;
  readonly body: BytesBody;
}

export class StaticFiles {
  /** The real path of the document root. */
  readonly root: string;
  private readonly check: RootCheck;
  private readonly mime: MimeTable;
  private readonly defaultContentType: string | undefined;
  private readonly noContentLength: boolean;
  private readonly errorGzip: boolean;
  private readonly cacheControl: string | null;
  private readonly denyDotfiles: boolean;
  private readonly indexFile: string;
  private readonly memoryFileLimit: number;
  private readonly racyWindowMs: number;
  private readonly now: () => number;
  private readonly errorPlain = new Map<number, ErrorVariant>();
  private readonly errorGzipped = new Map<number, ErrorVariant>();
  private readonly cache: FileCache;
  private readonly openFiles = new OpenFiles();
  private readonly loading = new Map<string, Load>();
  private reads = 0;

  /**
   * Resolves the root and loads the mime table synchronously: this runs once
   * at start-up, and a bad root should fail there, not on the first request.
   */
  constructor(options: StaticFilesOptions) {
    let root: string;
    try {
      root = realpathSync(options.root);
      if (!statSync(root).isDirectory()) throw new Error('not a directory');
    } catch (e) {
      throw new StaticFilesError('ROOT_UNUSABLE', `document root ${options.root}: ${(e as Error).message}`);
    }
    this.root = root;

    if (options.mimeTypes !== undefined) {
      this.mime = options.mimeTypes;
    } else if (options.mimeTypesFile !== undefined) {
      const table = readMimeTypesFile(options.mimeTypesFile);
      if (table === undefined) {
        throw new StaticFilesError('MIME_TYPES_UNREADABLE', `could not read mime types file ${options.mimeTypesFile}`);
      }
      this.mime = table;
    } else {
      this.mime = readMimeTypesFile(DEFAULT_MIME_TYPES_FILE) ?? BUILTIN_MIME_TYPES;
    }

    const index = options.indexFile ?? 'index.html';
    if (index === '' || index.includes('/') || index === '.' || index === '..') {
      throw new StaticFilesError('BAD_OPTION', `indexFile must be a plain file name: ${index}`);
    }
    this.indexFile = index;
    this.defaultContentType = options.defaultContentType;
    this.noContentLength = options.noContentLength === true;
    this.errorGzip = options.errorGzip === true;
    this.cacheControl = options.cacheControl === undefined ? 'max-age=3600' : options.cacheControl;
    this.denyDotfiles = (options.dotfiles ?? 'deny') === 'deny';
    this.memoryFileLimit = nonNegative('memoryFileLimit', options.memoryFileLimit, 256 * 1024);
    this.racyWindowMs = nonNegative('racyWindowMs', options.racyWindowMs, 2000);
    this.now = options.now ?? Date.now;
    const fs = options.fs ?? NODE_FS;
    this.check = {
      fs,
      root,
      prefix: root.endsWith('/') ? root : `${root}/`,
      denyDotfiles: this.denyDotfiles,
      procFd: procFdWorks(root),
    };
    this.cache = new FileCache({
      fs,
      maxBytes: nonNegative('cacheMaxBytes', options.cacheMaxBytes, 64 * 1024 * 1024),
      maxEntries: nonNegative('cacheMaxEntries', options.cacheMaxEntries, 10_000),
      revalidateMs: nonNegative('revalidateMs', options.revalidateMs, 0),
      statOncePerTurn: options.statOncePerTurn === true,
      now: this.now,
    });

    for (const status of ERROR_STATUSES) {
      this.errorPlain.set(status, this.buildError(status, options.signature, false));
      if (this.errorGzip) this.errorGzipped.set(status, this.buildError(status, options.signature, true));
    }
  }

  /**
   * Answers without waiting when no file has to be opened: cached files,
   * files being streamed already, 400/404 for refused paths, 405. Returns
   * undefined when `respond()` must do I/O. The engine may call this first
   * to skip a promise per request.
   */
  respondFromCache(req: StaticRequest): StaticResponse | undefined {
    const r = this.lookup(req);
    return 'status' in r ? r : undefined;
  }

  /**
   * The response for a request (see docs/static-files.md for the full
   * behaviour). A response with a file body holds a reference to the
   * file's descriptor: call `releaseBody` (or `body.release()`) once done.
   * Requests for the same path made while one is being looked up share
   * that lookup. A request closed meanwhile gets `ABANDONED`.
   */
  respond(req: StaticRequest): Promise<StaticResponse> {
    let r: StaticResponse | NormalisedPath;
    try {
      r = this.lookup(req);
    } catch (e) {
      return Promise.reject(e);
    }
    if ('status' in r) return Promise.resolve(r);
    return new Promise((resolve) => {
      let load = this.loading.get(r.key);
      const first = load === undefined;
      if (load === undefined) {
        load = { waiters: [] };
        this.loading.set(r.key, load);
      }
      load.waiters.push({ req, resolve });
      if (first) void this.run(load, r);
    });
  }

  /** Drops every cached file (descriptors in use stay open until their responses release them). */
  clearCache(): void {
    this.cache.clear();
  }

  /**
   * Cached files, their total size, how many times a small file was read
   * from disk, how many stats checked cache hits, and how many descriptors
   * are open for responses that stream files.
   */
  get cacheStats(): {
    readonly entries: number;
    readonly bytes: number;
    readonly reads: number;
    readonly stats: number;
    readonly descriptors: number;
  } {
    const c = this.cache;
    return { entries: c.entries, bytes: c.bytes, reads: this.reads, stats: c.stats, descriptors: this.openFiles.size };
  }

  private lookup(req: StaticRequest): StaticResponse | NormalisedPath {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return this.error(405, req);
    const p = normaliseRequestPath(req.path);
    if (!p.ok) return this.error(p.status, req);
    const entry = this.cache.get(p.key);
    if (entry === undefined) return p;
    return entry.kind === 'small' ? this.fromMemory(entry, req) : this.fromOpen(entry, req);
  }

  /** Loads a path once for every request waiting for it, then answers each. */
  private async run(load: Load, p: NormalisedPath): Promise<void> {
    const waiters = load.waiters;
    // Abandoned when every request waiting is closed: the load stops, and
    // a request that comes later starts a new one.
    const abandoned = (): boolean => {
      for (let i = 0; i < waiters.length; i++) if (waiters[i]!.req.closed !== true) return false;
      if (this.loading.get(p.key) === load) this.loading.delete(p.key);
      return true;
    };
    let loaded: Loaded;
    try {
      loaded = await this.load(p, abandoned);
    } catch {
      // Errors the file system paths do not expect (EIO mid-read, EMFILE
      // while closing): the requests fail, the server does not.
      loaded = { kind: 'status', status: 500 };
    }
    if (this.loading.get(p.key) === load) this.loading.delete(p.key);
    for (const { req, resolve } of waiters) {
      let res: StaticResponse;
      try {
        res = this.answer(loaded, req, p);
      } catch {
        res = this.error(500, req);
      }
      resolve(res);
    }
    // The load's own reference: released once every waiter has taken theirs.
    if (loaded.kind === 'open') void loaded.release();
  }

  private answer(loaded: Loaded, req: StaticRequest, p: NormalisedPath): StaticResponse {
    if (req.closed === true) return ABANDONED;
    switch (loaded.kind) {
      case 'status':
        return this.error(loaded.status, req);
      case 'redirect':
        return this.redirect(req, p);
      case 'small':
        return this.fromMemory(loaded.entry, req);
      case 'open':
        return this.fromOpen(loaded.entry, req);
      case 'abandoned':
        return ABANDONED;
    }
  }

  /**
   * Finds what a path names. Every step that waits is followed by a check
   * of `abandoned()`, so requests that are gone cost no further file work.
   */
  private async load(p: NormalisedPath, abandoned: () => boolean): Promise<Loaded> {
    // Let the rest of the current read be handled first: a RST_STREAM that
    // came with the request closes it before any file work starts.
    await undefined;
    if (abandoned()) return LOAD_ABANDONED;
    const key = p.key;
    const directory = key.endsWith('/');
    const rel = directory ? key.slice(0, -1) : key; // '' for the root
    if (this.denyDotfiles && rel.includes('/.')) return { kind: 'status', status: 404 };

    let fsPath = this.root + rel;
    let name = rel;
    let opened = await openInside(this.check, fsPath, abandoned);
    if (opened === null) return LOAD_ABANDONED;
    if (typeof opened === 'number') return { kind: 'status', status: opened };
    if (opened.stat.isDirectory()) {
      await opened.handle.close();
      if (!directory) return LOAD_REDIRECT;
      if (abandoned()) return LOAD_ABANDONED;
      fsPath = `${fsPath}/${this.indexFile}`;
      name = this.indexFile;
      opened = await openInside(this.check, fsPath, abandoned);
      if (opened === null) return LOAD_ABANDONED;
      if (typeof opened === 'number') return { kind: 'status', status: opened };
    } else if (directory) {
      // "/file.txt/" names nothing.
      await opened.handle.close();
      return { kind: 'status', status: 404 };
    }
    if (!opened.stat.isFile()) {
      // A directory named index.html, a FIFO, a device: never served.
      await opened.handle.close();
      return { kind: 'status', status: 404 };
    }

    const contentType = contentTypeFor(name, this.mime) ?? this.defaultContentType;
    if (opened.stat.size <= this.memoryFileLimit) {
      const entry = await this.readSmall(opened, fsPath, contentType, abandoned);
      if (entry === null) return LOAD_ABANDONED;
      if (entry.rep.etag !== undefined) this.cache.putSmall(key, entry);
      return { kind: 'small', entry };
    }
    const stat = opened.stat;
    let checked: Checked;
    try {
      checked = this.checked(fsPath, stat, this.representation(stat, stat.size, contentType, this.statEtag(stat)));
    } catch (e) {
      await opened.handle.close();
      throw e;
    }
    const { file, release } = this.openFiles.adopt(opened);
    const entry: OpenEntry = { kind: 'open', file, ...checked };
    this.cache.putOpen(key, entry);
    return { kind: 'open', entry, release };
  }

  /** What an entry keeps to be revalidated, and its 200 and 304 field lists. */
  private checked(fsPath: string, stat: Stats, rep: Representation): Checked {
    const now = this.now();
    return {
      fsPath,
      identity: { dev: stat.dev, ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs },
      rep,
      fields: freezeList(this.fileHeaders(rep, rep.size)),
      notModifiedFields: freezeList(this.notModifiedHeaders(rep)),
      checkedAt: now,
      checkedTurn: 0,
      racyUntil: now - stat.ctimeMs < this.racyWindowMs ? now + this.racyWindowMs : 0,
    };
  }

  /** Reads a small file whole and closes it; null when abandoned meanwhile. */
  private async readSmall(opened: Opened, fsPath: string, contentType: string | undefined, abandoned: () => boolean): Promise<SmallEntry | null> {
    const { handle, stat } = opened;
    let data: Uint8Array;
    let stable: boolean;
    try {
      const size = stat.size;
      // Its own ArrayBuffer (not the shared pool), so holding it holds nothing else.
      const buf = Buffer.allocUnsafeSlow(size);
      let filled = 0;
      if (abandoned()) return null;
      this.reads++;
      while (filled < size) {
        const { bytesRead } = await handle.read(buf, filled, size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
        if (filled < size && abandoned()) return null;
      }
      data = filled === size ? buf : buf.subarray(0, filled);
      stable = filled === size && sameFile(stat, await handle.stat());
    } finally {
      await handle.close();
    }
    // A file that changed while we read it gets no validators (its bytes
    // may mix two versions) and is not cached; the next request reads it again.
    // Otherwise the ETag is a digest of the bytes: strong and exact (§8.8.3),
    // whatever the file system's timestamps are worth.
    const etag = stable ? `"${createHash('sha1').update(data).digest('base64url').slice(0, 22)}"` : undefined;
    const rep = this.representation(stable ? stat : undefined, data.length, contentType, etag);
    const checked = this.checked(fsPath, stat, rep);
    const full: StaticResponse = {
      status: 200,
      headers: checked.fields,
      body: data.length === 0 ? NO_BODY : { kind: 'bytes', bytes: data },
    };
    return {
      kind: 'small',
      ...checked,
      data,
      full,
      head: { status: 200, headers: full.headers, body: NO_BODY },
      notModified: { status: 304, headers: checked.notModifiedFields, body: NO_BODY },
      used: false,
    };
  }

  /** Last-Modified (never in the future, §8.8.2.1) and the given ETag. */
  private representation(stat: Stats | undefined, size: number, contentType: string | undefined, etag: string | undefined): Representation {
    if (stat === undefined) {
      return { size, etag: undefined, lastModified: undefined, lastModifiedText: undefined, contentType };
    }
    const nowSeconds = Math.floor(this.now() / 1000);
    const lastModified = Math.min(Math.floor(stat.mtimeMs / 1000), nowSeconds);
    return { size, etag, lastModified, lastModifiedText: formatHttpDate(lastModified), contentType };
  }

  /**
   * The ETag of a streamed file, where a digest would mean reading it all:
   * strong (§8.8.3) and made of the size, mtime and ctime in microseconds,
   * so any write, replacement or attribute change gives a new tag (ctime
   * cannot be set back, so a `touch -d` is seen too). A racy file (see
   * racyWindowMs) gets none, since a second write in the same clock tick
   * would keep the tag.
   */
  private statEtag(stat: Stats): string | undefined {
    if (this.now() - stat.ctimeMs < this.racyWindowMs) return undefined;
    const us = (ms: number): string => Math.floor(ms * 1000).toString(36);
    return `"${stat.size.toString(36)}-${us(stat.mtimeMs)}-${us(stat.ctimeMs)}"`;
  }

  private fileHeaders(rep: Representation, length: number, contentRange?: string): Array<[string, string]> {
    const h: Array<[string, string]> = [];
    if (rep.contentType !== undefined) h.push(['content-type', rep.contentType]);
    if (!this.noContentLength) h.push(['content-length', String(length)]);
    if (contentRange !== undefined) h.push(['content-range', contentRange]);
    if (rep.lastModifiedText !== undefined) h.push(['last-modified', rep.lastModifiedText]);
    if (rep.etag !== undefined) h.push(['etag', rep.etag]);
    if (this.cacheControl !== null) h.push(['cache-control', this.cacheControl]);
    h.push(['accept-ranges', 'bytes']); // §14.3
    return h;
  }

  /**
   * §15.4.5: a 304 carries the ETag and Cache-Control a 200 would, and not
   * the other representation metadata (Last-Modified only without an ETag).
   */
  private notModifiedHeaders(rep: Representation): Array<[string, string]> {
    const h: Array<[string, string]> = [];
    if (rep.etag !== undefined) h.push(['etag', rep.etag]);
    else if (rep.lastModifiedText !== undefined) h.push(['last-modified', rep.lastModifiedText]);
    if (this.cacheControl !== null) h.push(['cache-control', this.cacheControl]);
    return h;
  }

  private fromMemory(entry: SmallEntry, req: StaticRequest): StaticResponse {
    const c = scanConditionals(req.headers);
    const head = req.method === 'HEAD';
    if (c === undefined) return head ? entry.head : entry.full;
    const d = this.decide(entry.rep, req.method, c);
    if (d === 200) return head ? entry.head : entry.full;
    if (d === 304) return entry.notModified;
    if (d === 412) return this.error(412, req);
    if (d === 416) return this.unsatisfiable(entry.rep.size, req);
    return {
      status: 206,
      headers: this.fileHeaders(entry.rep, d.end - d.start, `bytes ${d.start}-${d.end - 1}/${entry.rep.size}`),
      body: { kind: 'bytes', bytes: entry.data.subarray(d.start, d.end) },
    };
  }

  /** A response streamed from an open file: a body (and a reference to the descriptor) only when one is sent. */
  private fromOpen(entry: OpenEntry, req: StaticRequest): StaticResponse {
    const rep = entry.rep;
    const c = scanConditionals(req.headers);
    const d = c === undefined ? 200 : this.decide(rep, req.method, c);
    if (d === 200) {
      const body = req.method === 'HEAD' ? NO_BODY : this.fileBody(entry, 0, rep.size);
      return { status: 200, headers: entry.fields, body };
    }
    if (d === 304) return { status: 304, headers: entry.notModifiedFields, body: NO_BODY };
    if (d === 412) return this.error(412, req);
    if (d === 416) return this.unsatisfiable(rep.size, req);
    return {
      status: 206,
      headers: this.fileHeaders(rep, d.end - d.start, `bytes ${d.start}-${d.end - 1}/${rep.size}`),
      body: this.fileBody(entry, d.start, d.end),
    };
  }

  private fileBody(entry: OpenEntry, start: number, end: number): StaticBody {
    const file = entry.file;
    return { kind: 'file', handle: file.handle, path: file.path, start, end, size: entry.rep.size, release: file.acquire() };
  }

  /**
   * Preconditions in the order of RFC 9110 §13.2.2, then Range (§14.2).
   * Only GET and HEAD get here, so a false If-None-Match is always a 304.
   */
  private decide(rep: Representation, method: string, c: Conditionals): Decision {
    const nowSeconds = this.now() / 1000;
    // 1. If-Match, strong comparison (§13.1.1); `*` holds since the file exists.
    if (c.ifMatch !== undefined) {
      const list = parseEntityTags(c.ifMatch);
      if (list !== '*' && (rep.etag === undefined || !strongMatch(list, rep.etag))) return 412;
    } else if (c.ifUnmodifiedSince !== undefined && rep.lastModified !== undefined) {
      // 2. If-Unmodified-Since (§13.1.4), ignored when not a valid date.
      const date = parseHttpDate(c.ifUnmodifiedSince, nowSeconds);
      if (date !== undefined && rep.lastModified > date) return 412;
    }
    // 3. If-None-Match, weak comparison (§13.1.2).
    if (c.ifNoneMatch !== undefined) {
      const list = parseEntityTags(c.ifNoneMatch);
      if (list === '*' || (rep.etag !== undefined && weakMatch(list, rep.etag))) return 304;
    } else if (c.ifModifiedSince !== undefined && rep.lastModified !== undefined) {
      // 4. If-Modified-Since (§13.1.3), only without If-None-Match. A date
      // later than our clock is treated as invalid (as RFC 2616 §14.25
      // said), so a client with a fast clock cannot pin a stale copy.
      const date = parseHttpDate(c.ifModifiedSince, nowSeconds);
      if (date !== undefined && date <= nowSeconds && rep.lastModified <= date) return 304;
    }
    // 5. Range applies to GET only (§14.2); If-Range decides whether it is used.
    if (method !== 'GET' || c.range === undefined) return 200;
    if (c.ifRange !== undefined && !ifRangeHolds(c.ifRange, rep.etag, rep.lastModified, nowSeconds)) return 200;
    const r = evaluateRange(c.range, rep.size);
    if (r.kind === 'single') return { start: r.start, end: r.end };
    if (r.kind === 'unsatisfiable') return 416;
    return 200; // invalid, another unit, or several ranges: the whole file
  }

  /** §15.5.17: 416 with `content-range: bytes *\/size`. */
  private unsatisfiable(size: number, req: StaticRequest): StaticResponse {
    const page = this.errorVariant(416, req);
    return {
      status: 416,
      headers: [...page.headers, ['content-range', `bytes */${size}`]],
      body: req.method === 'HEAD' ? NO_BODY : page.body,
    };
  }

  /**
   * A directory without its trailing slash: 301 to the same path with one,
   * query kept, as nghttpd does (an absolute URI when :scheme and
   * :authority allow, a path otherwise; §10.2.2 allows either). The path is
   * rebuilt from the normalised one, so "//evil.example" cannot become a
   * network-path reference.
   */
  private redirect(req: StaticRequest, p: NormalisedPath): StaticResponse {
    let scheme = req.scheme;
    let authority = req.authority;
    let host: string | undefined;
    const headers = req.headers;
    for (let i = 0; i < headers.length; i++) {
      const [name, value] = headers[i] as readonly [string, string];
      if (name === ':scheme') scheme ??= value;
      else if (name === ':authority') authority ??= value;
      else if (name === 'host') host ??= value;
    }
    authority ??= host;
    const target = `${encodeKey(p.key)}/${p.query}`;
    const absolute = (scheme === 'http' || scheme === 'https') && authority !== undefined && /^[A-Za-z0-9.\-_~:[\]%]+$/.test(authority);
    const location = absolute ? `${scheme}://${authority}${target}` : target;
    return { status: 301, headers: [['location', location]], body: NO_BODY };
  }

  private error(status: number, req: StaticRequest): StaticResponse {
    const page = this.errorVariant(status, req);
    return { status, headers: page.headers, body: req.method === 'HEAD' ? NO_BODY : page.body };
  }

  private errorVariant(status: number, req: StaticRequest): ErrorVariant {
    if (this.errorGzip) {
      let acceptEncoding: string | undefined;
      const headers = req.headers;
      for (let i = 0; i < headers.length; i++) {
        const [name, value] = headers[i] as readonly [string, string];
        if (name === 'accept-encoding') acceptEncoding = join(acceptEncoding, value);
      }
      if (acceptsGzip(acceptEncoding)) return this.errorGzipped.get(status) as ErrorVariant;
    }
    return this.errorPlain.get(status) as ErrorVariant;
  }

  private buildError(status: number, signature: string | undefined, gzip: boolean): ErrorVariant {
    const bytes = errorPageBytes(status, signature, gzip);
    const h: Array<[string, string]> = [['content-type', 'text/html; charset=UTF-8']];
    if (gzip) h.push(['content-encoding', 'gzip']);
    // The page depends on Accept-Encoding when it may be gzipped (§12.5.5).
    if (this.errorGzip) h.push(['vary', 'accept-encoding']);
    if (!this.noContentLength) h.push(['content-length', String(bytes.length)]);
    if (status === 405) h.push([ALLOW[0], ALLOW[1]]);
    return { headers: freezeList(h), body: { kind: 'bytes', bytes } };
  }
}

/** One pass over the request fields; undefined (no allocation) when none is conditional. */
function scanConditionals(headers: HeaderList): Conditionals | undefined {
  let c: Conditionals | undefined;
  for (let i = 0; i < headers.length; i++) {
    const field = headers[i] as readonly [string, string];
    const name = field[0];
    // Every field we want starts with "if-" or is "range".
    const first = name.charCodeAt(0);
    if (first !== 0x69 /* i */ && first !== 0x72 /* r */) continue;
    const value = field[1];
    switch (name) {
      case 'if-match':
        (c ??= {}).ifMatch = join(c.ifMatch, value);
        break;
      case 'if-none-match':
        (c ??= {}).ifNoneMatch = join(c.ifNoneMatch, value);
        break;
      case 'if-modified-since':
        (c ??= {}).ifModifiedSince = join(c.ifModifiedSince, value);
        break;
      case 'if-unmodified-since':
        (c ??= {}).ifUnmodifiedSince = join(c.ifUnmodifiedSince, value);
        break;
      case 'range':
        (c ??= {}).range = join(c.range, value);
        break;
      case 'if-range':
        (c ??= {}).ifRange = join(c.ifRange, value);
        break;
    }
  }
  return c;
}

// Repeated fields combine into one list (§5.3); for singleton fields the
// result no longer parses, so they are ignored.
function join(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`;
}

/** Freezes a header list and its fields: the list is then the same on every call and cannot change. */
function freezeList(list: Array<[string, string]>): HeaderList {
  for (const field of list) Object.freeze(field);
  return Object.freeze(list);
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new StaticFilesError('BAD_OPTION', `${name} must be a number >= 0`);
  return value;
}

/**
 * Gives back the file of a response that will not be (fully) sent, or that
 * was: call it after streaming, on RST_STREAM, or when the connection dies.
 * Calling it twice does nothing more.
 */
export function releaseBody(response: StaticResponse): Promise<void> {
  return response.body.kind === 'file' ? response.body.release() : Promise.resolve();
}
