/**
 * The story formats as zod schemas: what deflatehd and inflatehd read and
 * write. They give the path-aware messages for bad cases (the CLIs check the
 * common shape with a fast hand-written validator first and only load zod to
 * explain a failure) and they are the source of the published JSON Schemas.
 */
import { z } from 'zod';

const HEX = /^[0-9a-fA-F]*$/;

/** SETTINGS_HEADER_TABLE_SIZE: a 32-bit unsigned integer; null is treated as absent (swift-nio stories carry it). */
export const headerTableSize = z
  .number()
  .int('must be an integer')
  .min(0, 'must be at least 0')
  .max(0xffffffff, 'must be at most 4294967295')
  .nullish()
  .meta({ description: 'SETTINGS_HEADER_TABLE_SIZE applied (as an acknowledged SETTINGS change) before this case' });

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

/** "headers[2].x: message" for the first issue. */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid case';
  const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
  const message = issue.message
    .replace(/^Invalid input: expected (\w+), received undefined$/, 'missing (a $1 is required)')
    .replace(/^Invalid input: expected (\w+), received (\w+)$/, 'expected a $1, got $2')
    .replace(/^Invalid input: expected record, received (\w+)$/, 'expected an object, got $1');
  if (path === '' && /^expected a object/.test(message)) return 'a case must be an object';
  return path ? `${path}: ${message}` : message;
}
