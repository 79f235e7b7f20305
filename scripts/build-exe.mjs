#!/usr/bin/env node
// npm run build:exe: single-file executables in dist-exe/, with Node's own
// Single Executable Applications. The design card named `pkg`; it downloads
// prebuilt Node binaries (impossible here) and is deprecated, so instead each
// command is bundled into one CommonJS file (esbuild), turned into a SEA blob
// with V8's code cache (node --experimental-sea-config), and injected into a
// copy of the running `node` with postject. The result needs nothing at run
// time: no Node, no node_modules. It runs on the OS and CPU it was built on.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noChildProcess } from './esbuild-plugins.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const out = join(root, 'dist-exe');
const work = join(out, '.build');
mkdirSync(work, { recursive: true });

const esbuild = await import('esbuild');
const { inject } = require('postject');
const commands = readdirSync(join(root, 'src/cli/bin')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));


// One CommonJS file per command, minified, for Node 20.
const BUNDLE_OPTIONS = { bundle: true, format: 'cjs', platform: 'node', target: 'node20', minify: true, legalComments: 'none', logLevel: 'warning' };

// The zod schemas (only needed to explain a bad case) travel as an asset of the executable and are
// evaluated on first use, so they cost start-up nothing.
const schemaBundle = join(work, 'schema.cjs');
await esbuild.build({
  entryPoints: [join(root, 'src/cli/schema.ts')],
  outfile: schemaBundle,
  ...BUNDLE_OPTIONS,
});
const schemaFromAsset = {
  name: 'schema-from-asset',
  setup(build) {
    build.onResolve({ filter: /^\.\/schema\.js$/ }, () => ({ path: 'schema', namespace: 'h2kit-asset' }));
    build.onLoad({ filter: /.*/, namespace: 'h2kit-asset' }, () => ({
      loader: 'js',
      contents: [
        "const code = require('node:sea').getAsset('schema.cjs', 'utf8');",
        'const mod = { exports: {} };',
        "require('node:vm').runInThisContext('(function (module, exports, require) {' + code + '\\n})', { filename: 'schema.cjs' })(mod, mod.exports, require);",
        'module.exports = mod.exports;',
      ].join('\n'),
    }));
  },
};

// h2bench's worker threads cannot start from a file inside the executable: their bundle travels as an
// asset, and each thread evaluates it (Worker with eval), in place of the file next to the ES module bundle.
const workerBundle = join(work, 'h2bench-worker.cjs');
await esbuild.build({ entryPoints: [join(root, 'src/bench/thread.ts')], outfile: workerBundle, ...BUNDLE_OPTIONS });
const threadFromAsset = {
  name: 'thread-from-asset',
  setup(build) {
    build.onResolve({ filter: /^\.\/thread-source\.js$/ }, () => ({ path: 'thread-source', namespace: 'h2kit-asset' }));
    build.onLoad({ filter: /.*/, namespace: 'h2kit-asset' }, () => ({
      loader: 'js',
      contents: [
        "const { Worker } = require('node:worker_threads');",
        'let code = null;',
        "exports.startThread = (workerData) => new Worker((code ??= require('node:sea').getAsset('h2bench-worker.cjs', 'utf8')), { eval: true, workerData });",
      ].join('\n'),
    }));
  },
};
// The network commands need neither the zod schemas nor the no-subprocess guard of the file tools.
const PLUGINS = { h2serve: [], h2get: [], h2proxy: [], h2bench: [threadFromAsset] };
const ASSETS = { h2serve: {}, h2get: {}, h2proxy: {}, h2bench: { 'h2bench-worker.cjs': workerBundle } };

for (const cmd of commands) {
  const bundle = join(work, `${cmd}.cjs`);
  await esbuild.build({
    plugins: PLUGINS[cmd] ?? [noChildProcess, schemaFromAsset],
    entryPoints: [join(root, 'src/cli/bin', `${cmd}.ts`)],
    outfile: bundle,
    ...BUNDLE_OPTIONS,
  });
  const blob = join(work, `${cmd}.blob`);
  const config = join(work, `${cmd}.sea.json`);
  const assets = { assets: ASSETS[cmd] ?? { 'schema.cjs': schemaBundle } };
  writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, ...assets }));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'pipe' });
  const exe = join(out, cmd);
  if (existsSync(exe)) rmSync(exe);
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  await inject(exe, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2' });
  process.stdout.write(`built dist-exe/${cmd}\n`);
}
rmSync(work, { recursive: true, force: true });
