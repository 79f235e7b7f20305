/**
 * Header text, one rule for the whole API. Field names and values are octets
 * (RFC 9113 §8.2, RFC 7541 §5.2); the HPACK decoder gives them as octet
 * strings (one char per octet), on which §8.2.1 is checked. The application
 * sees text: the octets decoded as UTF-8, with U+FFFD where they are not
 * UTF-8, and the exact octets on request (rawHeaders). Text it sends is
 * encoded as UTF-8; a Uint8Array is sent as it is. ASCII, nearly every
 * field, is its own text: the validators say when a section is all ASCII
 * (RequestHead.ascii), and such a section is neither copied nor decoded.
 */
import { isAscii, octetsToBytes, octetsToTextLossy } from '../hpack/octets.js';

/** Fields as the application reads them: [name, text]. */
export type FieldList = Array<[string, string]>;
/** Fields with the exact octets of each value. */
export type RawFieldList = Array<[string, Uint8Array]>;

/** The text of a received name or value (an octet string). */
export function fieldText(octets: string): string {
  return octetsToTextLossy(octets);
}

/** A received list (octet strings) as text: the same array when every name and value is ASCII. */
export function fieldsText(fields: FieldList): FieldList {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (!isAscii(f[1]) || !isAscii(f[0])) return fields.map(([n, v]) => [fieldText(n), fieldText(v)]);
  }
  return fields;
}

/**
 * The octets of each value of a list of octet strings (or of ASCII text,
 * which is the same); names of validated sections are ASCII tokens.
 */
export function fieldsRaw(fields: FieldList): RawFieldList {
  return fields.map(([n, v]) => [fieldText(n), octetsToBytes(v)]);
}

/** The first value of field `name` (any case), or undefined. */
export function fieldGet(fields: FieldList, name: string): string | undefined {
  const n = lowerName(name);
  for (let i = 0; i < fields.length; i++) if (fields[i]![0] === n) return fields[i]![1];
  return undefined;
}

/** Every value of field `name` (any case), in order. */
export function fieldGetAll(fields: FieldList, name: string): string[] {
  const n = lowerName(name);
  const out: string[] = [];
  for (let i = 0; i < fields.length; i++) if (fields[i]![0] === n) out.push(fields[i]![1]);
  return out;
}

// HTTP/2 field names are lowercase on the wire (§8.2.1); a lookup may be given any case.
function lowerName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return name.toLowerCase();
  }
  return name;
}

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** A value given as text or octets, as text (for observers and logs of what is sent). */
export function sentText(v: string | Uint8Array): string {
  return typeof v === 'string' ? v : utf8.decode(v);
}
