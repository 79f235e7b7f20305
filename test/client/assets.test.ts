/**
 * -a: which links of a page are assets, as nghttp 1.52 decides (each rule
 * below was seen in `nghttp -nv -a` runs against nghttpd), parsed by
 * htmlparser2 as the page arrives.
 */
import { describe, expect, it } from 'vitest';
import { type Asset, AssetScanner, sameOriginAsset } from '../../src/client/assets.js';
import { assetPriority } from '../../src/client/priority.js';

const page = new URL('http://example.test:8080/dir/page.html');

function scan(html: string, chunk = html.length): Array<[string, string]> {
  const found: Asset[] = [];
  const s = new AssetScanner(page, (a) => found.push(a));
  const b = Buffer.from(html, 'latin1');
  for (let i = 0; i < b.length; i += chunk) s.write(b.subarray(i, i + chunk));
  s.end();
  return found.map((a) => [a.url.pathname + a.url.search, a.kind]);
}

describe('AssetScanner', () => {
  it('stylesheets, the shortcut icon, preloads with `as`, scripts and images; rel compared whole and without case', () => {
    expect(
      scan(
        '<link REL="StyleSheet" href="a.css"><link rel="shortcut icon" href="/f.ico"><link rel="icon" href="/no.png">' +
          '<link rel="alternate stylesheet" href="/no.css"><link rel=" stylesheet" href="/no2.css">' +
          '<link rel="preload" href="/p.js" as="script"><link rel="preload" href="/p.css" as="style"><link rel="preload" href="/p.png" as="image">' +
          '<link rel="preload" href="/p.woff" as="font"><link rel="preload" href="/no-as.js">',
      ),
    ).toEqual([
      ['/dir/a.css', 'css'],
      ['/f.ico', 'other'],
      ['/p.js', 'unblock-js'],
      ['/p.css', 'css'],
      ['/p.png', 'image'],
      ['/p.woff', 'other'],
    ]);
  });

  it('a script blocks in <head> (explicit or implied), not after it', () => {
    expect(
      scan(
        '<html><script src="implied.js"></script><head><script src="h.js"></script></head><script src="after.js"></script><body><script src="b.js"></script>',
      ),
    ).toEqual([
      ['/dir/implied.js', 'js'],
      ['/dir/h.js', 'js'],
      ['/dir/after.js', 'unblock-js'],
      ['/dir/b.js', 'unblock-js'],
    ]);
    // Body content implies </head>.
    expect(scan('<img src="/i.png"><script src="s.js"></script>')).toEqual([
      ['/i.png', 'image'],
      ['/dir/s.js', 'unblock-js'],
    ]);
  });

  it('never: raw text of <script> and <style>, comments, <a>, iframes, media, srcset, empty src, <base>', () => {
    expect(
      scan(
        '<base href="/base/"><script>document.write("<img src=/in-script.png>")</script><style>/* <img src="/in-style.png"> */</style>' +
          '<!-- <img src="/in-comment.png"> --><a href="/a.html">a</a><iframe src="/f.html"></iframe><video src="/v.mp4" poster="/p.png"></video>' +
          '<img srcset="/s.png 2x"><img src=""><img src="rel.png">',
      ),
    ).toEqual([['/dir/rel.png', 'image']]);
  });

  it('same origin only (scheme as written, host, port); fragments dropped, entities decoded, queries kept', () => {
    expect(
      scan(
        '<img src="http://example.test:8080/same.png"><img src="//example.test:8080/proto-relative.png"><img src="HTTP://example.test:8080/upper.png">' +
          '<img src="https://example.test:8080/https.png"><img src="http://example.test/port80.png"><img src="http://other.test:8080/host.png">' +
          '<img src="data:image/png;base64,AA=="><img src="javascript:x()"><img src="../up.png#frag"><img src="q.png?a=1&amp;b=2">',
      ),
    ).toEqual([
      ['/same.png', 'image'],
      ['/proto-relative.png', 'image'],
      ['/up.png', 'image'],
      ['/dir/q.png?a=1&b=2', 'image'],
    ]);
  });

  it('links nghttp cannot parse are not fetched: white space, octets beyond ASCII', () => {
    expect(scan('<img src="/a b.png"><img src=" /trim.png"><img src="/caf\xe9.png"><img src="/%C3%A9.png">')).toEqual([['/%C3%A9.png', 'image']]);
    expect(sameOriginAsset('/x\ty.png', page)).toBeNull();
  });

  it('finds the same assets whatever the chunks the page arrives in', () => {
    const html =
      '<html><head><link rel="stylesheet" href="/s.css"><script src="/h.js"></script></head><body><img src="/i.png"><script src="/b.js"></script></body></html>';
    const whole = scan(html);
    expect(whole).toHaveLength(4);
    for (const chunk of [1, 2, 3, 7, 16]) expect(scan(html, chunk)).toEqual(whole);
  });

  it("nghttp's priorities: css and head scripts under anchor 3, other scripts under 5, images and the rest under 11", () => {
    expect(assetPriority('css')).toEqual({ dependency: 3, weight: 32, exclusive: false });
    expect(assetPriority('js')).toEqual({ dependency: 3, weight: 32, exclusive: false });
    expect(assetPriority('unblock-js')).toEqual({ dependency: 5, weight: 32, exclusive: false });
    expect(assetPriority('image')).toEqual({ dependency: 11, weight: 12, exclusive: false });
    expect(assetPriority('other')).toEqual({ dependency: 11, weight: 32, exclusive: false });
  });
});

describe('where the HTML standard and libxml2 differ', () => {
  it('the content of <textarea> and <title> is text, not markup (nghttp, with libxml2, would fetch these)', () => {
    expect(scan('<title><img src="/t.png"></title><textarea><img src="/ta.png"></textarea><img src="/real.png">')).toEqual([['/real.png', 'image']]);
  });
});
