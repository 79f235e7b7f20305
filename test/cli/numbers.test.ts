/** The numbers deflatehd prints, digit for digit as nghttp2's deflatehd (glibc printf and jansson). */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { janssonReal, printfFixed, printfG } from '../../src/cli/printf.js';
import { cases, run, tempDir } from '../helpers/cli.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** "OUTPUT INPUT PERCENTAGE RATIO" lines, as fixtures/number-oracle.c prints them. */
function parseOracle(text: string): Array<[number, number, string, string]> {
  return text
    .trim()
    .split('\n')
    .map((l) => {
      const [o, i, pct, ratio] = l.split(' ');
      return [Number(o), Number(i), pct!, ratio!];
    });
}

/** The same expressions as nghttp2's deflatehd, printed by our formatters. */
function ours(out: number, input: number): [string, string] {
  return [janssonReal(input === 0 ? 0 : (out / input) * 100), printfFixed(input === 0 ? 0 : out / input, 2)];
}

describe('numbers as nghttp2 prints them', () => {
  it('agree with glibc and jansson on every recorded pair (ties, integers, exponents)', () => {
    const rows = parseOracle(readFileSync(join(FIXTURES, 'numbers-nghttp2.txt'), 'utf8'));
    expect(rows.length).toBeGreaterThan(3900);
    const bad = rows.filter(([o, i, pct, ratio]) => ours(o, i).join(' ') !== `${pct} ${ratio}`);
    expect(bad.slice(0, 5)).toEqual([]);
    // The cases where JavaScript's own rounding or formatting differs from C's are in there.
    expect(rows.some(([o, i, , ratio]) => o === 2 && i === 16 && ratio === '0.12')).toBe(true);
    expect(rows.some(([, , pct]) => pct === '400.0')).toBe(true);
    expect(rows.some(([, , pct]) => /e-\d$/.test(pct))).toBe(true);
  });

  it('printfFixed and printfG round the exact binary value half to even, as C does', () => {
    expect([0.125, 0.375, 2.5, 1.005, 0.5].map((x) => printfFixed(x, 2))).toEqual(['0.12', '0.38', '2.50', '1.00', '0.50']);
    expect([2.5, 3.5, 0.5].map((x) => printfFixed(x, 0))).toEqual(['2', '4', '0']);
    expect(printfG(1 / 3)).toBe('0.33333333333333331');
    expect(printfG(1e-5)).toBe('1.0000000000000001e-05');
    expect(printfG(1e20)).toBe('1e+20');
    expect(janssonReal(1e20)).toBe('1e20');
    expect(janssonReal(0)).toBe('0.0');
  });

  // With a C compiler and libjansson-dev (as on the project's machines), fresh pairs are checked live.
  const haveCc = spawnSync('sh', ['-c', 'command -v cc'], { encoding: 'utf8' }).status === 0 && existsSync('/usr/include/jansson.h');
  it.skipIf(!haveCc)('agree with a freshly built glibc/jansson oracle on random pairs', () => {
    const dir = tempDir();
    const bin = join(dir, 'number-oracle');
    execFileSync('cc', ['-O2', join(FIXTURES, 'number-oracle.c'), '-o', bin, '-ljansson']);
    const pairs: string[] = [];
    for (let k = 0; k < 20000; k++) {
      const input = 1 + Math.floor(Math.random() * (k % 2 ? 100 : 5_000_000));
      pairs.push(`${Math.floor(Math.random() * input * 3)} ${input}`);
    }
    const rows = parseOracle(execFileSync(bin, { input: pairs.join('\n'), encoding: 'utf8' }));
    expect(rows).toHaveLength(20000);
    const bad = rows.filter(([o, i, pct, ratio]) => ours(o, i).join(' ') !== `${pct} ${ratio}`);
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it("deflatehd -t prints nghttp2's ratio=0.12 and percentage 12.5 for :method GET, :path /", async () => {
    const r = await run('deflatehd', ['-t'], ':method: GET\n:path: /\n\n');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('Overall: input=16 output=2 ratio=0.12\n');
    expect(r.stdout).toContain('"percentage_of_original_size": 12.5,\n');
  });

  it('deflatehd writes percentage_of_original_size with 17 significant digits, and 0.0 and 250.0 as jansson does', async () => {
    const input = JSON.stringify({
      cases: [
        { headers: [{ ':method': 'GET' }, { ':scheme': 'http' }, { ':authority': 'yahoo.co.jp' }] },
        { headers: [{ '': '' }] },
        { headers: [{ x: 'y' }] },
      ],
    });
    const r = await run('deflatehd', [], input);
    expect(r.code).toBe(0);
    const texts = [...r.stdout.matchAll(/"percentage_of_original_size": ([^,\n]+),/g)].map((m) => m[1]);
    const out = cases(r);
    expect(texts).toEqual(out.map((c) => janssonReal(c.input_length === 0 ? 0 : (c.output_length! / c.input_length!) * 100)));
    expect(texts[1]).toBe('0.0');
    expect(texts[2]).toBe('250.0'); // x: y, a new name: 5 octets for 2
    expect(out[0]!.output_length).toBe(12);
    expect(texts[0]).toBe('28.571428571428569'); // 12 / 42 (JavaScript's shortest form: 28.57142857142857)
  });
});
