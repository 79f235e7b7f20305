import { existsSync, realpathSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileRangeReader } from '../../src/server/file-body.js';
import { formatHttpDate } from '../../src/server/http-date.js';
import { BUILTIN_MIME_TYPES, readMimeTypesFile } from '../../src/server/mime.js';
import { StaticFiles, StaticFilesError } from '../../src/server/static.js';
import { bodyOf, type Fixture, get, header, makeFixture } from './helpers.js';

let fx: Fixture;
let sf: StaticFiles;
const OLD = Date.parse('2024-01-02T03:04:05Z') / 1000;
const OLD_TEXT = 'Tue, 02 Jan 2024 03:04:05 GMT';

beforeAll(() => {
  fx = makeFixture();
  sf = new StaticFiles({ root: fx.root, mimeTypes: BUILTIN_MIME_TYPES });
});
afterAll(() => fx.cleanup());

describe('GET and HEAD', () => {
  it('serves a file with its representation headers and no date or server', async () => {
    const res = await get(sf, '/index.html');
    expect(res.status).toBe(200);
    expect((await bodyOf(res)).toString()).toBe('<h1>home</h1>\n');
    expect(header(res, 'content-type')).toBe('text/html');
    expect(header(res, 'content-length')).toBe('14');
    expect(header(res, 'last-modified')).toBe(OLD_TEXT);
    expect(header(res, 'etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(header(res, 'cache-control')).toBe('max-age=3600');
    expect(header(res, 'accept-ranges')).toBe('bytes');
    expect(header(res, 'date')).toBeUndefined();
    expect(header(res, 'server')).toBeUndefined();
    expect(res.headers.every(([n]) => n === n.toLowerCase() && !n.startsWith(':'))).toBe(true);
  });
  it('HEAD has the same headers and no body', async () => {
    const g = await get(sf, '/a.json');
    const h = await get(sf, '/a.json', [], 'HEAD');
    expect(h.status).toBe(200);
    expect(h.headers).toEqual(g.headers);
    expect(h.body.kind).toBe('none');
  });
  it('HEAD of a streamed file has headers and no body', async () => {
    const h = await get(sf, '/big.bin', [], 'HEAD');
    expect(h.status).toBe(200);
    expect(header(h, 'content-length')).toBe(String(1024 * 1024));
    expect(h.body.kind).toBe('none');
  });
  it('a 0-byte file: 200, content-length 0, no body', async () => {
    const res = await get(sf, '/empty.txt');
    expect(res.status).toBe(200);
    expect(header(res, 'content-length')).toBe('0');
    expect(header(res, 'content-type')).toBe('text/plain');
    expect(res.body.kind).toBe('none');
    expect(header(res, 'etag')).toBeDefined();
  });
  it('a query string and a fragment are ignored', async () => {
    const res = await get(sf, '/a.json?v=3#top');
    expect(res.status).toBe(200);
    expect((await bodyOf(res)).toString()).toBe('{"a":1}\n');
  });
  it('percent-encoded names are decoded once', async () => {
    expect((await bodyOf(await get(sf, '/caf%C3%A9.txt'))).toString()).toBe('unicode name\n');
    expect((await bodyOf(await get(sf, '/a%2Ejson'))).toString()).toBe('{"a":1}\n');
    // "%252e%252e" decodes to the file literally named "%2e%2e", never to "..".
    expect((await bodyOf(await get(sf, '/%252e%252e'))).toString()).toBe('literal percent name\n');
  });
  it('a symlink that stays inside the root is served', async () => {
    expect((await bodyOf(await get(sf, '/link-in'))).toString()).toBe('<h1>home</h1>\n');
    expect((await bodyOf(await get(sf, '/link-sub/page.txt'))).toString()).toBe('sub page\n');
    expect((await bodyOf(await get(sf, '/link-roundabout.json'))).toString()).toBe('{"a":1}\n');
  });
  it('a file named with a trailing slash is 404', async () => {
    expect((await get(sf, '/a.json/')).status).toBe(404);
  });
});

describe('directories', () => {
  it('"/" and "dir/" serve index.html', async () => {
    expect((await bodyOf(await get(sf, '/'))).toString()).toBe('<h1>home</h1>\n');
    const sub = await get(sf, '/sub/');
    expect(sub.status).toBe(200);
    expect(header(sub, 'content-type')).toBe('text/html');
    expect((await bodyOf(sub)).toString()).toBe('<h1>sub</h1>\n');
  });
  it('a directory without its slash is redirected (301), as nghttpd does, query kept', async () => {
    const rel = await get(sf, '/sub?x=1');
    expect(rel.status).toBe(301);
    expect(header(rel, 'location')).toBe('/sub/?x=1');
    expect(rel.body.kind).toBe('none');
    const abs = await get(sf, '/sub', [
      [':scheme', 'https'],
      [':authority', 'example.com:8443'],
    ]);
    expect(header(abs, 'location')).toBe('https://example.com:8443/sub/');
    const host = await get(sf, '/noindex', [
      [':scheme', 'http'],
      ['host', 'h.example'],
    ]);
    expect(header(host, 'location')).toBe('http://h.example/noindex/');
    const fields = await sf.respond({ method: 'GET', path: '/sub', headers: [], scheme: 'http', authority: 'a.example' });
    expect(header(fields, 'location')).toBe('http://a.example/sub/');
  });
  it('the Location is rebuilt from the normalised path: no open redirect', async () => {
    const res = await get(sf, '//evil.example');
    expect(res.status).toBe(301);
    expect(header(res, 'location')).toBe('/evil.example/');
    const bad = await get(sf, '/sub', [
      [':scheme', 'http'],
      [':authority', 'evil.example/x?'],
    ]);
    expect(header(bad, 'location')).toBe('/sub/');
  });
  it('a directory without index.html is 404: no listings', async () => {
    const res = await get(sf, '/noindex/');
    expect(res.status).toBe(404);
    expect((await bodyOf(res)).toString()).not.toContain('x.txt');
  });
  it('an index.html that is a directory is 404', async () => {
    expect((await get(sf, '/dir-index/')).status).toBe(404);
  });
});

describe('errors', () => {
  it('404 has a small HTML page', async () => {
    const res = await get(sf, '/missing.html');
    expect(res.status).toBe(404);
    expect(header(res, 'content-type')).toBe('text/html; charset=UTF-8');
    const body = (await bodyOf(res)).toString();
    expect(body).toContain('<title>404 Not Found</title>');
    expect(header(res, 'content-length')).toBe(String(Buffer.byteLength(body)));
  });
  it('HEAD of a missing file: 404 headers, no body', async () => {
    const res = await get(sf, '/missing.html', [], 'HEAD');
    expect(res.status).toBe(404);
    expect(res.body.kind).toBe('none');
  });
  it('405 with allow for every other method (methods are case-sensitive)', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'get']) {
      const res = await get(sf, '/index.html', [], method);
      expect(res.status, method).toBe(405);
      expect(header(res, 'allow')).toBe('GET, HEAD');
      expect((await bodyOf(res)).toString()).toContain('405 Method Not Allowed');
    }
  });
  it('400 for a malformed path', async () => {
    const res = await get(sf, '/a%zz');
    expect(res.status).toBe(400);
    expect((await bodyOf(res)).toString()).toContain('400 Bad Request');
  });
  it('the signature appears, escaped, in error pages', async () => {
    const s = new StaticFiles({ root: fx.root, signature: 'h2serve <test> at port 1' });
    const body = (await bodyOf(await get(s, '/nope'))).toString();
    expect(body).toContain('<address>h2serve &#60;test&#62; at port 1</address>');
  });
  it('errorGzip: gzip when Accept-Encoding allows, plain otherwise', async () => {
    const s = new StaticFiles({ root: fx.root, errorGzip: true });
    const gz = await get(s, '/nope', [['accept-encoding', 'gzip, deflate']]);
    expect(gz.status).toBe(404);
    expect(header(gz, 'content-encoding')).toBe('gzip');
    expect(header(gz, 'vary')).toBe('accept-encoding');
    const raw = await bodyOf(gz);
    expect(header(gz, 'content-length')).toBe(String(raw.length));
    expect(gunzipSync(raw).toString()).toContain('404 Not Found');
    const none = await get(s, '/nope');
    expect(header(none, 'content-encoding')).toBe('gzip'); // no Accept-Encoding: anything goes
    const plain = await get(s, '/nope', [['accept-encoding', 'br']]);
    expect(header(plain, 'content-encoding')).toBeUndefined();
    expect((await bodyOf(plain)).toString()).toContain('404 Not Found');
    const g405 = await get(s, '/', [['accept-encoding', 'gzip']], 'POST');
    expect(gunzipSync(await bodyOf(g405)).toString()).toContain('405');
    // Files themselves are never re-encoded.
    expect(header(await get(s, '/a.json', [['accept-encoding', 'gzip']]), 'content-encoding')).toBeUndefined();
  });
});

describe('options', () => {
  it('noContentLength drops content-length everywhere', async () => {
    const s = new StaticFiles({ root: fx.root, noContentLength: true });
    for (const [path, h] of [
      ['/a.json', []],
      ['/big.bin', []],
      ['/digits.txt', [['range', 'bytes=0-1']]],
      ['/missing', []],
    ] as Array<[string, Array<[string, string]>]>) {
      const res = await get(s, path, h);
      expect(header(res, 'content-length'), path).toBeUndefined();
      await bodyOf(res);
    }
  });
  it('cacheControl: custom or none', async () => {
    const custom = new StaticFiles({ root: fx.root, cacheControl: 'no-cache' });
    expect(header(await get(custom, '/a.json'), 'cache-control')).toBe('no-cache');
    const none = new StaticFiles({ root: fx.root, cacheControl: null });
    expect(header(await get(none, '/a.json'), 'cache-control')).toBeUndefined();
  });
  it('dotfiles are 404 by default and served with dotfiles: allow', async () => {
    expect((await get(sf, '/.hidden')).status).toBe(404);
    expect((await get(sf, '/.git/config')).status).toBe(404);
    expect((await get(sf, '/to-dotfile.txt')).status).toBe(404); // via a symlink too
    const allow = new StaticFiles({ root: fx.root, dotfiles: 'allow' });
    expect((await bodyOf(await get(allow, '/.hidden'))).toString()).toBe('dotfile\n');
    expect((await bodyOf(await get(allow, '/to-dotfile.txt'))).toString()).toBe('[core]\n');
  });
  it('indexFile names another index', async () => {
    const s = new StaticFiles({ root: fx.root, indexFile: 'page.txt' });
    expect((await bodyOf(await get(s, '/sub/'))).toString()).toBe('sub page\n');
    expect(() => new StaticFiles({ root: fx.root, indexFile: '../x' })).toThrow(StaticFilesError);
  });
  it('the constructor rejects a missing root, a file as root, an unreadable mime file, bad numbers', () => {
    const err = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof StaticFilesError ? e.code : 'other';
      }
      return undefined;
    };
    expect(err(() => new StaticFiles({ root: join(fx.base, 'nope') }))).toBe('ROOT_UNUSABLE');
    expect(err(() => new StaticFiles({ root: join(fx.base, 'secret.txt') }))).toBe('ROOT_UNUSABLE');
    expect(err(() => new StaticFiles({ root: fx.root, mimeTypesFile: join(fx.base, 'nope') }))).toBe('MIME_TYPES_UNREADABLE');
    expect(err(() => new StaticFiles({ root: fx.root, memoryFileLimit: -1 }))).toBe('BAD_OPTION');
  });
  it('a root given through a symlink works', async () => {
    const alias = join(fx.base, 'root-alias');
    symlinkSync('root', alias);
    const s = new StaticFiles({ root: alias });
    expect(s.root).toBe(realpathSync(fx.root));
    expect((await bodyOf(await get(s, '/a.json'))).toString()).toBe('{"a":1}\n');
    expect((await get(s, '/link-out')).status).toBe(404);
  });
});

describe('content types', () => {
  it('built-in table; unknown or missing extensions send no content-type (as nghttpd)', async () => {
    expect(header(await get(sf, '/style.css'), 'content-type')).toBe('text/css');
    expect(header(await get(sf, '/a.json'), 'content-type')).toBe('application/json');
    expect(header(await get(sf, '/readme'), 'content-type')).toBeUndefined();
    expect(header(await get(sf, '/data.custom'), 'content-type')).toBeUndefined();
  });
  it('the type comes from the requested name (index.html for directories)', async () => {
    expect(header(await get(sf, '/sub/'), 'content-type')).toBe('text/html');
    expect(header(await get(sf, '/link-in'), 'content-type')).toBeUndefined();
  });
  it('defaultContentType fills in for unknown extensions', async () => {
    const s = new StaticFiles({ root: fx.root, mimeTypes: BUILTIN_MIME_TYPES, defaultContentType: 'application/octet-stream' });
    expect(header(await get(s, '/readme'), 'content-type')).toBe('application/octet-stream');
    expect(header(await get(s, '/a.json'), 'content-type')).toBe('application/json');
  });
  it('a custom mime.types file replaces the table', async () => {
    const file = join(fx.base, 'custom.types');
    writeFileSync(file, '# custom\napplication/x-custom custom\ntext/x-json-ish json\n');
    const s = new StaticFiles({ root: fx.root, mimeTypesFile: file });
    expect(header(await get(s, '/data.custom'), 'content-type')).toBe('application/x-custom');
    expect(header(await get(s, '/a.json'), 'content-type')).toBe('text/x-json-ish');
    expect(header(await get(s, '/style.css'), 'content-type')).toBeUndefined();
  });
  it.runIf(existsSync('/etc/mime.types'))('by default /etc/mime.types is used when present', async () => {
    const system = readMimeTypesFile('/etc/mime.types');
    const s = new StaticFiles({ root: fx.root });
    expect(header(await get(s, '/big.bin'), 'content-type')).toBe(system?.get('bin'));
    expect(header(await get(s, '/style.css'), 'content-type')).toBe(system?.get('css'));
  });
});

describe('conditional requests (RFC 9110 §13)', () => {
  async function etagOf(path: string): Promise<string> {
    const e = header(await get(sf, path), 'etag');
    expect(e).toBeDefined();
    return e as string;
  }
  it('If-None-Match with the current tag: 304 with etag and cache-control, no body', async () => {
    const etag = await etagOf('/a.json');
    const res = await get(sf, '/a.json', [['if-none-match', etag]]);
    expect(res.status).toBe(304);
    expect(header(res, 'etag')).toBe(etag);
    expect(header(res, 'cache-control')).toBe('max-age=3600');
    expect(header(res, 'content-length')).toBeUndefined();
    expect(res.body.kind).toBe('none');
  });
  it('If-None-Match: lists, weak comparison, *', async () => {
    const etag = await etagOf('/a.json');
    expect((await get(sf, '/a.json', [['if-none-match', `"nope", ${etag}`]])).status).toBe(304);
    expect((await get(sf, '/a.json', [['if-none-match', `W/${etag}`]])).status).toBe(304);
    expect(
      (
        await get(sf, '/a.json', [
          ['if-none-match', '"nope"'],
          ['if-none-match', etag],
        ])
      ).status,
    ).toBe(304);
    expect((await get(sf, '/a.json', [['if-none-match', '*']])).status).toBe(304);
    expect((await get(sf, '/a.json', [['if-none-match', '"nope"']])).status).toBe(200);
    expect((await get(sf, '/a.json', [['if-none-match', etag]], 'HEAD')).status).toBe(304);
  });
  it('If-Modified-Since: 304 when not modified since, 200 otherwise', async () => {
    expect((await get(sf, '/a.json', [['if-modified-since', OLD_TEXT]])).status).toBe(304);
    expect((await get(sf, '/a.json', [['if-modified-since', formatHttpDate(OLD + 3600)]])).status).toBe(304);
    expect((await get(sf, '/a.json', [['if-modified-since', formatHttpDate(OLD - 1)]])).status).toBe(200);
    expect((await get(sf, '/a.json', [['if-modified-since', 'yesterday']])).status).toBe(200);
    // A date in the future is not valid.
    expect((await get(sf, '/a.json', [['if-modified-since', formatHttpDate(Date.now() / 1000 + 86400)]])).status).toBe(200);
    // The obsolete formats count too.
    expect((await get(sf, '/a.json', [['if-modified-since', 'Tuesday, 02-Jan-24 03:04:05 GMT']])).status).toBe(304);
  });
  it('If-Modified-Since is ignored when If-None-Match is present (§13.2.2)', async () => {
    const res = await get(sf, '/a.json', [
      ['if-none-match', '"other"'],
      ['if-modified-since', OLD_TEXT],
    ]);
    expect(res.status).toBe(200);
    expect((await bodyOf(res)).toString()).toBe('{"a":1}\n');
  });
  it('If-Match and If-Unmodified-Since: 412 when they fail', async () => {
    const etag = await etagOf('/a.json');
    expect((await get(sf, '/a.json', [['if-match', '"nope"']])).status).toBe(412);
    expect((await get(sf, '/a.json', [['if-match', `W/${etag}`]])).status).toBe(412); // strong comparison
    expect((await get(sf, '/a.json', [['if-match', etag]])).status).toBe(200);
    expect((await get(sf, '/a.json', [['if-match', '*']])).status).toBe(200);
    expect((await get(sf, '/a.json', [['if-unmodified-since', formatHttpDate(OLD - 10)]])).status).toBe(412);
    expect((await get(sf, '/a.json', [['if-unmodified-since', OLD_TEXT]])).status).toBe(200);
    const pre = await get(sf, '/a.json', [['if-match', '"nope"']]);
    expect((await bodyOf(pre)).toString()).toContain('412 Precondition Failed');
  });
  it('streamed files are conditional too', async () => {
    // The fixture was just written: let its ctime be out of the racy window.
    const s = new StaticFiles({ root: fx.root, now: () => Date.now() + 5000 });
    const e = header(await get(s, '/big.bin', [], 'HEAD'), 'etag');
    expect(e).toMatch(/^"[0-9a-z]+-[0-9a-z]+-[0-9a-z]+"$/);
    const res = await get(s, '/big.bin', [['if-none-match', e as string]]);
    expect(res.status).toBe(304);
    expect(header(res, 'etag')).toBe(e);
    expect(res.body.kind).toBe('none');
    expect((await get(s, '/big.bin', [['if-modified-since', OLD_TEXT]])).status).toBe(304);
    expect((await get(s, '/big.bin', [['if-match', '"x"']])).status).toBe(412);
    const ok = await get(s, '/big.bin', [['if-none-match', '"x"']]);
    expect(ok.status).toBe(200);
    await bodyOf(ok);
  });
  it('Last-Modified is never in the future', async () => {
    const f = join(fx.root, 'future.txt');
    writeFileSync(f, 'from the future');
    const future = new Date(Date.now() + 10 * 86400 * 1000);
    utimesSync(f, future, future);
    const now = Date.now();
    const s = new StaticFiles({ root: fx.root, now: () => now });
    expect(header(await get(s, '/future.txt'), 'last-modified')).toBe(formatHttpDate(Math.floor(now / 1000)));
  });
});

describe('byte ranges (RFC 9110 §14)', () => {
  it('a single range: 206 with content-range', async () => {
    const res = await get(sf, '/digits.txt', [['range', 'bytes=2-5']]);
    expect(res.status).toBe(206);
    expect(header(res, 'content-range')).toBe('bytes 2-5/10');
    expect(header(res, 'content-length')).toBe('4');
    expect(header(res, 'content-type')).toBe('text/plain');
    expect((await bodyOf(res)).toString()).toBe('2345');
  });
  it('suffix and open-ended ranges, and a last-pos past the end', async () => {
    const suffix = await get(sf, '/digits.txt', [['range', 'bytes=-3']]);
    expect(header(suffix, 'content-range')).toBe('bytes 7-9/10');
    expect((await bodyOf(suffix)).toString()).toBe('789');
    const open = await get(sf, '/digits.txt', [['range', 'bytes=8-']]);
    expect(header(open, 'content-range')).toBe('bytes 8-9/10');
    expect((await bodyOf(open)).toString()).toBe('89');
    const past = await get(sf, '/digits.txt', [['range', 'bytes=5-500']]);
    expect(header(past, 'content-range')).toBe('bytes 5-9/10');
  });
  it('unsatisfiable: 416 with content-range bytes */size', async () => {
    const res = await get(sf, '/digits.txt', [['range', 'bytes=10-']]);
    expect(res.status).toBe(416);
    expect(header(res, 'content-range')).toBe('bytes */10');
    expect((await bodyOf(res)).toString()).toContain('416 Range Not Satisfiable');
    expect((await get(sf, '/big.bin', [['range', 'bytes=2000000-']])).status).toBe(416);
    expect(header(await get(sf, '/big.bin', [['range', 'bytes=-0']]), 'content-range')).toBe('bytes */1048576');
  });
  it('several ranges are answered with the whole file (200)', async () => {
    const res = await get(sf, '/digits.txt', [['range', 'bytes=0-1,4-5']]);
    expect(res.status).toBe(200);
    expect((await bodyOf(res)).toString()).toBe('0123456789');
  });
  it('invalid Range fields and other units are ignored', async () => {
    for (const r of ['bytes=5-2', 'lines=1-2', 'bytes=abc']) {
      const res = await get(sf, '/digits.txt', [['range', r]]);
      expect(res.status, r).toBe(200);
      expect(header(res, 'content-length')).toBe('10');
    }
  });
  it('Range is ignored for HEAD and for an empty file', async () => {
    expect((await get(sf, '/digits.txt', [['range', 'bytes=0-1']], 'HEAD')).status).toBe(200);
    const empty = await get(sf, '/empty.txt', [['range', 'bytes=0-']]);
    expect(empty.status).toBe(200);
    expect(empty.body.kind).toBe('none');
  });
  it('If-Range with the current ETag or Last-Modified: 206; otherwise 200', async () => {
    const etag = header(await get(sf, '/digits.txt'), 'etag') as string;
    const range: [string, string] = ['range', 'bytes=0-0'];
    expect((await get(sf, '/digits.txt', [range, ['if-range', etag]])).status).toBe(206);
    expect((await get(sf, '/digits.txt', [range, ['if-range', '"old"']])).status).toBe(200);
    expect((await get(sf, '/digits.txt', [range, ['if-range', `W/${etag}`]])).status).toBe(200);
    expect((await get(sf, '/digits.txt', [range, ['if-range', OLD_TEXT]])).status).toBe(206);
    expect((await get(sf, '/digits.txt', [range, ['if-range', formatHttpDate(OLD + 1)]])).status).toBe(200);
  });
  it('a 1 MiB file is streamed, whole or as a range, in bounded chunks', async () => {
    const whole = await get(sf, '/big.bin');
    expect(whole.status).toBe(200);
    expect(whole.body.kind).toBe('file');
    expect((await bodyOf(whole)).equals(fx.big)).toBe(true);

    const res = await get(sf, '/big.bin', [['range', 'bytes=1000-700999']]);
    expect(res.status).toBe(206);
    expect(header(res, 'content-range')).toBe('bytes 1000-700999/1048576');
    expect(header(res, 'content-length')).toBe('700000');
    const body = res.body;
    if (body.kind !== 'file') throw new Error('expected a file body');
    expect([body.start, body.end, body.size]).toEqual([1000, 701000, 1048576]);
    const reader = new FileRangeReader(body, 64 * 1024);
    const chunks: Buffer[] = [];
    let largest = 0;
    for (let c = await reader.read(); c !== null; c = await reader.read()) {
      largest = Math.max(largest, c.length);
      chunks.push(Buffer.from(c));
    }
    await body.release();
    expect(largest).toBeLessThanOrEqual(64 * 1024);
    expect(chunks.length).toBeGreaterThan(10);
    const joined = Buffer.concat(chunks);
    expect(joined.length).toBe(700000);
    expect(joined.equals(fx.big.subarray(1000, 701000))).toBe(true);
  });
  it('suffix range of a streamed file', async () => {
    const res = await get(sf, '/big.bin', [['range', 'bytes=-100']]);
    expect(res.status).toBe(206);
    expect(await bodyOf(res)).toEqual(fx.big.subarray(fx.big.length - 100));
  });
  it('If-Range with the ETag of a streamed file', async () => {
    const s = new StaticFiles({ root: fx.root, now: () => Date.now() + 5000 });
    const etag = header(await get(s, '/big.bin', [], 'HEAD'), 'etag');
    expect(etag).toBeDefined();
    const res = await get(s, '/big.bin', [
      ['range', 'bytes=0-9'],
      ['if-range', etag as string],
    ]);
    expect(res.status).toBe(206);
    expect(await bodyOf(res)).toEqual(fx.big.subarray(0, 10));
    const stale = await get(s, '/big.bin', [
      ['range', 'bytes=0-9'],
      ['if-range', '"stale"'],
    ]);
    expect(stale.status).toBe(200);
    await bodyOf(stale);
  });
  it('memoryFileLimit decides what is streamed', async () => {
    const s = new StaticFiles({ root: fx.root, memoryFileLimit: 4 });
    const res = await get(s, '/digits.txt', [['range', 'bytes=3-4']]);
    expect(res.body.kind).toBe('file');
    expect((await bodyOf(res)).toString()).toBe('34');
    const all = new StaticFiles({ root: fx.root, memoryFileLimit: 2 * 1024 * 1024 });
    const big = await get(all, '/big.bin', [['range', 'bytes=10-19']]);
    expect(big.body.kind).toBe('bytes');
    expect(await bodyOf(big)).toEqual(fx.big.subarray(10, 20));
  });
});

describe('racy files', () => {
  it('a streamed file changed within racyWindowMs gets no ETag', async () => {
    const f = join(fx.root, 'fresh-big.bin');
    writeFileSync(f, Buffer.alloc(300 * 1024, 1));
    const ctime = statSync(f).ctimeMs;
    const racy = new StaticFiles({ root: fx.root, now: () => ctime + 500 });
    expect(header(await get(racy, '/fresh-big.bin', [], 'HEAD'), 'etag')).toBeUndefined();
    const settled = new StaticFiles({ root: fx.root, now: () => ctime + 2500 });
    expect(header(await get(settled, '/fresh-big.bin', [], 'HEAD'), 'etag')).toBeDefined();
  });
});

describe('unexpected failures', () => {
  it('an exception while loading becomes a 500 page, not a rejected promise', async () => {
    let broken = false;
    const s = new StaticFiles({
      root: fx.root,
      now: () => {
        if (broken) throw new Error('clock failure');
        return Date.now();
      },
    });
    broken = true;
    const res = await get(s, '/a.json');
    expect(res.status).toBe(500);
    expect((await bodyOf(res)).toString()).toContain('500 Internal Server Error');
    broken = false;
    expect((await get(s, '/a.json')).status).toBe(200);
  });
});
