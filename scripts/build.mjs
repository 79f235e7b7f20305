#!/usr/bin/env node
// npm run build: the library and its types (tsc -> dist/: only what the
// package's entry points reach), the commands as bundled modules (esbuild ->
// dist/bin/, one file each, so start-up reads one file), the JSON Schemas
// (schemas/), and THIRD-PARTY-NOTICES for the code the bundles include.
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noChildProcess } from './esbuild-plugins.mjs';
import { bundledPackages, legalCommentsSection, noticesText } from './notices.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

// Stale chunks of earlier bundles would otherwise be packed.
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

const esbuild = await import('esbuild');
const entries = readdirSync(join(root, 'src/cli/bin'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(root, 'src/cli/bin', f));
const common = {
  outdir: join(root, 'dist/bin'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  // Collected into THIRD-PARTY-NOTICES below, with the packages' licence texts.
  legalComments: 'external',
  metafile: true,
  absWorkingDir: root,
  logLevel: 'warning',
  // commander is CommonJS and require()s Node's built-ins.
  banner: { js: "import { createRequire as __h2kitCreateRequire } from 'node:module'; const require = __h2kitCreateRequire(import.meta.url);" },
};
// One file per command, so start-up loads one module. The zod schemas (only needed to explain
// a bad case) are their own bundle, imported on first use.
const schemaExternal = {
  name: 'schema-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/schema\.js$/ }, () => ({ path: './schema.mjs', external: true }));
  },
};
// The file tools are CommonJS bundles behind CommonJS launchers: start-up stays in Node's CJS
// loader, which is quicker than the ES module loader and its facades for built-in modules.
// The network commands are ES module bundles behind ES module launchers (h2bench finds its worker
// threads' bundle next to its own).
const NETWORK = ['h2serve.ts', 'h2get.ts', 'h2proxy.ts', 'h2bench.ts'];
const isNetwork = (e) => NETWORK.some((n) => e.endsWith(`/${n}`));
const files = entries.filter((e) => !isNetwork(e));
const results = [];
results.push(
  await esbuild.build({
    ...common,
    entryPoints: files,
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    banner: {},
    plugins: [schemaExternal, noChildProcess],
  }),
);
results.push(await esbuild.build({ ...common, entryPoints: entries.filter(isNetwork), plugins: [schemaExternal] }));
// h2bench's worker threads run their own bundle (a thread cannot start from a module inside another bundle).
results.push(await esbuild.build({ ...common, entryPoints: { 'h2bench-worker': join(root, 'src/bench/thread.ts') } }));
results.push(await esbuild.build({ ...common, entryPoints: [join(root, 'src/cli/schema.ts')] }));

// THIRD-PARTY-NOTICES, shipped in the package next to README and LICENSE.
const outputs = results.flatMap((r) => Object.keys(r.metafile.outputs)).filter((o) => !o.endsWith('.map'));
const legal = outputs.filter((o) => o.endsWith('.LEGAL.txt')).map((o) => join(root, o));
const packages = bundledPackages(results.map((r) => ({ metafile: r.metafile, cwd: root, name: (out) => `dist/bin/${basename(out)}` })));
const notices = noticesText(packages, {
  intro:
    "h2kit's library (dist/ outside dist/bin) contains only h2kit's own code. Its commands are bundles\n(dist/bin/) that include the following npm packages, with these licences; their texts follow.",
  extra: legalCommentsSection(legal),
});
writeFileSync(join(root, 'THIRD-PARTY-NOTICES'), notices);
for (const f of legal) rmSync(f, { force: true });

await import('./gen-schemas.mjs');
