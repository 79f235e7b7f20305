/**
 * Case validation. The common shapes are checked by hand (zod costs several
 * microseconds a case, a third of the time on large inputs); when a case
 * fails, zod (loaded then) explains why with the path to the problem. A
 * property test keeps the two in agreement.
 */
import type { HeaderInput } from '../hpack/index.js';
import type { CaseFields } from './io/case-parser.js';

/** A checked case; its `pairs` and `fields` are valid until the next case is checked. */
export interface DeflateCase {
  /** Fields for the deflater: text, or bytes for header_encoding latin1. */
  fields: HeaderInput[];
  /** Name/value pairs as given, for the output. */
  pairs: Array<[string, string]>;
  tableSize: number | undefined;
  latin1: boolean;
  /** Where the headers' strings are in the input (see CaseFields.headerSpans), to copy them to the output. */
  source?: { bytes: Buffer; spans: number[] } | undefined;
}

export interface InflateCase {
  /** The hex as given: a string, or (read in place) source[wireStart..wireEnd). */
  wire: string | undefined;
  source?: { bytes: Buffer; wireStart: number; wireEnd: number } | undefined;
  block: Uint8Array;
  tableSize: number | undefined;
  /** The expected headers, when the case has them. */
  pairs: Array<[string, string]> | undefined;
  latin1: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const LATIN1 = /^[\x00-\xff]*$/;

function tableSizeOf(v: Record<string, unknown>): number | undefined | false {
  const t = v['header_table_size'];
  return t === undefined || t === null || typeof t === 'number' ? tableSizeOfField(t) : false;
}

function encodingOf(v: Record<string, unknown>): boolean | null {
  return encodingOfField(v['header_encoding']);
}

// The [name, value] tuples are reused from case to case (a million of them on
// large inputs would be a tenth of the garbage): a case's pairs are valid
// until the next case is checked.
const tuples: Array<[string, string]> = [];

/** The header list of a case as pairs, or null if it is not an array of one-name objects with string values. */
function pairsOf(list: unknown, latin1: boolean): Array<[string, string]> | null {
  if (!Array.isArray(list)) return null;
  const pairs: Array<[string, string]> = new Array(list.length);
  while (tuples.length < list.length) tuples.push(['', '']);
  for (let i = 0; i < list.length; i++) {
    const h: unknown = list[i];
    if (!isObject(h)) return null;
    let name: string | undefined;
    for (const k in h) {
      if (name !== undefined) return null;
      name = k;
    }
    if (name === undefined) return null;
    const value = h[name];
    if (typeof value !== 'string') return null;
    const t = tuples[i]!;
    t[0] = name;
    t[1] = value;
    pairs[i] = t;
  }
  if (latin1) for (const [n, v] of pairs) if (!LATIN1.test(n) || !LATIN1.test(v)) return null;
  return pairs;
}

/**
 * A case for deflatehd, or null when it is not valid (explainDeflateCase says why).
 * `header_table_size` is read only with `applyTableSizes`; otherwise it is ignored like any other key, as nghttp2 does.
 */
export function checkDeflateCase(v: unknown, applyTableSizes = false): DeflateCase | null {
  if (!isObject(v)) return null;
  const tableSize = applyTableSizes ? tableSizeOf(v) : undefined;
  const latin1 = encodingOf(v);
  if (tableSize === false || latin1 === null) return null;
  const pairs = pairsOf(v['headers'], latin1);
  if (pairs === null || !wellFormed(pairs)) return null;
  const fields: HeaderInput[] = latin1 ? pairs.map(([n, val]) => [Buffer.from(n, 'latin1'), Buffer.from(val, 'latin1')]) : pairs;
  return { fields, pairs, tableSize, latin1 };
}

/** A case for inflatehd, or null when it is not valid. With `needHeaders`, `headers` must be there too. */
export function checkInflateCase(v: unknown, needHeaders: boolean): InflateCase | null {
  if (!isObject(v)) return null;
  const wire = v['wire'];
  if (typeof wire !== 'string') return null;
  const block = hexBlock(wire);
  if (block === null) return null;
  const tableSize = tableSizeOf(v);
  const latin1 = encodingOf(v);
  if (tableSize === false || latin1 === null) return null;
  // "headers" matter only to --verify; otherwise they are ignored like any other key.
  let pairs: Array<[string, string]> | undefined;
  if (needHeaders) {
    const p = pairsOf(v['headers'], latin1);
    if (p === null || !wellFormed(p)) return null;
    pairs = p;
  }
  return { wire, block, tableSize, pairs, latin1 };
}

/** The octets of a "wire" string, or null when its length is odd or a character is not a hex digit. */
function hexBlock(wire: string): Buffer | null {
  if (wire.length % 2 !== 0) return null;
  // Buffer.from stops at the first character that is not hex: a short result means bad hex.
  const block = Buffer.from(wire, 'hex');
  return block.length * 2 === wire.length ? block : null;
}

// The same checks on the members a case parser read (their JSON types are already known).

function tableSizeOfField(t: number | null | undefined): number | undefined | false {
  if (t === undefined || t === null) return undefined;
  return Number.isInteger(t) && t >= 0 && t <= 0xffffffff ? t : false;
}

function encodingOfField(e: unknown): boolean | null {
  if (e === undefined || e === 'utf8') return false;
  return e === 'latin1' ? true : null;
}

/** Pairs from [name0, value0, ...]; `plain`: no string had an escape, so none has a lone surrogate. */
function pairsOfFlat(flat: string[], latin1: boolean, plain: boolean): Array<[string, string]> | null {
  const n = flat.length >> 1;
  const pairs: Array<[string, string]> = new Array(n);
  while (tuples.length < n) tuples.push(['', '']);
  for (let i = 0; i < n; i++) {
    const t = tuples[i]!;
    t[0] = flat[2 * i]!;
    t[1] = flat[2 * i + 1]!;
    pairs[i] = t;
  }
  if (latin1) for (const [nm, v] of pairs) if (!LATIN1.test(nm) || !LATIN1.test(v)) return null;
  if (!plain && !wellFormed(pairs)) return null;
  return pairs;
}

/** checkDeflateCase for a case read by a case parser. */
export function deflateCaseFromFields(f: CaseFields, applyTableSizes = false, bytes?: Buffer): DeflateCase | null {
  const tableSize = applyTableSizes ? tableSizeOfField(f.tableSize) : undefined;
  const latin1 = encodingOfField(f.encoding);
  if (tableSize === false || latin1 === null || f.headers === undefined) return null;
  const pairs = pairsOfFlat(f.headers, latin1, f.headersPlain);
  if (pairs === null) return null;
  if (latin1) return { fields: pairs.map(([n, val]) => [Buffer.from(n, 'latin1'), Buffer.from(val, 'latin1')]), pairs, tableSize, latin1 };
  return { fields: pairs, pairs, tableSize, latin1, source: bytes && f.headerSpans ? { bytes, spans: f.headerSpans } : undefined };
}

const HEX_VALUE = new Int8Array(256).fill(-1);
for (let c = 0; c < 256; c++) {
  const d = '0123456789abcdef'.indexOf(String.fromCharCode(c).toLowerCase());
  if (d >= 0) HEX_VALUE[c] = d;
}

/** The octets of hex digits src[s..e), or null when one is not a hex digit or there is an odd number. */
function hexOctets(src: Uint8Array, s: number, e: number): Uint8Array | null {
  if ((e - s) % 2 !== 0) return null;
  const out = new Uint8Array((e - s) >> 1);
  for (let i = s, k = 0; i < e; i += 2, k++) {
    const hi = HEX_VALUE[src[i]!]!;
    const lo = HEX_VALUE[src[i + 1]!]!;
    if ((hi | lo) < 0) return null;
    out[k] = (hi << 4) | lo;
  }
  return out;
}

/** checkInflateCase for a case read by a case parser (`bytes`: the case's text, where the fields point). */
export function inflateCaseFromFields(f: CaseFields, needHeaders: boolean, bytes: Buffer): InflateCase | null {
  const wire = f.wire;
  let block: Uint8Array | null;
  let source: InflateCase['source'];
  if (f.wireStart >= 0) {
    block = hexOctets(bytes, f.wireStart, f.wireEnd);
    source = { bytes, wireStart: f.wireStart, wireEnd: f.wireEnd };
  } else {
    if (wire === undefined) return null;
    block = hexBlock(wire);
  }
  if (block === null) return null;
  const tableSize = tableSizeOfField(f.tableSize);
  const latin1 = encodingOfField(f.encoding);
  if (tableSize === false || latin1 === null) return null;
  let pairs: Array<[string, string]> | undefined;
  if (needHeaders) {
    if (f.headers === undefined) return null;
    const p = pairsOfFlat(f.headers, latin1, f.headersPlain);
    if (p === null) return null;
    pairs = p;
  }
  return { wire, source, block, tableSize, pairs, latin1 };
}

/** Strings with lone surrogates (possible through \ud800 escapes in JSON) cannot be UTF-8. */
function wellFormed(pairs: Array<[string, string]>): boolean {
  for (const [n, v] of pairs) if (!n.isWellFormed() || !v.isWellFormed()) return false;
  return true;
}

/** Why a deflatehd case is not valid: "headers[2]: a header must be ...". */
export async function explainDeflateCase(v: unknown, applyTableSizes = false): Promise<string> {
  const { deflateInputCase, describeIssues } = await import('./schema.js');
  const r = (applyTableSizes ? deflateInputCase : deflateInputCase.omit({ header_table_size: true })).safeParse(v);
  if (!r.success) return describeIssues(r.error, v);
  return extraProblem(v as Record<string, unknown>) ?? 'invalid case';
}

/** Why an inflatehd case is not valid. */
export async function explainInflateCase(v: unknown, needHeaders: boolean): Promise<string> {
  const { inflateInputCase, verifyInputCase, describeIssues } = await import('./schema.js');
  if (needHeaders && typeof v === 'object' && v !== null && !Array.isArray(v) && (v as Record<string, unknown>)['headers'] === undefined) {
    return 'headers is missing; --verify compares the decoded list with it';
  }
  const r = (needHeaders ? verifyInputCase : inflateInputCase).safeParse(v);
  if (!r.success) return describeIssues(r.error, v);
  return extraProblem(v as Record<string, unknown>) ?? 'invalid case';
}

/** Problems beyond the schema: lone surrogates, latin1 strings with chars above U+00FF. */
function extraProblem(v: Record<string, unknown>): string | undefined {
  const list = v['headers'];
  if (!Array.isArray(list)) return undefined;
  const latin1 = v['header_encoding'] === 'latin1';
  for (let i = 0; i < list.length; i++) {
    for (const [n, val] of Object.entries(list[i] as Record<string, string>)) {
      for (const [what, s] of [
        ['name', n],
        ['value', val],
      ] as const) {
        if (!s.isWellFormed()) return `headers[${i}]: the ${what} has a lone surrogate (\\uD800-\\uDFFF) and is not Unicode text`;
        if (latin1 && !LATIN1.test(s)) return `headers[${i}]: the ${what} has a char above U+00FF, but header_encoding is latin1`;
      }
    }
  }
  return undefined;
}
