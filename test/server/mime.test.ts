import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_MIME_TYPES, contentTypeFor, extensionOf, parseMimeTypes, readMimeTypesFile } from '../../src/server/mime.js';

describe('mime.types parsing', () => {
  it('maps every extension of a line to its type, skipping comments and blank lines', () => {
    const t = parseMimeTypes('# comment\n\ntext/x-one one uno\napplication/x-two\ttwo # trailing comment\n');
    expect(t.get('one')).toBe('text/x-one');
    expect(t.get('uno')).toBe('text/x-one');
    expect(t.get('two')).toBe('application/x-two');
    expect(t.has('comment')).toBe(false);
    expect(t.has('trailing')).toBe(false);
    expect(t.size).toBe(3);
  });
  it('the first line that names an extension wins, as in nghttpd', () => {
    const t = parseMimeTypes('text/x-first dup\ntext/x-second dup other\n');
    expect(t.get('dup')).toBe('text/x-first');
    expect(t.get('other')).toBe('text/x-second');
  });
  it('ignores lines whose first word is not a media type and types without extensions', () => {
    const t = parseMimeTypes('garbage words here\ntext/lonely\r\nimage/x-crlf crlf\r\n');
    expect(t.has('words')).toBe(false);
    expect(t.get('crlf')).toBe('image/x-crlf');
    expect(t.size).toBe(1);
  });
  it('stores extensions in lower case', () => {
    expect(parseMimeTypes('text/x-up UP\n').get('up')).toBe('text/x-up');
  });
  it('reads a file, and says undefined for a missing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'h2kit-mime-'));
    try {
      const file = join(dir, 'mime.types');
      writeFileSync(file, 'application/x-custom cust\n');
      expect(readMimeTypesFile(file)?.get('cust')).toBe('application/x-custom');
      expect(readMimeTypesFile(join(dir, 'absent'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('extensions and lookups', () => {
  it('takes the text after the last dot of the last segment, in lower case', () => {
    expect(extensionOf('/a/b/c.HTML')).toBe('html');
    expect(extensionOf('archive.tar.gz')).toBe('gz');
    expect(extensionOf('/dir.d/noext')).toBe('');
    expect(extensionOf('/x/.profile')).toBe('');
    expect(extensionOf('trailingdot.')).toBe('');
  });
  it('the built-in table knows the everyday types', () => {
    expect(contentTypeFor('/index.html', BUILTIN_MIME_TYPES)).toBe('text/html');
    expect(contentTypeFor('/app.js', BUILTIN_MIME_TYPES)).toBe('text/javascript');
    expect(contentTypeFor('/a.json', BUILTIN_MIME_TYPES)).toBe('application/json');
    expect(contentTypeFor('/s.css', BUILTIN_MIME_TYPES)).toBe('text/css');
    expect(contentTypeFor('/p.PNG', BUILTIN_MIME_TYPES)).toBe('image/png');
    expect(contentTypeFor('/unknown.zzz', BUILTIN_MIME_TYPES)).toBeUndefined();
    expect(contentTypeFor('/README', BUILTIN_MIME_TYPES)).toBeUndefined();
  });
});
