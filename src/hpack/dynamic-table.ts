/**
 * The entries of a dynamic table (RFC 7541 §2.3.2, §4.1): a ring buffer in
 * insertion order, addressed newest first as HPACK indexes it, with the size
 * accounting of §4.1. The deflater keeps its lookup structures on top of
 * EntryRing; the inflater uses FieldRing, the same ring as parallel arrays.
 * Eviction policy (§4.3, §4.4) is theirs to drive.
 */
import { octetsToTextLossy } from './octets.js';
import { STATIC_TABLE_LENGTH } from './static-table.js';
import type { TableSnapshot } from './types.js';

export interface RingEntry {
  /** Octet strings. */
  readonly name: string;
  readonly value: string;
  /** Octets of name and value plus 32 (§4.1). */
  readonly size: number;
}

export class EntryRing<E extends RingEntry> {
  private ring: Array<E | undefined> = new Array(64);
  private mask = 63;
  private head = 0;
  /** Number of entries. */
  count = 0;
  /** Sum of the entry sizes (§4.1). */
  size = 0;

  /** The i-th newest entry (0 is the newest, HPACK index 62); i must be below count. */
  newest(i: number): E {
    return this.ring[(this.head + this.count - 1 - i) & this.mask]!;
  }

  push(e: E): void {
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.head + this.count) & this.mask] = e;
    this.count++;
    this.size += e.size;
  }

  /** Removes the oldest entry (§4.4: eviction is from the end of the table). */
  shift(): E {
    const e = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    this.size -= e.size;
    return e;
  }

  /**
   * The table, newest entry first. Names and values are UTF-8 text ('utf8',
   * with U+FFFD for octets that are not UTF-8) or octet strings ('latin1').
   */
  snapshot(maxSize: number, encoding: 'utf8' | 'latin1'): TableSnapshot {
    const entries = [];
    for (let i = 0; i < this.count; i++) {
      const e = this.newest(i);
      const name = encoding === 'latin1' ? e.name : octetsToTextLossy(e.name);
      const value = encoding === 'latin1' ? e.value : octetsToTextLossy(e.value);
      entries.push({ index: STATIC_TABLE_LENGTH + 1 + i, name, value, size: e.size });
    }
    return { entries, size: this.size, maxSize };
  }

  private grow(): void {
    const old = this.ring;
    const ring: Array<E | undefined> = new Array(old.length * 2);
    for (let i = 0; i < this.count; i++) ring[i] = old[(this.head + i) & this.mask];
    this.ring = ring;
    this.mask = ring.length - 1;
    this.head = 0;
  }
}

/**
 * The decoder's dynamic table (RFC 7541 §2.3.2, §4.1): a ring of parallel
 * arrays rather than one object per entry, so that an insertion allocates
 * nothing and a lookup follows no pointer. Names and values are octet
 * strings; `ascii` says which of them are ASCII (so their own UTF-8 text),
 * and for the others the texts are kept beside them, undefined until needed
 * and null when not UTF-8.
 */
export class FieldRing {
  names: string[] = new Array<string>(64).fill('');
  values: string[] = new Array<string>(64).fill('');
  /** Bit 0: the name is ASCII; bit 1: the value is. */
  ascii = new Uint8Array(64);
  nameTexts: Array<string | null | undefined> = new Array<string | null | undefined>(64).fill(undefined);
  valueTexts: Array<string | null | undefined> = new Array<string | null | undefined>(64).fill(undefined);
  sizes: number[] = new Array<number>(64).fill(0);
  /** The frozen [name, value] of an entry, made when an indexed field first needs it (Inflater's sharedPairs). */
  pairs: Array<readonly [string, string] | undefined> = new Array<readonly [string, string] | undefined>(64).fill(undefined);
  mask = 63;
  head = 0;
  /** Number of entries. */
  count = 0;
  /** Sum of the entry sizes (§4.1). */
  size = 0;

  /** The slot of the d-th newest entry (0 is HPACK index 62); d must be below count. */
  slot(d: number): number {
    return (this.head + this.count - 1 - d) & this.mask;
  }

  /** Adds an entry; the texts are only kept for a name or value that is not ASCII. */
  push(name: string, value: string, size: number, ascii: number, nameText: string | null | undefined, valueText: string | null | undefined): number {
    if (this.count === this.names.length) this.grow();
    const k = (this.head + this.count) & this.mask;
    this.names[k] = name;
    this.values[k] = value;
    this.ascii[k] = ascii;
    if ((ascii & 1) === 0) this.nameTexts[k] = nameText;
    if ((ascii & 2) === 0) this.valueTexts[k] = valueText;
    this.sizes[k] = size;
    this.pairs[k] = undefined;
    this.count++;
    this.size += size;
    return k;
  }

  /** Removes the oldest entry (§4.4), letting go of its strings. */
  shift(): void {
    const k = this.head;
    this.size -= this.sizes[k]!;
    this.names[k] = '';
    this.values[k] = '';
    this.pairs[k] = undefined;
    if (this.ascii[k] !== 3) {
      this.nameTexts[k] = undefined;
      this.valueTexts[k] = undefined;
    }
    this.head = (k + 1) & this.mask;
    this.count--;
  }

  snapshot(maxSize: number, encoding: 'utf8' | 'latin1'): TableSnapshot {
    const entries = [];
    for (let d = 0; d < this.count; d++) {
      const k = this.slot(d);
      const name = encoding === 'latin1' ? this.names[k]! : octetsToTextLossy(this.names[k]!);
      const value = encoding === 'latin1' ? this.values[k]! : octetsToTextLossy(this.values[k]!);
      entries.push({ index: STATIC_TABLE_LENGTH + 1 + d, name, value, size: this.sizes[k]! });
    }
    return { entries, size: this.size, maxSize };
  }

  private grow(): void {
    const n = this.names.length;
    const order = Array.from({ length: this.count }, (_, i) => (this.head + i) & this.mask);
    const pick = <T>(xs: ArrayLike<T>, fill: T): T[] => {
      const out = new Array<T>(2 * n).fill(fill);
      order.forEach((k, i) => {
        out[i] = xs[k]!;
      });
      return out;
    };
    this.names = pick(this.names, '');
    this.values = pick(this.values, '');
    this.ascii = Uint8Array.from(pick(this.ascii, 0));
    this.nameTexts = pick(this.nameTexts, undefined);
    this.valueTexts = pick(this.valueTexts, undefined);
    this.sizes = pick(this.sizes, 0);
    this.pairs = pick(this.pairs, undefined);
    this.mask = 2 * n - 1;
    this.head = 0;
  }
}
