/**
 * The entries of a dynamic table (RFC 7541 §2.3.2, §4.1): a ring buffer in
 * insertion order, addressed newest first as HPACK indexes it, with the size
 * accounting of §4.1. The deflater and the inflater keep their own lookup
 * structures on top of it; eviction policy (§4.3, §4.4) is theirs to drive.
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
