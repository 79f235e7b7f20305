/**
 * HPACK decoder (RFC 7541 §3, §6), strict: every malformed block is rejected
 * with an HpackError that names the problem and its byte offset.
 *
 * Memory is bounded by what a block can hold: a string's length is checked
 * against the octets left in the block before anything is allocated, a
 * Huffman string decodes to at most 8/5 of its length, and the decoded
 * header list is capped by maxHeaderListSize (name + value + 32 per field,
 * as in RFC 9113 §6.5.2).
 *
 * After a decoding error the dynamic table may hold part of the failed
 * block, so the inflater refuses further blocks (CONTEXT_BROKEN), as an
 * HTTP/2 connection would end with COMPRESSION_ERROR. Two errors leave the
 * context intact: HEADER_LIST_TOO_LARGE (the block is still decoded to the
 * end, so the table stays in sync, but no list is returned) and INVALID_UTF8
 * (from inflate() only).
 */

import { FieldRing } from './dynamic-table.js';
import { HpackError, type HpackErrorCode } from './errors.js';
import { decodedAscii, huffmanDecode as huffmanDecodeImport, huffmanMaxDecodedLength } from './huffman.js';
import { MAX_CONTINUATION_OCTETS, MAX_INTEGER } from './integer.js';
import {
  bytesToOctets as bytesToOctetsImport,
  bytesToText,
  isAscii,
  mediumOctets as mediumOctetsImport,
  octetsToBytes,
  octetsToText,
  textToOctets,
} from './octets.js';
import { staticNameIndex as staticNameIndexImport } from './static-names.js';
import { ENTRY_OVERHEAD as ENTRY_OVERHEAD_IMPORT, STATIC_ENTRIES, STATIC_TABLE_LENGTH as STATIC_TABLE_LENGTH_IMPORT } from './static-table.js';
import { DEFAULT_HEADER_TABLE_SIZE, DEFAULT_MAX_HEADER_LIST_SIZE, type TableSnapshot } from './types.js';

export interface InflaterOptions {
  /** Cap on the decoded header list (name + value + 32 per field); default 64 KiB. */
  maxHeaderListSize?: number;
  /**
   * Our SETTINGS_HEADER_TABLE_SIZE (default 4096). A value below 4096 is a
   * lowered maximum: the first block must then start with a dynamic table
   * size update no larger than it (RFC 7541 §4.2).
   */
  maxTableSize?: number;
  /**
   * inflateLatin1() returns, for an indexed field (RFC 7541 §6.1), the same
   * frozen [name, value] pair each time the entry is referenced, instead of
   * a new pair: a server or client that decodes the same fields on every
   * request allocates nothing for them. The pairs must then not be changed.
   * Default false.
   */
  sharedPairs?: boolean;
}

/** The kinds of representation (RFC 7541 §6). */
export type RepresentationKind = 'indexed' | 'literal-incremental' | 'literal-without-indexing' | 'literal-never-indexed' | 'size-update';

/** One representation of a block, as inflateTrace() reports it. */
export interface TraceItem {
  /** Byte offset of its first octet in the block. */
  offset: number;
  /** Its length in octets. */
  length: number;
  kind: RepresentationKind;
  /** The index used: the field's for 'indexed', the name's for a literal with an indexed name. */
  index?: number;
  nameHuffman?: boolean;
  valueHuffman?: boolean;
  /** Octet strings (one char per octet). */
  name?: string;
  value?: string;
  /** The new maximum, for 'size-update'. */
  size?: number;
  /** Entries evicted by this representation. */
  evicted?: number;
  /** True when the field was added to the dynamic table. */
  inserted?: boolean;
}

// Imported bindings are live: optimized code loads one from its module's cell, and checks it, at
// every use (decodedAscii must stay one: it changes). The ones used per field are copied into
// constants of this module, which V8 embeds.
const ENTRY_OVERHEAD = ENTRY_OVERHEAD_IMPORT;
const STATIC_TABLE_LENGTH = STATIC_TABLE_LENGTH_IMPORT;
const huffmanDecode = huffmanDecodeImport;
const bytesToOctets = bytesToOctetsImport;
const mediumOctets = mediumOctetsImport;
const staticNameIndex = staticNameIndexImport;

/** The static table as parallel arrays, by HPACK index - 1. */
const STATIC_NAMES: readonly string[] = STATIC_ENTRIES.map(([n]) => n);
const STATIC_VALUES: readonly string[] = STATIC_ENTRIES.map(([, v]) => v);
const STATIC_PAIRS: ReadonlyArray<readonly [string, string]> = STATIC_ENTRIES.map(([n, v]) => Object.freeze([n, v] as const));

const MODE_TEXT = 0;
const MODE_LATIN1 = 1;
const MODE_RAW = 2;

/** inflateShared() remembers blocks up to this many octets. */
const MEMO_MAX_BLOCK = 128;

export class Inflater {
  private readonly maxHeaderListSize: number;
  private readonly sharedPairs: boolean;
  /** Our SETTINGS_HEADER_TABLE_SIZE: the largest size update allowed. */
  private settingsMax = DEFAULT_HEADER_TABLE_SIZE;
  /** The table's maximum size as last signalled by the encoder. */
  private maxSize = DEFAULT_HEADER_TABLE_SIZE;
  /** Set when SETTINGS lowered the maximum: the next block must signal at most this. */
  private requiredUpdate = Infinity;
  private broken = false;

  private readonly table = new FieldRing();

  private scratch = new Uint8Array(256);
  // State of the block being decoded.
  private block: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private strHuffman = false;
  private strAscii = false;
  /** For a string that is not ASCII, read with `text`: its UTF-8 text, or null when not UTF-8. */
  private strText: string | null = null;
  /** Bumped whenever the dynamic table changes (an entry in or out, a new maximum). */
  private changes = 0;
  /** inflateShared(): the last block that left the table unchanged, the table's changes then, and its list. */
  private lastBlock = new Uint8Array(MEMO_MAX_BLOCK);
  private lastLength = -1;
  private lastChanges = -1;
  private lastList: Array<[string, string]> = [];
  private lastOctets = 0;
  /** Octets of the names and values of the last block decoded (see decodedOctets). */
  private octets = 0;

  constructor(options: InflaterOptions = {}) {
    const limit = options.maxHeaderListSize ?? DEFAULT_MAX_HEADER_LIST_SIZE;
    if (!(limit >= 0)) throw new RangeError(`maxHeaderListSize must be >= 0, got ${limit}`);
    this.maxHeaderListSize = limit;
    this.sharedPairs = options.sharedPairs === true;
    if (options.maxTableSize !== undefined) this.changeTableSize(options.maxTableSize);
  }

  /**
   * Applies our SETTINGS_HEADER_TABLE_SIZE once the peer has acknowledged it.
   * Lowering it below the current maximum shrinks the table now and requires
   * the next block to start with a size update no larger than the lowest
   * value set since the last block (RFC 7541 §4.2).
   */
  changeTableSize(settingsMaxSize: number): void {
    if (!Number.isInteger(settingsMaxSize) || settingsMaxSize < 0 || settingsMaxSize > MAX_INTEGER) {
      throw new RangeError(`settingsMaxSize must be an integer from 0 to 2^32-1, got ${settingsMaxSize}`);
    }
    this.settingsMax = settingsMaxSize;
    this.changes++;
    if (settingsMaxSize < this.maxSize) {
      this.maxSize = settingsMaxSize;
      this.requiredUpdate = Math.min(this.requiredUpdate, settingsMaxSize);
      this.evictTo(settingsMaxSize);
    }
  }

  /** Decodes one header block to text (UTF-8); a name or value that is not UTF-8 is an INVALID_UTF8 error. */
  inflate(block: Uint8Array): Array<[string, string]> {
    return this.run(block, MODE_TEXT, null) as Array<[string, string]>;
  }

  /** Decodes one header block to octet strings (one char per octet, 0..255): lossless, and the fastest. */
  inflateLatin1(block: Uint8Array): Array<[string, string]> {
    return this.run(block, MODE_LATIN1, null) as Array<[string, string]>;
  }

  /**
   * inflateLatin1() for a decoder with `sharedPairs`, remembering the last
   * block that left the table unchanged (indexed fields and literals without
   * indexing): the same block again, octet for octet, with the table still
   * unchanged, decodes to the same fields, and gets the same list object
   * without being decoded again (a client repeating its requests, a server
   * its responses). The pairs of such a block are frozen. The list must not
   * be changed.
   */
  inflateShared(block: Uint8Array): ReadonlyArray<readonly [string, string]> {
    const n = block.length;
    if (n === this.lastLength && this.changes === this.lastChanges && !this.broken) {
      const last = this.lastBlock;
      let i = 0;
      while (i < n && block[i] === last[i]) i++;
      if (i === n) {
        this.octets = this.lastOctets;
        return this.lastList;
      }
    }
    const before = this.changes;
    const list = this.run(block, MODE_LATIN1, null) as Array<[string, string]>;
    if (this.changes === before && n <= MEMO_MAX_BLOCK && this.sharedPairs) {
      // Its pairs may be handed out again: frozen from the first use, as the table's shared pairs are
      // (a change made by the first user would reach the next). The list is not frozen (V8 reads and
      // slices a frozen array more slowly); it is the caller's to leave alone.
      for (let k = 0; k < list.length; k++) Object.freeze(list[k]);
      this.lastBlock.set(block);
      this.lastLength = n;
      this.lastChanges = before;
      this.lastList = list;
      this.lastOctets = this.octets;
    } else {
      this.lastLength = -1;
    }
    return list;
  }

  /** Decodes one header block to the octets of each name and value. */
  inflateRaw(block: Uint8Array): Array<[Uint8Array, Uint8Array]> {
    return this.run(block, MODE_RAW, null) as Array<[Uint8Array, Uint8Array]>;
  }

  /** Decodes one header block (octet strings, as inflateLatin1) and describes each representation. */
  inflateTrace(block: Uint8Array): { headers: Array<[string, string]>; trace: TraceItem[] } {
    const trace: TraceItem[] = [];
    const headers = this.run(block, MODE_LATIN1, trace) as Array<[string, string]>;
    return { headers, trace };
  }

  /**
   * The dynamic table now, newest entry first. Names and values are UTF-8
   * text ('utf8', with U+FFFD for octets that are not UTF-8) or octet strings ('latin1').
   */
  getTable(encoding: 'utf8' | 'latin1' = 'utf8'): TableSnapshot {
    return this.table.snapshot(this.maxSize, encoding);
  }

  /** Octets of the names and values the last block decoded to (RFC 7541 §4.1 sizes less 32 per field), when it decoded. */
  get decodedOctets(): number {
    return this.octets;
  }

  /** Sum of the entry sizes. */
  get tableSize(): number {
    return this.table.size;
  }

  /** The table's current maximum size. */
  get maxTableSize(): number {
    return this.maxSize;
  }

  /** Our SETTINGS_HEADER_TABLE_SIZE. */
  get settingsTableSize(): number {
    return this.settingsMax;
  }

  /** False once a decoding error has made the dynamic table untrustworthy. */
  get usable(): boolean {
    return !this.broken;
  }

  // ---- the decoder -------------------------------------------------------

  private run(block: Uint8Array, mode: number, trace: TraceItem[] | null): unknown[] {
    if (this.broken) {
      throw new HpackError('CONTEXT_BROKEN', 0, 'an earlier header block failed to decode; the dynamic table is no longer in sync');
    }
    this.broken = true; // until the block has been decoded to the end
    this.block = block;
    this.pos = 0;
    const end = block.length;
    const out: unknown[] = [];
    let listSize = 0;
    let listTooLarge = -1;
    let badText = -1;
    let badFields: number[] | null = null;
    let fields = 0;

    while (this.pos < end) {
      const start = this.pos;
      const b = block[start]!;
      if ((b & 0xe0) === 0x20) {
        // Dynamic table size update (§6.3): only before the first field (§4.2).
        if (fields > 0) {
          this.fail('SIZE_UPDATE_NOT_AT_START', start, `dynamic table size update after a header field (byte ${start})`);
        }
        const v = this.readInteger(0x1f, start);
        if (v > this.settingsMax) {
          this.fail('SIZE_UPDATE_TOO_LARGE', start, `dynamic table size update to ${v} exceeds SETTINGS_HEADER_TABLE_SIZE ${this.settingsMax} (byte ${start})`);
        }
        if (this.requiredUpdate !== Infinity) {
          if (v > this.requiredUpdate) {
            this.fail(
              'SIZE_UPDATE_MISSING',
              start,
              `dynamic table size update to ${v}, but the maximum was lowered to ${this.requiredUpdate} and must be signalled first (byte ${start})`,
            );
          }
          this.requiredUpdate = Infinity;
        }
        this.maxSize = v;
        this.changes++;
        const before = this.table.count;
        this.evictTo(v);
        if (trace) trace.push({ offset: start, length: this.pos - start, kind: 'size-update', size: v, evicted: before - this.table.count });
        continue;
      }
      if (this.requiredUpdate !== Infinity) this.missingUpdate(start);
      fields++;

      let name: string;
      let value: string;
      let nameText: string | null | undefined;
      let valueText: string | null | undefined;
      /** The shared pair of an indexed field (sharedPairs, MODE_LATIN1). */
      let pair: readonly [string, string] | undefined;
      if ((b & 0x80) !== 0) {
        // Indexed header field (§6.1).
        // One-octet integers (most) without the call.
        let index = b & 0x7f;
        if (index === 0x7f) index = this.readInteger(0x7f, start);
        else this.pos = start + 1;
        if (index === 0) this.fail('INDEX_ZERO', start, `indexed header field with index 0 (byte ${start})`);
        if (index <= STATIC_TABLE_LENGTH) {
          name = nameText = STATIC_NAMES[index - 1]!;
          value = valueText = STATIC_VALUES[index - 1]!;
          if (this.sharedPairs) pair = STATIC_PAIRS[index - 1];
        } else {
          const t = this.table;
          const k = this.slotAt(index, start);
          name = t.names[k]!;
          value = t.values[k]!;
          if (this.sharedPairs && mode === MODE_LATIN1) pair = t.pairs[k] ??= Object.freeze([name, value] as const);
          if (mode === MODE_TEXT) {
            const ascii = t.ascii[k]!;
            if ((ascii & 1) !== 0) nameText = name;
            else if ((nameText = t.nameTexts[k]) === undefined) nameText = t.nameTexts[k] = octetsToText(name);
            if ((ascii & 2) !== 0) valueText = value;
            else if ((valueText = t.valueTexts[k]) === undefined) valueText = t.valueTexts[k] = octetsToText(value);
          }
        }
        if (trace) trace.push({ offset: start, length: this.pos - start, kind: 'indexed', index, name, value });
      } else {
        // Literal header field (§6.2): with incremental indexing (01), never indexed (0001), without indexing (0000).
        const incremental = (b & 0x40) !== 0;
        const mask = incremental ? 0x3f : 0x0f;
        let nameIndex = b & mask;
        if (nameIndex === mask) nameIndex = this.readInteger(mask, start);
        else this.pos = start + 1;
        // The slot of a dynamic-table name, -1 otherwise.
        let nameSlot = -1;
        let nameHuffman = false;
        let nameAscii: boolean;
        if (nameIndex !== 0 && nameIndex <= STATIC_TABLE_LENGTH) {
          name = STATIC_NAMES[nameIndex - 1]!;
          nameAscii = true;
        } else if (nameIndex !== 0) {
          nameSlot = this.slotAt(nameIndex, start);
          name = this.table.names[nameSlot]!;
          nameAscii = (this.table.ascii[nameSlot]! & 1) !== 0;
        } else {
          name = this.readString(start, mode === MODE_TEXT, true);
          nameHuffman = this.strHuffman;
          nameAscii = this.strAscii;
          if (!nameAscii) nameText = this.strText;
        }
        value = this.readString(start, mode === MODE_TEXT, false);
        const valueAscii = this.strAscii;
        if (mode === MODE_TEXT) {
          if (nameAscii) nameText = name;
          else if (nameSlot >= 0) {
            nameText = this.table.nameTexts[nameSlot];
            if (nameText === undefined) nameText = this.table.nameTexts[nameSlot] = octetsToText(name);
          }
          valueText = valueAscii ? value : this.strText;
        }
        let evicted = 0;
        if (incremental) {
          const before = this.table.count;
          // Texts are known here only when decoding to text (strText is not kept up to date otherwise).
          const text = mode === MODE_TEXT;
          const k = this.insert(name, value, (nameAscii ? 1 : 0) | (valueAscii ? 2 : 0), text ? nameText : undefined, text ? valueText : undefined);
          evicted = before + (k >= 0 ? 1 : 0) - this.table.count;
        }
        if (trace) {
          const item: TraceItem = {
            offset: start,
            length: this.pos - start,
            kind: incremental ? 'literal-incremental' : (b & 0x10) !== 0 ? 'literal-never-indexed' : 'literal-without-indexing',
          };
          if (nameIndex !== 0) item.index = nameIndex;
          else item.nameHuffman = nameHuffman;
          item.valueHuffman = this.strHuffman;
          item.name = name;
          item.value = value;
          if (incremental) {
            item.inserted = name.length + value.length + ENTRY_OVERHEAD <= this.maxSize;
            item.evicted = evicted;
          }
          trace.push(item);
        }
      }

      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.maxHeaderListSize) {
        // Keep decoding so that the table stays in sync, but stop collecting.
        if (listTooLarge < 0) listTooLarge = start;
        continue;
      }
      if (mode === MODE_TEXT) {
        if (nameText === null || valueText === null) {
          // Keep the octets; the error at the end returns the block as octets.
          if (badText < 0) badText = start;
          (badFields ??= []).push(out.length);
          out.push([name, value]);
        } else {
          out.push([nameText, valueText]);
        }
      } else if (mode === MODE_LATIN1) {
        out.push(pair ?? [name, value]);
      } else {
        out.push([octetsToBytes(name), octetsToBytes(value)]);
      }
    }
    if (this.requiredUpdate !== Infinity) this.missingUpdate(end);

    this.broken = false;
    this.block = EMPTY;
    this.octets = listSize - ENTRY_OVERHEAD * fields;
    if (listTooLarge >= 0) {
      throw new HpackError(
        'HEADER_LIST_TOO_LARGE',
        listTooLarge,
        `decoded header list exceeds ${this.maxHeaderListSize} octets (name + value + 32 per field) at the field at byte ${listTooLarge}`,
      );
    }
    if (badText >= 0) {
      const bad = new Set(badFields);
      const octets = (out as Array<[string, string]>).map((f, i): [string, string] => (bad.has(i) ? f : [textToOctets(f[0]), textToOctets(f[1])]));
      throw new HpackError(
        'INVALID_UTF8',
        badText,
        `header field at byte ${badText} is not valid UTF-8 (error.headers has the block as octets; inflateRaw and inflateLatin1 return octets)`,
        octets,
      );
    }
    return out;
  }

  private missingUpdate(at: number): never {
    return this.fail(
      'SIZE_UPDATE_MISSING',
      at,
      `the maximum table size was lowered to ${this.requiredUpdate}, but the block does not start with a dynamic table size update (byte ${at})`,
    );
  }

  private fail(code: HpackErrorCode, offset: number, message: string): never {
    throw new HpackError(code, offset, message);
  }

  /** Reads a prefix integer (§5.1) whose first octet is at this.pos. */
  private readInteger(mask: number, start: number): number {
    const block = this.block;
    let pos = this.pos;
    let v = block[pos++]! & mask;
    if (v < mask) {
      this.pos = pos;
      return v;
    }
    const first = pos - 1;
    let shift = 1;
    for (let k = 0; ; k++) {
      if (pos >= block.length) {
        this.fail('TRUNCATED', start, `block ends inside an integer that starts at byte ${first}`);
      }
      if (k === MAX_CONTINUATION_OCTETS) {
        this.fail('INTEGER_TOO_LONG', first, `integer at byte ${first} has more than ${MAX_CONTINUATION_OCTETS} continuation octets`);
      }
      const c = block[pos++]!;
      v += (c & 0x7f) * shift;
      if (v > MAX_INTEGER) {
        this.fail('INTEGER_OVERFLOW', first, `integer at byte ${first} exceeds 2^32-1`);
      }
      if ((c & 0x80) === 0) {
        this.pos = pos;
        return v;
      }
      shift *= 128;
    }
  }

  /**
   * Reads a string literal (§5.2) at this.pos; sets strHuffman and strAscii,
   * and with `text`, for a string that is not ASCII, strText (its UTF-8 text
   * decoded from the octets directly). With `isName`, a static-table name
   * is found from its octets and its string reused instead of made again.
   */
  private readString(fieldStart: number, text: boolean, isName: boolean): string {
    const block = this.block;
    const at = this.pos;
    if (at >= block.length) {
      this.fail('TRUNCATED', fieldStart, `block ends before the string of the field at byte ${fieldStart}`);
    }
    const huffman = (block[at]! & 0x80) !== 0;
    let len = block[at]! & 0x7f;
    if (len === 0x7f) len = this.readInteger(0x7f, fieldStart);
    else this.pos = at + 1;
    const start = this.pos;
    if (len > block.length - start) {
      this.fail('STRING_PAST_END', at, `string at byte ${at} has length ${len} but only ${block.length - start} octets remain in the block`);
    }
    this.pos = start + len;
    this.strHuffman = huffman;
    if (!huffman) {
      if (isName) {
        const k = staticNameIndex(block, start, len);
        if (k !== 0) {
          this.strAscii = true;
          return STATIC_NAMES[k - 1]!;
        }
      }
      const s = bytesToOctets(block, start, start + len);
      this.strAscii = isAscii(s);
      if (text && !this.strAscii) this.strText = bytesToText(block, start, start + len);
      return s;
    }
    const need = huffmanMaxDecodedLength(len);
    if (this.scratch.length < need) this.scratch = new Uint8Array(Math.max(need, this.scratch.length * 2));
    const n = huffmanDecode(block, start, start + len, this.scratch, 0);
    this.strAscii = decodedAscii;
    if (isName) {
      const k = staticNameIndex(this.scratch, 0, n);
      if (k !== 0) return STATIC_NAMES[k - 1]!;
    }
    if (text && !decodedAscii) this.strText = bytesToText(this.scratch, 0, n);
    return n > 24 && n <= 40 ? mediumOctets(this.scratch, 0, n) : bytesToOctets(this.scratch, 0, n);
  }

  /** The ring slot of dynamic-table index `index` (> 61). */
  private slotAt(index: number, start: number): number {
    const d = index - STATIC_TABLE_LENGTH - 1;
    if (d >= this.table.count) {
      this.fail(
        'INDEX_OUT_OF_RANGE',
        start,
        `index ${index} is beyond the static and dynamic table (${STATIC_TABLE_LENGTH + this.table.count} entries) (byte ${start})`,
      );
    }
    return this.table.slot(d);
  }

  /** Adds an entry (§4.4); returns its slot, or -1 when it is larger than the table (which is then empty). */
  private insert(name: string, value: string, ascii: number, nameText: string | null | undefined, valueText: string | null | undefined): number {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    this.changes++;
    this.evictTo(this.maxSize - entrySize);
    if (entrySize > this.maxSize) return -1;
    return this.table.push(name, value, entrySize, ascii, nameText, valueText);
  }

  private evictTo(limit: number): void {
    const table = this.table;
    while (table.size > limit && table.count > 0) table.shift();
  }
}

const EMPTY = new Uint8Array(0);
