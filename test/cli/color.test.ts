/**
 * Colour of h2serve's and h2get's -v output: one decision
 * (colorFromEnvironment: --color, FORCE_COLOR, NO_COLOR, a terminal) and
 * one way of drawing (NGHTTP2_PAINT, Node's util.styleText); nothing in
 * src computes a colour level around chalk any more.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import util from 'node:util';
import { describe, expect, it } from 'vitest';
import { colorFromEnvironment } from '../../src/cli/common.js';
import { NGHTTP2_PAINT } from '../../src/h2/frame-lines.js';
import { ROOT } from '../helpers/cli.js';

describe('whether to colour', () => {
  const cases: Array<[string, NodeJS.ProcessEnv, boolean, boolean, boolean]> = [
    // name, env, terminal, --color, expected
    ['a terminal', {}, true, false, true],
    ['a pipe', {}, false, false, false],
    ['--color on a pipe', {}, false, true, true],
    ['NO_COLOR on a terminal', { NO_COLOR: '1' }, true, false, false],
    ['an empty NO_COLOR is unset (no-color.org)', { NO_COLOR: '' }, true, false, true],
    ['--color wins over NO_COLOR', { NO_COLOR: '1' }, false, true, true],
    ['FORCE_COLOR=1 on a pipe', { FORCE_COLOR: '1' }, false, false, true],
    ['FORCE_COLOR wins over NO_COLOR', { FORCE_COLOR: '1', NO_COLOR: '1' }, false, false, true],
    ['FORCE_COLOR=0 on a terminal', { FORCE_COLOR: '0' }, true, false, false],
    ['FORCE_COLOR=false on a terminal', { FORCE_COLOR: 'false' }, true, false, false],
    ['--color wins over FORCE_COLOR=0', { FORCE_COLOR: '0' }, true, true, true],
  ];
  for (const [name, env, tty, flag, want] of cases) {
    it(`${name}: ${want ? 'colour' : 'none'}`, () => expect(colorFromEnvironment(tty, flag, env)).toBe(want));
  }
});

describe('how colour is drawn', () => {
  it("nghttp2's colours (bold cyan, bold magenta, bold blue) with util.styleText, whatever stdout is", () => {
    const sgr = (codes: [number, number][], s: string) => codes.reduce((acc, [on, off]) => `\x1b[${on}m${acc}\x1b[${off}m`, s);
    expect(NGHTTP2_PAINT.recv('HEADERS')).toBe(
      sgr(
        [
          [36, 39],
          [1, 22],
        ],
        'HEADERS',
      ),
    );
    expect(NGHTTP2_PAINT.send('DATA')).toBe(
      sgr(
        [
          [35, 39],
          [1, 22],
        ],
        'DATA',
      ),
    );
    expect(NGHTTP2_PAINT.name(':path')).toBe(
      sgr(
        [
          [34, 39],
          [1, 22],
        ],
        ':path',
      ),
    );
    expect(NGHTTP2_PAINT.recv('x')).toBe(util.styleText('bold', util.styleText('cyan', 'x', { validateStream: false }), { validateStream: false }));
  });

  it('no source file draws colour another way (chalk, a level computed by hand)', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
        d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
      );
    const offenders = files(join(ROOT, 'src')).filter((f) => /from 'chalk'|new Chalk\(|\blevel: color/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
