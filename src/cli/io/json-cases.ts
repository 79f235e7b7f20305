/**
 * Streaming reader of story documents: `{"cases": [ {...}, {...} ], ...}`.
 * Chunks may be reused by the caller once push() returns.
 *
 * Input arrives in chunks; the scanner checks the document's outer structure
 * itself and finds the bounds of each element of `cases` (tracking strings
 * and nesting only), hands the element's text to JSON.parse, and forgets it.
 * Memory stays at one chunk plus one case, whatever the input size. Other
 * top-level keys are skipped. Positions in errors are 1-based lines and
 * columns (columns count bytes).
 */

import { isUtf8 } from 'node:buffer';

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
      value: unknown;
      /**
       * The case's text has no backslash, so none of its strings contains a
       * quote, a backslash or a control character (JSON requires them
       * escaped): its strings can be written back without escaping.
       */
      plain: boolean;
    }
  | { index: number; line: number; column: number; ok: false; error: string; errorLine: number; errorColumn: number };

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
  Value, // skipping (or capturing) one JSON value
  Done,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LF = 0x0a;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function describe(b: number): string {
  if (b >= 0x21 && b < 0x7f) return `'${String.fromCharCode(b)}'`;
  return `byte 0x${b.toString(16).padStart(2, '0')}`;
}

export class CaseScanner {
  private state = S.TopStart;
  private afterValue = S.TopCommaOrEnd;
  private line = 1;
  private lineStart = 0; // absolute offset of the current line
  private offset = 0; // absolute offset of the current chunk
  // Value skipping/capturing.
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scalar = false; // inside a number or literal
  private capture = false;
  private pending: Buffer[] = [];
  private valueStart = 0; // offset in the chunk where the captured value starts
  private valueLine = 0;
  private valueColumn = 0;
  // Position of the next backslash in the current chunk (n when none):
  // searched once per chunk, not once per string, as backslashes are rare.
  private nextBackslash = -1;
  // Top-level key.
  private keyBytes: number[] = [];
  private keyEscaped = false;
  private currentKey = '';
  private sawCases = false;
  private caseIndex = 0;
  // Cases that start and end in the current chunk, parsed together at its end.
  private batch: Array<{ start: number; end: number; index: number; line: number; column: number }> = [];

  constructor(private readonly onCase: (c: ScannedCase) => void) {}

  /** Number of `cases` elements seen so far. */
  get cases(): number {
    return this.caseIndex;
  }

  /** Scans a chunk; calls onCase for each complete element. Throws JsonSyntaxError. */
  push(chunk: Buffer): void {
    try {
      this.scan(chunk);
    } finally {
      this.flushBatch(chunk);
    }
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
          this.startValue(i, false, S.TopCommaOrEnd);
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
      // Copied: the caller may reuse the chunk's memory for the next one.
      this.pending.push(Buffer.from(chunk.subarray(this.valueStart)));
      this.valueStart = 0;
    }
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
              : 'unexpected end of input';
      throw new JsonSyntaxError(where, this.line, this.offset - this.lineStart + 1);
    }
  }

  private finishDocument(i: number): void {
    if (!this.sawCases) this.fail('the document has no "cases" array', i);
    this.state = S.Done;
  }

  private decodeKey(): string {
    const raw = Buffer.from(this.keyBytes).toString('utf8');
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return raw;
    }
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
      if (this.pending.length > 0) {
        // Started in an earlier chunk, so it precedes everything in the batch.
        this.pending.push(chunk.subarray(0, i));
        const bytes = Buffer.concat(this.pending);
        this.pending.length = 0;
        this.emit(bytes, 0, bytes.length, index, this.valueLine, this.valueColumn);
      } else {
        this.batch.push({ start: this.valueStart, end: i, index, line: this.valueLine, column: this.valueColumn });
      }
    }
    return i;
  }

  /**
   * Parses the cases of a chunk with one JSON.parse of "[case, case, ...]"
   * (the separators between them are already commas), which saves the
   * per-case call and string costs; when that fails, each case is parsed
   * on its own so that the bad one is found and located.
   */
  private flushBatch(chunk: Buffer): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    const from = batch[0]!.start;
    const to = batch[batch.length - 1]!.end;
    if (batch.length > 1 && isUtf8(chunk.subarray(from, to))) {
      let values: unknown;
      try {
        values = JSON.parse(`[${chunk.toString('utf8', from, to)}]`);
      } catch {
        values = null;
      }
      if (Array.isArray(values) && values.length === batch.length) {
        let bs = chunk.indexOf(BACKSLASH, from);
        for (let k = 0; k < batch.length; k++) {
          const b = batch[k]!;
          if (bs !== -1 && bs < b.start) bs = chunk.indexOf(BACKSLASH, b.start);
          const plain = bs === -1 || bs >= b.end;
          this.onCase({ index: b.index, line: b.line, column: b.column, ok: true, value: values[k] as unknown, plain });
        }
        return;
      }
    }
    for (const b of batch) this.emit(chunk, b.start, b.end, b.index, b.line, b.column);
  }

  private emit(bytes: Buffer, start: number, end: number, index: number, valueLine: number, valueColumn: number): void {
    const raw = bytes.subarray(start, end);
    if (!isUtf8(raw)) {
      // RFC 8259 §8.1: JSON text is UTF-8; decoding would silently turn the bad octets into U+FFFD.
      const bad = firstInvalidUtf8(raw);
      const before = raw.subarray(0, bad);
      const nl = before.lastIndexOf(LF);
      this.onCase({
        index,
        line: valueLine,
        column: valueColumn,
        ok: false,
        error: `the input is not valid UTF-8 (octet 0x${raw[bad]!.toString(16).padStart(2, '0')})`,
        errorLine: valueLine + countLines(before),
        errorColumn: nl === -1 ? valueColumn + before.length : before.length - nl,
      });
      return;
    }
    const text = raw.toString('utf8');
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
        const before = Buffer.from(text.slice(0, Number(m[1])), 'utf8');
        const nl = before.lastIndexOf(LF);
        line = valueLine + countLines(before);
        column = nl === -1 ? valueColumn + before.length : before.length - nl;
      }
      const reason = msg.replace(/ in JSON at position \d+.*$/s, '').replace(/^Unexpected end of JSON input$/, 'unexpected end of the case');
      this.onCase({ index, line: valueLine, column: valueColumn, ok: false, error: `invalid JSON: ${reason}`, errorLine: line, errorColumn: column });
      return;
    }
    this.onCase({ index, line: valueLine, column: valueColumn, ok: true, value, plain: !text.includes('\\') });
  }
}

/** Offset of the first octet that breaks UTF-8 in `b` (RFC 3629 §4: no overlongs, surrogates or values above U+10FFFF). */
function firstInvalidUtf8(b: Buffer): number {
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

function countLines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(LF); i !== -1; i = b.indexOf(LF, i + 1)) n++;
  return n;
}
