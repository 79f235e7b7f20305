/**
 * The single executable (npm run build:exe): one file for all the commands,
 * with a link per command, that passes the end-to-end CLI suites through its
 * links from a folder with no node_modules anywhere above it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/exe/choose.js';
import { VERSION } from '../../src/version.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { bundledPackages, expectNoticesCover } from '../helpers/notices.js';

const EXE_DIR = join(ROOT, 'dist-exe');
let dir = '';
let copyDir = '';
// The executables run with an empty environment apart from PATH: no Node needed.
const bare = { PATH: '/usr/bin:/bin' };

/** Runs the vitest files `args` against the executables in `dir` (H2KIT_CLI_DIR); returns the count of passed tests. */
function suites(args: string[]): number {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', ...args, '--reporter=dot'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, H2KIT_CLI_DIR: dir, H2KIT_SKIP_BUILD: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  expect(r.status, r.stdout.slice(-3000) + r.stderr.slice(-2000)).toBe(0);
  return Number(/Tests\s+(\d+) passed/.exec(r.stdout)?.[1]);
}

describe('the single executable', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-exe.mjs')], { cwd: ROOT, stdio: 'pipe' });
    dir = tempDir('h2kit-exe-');
    for (let d = dir; d !== dirname(d); d = dirname(d)) expect(existsSync(join(d, 'node_modules')), d).toBe(false);
    cpSync(EXE_DIR, dir, { recursive: true, verbatimSymlinks: true });
  }, 300_000);

  // About 100 MiB each.
  afterAll(() => {
    for (const d of [dir, copyDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('is one file, h2kit, with a link to it named after each command and THIRD-PARTY-NOTICES beside it', async () => {
    const entries = readdirSync(EXE_DIR).sort();
    expect(entries).toEqual(['THIRD-PARTY-NOTICES', ...COMMANDS, 'h2kit'].sort());
    for (const c of COMMANDS) {
      expect(lstatSync(join(EXE_DIR, c)).isSymbolicLink(), c).toBe(true);
      expect(readlinkSync(join(EXE_DIR, c)), c).toBe('h2kit');
    }
    expect(lstatSync(join(EXE_DIR, 'h2kit')).isFile()).toBe(true);
    const notices = readFileSync(join(EXE_DIR, 'THIRD-PARTY-NOTICES'), 'utf8');
    expectNoticesCover(notices, await bundledPackages());
    // The executable is also Node.js: its licence is there too.
    expect(notices).toContain(`\nNode.js ${process.version} (the runtime of the executable)\n`);
    expect(notices).toMatch(/Node\.js is licensed for use as follows:/);
  });

  it('picks the command from the name it was started under, or from its first argument', () => {
    for (const c of COMMANDS) {
      const byLink = spawnSync(join(dir, c), ['--version'], { encoding: 'utf8', env: bare, cwd: dir });
      expect(byLink.stdout, byLink.stderr).toBe(`${c} (h2kit) ${VERSION}\n`);
      const byArg = spawnSync(join(dir, 'h2kit'), [c, '--version'], { encoding: 'utf8', env: bare, cwd: dir });
      expect(byArg.stdout, byArg.stderr).toBe(`${c} (h2kit) ${VERSION}\n`);
    }
    // Found on PATH by its bare name (argv[0] is then just "deflatehd"), and a copy under another name.
    const story = JSON.stringify({ cases: [{ headers: [{ ':method': 'GET' }] }] });
    const onPath = spawnSync('deflatehd', [], { input: story, encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin` } });
    expect(JSON.parse(onPath.stdout).cases[0].wire, onPath.stderr).toBe('82');
    copyDir = tempDir('h2kit-exe-copy-');
    const renamed = join(copyDir, 'h2kit-x64');
    copyFileSync(join(dir, 'h2kit'), renamed);
    const i = spawnSync(renamed, ['inflatehd', '--verify'], { input: onPath.stdout, encoding: 'utf8', env: bare });
    expect(i.stdout, i.stderr).toContain('1 case verified');
    // A link named after a command, to the renamed copy, runs that command.
    const named = join(dirname(renamed), 'inflatehd');
    symlinkSync(renamed, named);
    expect(spawnSync(named, ['--version'], { encoding: 'utf8', env: bare }).stdout).toBe(`inflatehd (h2kit) ${VERSION}\n`);

    const help = spawnSync(join(dir, 'h2kit'), ['--help'], { encoding: 'utf8', env: bare });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain(`Commands: ${COMMANDS.join(', ')}`);
    expect(spawnSync(join(dir, 'h2kit'), ['--version'], { encoding: 'utf8', env: bare }).stdout).toBe(`h2kit ${VERSION}\n`);
    for (const [args, message] of [
      [[], 'no command given'],
      [['deflate', 'x'], "unknown command 'deflate'"],
    ] as const) {
      const r = spawnSync(join(dir, 'h2kit'), args, { encoding: 'utf8', env: bare });
      expect(r.status).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(`h2kit: ${message}`);
      expect(r.stdout).toBe('');
    }
  });

  it('passes the CLI suites through its links: the file tools (schema asset), h2get, h2bench (threads), h2serve (workers, daemon), h2proxy (h2c, workers, daemon)', () => {
    expect(suites(['test/cli'])).toBeGreaterThanOrEqual(150);
    expect(suites(['test/server/h2serve-cli.test.ts'])).toBeGreaterThanOrEqual(20);
    expect(suites(['test/proxy/h2proxy.test.ts', '-t', 'h2c|--daemon with --pid-file'])).toBeGreaterThanOrEqual(3);
  }, 900_000);
});
