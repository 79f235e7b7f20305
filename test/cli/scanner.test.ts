import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaseParser, INCOMPLETE, INVALID } from '../../src/cli/io/case-parser.js';
import { Http1Reader, type Http1Set } from '../../src/cli/io/http1-text.js';
import { CaseScanner, caseValue, JsonSyntaxError, type ScannedCase } from '../../src/cli/io/json-cases.js';
import { deflateInputCase, inflateInputCase, verifyInputCase } from '../../src/cli/schema.js';
import { checkDeflateCase, checkInflateCase, deflateCaseFromFields, inflateCaseFromFields } from '../../src/cli/validate.js';

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
        fc.dictionary(
          fc.string().filter((k) => k !== 'cases'),
          jsonValue,
          { maxKeys: 2 },
        ),
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
    expect(r.cases[0]).toMatchObject({
      index: 0,
      ok: false,
      line: 2,
      column: 3,
      errorLine: 2,
      errorColumn: 11,
      error: 'invalid JSON: Expected double-quoted property name',
    });
    expect(r.cases[1]).toMatchObject({ index: 1, ok: true, value: { b: 2 } });
  });

  it('rejects structural errors with line and column', () => {
    const cases: Array<[string, string, number, number]> = [
      ['', 'the input is empty', 1, 1],
      ['  \n ', 'the input is empty', 2, 2],
      ['{"cases": {}}', '"cases" must be an array, found \'{\'', 1, 11],
      ['{"cases": [1,]}', "expected a case, found ']'", 1, 14],
      ['{"cases": [1] "x": 2}', "expected ',' or '}' after the value of \"cases\", found '\"'", 1, 15],
      ['{"x" 1}', "expected ':' after key \"x\", found '1'", 1, 6],
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
    expect(want.map((s) => (s.ok ? s.headers : s.error))).toEqual([
      [
        [':method', 'GET'],
        [':path', '/'],
      ],
      [['x', 'y']],
      [],
      [['last', 'one']],
    ]);
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
        // header_table_size is read only with --apply-table-sizes (nghttp2 ignores it).
        expect(checkDeflateCase(v, true) !== null, JSON.stringify(v)).toBe(deflateInputCase.safeParse(v).success && extraOk(v));
        expect(checkDeflateCase(v) !== null, JSON.stringify(v)).toBe(deflateInputCase.omit({ header_table_size: true }).safeParse(v).success && extraOk(v));
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
    Object.entries(h as Record<string, string>).every(([n, val]) =>
      [n, val].every((s) => s.isWellFormed() && (o.header_encoding !== 'latin1' || /^[\x00-\xff]*$/.test(s))),
    ),
  );
}

describe('CaseScanner: every byte is JSON, ignored members too', () => {
  /** Scans with a tool's field set (the way deflatehd and inflatehd read), cut at the given points. */
  function scanFields(
    text: string | Buffer,
    cuts: number[] = [],
    fields = { headers: true, wire: true, tableSize: true, encoding: true },
    maxCaseSize?: number,
  ) {
    const buf = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
    const out: Array<{ ok: boolean; value?: unknown; error?: string }> = [];
    const s = new CaseScanner(
      (c) => {
        // Read what the tool reads while the chunk is still there.
        if (!c.ok) out.push({ ok: false, error: c.error });
        else out.push({ ok: true, value: caseValue(c) });
      },
      { fields, ...(maxCaseSize !== undefined ? { maxCaseSize } : {}) },
    );
    const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
    let prev = 0;
    try {
      for (const p of [...points, buf.length]) {
        // A fresh copy per chunk, overwritten after use, as InputReader reuses its buffer.
        const chunk = Buffer.from(buf.subarray(prev, p));
        s.push(chunk);
        chunk.fill(0x21);
        prev = p;
      }
      s.end();
    } catch (e) {
      if (e instanceof JsonSyntaxError) return { cases: out, error: e };
      throw e;
    }
    return { cases: out };
  }

  const bad: Array<[string, string, number, number]> = [
    ['{"x":[1}, "cases":[]}', "invalid JSON in the value of \"x\": expected ',' or ']', found '}'", 1, 8],
    ['{"x":tru, "cases":[]}', "invalid JSON in the value of \"x\": expected 'e' (true), found ','", 1, 9],
    ['{"x":[1,,2 garbage], "cases":[]}', 'invalid JSON in the value of "x": expected a value, found \',\'', 1, 9],
    ['{"cases":[], "x":{"a":1,}}', 'invalid JSON in the value of "x": expected a key, found \'}\'', 1, 25],
    ['{"x":{a:1}, "cases":[]}', "invalid JSON in the value of \"x\": expected a key or '}', found 'a'", 1, 7],
    ['{"x":"a\\qb", "cases":[]}', 'invalid JSON in the value of "x": invalid escape \'q\' after a backslash', 1, 9],
    ['{"x":"\\u12g4", "cases":[]}', 'invalid JSON in the value of "x": expected a hex digit in \\u escape, found \'g\'', 1, 11],
    ['{"x":"a\tb", "cases":[]}', 'invalid JSON in the value of "x": control character in a string (it must be escaped)', 1, 8],
    ['{"x":01, "cases":[]}', "expected ',' or '}' after the value of \"x\", found '1'", 1, 7],
    ['{"x":1., "cases":[]}', 'invalid JSON in the value of "x": invalid number: unexpected \',\'', 1, 8],
    ['{"x":-, "cases":[]}', 'invalid JSON in the value of "x": invalid number: unexpected \',\'', 1, 7],
    ['{"x":1e+, "cases":[]}', 'invalid JSON in the value of "x": invalid number: unexpected \',\'', 1, 9],
    ['{"x":[1] ] , "cases":[]}', "expected ',' or '}' after the value of \"x\", found ']'", 1, 10],
    ['{"x":\n  [1,\n   2 3]}', "invalid JSON in the value of \"x\": expected ',' or ']', found '3'", 3, 6],
    ['{"x":"abc', 'unexpected end of input in the value of "x"', 1, 10],
    ['{"\\x":1, "cases":[]}', 'invalid key: a bad escape', 1, 2],
    ['{"cases":[{"a":1}],"cases":[{"b":2}]}', 'a second "cases" key: a document has one "cases" array (the cases of the first were handled)', 1, 20],
    ['{"cases":[],"\\u0063ases":[]}', 'a second "cases" key: a document has one "cases" array (the cases of the first were handled)', 1, 13],
  ];

  it('invalid JSON in a top-level member that is ignored is a syntax error with its line and column, however the input is cut', () => {
    for (const [doc, message, line, column] of bad) {
      for (let cut = 0; cut <= doc.length; cut++) {
        for (const r of [scan(doc, [cut]), scanFields(doc, [cut])]) {
          expect(r.error?.message, `${doc} cut at ${cut}`).toBe(message);
          expect([r.error?.line, r.error?.column], `${doc} cut at ${cut}`).toEqual([line, column]);
        }
      }
    }
  });

  it('octets that are not UTF-8 in an ignored member are a syntax error', () => {
    const doc = Buffer.concat([Buffer.from('{"x": ["ok", "a'), Buffer.from([0xe0, 0x80, 0x80]), Buffer.from('"], "cases": []}')]);
    for (let cut = 0; cut <= doc.length; cut++) {
      const r = scan(doc, [cut]);
      expect(r.error?.message).toBe('invalid JSON in the value of "x": the input is not valid UTF-8 (octet 0x80)');
      expect([r.error?.line, r.error?.column]).toEqual([1, 17]);
    }
    const ok = Buffer.concat([Buffer.from('{"x": "'), Buffer.from('é日本😀', 'utf8'), Buffer.from('", "cases": [{"a": 1}]}')]);
    for (let cut = 0; cut <= ok.length; cut++) expect(values(scan(ok, [cut]))).toEqual([{ a: 1 }]);
  });

  it('the first "cases" array is handled before a second one is refused', () => {
    const r = scan('{"cases":[{"a":1}],"cases":[{"b":2}]}');
    expect(values(r)).toEqual([{ a: 1 }]);
    expect(r.error?.message).toMatch(/^a second "cases" key/);
  });

  it('agrees with JSON.parse on valid and broken documents, whatever the chunking (broken: an error, never silence)', () => {
    const jsonValue = fc.jsonValue({ maxDepth: 3 });
    const doc = fc
      .tuple(
        fc.array(jsonValue, { maxLength: 4 }),
        fc.dictionary(
          fc.string().filter((k) => k !== 'cases'),
          jsonValue,
          { maxKeys: 2 },
        ),
        fc.integer({ min: 0, max: 2 }),
      )
      .map(([cs, extra, indent]) => JSON.stringify({ ...extra, cases: cs }, null, indent));
    const mutation = fc.tuple(
      fc.nat(),
      fc.constantFrom('', ',', ']', '}', '[', '{', '"', ':', '\\', 'x', '1', '-', '.', 'e', ' ', '\t', '\u0001', 'tru', 'nul'),
      fc.integer({ min: 0, max: 2 }),
    );
    fc.assert(
      fc.property(doc, fc.array(mutation, { maxLength: 2 }), fc.array(fc.nat(), { maxLength: 5 }), (d, muts, cuts) => {
        let text = d;
        for (const [at, ins, del] of muts) {
          const p = at % (text.length + 1);
          text = text.slice(0, p) + ins + text.slice(p + del);
        }
        let want: { cases: unknown[] } | null = null;
        try {
          const v = JSON.parse(text) as unknown;
          if (typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray((v as { cases?: unknown }).cases)) want = v as { cases: unknown[] };
        } catch {
          want = null;
        }
        // A duplicate "cases" key is refused (see above); JSON.parse keeps the last.
        const dupCases = (text.match(/"cases"/g) ?? []).length > 1;
        for (const r of [scan(text, cuts), scanFields(text, cuts)]) {
          const failed = r.error !== undefined || r.cases.some((c) => !(c as { ok: boolean }).ok);
          if (want && !dupCases) {
            expect(failed, text).toBe(false);
            expect(
              r.cases.map((c) => (c as { value: unknown }).value),
              text,
            ).toEqual(want.cases);
          } else if (!want) {
            expect(failed, text).toBe(true);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a case over maxCaseSize is reported and skipped, in one chunk or across many, and the next ones are read', () => {
    const big = 'v'.repeat(5000);
    const doc = JSON.stringify({ cases: [{ headers: [{ a: '1' }] }, { headers: [{ b: big }] }, { headers: [{ c: '3' }] }] });
    for (const cuts of [[], [60, 1000, 3000], Array.from({ length: 60 }, (_, k) => k * 97)]) {
      const r = scanFields(doc, cuts, undefined, 4096);
      expect(r.error).toBeUndefined();
      expect(r.cases.map((c) => (c.ok ? c.value : c.error))).toEqual([
        { headers: [{ a: '1' }] },
        'the case is larger than 4096 octets (--max-case-size); it was skipped',
        { headers: [{ c: '3' }] },
      ]);
    }
    expect(scanFields(doc, [], undefined, 5100).cases.every((c) => c.ok)).toBe(true);
  });
});

describe('CaseParser: members read from the bytes agree with JSON.parse', () => {
  const header = fc.oneof(
    fc.dictionary(fc.string({ maxLength: 4, unit: 'binary' }), fc.oneof(fc.string({ maxLength: 6, unit: 'binary' }), fc.integer()), { minKeys: 0, maxKeys: 2 }),
    fc.constant(null),
    fc.string(),
  );
  const anyCase = fc.oneof(
    fc.record(
      {
        headers: fc.oneof(fc.array(header, { maxLength: 3 }), fc.constant('x')),
        wire: fc.oneof(fc.constantFrom('', '82', '8g', 'abc', 'ABCD', 'zz'), fc.integer()),
        header_table_size: fc.oneof(fc.constantFrom(0, 4096, -1, 1.5, 2 ** 32, 2 ** 32 - 1, null, 1e3), fc.string({ maxLength: 2 })),
        header_encoding: fc.constantFrom('utf8', 'latin1', 'x'),
        seq: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue({ maxDepth: 1 }),
  );
  it('the deflatehd and inflatehd checks give the same result from the fields as from the parsed value', () => {
    const all = { headers: true, wire: true, tableSize: true, encoding: true };
    fc.assert(
      fc.property(anyCase, fc.integer({ min: 0, max: 2 }), fc.boolean(), (v, indent, escapeKeys) => {
        let text = JSON.stringify(v, null, indent);
        // Escapes where JSON allows them: the parser must fall back to JSON.parse's reading.
        if (escapeKeys) text = text.replace(/"headers"/g, '"head\\u0065rs"').replace(/"a/g, '"\\u0061');
        const bytes = Buffer.from(text, 'utf8');
        const p = new CaseParser(all);
        const end = p.parse(bytes, 0, bytes.length, true);
        expect(end, text).toBe(bytes.length);
        const value = JSON.parse(text) as unknown;
        if (p.fallback) return;
        const d = deflateCaseFromFields(p.fields, true);
        const want = checkDeflateCase(value, true);
        expect(d === null ? null : d.pairs.map((x) => [...x]), text).toEqual(want === null ? null : want.pairs.map((x) => [...x]));
        expect(d?.tableSize, text).toEqual(want?.tableSize);
        for (const needHeaders of [false, true]) {
          const i = inflateCaseFromFields(p.fields, needHeaders, bytes);
          const w = checkInflateCase(value, needHeaders);
          const wireOf = (x: { wire: string | undefined; source?: { bytes: Buffer; wireStart: number; wireEnd: number } | undefined }) =>
            x.wire ?? x.source!.bytes.toString('latin1', x.source!.wireStart, x.source!.wireEnd);
          expect(i === null ? null : [wireOf(i), [...i.block], i.tableSize, i.latin1, i.pairs?.map((x) => [...x])], text).toEqual(
            w === null ? null : [w.wire, [...w.block], w.tableSize, w.latin1, w.pairs?.map((x) => [...x])],
          );
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('strings are scanned four octets at a time: a quote, backslash, control or non-ASCII octet is seen at every offset', () => {
    const p = new CaseParser({ headers: true, wire: true, tableSize: true, encoding: true });
    const specials: Array<[string, string]> = [
      ['"', 'a quote'],
      ['\\', 'a backslash'],
      ['\n', 'a line feed'],
      ['\u0000', 'NUL'],
      ['\u001f', 'US'],
      ['é', 'a two-octet character'],
      ['\u20ac', 'a three-octet character'],
      [' ', 'a space'],
      ['\u007f', 'DEL'],
      ['!', '0x21'],
      ['[', '0x5b'],
      [']', '0x5d'],
    ];
    for (const [ch, what] of specials) {
      for (let len = 1; len <= 13; len++) {
        for (let at = 0; at < len; at++) {
          const value = 'v'.repeat(at) + ch + 'w'.repeat(len - at - 1);
          // Escaped as JSON would write it, and raw (invalid JSON for a control character).
          for (const raw of [false, true]) {
            const lit = raw ? `"${value}"` : JSON.stringify(value);
            const text = `{"headers": [{"name": ${lit}}], "wire": "82"}`;
            const bytes = Buffer.from(text, 'utf8');
            const end = p.parse(bytes, 0, bytes.length, true);
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            const label = `${what} at ${at} of ${len}${raw ? ', raw' : ''}`;
            if (parsed === undefined) {
              expect(end, label).toBe(INVALID);
              // A control character is refused where it is: after '{"headers": [{"name": "' and the octets before it.
              if (ch < ' ') expect(p.errorAt, label).toBe(23 + at);
              continue;
            }
            expect(end, label).toBe(bytes.length);
            expect(p.nonAscii, label).toBe(/[^\x00-\x7f]/.test(value));
            expect(p.fallback, label).toBe(false);
            expect(p.fields.headers, label).toEqual(['name', value]);
            expect(bytes.toString('latin1', p.fields.wireStart, p.fields.wireEnd), label).toBe('82');
          }
        }
      }
    }
  });

  it('names that share a slot of the name cache are told apart, octet for octet', () => {
    // 3000 names of 5 to 9 letters over a small alphabet, many of the same length and first and
    // last letters: the 4096-slot cache sees collisions, and names that differ in one octet.
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pool = Array.from({ length: 3000 }, () => {
      const len = 5 + rnd(5);
      let s = 'x';
      for (let k = 1; k < len - 1; k++) s += 'abcd'[rnd(4)];
      return `${s}y`;
    });
    const p = new CaseParser({ headers: true, wire: false, tableSize: false, encoding: false });
    for (let round = 0; round < 4; round++) {
      const names = Array.from({ length: 2000 }, () => pool[rnd(pool.length)]!);
      const bytes = Buffer.from(JSON.stringify({ headers: names.map((n, k) => ({ [n]: String(k) })) }));
      expect(p.parse(bytes, 0, bytes.length, true)).toBe(bytes.length);
      expect(p.fields.headers).toEqual(names.flatMap((n, k) => [n, String(k)]));
    }
  });

  it('says INCOMPLETE for a case cut short, and INVALID for a broken one', () => {
    const p = new CaseParser({ headers: true, wire: true, tableSize: true, encoding: true });
    const text = Buffer.from('{"wire": "82", "headers": [{"a": "b"}], "x": [1, 2.5e3, true, null, {"y": "z"}]}');
    for (let cut = 1; cut < text.length; cut++) expect(p.parse(text, 0, cut, false), `cut ${cut}`).toBe(INCOMPLETE);
    expect(p.parse(text, 0, text.length, false)).toBe(text.length);
    expect(text.toString('latin1', p.fields.wireStart, p.fields.wireEnd)).toBe('82');
    expect(p.fields.headers).toEqual(['a', 'b']);
    expect(p.parse(Buffer.from('{"wire": "82", "x": [1,,2]}'), 0, 27, false)).toBe(INVALID);
    expect(p.errorAt).toBe(23);
  });
});
