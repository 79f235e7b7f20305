/**
 * Streaming reader of story documents: `{"cases": [ {...}, {...} ], ...}`.
 * Chunks may be reused by the caller once push() returns and the cases it
 * produced were handled.
 *
 * Input arrives in chunks; the scanner checks the document's outer structure
 * itself. A case that lies within the chunk is parsed where it is (see
 * case-parser.ts: every byte checked, only the members the tool uses turned
 * into values); a case that runs past the chunk has its bounds found
 * (tracking strings and nesting), is copied, and parsed when complete.
 * Other top-level members are checked as JSON byte by byte, never stored.
 * Memory stays at one chunk plus one case (at most --max-case-size), whatever
 * the input size. Positions in errors are 1-based lines and columns (columns
 * count bytes).
 */

import { isUtf8 } from 'node:buffer';
import { type CaseFieldSet, type CaseFields, CaseParser } from './case-parser.js';
import { BACKSLASH, countLines, describe, ESCAPES, firstInvalidUtf8, HEX, hex2, isSpace, LF, QUOTE } from './json-octets.js';

/** A syntax error in the document, with where it is. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

/** One element of `cases`, parsed, or with the reason it could not be. */
export type ScannedCase =
  | {
      index: number;
      line: number;
      column: number;
      ok: true;
      /** The case parsed whole (without a field set, or when it is not of the common shape). */
      value: unknown;
      /** The members read, when the case has the common shape (value is then undefined). */
      fields: CaseFields | undefined;
      /** The case's JSON text: bytes[start..end), valid until the next chunk is pushed. */
      bytes: Buffer;
      start: number;
      end: number;
    }
  | { index: number; line: number; column: number; ok: false; error: string; errorLine: number; errorColumn: number };

/** The whole value of a case read with a field set (for explaining why it is not valid). */
export function caseValue(c: Extract<ScannedCase, { ok: true }>): unknown {
  return c.fields === undefined ? c.value : JSON.parse(c.bytes.toString('utf8', c.start, c.end));
}

export interface ScanOptions {
  /** The members the tool reads; without it every case is parsed whole with JSON.parse. */
  fields?: CaseFieldSet;
  /** The largest case, in octets of JSON text; a larger one is reported and skipped. */
  maxCaseSize?: number;
}

const enum S {
  TopStart,
  TopKeyOrEnd,
  TopKeyOrEndAfterComma,
  TopKey,
  TopColon,
  TopValue,
  TopCommaOrEnd,
  CasesElementOrEnd,
  CasesElement,
  CasesCommaOrEnd,
  Value, // finding the end of a case that runs past the chunk
  Skip, // checking a top-level member's value
  Done,
}

// What the top-level value checker expects next.
const enum V {
  Value,
  ValueOrEnd, // after '['
  KeyOrEnd, // after '{'
  Key, // after ',' in an object
  Colon,
  AfterValue,
  Str,
  Escape,
  Hex,
  Num,
  Literal,
}

// Number states (RFC 8259 §6); the ones marked * may end the number.
const enum N {
  Minus,
  Zero, // *
  Int, // *
  Dot,
  Frac, // *
  E,
  ESign,
  Exp, // *
}

const LITERALS: Record<number, string> = { 0x74: 'true', 0x66: 'false', 0x6e: 'null' };
/**
 * The largest case by default: memory peaks at about five times the largest
 * case (its text, its strings, the output), so 32 MiB keeps a run within a few
 * hundred MiB, while real header blocks are far smaller (nghttp2's deflatehd
 * refuses blocks over 64 KiB, and inflatehd's decoded lists stop at 16 MiB).
 */
export const DEFAULT_MAX_CASE_SIZE = 32 * 1024 * 1024;

export class CaseScanner {
  private state = S.TopStart;
  private afterValue = S.TopCommaOrEnd;
  private line = 1;
  private lineStart = 0; // absolute offset of the current line
  private offset = 0; // absolute offset of the current chunk
  // Finding the end of a case that runs past the chunk.
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scalar = false; // inside a number or literal
  private capture = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The case being captured passed maxCaseSize: its end is still found, its bytes are dropped. */
  private oversized = false;
  private valueStart = 0; // offset in the chunk where the captured value starts
  private valueLine = 0;
  private valueColumn = 0;
  // Position of the next backslash in the current chunk (n when none):
  // searched once per chunk, not once per string, as backslashes are rare.
  private nextBackslash = -1;
  // Top-level key.
  private keyBytes: number[] = [];
  private keyEscaped = false;
  private keyLine = 0;
  private keyColumn = 0;
  private currentKey = '';
  private sawCases = false;
  private caseIndex = 0;
  // The top-level value checker.
  private v = V.Value;
  private vDepth = 0;
  private vStack = new Uint8Array(64);
  private vIsKey = false;
  private vHex = 0;
  private vNum = N.Minus;
  private vLiteral = '';
  private vLiteralPos = 0;
  private vUtf8Need = 0; // continuation octets still to come
  private vUtf8Lo = 0x80;
  private vUtf8Hi = 0xbf;

  private readonly parser: CaseParser | null;
  private readonly maxCaseSize: number;

  constructor(
    private readonly onCase: (c: ScannedCase) => void,
    options: ScanOptions = {},
  ) {
    this.parser = options.fields ? new CaseParser(options.fields) : null;
    this.maxCaseSize = options.maxCaseSize ?? DEFAULT_MAX_CASE_SIZE;
  }

  /** Number of `cases` elements seen so far. */
  get cases(): number {
    return this.caseIndex;
  }

  /** Scans a chunk; calls onCase for each complete element. Throws JsonSyntaxError. */
  push(chunk: Buffer): void {
    this.scan(chunk);
    this.offset += chunk.length;
  }

  private scan(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    this.nextBackslash = -1;
    while (i < n) {
      const b = chunk[i]!;
      switch (this.state) {
        case S.Value: {
          i = this.scanValue(chunk, i);
          continue;
        }
        case S.Skip: {
          i = this.skipTop(chunk, i);
          continue;
        }
        case S.TopKey: {
          // Key strings are short: collect octets until the closing quote.
          if (this.keyEscaped) this.keyEscaped = false;
          else if (b === BACKSLASH) this.keyEscaped = true;
          else if (b === QUOTE) {
            this.currentKey = this.decodeKey();
            this.state = S.TopColon;
            i++;
            continue;
          } else if (b < 0x20) this.fail(`control character in a key`, i);
          if (this.keyBytes.length >= this.maxCaseSize) this.fail(`a key longer than ${this.maxCaseSize} octets (--max-case-size)`, i);
          this.keyBytes.push(b);
          i++;
          continue;
        }
        default:
          break;
      }
      if (isSpace(b)) {
        if (b === LF) {
          this.line++;
          this.lineStart = this.offset + i + 1;
        }
        i++;
        continue;
      }
      switch (this.state) {
        case S.TopStart:
          if (b !== 0x7b) this.fail(`expected '{' to start the document, found ${describe(b)}`, i);
          this.state = S.TopKeyOrEnd;
          break;
        case S.TopKeyOrEnd:
        case S.TopKeyOrEndAfterComma:
          if (b === QUOTE) {
            this.keyBytes = [];
            this.keyLine = this.line;
            this.keyColumn = this.offset + i - this.lineStart + 1;
            this.state = S.TopKey;
          } else if (b === 0x7d && this.state === S.TopKeyOrEnd) {
            this.finishDocument(i);
          } else {
            this.fail(`expected a key${this.state === S.TopKeyOrEnd ? " or '}'" : ''}, found ${describe(b)}`, i);
          }
          break;
        case S.TopColon:
          if (b !== 0x3a) this.fail(`expected ':' after key "${this.currentKey}", found ${describe(b)}`, i);
          this.state = S.TopValue;
          break;
        case S.TopValue:
          if (this.currentKey === 'cases') {
            if (b !== 0x5b) this.fail(`"cases" must be an array, found ${describe(b)}`, i);
            this.sawCases = true;
            this.state = S.CasesElementOrEnd;
            break;
          }
          // Ignored, but it must be JSON: checked as it streams past, never stored.
          this.state = S.Skip;
          this.v = V.Value;
          this.vDepth = 0;
          continue;
        case S.TopCommaOrEnd:
          if (b === 0x2c) this.state = S.TopKeyOrEndAfterComma;
          else if (b === 0x7d) this.finishDocument(i);
          else this.fail(`expected ',' or '}' after the value of "${this.currentKey}", found ${describe(b)}`, i);
          break;
        case S.CasesElementOrEnd:
        case S.CasesElement:
          if (b === 0x5d && this.state === S.CasesElementOrEnd) {
            this.state = S.TopCommaOrEnd;
            break;
          }
          if (b === 0x2c || b === 0x5d || b === 0x7d || b === 0x3a) this.fail(`expected a case, found ${describe(b)}`, i);
          if (this.parser) {
            const end = this.parser.parse(chunk, i, n, false);
            if (end >= 0) {
              // The common path: the case lies in this chunk and is JSON.
              i = this.parsedInChunk(chunk, i, end);
              continue;
            }
            // Runs past the chunk, or broken: find its end, then parse (and explain) it whole.
          }
          this.startValue(i, true, S.CasesCommaOrEnd);
          continue;
        case S.CasesCommaOrEnd:
          if (b === 0x2c) this.state = S.CasesElement;
          else if (b === 0x5d) this.state = S.TopCommaOrEnd;
          else this.fail(`expected ',' or ']' after case ${this.caseIndex - 1}, found ${describe(b)}`, i);
          break;
        case S.Done:
          this.fail(`unexpected ${describe(b)} after the end of the document`, i);
          break;
        default:
          break;
      }
      i++;
    }
    if (this.state === S.Value && this.capture) {
      if (!this.oversized && this.pendingBytes + (n - this.valueStart) > this.maxCaseSize) {
        this.oversized = true;
        this.pending.length = 0;
      }
      if (!this.oversized) {
        // Copied: the caller may reuse the chunk's memory for the next one.
        this.pending.push(Buffer.from(chunk.subarray(this.valueStart)));
        this.pendingBytes += n - this.valueStart;
      }
      this.valueStart = 0;
    }
  }

  /** A case parsed where it lies, chunk[start..end): hands it on and moves past it. */
  private parsedInChunk(chunk: Buffer, start: number, end: number): number {
    const p = this.parser!;
    const index = this.caseIndex++;
    const line = this.line;
    const column = this.offset + start - this.lineStart + 1;
    if (p.lineFeeds > 0) {
      this.line += p.lineFeeds;
      this.lineStart = this.offset + p.lastLineFeed + 1;
    }
    this.state = S.CasesCommaOrEnd;
    if (end - start > this.maxCaseSize) this.tooLarge(index, line, column);
    else if (p.nonAscii && !isUtf8(chunk.subarray(start, end))) this.emit(chunk, start, end, index, line, column);
    else if (p.fallback) this.emitParsed(chunk, start, end, index, line, column);
    else this.onCase({ index, line, column, ok: true, value: undefined, fields: p.fields, bytes: chunk, start, end });
    return end;
  }

  private tooLarge(index: number, line: number, column: number): void {
    const mib = this.maxCaseSize / (1024 * 1024);
    const limit = Number.isInteger(mib) ? `${mib} MiB` : `${this.maxCaseSize} octets`;
    this.onCase({
      index,
      line,
      column,
      ok: false,
      error: `the case is larger than ${limit} (--max-case-size); it was skipped`,
      errorLine: line,
      errorColumn: column,
    });
  }

  /**
   * Checks a top-level member's value as it streams past (RFC 8259 grammar
   * and UTF-8), from chunk[i]; returns the offset to go on at. When the value
   * is complete the scanner goes on after it.
   */
  private skipTop(chunk: Buffer, i: number): number {
    const n = chunk.length;
    const bad = (what: string, at: number): never => this.fail(`invalid JSON in the value of "${this.currentKey}": ${what}`, at);
    while (i < n) {
      if (this.v === V.AfterValue && this.vDepth === 0) {
        this.state = S.TopCommaOrEnd;
        return i;
      }
      let c = chunk[i]!;
      switch (this.v) {
        case V.Str: {
          if (this.vUtf8Need > 0) {
            if (c < this.vUtf8Lo || c > this.vUtf8Hi) bad(`the input is not valid UTF-8 (octet 0x${hex2(c)})`, i);
            this.vUtf8Need--;
            this.vUtf8Lo = 0x80;
            this.vUtf8Hi = 0xbf;
            i++;
            continue;
          }
          while (i < n && (c = chunk[i]!) >= 0x20 && c < 0x80 && c !== QUOTE && c !== BACKSLASH) i++;
          if (i >= n) return n;
          if (c === QUOTE) this.v = this.vIsKey ? V.Colon : V.AfterValue;
          else if (c === BACKSLASH) this.v = V.Escape;
          else if (c < 0x20) bad('control character in a string (it must be escaped)', i);
          else this.utf8Lead(c, i, bad);
          i++;
          continue;
        }
        case V.Escape:
          if (ESCAPES[c] !== 1) bad(`invalid escape ${describe(c)} after a backslash`, i);
          if (c === 0x75) {
            this.v = V.Hex;
            this.vHex = 4;
          } else this.v = V.Str;
          i++;
          continue;
        case V.Hex:
          if (HEX[c] !== 1) bad(`expected a hex digit in \\u escape, found ${describe(c)}`, i);
          if (--this.vHex === 0) this.v = V.Str;
          i++;
          continue;
        case V.Num: {
          const next = numberStep(this.vNum, c);
          if (next !== -1) {
            this.vNum = next;
            i++;
            continue;
          }
          if (this.vNum !== N.Zero && this.vNum !== N.Int && this.vNum !== N.Frac && this.vNum !== N.Exp) bad(`invalid number: unexpected ${describe(c)}`, i);
          this.v = V.AfterValue; // the octet after a number is read as what follows it
          continue;
        }
        case V.Literal: {
          const want = this.vLiteral.charCodeAt(this.vLiteralPos);
          if (c !== want) bad(`expected '${String.fromCharCode(want)}' (${this.vLiteral}), found ${describe(c)}`, i);
          if (++this.vLiteralPos === this.vLiteral.length) this.v = V.AfterValue;
          i++;
          continue;
        }
        default:
          break;
      }
      if (isSpace(c)) {
        if (c === LF) {
          this.line++;
          this.lineStart = this.offset + i + 1;
        }
        i++;
        continue;
      }
      switch (this.v) {
        case V.ValueOrEnd:
          if (c === 0x5d) {
            this.vDepth--;
            this.v = V.AfterValue;
            i++;
            continue;
          }
          this.v = V.Value;
          continue;
        case V.Value:
          if (c === 0x7b || c === 0x5b) {
            if (this.vDepth >= this.maxCaseSize) bad(`nested deeper than ${this.maxCaseSize} levels`, i);
            if (this.vDepth === this.vStack.length) {
              const bigger = new Uint8Array(this.vStack.length * 2);
              bigger.set(this.vStack);
              this.vStack = bigger;
            }
            this.vStack[this.vDepth++] = c;
            this.v = c === 0x7b ? V.KeyOrEnd : V.ValueOrEnd;
          } else if (c === QUOTE) {
            this.v = V.Str;
            this.vIsKey = false;
          } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
            this.v = V.Num;
            this.vNum = c === 0x2d ? N.Minus : c === 0x30 ? N.Zero : N.Int;
          } else if (LITERALS[c] !== undefined) {
            this.v = V.Literal;
            this.vLiteral = LITERALS[c]!;
            this.vLiteralPos = 1;
          } else bad(`expected a value, found ${describe(c)}`, i);
          i++;
          continue;
        case V.KeyOrEnd:
        case V.Key:
          if (c === QUOTE) {
            this.v = V.Str;
            this.vIsKey = true;
          } else if (c === 0x7d && this.v === V.KeyOrEnd) {
            this.vDepth--;
            this.v = V.AfterValue;
          } else bad(`expected a key${this.v === V.KeyOrEnd ? " or '}'" : ''}, found ${describe(c)}`, i);
          i++;
          continue;
        case V.Colon:
          if (c !== 0x3a) bad(`expected ':' after a key, found ${describe(c)}`, i);
          this.v = V.Value;
          i++;
          continue;
        case V.AfterValue: {
          const top = this.vStack[this.vDepth - 1];
          const close = top === 0x7b ? 0x7d : 0x5d;
          if (c === 0x2c) this.v = top === 0x7b ? V.Key : V.Value;
          else if (c === close) this.vDepth--;
          else bad(`expected ',' or '${String.fromCharCode(close)}', found ${describe(c)}`, i);
          i++;
          continue;
        }
        default:
          i++;
      }
    }
    if (this.v === V.AfterValue && this.vDepth === 0) this.state = S.TopCommaOrEnd;
    return n;
  }

  /** The first octet of a multi-octet UTF-8 sequence (RFC 3629 §4: no overlongs, surrogates, or values above U+10FFFF). */
  private utf8Lead(c: number, i: number, bad: (what: string, at: number) => never): void {
    this.vUtf8Lo = 0x80;
    this.vUtf8Hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) this.vUtf8Need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      this.vUtf8Need = 2;
      if (c === 0xe0) this.vUtf8Lo = 0xa0;
      if (c === 0xed) this.vUtf8Hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      this.vUtf8Need = 3;
      if (c === 0xf0) this.vUtf8Lo = 0x90;
      if (c === 0xf4) this.vUtf8Hi = 0x8f;
    } else bad(`the input is not valid UTF-8 (octet 0x${hex2(c)})`, i);
  }

  /** Signals the end of input; throws JsonSyntaxError if the document is incomplete. */
  end(): void {
    if (this.state !== S.Done) {
      const where =
        this.state === S.TopStart
          ? 'the input is empty'
          : this.state === S.Value && this.capture
            ? `unexpected end of input inside case ${this.caseIndex} (which starts at line ${this.valueLine}, column ${this.valueColumn})`
            : this.state === S.Value && this.inString
              ? 'unexpected end of input inside a string'
              : this.state === S.Skip
                ? `unexpected end of input in the value of "${this.currentKey}"`
                : 'unexpected end of input';
      throw new JsonSyntaxError(where, this.line, this.offset - this.lineStart + 1);
    }
  }

  private finishDocument(i: number): void {
    if (!this.sawCases) this.fail('the document has no "cases" array', i);
    this.state = S.Done;
  }

  /** The key just read; a bad escape or octets that are not UTF-8 make the document invalid. */
  private decodeKey(): string {
    const bytes = Buffer.from(this.keyBytes);
    const at = (): never => {
      throw new JsonSyntaxError(`invalid key: ${isUtf8(bytes) ? 'a bad escape' : 'the input is not valid UTF-8'}`, this.keyLine, this.keyColumn);
    };
    if (!isUtf8(bytes)) at();
    let key = '';
    try {
      key = JSON.parse(`"${bytes.toString('utf8')}"`) as string;
    } catch {
      at();
    }
    // RFC 8259 §4: names should be unique; JSON.parse and nghttp2 keep the last "cases", but cases
    // already written cannot be taken back, so a second one is an error.
    if (key === 'cases' && this.sawCases) {
      throw new JsonSyntaxError('a second "cases" key: a document has one "cases" array (the cases of the first were handled)', this.keyLine, this.keyColumn);
    }
    return key;
  }

  private fail(message: string, i: number): never {
    throw new JsonSyntaxError(message, this.line, this.offset + i - this.lineStart + 1);
  }

  private startValue(i: number, capture: boolean, after: S): void {
    this.state = S.Value;
    this.afterValue = after;
    this.capture = capture;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.scalar = false;
    this.valueStart = i;
    this.valueLine = this.line;
    this.valueColumn = this.offset + i - this.lineStart + 1;
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.oversized = false;
  }

  /** Advances through a value from chunk[i]; returns the index to continue at. */
  private scanValue(chunk: Buffer, i: number): number {
    const n = chunk.length;
    while (i < n) {
      if (!this.inString && !this.scalar && this.depth > 0) {
        // Inside an object or array, outside strings (most of the input): a tight loop on
        // locals, skipping each string with indexOf. Anything unusual goes to the loop below.
        let depth = this.depth;
        for (; i < n; i++) {
          const b = chunk[i]!;
          if (b === 0x20) continue;
          if (b === QUOTE) {
            const q = chunk.indexOf(QUOTE, i + 1);
            if (this.nextBackslash <= i) {
              const found = chunk.indexOf(BACKSLASH, i + 1);
              this.nextBackslash = found === -1 ? n : found;
            }
            if (q !== -1 && this.nextBackslash > q) {
              i = q; // the closing quote; the loop steps past it
              continue;
            }
            break; // an escape, or a string running past the chunk: the general loop handles it
          }
          if (b === 0x7b || b === 0x5b) depth++;
          else if (b === 0x7d || b === 0x5d) {
            if (--depth === 0) {
              this.depth = 0;
              return this.endValue(chunk, i + 1);
            }
          } else if (b === LF) {
            this.line++;
            this.lineStart = this.offset + i + 1;
          }
        }
        this.depth = depth;
        if (i >= n) return n;
      }
      if (this.inString) {
        // Jump to the next quote; backslashes before it decide whether it closes the string.
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        const q = chunk.indexOf(QUOTE, i);
        if (this.nextBackslash < i) {
          const found = chunk.indexOf(BACKSLASH, i);
          this.nextBackslash = found === -1 ? n : found;
        }
        const bs = this.nextBackslash;
        if (bs < n && (q === -1 || bs < q)) {
          this.escaped = true;
          i = bs + 1;
          continue;
        }
        if (q === -1) return n;
        this.inString = false;
        i = q + 1;
        if (this.depth === 0) return this.endValue(chunk, i);
        continue;
      }
      const b = chunk[i]!;
      if (this.scalar) {
        if (isSpace(b) || b === 0x2c || b === 0x5d || b === 0x7d) {
          this.scalar = false;
          if (this.depth === 0) return this.endValue(chunk, i);
        } else {
          i++;
          continue;
        }
      }
      if (b === QUOTE) {
        this.inString = true;
      } else if (b === 0x7b || b === 0x5b) {
        this.depth++;
      } else if (b === 0x7d || b === 0x5d) {
        if (this.depth === 0) return this.endValue(chunk, i);
        this.depth--;
        if (this.depth === 0) return this.endValue(chunk, i + 1);
      } else if (b === LF) {
        this.line++;
        this.lineStart = this.offset + i + 1;
      } else if (!isSpace(b) && b !== 0x2c && b !== 0x3a && this.depth === 0) {
        this.scalar = true;
      }
      i++;
    }
    return n;
  }

  /** The value ends before chunk[i]. */
  private endValue(chunk: Buffer, i: number): number {
    this.state = this.afterValue;
    if (this.capture) {
      const index = this.caseIndex++;
      if (this.oversized || this.pendingBytes + i - this.valueStart > this.maxCaseSize) {
        this.oversized = false;
        this.pending.length = 0;
        this.tooLarge(index, this.valueLine, this.valueColumn);
      } else if (this.pending.length > 0) {
        // Started in an earlier chunk.
        this.pending.push(chunk.subarray(0, i));
        const bytes = Buffer.concat(this.pending);
        this.pending.length = 0;
        this.emit(bytes, 0, bytes.length, index, this.valueLine, this.valueColumn);
      } else {
        this.emit(chunk, this.valueStart, i, index, this.valueLine, this.valueColumn);
      }
    }
    return i;
  }

  private emit(bytes: Buffer, start: number, end: number, index: number, valueLine: number, valueColumn: number): void {
    const raw = bytes.subarray(start, end);
    if (!isUtf8(raw)) {
      // RFC 8259 §8.1: JSON text is UTF-8; decoding would silently turn the bad octets into U+FFFD.
      const bad = firstInvalidUtf8(raw);
      const [errorLine, errorColumn] = locate(raw.subarray(0, bad), valueLine, valueColumn);
      this.onCase({
        index,
        line: valueLine,
        column: valueColumn,
        ok: false,
        error: `the input is not valid UTF-8 (octet 0x${hex2(raw[bad]!)})`,
        errorLine,
        errorColumn,
      });
      return;
    }
    const p = this.parser;
    if (p) {
      const end2 = p.parse(bytes, start, end, true);
      if (end2 >= 0 && !p.fallback) {
        this.onCase({ index, line: valueLine, column: valueColumn, ok: true, value: undefined, fields: p.fields, bytes, start, end });
        return;
      }
      // Not of the common shape, or broken: JSON.parse decides, and says why it broke.
      this.emitParsed(bytes, start, end, index, valueLine, valueColumn, end2 < 0 ? p.errorAt : -1);
      return;
    }
    this.emitParsed(bytes, start, end, index, valueLine, valueColumn);
  }

  /**
   * A case of valid UTF-8, parsed whole with JSON.parse. `errorAt`: where the
   * case parser found it broken, for when JSON.parse's message gives no position.
   */
  private emitParsed(bytes: Buffer, start: number, end: number, index: number, valueLine: number, valueColumn: number, errorAt = -1): void {
    const text = bytes.toString('utf8', start, end);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const m = / in JSON at position (\d+)/.exec(msg);
      let line = valueLine;
      let column = valueColumn;
      if (m) {
        // Locate the position (UTF-16 units in `text`) as a line and byte column.
        [line, column] = locate(Buffer.from(text.slice(0, Number(m[1])), 'utf8'), valueLine, valueColumn);
      } else if (errorAt >= start) {
        [line, column] = locate(bytes.subarray(start, errorAt), valueLine, valueColumn);
      }
      const reason = msg.replace(/ in JSON at position \d+.*$/s, '').replace(/^Unexpected end of JSON input$/, 'unexpected end of the case');
      this.onCase({ index, line: valueLine, column: valueColumn, ok: false, error: `invalid JSON: ${reason}`, errorLine: line, errorColumn: column });
      return;
    }
    this.onCase({ index, line: valueLine, column: valueColumn, ok: true, value, fields: undefined, bytes, start, end });
  }
}

/** Line and column (1-based, columns in bytes) of the end of `before`, which starts at (line, column). */
function locate(before: Buffer, line: number, column: number): [number, number] {
  const nl = before.lastIndexOf(LF);
  return [line + countLines(before), nl === -1 ? column + before.length : before.length - nl];
}

/** The next number state after octet c, or -1 when c does not continue the number. */
function numberStep(state: N, c: number): N | -1 {
  const digit = c >= 0x30 && c <= 0x39;
  switch (state) {
    case N.Minus:
      return c === 0x30 ? N.Zero : digit ? N.Int : -1;
    case N.Zero:
      return c === 0x2e ? N.Dot : c === 0x65 || c === 0x45 ? N.E : -1;
    case N.Int:
      return digit ? N.Int : c === 0x2e ? N.Dot : c === 0x65 || c === 0x45 ? N.E : -1;
    case N.Dot:
      return digit ? N.Frac : -1;
    case N.Frac:
      return digit ? N.Frac : c === 0x65 || c === 0x45 ? N.E : -1;
    case N.E:
      return c === 0x2b || c === 0x2d ? N.ESign : digit ? N.Exp : -1;
    case N.ESign:
    case N.Exp:
      return digit ? N.Exp : -1;
  }
}
