/**
 * The static-file layer of h2serve: turns a GET or HEAD request into a
 * response description (status, header fields, body) without knowing about
 * HTTP/2. The engine sends it; this module only reads files.
 *
 * Safety: the request path is normalised by request-path.ts (nothing in it
 * can climb out), the file is resolved with realpath and must lie under the
 * real root, and after opening, the descriptor itself is checked (on Linux
 * through /proc/self/fd) so a symlink swapped in between cannot redirect
 * the open outside the root.
 *
 * Speed: files up to `memoryFileLimit` bytes are read whole and cached with
 * their response objects ready, so a hit costs a path check, a Map lookup
 * and one synchronous stat (see `fresh()` for why; `statOncePerTurn` shares
 * it between the requests that arrived together). Larger files are
 * streamed from an open FileHandle in ranges the caller reads. Header lists
 * that are the same on every call (cached files, error pages) are frozen,
 * so a caller may memoise work per list (`Object.isFrozen`).
 */
import {
  closeSync,
  constants as fsConstants,
  openSync,
  readlinkSync,
  realpathSync,
  statSync,
  type Stats,
} from 'node:fs';
import { open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import {
  acceptsGzip,
  evaluateRange,
  ifRangeHolds,
  parseEntityTags,
  strongMatch,
  weakMatch,
} from './conditional.js';
import { errorPageBytes } from './error-pages.js';
import { formatHttpDate, parseHttpDate } from './http-date.js';
import {
  BUILTIN_MIME_TYPES,
  DEFAULT_MIME_TYPES_FILE,
  contentTypeFor,
  readMimeTypesFile,
  type MimeTable,
} from './mime.js';
import { encodeKey, normaliseRequestPath, type NormalisedPath } from './request-path.js';

/** Header fields: lower-case names. Shared arrays; never mutate them. */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

export interface StaticRequest {
  readonly method: string;
  /** The raw `:path`. */
  readonly path: string;
  /** Request header fields, lower-case names; pseudo-header fields may be included. */
  readonly headers: HeaderList;
  /** `:scheme`, when the engine keeps it out of `headers` (used for redirects). */
  readonly scheme?: string;
  /** `:authority`, when the engine keeps it out of `headers` (used for redirects). */
  readonly authority?: string;
}

/** No content: send HEADERS with END_STREAM. */
export interface NoBody {
  readonly kind: 'none';
}

/** Content in memory (cached files and error pages). Shared; never mutate it. */
export interface BytesBody {
  readonly kind: 'bytes';
  readonly bytes: Uint8Array;
}

/**
 * Content to stream from an open file: bytes [start, end) of a file of
 * `size` bytes. The caller owns `handle` and must close it when done or when
 * the stream is abandoned (see `releaseBody`). Read it with positional reads
 * (`FileRangeReader` does), so memory stays bounded by the chunk size.
 */
export interface FileBody {
  readonly kind: 'file';
  readonly handle: FileHandle;
  /** The real path that was opened (for logs). */
  readonly path: string;
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
  readonly size: number;
}

export type StaticBody = NoBody | BytesBody | FileBody;

export interface StaticResponse {
  readonly status: number;
  /** Without `:status`, `date` and `server`, which are the caller's. */
  readonly headers: HeaderList;
  readonly body: StaticBody;
}

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
   * cached file is checked at most once per turn of the event loop (one
   * synchronous run of lookups, which ends when the microtask queue runs),
   * so the requests that arrived in one read share one stat. A change made
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

/** What the response depends on: computed from a stat. */
interface Representation {
  readonly size: number;
  /** Undefined when the file changed while we read it. */
  readonly etag: string | undefined;
  /** Whole seconds, never later than when it was computed (§8.8.2.1). */
  readonly lastModified: number | undefined;
  readonly lastModifiedText: string | undefined;
  readonly contentType: string | undefined;
}

/** A small file held in memory, with its common responses prebuilt. */
interface CacheEntry {
  /** The path stat'ed to revalidate: root + request path (+ index file), symlinks unresolved. */
  readonly fsPath: string;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly rep: Representation;
  readonly data: Uint8Array;
  readonly full: StaticResponse;
  readonly head: StaticResponse;
  readonly notModified: StaticResponse;
  checkedAt: number;
  /** The turn (see statOncePerTurn) in which the entry was last checked with a stat; 0: none. */
  checkedTurn: number;
  /** 0, or when a racy entry must be read again (see racyWindowMs). */
  readonly racyUntil: number;
  /** Second-chance bit for eviction. */
  used: boolean;
}

interface Conditionals {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
  range?: string;
  ifRange?: string;
}

interface Opened {
  readonly handle: FileHandle;
  readonly stat: Stats;
  readonly real: string;
}

type Decision = 200 | 304 | 412 | 416 | { readonly start: number; readonly end: number };

const NO_BODY: NoBody = Object.freeze({ kind: 'none' });
const ALLOW: readonly [string, string] = ['allow', 'GET, HEAD'];
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);
/** Errors that mean "there is nothing for you here". Anything else is a 500. */
const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG', 'EACCES', 'EPERM', 'EISDIR', 'ENXIO']);
const ERROR_STATUSES = [400, 404, 405, 412, 416, 500] as const;
const STAT_NO_THROW = { throwIfNoEntry: false } as const;

interface ErrorVariant {
  readonly headers: HeaderList;
  readonly body: BytesBody;
}

export class StaticFiles {
  /** The real path of the document root. */
  readonly root: string;
  private readonly prefix: string;
  private readonly mime: MimeTable;
  private readonly defaultContentType: string | undefined;
  private readonly noContentLength: boolean;
  private readonly errorGzip: boolean;
  private readonly cacheControl: string | null;
  private readonly denyDotfiles: boolean;
  private readonly indexFile: string;
  private readonly memoryFileLimit: number;
  private readonly cacheMaxBytes: number;
  private readonly cacheMaxEntries: number;
  private readonly revalidateMs: number;
  private readonly statOncePerTurn: boolean;
  /** The current turn for statOncePerTurn (never 0), and whether its end is scheduled. */
  private turn = 1;
  private turnEndScheduled = false;
  private readonly endTurn = (): void => {
    this.turn++;
    this.turnEndScheduled = false;
  };
  private readonly racyWindowMs: number;
  private readonly now: () => number;
  private readonly procFd: boolean;
  private readonly errorPlain = new Map<number, ErrorVariant>();
  private readonly errorGzipped = new Map<number, ErrorVariant>();
  private readonly cache = new Map<string, CacheEntry>();
  private cacheBytes = 0;
  private reads = 0;
  private stats = 0;

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
    this.prefix = root.endsWith('/') ? root : root + '/';

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
    this.cacheMaxBytes = nonNegative('cacheMaxBytes', options.cacheMaxBytes, 64 * 1024 * 1024);
    this.cacheMaxEntries = nonNegative('cacheMaxEntries', options.cacheMaxEntries, 10_000);
    this.revalidateMs = nonNegative('revalidateMs', options.revalidateMs, 0);
    this.statOncePerTurn = options.statOncePerTurn === true;
    this.racyWindowMs = nonNegative('racyWindowMs', options.racyWindowMs, 2000);
    this.now = options.now ?? Date.now;
    this.procFd = procFdWorks(root);

    for (const status of ERROR_STATUSES) {
      this.errorPlain.set(status, this.buildError(status, options.signature, false));
      if (this.errorGzip) this.errorGzipped.set(status, this.buildError(status, options.signature, true));
    }
  }

  /**
   * Answers without waiting when no file has to be opened: cache hits,
   * 400/404 for refused paths, 405. Returns undefined when `respond()` must
   * do I/O. The engine may call this first to skip a promise per request.
   */
  respondFromCache(req: StaticRequest): StaticResponse | undefined {
    const r = this.lookup(req);
    return 'status' in r ? r : undefined;
  }

  /** The response for a request (see docs/static-files.md for the full behaviour). */
  async respond(req: StaticRequest): Promise<StaticResponse> {
    const r = this.lookup(req);
    if ('status' in r) return r;
    try {
      return await this.load(req, r);
    } catch {
      // Errors the file system paths do not expect (EIO mid-read, EMFILE
      // while closing): the request fails, the server does not.
      return this.error(500, req);
    }
  }

  /** Drops every cached file. */
  clearCache(): void {
    this.cache.clear();
    this.cacheBytes = 0;
  }

  /**
   * Cached files, their total size, how many times a small file was read
   * from disk, and how many stats checked cache hits.
   */
  get cacheStats(): { readonly entries: number; readonly bytes: number; readonly reads: number; readonly stats: number } {
    return { entries: this.cache.size, bytes: this.cacheBytes, reads: this.reads, stats: this.stats };
  }

  private lookup(req: StaticRequest): StaticResponse | NormalisedPath {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return this.error(405, req);
    const p = normaliseRequestPath(req.path);
    if (!p.ok) return this.error(p.status, req);
    const entry = this.cache.get(p.key);
    if (entry !== undefined && this.fresh(p.key, entry)) {
      entry.used = true;
      return this.fromMemory(entry, req);
    }
    return p;
  }

  /**
   * Cache invalidation: an entry stays valid while a stat of its path shows
   * the same (dev, ino, size, mtime, ctime). Any write changes mtime and
   * ctime; replacing the file (rename, new symlink target) changes ino or
   * ctime; ctime cannot be set back from user space, so a `touch -d` or an
   * mtime-preserving copy is caught too. The stat is synchronous: it is a
   * metadata lookup in the kernel's cache (well under a microsecond here)
   * against ~15 µs for a thread-pool round trip, and it keeps hits free of
   * promises. `revalidateMs` trades freshness for fewer stats on slow file
   * systems; `statOncePerTurn` shares one stat between the hits of one
   * turn (requests that arrived together). Stat cannot see a same-size rewrite within one tick of the
   * file system's clock, so an entry filled while its file was racy (see
   * racyWindowMs) is read again once the window has passed. Bytes served
   * from a hit were read when the file was verified to lie under the root;
   * if it changes in any way it is verified again.
   */
  private fresh(key: string, entry: CacheEntry): boolean {
    let now = 0;
    if (this.revalidateMs > 0 || entry.racyUntil !== 0) {
      now = this.now();
      if (entry.racyUntil !== 0 && now >= entry.racyUntil) {
        this.evict(key, entry);
        return false;
      }
      if (this.revalidateMs > 0 && now - entry.checkedAt < this.revalidateMs) return true;
    }
    if (entry.checkedTurn === this.turn) return true; // set only with statOncePerTurn
    this.stats++;
    let st: Stats | undefined;
    try {
      st = statSync(entry.fsPath, STAT_NO_THROW);
    } catch {
      st = undefined;
    }
    if (st === undefined || !sameFile(st, entry)) {
      this.evict(key, entry);
      return false;
    }
    entry.checkedAt = now;
    if (this.statOncePerTurn) {
      entry.checkedTurn = this.turn;
      if (!this.turnEndScheduled) {
        this.turnEndScheduled = true;
        queueMicrotask(this.endTurn);
      }
    }
    return true;
  }

  private async load(req: StaticRequest, p: NormalisedPath): Promise<StaticResponse> {
    const key = p.key;
    const directory = key.endsWith('/');
    const rel = directory ? key.slice(0, -1) : key; // '' for the root
    if (this.denyDotfiles && rel.includes('/.')) return this.error(404, req);

    let fsPath = this.root + rel;
    let opened = await this.openInside(fsPath);
    if (typeof opened === 'number') return this.error(opened, req);
    let name = rel;
    if (opened.stat.isDirectory()) {
      await opened.handle.close();
      if (!directory) return this.redirect(req, p);
      fsPath = fsPath + '/' + this.indexFile;
      name = this.indexFile;
      opened = await this.openInside(fsPath);
      if (typeof opened === 'number') return this.error(opened, req);
    } else if (directory) {
      // "/file.txt/" names nothing.
      await opened.handle.close();
      return this.error(404, req);
    }
    if (!opened.stat.isFile()) {
      // A directory named index.html, a FIFO, a device: never served.
      await opened.handle.close();
      return this.error(404, req);
    }

    const contentType = contentTypeFor(name, this.mime) ?? this.defaultContentType;
    if (opened.stat.size <= this.memoryFileLimit) {
      const entry = await this.readSmall(opened, fsPath, contentType);
      if (entry.rep.etag !== undefined) this.insert(key, entry);
      return this.fromMemory(entry, req);
    }
    return this.fromFile(opened, contentType, req);
  }

  /**
   * Opens `fsPath` only if it resolves to a file or directory under the
   * root. Returns the status to answer otherwise.
   */
  private async openInside(fsPath: string): Promise<Opened | number> {
    let real: string;
    try {
      real = await realpath(fsPath);
    } catch (e) {
      return statusForError(e);
    }
    // Checked before opening, so nothing outside the root is even opened.
    if (!this.inside(real)) return 404;
    if (this.denyDotfiles && real.slice(this.prefix.length - 1).includes('/.')) return 404;

    let handle: FileHandle;
    try {
      // O_NOFOLLOW: the last component of a real path is no symlink unless
      // one was swapped in since realpath; O_NONBLOCK: a FIFO must not hang us.
      handle = await open(real, OPEN_FLAGS);
    } catch (e) {
      return statusForError(e);
    }
    try {
      const stat = await handle.stat();
      // A directory in `real` may have been swapped for a symlink between
      // realpath and open; check where the descriptor really points. Without
      // /proc (not Linux) we resolve the path again, which narrows the race
      // to that window but cannot close it.
      const actual = this.procFd ? await readlink(`/proc/self/fd/${handle.fd}`) : await realpath(real);
      if (!this.inside(actual)) {
        await handle.close();
        return 404;
      }
      return { handle, stat, real };
    } catch (e) {
      await handle.close();
      return statusForError(e);
    }
  }

  private inside(real: string): boolean {
    return real === this.root || real.startsWith(this.prefix);
  }

  /** Reads a small file whole; closes the handle. */
  private async readSmall(opened: Opened, fsPath: string, contentType: string | undefined): Promise<CacheEntry> {
    const { handle, stat } = opened;
    let data: Uint8Array;
    let stable: boolean;
    this.reads++;
    try {
      const size = stat.size;
      // Its own ArrayBuffer (not the shared pool), so holding it holds nothing else.
      const buf = Buffer.allocUnsafeSlow(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await handle.read(buf, filled, size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
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
    const now = this.now();
    const full: StaticResponse = {
      status: 200,
      headers: freezeList(this.fileHeaders(rep, data.length)),
      body: data.length === 0 ? NO_BODY : { kind: 'bytes', bytes: data },
    };
    return {
      fsPath,
      dev: stat.dev,
      ino: stat.ino,
      size: stat.size,
      mtimeMs: stat.mtimeMs,
      ctimeMs: stat.ctimeMs,
      rep,
      data,
      full,
      head: { status: 200, headers: full.headers, body: NO_BODY },
      notModified: { status: 304, headers: freezeList(this.notModifiedHeaders(rep)), body: NO_BODY },
      checkedAt: now,
      checkedTurn: 0,
      racyUntil: now - stat.ctimeMs < this.racyWindowMs ? now + this.racyWindowMs : 0,
      used: false,
    };
  }

  /** Last-Modified (never in the future, §8.8.2.1) and the given ETag. */
  private representation(
    stat: Stats | undefined,
    size: number,
    contentType: string | undefined,
    etag: string | undefined,
  ): Representation {
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

  private fromMemory(entry: CacheEntry, req: StaticRequest): StaticResponse {
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

  private async fromFile(opened: Opened, contentType: string | undefined, req: StaticRequest): Promise<StaticResponse> {
    const { handle, stat, real } = opened;
    let rep: Representation;
    let d: Decision;
    try {
      rep = this.representation(stat, stat.size, contentType, this.statEtag(stat));
      const c = scanConditionals(req.headers);
      d = c === undefined ? 200 : this.decide(rep, req.method, c);
    } catch (e) {
      await handle.close();
      throw e;
    }
    if (typeof d === 'number' && (d !== 200 || req.method === 'HEAD')) {
      await handle.close();
      if (d === 200) return { status: 200, headers: this.fileHeaders(rep, rep.size), body: NO_BODY };
      if (d === 304) return { status: 304, headers: this.notModifiedHeaders(rep), body: NO_BODY };
      if (d === 412) return this.error(412, req);
      return this.unsatisfiable(rep.size, req);
    }
    if (d === 200) {
      return {
        status: 200,
        headers: this.fileHeaders(rep, rep.size),
        body: { kind: 'file', handle, path: real, start: 0, end: rep.size, size: rep.size },
      };
    }
    return {
      status: 206,
      headers: this.fileHeaders(rep, d.end - d.start, `bytes ${d.start}-${d.end - 1}/${rep.size}`),
      body: { kind: 'file', handle, path: real, start: d.start, end: d.end, size: rep.size },
    };
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
    const target = encodeKey(p.key) + '/' + p.query;
    const absolute =
      (scheme === 'http' || scheme === 'https') && authority !== undefined && /^[A-Za-z0-9.\-_~:[\]%]+$/.test(authority);
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
        if (name === 'accept-encoding') acceptEncoding = acceptEncoding === undefined ? value : `${acceptEncoding}, ${value}`;
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

  private insert(key: string, entry: CacheEntry): void {
    const size = entry.data.length;
    if (size > this.cacheMaxBytes || this.cacheMaxEntries === 0) return;
    const old = this.cache.get(key);
    if (old !== undefined) this.evict(key, old);
    // Second chance: an entry used since it was last passed over goes to
    // the back instead of out, so hot files survive a scan of cold ones.
    while (this.cache.size >= this.cacheMaxEntries || this.cacheBytes + size > this.cacheMaxBytes) {
      const oldest = this.cache.entries().next().value;
      if (oldest === undefined) break;
      const [k, e] = oldest;
      this.cache.delete(k);
      if (e.used) {
        e.used = false;
        this.cache.set(k, e);
      } else {
        this.cacheBytes -= e.data.length;
      }
    }
    this.cache.set(key, entry);
    this.cacheBytes += size;
  }

  private evict(key: string, entry: CacheEntry): void {
    if (this.cache.get(key) === entry) {
      this.cache.delete(key);
      this.cacheBytes -= entry.data.length;
    }
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

/**
 * Linux names an open descriptor's file under /proc/self/fd; some sandboxes
 * hide it, so check that it names the root correctly before relying on it.
 */
function procFdWorks(root: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(root, 'r');
    return readlinkSync(`/proc/self/fd/${fd}`) === root;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Freezes a header list and its fields: the list is then the same on every call and cannot change. */
function freezeList(list: Array<[string, string]>): HeaderList {
  for (const field of list) Object.freeze(field);
  return Object.freeze(list);
}

/** The same file, unchanged: what a stat shows of identity and content (see fresh()). */
type FileIdentity = Pick<Stats, 'ino' | 'dev' | 'size' | 'mtimeMs' | 'ctimeMs'>;

function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

function statusForError(e: unknown): number {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && NOT_FOUND_CODES.has(code) ? 404 : 500;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new StaticFilesError('BAD_OPTION', `${name} must be a number >= 0`);
  return value;
}

/**
 * Closes the file of a response that will not be (fully) sent: call it
 * after streaming, on RST_STREAM, or when the connection dies.
 */
export async function releaseBody(response: StaticResponse): Promise<void> {
  if (response.body.kind === 'file') await response.body.handle.close();
}
