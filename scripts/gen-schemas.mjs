#!/usr/bin/env node
// Writes schemas/*.schema.json (JSON Schema 2020-12) from the zod schemas in
// src/cli/schema.ts (compiled to dist/), so editors and CI can validate story files.
// Usage: node scripts/gen-schemas.mjs [OUT_DIR]   (default: schemas/)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const s = await import(join(root, 'dist/cli/schema.js'));
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
  writeFileSync(join(out, `${name}.schema.json`), JSON.stringify(json, null, 2) + '\n');
}
