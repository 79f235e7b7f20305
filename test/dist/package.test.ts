/**
 * npm pack gives a package with only what users need; installed into an
 * empty folder it provides working commands and a typed, importable library.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/cli.js';
import { VERSION } from '../../src/version.js';

const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('the npm package', () => {
  it('has the version of package.json', () => {
    expect(VERSION).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('packs only dist, bin, schemas, README and LICENSE; installs and works from the tarball', () => {
    const packDir = tempDir('h2kit-pack-');
    const info = JSON.parse(npm(['pack', '--json', '--pack-destination', packDir], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = info[0]!.files.map((f) => f.path);
    for (const f of files) expect(f, f).toMatch(/^(dist\/.+\.(m?js|cjs|d\.ts|LEGAL\.txt)|bin\/\w+\.c?js|schemas\/[\w-]+\.schema\.json|README\.md|LICENSE|package\.json)$/);
    expect(files).toEqual(expect.arrayContaining(['bin/deflatehd.cjs', 'bin/inflatehd.cjs', 'bin/h2serve.js', 'bin/h2proxy.js', 'dist/bin/h2proxy.mjs', 'dist/index.js', 'dist/index.d.ts', 'dist/hpack/index.d.ts', 'dist/bin/deflatehd.cjs', 'dist/bin/schema.mjs', 'schemas/deflatehd-input.schema.json', 'LICENSE', 'README.md']));
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);

    const app = tempDir('h2kit-install-');
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(packDir, info[0]!.filename)], app);

    const story = JSON.stringify({ cases: [{ headers: [{ ':method': 'GET' }, { ':path': '/' }] }] });
    const d = spawnSync(join(app, 'node_modules/.bin/deflatehd'), [], { input: story, encoding: 'utf8' });
    expect(d.status, d.stderr).toBe(0);
    const i = spawnSync(join(app, 'node_modules/.bin/inflatehd'), ['--verify'], { input: d.stdout, encoding: 'utf8' });
    expect(i.stdout).toContain('1 file: 1 passed, 0 failed; 1 case verified');
    // h2proxy's HTTP/1.1 client (undici) is bundled: the installed command needs no dependency of its own.
    const hp = spawnSync(join(app, 'node_modules/.bin/h2proxy'), ['--version'], { encoding: 'utf8' });
    expect(hp.stdout, hp.stderr).toMatch(/^h2proxy \(h2kit\) /);

    // h2kit/hpack is pure TypeScript: its types need nothing from @types/node.
    writeFileSync(
      join(app, 'hpack.ts'),
      [
        "import { Deflater, Inflater, type TableSnapshot } from 'h2kit/hpack';",
        "const wire: Uint8Array = new Deflater().deflate([[':method', 'GET']]);",
        'const t: TableSnapshot = new Inflater().getTable();',
        "const hex = [...wire].map((b) => b.toString(16).padStart(2, '0')).join('');",
        'console.log(hex, new Inflater().inflate(wire)[0]?.[1], t.maxSize);',
      ].join('\n'),
    );
    const tsconfig = (types: string[], file: string) =>
      JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types, noEmit: true, skipLibCheck: false, lib: ['ES2023', 'DOM'] }, files: [file] });
    writeFileSync(join(app, 'tsconfig.json'), tsconfig([], 'hpack.ts'));
    const tsc = (project: string) => spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { encoding: 'utf8' });
    let t = tsc(app);
    expect(t.status, t.stdout + t.stderr).toBe(0);

    // The root and h2kit/h2 include the server engine, typed with Node's types, as a Node app has them.
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '@types/node@20'], app);
    writeFileSync(
      join(app, 'server.ts'),
      [
        "import { h2, Deflater } from 'h2kit';",
        "import { createServer, type ServerStream } from 'h2kit/h2';",
        'const s = createServer({ handler: (stream: ServerStream) => stream.respond(200, {}, "ok") });',
        "console.log(typeof h2.createServer, typeof s.listen, new Deflater().deflate([[':path', '/']]).length);",
      ].join('\n'),
    );
    writeFileSync(join(app, 'tsconfig.server.json'), tsconfig(['node'], 'server.ts'));
    t = tsc(join(app, 'tsconfig.server.json'));
    expect(t.status, t.stdout + t.stderr).toBe(0);

    const strip = (f: string) => readFileSync(join(app, f), 'utf8').replace(/, type \w+/g, '').replace(/: (Uint8Array|TableSnapshot|ServerStream)/g, '');
    writeFileSync(join(app, 'hpack.mjs'), strip('hpack.ts'));
    writeFileSync(join(app, 'server.mjs'), strip('server.ts'));
    expect(spawnSync(process.execPath, [join(app, 'hpack.mjs')], { cwd: app, encoding: 'utf8' }).stdout.trim()).toBe('82 GET 4096');
    expect(spawnSync(process.execPath, [join(app, 'server.mjs')], { cwd: app, encoding: 'utf8' }).stdout.trim()).toBe('function function 1');
  }, 300_000);
});
