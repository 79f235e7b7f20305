/**
 * What the static layer knows about files it has opened: small files held in
 * memory with their responses ready (bounded by count and bytes, second-chance
 * eviction), and large files whose shared descriptor is open because a
 * response is streaming them (they stay while it does). Both are answered
 * without opening anything as long as a stat of their path shows the same
 * file (see `fresh()`).
 */

import { type FileIdentity, type StaticFs, sameFile } from './open-inside.js';
import type { SharedFile } from './shared-file.js';
import type { HeaderList, StaticResponse } from './types.js';

/** What the response depends on: computed from a stat. */
export interface Representation {
  readonly size: number;
  /** Undefined when the file changed while we read it, or is racy. */
  readonly etag: string | undefined;
  /** Whole seconds, never later than when it was computed (§8.8.2.1). */
  readonly lastModified: number | undefined;
  readonly lastModifiedText: string | undefined;
  readonly contentType: string | undefined;
}

/** What every entry keeps to be revalidated. */
export interface Checked {
  /** The path stat'ed to revalidate: root + request path (+ index file), symlinks unresolved. */
  readonly fsPath: string;
  readonly identity: FileIdentity;
  readonly rep: Representation;
  /** 200 and 304 field lists, frozen (the same object on every call). */
  readonly fields: HeaderList;
  readonly notModifiedFields: HeaderList;
  checkedAt: number;
  /** The turn (see statOncePerTurn) in which the entry was last checked with a stat; 0: none. */
  checkedTurn: number;
  /** 0, or when a racy entry must be read again (see racyWindowMs). */
  readonly racyUntil: number;
}

/** A small file held in memory, with its common responses prebuilt. */
export interface SmallEntry extends Checked {
  readonly kind: 'small';
  readonly data: Uint8Array;
  readonly full: StaticResponse;
  readonly head: StaticResponse;
  readonly notModified: StaticResponse;
  /** Second-chance bit for eviction. */
  used: boolean;
}

/** A large file with its descriptor open (shared by the responses streaming it). */
export interface OpenEntry extends Checked {
  readonly kind: 'open';
  readonly file: SharedFile;
}

export type Entry = SmallEntry | OpenEntry;

export interface FileCacheOptions {
  readonly fs: StaticFs;
  readonly maxBytes: number;
  readonly maxEntries: number;
  readonly revalidateMs: number;
  readonly statOncePerTurn: boolean;
  readonly now: () => number;
}

export class FileCache {
  private readonly small = new Map<string, SmallEntry>();
  private readonly open = new Map<string, OpenEntry>();
  private smallBytes = 0;
  /** Stats made to check entries. */
  stats = 0;
  /** The current turn for statOncePerTurn (never 0), and whether its end is scheduled. */
  private turn = 1;
  private turnEndScheduled = false;
  private readonly endTurn = (): void => {
    this.turn++;
    this.turnEndScheduled = false;
  };

  constructor(private readonly o: FileCacheOptions) {}

  /** Small files held, and their bytes. */
  get entries(): number {
    return this.small.size;
  }
  get bytes(): number {
    return this.smallBytes;
  }

  /** The entry for `key` if it is still valid; an invalid one is dropped. */
  get(key: string): Entry | undefined {
    const s = this.small.get(key);
    if (s !== undefined) {
      if (this.fresh(s)) {
        s.used = true;
        return s;
      }
      this.dropSmall(key, s);
    }
    const o = this.open.get(key);
    if (o !== undefined) {
      if (o.file.open && this.fresh(o)) return o;
      this.dropOpen(key, o);
    }
    return undefined;
  }

  /** Holds a small file (if it fits). */
  putSmall(key: string, entry: SmallEntry): void {
    const size = entry.data.length;
    if (size > this.o.maxBytes || this.o.maxEntries === 0) return;
    const old = this.small.get(key);
    if (old !== undefined) this.dropSmall(key, old);
    // Second chance: an entry used since it was last passed over goes to
    // the back instead of out, so hot files survive a scan of cold ones.
    while (this.small.size >= this.o.maxEntries || this.smallBytes + size > this.o.maxBytes) {
      const oldest = this.small.entries().next().value;
      if (oldest === undefined) break;
      const [k, e] = oldest;
      this.small.delete(k);
      if (e.used) {
        e.used = false;
        this.small.set(k, e);
      } else {
        this.smallBytes -= e.data.length;
      }
    }
    this.small.set(key, entry);
    this.smallBytes += size;
  }

  /** Remembers a large file while its descriptor is open. */
  putOpen(key: string, entry: OpenEntry): void {
    const old = this.open.get(key);
    if (old !== undefined) this.dropOpen(key, old);
    this.open.set(key, entry);
    entry.file.onClosed(() => this.dropOpen(key, entry));
  }

  /** Forgets every file (open descriptors stay with the responses using them). */
  clear(): void {
    this.small.clear();
    this.smallBytes = 0;
    this.open.clear();
  }

  private dropSmall(key: string, entry: SmallEntry): void {
    if (this.small.get(key) === entry) {
      this.small.delete(key);
      this.smallBytes -= entry.data.length;
    }
  }

  private dropOpen(key: string, entry: OpenEntry): void {
    if (this.open.get(key) === entry) this.open.delete(key);
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
   * systems; `statOncePerTurn` shares one stat between the hits of one turn
   * of the event loop (requests that arrived together, on any connection). Stat cannot see a same-size rewrite
   * within one tick of the file system's clock, so an entry made while its
   * file was racy (see racyWindowMs) is dropped once the window has passed.
   * Bytes served from a hit, and descriptors shared by one, were verified to
   * lie under the root when the file was opened; if it changes in any way it
   * is opened and verified again.
   */
  private fresh(entry: Entry): boolean {
    let now = 0;
    if (this.o.revalidateMs > 0 || entry.racyUntil !== 0) {
      now = this.o.now();
      if (entry.racyUntil !== 0 && now >= entry.racyUntil) return false;
      if (this.o.revalidateMs > 0 && now - entry.checkedAt < this.o.revalidateMs) return true;
    }
    if (entry.checkedTurn === this.turn) return true; // set only with statOncePerTurn
    this.stats++;
    let st: FileIdentity | undefined;
    try {
      st = this.o.fs.statSync(entry.fsPath);
    } catch {
      st = undefined;
    }
    if (st === undefined || !sameFile(st, entry.identity)) return false;
    entry.checkedAt = now;
    if (this.o.statOncePerTurn) {
      entry.checkedTurn = this.turn;
      if (!this.turnEndScheduled) {
        this.turnEndScheduled = true;
        setImmediate(this.endTurn);
      }
    }
    return true;
  }
}
