#!/usr/bin/env node
// npm pack / npm publish: `node scripts/pack.mjs prepack` builds, then takes the
// `prepare` script out of package.json for the tarball; `... postpack` puts
// package.json back as it was.
//
// `prepare` (npm run build) is for git checkouts: npm runs it after
// `npm install` in a clone and when a git dependency is installed. The tarball
// ships dist/ built, so it has no use there, and npm lists a `prepare` of a
// package installed from a tarball file or URL among the install scripts it
// asks users to review, on every install.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkgFile = join(root, 'package.json');
// package.json as it was before prepack; left behind only by a pack that failed before postpack.
const saved = join(root, 'package.json.prepack');

function restore() {
  if (existsSync(saved)) renameSync(saved, pkgFile);
}

/** Replaces a file in one step, so that a concurrent reader never sees half of it. */
function replace(file, text) {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const step = process.argv[2];
if (step === 'prepack') {
  restore();
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
  const text = readFileSync(pkgFile, 'utf8');
  const pkg = JSON.parse(text);
  if (pkg.scripts?.prepare) {
    writeFileSync(saved, text);
    delete pkg.scripts.prepare;
    replace(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  }
} else if (step === 'postpack') {
  restore();
} else {
  console.error('usage: node scripts/pack.mjs prepack|postpack');
  process.exit(2);
}
