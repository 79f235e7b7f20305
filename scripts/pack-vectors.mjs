#!/usr/bin/env node
// Packs the interop vectors the tests need into test/cases/vectors.br, so a
// fresh clone passes without ../shared: every story of hpack-test-case (MIT,
// see test/cases/hpack-test-case.LICENSE) and every golden file.
// Format (before Brotli): for each file, "<path>\n<byte length>\n<content>".
// Usage: node scripts/pack-vectors.mjs [SHARED_DIR]   (default: ../shared)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.argv[2] ?? join(root, '..', 'shared');
const parts = [];
let files = 0;
for (const top of ['hpack-test-case', 'golden']) {
  for (const dir of readdirSync(join(shared, top), { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join(shared, top, dir.name)).sort()) {
      if (!f.endsWith('.json')) continue;
      const content = readFileSync(join(shared, top, dir.name, f));
      parts.push(Buffer.from(`${top}/${dir.name}/${f}\n${content.length}\n`), content);
      files++;
    }
  }
}
const raw = Buffer.concat(parts);
const packed = brotliCompressSync(raw, {
  params: {
    [constants.BROTLI_PARAM_QUALITY]: 11,
    [constants.BROTLI_PARAM_LGWIN]: 24,
    [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
  },
});
writeFileSync(join(root, 'test/cases/vectors.br'), packed);
console.log(`packed ${files} files, ${raw.length} bytes -> ${packed.length} bytes`);
