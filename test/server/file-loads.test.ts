/**
 * How the static layer loads files under concurrency and abandonment
 * (issue 16, h2serve items 1-3): concurrent first requests share one load,
 * streams of one large file share one descriptor, and a request that is
 * closed (reset) stops its lookup before the next file operation.
 */
import { renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABANDONED, releaseBody, StaticFiles, type StaticRequest, type StaticResponse } from '../../src/server/static.js';
import { countingFs } from '../helpers/counting-fs.js';
import { bodyOf, type Fixture, makeFixture, pseudoRandomBytes } from './helpers.js';

let fx: Fixture;
let n = 0;
beforeAll(() => {
  fx = makeFixture();
});
afterAll(() => fx.cleanup());

/** A new file under the root (a name no test used before). */
function file(content: string | Buffer, ext = 'txt'): string {
  const name = `load${++n}.${ext}`;
  writeFileSync(join(fx.root, name), content);
  return `/${name}`;
}

/** A request whose `closed` the test flips, as a reset stream's. */
function request(path: string, method = 'GET'): StaticRequest & { closed: boolean } {
  return { method, path, headers: [], closed: false };
}

const BIG = 300 * 1024; // above the default memoryFileLimit of 256 KiB

describe('concurrent loads of one file', () => {
  it('2,000 simultaneous first requests for one small file open and read it once', async () => {
    const c = countingFs();
    const sf = new StaticFiles({ root: fx.root, fs: c.fs });
    const url = file('herd of requests\n');
    const answers = await Promise.all(Array.from({ length: 2000 }, () => sf.respond(request(url))));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
    for (const a of answers.slice(0, 5)) expect((await bodyOf(a)).toString()).toBe('herd of requests\n');
    expect(sf.cacheStats.reads).toBe(1);
    expect(c.calls.open).toBe(1);
    expect(c.calls.realpath).toBe(1);
  });

  it('a directory index and a 404 are looked up once for all concurrent requests', async () => {
    const c = countingFs();
    const sf = new StaticFiles({ root: fx.root, fs: c.fs });
    const [index, missing] = await Promise.all([
      Promise.all(Array.from({ length: 100 }, () => sf.respond(request('/sub/')))),
      Promise.all(Array.from({ length: 100 }, () => sf.respond(request('/no-such-file')))),
    ]);
    expect(new Set(index.map((a) => a.status))).toEqual(new Set([200]));
    expect(new Set(missing.map((a) => a.status))).toEqual(new Set([404]));
    // /sub/ (the directory, then its index.html) and /no-such-file: three lookups in all.
    expect(c.calls.realpath).toBe(3);
  });

  it('concurrent requests for a large file share one descriptor, closed after the last release', async () => {
    const c = countingFs();
    const sf = new StaticFiles({ root: fx.root, fs: c.fs });
    const answers = await Promise.all(Array.from({ length: 500 }, () => sf.respond(request('/big.bin'))));
    expect(c.calls.open).toBe(1);
    expect(sf.cacheStats.descriptors).toBe(1);
    const handles = new Set(answers.map((a) => (a.body.kind === 'file' ? a.body.handle : null)));
    expect(handles.size).toBe(1);
    expect((await bodyOf(answers[0]!)).equals(fx.big)).toBe(true); // reads, then releases one
    // A request while it is open is answered without opening anything, from the cache.
    const more = sf.respondFromCache(request('/big.bin'));
    expect(more?.body.kind).toBe('file');
    expect(c.calls.open).toBe(1);
    await releaseBody(more as StaticResponse);
    await Promise.all(answers.map((a) => releaseBody(a)));
    await Promise.all(answers.map((a) => releaseBody(a))); // twice: nothing more
    expect(sf.cacheStats.descriptors).toBe(0);
    expect(c.handles[0]!.fd).toBe(-1); // closed
    // Once closed, the next request opens the file again.
    const again = await sf.respond(request('/big.bin'));
    expect(c.calls.open).toBe(2);
    expect((await bodyOf(again)).equals(fx.big)).toBe(true);
    expect(sf.cacheStats.descriptors).toBe(0);
  });

  it('HEAD, 304 and 412 of a large file hold no descriptor', async () => {
    // A clock past the racy window, so the file has an ETag.
    const sf = new StaticFiles({ root: fx.root, now: () => Date.now() + 5000 });
    const head = await sf.respond(request('/big.bin', 'HEAD'));
    expect(head.body.kind).toBe('none');
    const etag = head.headers.find(([k]) => k === 'etag')?.[1] as string;
    expect(etag).toMatch(/^"/);
    const nm = await sf.respond({ method: 'GET', path: '/big.bin', headers: [['if-none-match', etag]] });
    expect(nm.status).toBe(304);
    const pf = await sf.respond({ method: 'GET', path: '/big.bin', headers: [['if-match', '"other"']] });
    expect(pf.status).toBe(412);
    expect(sf.cacheStats.descriptors).toBe(0);
  });

  it('a large file replaced while streamed: old streams keep the old file, new requests get the new one', async () => {
    const sf = new StaticFiles({ root: fx.root });
    const url = file(pseudoRandomBytes(BIG, 1), 'bin');
    const old = await sf.respond(request(url));
    const next = pseudoRandomBytes(BIG + 1, 2);
    writeFileSync(join(fx.root, 'replacement.tmp'), next);
    renameSync(join(fx.root, 'replacement.tmp'), join(fx.root, url.slice(1)));
    expect(sf.respondFromCache(request(url))).toBeUndefined(); // the stat shows another file
    const fresh = await sf.respond(request(url));
    expect(sf.cacheStats.descriptors).toBe(2);
    expect((await bodyOf(fresh)).equals(next)).toBe(true);
    expect((await bodyOf(old)).equals(pseudoRandomBytes(BIG, 1))).toBe(true);
    expect(sf.cacheStats.descriptors).toBe(0);
  });

  it('two names of one large file (a symlink to it) share its descriptor', async () => {
    const sf = new StaticFiles({ root: fx.root });
    symlinkSync('big.bin', join(fx.root, 'alias-of-big.bin'));
    const a = await sf.respond(request('/big.bin'));
    const b = await sf.respond(request('/alias-of-big.bin'));
    expect(a.body.kind === 'file' && b.body.kind === 'file' && a.body.handle === b.body.handle).toBe(true);
    expect(sf.cacheStats.descriptors).toBe(1);
    expect((await bodyOf(b)).equals(fx.big)).toBe(true);
    await releaseBody(a);
    expect(sf.cacheStats.descriptors).toBe(0);
  });
});

describe('failures', () => {
  it('an exception after a large file was opened: 500, and its descriptor is closed', async () => {
    const c = countingFs();
    let broken = false;
    const clock = () => {
      if (broken) throw new Error('clock failure');
      return Date.now();
    };
    const sf = new StaticFiles({ root: fx.root, fs: c.fs, now: clock });
    broken = true;
    const res = await sf.respond(request('/big.bin'));
    expect(res.status).toBe(500);
    expect(c.calls.open).toBe(1);
    expect(c.handles[0]!.fd).toBe(-1);
    expect(sf.cacheStats.descriptors).toBe(0);
  });
});

describe('abandoned requests do no file work', () => {
  it('a request closed before its lookup starts: no realpath, no open, no read', async () => {
    const c = countingFs();
    const sf = new StaticFiles({ root: fx.root, fs: c.fs });
    const urls = Array.from({ length: 200 }, (_, i) => file(`reset ${i}\n`));
    const answers = await Promise.all(
      urls.map((u) => {
        const r = request(u);
        const p = sf.respond(r);
        r.closed = true; // as a RST_STREAM that came in the same read as the request
        return p;
      }),
    );
    expect(answers.every((a) => a === ABANDONED)).toBe(true);
    expect(c.calls).toEqual({ realpath: 0, open: 0, readlink: 0, statSync: 0 });
    expect(sf.cacheStats.reads).toBe(0);
    expect(sf.cacheStats.entries).toBe(0);
  });

  it('closed during realpath: nothing is opened', async () => {
    const c = countingFs();
    const sf = new StaticFiles({ root: fx.root, fs: c.fs });
    const g = c.gate('realpath');
    const r = request(file('x'));
    const p = sf.respond(r);
    await g.reached;
    r.closed = true;
    g.open();
    expect(await p).toBe(ABANDONED);
    expect(c.calls.open).toBe(0);
    expect(sf.cacheStats.reads).toBe(0);
  });

  it('closed during open: no fstat or readlink, and the descriptor is closed', async () => {
    const c = countingFs();
    const sf = new StaticFiles({ root: fx.root, fs: c.fs });
    const g = c.gate('open');
    const r = request('/big.bin');
    const p = sf.respond(r);
    await g.reached;
    r.closed = true;
    g.open();
    expect(await p).toBe(ABANDONED);
    expect(c.calls.open).toBe(1);
    expect(c.calls.readlink).toBe(0);
    expect(c.handles[0]!.fd).toBe(-1);
    expect(sf.cacheStats.descriptors).toBe(0);
  });

  it('closed during the descriptor check: the small file is not read', async () => {
    const c = countingFs();
    const sf = new StaticFiles({ root: fx.root, fs: c.fs });
    const g = c.gate('readlink');
    const r = request(file('y'));
    const p = sf.respond(r);
    await g.reached;
    r.closed = true;
    g.open();
    expect(await p).toBe(ABANDONED);
    expect(sf.cacheStats.reads).toBe(0);
    expect(c.handles[0]!.fd).toBe(-1);
  });

  it('a load goes on while one of its requests is still open; the closed one gets ABANDONED', async () => {
    const c = countingFs();
    const sf = new StaticFiles({ root: fx.root, fs: c.fs });
    const g = c.gate('realpath');
    const url = file('shared load\n');
    const gone = request(url);
    const live = request(url);
    const p1 = sf.respond(gone);
    const p2 = sf.respond(live);
    await g.reached;
    gone.closed = true;
    g.open();
    expect(await p1).toBe(ABANDONED);
    const res = await p2;
    expect(res.status).toBe(200);
    expect((await bodyOf(res)).toString()).toBe('shared load\n');
    expect(c.calls.realpath).toBe(1);
  });

  it('after an abandoned load, a new request for the path loads it anew', async () => {
    const c = countingFs();
    const sf = new StaticFiles({ root: fx.root, fs: c.fs });
    const g = c.gate('realpath');
    const url = file('second try\n');
    const gone = request(url);
    const p1 = sf.respond(gone);
    await g.reached;
    gone.closed = true;
    g.open();
    expect(await p1).toBe(ABANDONED);
    const res = await sf.respond(request(url));
    expect((await bodyOf(res)).toString()).toBe('second try\n');
    expect(c.calls.realpath).toBe(2);
  });

  it('requests without `closed` (library callers) are never abandoned', async () => {
    const c = countingFs();
    const sf = new StaticFiles({ root: fx.root, fs: c.fs });
    const res = await sf.respond({ method: 'GET', path: '/a.json', headers: [] });
    expect(res.status).toBe(200);
  });
});
