/**
 * Checks a THIRD-PARTY-NOTICES file against the npm packages the commands'
 * bundles really contain, found here on their own (esbuild's metafile of a
 * fresh bundle of every command, h2bench's threads and the zod schemas).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { expect } from 'vitest';
import { ROOT } from './cli.js';

export interface BundledPackage {
  name: string;
  version: string;
  license: string;
  dir: string;
}

/** The npm packages in the bundles of the commands (name, version, licence, folder). */
export async function bundledPackages(): Promise<BundledPackage[]> {
  const entries = [
    ...readdirSync(join(ROOT, 'src/cli/bin')).map((f) => join(ROOT, 'src/cli/bin', f)),
    join(ROOT, 'src/bench/thread.ts'),
    join(ROOT, 'src/cli/schema.ts'),
  ];
  const r = await build({
    entryPoints: entries,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    outdir: '/nowhere',
    absWorkingDir: ROOT,
    logLevel: 'silent',
  });
  const dirs = new Set<string>();
  for (const out of Object.values(r.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
      // Modules esbuild dropped entirely (nothing of them is used) are not in the bundle.
      const m = bytesInOutput > 0 ? /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input) : null;
      if (m) dirs.add(join(ROOT, m[1]!));
    }
  }
  return [...dirs].map((dir) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string; license: string };
    return { name: pkg.name, version: pkg.version, license: pkg.license, dir };
  });
}

/** The notices name each package with its version and hold its licence files' texts (or its licence's standard text when it has none). */
export function expectNoticesCover(notices: string, packages: BundledPackage[]): void {
  // The packages the issue named, at least: the check above must not find fewer by mistake.
  expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(['commander', 'zod', 'htmlparser2', 'undici', 'hdr-histogram-js']));
  for (const p of packages) {
    expect(notices, p.name).toContain(`\n${p.name} ${p.version}\nLicence: ${p.license}\n`);
    const files = readdirSync(p.dir).filter((f) => /^(licen[cs]e|copying|notice)([.-].*)?$/i.test(f));
    const texts = files.length
      ? files.map((f) => readFileSync(join(p.dir, f), 'utf8').trim())
      : [readFileSync(join(ROOT, 'scripts/licence-texts', `${p.license}.txt`), 'utf8').trim()];
    for (const t of texts) expect(notices.includes(t), `${p.name}: its licence text`).toBe(true);
  }
}
