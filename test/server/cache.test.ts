import { mkdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticFiles } from '../../src/server/static.js';
import { bodyOf, type Fixture, get, header, makeFixture } from './helpers.js';

let fx: Fixture;
let n = 0;

beforeAll(() => {
  fx = makeFixture();
});
afterAll(() => fx.cleanup());

/** A fresh file name per test so servers do not share state through names. */
function file(content: string | Buffer): { path: string; url: string } {
  const name = `c${++n}.txt`;
  const path = join(fx.root, name);
  writeFileSync(path, content);
  return { path, url: `/${name}` };
}

async function text(sf: StaticFiles, url: string): Promise<string> {
  return (await bodyOf(await get(sf, url))).toString();
}

describe('small-file cache', () => {
  it('a hit is answered synchronously and without reading the file again', async () => {
    const sf = new StaticFiles({ root: fx.root });
    const f = file('cached');
    expect(sf.respondFromCache({ method: 'GET', path: f.url, headers: [] })).toBeUndefined();
    expect(await text(sf, f.url)).toBe('cached');
    const reads = sf.cacheStats.reads;
    const hit = sf.respondFromCache({ method: 'GET', path: f.url, headers: [] });
    expect(hit?.status).toBe(200);
    expect(Buffer.from(hit?.body.kind === 'bytes' ? hit.body.bytes : []).toString()).toBe('cached');
    expect(await text(sf, f.url)).toBe('cached');
    expect(await text(sf, `${f.url}?q=1`)).toBe('cached');
    expect(sf.cacheStats.reads).toBe(reads);
    expect(sf.cacheStats.entries).toBe(1);
    expect(sf.cacheStats.bytes).toBe(6);
  });

  it('a modified file is served fresh (size changes)', async () => {
    const sf = new StaticFiles({ root: fx.root });
    const f = file('version one');
    expect(await text(sf, f.url)).toBe('version one');
    const etag1 = header(await get(sf, f.url), 'etag');
    writeFileSync(f.path, 'version two, longer');
    const res = await get(sf, f.url);
    expect((await bodyOf(res)).toString()).toBe('version two, longer');
    expect(header(res, 'content-length')).toBe('19');
    expect(header(res, 'etag')).not.toBe(etag1);
    // The old ETag no longer yields a 304.
    expect((await get(sf, f.url, [['if-none-match', etag1 as string]])).status).toBe(200);
  });

  it('a file replaced (rename over it) with the same size and mtime is served fresh', async () => {
    const sf = new StaticFiles({ root: fx.root });
    const f = file('AAAA');
    const t = new Date('2023-05-06T07:08:09Z');
    utimesSync(f.path, t, t);
    expect(await text(sf, f.url)).toBe('AAAA');
    const tmp = join(fx.root, 'replacement.tmp');
    writeFileSync(tmp, 'BBBB');
    utimesSync(tmp, t, t);
    renameSync(tmp, f.path);
    expect(await text(sf, f.url)).toBe('BBBB');
  });

  it('an in-place rewrite of the same size is served fresh, even with the mtime put back', async () => {
    const sf = new StaticFiles({ root: fx.root });
    const f = file('1111');
    const t = new Date('2023-05-06T07:08:09Z');
    utimesSync(f.path, t, t);
    expect(await text(sf, f.url)).toBe('1111');
    const before = statSync(f.path);
    await sleep(50); // let the file system's clock tick, so ctime moves
    writeFileSync(f.path, '2222');
    utimesSync(f.path, t, t);
    const after = statSync(f.path);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.size).toBe(before.size);
    expect(after.ctimeMs).not.toBe(before.ctimeMs);
    expect(await text(sf, f.url)).toBe('2222');
  });

  it('a racy entry is read again once the racy window has passed', async () => {
    const f = file('racy');
    // The clock starts at the file's ctime, so the re-read after the window
    // is settled however slowly the test runs.
    let clock = statSync(f.path).ctimeMs;
    const sf = new StaticFiles({ root: fx.root, now: () => clock });
    expect(await text(sf, f.url)).toBe('racy');
    expect(await text(sf, f.url)).toBe('racy');
    const reads = sf.cacheStats.reads;
    clock += 2001;
    expect(await text(sf, f.url)).toBe('racy');
    expect(sf.cacheStats.reads).toBe(reads + 1);
    // Now it is settled: no more re-reads, however late.
    clock += 60_000;
    expect(await text(sf, f.url)).toBe('racy');
    expect(sf.cacheStats.reads).toBe(reads + 1);
  });

  it('an entry that was not racy is not read again', async () => {
    let clock = Date.now() + 10_000;
    const sf = new StaticFiles({ root: fx.root, now: () => clock });
    const f = file('settled');
    expect(await text(sf, f.url)).toBe('settled');
    const reads = sf.cacheStats.reads;
    clock += 60_000;
    expect(await text(sf, f.url)).toBe('settled');
    expect(sf.cacheStats.reads).toBe(reads);
  });

  it('a deleted file becomes 404; a file turned into a directory redirects', async () => {
    const sf = new StaticFiles({ root: fx.root });
    const f = file('soon gone');
    expect(await text(sf, f.url)).toBe('soon gone');
    rmSync(f.path);
    expect((await get(sf, f.url)).status).toBe(404);
    expect(sf.respondFromCache({ method: 'GET', path: f.url, headers: [] })).toBeUndefined();
    mkdirSync(f.path);
    writeFileSync(join(f.path, 'index.html'), 'now a dir');
    expect((await get(sf, f.url)).status).toBe(301);
    expect(await text(sf, `${f.url}/`)).toBe('now a dir');
  });

  it('a directory index is revalidated too', async () => {
    const sf = new StaticFiles({ root: fx.root });
    const dir = join(fx.root, 'idx-reval');
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.html'), 'first');
    expect(await text(sf, '/idx-reval/')).toBe('first');
    writeFileSync(join(dir, 'index.html'), 'second!');
    expect(await text(sf, '/idx-reval/')).toBe('second!');
  });

  it('revalidateMs: within the window no stat is made (stale allowed), after it the change is seen', async () => {
    let clock = Date.now() + 10_000;
    const sf = new StaticFiles({ root: fx.root, revalidateMs: 1000, now: () => clock });
    const f = file('ttl one');
    expect(await text(sf, f.url)).toBe('ttl one');
    writeFileSync(f.path, 'ttl two!');
    clock += 500;
    expect(await text(sf, f.url)).toBe('ttl one');
    clock += 600;
    expect(await text(sf, f.url)).toBe('ttl two!');
  });

  it('cacheMaxEntries and cacheMaxBytes bound the cache', async () => {
    const sf = new StaticFiles({ root: fx.root, cacheMaxEntries: 2, cacheMaxBytes: 100 });
    const files = [file('a'.repeat(40)), file('b'.repeat(40)), file('c'.repeat(40))];
    for (const f of files) await text(sf, f.url);
    expect(sf.cacheStats.entries).toBe(2);
    expect(sf.cacheStats.bytes).toBe(80);
    const big = file('d'.repeat(90));
    await text(sf, big.url);
    expect(sf.cacheStats.bytes).toBeLessThanOrEqual(100);
    // Larger than the whole cache: served from memory, not cached.
    const huge = file('e'.repeat(150));
    expect(await text(sf, huge.url)).toBe('e'.repeat(150));
    expect(sf.cacheStats.bytes).toBeLessThanOrEqual(100);
    const reads = sf.cacheStats.reads;
    await text(sf, huge.url);
    expect(sf.cacheStats.reads).toBe(reads + 1);
  });

  it('eviction gives a recently used entry a second chance', async () => {
    const clock = Date.now() + 10_000;
    const sf = new StaticFiles({ root: fx.root, cacheMaxEntries: 2, now: () => clock });
    const [a, b, c] = [file('A'), file('B'), file('C')];
    await text(sf, a.url);
    await text(sf, b.url);
    await text(sf, a.url); // a is used
    await text(sf, c.url); // evicts b, not a
    const reads = sf.cacheStats.reads;
    await text(sf, a.url);
    expect(sf.cacheStats.reads).toBe(reads);
    await text(sf, b.url);
    expect(sf.cacheStats.reads).toBe(reads + 1);
  });

  it('clearCache empties it', async () => {
    const sf = new StaticFiles({ root: fx.root });
    const f = file('x');
    await text(sf, f.url);
    expect(sf.cacheStats.entries).toBe(1);
    sf.clearCache();
    expect(sf.cacheStats).toMatchObject({ entries: 0, bytes: 0 });
    expect(sf.respondFromCache({ method: 'GET', path: f.url, headers: [] })).toBeUndefined();
  });

  it('cacheMaxEntries 0 disables caching but still serves', async () => {
    const sf = new StaticFiles({ root: fx.root, cacheMaxEntries: 0 });
    const f = file('uncached');
    expect(await text(sf, f.url)).toBe('uncached');
    expect(await text(sf, f.url)).toBe('uncached');
    expect(sf.cacheStats.entries).toBe(0);
    expect(sf.cacheStats.reads).toBe(2);
  });

  it('many concurrent first requests all get the content', async () => {
    const sf = new StaticFiles({ root: fx.root });
    const f = file('concurrent');
    const all = await Promise.all(Array.from({ length: 50 }, () => text(sf, f.url)));
    expect(new Set(all)).toEqual(new Set(['concurrent']));
    expect(sf.cacheStats.entries).toBe(1);
  });

  it('the ETag of a cached file follows its content, not its timestamps', async () => {
    const sf = new StaticFiles({ root: fx.root });
    const f1 = file('same bytes');
    const f2 = file('same bytes');
    const f3 = file('other bytes');
    const e1 = header(await get(sf, f1.url), 'etag');
    expect(e1).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(header(await get(sf, f2.url), 'etag')).toBe(e1);
    expect(header(await get(sf, f3.url), 'etag')).not.toBe(e1);
  });

  it('statOncePerTurn: the hits of one turn share a stat; a change is seen from the next turn on', async () => {
    const sf = new StaticFiles({ root: fx.root, statOncePerTurn: true });
    const f = file('turn one');
    expect(await text(sf, f.url)).toBe('turn one');
    await new Promise((r) => setImmediate(r));
    const req = { method: 'GET', path: f.url, headers: [] };
    const stats = sf.cacheStats.stats;
    const hits = [sf.respondFromCache(req), sf.respondFromCache({ ...req, method: 'HEAD' }), sf.respondFromCache(req)];
    expect(hits.map((h) => h?.status)).toEqual([200, 200, 200]);
    expect(sf.cacheStats.stats).toBe(stats + 1);
    writeFileSync(f.path, 'turn two, longer');
    // Checked already in this turn: the change is not looked for yet.
    expect((await bodyOf(sf.respondFromCache(req)!)).toString()).toBe('turn one');
    await new Promise((r) => setImmediate(r));
    expect(sf.respondFromCache(req)).toBeUndefined();
    expect(await text(sf, f.url)).toBe('turn two, longer');
    // A turn is one pass of the event loop (reads on every connection), not one read: hits separated
    // only by microtasks share the stat; each hit after a setImmediate stats again.
    await new Promise((r) => setImmediate(r));
    let before = sf.cacheStats.stats;
    for (let i = 0; i < 3; i++) {
      await Promise.resolve();
      expect(sf.respondFromCache(req)?.status).toBe(200);
    }
    expect(sf.cacheStats.stats).toBe(before + 1);
    before = sf.cacheStats.stats;
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      expect(await text(sf, f.url)).toBe('turn two, longer');
    }
    expect(sf.cacheStats.stats).toBe(before + 3);
  });

  it('without statOncePerTurn every hit is checked with a stat, even within a turn', async () => {
    const sf = new StaticFiles({ root: fx.root });
    const f = file('each hit');
    expect(await text(sf, f.url)).toBe('each hit');
    const req = { method: 'GET', path: f.url, headers: [] };
    const stats = sf.cacheStats.stats;
    expect(sf.respondFromCache(req)?.status).toBe(200);
    writeFileSync(f.path, 'each hit, changed');
    expect(sf.respondFromCache(req)).toBeUndefined();
    expect(sf.cacheStats.stats).toBe(stats + 2);
    expect(await text(sf, f.url)).toBe('each hit, changed');
  });

  it('header lists that are the same on every call are frozen, and the same object', async () => {
    const sf = new StaticFiles({ root: fx.root });
    const f = file('frozen fields');
    await text(sf, f.url);
    const get1 = sf.respondFromCache({ method: 'GET', path: f.url, headers: [] })!;
    const get2 = sf.respondFromCache({ method: 'GET', path: f.url, headers: [] })!;
    const head = sf.respondFromCache({ method: 'HEAD', path: f.url, headers: [] })!;
    expect(get2.headers).toBe(get1.headers);
    expect(head.headers).toBe(get1.headers);
    expect(Object.isFrozen(get1.headers)).toBe(true);
    expect(get1.headers.every((field) => Object.isFrozen(field))).toBe(true);
    const etag = header(get1, 'etag')!;
    const notModified = sf.respondFromCache({ method: 'GET', path: f.url, headers: [['if-none-match', etag]] })!;
    expect(notModified.status).toBe(304);
    expect(Object.isFrozen(notModified.headers)).toBe(true);
    const missing = sf.respondFromCache({ method: 'GET', path: '/../x', headers: [] })!;
    expect(missing.status).toBe(404);
    expect(Object.isFrozen(missing.headers)).toBe(true);
    // Per-request lists (a range) are not frozen.
    const partial = sf.respondFromCache({ method: 'GET', path: f.url, headers: [['range', 'bytes=0-3']] })!;
    expect(partial.status).toBe(206);
    expect(Object.isFrozen(partial.headers)).toBe(false);
  });
});
