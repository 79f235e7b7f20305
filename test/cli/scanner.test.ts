import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaseScanner, JsonSyntaxError, type ScannedCase } from '../../src/cli/io/json-cases.js';
import { Http1Reader, type Http1Set } from '../../src/cli/io/http1-text.js';
import { checkDeflateCase, checkInflateCase } from '../../src/cli/validate.js';
import { deflateInputCase, inflateInputCase, verifyInputCase } from '../../src/cli/schema.js';

function scan(text: string | Buffer, cuts: number[] = []): { cases: ScannedCase[]; error?: JsonSyntaxError } {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const out: ScannedCase[] = [];
  const s = new CaseScanner((c) => out.push(c));
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  try {
    for (const p of [...points, buf.length]) {
      s.push(buf.subarray(prev, p));
      prev = p;
    }
    s.end();
  } catch (e) {
    if (e instanceof JsonSyntaxError) return { cases: out, error: e };
    throw e;
  }
  return { cases: out };
}

const values = (r: { cases: ScannedCase[] }) => r.cases.map((c) => (c.ok ? c.value : { error: c.error }));

describe('CaseScanner', () => {
  it('finds every case whatever the chunking: same values as JSON.parse', () => {
    const jsonValue = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(
        fc.array(jsonValue, { maxLength: 6 }),
        fc.dictionary(fc.string().filter((k) => k !== 'cases'), jsonValue, { maxKeys: 2 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.integer({ min: 0, max: 2 }),
        (cs, extra, cuts, indent) => {
          const doc = JSON.stringify({ ...extra, cases: cs, ...extra }, null, indent);
          const r = scan(doc, cuts);
          expect(r.error).toBeUndefined();
          expect(values(r)).toEqual(JSON.parse(doc).cases);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('strings with quotes, backslashes and brackets split at every byte', () => {
    const doc = JSON.stringify({ cases: [{ headers: [{ 'a"]}': 'x\\"y\\\\' }] }, { wire: '{[\\' }, 'z"', 12.5e3, true, null] });
    for (let cut = 0; cut <= doc.length; cut++) {
      const r = scan(doc, [cut, cut + 1, cut + 7]);
      expect(values(r), `cut at ${cut}`).toEqual(JSON.parse(doc).cases);
    }
  });

  it('multi-byte UTF-8 split across chunks', () => {
    const doc = JSON.stringify({ cases: [{ headers: [{ 'x-é': '日本語 €' }] }] });
    const buf = Buffer.from(doc, 'utf8');
    for (let cut = 0; cut <= buf.length; cut++) expect(values(scan(buf, [cut]))).toEqual(JSON.parse(doc).cases);
  });

  it('reports a bad case with its position and goes on to the next', () => {
    const r = scan('{"cases": [\n  {"a": 1,},\n  {"b": 2}\n]}');
    expect(r.error).toBeUndefined();
    expect(r.cases[0]).toMatchObject({ index: 0, ok: false, line: 2, column: 3, errorLine: 2, errorColumn: 11, error: 'invalid JSON: Expected double-quoted property name' });
    expect(r.cases[1]).toMatchObject({ index: 1, ok: true, value: { b: 2 } });
  });

  it('rejects structural errors with line and column', () => {
    const cases: Array<[string, string, number, number]> = [
      ['', 'the input is empty', 1, 1],
      ['  \n ', 'the input is empty', 2, 2],
      ['{"cases": {}}', '"cases" must be an array, found \'{\'', 1, 11],
      ['{"cases": [1,]}', "expected a case, found ']'", 1, 14],
      ['{"cases": [1] "x": 2}', 'expected \',\' or \'}\' after the value of "cases", found \'"\'', 1, 15],
      ['{"x" 1}', 'expected \':\' after key "x", found \'1\'', 1, 6],
      ['{"cases": [], }', "expected a key, found '}'", 1, 15],
      ['{"cases": []', 'unexpected end of input', 1, 13],
      ['{"cases": [{"a": "b', 'unexpected end of input inside case 0 (which starts at line 1, column 12)', 1, 20],
    ];
    for (const [doc, message, line, column] of cases) {
      const r = scan(doc);
      expect(r.error?.message, doc).toBe(message);
      expect([r.error?.line, r.error?.column], doc).toEqual([line, column]);
    }
  });
});

describe('Http1Reader', () => {
  function sets(text: string, cuts: number[] = []): Http1Set[] {
    const out: Http1Set[] = [];
    const r = new Http1Reader((s) => out.push(s));
    const buf = Buffer.from(text, 'latin1');
    let prev = 0;
    for (const p of [...cuts.map((c) => c % (buf.length + 1)).sort((a, b) => a - b), buf.length]) {
      r.push(buf.subarray(prev, p));
      prev = p;
    }
    r.end();
    return out;
  }

  it('gives the same sets whatever the chunking', () => {
    const text = ':method: GET\r\n:path: /\r\n\r\nx:y\n\n\nlast: one';
    const want = sets(text);
    expect(want.map((s) => (s.ok ? s.headers : s.error))).toEqual([[[':method', 'GET'], [':path', '/']], [['x', 'y']], [], [['last', 'one']]]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 6 }), (cuts) => {
        expect(sets(text, cuts)).toEqual(want);
      }),
    );
  });
});

describe('fast validators agree with the zod schemas', () => {
  const header = fc.oneof(
    fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), { minKeys: 0, maxKeys: 2 }),
    fc.constant(null),
    fc.string(),
  );
  const anyCase = fc.oneof(
    fc.record(
      {
        headers: fc.oneof(fc.array(header, { maxLength: 3 }), fc.constant('x')),
        wire: fc.oneof(fc.constantFrom('', '82', '8g', 'abc', 'ABCD', 'zz'), fc.integer()),
        header_table_size: fc.oneof(fc.constantFrom(0, 4096, -1, 1.5, 2 ** 32, 2 ** 32 - 1, null), fc.string({ maxLength: 2 })),
        header_encoding: fc.constantFrom('utf8', 'latin1', 'x'),
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue({ maxDepth: 1 }),
  );
  it('deflatehd, inflatehd and inflatehd --verify cases', () => {
    fc.assert(
      fc.property(anyCase, (v) => {
        expect(checkDeflateCase(v) !== null, JSON.stringify(v)).toBe(deflateInputCase.safeParse(v).success && extraOk(v));
        expect(checkInflateCase(v, false) !== null, JSON.stringify(v)).toBe(inflateInputCase.safeParse(v).success);
        expect(checkInflateCase(v, true) !== null, JSON.stringify(v)).toBe(verifyInputCase.safeParse(v).success && extraOk(v));
      }),
      { numRuns: 3000 },
    );
  });
});

/** The checks beyond the schema: latin1 strings, no lone surrogates. */
function extraOk(v: unknown): boolean {
  const o = v as { headers?: unknown; header_encoding?: unknown };
  if (!Array.isArray(o.headers)) return true;
  return o.headers.every((h) =>
    Object.entries(h as Record<string, string>).every(([n, val]) => [n, val].every((s) => s.isWellFormed() && (o.header_encoding !== 'latin1' || /^[\x00-\xff]*$/.test(s)))),
  );
}
