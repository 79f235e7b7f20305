// End-to-end tests spawn bin/, which runs the bundles in dist/bin: build everything
// (tsc, the bundles, the schemas) first so they never test stale code.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  // A nested run (the executables test) must not rebuild under the feet of the outer one.
  if (process.env['H2KIT_SKIP_BUILD']) return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, [`${root}scripts/build.mjs`], { stdio: 'inherit', cwd: root });
}
