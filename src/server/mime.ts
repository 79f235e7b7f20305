/**
 * Content types from file extensions: a parser for the mime.types format
 * (the file nghttpd reads with --mime-types-file, /etc/mime.types by default)
 * and a built-in table for systems without one.
 */
import { readFileSync } from 'node:fs';

/** Extension (lower case, no dot) -> media type. */
export type MimeTable = ReadonlyMap<string, string>;

/** nghttpd's default for --mime-types-file. */
export const DEFAULT_MIME_TYPES_FILE = '/etc/mime.types';

/**
 * Parses mime.types text: one media type per line followed by its
 * extensions, `#` starts a comment. When an extension appears twice the
 * first line wins, as in nghttpd. Extensions are stored in lower case (the
 * lookup is case-insensitive; nghttpd's is not).
 */
export function parseMimeTypes(text: string): Map<string, string> {
  const table = new Map<string, string>();
  for (const rawLine of text.split('\n')) {
    const hash = rawLine.indexOf('#');
    const line = hash === -1 ? rawLine : rawLine.slice(0, hash);
    const words = line.split(/[ \t\r\f\v]+/).filter((w) => w !== '');
    const type = words[0];
    if (type === undefined || !type.includes('/')) continue;
    for (let i = 1; i < words.length; i++) {
      const ext = (words[i] as string).toLowerCase();
      if (!table.has(ext)) table.set(ext, type);
    }
  }
  return table;
}

/**
 * Used when no mime.types file is available. The everyday types agree with
 * Debian's /etc/mime.types, so a server behaves the same with or without the
 * file for common content; a few (rss, tgz, exe) use registered names where
 * Debian has x- ones.
 */
export const BUILTIN_MIME_TYPES: MimeTable = new Map<string, string>([
  ['html', 'text/html'],
  ['htm', 'text/html'],
  ['shtml', 'text/html'],
  ['css', 'text/css'],
  ['csv', 'text/csv'],
  ['txt', 'text/plain'],
  ['text', 'text/plain'],
  ['log', 'text/plain'],
  ['md', 'text/markdown'],
  ['markdown', 'text/markdown'],
  ['xml', 'application/xml'],
  ['xsl', 'application/xslt+xml'],
  ['js', 'text/javascript'],
  ['mjs', 'text/javascript'],
  ['json', 'application/json'],
  ['map', 'application/json'],
  ['jsonld', 'application/ld+json'],
  ['webmanifest', 'application/manifest+json'],
  ['wasm', 'application/wasm'],
  ['pdf', 'application/pdf'],
  ['zip', 'application/zip'],
  ['gz', 'application/gzip'],
  ['tgz', 'application/gzip'],
  ['bz2', 'application/x-bzip2'],
  ['xz', 'application/x-xz'],
  ['zst', 'application/zstd'],
  ['tar', 'application/x-tar'],
  ['7z', 'application/x-7z-compressed'],
  ['bin', 'application/octet-stream'],
  ['exe', 'application/octet-stream'],
  ['iso', 'application/x-iso9660-image'],
  ['rss', 'application/rss+xml'],
  ['atom', 'application/atom+xml'],
  ['xhtml', 'application/xhtml+xml'],
  ['png', 'image/png'],
  ['jpg', 'image/jpeg'],
  ['jpeg', 'image/jpeg'],
  ['jpe', 'image/jpeg'],
  ['gif', 'image/gif'],
  ['webp', 'image/webp'],
  ['avif', 'image/avif'],
  ['svg', 'image/svg+xml'],
  ['svgz', 'image/svg+xml'],
  ['ico', 'image/vnd.microsoft.icon'],
  ['bmp', 'image/bmp'],
  ['tif', 'image/tiff'],
  ['tiff', 'image/tiff'],
  ['woff', 'font/woff'],
  ['woff2', 'font/woff2'],
  ['ttf', 'font/ttf'],
  ['otf', 'font/otf'],
  ['mp3', 'audio/mpeg'],
  ['ogg', 'audio/ogg'],
  ['oga', 'audio/ogg'],
  ['opus', 'audio/ogg'],
  ['wav', 'audio/x-wav'],
  ['flac', 'audio/flac'],
  ['m4a', 'audio/mp4'],
  ['mp4', 'video/mp4'],
  ['m4v', 'video/mp4'],
  ['webm', 'video/webm'],
  ['ogv', 'video/ogg'],
  ['mov', 'video/quicktime'],
  ['avi', 'video/x-msvideo'],
  ['mkv', 'video/x-matroska'],
]);

/**
 * Reads a mime.types file. Returns undefined when the file cannot be read,
 * so the caller decides whether that is an error (an explicit option) or a
 * reason to fall back to the built-in table (the default path).
 */
export function readMimeTypesFile(file: string): Map<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseMimeTypes(text);
}

/**
 * The extension of the last path segment, lower case and without the dot;
 * '' when there is none. A leading dot alone (".profile") is not an
 * extension.
 */
export function extensionOf(fileName: string): string {
  const slash = fileName.lastIndexOf('/');
  const dot = fileName.lastIndexOf('.');
  if (dot <= slash + 1) return '';
  return fileName.slice(dot + 1).toLowerCase();
}

/** The media type for a file name, or undefined when the extension is unknown. */
export function contentTypeFor(fileName: string, table: MimeTable): string | undefined {
  const ext = extensionOf(fileName);
  return ext === '' ? undefined : table.get(ext);
}
