/**
 * The story formats as zod schemas: what deflatehd and inflatehd read and
 * write. They give the path-aware messages for bad cases (the CLIs check the
 * common shape with a fast hand-written validator first and only load zod to
 * explain a failure) and they are the source of the published JSON Schemas.
 */
import { z } from 'zod';

const HEX = /^[0-9a-fA-F]*$/;

/** SETTINGS_HEADER_TABLE_SIZE: a 32-bit unsigned integer; null is treated as absent (swift-nio stories carry it). */
export const headerTableSize = z.number().int('must be an integer').min(0, 'must be at least 0').max(0xffffffff, 'must be at most 4294967295').nullish().meta({
  description:
    'SETTINGS_HEADER_TABLE_SIZE applied (as an acknowledged SETTINGS change) before this case: by inflatehd always, by deflatehd only with --apply-table-sizes (nghttp2 ignores it there)',
});

/** How names and values of a case are spelled: UTF-8 text, or latin1 (one char per octet, for octets that are not UTF-8). */
export const headerEncoding = z
  .enum(['utf8', 'latin1'])
  .optional()
  .meta({ description: "'latin1': every char of every name and value is one octet (U+0000 to U+00FF); used for octets that are not UTF-8" });

/** One header field: an object with exactly one name. */
export const headerField = z
  .record(z.string(), z.string())
  .refine((o) => Object.keys(o).length === 1, { message: 'a header must be an object with exactly one name' })
  .meta({ minProperties: 1, maxProperties: 1, description: 'one header field: {"name": "value"}' });

export const headerList = z.array(headerField);

/** Lowercase or uppercase hex digits, an even number of them. */
export const hexWire = z
  .string()
  .superRefine((s, ctx) => {
    if (!HEX.test(s)) {
      const at = s.search(/[^0-9a-fA-F]/);
      ctx.addIssue({ code: 'custom', message: `invalid hex digit ${JSON.stringify(s[at])} at position ${at}` });
    } else if (s.length % 2 !== 0) {
      ctx.addIssue({ code: 'custom', message: `odd number of hex digits at position ${s.length}` });
    }
  })
  .meta({ pattern: '^([0-9a-fA-F]{2})*$', description: 'an HPACK header block in hex' });

/** A case deflatehd reads. Other keys (seqno, wire, description ...) are allowed and ignored. */
export const deflateInputCase = z.looseObject({
  headers: headerList,
  header_table_size: headerTableSize,
  header_encoding: headerEncoding,
});

/** A case inflatehd reads (other keys, "headers" included, are ignored). */
export const inflateInputCase = z.looseObject({
  wire: hexWire,
  header_table_size: headerTableSize,
  header_encoding: headerEncoding,
});

/** A case inflatehd --verify reads: `headers` is what the decoded list must equal. */
export const verifyInputCase = inflateInputCase.extend({ headers: headerList });

/** The published schema of inflatehd's input: `headers` optional, checked by --verify. */
export const inflateInputDocument = inflateInputCase.extend({ headers: headerList.optional() });

const tableEntry = z.object({ index: z.number().int(), name: z.string(), value: z.string(), size: z.number().int() });

/** A case deflatehd writes. */
export const deflateOutputCase = z.object({
  seq: z.number().int(),
  input_length: z.number().int(),
  output_length: z.number().int(),
  percentage_of_original_size: z.number(),
  wire: z.string().meta({ pattern: '^([0-9a-f]{2})*$' }),
  headers: headerList,
  header_table_size: z.number().int().optional(),
  header_encoding: headerEncoding,
  header_table: z
    .object({
      entries: z.array(tableEntry),
      size: z.number().int(),
      max_size: z.number().int(),
      deflate_size: z.number().int(),
      max_deflate_size: z.number().int(),
    })
    .optional(),
});

const traceItem = z.object({
  offset: z.number().int(),
  bytes: z.string(),
  kind: z.enum(['indexed', 'literal-incremental', 'literal-without-indexing', 'literal-never-indexed', 'size-update']),
  index: z.number().int().optional(),
  name_huffman: z.boolean().optional(),
  value_huffman: z.boolean().optional(),
  name: z.string().optional(),
  value: z.string().optional(),
  size: z.number().int().optional(),
  inserted: z.boolean().optional(),
  evicted: z.number().int().optional(),
});

/** A case inflatehd writes. */
export const inflateOutputCase = z.object({
  seq: z.number().int(),
  wire: z.string(),
  headers: headerList,
  header_table_size: z.number().int().optional(),
  header_encoding: headerEncoding,
  header_table: z.object({ entries: z.array(tableEntry), size: z.number().int(), max_size: z.number().int() }).optional(),
  trace: z.array(traceItem).optional(),
});

/** A whole story document. */
export const story = <T extends z.ZodType>(c: T) => z.looseObject({ cases: z.array(c) });

/**
 * The first issue as one line that says what the case has and what the
 * format wants ("headers[1] is null; a header must be an object with exactly
 * one name, such as {":path": "/"}"). zod finds the place; the words are ours.
 */
export function describeIssues(error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid case';
  const path = issue.path;
  const where = path
    .map((p, i) =>
      typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : /^[A-Za-z_$][\w$]*$/.test(String(p)) ? `.${String(p)}` : `[${JSON.stringify(String(p))}]`,
    )
    .join('');
  const at = valueAt(input, path);
  const [top, index] = path;
  if (path.length === 0) return `the case is ${shown(at)}; a case must be an object`;
  if (top === 'headers') {
    if (path.length === 1) {
      return at === undefined
        ? `headers is missing; a case must have "headers", a list of one-field objects such as [{":method": "GET"}]`
        : `headers is ${shown(at)}; it must be a list of one-field objects such as [{":method": "GET"}]`;
    }
    if (path.length === 2 && typeof index === 'number') {
      if (isObject(at)) {
        const names = Object.keys(at);
        const what =
          names.length === 0
            ? 'has no name ({})'
            : `has ${names.length} names (${names
                .slice(0, 3)
                .map((n) => JSON.stringify(clip(n)))
                .join(', ')}${names.length > 3 ? ', ...' : ''})`;
        return `${where} ${what}; a header must be an object with exactly one name`;
      }
      return `${where} is ${shown(at)}; a header must be an object with exactly one name, such as {":path": "/"}`;
    }
    if (path.length === 3) return `${where} is ${shown(at)}; a header value must be a string`;
  }
  if (top === 'header_table_size' && path.length === 1) return `header_table_size is ${shown(at)}; it must be an integer from 0 to 4294967295`;
  if (top === 'header_encoding' && path.length === 1) return `header_encoding is ${shown(at)}; it must be "utf8" or "latin1"`;
  if (top === 'wire' && path.length === 1) {
    if (at === undefined) return 'wire is missing; a case must have "wire", an HPACK header block in hex';
    if (typeof at !== 'string') return `wire is ${shown(at)}; it must be a string of hex digits`;
  }
  // The refinements' own messages (hex digits) already say what and where.
  return `${where}: ${issue.message}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function valueAt(v: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let x = v;
  for (const p of path) {
    if (typeof x !== 'object' || x === null) return undefined;
    x = (x as Record<PropertyKey, unknown>)[p];
  }
  return x;
}

function clip(s: string): string {
  return s.length > 30 ? `${s.slice(0, 30)}...` : s;
}

/** What a JSON value is, with a short sample: 'a number (5)', 'a string ("GET")', 'null'. */
export function shown(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (typeof v === 'string') return `a string (${JSON.stringify(clip(v))})`;
  if (typeof v === 'number') return `a number (${v})`;
  if (typeof v === 'boolean') return `${v}`;
  const json = JSON.stringify(v);
  const sample = json.length > 40 ? `${json.slice(0, 40)}...` : json;
  return Array.isArray(v) ? `a list (${sample})` : `an object (${sample})`;
}
