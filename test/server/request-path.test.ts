import { describe, expect, it } from 'vitest';
import { encodeKey, normaliseRequestPath } from '../../src/server/request-path.js';

function key(raw: string): string | number {
  const r = normaliseRequestPath(raw);
  return r.ok ? r.key : r.status;
}

describe('request path normalisation', () => {
  it('keeps normal paths as they are', () => {
    expect(key('/')).toBe('/');
    expect(key('/index.html')).toBe('/index.html');
    expect(key('/a/b/c.txt')).toBe('/a/b/c.txt');
    expect(key('/dir/')).toBe('/dir/');
    expect(key('/a..b/c...')).toBe('/a..b/c...');
  });
  it('cuts the query and the fragment, keeping the query for redirects', () => {
    expect(normaliseRequestPath('/a?x=1#f')).toEqual({ ok: true, key: '/a', query: '?x=1' });
    expect(normaliseRequestPath('/a#f?x')).toEqual({ ok: true, key: '/a', query: '' });
    expect(normaliseRequestPath('/a%3Fb?q')).toEqual({ ok: true, key: '/a?b', query: '?q' });
  });
  it('decodes each segment once', () => {
    expect(key('/a%2ejson')).toBe('/a.json');
    expect(key('/%41%62')).toBe('/Ab');
    expect(key('/%252e%252e/x')).toBe('/%2e%2e/x');
    expect(key('/caf%C3%A9')).toBe('/café');
    expect(key('/%E2%82%AC')).toBe('/€');
  });
  it('resolves dot segments and collapses empty ones', () => {
    expect(key('//a///b')).toBe('/a/b');
    expect(key('/a/./b')).toBe('/a/b');
    expect(key('/a/b/../c')).toBe('/a/c');
    expect(key('/a/%2e%2E/c')).toBe('/c');
    expect(key('/a/.')).toBe('/a/');
    expect(key('/a/b/..')).toBe('/a/');
    expect(key('/a/..')).toBe('/');
    expect(key('/.')).toBe('/');
    expect(key('/a/.hidden')).toBe('/a/.hidden');
  });
  it('404: climbing above the root, encoded slashes, backslashes', () => {
    expect(key('/..')).toBe(404);
    expect(key('/../x')).toBe(404);
    expect(key('/a/../../x')).toBe(404);
    expect(key('/%2e%2e/x')).toBe(404);
    expect(key('/a%2fb')).toBe(404);
    expect(key('/a%2Fb')).toBe(404);
    expect(key('/a\\b')).toBe(404);
    expect(key('/a%5cb')).toBe(404);
  });
  it('400: not origin-form, raw controls or non-ASCII, bad escapes, NUL, invalid UTF-8', () => {
    expect(key('')).toBe(400);
    expect(key('*')).toBe(400);
    expect(key('index.html')).toBe(400);
    expect(key('http://example.com/x')).toBe(400);
    expect(key('?x')).toBe(400);
    expect(key('/a b')).toBe(400);
    expect(key('/a\tb')).toBe(400);
    expect(key('/a\u0000b')).toBe(400);
    expect(key('/café')).toBe(400);
    expect(key('/a%')).toBe(400);
    expect(key('/a%2')).toBe(400);
    expect(key('/a%zz')).toBe(400);
    expect(key('/a%00')).toBe(400);
    expect(key('/a%0a')).toBe(400);
    expect(key('/a%7f')).toBe(400);
    expect(key('/%c0%ae%c0%ae/x')).toBe(400); // overlong '.'
    expect(key('/%c0%af')).toBe(400); // overlong '/'
    expect(key('/%ff')).toBe(400);
    expect(key('/%ed%a0%80')).toBe(400); // UTF-16 surrogate
  });
  it('a byte order mark is not stripped (it would turn "\\uFEFF.." into "..")', () => {
    expect(key('/%EF%BB%BF..')).toBe('/\uFEFF..');
  });
  it('encodeKey gives a path that normalises back to the key', () => {
    for (const k of ['/', '/a/b/', '/café/x y', '/%2e', '/q?x#y']) {
      expect(key(encodeKey(k))).toBe(k);
    }
  });
});
