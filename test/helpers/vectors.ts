/**
 * The interop vectors packed by scripts/pack-vectors.mjs: hpack-test-case
 * stories and nghttp2 goldens, keyed by path ("golden/s256/story_00.json").
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync } from 'node:zlib';

export const CASES_DIR = fileURLToPath(new URL('../cases/', import.meta.url));

let files: Map<string, Buffer> | null = null;

export function vectorFiles(): Map<string, Buffer> {
  if (files) return files;
  const raw = brotliDecompressSync(readFileSync(`${CASES_DIR}vectors.br`));
  files = new Map();
  let pos = 0;
  while (pos < raw.length) {
    const nl1 = raw.indexOf(10, pos);
    const nl2 = raw.indexOf(10, nl1 + 1);
    const path = raw.toString('utf8', pos, nl1);
    const len = Number(raw.toString('latin1', nl1 + 1, nl2));
    files.set(path, raw.subarray(nl2 + 1, nl2 + 1 + len));
    pos = nl2 + 1 + len;
  }
  return files;
}

/** Paths of the files in a vector folder ("hpack-test-case/go-hpack"), sorted. */
export function vectorFolder(folder: string): string[] {
  return [...vectorFiles().keys()].filter((p) => p.startsWith(`${folder}/`)).sort();
}

/** Folder names under a top directory ("hpack-test-case" or "golden"). */
export function vectorFolders(top: string): string[] {
  const names = new Set<string>();
  for (const p of vectorFiles().keys()) if (p.startsWith(`${top}/`)) names.add(p.split('/')[1]!);
  return [...names].sort();
}

export function vectorJson<T = unknown>(path: string): T {
  const b = vectorFiles().get(path);
  if (!b) throw new Error(`no vector file ${path}`);
  return JSON.parse(b.toString('utf8')) as T;
}

export interface StoryCase {
  seqno?: number;
  seq?: number;
  wire?: string;
  headers: Array<Record<string, string>>;
  header_table_size?: number | null;
}

export interface Story {
  description?: string;
  cases: StoryCase[];
}

/** A story case's headers as [name, value] pairs. */
export function pairs(c: StoryCase): Array<[string, string]> {
  return c.headers.map((h) => {
    const entries = Object.entries(h);
    if (entries.length !== 1) throw new Error('a header object must have one key');
    return entries[0]!;
  });
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function unhex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}
