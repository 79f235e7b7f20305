/**
 * JSON (RFC 8259) at the octet level, for the two scanners of story
 * documents (json-cases.ts: the document and its outer structure;
 * case-parser.ts: one case): the octets that matter and their classes.
 */

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const LF = 0x0a;

/** Which octets may follow a backslash (§7). */
export const ESCAPES = new Uint8Array(256);
for (const c of '"\\/bfnrtu') ESCAPES[c.charCodeAt(0)] = 1;

/** Hexadecimal digits (the four after \u). */
export const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/** Insignificant whitespace (§2). */
export function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** An octet as an error message names it: the character when printable, else its value. */
export function describe(b: number): string {
  if (b >= 0x21 && b < 0x7f) return `'${String.fromCharCode(b)}'`;
  return `byte 0x${hex2(b)}`;
}

/** Two lowercase hex digits. */
export function hex2(c: number): string {
  return c.toString(16).padStart(2, '0');
}

/** Line feeds in `b`. */
export function countLines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(LF); i !== -1; i = b.indexOf(LF, i + 1)) n++;
  return n;
}

/** Offset of the first octet that breaks UTF-8 in `b` (RFC 3629 §4: no overlongs, surrogates or values above U+10FFFF). */
export function firstInvalidUtf8(b: Buffer): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < [0, 0x80, 0x800, 0x10000][n]! || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += n + 1;
  }
  return Math.max(0, b.length - 1);
}
