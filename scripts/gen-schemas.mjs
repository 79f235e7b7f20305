#!/usr/bin/env node
// Writes schemas/*.schema.json (JSON Schema 2020-12) from the zod schemas in
// src/cli/schema.ts, so editors and CI can validate story files.
// Usage: node scripts/gen-schemas.mjs [OUT_DIR]   (default: schemas/)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { z } from 'zod';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// src/cli/schema.ts as a module of its own, importing the same zod as this script (the library
// build in dist/ holds only what the package exports). It is written inside the clone so that
// its import of zod resolves to node_modules.
const tmp = mkdtempSync(join(root, 'node_modules', '.h2kit-schemas-'));
const file = join(tmp, 'schema.mjs');
await build({
  entryPoints: [join(root, 'src/cli/schema.ts')],
  outfile: file,
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  logLevel: 'warning',
});
const s = await import(pathToFileURL(file).href);
rmSync(tmp, { recursive: true, force: true });
const out = process.argv[2] ?? join(root, 'schemas');
mkdirSync(out, { recursive: true });

const documents = {
  'deflatehd-input': [s.story(s.deflateInputCase), 'deflatehd input: header sets to encode (hpack-test-case story format)'],
  'deflatehd-output': [s.story(s.deflateOutputCase), 'deflatehd output: encoded header blocks'],
  'inflatehd-input': [s.story(s.inflateInputDocument), 'inflatehd input: header blocks to decode (hpack-test-case story format)'],
  'inflatehd-output': [s.story(s.inflateOutputCase), 'inflatehd output: decoded header lists'],
};
for (const [name, [schema, title]] of Object.entries(documents)) {
  const json = { ...z.toJSONSchema(schema), $id: `https://h2kit.invalid/schemas/${name}.schema.json`, title };
  writeFileSync(join(out, `${name}.schema.json`), `${JSON.stringify(json, null, 2)}\n`);
}
