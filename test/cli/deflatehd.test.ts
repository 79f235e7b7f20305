/** deflatehd end to end: the real bin/ command on real inputs. */

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cases, file, ROOT, run, tempDir } from '../helpers/cli.js';
import { type StoryCase, vectorFolder, vectorFolders, vectorJson } from '../helpers/vectors.js';

interface GoldenCase extends StoryCase {
  seq: number;
  wire: string;
  header_table: { size: number; max_size: number; entry_count: number; entries?: Array<{ index: number; name: string; value: string; size: number }> };
}

async function pool<T>(items: T[], n: number, f: (t: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) await f(t);
    }),
  );
}

describe('deflatehd', () => {
  it('reproduces every golden folder byte for byte, with the -d table after every case', async () => {
    const files = vectorFolders('golden').flatMap((f) => vectorFolder(`golden/${f}`));
    expect(files.length).toBe(191);
    let checked = 0;
    await pool(files, 4, async (path) => {
      const g = vectorJson<{ options: string[]; cases: GoldenCase[] }>(path);
      const input = JSON.stringify({
        cases: g.cases.map((c) => ({ headers: c.headers, ...(c.header_table_size != null ? { header_table_size: c.header_table_size } : {}) })),
      });
      // per-case-sizes: the sizes are applied only when asked (nghttp2's deflatehd ignores them).
      const apply = g.cases.some((c) => c.header_table_size != null) ? ['--apply-table-sizes'] : [];
      const r = await run('deflatehd', ['-d', ...apply, ...g.options], input);
      expect(r.code, `${path}: ${r.stderr}`).toBe(0);
      const out = cases(r);
      expect(out).toHaveLength(g.cases.length);
      const s = g.options.includes('-s') ? Number(g.options[g.options.indexOf('-s') + 1]) : 4096;
      out.forEach((o, i) => {
        const want = g.cases[i]!;
        expect(o.seq).toBe(i);
        expect(o.wire, `${path} seq ${i}`).toBe(want.wire);
        expect(o.headers).toEqual(want.headers);
        const t = o.header_table!;
        expect([t.size, t.max_size, t.entries.length], `${path} seq ${i}`).toEqual([
          want.header_table.size,
          want.header_table.max_size,
          want.header_table.entry_count,
        ]);
        expect([t.deflate_size, t.max_deflate_size]).toEqual([t.size, t.max_size]);
        if (want.header_table.entries) expect(t.entries).toEqual(want.header_table.entries);
        expect(o.header_table_size).toBe(i === 0 ? (want.header_table_size ?? s) : (want.header_table_size ?? undefined));
        expect(o.output_length).toBe(want.wire.length / 2);
      });
      checked++;
    });
    expect(checked).toBe(191);
  }, 300_000);

  it('reports input_length, percentage_of_original_size and the Overall line as nghttp2 does', async () => {
    const r = await run('deflatehd', [], JSON.stringify({ cases: [{ headers: [{ ':method': 'GET' }, { 'x-é': 'ü' }] }, { headers: [] }] }));
    expect(r.code).toBe(0);
    const [a, b] = cases(r);
    expect(a!.input_length).toBe(7 + 3 + 4 + 2); // octets, UTF-8
    expect(a!.percentage_of_original_size).toBeCloseTo((a!.output_length! / 16) * 100, 10);
    expect(b!).toMatchObject({ input_length: 0, output_length: 0, percentage_of_original_size: 0, wire: '', headers: [] });
    // 10 / 16 = 0.625 exactly: C's %.02f rounds the tie to even (0.62), where toFixed gave 0.63.
    expect(a!.output_length).toBe(10);
    expect(r.stderr).toBe('Overall: input=16 output=10 ratio=0.62\n');
  });

  it('-s and -S: the first block starts with the size updates, header_table_size on the first case', async () => {
    const input = JSON.stringify({ cases: [{ headers: [{ ':method': 'GET' }] }, { headers: [{ ':method': 'GET' }], header_table_size: 100 }] });
    const r = await run('deflatehd', ['-s', '256', '-S', '512', '--apply-table-sizes'], input);
    const [a, b] = cases(r);
    expect(a!.wire).toBe('3fe10182'); // 256
    expect(a!.header_table_size).toBe(256);
    expect(b!.wire).toBe('3f4582'); // 100
    expect(b!.header_table_size).toBe(100);
    const r2 = await run('deflatehd', ['-S', '0'], input);
    expect(cases(r2)[0]!.wire).toBe('2082');
  });

  it("a case's header_table_size is ignored, as nghttp2 does; --apply-table-sizes applies it", async () => {
    const input = JSON.stringify({
      cases: [
        { headers: [{ ':method': 'GET' }], header_table_size: 4096 },
        { headers: [{ ':method': 'GET' }], header_table_size: 100 },
      ],
    });
    const plain = cases(await run('deflatehd', ['-s', '256'], input));
    expect(plain.map((c) => [c.wire, c.header_table_size])).toEqual([
      ['3fe10182', 256],
      ['82', undefined],
    ]);
    const applied = cases(await run('deflatehd', ['-s', '256', '--apply-table-sizes'], input));
    expect(applied.map((c) => [c.wire, c.header_table_size])).toEqual([
      ['3fe1013fe11f82', 4096],
      ['3f4582', 100],
    ]);
    // Ignored means not checked either: nghttp2 reads no such key.
    const odd = await run('deflatehd', [], JSON.stringify({ cases: [{ headers: [], header_table_size: 'big' }] }));
    expect(odd.code, odd.stderr).toBe(0);
  });

  it('deflatehd output piped into deflatehd -s 256 encodes with 256 (header_table_size on case 0 does not override -s)', async () => {
    const story = vectorJson<{ cases: StoryCase[] }>('hpack-test-case/raw-data/story_03.json');
    const first = await run('deflatehd', [], JSON.stringify({ cases: story.cases.map((c) => ({ headers: c.headers })) }));
    expect(cases(first)[0]!.header_table_size).toBe(4096);
    const again = await run('deflatehd', ['-s', '256', '-d'], first.stdout);
    expect(again.code, again.stderr).toBe(0);
    const out = cases(again);
    expect(out[0]!.wire.startsWith('3fe101')).toBe(true); // a dynamic table size update to 256 (RFC 7541 §6.3)
    expect(out[0]!.header_table_size).toBe(256);
    expect(out.every((c) => c.header_table!.max_size === 256)).toBe(true);
    const golden = vectorJson<{ cases: Array<{ wire: string }> }>('golden/s256/story_03.json');
    expect(out.map((c) => c.wire)).toEqual(golden.cases.map((c) => c.wire));
  });

  it('re-encoding the go-hpack stories (header_table_size 4096 on every case) adds no size updates', async () => {
    const files = vectorFolder('hpack-test-case/go-hpack');
    expect(files.length).toBeGreaterThan(0);
    await pool(files, 4, async (path) => {
      const story = vectorJson<{ cases: StoryCase[] }>(path);
      expect(story.cases.every((c) => c.header_table_size === 4096)).toBe(true);
      const fromGo = cases(await run('deflatehd', [], JSON.stringify(story)));
      const fromHeaders = cases(await run('deflatehd', [], JSON.stringify({ cases: story.cases.map((c) => ({ headers: c.headers })) })));
      expect(
        fromGo.map((c) => c.wire),
        path,
      ).toEqual(fromHeaders.map((c) => c.wire));
      expect(fromGo.filter((c) => c.wire.startsWith('3f')).length, path).toBe(0);
      expect(fromGo.slice(1).every((c) => c.header_table_size === undefined)).toBe(true);
    });
  }, 120_000);

  it('--strategy and --huffman produce other encodings that decode to the same headers', async () => {
    const story = vectorJson<{ cases: StoryCase[] }>('hpack-test-case/raw-data/story_05.json');
    const input = JSON.stringify({ cases: story.cases.map((c) => ({ headers: c.headers })) });
    const naive = vectorJson<{ cases: StoryCase[] }>('hpack-test-case/haskell-http2-naive/story_05.json');
    const r = await run('deflatehd', ['--strategy', 'naive', '--huffman', 'never'], input);
    expect(cases(r).map((c) => c.wire)).toEqual(naive.cases.map((c) => c.wire));
    for (const strategy of ['linear', 'static']) {
      for (const huffman of ['always', 'auto']) {
        const d = await run('deflatehd', ['--strategy', strategy, '--huffman', huffman], input);
        expect(d.code).toBe(0);
        const back = await run('inflatehd', ['--verify'], d.stdout);
        expect(back.code, back.stderr).toBe(0);
      }
    }
    const bad = await run('deflatehd', ['--strategy', 'best'], input);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^deflatehd: option '--strategy <name>' argument 'best' is invalid/);
  });

  describe('-t (HTTP/1 text)', () => {
    it('splits names at the first colon after the first char, drops spaces, tabs and CR, keeps the last set', async () => {
      const text = ':method: GET\r\n:path:\t /a:b\r\nx-empty:\r\n\r\n:status: 200\nserver:  h2kit';
      const r = await run('deflatehd', ['-t'], text);
      expect(r.code, r.stderr).toBe(0);
      const out = cases(r);
      expect(out.map((c) => c.headers)).toEqual([
        [{ ':method': 'GET' }, { ':path': '/a:b' }, { 'x-empty': '' }],
        [{ ':status': '200' }, { server: 'h2kit' }],
      ]);
      expect(out[0]!.header_table_size).toBe(4096);
      const json = await run('deflatehd', [], JSON.stringify({ cases: out.map((c) => ({ headers: c.headers })) }));
      expect(cases(json).map((c) => c.wire)).toEqual(out.map((c) => c.wire));
    });

    it('two blank lines make an empty set, as in nghttp2', async () => {
      const out = cases(await run('deflatehd', ['-t'], 'a: 1\n\n\nb: 2\n\n'));
      expect(out.map((c) => c.headers)).toEqual([[{ a: '1' }], [], [{ b: '2' }]]);
    });

    it('a line without a colon: that set is reported with its line and skipped, the others written', async () => {
      const r = await run('deflatehd', ['-t'], 'a: 1\n\nno colon here\nb: 2\n\nc: 3\n');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('deflatehd: header set 1: line 3: no \':\' in the header line "no colon here"\n');
      expect(cases(r).map((c) => [c.seq, c.headers])).toEqual([
        [0, [{ a: '1' }]],
        [2, [{ c: '3' }]],
      ]);
    });

    it('octets that are not UTF-8 are kept, as latin1 with header_encoding', async () => {
      const r = await run('deflatehd', ['-t'], Buffer.from('x: \xff\xfe ok\n', 'latin1'));
      expect(r.code).toBe(0);
      const [c] = cases(r);
      expect(c!.header_encoding).toBe('latin1');
      expect(c!.headers).toEqual([{ x: '\xff\xfe ok' }]);
      const back = await run('inflatehd', [], r.stdout);
      expect(cases(back)[0]).toMatchObject({ headers: [{ x: '\xff\xfe ok' }], header_encoding: 'latin1' });
    });
  });

  describe('bad input: a clear one-line error, exit 1, every good case still written', () => {
    const good = { headers: [{ a: 'b' }] };
    // The table-size rows need --apply-table-sizes: without it the key is ignored, as in nghttp2.
    const battery: Array<[string, string, RegExp, number[], string[]?]> = [
      [
        'case not an object',
        JSON.stringify({ cases: [good, 5, good] }),
        /^deflatehd: case 1: line 1, column \d+: the case is a number \(5\); a case must be an object$/m,
        [0, 2],
      ],
      [
        'no headers',
        JSON.stringify({ cases: [good, { wire: '82' }, good] }),
        /^deflatehd: case 1: line 1, column \d+: headers is missing; a case must have "headers", a list of one-field objects such as \[\{":method": "GET"\}\]$/m,
        [0, 2],
      ],
      [
        'header with two names',
        JSON.stringify({ cases: [{ headers: [{ a: 'b', c: 'd' }] }, good] }),
        /^deflatehd: case 0: .*headers\[0\] has 2 names \("a", "c"\); a header must be an object with exactly one name$/m,
        [1],
      ],
      [
        'value not a string',
        JSON.stringify({ cases: [good, { headers: [{ a: 1 }] }] }),
        /^deflatehd: case 1: .*headers\[0\]\.a is a number \(1\); a header value must be a string$/m,
        [0],
      ],
      [
        'negative table size',
        JSON.stringify({ cases: [good, { ...good, header_table_size: -1 }] }),
        /^deflatehd: case 1: .*header_table_size is a number \(-1\); it must be an integer from 0 to 4294967295$/m,
        [0],
        ['--apply-table-sizes'],
      ],
      [
        'table size too large',
        JSON.stringify({ cases: [{ ...good, header_table_size: 2 ** 32 }, good] }),
        /^deflatehd: case 0: .*header_table_size is a number \(4294967296\); it must be an integer from 0 to 4294967295$/m,
        [1],
        ['--apply-table-sizes'],
      ],
      [
        'lone surrogate',
        '{"cases": [{"headers": [{"a": "\\ud800"}]}, {"headers": [{"a": "b"}]}]}',
        /^deflatehd: case 0: .*headers\[0\]: the value has a lone surrogate/m,
        [1],
      ],
      [
        'bad header_encoding',
        JSON.stringify({ cases: [{ ...good, header_encoding: 'ebcdic' }, good] }),
        /^deflatehd: case 0: .*header_encoding is a string \("ebcdic"\); it must be "utf8" or "latin1"$/m,
        [1],
      ],
      [
        'syntax error inside a case',
        '{"cases": [\n{"headers": [{"a": "b"}]},\n{"headers": [{"a" "b"}]},\n{"headers": []}\n]}',
        /^deflatehd: case 1: line 3, column 19: invalid JSON: Expected ':' after property name$/m,
        [0, 2],
      ],
      [
        'truncated document',
        '{"cases": [{"headers": [{"a": "b"}]}, {"headers": [',
        /^deflatehd: line 1, column 52: unexpected end of input inside case 1 \(which starts at line 1, column 39\)$/m,
        [0],
      ],
      [
        'garbage between cases',
        '{"cases": [{"headers": []} x {"headers": []}]}',
        /^deflatehd: line 1, column 28: expected ',' or ']' after case 0, found 'x'$/m,
        [0],
      ],
      ['trailing garbage', '{"cases": [{"headers": []}]} {}', /^deflatehd: line 1, column 30: unexpected '\{' after the end of the document$/m, [0]],
      ['no cases array', '{"description": "x"}', /^deflatehd: line 1, column 20: the document has no "cases" array$/m, []],
      // Ignored members must still be JSON (not silently accepted), checked as they stream past.
      [
        'invalid JSON in an ignored key',
        '{"cases": [{"headers": []}], "x": [1}',
        /^deflatehd: line 1, column 37: invalid JSON in the value of "x": expected ',' or '\]', found '\}'$/m,
        [0],
      ],
      [
        'a broken literal in an ignored key',
        '{"x": tru, "cases": [{"headers": []}]}',
        /^deflatehd: line 1, column 10: invalid JSON in the value of "x": expected 'e' \(true\), found ','$/m,
        [],
      ],
      [
        'garbage in an ignored array',
        '{"x": [1,,2 garbage], "cases": []}',
        /^deflatehd: line 1, column 10: invalid JSON in the value of "x": expected a value, found ','$/m,
        [],
      ],
      [
        'invalid JSON in an ignored member of a case',
        '{"cases": [{"headers": [], "wire": [1,]}, {"headers": []}]}',
        /^deflatehd: case 0: line 1, column 39: invalid JSON: Unexpected token '\]', .*$/m,
        [1],
      ],
      [
        'a second "cases" key',
        '{"cases": [{"headers": [{"a": "1"}]}], "cases": [{"headers": []}]}',
        /^deflatehd: line 1, column 40: a second "cases" key: a document has one "cases" array \(the cases of the first were handled\)$/m,
        [0],
      ],
      ['not an object', '[1, 2]', /^deflatehd: line 1, column 1: expected '\{' to start the document, found '\['$/m, []],
      ['empty input', '', /^deflatehd: line 1, column 1: the input is empty$/m, []],
    ];
    for (const [name, input, message, written, args] of battery) {
      it(name, async () => {
        const r = await run('deflatehd', args ?? [], input);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
        expect(cases(r).map((c) => c.seq)).toEqual(written);
      });
    }

    it('input that is not UTF-8: reported with its position, never turned into U+FFFD', async () => {
      const input = Buffer.concat([
        Buffer.from('{"cases": [{"headers": [{"a": "1"}]}, {"headers": [{"b": "'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}]}, {"headers": []}]}'),
      ]);
      const r = await run('deflatehd', [], input);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^deflatehd: case 1: line 1, column 59: the input is not valid UTF-8 \(octet 0xc3\)$/m);
      expect(cases(r).map((c) => c.seq)).toEqual([0, 2]);
    });

    it('one case of 40 MB (a single 40 MB header value) is refused by the default --max-case-size (32M), the others encoded', async () => {
      const value = 'v'.repeat(40 * 1024 * 1024);
      const input = Buffer.from(`{"cases": [{"headers": [{"a": "1"}]},\n{"headers": [{"big": "${value}"}]},\n{"headers": [{"c": "3"}]}]}`);
      const r = await run('deflatehd', [], input);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^deflatehd: case 1: line 2, column 1: the case is larger than 32 MiB \(--max-case-size\); it was skipped$/m);
      expect(cases(r).map((c) => c.seq)).toEqual([0, 2]);
      // Raised, it is encoded (nghttp2's deflatehd would refuse a block over 64 KiB).
      const small = await run('deflatehd', ['--max-case-size', '1k'], `{"cases": [{"headers": [{"a": "1"}]}, {"headers": [{"b": "${'x'.repeat(2000)}"}]}]}`);
      expect(small.stderr).toMatch(/^deflatehd: case 1: line 1, column 39: the case is larger than 1024 octets \(--max-case-size\); it was skipped$/m);
      expect(cases(small).map((c) => c.seq)).toEqual([0]);
    }, 60_000);

    it('a missing file', async () => {
      const r = await run('deflatehd', ['/nonexistent/x.json']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^deflatehd: cannot read \/nonexistent\/x\.json: no such file$/m);
      expect(cases(r)).toEqual([]);
    });

    it('bad options exit 2 with a one-line message', async () => {
      for (const args of [['-s', 'abc'], ['-S', '-1'], ['--nope'], ['-s', '4294967296']]) {
        const r = await run('deflatehd', args, '{"cases": []}');
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr).toMatch(/^deflatehd: .+\ndeflatehd: try 'deflatehd --help'\n$/);
        expect(r.stdout).toBe('');
      }
    });
  });

  it('reads FILE, and --help shows the formats with an example', async () => {
    const dir = tempDir();
    const f = file(dir, 'in.json', JSON.stringify({ cases: [{ headers: [{ ':method': 'GET' }] }] }));
    expect(cases(await run('deflatehd', [f]))[0]!.wire).toBe('82');
    const h = await run('deflatehd', ['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('-t, --http1text');
    expect(h.stdout).toContain('-S, --deflate-table-size <N>');
    expect(h.stdout).toContain('{"cases": [{"headers": [{"name": "value"}, ...]}, ...]}');
    expect(h.stdout).toContain('Example:');
    const v = await run('deflatehd', ['--version']);
    expect(v.stdout).toMatch(/^deflatehd \(h2kit\) \d+\.\d+\.\d+\n$/);
  });

  it('shows progress (cases, MB read, MB/s) when stderr is a terminal', async () => {
    const dir = tempDir();
    const input = file(dir, 'big.json', JSON.stringify({ cases: Array.from({ length: 300000 }, (_, i) => ({ headers: [{ 'x-n': String(i) }] })) }));
    const out = join(dir, 'out.json');
    // script(1) gives the command a pseudo-terminal; stdout still goes to a file.
    const exeDir = process.env['H2KIT_CLI_DIR'];
    const cmd = `${exeDir ? join(exeDir, 'deflatehd') : join(ROOT, 'bin/deflatehd.cjs')} ${input} > ${out}`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, H2KIT_PROGRESS_AFTER_MS: '0' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\rdeflatehd: [\d,]+ cases, [\d.]+ MB read, [\d.]+ MB\/s/);
    expect(r.stdout).toMatch(/Overall: input=\d+/);
    expect(JSON.parse(readFileSync(out, 'utf8')).cases).toHaveLength(300000);
  });

  it('never shows progress in a pipe', async () => {
    const big = JSON.stringify({ cases: Array.from({ length: 20000 }, (_, i) => ({ headers: [{ 'x-n': String(i) }] })) });
    const r = await run('deflatehd', [], big, { H2KIT_PROGRESS_AFTER_MS: '0' });
    expect(r.stderr).toMatch(/^Overall: /);
    expect(r.stderr).not.toContain('\r');
  });
});
