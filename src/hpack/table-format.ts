import type { TableSnapshot } from './types.js';

/**
 * A human-readable dump of a dynamic table: one line per entry with its
 * HPACK index and size, newest first, then the table's size and maximum.
 *
 *   [62] (s=53) :authority: yahoo.co.jp
 *   table size 53 of 4096, 1 entry
 */
export function formatTable(t: TableSnapshot): string {
  const lines = t.entries.map((e) => `[${e.index}] (s=${e.size}) ${e.name}: ${e.value}`);
  const n = t.entries.length;
  lines.push(`table size ${t.size} of ${t.maxSize}, ${n} ${n === 1 ? 'entry' : 'entries'}`);
  return lines.join('\n');
}
