/**
 * Nothing outside the document root is ever served. The fixture puts a
 * secret file and directory next to the root, and symlinks from inside the
 * root to them; every attempt below must answer 400 or 404 and never carry
 * the secret, whatever the cache or streaming mode.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticFiles, type StaticResponse } from '../../src/server/static.js';
import { bodyOf, type Fixture, get, makeFixture, SECRET } from './helpers.js';

let fx: Fixture;
let servers: Array<[string, StaticFiles]>;

beforeAll(() => {
  fx = makeFixture();
  servers = [
    ['default', new StaticFiles({ root: fx.root })],
    // Everything streamed, dotfiles allowed: the other code paths.
    ['streamed', new StaticFiles({ root: fx.root, memoryFileLimit: 0, dotfiles: 'allow' })],
    ['gzip errors', new StaticFiles({ root: fx.root, errorGzip: true, revalidateMs: 60_000 })],
  ];
});
afterAll(() => fx.cleanup());

async function text(res: StaticResponse): Promise<string> {
  const raw = await bodyOf(res);
  const enc = res.headers.find(([n]) => n === 'content-encoding');
  return (enc !== undefined && raw.length > 0 ? gunzipSync(raw) : raw).toString('latin1');
}

function expectNoLeak(res: StaticResponse, body: string, label: string): void {
  expect(body, label).not.toContain(SECRET);
  expect(body, label).not.toMatch(/root:.*:0:0:/); // /etc/passwd
  expect([400, 404], label).toContain(res.status);
  for (const [, v] of res.headers) expect(v, label).not.toContain(SECRET);
}

// [raw :path, expected status]
const ATTEMPTS: Array<[string, 400 | 404]> = [
  ['/../secret.txt', 404],
  ['/..%2fsecret.txt', 404],
  ['/..%2Fsecret.txt', 404],
  ['/%2e%2e/secret.txt', 404],
  ['/%2E%2E/secret.txt', 404],
  ['/%2e%2e%2fsecret.txt', 404],
  ['/.%2e/secret.txt', 404],
  ['/%2e./secret.txt', 404],
  ['/sub/../../secret.txt', 404],
  ['/sub/%2e%2e/%2e%2e/secret.txt', 404],
  ['/sub/..%2f..%2fsecret.txt', 404],
  ['/sub/./../.././secret.txt', 404],
  ['/./../secret.txt', 404],
  ['//../secret.txt', 404],
  ['/index.html/../../secret.txt', 404],
  ['/link-sub/../../secret.txt', 404],
  ['/..\\secret.txt', 404],
  ['/..%5csecret.txt', 404],
  ['/%5c..%5csecret.txt', 404],
  ['/sub\\..\\..\\secret.txt', 404],
  ['/%2e%2e%5c%2e%2e%5csecret.txt', 404],
  ['/%252e%252e/secret.txt', 404],
  ['/%252e%252e%252fsecret.txt', 404],
  ['/..%252fsecret.txt', 404],
  ['/%25252e%25252e/secret.txt', 404],
  ['/%c0%ae%c0%ae/secret.txt', 400],
  ['/%c0%af..%c0%afsecret.txt', 400],
  ['/%e0%80%ae%e0%80%ae/secret.txt', 400],
  ['/sub/..%c0%afsecret.txt', 400],
  ['/%u002e%u002e/secret.txt', 400],
  ['/..%00/secret.txt', 400],
  ['/secret.txt%00.html', 400],
  ['/%00../secret.txt', 400],
  ['/..\u0000/secret.txt', 400],
  ['/..\n/secret.txt', 400],
  ['/\uff0e\uff0e/secret.txt', 400],
  ['/%EF%BC%8E%EF%BC%8E/secret.txt', 404],
  ['/%EF%BB%BF../secret.txt', 404],
  ['../secret.txt', 400],
  ['secret.txt', 400],
  ['http://localhost/../secret.txt', 400],
  ['*', 400],
  ['/..;/secret.txt', 404],
  ['/.../secret.txt', 404],
  [`/${'../'.repeat(20)}etc/passwd`, 404],
  [`/${'%2e%2e/'.repeat(10)}etc/passwd`, 404],
  ['/%2e%2e%2f%2e%2e%2fetc%2fpasswd', 404],
  ['/link-out', 404],
  ['/link-abs-out.txt', 404],
  ['/link-chain', 404],
  ['/link-dir-out/secret.txt', 404],
  ['/link-dir-out/', 404],
  ['/link-dir-out', 404],
  ['/link-dir-out/index.html', 404],
  ['/link-sibling/x.txt', 404],
  ['/link-fs-root/etc/passwd', 404],
  ['/passwd', 404],
  ['/idx-out/', 404],
  ['/sub/../link-out', 404],
  ['/link-out?/index.html', 404],
  ['/link-dangling', 404],
  ['/link-loop-a', 404],
  ['/secret.txt', 404],
  ['/root-evil/x.txt', 404],
];

describe('path traversal battery', () => {
  it('has at least 30 attempts', () => expect(ATTEMPTS.length).toBeGreaterThanOrEqual(30));

  it.each(ATTEMPTS)('%j -> %i, never the secret', async (path, status) => {
    for (const [name, sf] of servers) {
      for (const method of ['GET', 'HEAD']) {
        const label = `${name} ${method} ${JSON.stringify(path)}`;
        const res = await get(sf, path, [['range', 'bytes=0-']], method);
        const body = await text(res);
        expectNoLeak(res, body, label);
        expect(res.status, label).toBe(status);
        // The synchronous entry point must agree.
        const quick = sf.respondFromCache({ method, path, headers: [] });
        if (quick !== undefined) expectNoLeak(quick, await text(quick), `${label} (cache)`);
      }
    }
  });

  it('a directory symlink leaving the root is not redirected (that would reveal it)', async () => {
    const res = await get(servers[0]![1], '/link-dir-out');
    expect(res.status).toBe(404);
    expect(res.headers.find(([n]) => n === 'location')).toBeUndefined();
  });
});

describe('changes under a running server', () => {
  it('a cached file replaced by a symlink to the outside is not served from the cache', async () => {
    for (const [name, sf] of servers.filter(([n]) => n !== 'gzip errors')) {
      const f = join(fx.root, `swap-${name}.txt`);
      writeFileSync(f, 'inside content');
      expect((await bodyOf(await get(sf, `/swap-${name}.txt`))).toString()).toBe('inside content');
      rmSync(f);
      symlinkSync(join(fx.base, 'secret.txt'), f);
      const res = await get(sf, `/swap-${name}.txt`);
      const body = await text(res);
      expectNoLeak(res, body, name);
    }
  });
  it('a cached directory replaced by a symlink to the outside', async () => {
    const sf = servers[0]![1];
    const dir = join(fx.root, 'swapdir');
    mkdirSync(dir);
    writeFileSync(join(dir, 'f.txt'), 'inside');
    writeFileSync(join(fx.base, 'outside', 'f.txt'), SECRET);
    expect((await bodyOf(await get(sf, '/swapdir/f.txt'))).toString()).toBe('inside');
    renameSync(dir, join(fx.base, 'swapdir-moved'));
    symlinkSync('../outside', dir);
    const res = await get(sf, '/swapdir/f.txt');
    expectNoLeak(res, await text(res), 'swapped dir');
  });
  it.runIf(process.platform === 'linux')('FIFOs and other non-regular files are 404 and never block', async () => {
    const fifo = join(fx.root, 'pipe.txt');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo: nothing to test
    }
    for (const [name, sf] of servers) {
      const res = await get(sf, '/pipe.txt');
      expect(res.status, name).toBe(404);
    }
  });
});
