/**
 * Opening a file only when it lies under the document root, through a file
 * system layer that tests can replace (to count or delay each call).
 *
 * The path is resolved with realpath and must lie under the real root before
 * anything is opened; after opening, the descriptor itself is checked (on
 * Linux through /proc/self/fd), so a symlink swapped in between cannot
 * redirect the open outside the root.
 */
import { closeSync, constants as fsConstants, openSync, readlinkSync, type Stats, statSync } from 'node:fs';
import { type FileHandle, open, readlink, realpath } from 'node:fs/promises';

/** The file system calls of the static layer (node:fs by default). */
export interface StaticFs {
  realpath(path: string): Promise<string>;
  open(path: string, flags: number): Promise<FileHandle>;
  readlink(path: string): Promise<string>;
  /** A stat that follows symlinks; undefined when nothing is there. Synchronous: see StaticFiles' cache check. */
  statSync(path: string): Stats | undefined;
}

const STAT_NO_THROW = { throwIfNoEntry: false } as const;

export const NODE_FS: StaticFs = {
  realpath: (p) => realpath(p),
  open: (p, flags) => open(p, flags),
  readlink: (p) => readlink(p),
  statSync: (p) => statSync(p, STAT_NO_THROW),
};

/** O_NOFOLLOW: the last component of a real path is no symlink unless one was swapped in since realpath; O_NONBLOCK: a FIFO must not hang us. */
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);
/** Errors that mean "there is nothing for you here". Anything else is a 500. */
const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG', 'EACCES', 'EPERM', 'EISDIR', 'ENXIO']);

export interface Opened {
  readonly handle: FileHandle;
  readonly stat: Stats;
  readonly real: string;
}

export interface RootCheck {
  readonly fs: StaticFs;
  /** The real root, and the same with a trailing slash. */
  readonly root: string;
  readonly prefix: string;
  readonly denyDotfiles: boolean;
  /** Whether /proc/self/fd names descriptors (see procFdWorks). */
  readonly procFd: boolean;
}

/**
 * Opens `fsPath` only if it resolves to a file or directory under the root.
 * Returns the status to answer otherwise, or null when `abandoned()` became
 * true between two steps (nothing is left open then).
 */
export async function openInside(r: RootCheck, fsPath: string, abandoned: () => boolean): Promise<Opened | number | null> {
  let real: string;
  try {
    real = await r.fs.realpath(fsPath);
  } catch (e) {
    return statusForError(e);
  }
  // Checked before opening, so nothing outside the root is even opened.
  if (!inside(r, real)) return 404;
  if (r.denyDotfiles && real.slice(r.prefix.length - 1).includes('/.')) return 404;
  if (abandoned()) return null;

  let handle: FileHandle;
  try {
    handle = await r.fs.open(real, OPEN_FLAGS);
  } catch (e) {
    return statusForError(e);
  }
  try {
    if (abandoned()) return close(handle, null);
    const stat = await handle.stat();
    if (abandoned()) return close(handle, null);
    // A directory in `real` may have been swapped for a symlink between
    // realpath and open; check where the descriptor really points. Without
    // /proc (not Linux) we resolve the path again, which narrows the race
    // to that window but cannot close it.
    const actual = r.procFd ? await r.fs.readlink(`/proc/self/fd/${handle.fd}`) : await r.fs.realpath(real);
    if (!inside(r, actual)) return close(handle, 404);
    return { handle, stat, real };
  } catch (e) {
    return close(handle, statusForError(e));
  }
}

async function close<T>(handle: FileHandle, result: T): Promise<T> {
  await handle.close();
  return result;
}

function inside(r: RootCheck, real: string): boolean {
  return real === r.root || real.startsWith(r.prefix);
}

function statusForError(e: unknown): number {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && NOT_FOUND_CODES.has(code) ? 404 : 500;
}

/**
 * Linux names an open descriptor's file under /proc/self/fd; some sandboxes
 * hide it, so check that it names the root correctly before relying on it.
 */
export function procFdWorks(root: string): boolean {
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

/** The same file, unchanged: what a stat shows of identity and content. */
export type FileIdentity = Pick<Stats, 'ino' | 'dev' | 'size' | 'mtimeMs' | 'ctimeMs'>;

export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}
