/** .ci/run, with npm and dpkg-query replaced by recorders: the order of the steps and the exit status. */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/cli.js';

/** Runs a copy of .ci/run where `npm run typecheck` exits `typecheck`, `npm run lint` exits `lint` and `npm test` exits `tests`; returns npm's calls and the status. */
function ci(typecheck: number, tests: number, lint = 0): { calls: string[]; status: number | null; stderr: string } {
  const dir = tempDir('h2kit-ci-');
  mkdirSync(join(dir, '.ci'));
  copyFileSync(join(ROOT, '.ci/run'), join(dir, '.ci/run'));
  const bin = join(dir, 'fake-bin');
  mkdirSync(bin);
  const log = join(dir, 'npm.log');
  writeFileSync(join(bin, 'dpkg-query'), "#!/bin/sh\nprintf 'install ok installed'\n");
  writeFileSync(
    join(bin, 'npm'),
    `#!/bin/sh\necho "$*" >> ${log}\ncase "$*" in\n  "run typecheck") exit ${typecheck} ;;\n  "run lint") exit ${lint} ;;\n  test) exit ${tests} ;;\nesac\nexit 0\n`,
  );
  for (const f of ['dpkg-query', 'npm']) chmodSync(join(bin, f), 0o755);
  const r = spawnSync('bash', [join(dir, '.ci/run')], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` } });
  return { calls: readFileSync(log, 'utf8').trim().split('\n'), status: r.status, stderr: r.stderr };
}

describe('.ci/run', () => {
  it('runs the type check and the linter after npm ci and before the tests', () => {
    const r = ci(0, 0);
    expect(r.calls).toEqual(['ci', 'run typecheck', 'run lint', 'test']);
    expect(r.status).toBe(0);
  });

  it('a failed type check fails CI, and the tests still run', () => {
    const r = ci(2, 0);
    expect(r.calls).toEqual(['ci', 'run typecheck', 'run lint', 'test']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('ci: the type check failed (npm run typecheck)');
    expect(ci(0, 1).status).toBe(1);
  });

  it('a failed lint or format check fails CI, and the tests still run', () => {
    const r = ci(0, 0, 1);
    expect(r.calls).toEqual(['ci', 'run typecheck', 'run lint', 'test']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ci: the lint or format check failed (npm run lint');
  });
});
