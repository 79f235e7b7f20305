/** The published JSON Schemas: up to date with the zod schemas, and right about real and bad story files. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { cases, ROOT, run, tempDir } from '../helpers/cli.js';
import { vectorFiles } from '../helpers/vectors.js';

const schema = (name: string) => JSON.parse(readFileSync(join(ROOT, 'schemas', `${name}.schema.json`), 'utf8')) as object;

describe('JSON Schemas', () => {
  it('the committed schemas are what the zod schemas generate', () => {
    const dir = tempDir('h2kit-schemas-');
    execFileSync(process.execPath, [join(ROOT, 'scripts/gen-schemas.mjs'), dir]);
    const names = readdirSync(dir).sort();
    expect(names).toEqual(['deflatehd-input.schema.json', 'deflatehd-output.schema.json', 'inflatehd-input.schema.json', 'inflatehd-output.schema.json']);
    for (const n of names) expect(readFileSync(join(ROOT, 'schemas', n), 'utf8'), n).toBe(readFileSync(join(dir, n), 'utf8'));
  });

  it('accept every story of hpack-test-case and the output of both tools; reject bad files', async () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const deflateIn = ajv.compile(schema('deflatehd-input'));
    const inflateIn = ajv.compile(schema('inflatehd-input'));
    const deflateOut = ajv.compile(schema('deflatehd-output'));
    const inflateOut = ajv.compile(schema('inflatehd-output'));
    let n = 0;
    for (const [path, content] of vectorFiles()) {
      if (!path.startsWith('hpack-test-case/')) continue;
      const doc: unknown = JSON.parse(content.toString('utf8'));
      expect(deflateIn(doc), `${path}: ${ajv.errorsText(deflateIn.errors)}`).toBe(true);
      if (!path.includes('/raw-data/')) expect(inflateIn(doc), `${path}: ${ajv.errorsText(inflateIn.errors)}`).toBe(true);
      n++;
    }
    expect(n).toBe(478);
    const story = vectorFiles().get('hpack-test-case/raw-data/story_03.json')!;
    const d = await run('deflatehd', ['-d'], story);
    expect(deflateOut(JSON.parse(d.stdout)), ajv.errorsText(deflateOut.errors)).toBe(true);
    const i = await run('inflatehd', ['-d', '--explain'], d.stdout);
    expect(cases(i).length).toBeGreaterThan(0);
    expect(inflateOut(JSON.parse(i.stdout)), ajv.errorsText(inflateOut.errors)).toBe(true);

    expect(deflateIn({ cases: [{ headers: [{ a: 'b', c: 'd' }] }] })).toBe(false);
    expect(deflateIn({ cases: [{ headers: [{ a: 1 }] }] })).toBe(false);
    expect(deflateIn({ cases: [{ headers: [], header_table_size: -1 }] })).toBe(false);
    expect(inflateIn({ cases: [{ wire: 'abc' }] })).toBe(false);
    expect(inflateIn({ cases: [{ wire: '8g' }] })).toBe(false);
    expect(inflateIn({ cases: [{ headers: [] }] })).toBe(false);
    expect(inflateIn({ cases: [{ wire: '82', header_table_size: null }] })).toBe(true);
  });
});
