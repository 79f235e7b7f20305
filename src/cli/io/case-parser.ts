/**
 * One case of a story, parsed from its bytes: the whole JSON grammar is
 * checked (RFC 8259), but only the members a tool uses become values; the
 * others (inflatehd's "headers", a dumped "header_table" ...) are checked and
 * skipped without building anything. Cases of the common shape take this
 * path; anything unusual (a key with escapes, a duplicate key, a member of
 * another type than expected) is marked `fallback`, and the caller parses
 * the case with JSON.parse so that its meaning is exactly JSON.parse's.
 */

import { bytesToOctets } from '../../hpack/octets.js';
import { BACKSLASH, ESCAPES, HEX, LF, QUOTE } from './json-octets.js';

/** Which members of a case a tool reads. */
export interface CaseFieldSet {
  headers: boolean;
  wire: boolean;
  tableSize: boolean;
  encoding: boolean;
}

/** The members read from a case of the common shape. */
export interface CaseFields {
  /** Header names and values, flat: [name0, value0, name1, value1, ...]; undefined when absent. */
  headers: string[] | undefined;
  /** No header string had an escape (nor so a quote, backslash or control character). */
  headersPlain: boolean;
  /**
   * Where each header string's octets are in the case's bytes, flat as
   * [nameStart, nameEnd, valueStart, valueEnd, ...]; -1, -1 for a string with
   * escapes. An unescaped string's octets are its JSON text as it would be
   * written (UTF-8, nothing to escape), so they can be copied to the output.
   */
  headerSpans: number[] | undefined;
  /** "wire" when it had escapes or octets above 0x7f (rare); otherwise see wireStart. */
  wire: string | undefined;
  /** Where an ASCII "wire" without escapes is in the case's bytes (its octets are its text): [wireStart, wireEnd), or -1. */
  wireStart: number;
  wireEnd: number;
  /** header_table_size: a number, null, or undefined when absent. */
  tableSize: number | null | undefined;
  encoding: string | undefined;
}

/** The case runs past the bytes given. */
export const INCOMPLETE = -1;
/** The bytes are not JSON (parser.errorAt says where). */
export const INVALID = -2;

// Keys compared as bytes.
const KEY_HEADERS = Buffer.from('headers');
const KEY_WIRE = Buffer.from('wire');
const KEY_TABLE_SIZE = Buffer.from('header_table_size');
const KEY_ENCODING = Buffer.from('header_encoding');

type Slice = (this: Buffer, start: number, end: number) => string;
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: Slice }).latin1Slice;
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: Slice }).utf8Slice;

const INTERN_MAX = 64;
const INTERN_MASK = 4095;

/** Thrown inside the parser; caught in parse(). */
const STOP = new Error('stop');

export class CaseParser {
  /** Set by parse(): the members read (when it returned an end offset and fallback is false). */
  fields: CaseFields = emptyFields();
  /** The case needs JSON.parse (see the file comment). */
  fallback = false;
  /** A byte >= 0x80 appeared: the caller checks that the case is UTF-8. */
  nonAscii = false;
  /** Line feeds in the case, and the offset of the last one (-1 when none). */
  lineFeeds = 0;
  lastLineFeed = -1;
  /** Where the grammar broke (with INVALID). */
  errorAt = 0;

  private b: Buffer = Buffer.alloc(0);
  /** A view of `b`, for reading four octets at a time. */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private readonly interned: Array<string | undefined> = new Array(INTERN_MASK + 1).fill(undefined);
  /** The octets of each interned name, INTERN_MAX per slot, compared four at a time. */
  private readonly internOctets = new Uint8Array((INTERN_MASK + 1) * INTERN_MAX);
  private readonly internView = new DataView(this.internOctets.buffer);
  private end = 0;
  /** The bytes end where the value must end (no more input to come). */
  private complete = false;
  private stack = new Uint8Array(64);
  private incomplete = false;
  // The last string scanned: it had an escape; it had an octet >= 0x80.
  private strEscaped = false;
  private strHigh = false;

  constructor(private readonly want: CaseFieldSet) {}

  /**
   * Parses the value starting at b[start] (not whitespace). Returns the
   * offset after it, INCOMPLETE when it runs past `end` (with `complete`,
   * that is INVALID instead), or INVALID.
   */
  parse(b: Buffer, start: number, end: number, complete: boolean): number {
    if (b !== this.b) {
      this.b = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.length);
    }
    this.end = end;
    this.complete = complete;
    this.fallback = false;
    this.nonAscii = false;
    this.lineFeeds = 0;
    this.lastLineFeed = -1;
    this.incomplete = false;
    this.fields = emptyFields();
    try {
      let i = b[start] === 0x7b ? this.caseObject(start) : ((this.fallback = true), this.skipValue(start));
      if (complete) {
        i = this.ws(i, false);
        if (i !== end) this.fail(i);
      }
      return i;
    } catch (e) {
      if (e !== STOP) throw e;
      if (this.incomplete) {
        if (!complete) return INCOMPLETE;
        this.errorAt = end;
      }
      return INVALID;
    }
  }

  private fail(i: number): never {
    this.errorAt = i;
    throw STOP;
  }

  private more(i: number): never {
    this.errorAt = i;
    this.incomplete = true;
    throw STOP;
  }

  /** Skips whitespace from i; returns the first other offset (needing one unless `atEndOk`). */
  private ws(i: number, need = true): number {
    const b = this.b;
    const end = this.end;
    for (; i < end; i++) {
      const c = b[i]!;
      if (c === 0x20) continue;
      if (c === LF) {
        this.lineFeeds++;
        this.lastLineFeed = i;
        continue;
      }
      if (c === 0x0d || c === 0x09) continue;
      return i;
    }
    if (need) this.more(i);
    return i;
  }

  /** The case object: members the tool wants are read, the others skipped. */
  private caseObject(i: number): number {
    const b = this.b;
    const want = this.want;
    const f = this.fields;
    let seen = 0;
    i = this.ws(i + 1);
    if (b[i] === 0x7d) return i + 1;
    for (;;) {
      if (b[i] !== QUOTE) this.fail(i);
      const ks = i + 1;
      i = this.string(i);
      const ke = i - 1;
      let key = 0;
      if (this.strEscaped) this.fallback = true;
      else if (want.headers && keyIs(b, ks, ke, KEY_HEADERS)) key = 1;
      else if (want.wire && keyIs(b, ks, ke, KEY_WIRE)) key = 2;
      else if (want.tableSize && keyIs(b, ks, ke, KEY_TABLE_SIZE)) key = 4;
      else if (want.encoding && keyIs(b, ks, ke, KEY_ENCODING)) key = 8;
      i = this.ws(i);
      if (b[i] !== 0x3a) this.fail(i);
      i = this.ws(i + 1);
      if (key !== 0 && (seen & key) !== 0) this.fallback = true; // JSON.parse keeps the last: let it decide
      seen |= key;
      const c = b[i];
      if (key === 1 && c === 0x5b && !this.fallback) {
        i = this.headers(i);
      } else if (key === 2 && c === QUOTE) {
        const s = i + 1;
        i = this.string(i);
        if (this.strEscaped || this.strHigh) {
          f.wire = JSON.parse(utf8Slice.call(b, s - 1, i)) as string;
          f.wireStart = f.wireEnd = -1;
        } else {
          // Read where it is: no string is made for the hex of a block.
          f.wire = undefined;
          f.wireStart = s;
          f.wireEnd = i - 1;
        }
      } else if (key === 4 && (c === 0x2d || (c! >= 0x30 && c! <= 0x39))) {
        const s = i;
        i = this.number(i);
        f.tableSize = Number(latin1Slice.call(b, s, i));
      } else if (key === 4 && c === 0x6e) {
        i = this.skipValue(i);
        f.tableSize = null;
      } else if (key === 8 && c === QUOTE) {
        const s = i + 1;
        i = this.string(i);
        f.encoding = this.strEscaped || this.strHigh ? (JSON.parse(utf8Slice.call(b, s - 1, i)) as string) : latin1Slice.call(b, s, i - 1);
      } else {
        if (key !== 0) this.fallback = true; // present, but not of the expected type
        i = this.skipValue(i);
      }
      i = this.ws(i);
      const d = b[i];
      if (d === 0x7d) return i + 1;
      if (d !== 0x2c) this.fail(i);
      i = this.ws(i + 1);
    }
  }

  /**
   * "headers": [{"name": "value"}, ...] into fields.headers. Anything else
   * (an element that is not a one-member object with a string value) makes
   * the case a fallback, and the value is checked again from its start.
   */
  private headers(start: number): number {
    const b = this.b;
    const out: string[] = [];
    const spans: number[] = [];
    let plain = true;
    const lineFeeds = this.lineFeeds;
    const lastLineFeed = this.lastLineFeed;
    let i = this.ws(start + 1);
    if (b[i] === 0x5d) {
      this.fields.headers = out;
      this.fields.headerSpans = spans;
      return i + 1;
    }
    for (;;) {
      if (b[i] !== 0x7b) break;
      i = this.ws(i + 1);
      if (b[i] !== QUOTE) break;
      let s = i + 1;
      i = this.string(i);
      const name = this.strEscaped ? (JSON.parse(utf8Slice.call(b, s - 1, i)) as string) : this.strHigh ? utf8Slice.call(b, s, i - 1) : this.ascii(s, i - 1);
      if (this.strEscaped) {
        plain = false;
        spans.push(-1, -1);
      } else spans.push(s, i - 1);
      i = this.ws(i);
      if (b[i] !== 0x3a) this.fail(i);
      i = this.ws(i + 1);
      if (b[i] !== QUOTE) break;
      s = i + 1;
      i = this.string(i);
      const value = this.strEscaped
        ? (JSON.parse(utf8Slice.call(b, s - 1, i)) as string)
        : this.strHigh
          ? utf8Slice.call(b, s, i - 1)
          : bytesToOctets(b, s, i - 1);
      if (this.strEscaped) {
        plain = false;
        spans.push(-1, -1);
      } else spans.push(s, i - 1);
      i = this.ws(i);
      if (b[i] !== 0x7d) break; // a second member, or broken
      out.push(name, value);
      i = this.ws(i + 1);
      const d = b[i];
      if (d === 0x5d) {
        this.fields.headers = out;
        this.fields.headersPlain = plain;
        this.fields.headerSpans = spans;
        return i + 1;
      }
      if (d !== 0x2c) this.fail(i);
      i = this.ws(i + 1);
    }
    this.fallback = true;
    this.lineFeeds = lineFeeds;
    this.lastLineFeed = lastLineFeed;
    return this.skipValue(start);
  }

  /**
   * The ASCII name b[s..e). Short ones come from a small cache when the same
   * octets were seen before: names repeat from case to case, and handing the
   * encoder the same string object again makes its table lookups cheaper
   * than a fresh copy would.
   */
  private ascii(s: number, e: number): string {
    const b = this.b;
    const n = e - s;
    if (n > INTERN_MAX || n === 0) return n === 0 ? '' : bytesToOctets(b, s, e);
    const slot = (n * 31 + b[s]! * 7 + b[e - 1]! * 13 + b[s + (n >> 1)]! * 3 + b[s + (n >> 2)]!) & INTERN_MASK;
    const cached = this.interned[slot];
    const at = slot * INTERN_MAX;
    if (cached !== undefined && cached.length === n) {
      const iv = this.internView;
      const view = this.view;
      let k = 0;
      while (k + 4 <= n && iv.getUint32(at + k, true) === view.getUint32(s + k, true)) k += 4;
      const io = this.internOctets;
      while (k < n && io[at + k] === b[s + k]) k++;
      if (k === n) return cached;
    }
    const str = bytesToOctets(b, s, e);
    this.interned[slot] = str;
    this.internOctets.set(b.subarray(s, e), at);
    return str;
  }

  /** A string from its opening quote; returns the offset after the closing one. Sets strEscaped. */
  private string(i: number): number {
    const b = this.b;
    const end = this.end;
    const view = this.view;
    let escaped = false;
    let high = 0;
    i++;
    for (;;) {
      let c = 0;
      // The common run, four octets at a time while none of them is below 0x20, a quote, a
      // backslash or above 0x7f: a byte below 0x20 borrows into bit 7 of w - 0x20..., a quote or a
      // backslash makes a zero byte in w ^ 0x22... or w ^ 0x5c..., and bit 7 of w marks the rest.
      while (i + 4 <= end) {
        const w = view.getUint32(i, true);
        const q = w ^ 0x22222222;
        const s = w ^ 0x5c5c5c5c;
        if ((((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s) | w) & 0x80808080) break;
        i += 4;
      }
      // Then octet by octet.
      while (i < end && (c = b[i]!) >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
        high |= c;
        i++;
      }
      if (i >= end) this.more(i);
      if (c === QUOTE) break;
      if (c < 0x20) this.fail(i); // RFC 8259 §7: control characters must be escaped
      // A backslash: one of the escapes, \uXXXX with four hex digits.
      if (i + 1 >= end) this.more(i + 1);
      const e = b[i + 1]!;
      if (ESCAPES[e] !== 1) this.fail(i + 1);
      escaped = true;
      if (e === 0x75) {
        for (let k = 2; k < 6; k++) {
          if (i + k >= end) this.more(i + k);
          if (HEX[b[i + k]!] !== 1) this.fail(i + k);
        }
        i += 6;
      } else {
        i += 2;
      }
    }
    this.strHigh = high >= 0x80;
    if (this.strHigh) this.nonAscii = true;
    this.strEscaped = escaped;
    return i + 1;
  }

  /** A number (RFC 8259 §6); returns the offset after it. */
  private number(i: number): number {
    const b = this.b;
    if (b[i] === 0x2d) i++;
    i = this.need(i);
    if (b[i] === 0x30) i++;
    else if (b[i]! >= 0x31 && b[i]! <= 0x39) i = this.digits(i);
    else this.fail(i);
    if (i < this.end && b[i] === 0x2e) {
      i = this.need(i + 1);
      if (!isDigit(b[i]!)) this.fail(i);
      i = this.digits(i);
    }
    if (i < this.end && (b[i] === 0x65 || b[i] === 0x45)) {
      i = this.need(i + 1);
      if (b[i] === 0x2b || b[i] === 0x2d) i = this.need(i + 1);
      if (!isDigit(b[i]!)) this.fail(i);
      i = this.digits(i);
    }
    // A number that reaches the end of the bytes may go on in the next chunk.
    if (i >= this.end && !this.complete) this.more(i);
    return i;
  }

  private need(i: number): number {
    if (i >= this.end) this.more(i);
    return i;
  }

  private digits(i: number): number {
    const b = this.b;
    while (i < this.end && isDigit(b[i]!)) i++;
    return i;
  }

  private literal(i: number, word: Buffer): number {
    const b = this.b;
    for (let k = 0; k < word.length; k++) {
      if (i + k >= this.end) this.more(i + k);
      if (b[i + k] !== word[k]) this.fail(i + k);
    }
    return i + word.length;
  }

  /** Checks one value of any kind and returns the offset after it; iterative, so any depth is fine. */
  private skipValue(i: number): number {
    const b = this.b;
    let depth = 0;
    let stack = this.stack;
    for (;;) {
      i = this.ws(i);
      const c = b[i]!;
      if (c === 0x7b || c === 0x5b) {
        if (depth === stack.length) {
          const bigger = new Uint8Array(stack.length * 2);
          bigger.set(stack);
          this.stack = stack = bigger;
        }
        stack[depth++] = c;
        i = this.ws(i + 1);
        const d = b[i];
        if (c === 0x7b) {
          if (d === 0x7d) {
            depth--;
            i++;
          } else {
            if (d !== QUOTE) this.fail(i);
            i = this.ws(this.string(i));
            if (b[i] !== 0x3a) this.fail(i);
            i++;
            continue;
          }
        } else if (d === 0x5d) {
          depth--;
          i++;
        } else {
          continue;
        }
      } else if (c === QUOTE) {
        i = this.string(i);
      } else if (c === 0x2d || isDigit(c)) {
        i = this.number(i);
      } else if (c === 0x74) {
        i = this.literal(i, TRUE);
      } else if (c === 0x66) {
        i = this.literal(i, FALSE);
      } else if (c === 0x6e) {
        i = this.literal(i, NULL);
      } else {
        this.fail(i);
      }
      // After a value: close containers, or go on to the next element or member.
      for (;;) {
        if (depth === 0) return i;
        i = this.ws(i);
        const d = b[i];
        const top = stack[depth - 1];
        if (d === 0x2c) {
          i = this.ws(i + 1);
          if (top === 0x7b) {
            if (b[i] !== QUOTE) this.fail(i);
            i = this.ws(this.string(i));
            if (b[i] !== 0x3a) this.fail(i);
            i++;
          }
          break;
        }
        if ((top === 0x7b && d === 0x7d) || (top === 0x5b && d === 0x5d)) {
          depth--;
          i++;
          continue;
        }
        this.fail(i);
      }
    }
  }
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function keyIs(b: Buffer, s: number, e: number, key: Buffer): boolean {
  if (e - s !== key.length) return false;
  for (let k = 0; k < key.length; k++) if (b[s + k] !== key[k]) return false;
  return true;
}

function emptyFields(): CaseFields {
  return {
    headers: undefined,
    headersPlain: true,
    headerSpans: undefined,
    wire: undefined,
    wireStart: -1,
    wireEnd: -1,
    tableSize: undefined,
    encoding: undefined,
  };
}
