#!/usr/bin/env node
// npm run build:exe: one single-file executable for all the commands,
// dist-exe/h2kit, with a link to it for each command (dist-exe/deflatehd ->
// h2kit, ...) and THIRD-PARTY-NOTICES beside it. It uses Node's own Single
// Executable Applications: a small entry (src/exe/main.ts) picks the command
// from the name it was started under or from its first argument, and runs that
// command's CommonJS bundle (esbuild), stored as an asset of the executable with
// a V8 code cache made here; the entry itself is compiled with SEA's code cache.
// The blob (node --experimental-sea-config) is injected into a copy of the
// running `node` with postject. The result needs nothing at run time: no Node,
// no node_modules. It runs on the OS and CPU it was built on.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noChildProcess } from './esbuild-plugins.mjs';
import { bundledPackages, legalCommentsSection, noticesText } from './notices.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const out = join(root, 'dist-exe');
const work = join(out, '.build');
rmSync(out, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const esbuild = await import('esbuild');
const { inject } = require('postject');
const commands = readdirSync(join(root, 'src/cli/bin'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));

// CommonJS, minified, for Node 20; licence comments go to THIRD-PARTY-NOTICES.
const BUNDLE_OPTIONS = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'external',
  metafile: true,
  absWorkingDir: root,
  logLevel: 'warning',
};
const builds = [];
async function bundle(entry, outfile, plugins = []) {
  const r = await esbuild.build({ ...BUNDLE_OPTIONS, entryPoints: [entry], outfile, plugins });
  builds.push(r);
  return outfile;
}

// The zod schemas (only needed to explain a bad case) travel as an asset of the executable and are
// evaluated on first use, so they cost start-up nothing.
const schemaBundle = await bundle(join(root, 'src/cli/schema.ts'), join(work, 'schema.cjs'));
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
const workerBundle = await bundle(join(root, 'src/bench/thread.ts'), join(work, 'h2bench-worker.cjs'));
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
const assets = { 'schema.cjs': schemaBundle, 'h2bench-worker.cjs': workerBundle };
for (const cmd of commands) {
  const file = await bundle(join(root, 'src/cli/bin', `${cmd}.ts`), join(work, `${cmd}.cjs`), PLUGINS[cmd] ?? [noChildProcess, schemaFromAsset]);
  // The entry decodes a bundle as latin1 (one byte per char, no UTF-8 decoding): esbuild escapes
  // everything else, and this keeps it so.
  const code = readFileSync(file);
  const wide = code.findIndex((b) => b > 0x7f);
  if (wide >= 0) throw new Error(`${file}: byte ${wide} is not ASCII`);
  assets[`${cmd}.cjs`] = file;
  assets[`${cmd}.cache`] = join(work, `${cmd}.cache`);
}

// V8 code caches of the command bundles, made by the Node that becomes the executable, for the
// source the entry compiles (src/exe/compile.ts, used here too). Each is made after a run of
// `CMD --version`, so it also holds the functions start-up runs, which V8 compiles lazily.
// V8 checks a cache against its version, flags and source, and compiles afresh if it does not fit.
const compiler = await bundle(join(root, 'src/exe/compile.ts'), join(work, 'compile.cjs'));
for (const cmd of commands) {
  const [file, cache] = [assets[`${cmd}.cjs`], assets[`${cmd}.cache`]];
  execFileSync(
    process.execPath,
    [
      '-e',
      `
    const { readFileSync, writeFileSync } = require('node:fs');
    const { compileBundle, runBundle } = require(${JSON.stringify(compiler)});
    const script = compileBundle(readFileSync(${JSON.stringify(file)}, 'latin1'), '${cmd}.cjs');
    process.argv.splice(1, process.argv.length - 1, '${cmd}', '--version');
    process.on('exit', () => writeFileSync(${JSON.stringify(cache)}, script.createCachedData()));
    runBundle(script, require);
  `,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

const main = await bundle(join(root, 'src/exe/main.ts'), join(work, 'main.cjs'));
const blob = join(work, 'h2kit.blob');
const config = join(work, 'sea.json');
writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets }));
execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'pipe' });
const exe = join(out, 'h2kit');
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
await inject(exe, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2' });
for (const cmd of commands) symlinkSync('h2kit', join(out, cmd));

// THIRD-PARTY-NOTICES: the packages in the bundles, and the Node.js runtime the executable is.
const legal = builds
  .flatMap((r) => Object.keys(r.metafile.outputs))
  .filter((o) => o.endsWith('.LEGAL.txt'))
  .map((o) => join(root, o));
const LABELS = { schema: 'deflatehd and inflatehd (their schemas)', 'h2bench-worker': 'h2bench (its threads)' };
const label = (o) => LABELS[basename(o, '.cjs')] ?? basename(o, '.cjs');
const packages = bundledPackages(builds.map((r) => ({ metafile: r.metafile, cwd: root, name: label })));
writeFileSync(
  join(out, 'THIRD-PARTY-NOTICES'),
  noticesText(packages, {
    intro: `dist-exe/h2kit is the Node.js ${process.version} runtime with h2kit's commands inside. The commands\ninclude the following npm packages, with these licences; their texts follow, then Node.js's.`,
    extra: [nodeLicence(), ...legalCommentsSection(legal)],
  }),
);
rmSync(work, { recursive: true, force: true });
process.stdout.write(`built dist-exe/h2kit and links ${commands.map((c) => `dist-exe/${c}`).join(', ')}\n`);

/** Node.js's LICENSE (its own and its dependencies' licences), from where Node's installers put it. */
function nodeLicence() {
  const prefix = dirname(dirname(process.execPath));
  const candidates = [
    join(prefix, 'share/doc/nodejs/LICENSE'),
    join(prefix, 'share/doc/node/LICENSE'),
    join(prefix, 'LICENSE'),
    join(dirname(process.execPath), 'LICENSE'),
  ];
  const found = candidates.find((f) => existsSync(f));
  const title = `Node.js ${process.version} (the runtime of the executable)`;
  if (found) return { title, about: `Licence: MIT, with the licences of the code Node.js includes (from ${found}).`, text: readFileSync(found, 'utf8') };
  process.stderr.write(`build-exe: Node.js's LICENSE not found (looked at ${candidates.join(', ')}); THIRD-PARTY-NOTICES points to it instead\n`);
  return {
    title,
    about: 'Licence: MIT, with the licences of the code Node.js includes.',
    text: `https://github.com/nodejs/node/blob/${process.version}/LICENSE`,
  };
}
