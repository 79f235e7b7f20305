import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRangeReader } from '../../src/server/file-body.js';
import type { StaticFiles, StaticResponse } from '../../src/server/static.js';

export const SECRET = 'TOP-SECRET-7f3a9c';

/** Deterministic pseudo-random bytes (xorshift32). */
export function pseudoRandomBytes(n: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export interface Fixture {
  readonly base: string;
  readonly root: string;
  readonly big: Buffer;
  cleanup(): void;
}

/** A document root inside a temp dir, with a secret file and directory next to it. */
export function makeFixture(): Fixture {
  const base = mkdtempSync(join(tmpdir(), 'h2kit-static-'));
  const root = join(base, 'root');
  mkdirSync(root);
  writeFileSync(join(base, 'secret.txt'), SECRET);
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside', 'index.html'), SECRET);
  writeFileSync(join(base, 'outside', 'secret.txt'), SECRET);
  // A sibling whose name starts with the root's: "root-evil" must not pass a prefix check.
  mkdirSync(join(base, 'root-evil'));
  writeFileSync(join(base, 'root-evil', 'x.txt'), SECRET);

  writeFileSync(join(root, 'index.html'), '<h1>home</h1>\n');
  writeFileSync(join(root, 'a.json'), '{"a":1}\n');
  writeFileSync(join(root, 'style.css'), 'body{}\n');
  writeFileSync(join(root, 'readme'), 'no extension\n');
  writeFileSync(join(root, 'data.custom'), 'custom\n');
  writeFileSync(join(root, 'empty.txt'), '');
  writeFileSync(join(root, 'digits.txt'), '0123456789');
  const big = pseudoRandomBytes(1024 * 1024);
  writeFileSync(join(root, 'big.bin'), big);
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'sub', 'index.html'), '<h1>sub</h1>\n');
  writeFileSync(join(root, 'sub', 'page.txt'), 'sub page\n');
  mkdirSync(join(root, 'noindex'));
  writeFileSync(join(root, 'noindex', 'x.txt'), 'x\n');
  mkdirSync(join(root, 'evil.example'));
  writeFileSync(join(root, 'evil.example', 'index.html'), 'evil dir\n');
  writeFileSync(join(root, '.hidden'), 'dotfile\n');
  mkdirSync(join(root, '.git'));
  writeFileSync(join(root, '.git', 'config'), '[core]\n');
  writeFileSync(join(root, '%2e%2e'), 'literal percent name\n');
  writeFileSync(join(root, 'café.txt'), 'unicode name\n');
  mkdirSync(join(root, 'dir-index'));
  mkdirSync(join(root, 'dir-index', 'index.html'));

  // Symlinks that stay inside the root...
  symlinkSync('index.html', join(root, 'link-in'));
  symlinkSync('sub', join(root, 'link-sub'));
  symlinkSync('../root/a.json', join(root, 'link-roundabout.json'));
  // ...and ones that leave it.
  symlinkSync('../secret.txt', join(root, 'link-out'));
  symlinkSync(join(base, 'secret.txt'), join(root, 'link-abs-out.txt'));
  symlinkSync('../outside', join(root, 'link-dir-out'));
  symlinkSync('../root-evil', join(root, 'link-sibling'));
  symlinkSync('/', join(root, 'link-fs-root'));
  symlinkSync('/etc/passwd', join(root, 'passwd'));
  symlinkSync('link-out', join(root, 'link-chain'));
  symlinkSync('no-such-target', join(root, 'link-dangling'));
  symlinkSync('link-loop-b', join(root, 'link-loop-a'));
  symlinkSync('link-loop-a', join(root, 'link-loop-b'));
  mkdirSync(join(root, 'idx-out'));
  symlinkSync('../../secret.txt', join(root, 'idx-out', 'index.html'));
  symlinkSync('.git/config', join(root, 'to-dotfile.txt'));

  // Old enough that nothing is "racy" unless a test makes it so.
  const old = new Date('2024-01-02T03:04:05Z');
  for (const f of ['index.html', 'a.json', 'digits.txt', 'big.bin', 'empty.txt']) utimesSync(join(root, f), old, old);

  return { base, root, big, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export function header(res: StaticResponse, name: string): string | undefined {
  const found = res.headers.find(([n]) => n === name);
  return found === undefined ? undefined : found[1];
}

/** The body's bytes; a file body is read in small chunks and closed. */
export async function bodyOf(res: StaticResponse, chunkSize = 16 * 1024): Promise<Buffer> {
  const body = res.body;
  if (body.kind === 'none') return Buffer.alloc(0);
  if (body.kind === 'bytes') return Buffer.from(body.bytes);
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of new FileRangeReader(body, chunkSize).chunks()) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  } finally {
    await body.release();
  }
}

export function get(sf: StaticFiles, path: string, headers: Array<[string, string]> = [], method = 'GET'): Promise<StaticResponse> {
  return sf.respond({ method, path, headers });
}
