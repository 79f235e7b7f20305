/**
 * The assets of an HTML page that `h2get -a` fetches, as `nghttp -a` does:
 * stylesheets (`<link rel=stylesheet>`), the `shortcut icon`, `<link
 * rel=preload>` with an `as`, `<script src>` and `<img src>`; same origin
 * (scheme, host and port of the page's URI) only; never `<a href>`,
 * iframes, media, srcset or `<base href>`.
 *
 * The HTML is parsed by htmlparser2 as it arrives (a streaming tokenizer:
 * an asset is found while the page is still downloading, as nghttp finds it
 * with libxml2's push parser), so raw text in <script> and <style>, and
 * comments, are never taken for markup. Each asset gets nghttp's resource
 * class, which decides its priority (see priority.ts).
 */
import { Parser } from 'htmlparser2';

/**
 * What an asset is to nghttp: a stylesheet, a script in <head> (blocking),
 * a script elsewhere or preloaded (not blocking), an image, or anything else
 * (the shortcut icon, other preloads).
 */
export type AssetKind = 'css' | 'js' | 'unblock-js' | 'image' | 'other';

export interface Asset {
  url: URL;
  kind: AssetKind;
}

/** Elements that may sit in <head>: before <body>, they put the parser in an (implied) head (HTML §13.2.6.4.3). */
const HEAD_CONTENT = new Set(['script', 'style', 'meta', 'link', 'title', 'base', 'noscript', 'template']);

/** What nghttp's URI parser refuses in a link (and so never fetches): white space, controls, octets beyond ASCII. */
const UNFETCHABLE = /[\x00-\x20\x7f-\uffff]/;

/**
 * Finds the assets of one page: write() its body as it arrives, end() at
 * its end; `found` is called for each same-origin asset, in document order,
 * resolved against the page's URI, without its fragment.
 */
export class AssetScanner {
  private readonly parser: Parser;
  /** Where the tokenizer is: before <head> or <body>, in <head>, or past it. */
  private head: 'before' | 'in' | 'after' = 'before';

  constructor(
    private readonly page: URL,
    private readonly found: (asset: Asset) => void,
  ) {
    this.parser = new Parser(
      {
        onopentag: (name, attrs) => this.openTag(name, attrs),
        onclosetag: (name) => {
          if (name === 'head') this.head = 'after';
        },
      },
      { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
    );
  }

  /** Part of the page (octets as they came: URLs are ASCII, anything else is never fetched). */
  write(chunk: Uint8Array): void {
    this.parser.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1'));
  }

  end(): void {
    this.parser.end();
  }

  private openTag(name: string, attrs: Record<string, string>): void {
    if (name === 'head') {
      if (this.head === 'before') this.head = 'in';
    } else if (name === 'body') this.head = 'after';
    else if (name !== 'html' && !HEAD_CONTENT.has(name))
      this.head = 'after'; // body content implies </head> and <body>
    else if (this.head === 'before' && name !== 'html') this.head = 'in';

    switch (name) {
      case 'link': {
        const rel = (attrs['rel'] ?? '').toLowerCase();
        const href = attrs['href'] ?? '';
        if (rel === 'stylesheet') return this.link(href, 'css');
        if (rel === 'shortcut icon') return this.link(href, 'other');
        if (rel === 'preload') {
          const as = (attrs['as'] ?? '').toLowerCase();
          if (as === '') return;
          return this.link(href, as === 'script' ? 'unblock-js' : as === 'style' ? 'css' : as === 'image' ? 'image' : 'other');
        }
        return;
      }
      case 'img':
        return this.link(attrs['src'] ?? '', 'image');
      case 'script':
        return this.link(attrs['src'] ?? '', this.head === 'in' ? 'js' : 'unblock-js');
      default:
        return;
    }
  }

  private link(href: string, kind: AssetKind): void {
    const url = sameOriginAsset(href, this.page);
    if (url !== null) this.found({ url, kind });
  }
}

/**
 * `href` resolved against `page` (RFC 3986 §5; <base> is not used, as in
 * nghttp), without its fragment, when it has the page's scheme, host and
 * port; else null.
 */
export function sameOriginAsset(href: string, page: URL): URL | null {
  if (href === '' || UNFETCHABLE.test(href)) return null;
  // nghttp compares the scheme as written: "HTTP://" is not "http".
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(href);
  if (scheme !== null && `${scheme[1]}:` !== page.protocol) return null;
  let url: URL;
  try {
    url = new URL(href, page);
  } catch {
    return null;
  }
  if (url.origin !== page.origin) return null;
  url.hash = '';
  return url;
}
