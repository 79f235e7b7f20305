/**
 * HPACK encoder (RFC 7541 §6), choosing representations exactly as nghttp2's
 * deflater does, so that its output is byte-identical with nghttp2's.
 *
 * The nghttp2 strategy, per field:
 *  - never indexed (§6.2.3): `authorization`, `cookie` with a value under 20
 *    octets, and fields marked sensitive; these match names only;
 *  - without indexing (§6.2.2): `:path`, `age`, `content-length`, `etag`,
 *    `if-modified-since`, `if-none-match`, `location`, `set-cookie`, and any
 *    field whose entry would take more than 3/4 of the table;
 *  - otherwise with incremental indexing (§6.2.1).
 * Lookup: a name/value match in the dynamic table wins; then, for a name in
 * the static table, its name/value match or else its first entry's name;
 * then the newest dynamic entry with the name; else a new name.
 * Huffman coding is used when strictly shorter than the octets.
 *
 * Other strategies ('static', 'naive', 'linear') and Huffman modes make other
 * kinds of test vectors; see DeflaterOptions.
 */

import { EntryRing } from './dynamic-table.js';
import { HpackError } from './errors.js';
import { huffmanEncodeAscii as huffmanEncodeAsciiImport, huffmanEncode as huffmanEncodeImport } from './huffman.js';
import { encodeInteger as encodeIntegerImport, integerLength } from './integer.js';
import { isAscii, toOctets } from './octets.js';
import { staticNameIndex } from './static-names.js';
import {
  ENTRY_OVERHEAD as ENTRY_OVERHEAD_IMPORT,
  STATIC_ENTRIES,
  STATIC_NAME_INDEX,
  STATIC_TABLE_LENGTH as STATIC_TABLE_LENGTH_IMPORT,
  STATIC_VALUES,
} from './static-table.js';
import { DEFAULT_HEADER_TABLE_SIZE, DEFLATE_MAX_HEADER_TABLE_SIZE, type HeaderInput, type TableSnapshot } from './types.js';

// Imported bindings are live: optimized code loads one from its module's cell, and checks it, at
// every use. The ones used per field are copied into constants of this module, which V8 embeds.
const ENTRY_OVERHEAD = ENTRY_OVERHEAD_IMPORT;
const STATIC_TABLE_LENGTH = STATIC_TABLE_LENGTH_IMPORT;
const encodeInteger = encodeIntegerImport;
const huffmanEncode = huffmanEncodeImport;
const huffmanEncodeAscii = huffmanEncodeAsciiImport;

/**
 * How representations are chosen:
 *  - 'nghttp2': nghttp2's choices (the default; byte-identical with nghttp2);
 *  - 'linear': static and dynamic table, every field indexed where it fits;
 *  - 'static': the static table only, literals without indexing;
 *  - 'naive': no table at all, every field a literal without indexing with a literal name.
 */
export type DeflateStrategy = 'nghttp2' | 'linear' | 'static' | 'naive';

/** 'auto': Huffman when strictly shorter (nghttp2); 'always'; 'never'. */
export type HuffmanMode = 'auto' | 'always' | 'never';

export interface DeflaterOptions {
  strategy?: DeflateStrategy;
  huffman?: HuffmanMode;
}

// Indexing policies per name (nghttp2's hd_deflate_decide_indexing).
const POLICY_INDEX = 0;
const POLICY_WITHOUT = 1;
const POLICY_NEVER = 2;
const POLICY_COOKIE = 3; // never indexed when the value is shorter than 20 octets

const NGHTTP2_POLICIES: ReadonlyMap<string, number> = new Map([
  ['authorization', POLICY_NEVER],
  ['cookie', POLICY_COOKIE],
  [':path', POLICY_WITHOUT],
  ['age', POLICY_WITHOUT],
  ['content-length', POLICY_WITHOUT],
  ['etag', POLICY_WITHOUT],
  ['if-modified-since', POLICY_WITHOUT],
  ['if-none-match', POLICY_WITHOUT],
  ['location', POLICY_WITHOUT],
  ['set-cookie', POLICY_WITHOUT],
]);

// First octet and prefix size of the literal representations (§6.2).
const LITERAL_INCREMENTAL = 0x40; // 6-bit prefix
const LITERAL_WITHOUT = 0x00; // 4-bit prefix
const LITERAL_NEVER = 0x10; // 4-bit prefix

/** Arenas start at FIRST_ARENA and double up to ARENA_SIZE, so that a connection with little to encode holds little. */
const FIRST_ARENA = 4 * 1024;
const ARENA_SIZE = 64 * 1024;
/** Names without entries kept mapped (see evictTo, boundIdleNames), at most so many and of so many octets in all. */
const IDLE_NAMES_MAX = 256;
const IDLE_OCTETS_MAX = 16 * 1024;
/**
 * Entries of one name up to which a lookup walks them; beyond, NameInfo.byValue. A walk of up to 64
 * compares tags, one load each, where a Map's lookup hashes the value (a fresh string's whole text)
 * and keeping the Map costs a set per insertion and a delete per eviction. At 16, hpack-test-case
 * (six names past 16 entries in its 4 KiB table) deflated 5-13% slower; at 128 the generated corpus
 * (64 KiB tables) 20% slower.
 */
const CHAIN_WALK_LIMIT = 64;
const utf8Encoder = new TextEncoder();

const STRATEGY_NGHTTP2 = 0;
const STRATEGY_LINEAR = 1;
const STRATEGY_STATIC = 2;
const STRATEGY_NAIVE = 3;
const STRATEGIES: Readonly<Record<DeflateStrategy, number>> = {
  nghttp2: STRATEGY_NGHTTP2,
  linear: STRATEGY_LINEAR,
  static: STRATEGY_STATIC,
  naive: STRATEGY_NAIVE,
};
/**
 * Per static name: its non-empty static values, [value, index], or null (46 of the 61 static entries
 * have an empty value), and the index of its entry with an empty value (0: none). Made once; every
 * deflater's NameInfos share them.
 */
const STATIC_MATCHES: ReadonlyMap<string, { values: ReadonlyArray<readonly [string, number]> | null; empty: number }> = new Map(
  [...STATIC_VALUES].map(([name, values]) => {
    const nonEmpty = values.filter(([v]) => v !== '');
    return [name, { values: nonEmpty.length > 0 ? nonEmpty : null, empty: values.find(([v]) => v === '')?.[1] ?? 0 }];
  }),
);

const HUFFMAN_AUTO = 0;
const HUFFMAN_ALWAYS = 1;
const HUFFMAN_NEVER = 2;
const HUFFMAN_MODES: Readonly<Record<HuffmanMode, number>> = { auto: HUFFMAN_AUTO, always: HUFFMAN_ALWAYS, never: HUFFMAN_NEVER };

/** A dynamic table entry; `seq` numbers insertions so that an index is one subtraction. */
class Entry {
  /** The next older and newer entries with the same name (a name's entries, newest first). */
  older: Entry | null = null;
  newer: Entry | null = null;
  constructor(
    readonly name: string,
    readonly value: string,
    /** The value has no octet >= 0x80, so equal text is its own octet string. */
    readonly valueAscii: boolean,
    readonly size: number,
    readonly seq: number,
    readonly info: NameInfo,
    /** valueTag(value): most values of one length that differ, differ there. */
    readonly tag: number,
  ) {}
}

/** What the encoder knows about one name: its static entries and its dynamic entries. */
class NameInfo {
  /**
   * Newest dynamic entry with this name; older ones follow through `older`.
   * As in nghttp2, values are compared along this chain while it is short:
   * hashing every (fresh) value string costs more than a short walk.
   */
  newest: Entry | null = null;
  /**
   * Value -> newest entry with it, kept once the name has more than
   * CHAIN_WALK_LIMIT entries (ids, tokens, dates: one entry per value, and a
   * 64 KiB table holds hundreds of them).
   */
  byValue: Map<string, Entry> | null = null;
  /** Number of dynamic entries with this name. */
  count = 0;
  constructor(
    /** Index of the first static entry with this name, 0 when none. */
    readonly staticIndex: number,
    /** The non-empty values of its static entries, [value, index] (one to seven of them), or null. */
    readonly staticValues: ReadonlyArray<readonly [string, number]> | null,
    /** Index of its static entry with an empty value, 0 when none. */
    readonly staticEmpty: number,
    readonly policy: number,
    /** The name has no octet >= 0x80, so equal text is its own octet string. */
    readonly ascii: boolean,
  ) {}
}

export class Deflater {
  private readonly strategy: number;
  private readonly huffman: number;
  /** The encoder's own limit (-S): the table never grows beyond it. */
  private readonly deflateLimit: number;
  /** Current maximum table size (RFC 7541 §4.2). */
  private maxSize: number;
  /** Smallest maximum since the last block, when a change is pending. */
  private minSizeSinceBlock = Infinity;
  private sizeChangePending: boolean;

  /**
   * Every name the encoder knows, static or dynamic. A dictionary-mode object, not a Map: its keys
   * are internalized strings, found by comparing pointers, where a Map's lookup calls StringEqual
   * on every key of its bucket's chain (hpack-test-case deflated 4-5% faster; deflatehd, whose
   * names are not internalized, as fast as before). Its prototype is null: every string is an own
   * key, `__proto__` and `constructor` too.
   */
  private readonly names: Record<string, NameInfo | undefined> = Object.create(null);
  /** Names in `names` that have no entries (neither static nor dynamic), and their octets. */
  private idleNames = 0;
  private idleOctets = 0;
  private readonly table = new EntryRing<Entry>();
  private nextSeq = 0;
  /**
   * Changes whenever the table or its maximum may change (an insertion or
   * eviction, a size change): blocks encoded in one version encode the
   * same fields the same way.
   */
  private version = 0;
  /**
   * Blocks of frozen field lists that left the table as it was, with the
   * version they were encoded in: a server sends the same list again and
   * again (a cached file's response), and encoding it again would give the
   * same octets while the version holds.
   */
  private readonly memo = new WeakMap<readonly HeaderInput[], { version: number; block: Uint8Array; octetsIn: number }>();
  /** Whether `memo` has ever held a block (deflatehd's lists are never frozen: no lookup at all). */
  private memoized = false;

  // Blocks are written one after another into an arena and returned as
  // views; returned octets are never written again. A fresh ArrayBuffer per
  // block (slice) would cost more than encoding the block.
  private buf = new Uint8Array(0);
  /**
   * buf's ArrayBuffer (buf starts at its offset 0). Kept, not read from buf: the optimizing compiler
   * leaves `buffer` and `byteOffset` as generic property loads, two calls a block.
   */
  private arena = this.buf.buffer;
  private octetsIn = 0;
  private bufPos = 0;
  private blockStart = 0;

  /**
   * @param maxDeflateTableSize the encoder's own table limit (nghttp2's
   *   max_deflate_dynamic_table_size, deflatehd's -S). Below 4096 the first
   *   block starts with a dynamic table size update to it.
   */
  constructor(maxDeflateTableSize: number = DEFLATE_MAX_HEADER_TABLE_SIZE, options: DeflaterOptions = {}) {
    checkSize(maxDeflateTableSize, 'maxDeflateTableSize');
    const strategy = STRATEGIES[options.strategy ?? 'nghttp2'];
    const huffman = HUFFMAN_MODES[options.huffman ?? 'auto'];
    if (strategy === undefined) throw new TypeError(`unknown deflate strategy ${String(options.strategy)}`);
    if (huffman === undefined) throw new TypeError(`unknown Huffman mode ${String(options.huffman)}`);
    this.strategy = strategy;
    this.huffman = huffman;
    this.deflateLimit = maxDeflateTableSize;
    if (maxDeflateTableSize < DEFAULT_HEADER_TABLE_SIZE) {
      this.maxSize = maxDeflateTableSize;
      this.sizeChangePending = true;
    } else {
      this.maxSize = DEFAULT_HEADER_TABLE_SIZE;
      this.sizeChangePending = false;
    }
    const policies = strategy === STRATEGY_NGHTTP2 ? NGHTTP2_POLICIES : null;
    for (const [name, index] of STATIC_NAME_INDEX) {
      const m = STATIC_MATCHES.get(name)!;
      const info = new NameInfo(index, m.values, m.empty, policies?.get(name) ?? POLICY_INDEX, true);
      this.names[name] = info;
    }
  }

  /**
   * Applies a new SETTINGS_HEADER_TABLE_SIZE from the peer: the maximum
   * becomes min(settings, own limit), entries are evicted to fit, and the
   * next block starts with the dynamic table size update(s) RFC 7541 §4.2
   * asks for (the smallest maximum since the last block when lower, then
   * the final one).
   */
  changeTableSize(settingsMaxSize: number): void {
    checkSize(settingsMaxSize, 'settingsMaxSize');
    this.version++;
    const next = Math.min(settingsMaxSize, this.deflateLimit);
    this.maxSize = next;
    this.minSizeSinceBlock = Math.min(this.minSizeSinceBlock, next);
    this.sizeChangePending = true;
    this.evictTo(next);
    this.boundIdleNames();
  }

  /**
   * Encodes one header block. Input is checked before anything changes, so
   * an ENCODER_INPUT error leaves the encoder as it was. The returned octets
   * must not be modified. A frozen list whose fields are frozen pairs may
   * get the same block (the same object) as the last time it was encoded,
   * when the table has not changed since.
   */
  deflate(headers: readonly HeaderInput[]): Uint8Array {
    // Only frozen lists are memoized, and a frozen list stays as it was: no need to ask
    // Object.isFrozen() (a call into the runtime) before the lookup.
    if (this.memoized) {
      const memo = this.memo.get(headers);
      if (memo !== undefined && memo.version === this.version) {
        this.octetsIn = memo.octetsIn;
        return memo.block;
      }
    }
    for (let i = 0; i < headers.length; i++) {
      const f = headers[i]!;
      const n = f[0];
      const v = f[1];
      if ((typeof n !== 'string' && !(n instanceof Uint8Array)) || (typeof v !== 'string' && !(v instanceof Uint8Array))) {
        throw new HpackError('ENCODER_INPUT', i, `header field ${i}: name and value must be strings or Uint8Arrays`);
      }
    }
    this.blockStart = this.bufPos;
    this.octetsIn = 0;
    let pos = this.blockStart;
    const version = this.version;
    if (this.sizeChangePending) {
      this.version++;
      pos = this.ensure(pos, 12);
      const min = this.minSizeSinceBlock;
      this.sizeChangePending = false;
      this.minSizeSinceBlock = Infinity;
      if (this.maxSize > min) pos = encodeInteger(this.buf, pos, min, 5, 0x20);
      pos = encodeInteger(this.buf, pos, this.maxSize, 5, 0x20);
    }
    const strategy = this.strategy;
    for (let i = 0; i < headers.length; i++) {
      const field = headers[i]!;
      const sensitive = field.length > 2 && field[2]?.sensitive === true;
      if (strategy === STRATEGY_NGHTTP2) {
        pos = this.fieldNghttp2(pos, field[0], field[1], sensitive);
        continue;
      }
      const name = toOctets(field[0]);
      const value = toOctets(field[1]);
      this.octetsIn += name.length + value.length;
      pos = this.ensure(pos, 24 + 4 * (name.length + value.length));
      if (strategy === STRATEGY_LINEAR) pos = this.fieldLinear(pos, name, value, sensitive);
      else if (strategy === STRATEGY_STATIC) pos = this.fieldStatic(pos, name, value, sensitive);
      else pos = this.literal(pos, sensitive ? LITERAL_NEVER : LITERAL_WITHOUT, 4, 0, name, value);
    }
    // A view made by the constructor: subarray() looks up the species constructor, which costs twice as much.
    const block = new Uint8Array(this.arena, this.blockStart, pos - this.blockStart);
    this.bufPos = pos;
    if (this.version === version && Object.isFrozen(headers) && frozenPairs(headers)) {
      // Its own copy: a view would keep the whole arena alive.
      const own = block.slice();
      this.memo.set(headers, { version, block: own, octetsIn: this.octetsIn });
      this.memoized = true;
      return own;
    }
    return block;
  }

  /**
   * The dynamic table now, newest entry first. Names and values are UTF-8
   * text ('utf8', with U+FFFD for octets that are not UTF-8) or octet strings ('latin1').
   */
  getTable(encoding: 'utf8' | 'latin1' = 'utf8'): TableSnapshot {
    return this.table.snapshot(this.maxSize, encoding);
  }

  /** Octets of the names and values of the last block encoded (nghttp2's deflatehd input_length). */
  get inputOctets(): number {
    return this.octetsIn;
  }

  /** Sum of the entry sizes. */
  get tableSize(): number {
    return this.table.size;
  }

  /** The table's current maximum size. */
  get maxTableSize(): number {
    return this.maxSize;
  }

  // ---- strategies ---------------------------------------------------------

  /**
   * One field the nghttp2 way. Text input must become octets (UTF-8) before
   * lengths are compared or tables searched, but checking every string for
   * non-ASCII chars costs a fifth of the encoder's time. So: a table hit on a
   * key known to be ASCII proves the text is ASCII, and a literal value is
   * checked in the pass that counts its Huffman length anyway.
   */
  private fieldNghttp2(pos: number, rawName: string | Uint8Array, rawValue: string | Uint8Array, sensitive: boolean): number {
    let name: string;
    let info: NameInfo | undefined;
    if (typeof rawName === 'string') {
      // Static and dynamic names alike by `names`: a name string is usually a constant, or one the
      // caller hands again (deflatehd's name cache), whose hash V8 keeps in the string, so the
      // lookup costs less than a switch on its chars (13% fewer instructions in deflatehd).
      info = this.names[rawName];
      if (info !== undefined && info.ascii === true) {
        name = rawName;
      } else {
        name = toOctets(rawName);
        if (name !== rawName) info = this.names[name];
      }
    } else {
      // Bytes: a static name is found without making its string first.
      const k = staticNameIndex(rawName, 0, rawName.length);
      name = k !== 0 ? STATIC_ENTRIES[k - 1]![0] : toOctets(rawName);
      info = this.names[name];
    }

    // `value` is its octet string, except text not yet known to be ASCII
    // (valueChecked false), which is checked as it is encoded.
    let value: string | undefined;
    let valueChecked = true;
    let valueAscii = true;
    let exact: Entry | undefined;
    let staticExact: number | undefined;
    if (typeof rawValue === 'string') {
      if (info !== undefined) {
        exact = this.exactMatch(info, rawValue);
        if (exact !== undefined && exact.valueAscii === true) {
          value = rawValue;
        } else {
          exact = undefined;
          staticExact = staticMatch(info, rawValue);
          if (staticExact !== undefined) value = rawValue; // static values are ASCII
        }
      }
      if (value === undefined) {
        value = rawValue;
        valueChecked = false;
      }
    } else {
      value = toOctets(rawValue);
      valueAscii = isAscii(value);
      if (info !== undefined) {
        exact = this.exactMatch(info, value);
        staticExact = staticMatch(info, value);
      }
    }

    if (valueChecked) this.octetsIn += name.length + value.length;
    const policy = info === undefined ? POLICY_INDEX : info.policy;
    const never = sensitive === true || policy === POLICY_NEVER || (policy === POLICY_COOKIE && value.length < 20);
    if (!never && (exact !== undefined || staticExact !== undefined)) {
      // Indexed (§6.1). Integers that fit their prefix are written here: encodeInteger() is not
      // inlined into this large function, and a call per field cost 4% of the encoder's instructions.
      const index = exact !== undefined ? this.indexOf(exact) : staticExact!;
      pos = this.ensure(pos, 6);
      if (index < 0x7f) {
        this.buf[pos] = 0x80 | index;
        return pos + 1;
      }
      return encodeInteger(this.buf, pos, index, 7, 0x80);
    }
    pos = this.ensure(pos, 24 + 4 * (name.length + value.length));
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    const literal = never
      ? LITERAL_NEVER // matches names only
      : policy === POLICY_WITHOUT || entrySize > Math.floor((this.maxSize * 3) / 4)
        ? LITERAL_WITHOUT
        : LITERAL_INCREMENTAL;
    const nameIndex = info === undefined ? 0 : info.staticIndex !== 0 ? info.staticIndex : info.newest !== null ? this.indexOf(info.newest) : 0;
    const fieldStart = pos;
    const prefixMax = literal === LITERAL_INCREMENTAL ? 0x3f : 0x0f;
    const buf = this.buf;
    if (nameIndex < prefixMax) {
      buf[pos++] = literal | nameIndex;
    } else if (nameIndex - prefixMax < 0x80) {
      // A second octet: static names from index 15 on after a 4-bit prefix (`etag`, `content-length`),
      // dynamic ones after a 6-bit prefix.
      buf[pos] = literal | prefixMax;
      buf[pos + 1] = nameIndex - prefixMax;
      pos += 2;
    } else {
      pos = encodeInteger(buf, pos, nameIndex, literal === LITERAL_INCREMENTAL ? 6 : 4, literal);
    }
    if (nameIndex === 0) pos = this.string(pos, name, false);
    pos = this.string(pos, value, !valueChecked);
    if (pos >= 0 && !valueChecked) this.octetsIn += name.length + value.length;
    if (pos < 0) {
      // Not ASCII after all: start the field again with its UTF-8 octets.
      return this.fieldNghttp2(fieldStart, rawName, utf8Encoder.encode(rawValue as string), sensitive);
    }
    if (literal === LITERAL_INCREMENTAL) this.insert(name, value, valueAscii, entrySize, info);
    return pos;
  }

  /** Linear search, indexing every field that fits in the table. */
  private fieldLinear(pos: number, name: string, value: string, sensitive: boolean): number {
    const info = this.names[name];
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    let nameIndex = 0;
    if (info !== undefined) {
      if (!sensitive) {
        const s = staticMatch(info, value);
        if (s !== undefined) return encodeInteger(this.buf, pos, s, 7, 0x80);
        const exact = this.exactMatch(info, value);
        if (exact !== undefined) return encodeInteger(this.buf, pos, this.indexOf(exact), 7, 0x80);
      }
      nameIndex = info.staticIndex !== 0 ? info.staticIndex : info.newest !== null ? this.indexOf(info.newest) : 0;
    }
    if (sensitive) return this.literal(pos, LITERAL_NEVER, 4, nameIndex, name, value);
    if (entrySize > this.maxSize) return this.literal(pos, LITERAL_WITHOUT, 4, nameIndex, name, value);
    this.insert(name, value, isAscii(value), entrySize, info);
    return this.literal(pos, LITERAL_INCREMENTAL, 6, nameIndex, name, value);
  }

  /** The static table only. */
  private fieldStatic(pos: number, name: string, value: string, sensitive: boolean): number {
    const info = this.names[name];
    let nameIndex = 0;
    if (info !== undefined && info.staticIndex !== 0) {
      if (!sensitive) {
        const s = staticMatch(info, value);
        if (s !== undefined) return encodeInteger(this.buf, pos, s, 7, 0x80);
      }
      nameIndex = info.staticIndex;
    }
    return this.literal(pos, sensitive ? LITERAL_NEVER : LITERAL_WITHOUT, 4, nameIndex, name, value);
  }

  // ---- representations ---------------------------------------------------

  /** A literal header field (§6.2) with octet strings. */
  private literal(pos: number, first: number, prefix: number, nameIndex: number, name: string, value: string): number {
    pos = encodeInteger(this.buf, pos, nameIndex, prefix, first);
    if (nameIndex === 0) pos = this.string(pos, name, false);
    return this.string(pos, value, false);
  }

  /**
   * A string literal (§5.2), Huffman-coded when that is shorter (or as the
   * mode says). Encodes first and measures after, so that a string takes one
   * pass in the common case. With `checkAscii`, returns -1 if `s` has a char
   * >= 0x80 (it is then text whose UTF-8 octets must be encoded instead).
   */
  private string(pos: number, s: string, checkAscii: boolean): number {
    const buf = this.buf;
    const n = s.length;
    if (n < 0x7f && this.huffman === HUFFMAN_AUTO) {
      // The common case, with constants: under 127 octets, and coded only when shorter, the string
      // has a one-octet length prefix either way (no prefix sizes to work out, no code to move).
      const end = checkAscii === true ? huffmanEncodeAscii(s, buf, pos + 1) : huffmanEncode(s, buf, pos + 1);
      if (end < 0) return -1;
      const hlen = end - pos - 1;
      if (hlen < n) {
        buf[pos] = 0x80 | hlen;
        return end;
      }
    } else if (this.huffman !== HUFFMAN_NEVER) {
      const prefix = n < 127 ? 1 : integerLength(n, 7);
      const start = pos + prefix;
      const end = checkAscii === true ? huffmanEncodeAscii(s, buf, start) : huffmanEncode(s, buf, start);
      if (end < 0) return -1;
      const hlen = end - start;
      if (hlen < n || this.huffman === HUFFMAN_ALWAYS) {
        const hprefix = hlen < 127 ? 1 : integerLength(hlen, 7);
        if (hprefix !== prefix) buf.copyWithin(pos + hprefix, start, end);
        if (hlen < 0x7f) buf[pos] = 0x80 | hlen;
        else encodeInteger(buf, pos, hlen, 7, 0x80);
        return pos + hprefix + hlen;
      }
    } else if (checkAscii === true && !isAscii(s)) {
      return -1;
    }
    if (n < 0x7f) buf[pos++] = n;
    else pos = encodeInteger(buf, pos, n, 7, 0);
    for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i);
    return pos;
  }

  // ---- dynamic table -----------------------------------------------------

  /** The newest entry with this name and value. */
  private exactMatch(info: NameInfo, value: string): Entry | undefined {
    if (info.byValue !== null) return info.byValue.get(value);
    let e = info.newest;
    if (e === null) return undefined;
    const tag = valueTag(value);
    for (; e !== null; e = e.older) if (e.tag === tag && e.value === value) return e;
    return undefined;
  }

  private indexOf(e: Entry): number {
    return STATIC_TABLE_LENGTH + 1 + this.nextSeq - e.seq;
  }

  /** Adds an entry, evicting the oldest ones to make room (§4.4). */
  private insert(name: string, value: string, valueAscii: boolean, entrySize: number, info: NameInfo | undefined): void {
    this.version++;
    this.evictTo(this.maxSize - entrySize);
    if (entrySize > this.maxSize) {
      this.boundIdleNames();
      return; // §4.4: an entry larger than the table empties it
    }
    if (info === undefined) {
      info = new NameInfo(0, null, 0, POLICY_INDEX, isAscii(name));
      this.names[name] = info;
    } else if (info.count === 0 && info.staticIndex === 0) {
      this.idleNames--; // mapped, without entries until now
      this.idleOctets -= name.length;
    }
    const e = new Entry(name, value, valueAscii, entrySize, ++this.nextSeq, info, valueTag(value));
    this.table.push(e);
    e.older = info.newest;
    if (info.newest !== null) info.newest.newer = e;
    info.newest = e;
    info.count++;
    if (info.byValue !== null) {
      info.byValue.set(value, e);
    } else if (info.count > CHAIN_WALK_LIMIT) {
      // Oldest first, so that the newest entry with a value wins.
      const m = new Map<string, Entry>();
      let o = e;
      while (o.older !== null) o = o.older;
      for (let x: Entry | null = o; x !== null; x = x.newer) m.set(x.value, x);
      info.byValue = m;
    }
    this.boundIdleNames();
  }

  /** Evicts the oldest entries until the table size is at most `limit`. */
  private evictTo(limit: number): void {
    const table = this.table;
    while (table.size > limit && table.count > 0) {
      const e = table.shift();
      const info = e.info;
      // Eviction is oldest first, so `e` is the last of its name's chain: unlink it.
      if (e.newer !== null) e.newer.older = null;
      e.newer = null;
      if (info.byValue !== null) {
        if (info.byValue.get(e.value) === e) info.byValue.delete(e.value);
        if (info.count <= CHAIN_WALK_LIMIT / 2 + 1) info.byValue = null; // a short chain again
      }
      if (--info.count === 0) {
        info.newest = null;
        if (info.staticIndex === 0) {
          // The name stays mapped, without entries: names come back (a 4 KiB table evicts them
          // block after block), and unmapping and mapping them again cost more than the lookup.
          this.idleNames++;
          this.idleOctets += e.name.length;
        }
      }
    }
  }

  /**
   * Past the bounds, unmaps every name that has neither static nor dynamic entries. Called when no
   * caller holds an idle name's info that it is about to give an entry (not from evictTo, which
   * runs in the middle of an insertion).
   */
  private boundIdleNames(): void {
    if (this.idleNames <= IDLE_NAMES_MAX && this.idleOctets <= IDLE_OCTETS_MAX) return;
    const names = this.names;
    for (const name in names) {
      const info = names[name]!;
      if (info.count === 0 && info.staticIndex === 0) delete names[name];
    }
    this.idleNames = 0;
    this.idleOctets = 0;
  }

  /**
   * Makes room for `n` more octets after `pos`; when the arena is full the
   * block so far moves to the start of a new one. Returns the (new) `pos`.
   */
  private ensure(pos: number, n: number): number {
    if (this.buf.length - pos >= n) return pos;
    const used = pos - this.blockStart;
    const next = new Uint8Array(Math.max(Math.min(ARENA_SIZE, Math.max(FIRST_ARENA, this.buf.length * 2)), 2 * (used + n)));
    next.set(this.buf.subarray(this.blockStart, pos));
    this.buf = next;
    this.arena = next.buffer;
    this.blockStart = 0;
    return used;
  }
}

/** Every field is a frozen [name, value] with string names and values: the list cannot change. */
function frozenPairs(headers: readonly HeaderInput[]): boolean {
  for (let i = 0; i < headers.length; i++) {
    const f = headers[i]!;
    if (f.length !== 2 || !Object.isFrozen(f) || typeof f[0] !== 'string' || typeof f[1] !== 'string') return false;
  }
  return true;
}

/**
 * A char of a value that tells apart most values of the same length (dates differ in the last digit
 * of the seconds, ids and paths near their end), compared before the strings in a name's chain.
 */
function valueTag(s: string): number {
  const n = s.length;
  return n > 4 ? s.charCodeAt(n - 5) : n > 0 ? s.charCodeAt(n - 1) : 0;
}

/** Index of the static entry with this name and value, or undefined. */
function staticMatch(info: NameInfo, value: string): number | undefined {
  if (value.length === 0) return info.staticEmpty !== 0 ? info.staticEmpty : undefined;
  const values = info.staticValues;
  if (values === null) return undefined;
  for (let i = 0; i < values.length; i++) if (values[i]![0] === value) return values[i]![1];
  return undefined;
}

function checkSize(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`${what} must be an integer from 0 to 2^32-1, got ${n}`);
  }
}
