/** The static table (RFC 7541 §2.3.1, Appendix A) and the lookups the coders need. */
import { STATIC_ENTRIES } from './spec-data.js';

export { STATIC_ENTRIES };

/** Number of static entries; dynamic indexes start after it (§2.3.3). */
export const STATIC_TABLE_LENGTH = 61;

/** Size of an entry: octets of name and value plus 32 (§4.1). */
export const ENTRY_OVERHEAD = 32;

/** Static name -> index of its first entry (1-based). */
export const STATIC_NAME_INDEX: ReadonlyMap<string, number> = new Map([...STATIC_ENTRIES.entries()].reverse().map(([i, [name]]) => [name, i + 1]));

/** Static name -> its values, each with the index of its first entry: [value, index]. */
export const STATIC_VALUES: ReadonlyMap<string, ReadonlyArray<readonly [string, number]>> = (() => {
  const m = new Map<string, Array<[string, number]>>();
  STATIC_ENTRIES.forEach(([name, value], i) => {
    let values = m.get(name);
    if (!values) m.set(name, (values = []));
    if (!values.some(([v]) => v === value)) values.push([value, i + 1]);
  });
  return m;
})();
