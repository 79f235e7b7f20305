/**
 * --help of every command, in one style (src/cli/help.ts): each default
 * written once, by the formatter, as "(default: x)"; none for flags and
 * repeatable options; choices as "(choices: a, b; default: a)"; terms in one
 * column, a longer one on its own line; 80 columns when not on a terminal.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { program } from '../../src/cli/common.js';
import { TERM_COLUMN } from '../../src/cli/help.js';
import { ROOT } from '../helpers/cli.js';

const COMMANDS = ['deflatehd', 'inflatehd', 'h2serve', 'h2get', 'h2proxy', 'h2bench'];

function help(cmd: string): string {
  const exeDir = process.env['H2KIT_CLI_DIR'];
  const launcher = exeDir ? join(exeDir, cmd) : [join(ROOT, 'bin', `${cmd}.cjs`), join(ROOT, 'bin', `${cmd}.js`)].find((f) => existsSync(f))!;
  const r = spawnSync(launcher, ['--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: undefined } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** The entries of the Arguments and Options sections: [term, description], continuation lines joined. */
function entries(text: string): Array<{ term: string; description: string; column: number | null }> {
  const out: Array<{ term: string; description: string; column: number | null }> = [];
  let inList = false;
  for (const line of text.split('\n')) {
    if (/^(Arguments|Options):$/.test(line)) {
      inList = true;
      continue;
    }
    if (!inList) continue;
    if (line === '') {
      inList = false;
      continue;
    }
    const m = /^  (\S(?:.*?\S)?)(?:( {2,})(\S.*))?$/.exec(line);
    if (m && !line.startsWith('   ')) {
      out.push({ term: m[1]!, description: m[3] ?? '', column: m[3] !== undefined ? 2 + m[1]!.length + m[2]!.length : null });
    } else {
      const last = out[out.length - 1]!;
      last.description = `${last.description} ${line.trim()}`.trim();
    }
  }
  return out;
}

describe('--help of every command', () => {
  for (const cmd of COMMANDS) {
    it(`${cmd}: one default per option, in the one style; nothing over 80 columns; one description column`, () => {
      const text = help(cmd);
      expect(text.startsWith(`Usage: ${cmd} `)).toBe(true);
      const long = text.split('\n').filter((l) => l.length > 80);
      expect(long).toEqual([]);
      const list = entries(text);
      expect(list.length).toBeGreaterThan(5);
      for (const { term, description } of list) {
        const where = `${cmd}: ${term}`;
        expect(description, where).not.toBe('');
        // Defaults: only the formatter's "(default: x)" / "; default: x)", once.
        expect(description.match(/default/gi)?.length ?? 0, where).toBeLessThanOrEqual(1);
        if (/default/i.test(description)) expect(description, where).toMatch(/[(;] ?default: [^)]+\)$/);
        expect(description, where).not.toMatch(/default: (\[\]|"|')/);
        expect(description, where).not.toMatch(/choices: "/);
      }
      // Descriptions start in one column, at most TERM_COLUMN wide plus the indent and the gap.
      const columns = new Set(list.filter((e) => e.column !== null).map((e) => e.column));
      expect(columns.size, `${cmd}: ${[...columns].join(', ')}`).toBe(1);
      expect([...columns][0]!).toBeLessThanOrEqual(2 + TERM_COLUMN + 2);
    });
  }
});

describe('the help style', () => {
  function render(build: (p: Command) => void): string {
    const p = program('demo', 'A demo.');
    p.configureOutput({ getOutHelpWidth: () => 80 });
    build(p);
    return p.helpInformation();
  }

  it('shows a default given to the option once; one applied later (default(undefined, words)) too; none for flags and empty lists', () => {
    const text = render((p) =>
      p
        .option('-n, --count <N>', 'how many', '3')
        .addOption(new Option('-w, --window <N>', 'the window').default(undefined, '16'))
        .option('-H, --header <H>', 'a header (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
        .option('--no-thing', 'no thing')
        .option('-q, --quiet', 'say less'),
    );
    expect(text).toMatch(/-n, --count <N> +how many \(default: 3\)\n/);
    expect(text).toMatch(/-w, --window <N> +the window \(default: 16\)\n/);
    expect(text).toMatch(/-H, --header <H> +a header \(repeatable\)\n/);
    expect(text).toMatch(/--no-thing +no thing\n/);
    expect(text).toMatch(/-q, --quiet +say less\n/);
  });

  it('choices and default in one parenthesis, without quotes', () => {
    const text = render((p) => p.addOption(new Option('--mode <m>', 'how').choices(['a', 'b']).default('a')));
    expect(text).toMatch(/--mode <m> +how \(choices: a, b; default: a\)\n/);
  });

  it('a term wider than the column stands on its own line; the description wraps under the column', () => {
    const text = render((p) => p.option('--a-very-long-option-name-indeed <VALUE>', 'word '.repeat(30).trim()).option('-s', 'short'));
    const lines = text.split('\n');
    const i = lines.findIndex((l) => l.includes('--a-very-long-option-name-indeed'));
    expect(lines[i]).toBe('  --a-very-long-option-name-indeed <VALUE>');
    const column = lines.find((l) => l.startsWith('  -s '))!.indexOf('short');
    expect(lines[i + 1]!.indexOf('word')).toBe(column);
    expect(lines[i + 2]!.indexOf('word')).toBe(column);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
  });
});
