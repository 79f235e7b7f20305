/**
 * The single-file executables (npm run build:exe) pass the whole end-to-end
 * CLI suite, run from a folder with no node_modules anywhere above it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/cli.js';

describe('single-file executables', () => {
  it('build, and pass the CLI end-to-end tests without node_modules', () => {
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build-exe.mjs')], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const dir = tempDir('h2kit-exe-');
    for (let d = dir; d !== dirname(d); d = dirname(d)) expect(existsSync(join(d, 'node_modules')), d).toBe(false);
    const names = readdirSync(join(ROOT, 'dist-exe')).filter((f) => statSync(join(ROOT, 'dist-exe', f)).isFile());
    expect(names.sort()).toEqual(expect.arrayContaining(['deflatehd', 'inflatehd', 'h2proxy']));
    for (const n of names) copyFileSync(join(ROOT, 'dist-exe', n), join(dir, n));
    spawnSync('chmod', ['+x', ...names.map((n) => join(dir, n))]);

    // The executables run with an empty environment apart from PATH: no Node needed.
    const v = spawnSync(join(dir, 'deflatehd'), ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, cwd: dir });
    expect(v.stdout).toMatch(/^deflatehd \(h2kit\) /);
    // h2proxy bundles its HTTP/1.1 client (undici, with its WebAssembly parser): it starts and proxies with no Node around.
    const hv = spawnSync(join(dir, 'h2proxy'), ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, cwd: dir });
    expect(hv.stdout, hv.stderr).toMatch(/^h2proxy \(h2kit\) /);
    const pr = spawnSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'test/proxy/h2proxy.test.ts', '-t', 'h2c\\)', '--reporter=dot'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, H2KIT_CLI_DIR: dir, H2KIT_SKIP_BUILD: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    expect(pr.status, pr.stdout.slice(-3000) + pr.stderr.slice(-2000)).toBe(0);
    expect(pr.stdout).toMatch(/Tests\s+1 passed/);

    const vitest = join(ROOT, 'node_modules/vitest/vitest.mjs');
    const r = spawnSync(process.execPath, [vitest, 'run', 'test/cli', '--reporter=dot'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, H2KIT_CLI_DIR: dir, H2KIT_SKIP_BUILD: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    expect(r.status, r.stdout.slice(-3000) + r.stderr.slice(-2000)).toBe(0);
    const passed = /Tests\s+(\d+) passed/.exec(r.stdout);
    expect(Number(passed?.[1])).toBeGreaterThanOrEqual(40);
  }, 600_000);
});
