/**
 * A file system layer for the static file layer (StaticFs) that counts each
 * call and can hold calls at a gate until the test lets them go, so a test
 * can change the world (close a request, replace a file) between two steps.
 */
import type { FileHandle } from 'node:fs/promises';
import { NODE_FS, type StaticFs } from '../../src/server/open-inside.js';

export type FsCall = 'realpath' | 'open' | 'readlink' | 'statSync';

export interface CountingFs {
  readonly fs: StaticFs;
  /** Calls so far, by kind (the path is recorded in `paths`). */
  readonly calls: Record<FsCall, number>;
  readonly paths: Array<[FsCall, string]>;
  /** Handles opened so far (to check they were closed: fd -1). */
  readonly handles: FileHandle[];
  /** Holds every later call of `kind` until `open()`; resolves `reached` when the first one arrives. */
  gate(kind: Exclude<FsCall, 'statSync'>): { reached: Promise<void>; open(): void };
}

export function countingFs(): CountingFs {
  const calls: Record<FsCall, number> = { realpath: 0, open: 0, readlink: 0, statSync: 0 };
  const paths: Array<[FsCall, string]> = [];
  const handles: FileHandle[] = [];
  const gates = new Map<FsCall, { wait: Promise<void>; arrived: () => void }>();
  const pass = async (kind: FsCall, path: string): Promise<void> => {
    calls[kind]++;
    paths.push([kind, path]);
    const g = gates.get(kind);
    if (g !== undefined) {
      g.arrived();
      await g.wait;
    }
  };
  const fs: StaticFs = {
    realpath: async (p) => {
      await pass('realpath', p);
      return NODE_FS.realpath(p);
    },
    open: async (p, flags) => {
      await pass('open', p);
      const h = await NODE_FS.open(p, flags);
      handles.push(h);
      return h;
    },
    readlink: async (p) => {
      await pass('readlink', p);
      return NODE_FS.readlink(p);
    },
    statSync: (p) => {
      calls.statSync++;
      return NODE_FS.statSync(p);
    },
  };
  return {
    fs,
    calls,
    paths,
    handles,
    gate(kind) {
      let release!: () => void;
      let arrived!: () => void;
      const wait = new Promise<void>((r) => (release = r));
      const reached = new Promise<void>((r) => (arrived = r));
      gates.set(kind, { wait, arrived });
      return {
        reached,
        open: () => {
          gates.delete(kind);
          release();
        },
      };
    },
  };
}
