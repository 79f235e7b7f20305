/**
 * One descriptor per file, shared by every response that streams it (as
 * nghttpd does): responses read it with positional reads, so they never
 * share an offset, and a thousand streams of one file hold one descriptor.
 * The descriptor is closed when the last response using it is released.
 */
import type { FileHandle } from 'node:fs/promises';
import { type FileIdentity, type Opened, sameFile } from './open-inside.js';

export class SharedFile {
  private refs = 0;
  private closed = false;

  constructor(
    readonly handle: FileHandle,
    /** The real path that was opened (for logs and errors). */
    readonly path: string,
    /** What fstat said when it was opened. */
    readonly identity: FileIdentity,
  ) {}

  private closedHooks: Array<() => void> = [];

  /** Calls `fn` when the descriptor is being closed (its last user released it). */
  onClosed(fn: () => void): void {
    if (this.closed) fn();
    else this.closedHooks.push(fn);
  }

  /** Whether the descriptor is still open. */
  get open(): boolean {
    return !this.closed;
  }

  /**
   * One more user; returns its release function (a second call does
   * nothing). The last release closes the descriptor; the promise it returns
   * settles when it is closed.
   */
  acquire(): () => Promise<void> {
    if (this.closed) throw new Error(`${this.path}: descriptor already closed`);
    this.refs++;
    let released = false;
    return () => {
      if (released) return Promise.resolve();
      released = true;
      if (--this.refs > 0) return Promise.resolve();
      this.closed = true;
      const hooks = this.closedHooks;
      this.closedHooks = [];
      for (const fn of hooks) fn();
      return this.handle.close().catch(() => {});
    };
  }
}

/** The shared descriptors that are open, by file (device and inode). */
export class OpenFiles {
  private readonly byInode = new Map<string, SharedFile>();

  /** Descriptors open now. */
  get size(): number {
    return this.byInode.size;
  }

  /**
   * The shared file for what was just opened: the one already open for the
   * same unchanged file (then `opened.handle` is closed), else a new one;
   * with the caller's own reference, to release once it has handed the file
   * to its users (a file nobody took is then closed).
   */
  adopt(opened: Opened): { readonly file: SharedFile; readonly release: () => Promise<void> } {
    const key = `${opened.stat.dev}:${opened.stat.ino}`;
    let file = this.byInode.get(key);
    if (file !== undefined && sameFile(file.identity, opened.stat)) {
      void opened.handle.close().catch(() => {});
    } else {
      // A file changed under the same inode gets a new descriptor; the old one stays with its users.
      const created = new SharedFile(opened.handle, opened.real, opened.stat);
      created.onClosed(() => {
        if (this.byInode.get(key) === created) this.byInode.delete(key);
      });
      this.byInode.set(key, created);
      file = created;
    }
    return { file, release: file.acquire() };
  }
}
