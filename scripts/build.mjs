#!/usr/bin/env node
// npm run build: the library and its types (tsc -> dist/), the commands as
// bundled ES modules (esbuild -> dist/bin/, one file each plus lazily loaded
// chunks, so start-up reads one file), and the JSON Schemas (schemas/).
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

// Stale chunks of earlier bundles would otherwise be packed.
rmSync(join(root, 'dist/bin'), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

const esbuild = await import('esbuild');
const entries = readdirSync(join(root, 'src/cli/bin')).filter((f) => f.endsWith('.ts')).map((f) => join(root, 'src/cli/bin', f));
await esbuild.build({
  entryPoints: entries,
  outdir: join(root, 'dist/bin'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'linked',
  logLevel: 'warning',
  // commander is CommonJS and require()s Node's built-ins.
  banner: { js: "import { createRequire as __h2kitCreateRequire } from 'node:module'; const require = __h2kitCreateRequire(import.meta.url);" },
});

await import('./gen-schemas.mjs');
