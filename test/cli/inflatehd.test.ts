/** inflatehd end to end: the real bin/ command on real inputs. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binPath, cases, file, run, tempDir } from '../helpers/cli.js';
import { type StoryCase, vectorFiles, vectorFolder, vectorJson } from '../helpers/vectors.js';

const story = (cs: object[]) => JSON.stringify({ cases: cs });

describe('inflatehd', () => {
  it('deflatehd | inflatehd returns the headers of every raw-data story', async () => {
    const files = vectorFolder('hpack-test-case/raw-data');
    expect(files).toHaveLength(32);
    const queue = [...files];
    let done = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
          const d = await run('deflatehd', [], vectorFiles().get(path)!);
          expect(d.code).toBe(0);
          const i = await run('inflatehd', [], d.stdout);
          expect(i.code, i.stderr).toBe(0);
          const want = vectorJson<{ cases: StoryCase[] }>(path).cases.map((c) => c.headers);
          expect(
            cases(i).map((c) => c.headers),
            path,
          ).toEqual(want);
          expect(cases(i)[0]!.wire).toBe(cases(d)[0]!.wire);
          done++;
        }
      }),
    );
    expect(done).toBe(32);
  }, 300_000);

  it('--verify passes every story of every hpack-test-case folder and skips raw-data', async () => {
    const dir = tempDir();
    const paths: string[] = [];
    for (const [path, content] of vectorFiles()) {
      if (!path.startsWith('hpack-test-case/')) continue;
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
      paths.push(join(dir, path));
    }
    expect(paths).toHaveLength(478);
    const r = await run('inflatehd', ['--verify', ...paths.sort()]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('PASS '))).toHaveLength(446);
    expect(lines.filter((l) => l.startsWith('SKIP ')).every((l) => l.includes('/raw-data/'))).toBe(true);
    expect(lines.at(-1)).toBe('478 files: 446 passed, 0 failed, 32 skipped; 47142 cases verified');
    expect(r.stderr).toBe('');
  });

  it('--verify shows a short diff and exits 1 on a mismatch; each file is its own context', async () => {
    const dir = tempDir();
    const good = file(
      dir,
      'good.json',
      story([
        { wire: '82864188f439ce75c875fa5784', headers: [{ ':method': 'GET' }, { ':scheme': 'http' }, { ':authority': 'yahoo.co.jp' }, { ':path': '/' }] },
        { wire: 'be', headers: [{ ':authority': 'yahoo.co.jp' }] },
      ]),
    );
    const bad = file(dir, 'bad.json', story([{ wire: '8286', headers: [{ ':method': 'GET' }, { ':scheme': 'https' }] }]));
    const r = await run('inflatehd', ['--verify', good, bad, good]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `PASS ${good}: 2 cases\nFAIL ${bad}: 1 case differs (1 of its cases decoded)\nPASS ${good}: 2 cases\n3 files: 2 passed, 1 failed; 5 cases verified\n`,
    );
    expect(r.stderr).toBe(`inflatehd: ${bad}: case 0: decoded headers differ from "headers":\n  + [1] :scheme: http\n  - [1] :scheme: https\n`);
  });

  it('--verify with nothing verified fails (exit 1) and says why', async () => {
    const dir = tempDir();
    const raw = vectorFolder('hpack-test-case/raw-data')
      .slice(0, 3)
      .map((p, i) => file(dir, `raw${i}.json`, vectorFiles().get(p)!));
    const r = await run('inflatehd', ['--verify', ...raw]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('3 files: 0 passed, 0 failed, 3 skipped; 0 cases verified');
    expect(r.stderr).toBe(
      'inflatehd: nothing was verified: every file is raw header data without "wire" (encode it first: deflatehd < FILE | inflatehd --verify)\n',
    );
    const empty = await run('inflatehd', ['--verify'], story([]));
    expect(empty.code).toBe(1);
    expect(empty.stdout).toBe('FAIL (stdin): no cases to verify\n1 file: 0 passed, 1 failed; 0 cases verified\n');
    expect(empty.stderr).toBe('inflatehd: nothing was verified: no file has a case to decode\n');
    // One file with nothing among files that verify: that file fails, the run does too.
    const good = file(dir, 'good.json', story([{ wire: '82', headers: [{ ':method': 'GET' }] }]));
    const none = file(dir, 'none.json', story([]));
    const mixed = await run('inflatehd', ['--verify', good, none]);
    expect(mixed.code).toBe(1);
    expect(mixed.stdout).toBe(`PASS ${good}: 1 case\nFAIL ${none}: no cases to verify\n2 files: 1 passed, 1 failed; 1 case verified\n`);
  });

  it('--verify: a case with bad "headers" is reported and still decoded, in order, so later cases keep their context', async () => {
    const input = story([
      { wire: '82', headers: [{ ':method': 'GET' }] },
      { wire: '418cf1e3c2e5f23a6ba0ab90f4ff', headers: [null] }, // inserts :authority www.example.com (RFC 7541 C.4.1)
      { wire: 'be', headers: [{ ':authority': 'www.example.com' }] }, // refers to it
      { wire: 'be', headers: [{ ':authority': 'www.example.com' }], extra: 5 },
    ]);
    const r = await run('inflatehd', ['--verify'], input);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('FAIL (stdin): 1 error (4 of its cases decoded)\n1 file: 0 passed, 1 failed; 4 cases verified\n');
    expect(r.stderr).toBe(
      'inflatehd: (stdin): case 1: line 1, column 55: headers[0] is null; a header must be an object with exactly one name, such as {":path": "/"}\n',
    );
  });

  it('-d dumps the table after each case', async () => {
    const r = await run('inflatehd', ['-d'], story([{ wire: '82864188f439ce75c875fa5784' }]));
    expect(cases(r)[0]!.header_table).toEqual({ entries: [{ index: 62, name: ':authority', value: 'yahoo.co.jp', size: 53 }], size: 53, max_size: 4096 });
  });

  it('--explain describes every representation (RFC 7541 C.4.1, C.4.3)', async () => {
    const r = await run(
      'inflatehd',
      ['--explain'],
      story([
        { wire: '828684418cf1e3c2e5f23a6ba0ab90f4ff' },
        { wire: '828684be5886a8eb10649cbf' },
        { wire: '3fe11f828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf' },
      ]),
    );
    expect(r.code, r.stderr).toBe(0);
    const [a, , b] = cases(r);
    expect(a!.trace).toEqual([
      { offset: 0, bytes: '82', kind: 'indexed', index: 2, name: ':method', value: 'GET' },
      { offset: 1, bytes: '86', kind: 'indexed', index: 6, name: ':scheme', value: 'http' },
      { offset: 2, bytes: '84', kind: 'indexed', index: 4, name: ':path', value: '/' },
      {
        offset: 3,
        bytes: '418cf1e3c2e5f23a6ba0ab90f4ff',
        kind: 'literal-incremental',
        index: 1,
        value_huffman: true,
        name: ':authority',
        value: 'www.example.com',
        inserted: true,
        evicted: 0,
      },
    ]);
    expect(b!.trace![0]).toEqual({ offset: 0, bytes: '3fe11f', kind: 'size-update', size: 4096, evicted: 0 });
    expect(b!.trace![4]).toEqual({ offset: 6, bytes: 'bf', kind: 'indexed', index: 63, name: ':authority', value: 'www.example.com' });
    expect(b!.trace![5]).toMatchObject({
      offset: 7,
      kind: 'literal-incremental',
      name_huffman: true,
      value_huffman: true,
      name: 'custom-key',
      value: 'custom-value',
    });
  });

  it('header_table_size appears when the maximum changed during the case; -s sets the initial SETTINGS', async () => {
    const r = await run('inflatehd', [], story([{ wire: '82' }, { wire: '3f4582', header_table_size: 100 }, { wire: '82' }]));
    expect(cases(r).map((c) => c.header_table_size)).toEqual([undefined, 100, undefined]);
    const low = await run('inflatehd', ['-s', '100'], story([{ wire: '82' }]));
    expect(low.code).toBe(1);
    expect(low.stderr).toContain(
      'inflatehd: case 0: byte 0: the maximum table size was lowered to 100, but the block does not start with a dynamic table size update [SIZE_UPDATE_MISSING]',
    );
    // As nghttp2: -s lowers the maximum before the first case, so signalling it changes nothing.
    const ok = await run('inflatehd', ['-s', '100'], story([{ wire: '3f4582' }]));
    expect(ok.code).toBe(0);
    expect(cases(ok)[0]!.headers).toEqual([{ ':method': 'GET' }]);
    expect(cases(ok)[0]!.header_table_size).toBeUndefined();
  });

  it('a value that is not UTF-8 is written as latin1 and round-trips through deflatehd', async () => {
    const wire = '400178' + '03ff00e9'; // x: ff 00 e9
    const r = await run('inflatehd', [], story([{ wire }, { wire: 'be' }]));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'inflatehd: case 0: a name or value is not UTF-8; written with "header_encoding": "latin1"\ninflatehd: case 1: a name or value is not UTF-8; written with "header_encoding": "latin1"\n',
    );
    expect(cases(r)[0]).toMatchObject({ headers: [{ x: '\xff\x00\xe9' }], header_encoding: 'latin1' });
    const d = await run('deflatehd', ['--huffman', 'never'], r.stdout);
    expect(cases(d)[0]!.wire).toBe(wire);
  });

  describe('bad input', () => {
    it('bad hex: the case and position are named, later cases are skipped (context lost), earlier ones written', async () => {
      const r = await run('inflatehd', [], story([{ wire: '82' }, { wire: '8286' }, { wire: '82864' }, { wire: '82' }, { wire: '82' }]));
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'inflatehd: case 2: line 1, column 41: wire: odd number of hex digits at position 5\n' +
          'inflatehd: case 3: skipped, with every later case: the compression context was lost at case 2\n' +
          'inflatehd: 2 cases skipped after case 2\n',
      );
      expect(cases(r).map((c) => c.seq)).toEqual([0, 1]);
      const g = await run('inflatehd', [], story([{ wire: '8g' }]));
      expect(g.stderr).toMatch(/^inflatehd: case 0: line 1, column 11: wire: invalid hex digit "g" at position 1$/m);
    });

    it('an HPACK decoding error names the case and the byte offset', async () => {
      const r = await run('inflatehd', [], story([{ wire: '82' }, { wire: '8286c0' }, { wire: '82' }]));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^inflatehd: case 1: byte 2: index 64 is beyond the static and dynamic table \(61 entries\) \[INDEX_OUT_OF_RANGE\]$/m);
      expect(r.stderr).toMatch(/^inflatehd: case 2: skipped, with every later case: the compression context was lost at case 1$/m);
      expect(cases(r).map((c) => c.seq)).toEqual([0]);
    });

    it('a header list over --max-header-list-size fails that case only', async () => {
      const r = await run('inflatehd', ['--max-header-list-size', '60'], story([{ wire: '8282' }, { wire: '82' }]));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^inflatehd: case 0: byte 1: decoded header list exceeds 60 octets .*\[HEADER_LIST_TOO_LARGE\]$/m);
      expect(cases(r).map((c) => c.seq)).toEqual([1]);
    });

    it('a JSON syntax error ends the input with line and column; output stays valid JSON', async () => {
      const r = await run('inflatehd', [], '{"cases": [\n  {"wire": "82"},\n  {"wire": "82"}\n  {"wire": "82"}\n]}');
      expect(r.code).toBe(1);
      expect(r.stderr).toBe("inflatehd: line 4, column 3: expected ',' or ']' after case 1, found '{'\n");
      expect(cases(r).map((c) => c.seq)).toEqual([0, 1]);
    });

    it('"headers" is skipped unless --verify, but must still be JSON', async () => {
      // Any JSON value is fine where nothing reads it, as any other ignored key.
      const ok = await run(
        'inflatehd',
        [],
        story([
          { wire: '82', headers: 5 },
          { wire: '82', headers: [{ a: 1, b: [null] }] },
        ]),
      );
      expect(ok.code, ok.stderr).toBe(0);
      expect(cases(ok).map((c) => c.headers)).toEqual([[{ ':method': 'GET' }], [{ ':method': 'GET' }]]);
      const bad = await run('inflatehd', [], '{"cases": [{"wire": "82"}, {"wire": "82", "headers": [{"a": "b"},, ]}, {"wire": "82"}]}');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^inflatehd: case 1: line 1, column 66: invalid JSON: /m);
      expect(cases(bad).map((c) => c.seq)).toEqual([0]);
      const top = await run('inflatehd', [], '{"cases": [{"wire": "82"}], "description": "a\\qb"}');
      expect(top.code).toBe(1);
      expect(top.stderr).toBe('inflatehd: line 1, column 47: invalid JSON in the value of "description": invalid escape \'q\' after a backslash\n');
      expect(cases(top).map((c) => c.seq)).toEqual([0]);
    });

    it('a case larger than --max-case-size is reported and skipped (its context is lost); the default holds a big one', async () => {
      const big = story([{ wire: '82' }, { wire: '82', description: 'x'.repeat(3 << 20) }, { wire: '82' }]);
      const r = await run('inflatehd', ['--max-case-size', '1M'], big);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'inflatehd: case 1: line 1, column 25: the case is larger than 1 MiB (--max-case-size); it was skipped\n' +
          'inflatehd: case 2: skipped, with every later case: the compression context was lost at case 1\n',
      );
      expect(cases(r).map((c) => c.seq)).toEqual([0]);
      const d = await run('inflatehd', [], big);
      expect(d.code, d.stderr).toBe(0);
      expect(cases(d).map((c) => c.seq)).toEqual([0, 1, 2]);
      const opt = await run('inflatehd', ['--max-case-size', 'lots']);
      expect(opt.code).toBe(2);
    });

    it('usage errors exit 2', async () => {
      const two = await run('inflatehd', ['a.json', 'b.json']);
      expect(two.code).toBe(2);
      expect(two.stderr).toMatch(/^inflatehd: more than one FILE needs --verify/);
      const mix = await run('inflatehd', ['--verify', '-d']);
      expect(mix.code).toBe(2);
    });
  });

  describe('output that cannot be written', () => {
    /** Runs `cmd ARGS > sink` (or `| head -c 10`) in a shell; the command's exit status and stderr. */
    const shell = (cmd: string, args: string[], input: string, sink: string) => {
      const dir = tempDir();
      const f = file(dir, 'in.json', input);
      const exeDir = process.env['H2KIT_CLI_DIR'];
      const bin = exeDir ? join(exeDir, cmd) : binPath(cmd);
      const script = `"${bin}" ${args.join(' ')} "${f}" 2>"${dir}/err" ${sink}; echo "\${PIPESTATUS[0]}"; cat "${dir}/err"`;
      const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
      const [code, ...err] = r.stdout.split('\n');
      return { code: Number(code), stderr: err.join('\n') };
    };
    const big = story(Array.from({ length: 30000 }, () => ({ wire: '82864188f439ce75c875fa5784' })));

    it('a closed stdout (| head) is a silent exit 141, with or without --explain; the input is not blamed', () => {
      for (const args of [[], ['--explain'], ['-d']]) {
        const r = shell('inflatehd', args, big, '| head -c 10 >/dev/null');
        expect(r.code, args.join(' ')).toBe(141);
        expect(r.stderr, args.join(' ')).toBe('');
      }
      const d = shell('deflatehd', [], story(Array.from({ length: 30000 }, () => ({ headers: [{ ':method': 'GET' }] }))), '| head -c 10 >/dev/null');
      expect([d.code, d.stderr]).toEqual([141, '']);
    });

    it('a write error (ENOSPC on /dev/full) is exit 70 with one line that names the output', () => {
      for (const cmd of ['inflatehd', 'deflatehd']) {
        const input = cmd === 'inflatehd' ? big : story([{ headers: [{ a: 'b' }] }]);
        const r = shell(cmd, [], input, '>/dev/full');
        expect(r.code, cmd).toBe(70);
        expect(r.stderr, cmd).toMatch(new RegExp(`^${cmd}: cannot write output: ENOSPC: no space left on device, write\n$`));
      }
    });
  });

  it('--help shows the formats with an example', async () => {
    const h = await run('inflatehd', ['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('{"cases": [{"wire": "8286..."}, ...]}');
    expect(h.stdout).toContain('--verify');
    expect(h.stdout).toContain('--explain');
    expect(h.stdout).toContain('Examples:');
  });
});
