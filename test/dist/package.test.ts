/**
 * The npm package as users meet it: `npm pack` (run in a copy of the clone,
 * so that its build and its package.json edit never touch this one), then
 * installed into an empty folder with --omit=dev. It holds the built dist/,
 * has no runtime dependencies, prints no install-script notice, and gives
 * every command and every documented import.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { runH2Get } from '../helpers/h2get.js';
import { killProxies, startEchoBackend, startProxy } from '../helpers/h2proxy.js';
import { exec, killAll, startH2Serve } from '../helpers/h2serve.js';

interface PackageJson {
  version: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
  exports: Record<string, unknown>;
  bin: Record<string, string>;
}
const readJson = <T>(file: string) => JSON.parse(readFileSync(file, 'utf8')) as T;
const pkg = readJson<PackageJson>(join(ROOT, 'package.json'));
const COMMANDS = Object.keys(pkg.bin);
const npm = (args: string[], cwd: string) => spawnSync('npm', args, { cwd, encoding: 'utf8' });

/** The .js files under a folder. */
function jsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(dir, f));
}

describe('the npm package', () => {
  it('has the version of package.json', () => {
    expect(VERSION).toBe(pkg.version);
  });

  it('has no runtime dependencies: what the commands use is bundled, and the library imports only Node and itself', () => {
    expect(pkg.dependencies ?? {}).toEqual({});
    for (const name of ['commander', 'zod', 'htmlparser2', 'undici', 'hdr-histogram-js']) expect(pkg.devDependencies, name).toHaveProperty(name);
    // The library is dist/ outside dist/bin (tsc output of what the entry points reach).
    const library = jsFiles(join(ROOT, 'dist')).filter((f) => !f.startsWith(join(ROOT, 'dist/bin')));
    expect(library.length).toBeGreaterThan(50);
    let imports = 0;
    for (const f of library) {
      // TypeScript's own scanner: static imports, re-exports and import() calls.
      for (const { fileName } of ts.preProcessFile(readFileSync(f, 'utf8'), true, true).importedFiles) {
        expect(fileName, relative(ROOT, f)).toMatch(/^(node:|\.\.?\/)/);
        imports++;
      }
    }
    expect(imports).toBeGreaterThan(100);
  });

  describe('packed and installed into an empty folder', () => {
    let packed: { filename: string; files: Array<{ path: string }> };
    let clone = '';
    let packDir = '';
    let app = '';
    let install: { stdout: string; stderr: string; status: number | null };

    beforeAll(() => {
      // A copy of the clone (the files git would commit), with this clone's node_modules.
      clone = tempDir('h2kit-clone-');
      const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
        .split('\0')
        .filter(Boolean);
      for (const f of listed) {
        if (!statSync(join(ROOT, f), { throwIfNoEntry: false })?.isFile()) continue; // deleted, not yet committed
        mkdirSync(dirname(join(clone, f)), { recursive: true });
        copyFileSync(join(ROOT, f), join(clone, f));
      }
      symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
      packDir = tempDir('h2kit-pack-');
      const p = npm(['pack', '--json', '--pack-destination', packDir], clone);
      expect(p.status, p.stderr).toBe(0);
      packed = (JSON.parse(p.stdout) as Array<typeof packed>)[0]!;

      app = tempDir('h2kit-install-');
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
      install = npm(['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', join(packDir, packed.filename)], app);
    }, 300_000);

    afterAll(async () => {
      await Promise.all([killProxies(), killAll()]);
      for (const d of [clone, packDir, app]) if (d) rmSync(d, { recursive: true, force: true });
    });

    it('npm pack builds and ships dist/, bin/, schemas/, the notices, README, CHANGELOG and LICENSE, and no prepare script; package.json is left as it was', () => {
      const files = packed.files.map((f) => f.path);
      for (const f of files) {
        expect(f, f).toMatch(
          /^(dist\/(bin\/[\w-]+\.(mjs|cjs)|(hpack|h2|server)\/[\w-]+\.(js|d\.ts)|index\.(js|d\.ts))|bin\/\w+\.c?js|schemas\/[\w-]+\.schema\.json|README\.md|CHANGELOG\.md|LICENSE|THIRD-PARTY-NOTICES|package\.json)$/,
        );
      }
      const must = [
        'bin/deflatehd.cjs',
        'bin/h2serve.js',
        'dist/bin/h2proxy.mjs',
        'dist/bin/h2bench-worker.mjs',
        'dist/bin/schema.mjs',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/hpack/index.d.ts',
        'dist/h2/index.js',
        'dist/server/index.d.ts',
      ];
      expect(files).toEqual(
        expect.arrayContaining([...must, 'schemas/deflatehd-input.schema.json', 'THIRD-PARTY-NOTICES', 'CHANGELOG.md', 'LICENSE', 'README.md']),
      );
      // The tarball's package.json: no prepare (it would be listed as an install script), no dependencies.
      const shipped = readJson<PackageJson>(join(app, 'node_modules/h2kit/package.json'));
      expect(shipped.scripts).not.toHaveProperty('prepare');
      expect(shipped.dependencies).toBeUndefined();
      // Git checkouts keep prepare, and the pack put package.json back byte for byte.
      expect(readFileSync(join(clone, 'package.json'), 'utf8')).toBe(readFileSync(join(ROOT, 'package.json'), 'utf8'));
      expect(pkg.scripts).toHaveProperty('prepare');
      expect(readdirSync(clone)).not.toContain('package.json.prepack');
    });

    it('installs with --omit=dev as h2kit alone, without an install-scripts notice', () => {
      expect(install.status, install.stderr).toBe(0);
      expect(install.stdout + install.stderr).not.toMatch(/install-scripts|prepare/);
      expect(
        readdirSync(join(app, 'node_modules'))
          .filter((f) => !f.startsWith('.'))
          .sort(),
      ).toEqual(['h2kit']);
      expect(readdirSync(join(app, 'node_modules/.bin')).sort()).toEqual([...COMMANDS].sort());
    });

    it('every documented import loads in plain Node: h2kit, h2kit/hpack, h2kit/h2, h2kit/server, every h2kit/schemas/*, h2kit/package.json', () => {
      const subpaths = Object.keys(pkg.exports);
      expect(subpaths.sort()).toEqual(['.', './h2', './hpack', './package.json', './schemas/*', './server']);
      const schemas = readdirSync(join(ROOT, 'schemas'));
      expect(schemas.length).toBe(4);
      writeFileSync(
        join(app, 'imports.mjs'),
        [
          "import { createRequire } from 'node:module';",
          'const require = createRequire(import.meta.url);',
          'const out = {};',
          ...['h2kit', 'h2kit/hpack', 'h2kit/h2', 'h2kit/server'].map(
            (s) => `out[${JSON.stringify(s)}] = Object.keys(await import(${JSON.stringify(s)})).sort();`,
          ),
          ...schemas.map(
            (f) =>
              `out[${JSON.stringify(f)}] = [(await import('h2kit/schemas/${f}', { with: { type: 'json' } })).default.title, require('h2kit/schemas/${f}').$id];`,
          ),
          "out.version = require('h2kit/package.json').version;",
          'console.log(JSON.stringify(out));',
        ].join('\n'),
      );
      const r = spawnSync(process.execPath, [join(app, 'imports.mjs')], { cwd: app, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout) as Record<string, string[]> & { version: string };
      expect(got['h2kit']).toEqual(expect.arrayContaining(['Deflater', 'Inflater', 'HpackError', 'h2']));
      expect(got['h2kit/hpack']).toEqual(expect.arrayContaining(['Deflater', 'Inflater', 'formatTable']));
      expect(got['h2kit/h2']).toEqual(expect.arrayContaining(['createServer', 'connect', 'Http2Error']));
      expect(got['h2kit/server']).toEqual(
        expect.arrayContaining([
          'StaticFiles',
          'FileRangeReader',
          'parseHttpDate',
          'formatHttpDate',
          'BUILTIN_MIME_TYPES',
          'contentTypeFor',
          'selfSignedCertificate',
        ]),
      );
      for (const f of schemas) expect(got[f], f).toEqual([expect.stringMatching(/^(de|in)flatehd (in|out)put: /), `https://h2kit.invalid/schemas/${f}`]);
      expect(got.version).toBe(VERSION);
    });

    it("typed: h2kit/hpack needs nothing from @types/node; h2kit/h2 and README's h2kit/server example typecheck and run", async () => {
      const tsconfig = (types: string[], file: string) =>
        JSON.stringify({
          compilerOptions: {
            strict: true,
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            target: 'ES2022',
            types,
            noEmit: true,
            skipLibCheck: false,
            lib: ['ES2023', 'DOM'],
          },
          files: [file],
        });
      const tsc = (project: string) => spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { encoding: 'utf8' });
      /** Writes a TypeScript file, typechecks it with `types`, and writes it as .mjs without the types. */
      const program = (name: string, code: string, types: string[]) => {
        writeFileSync(join(app, `${name}.ts`), code);
        writeFileSync(join(app, `tsconfig.${name}.json`), tsconfig(types, `${name}.ts`));
        const t = tsc(join(app, `tsconfig.${name}.json`));
        expect(t.status, t.stdout + t.stderr).toBe(0);
        const js = ts.transpileModule(code, {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
        }).outputText;
        writeFileSync(join(app, `${name}.mjs`), js);
        return join(app, `${name}.mjs`);
      };

      const hpack = program(
        'hpack',
        [
          "import { Deflater, Inflater, type TableSnapshot } from 'h2kit/hpack';",
          "const wire: Uint8Array = new Deflater().deflate([[':method', 'GET']]);",
          'const t: TableSnapshot = new Inflater().getTable();',
          "const hex = [...wire].map((b) => b.toString(16).padStart(2, '0')).join('');",
          'console.log(hex, new Inflater().inflate(wire)[0]?.[1], t.maxSize);',
        ].join('\n'),
        [],
      );
      expect(spawnSync(process.execPath, [hpack], { cwd: app, encoding: 'utf8' }).stdout.trim()).toBe('82 GET 4096');

      // Node's types, as a Node app has them.
      const t = npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '@types/node@20'], app);
      expect(t.status, t.stderr).toBe(0);
      const server = program(
        'server',
        [
          "import { h2, Deflater } from 'h2kit';",
          "import { createServer, type ServerStream } from 'h2kit/h2';",
          'const s = createServer({ handler: (stream: ServerStream) => stream.respond(200, {}, "ok") });',
          "console.log(typeof h2.createServer, typeof s.listen, new Deflater().deflate([[':path', '/']]).length);",
        ].join('\n'),
        ['node'],
      );
      expect(spawnSync(process.execPath, [server], { cwd: app, encoding: 'utf8' }).stdout.trim()).toBe('function function 1');

      // README's example, as written there, serving public/ on a free port; h2kit's client fetches a file and a 404.
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
      const section = readme.slice(readme.indexOf('## Library: static files (`h2kit/server`)'));
      const example = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
      expect(example).toContain('listen(8443)');
      mkdirSync(join(app, 'public'));
      writeFileSync(join(app, 'public/hello.txt'), 'hello from StaticFiles\n');
      const client = [
        "import { connect } from 'h2kit/h2';",
        'const session = await connect(`https://localhost:${port}`, { tls: { rejectUnauthorized: false } });',
        "const ok = await session.request({ ':path': '/hello.txt' });",
        "const missing = await session.request({ ':path': '/nothing' });",
        "console.log(JSON.stringify([ok.status, ok.get('content-type'), await ok.text(), missing.status]));",
        'await session.close();',
        'await server.close();',
      ].join('\n');
      const code = example.replace('listen(8443)', 'listen(0, "127.0.0.1")').replace(/^console\.log.*$/m, '') + client.replace(/^import .*\n/, '');
      const file = program('static', `${client.split('\n')[0]}\n${code}`, ['node']);
      const r = spawnSync(process.execPath, [file], { cwd: app, encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([200, 'text/plain', 'hello from StaticFiles\n', 404]);
    });

    it('every command runs from the installed tree: deflatehd | inflatehd --verify, a bad case explained, h2serve behind h2proxy with an HTTP/1.1 backend, h2get and h2bench through it', async () => {
      const bin = join(app, 'node_modules/.bin');
      for (const c of COMMANDS) expect(spawnSync(join(bin, c), ['--version'], { encoding: 'utf8' }).stdout).toBe(`${c} (h2kit) ${VERSION}\n`);

      const story = JSON.stringify({ cases: [{ headers: [{ ':method': 'GET' }, { ':path': '/' }] }] });
      const d = spawnSync(join(bin, 'deflatehd'), [], { input: story, encoding: 'utf8' });
      expect(d.status, d.stderr).toBe(0);
      const i = spawnSync(join(bin, 'inflatehd'), ['--verify'], { input: d.stdout, encoding: 'utf8' });
      expect(i.stdout).toContain('1 file: 1 passed, 0 failed; 1 case verified');
      // A bad case is explained by the zod schemas (their own bundle, loaded on first use).
      const bad = spawnSync(join(bin, 'deflatehd'), [], { input: '{"cases":[{"headers":[{":method":5}]}]}', encoding: 'utf8' });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('deflatehd: case 0: line 1, column 11: headers[0][":method"] is a number (5); a header value must be a string');

      // The helpers start the commands found in H2KIT_CLI_DIR: here, the installed package's.
      const saved = process.env['H2KIT_CLI_DIR'];
      process.env['H2KIT_CLI_DIR'] = bin;
      try {
        const htdocs = tempDir('h2kit-installed-htdocs-');
        mkdirSync(join(htdocs, 'files'));
        writeFileSync(join(htdocs, 'files/hello.txt'), 'hello from h2serve\n');
        const serve = await startH2Serve(['--no-tls', '-d', htdocs, '0']);
        const echo = await startEchoBackend('echo');
        const proxy = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${serve.port};/files/;proto=h2`, `-b127.0.0.1,${echo.port}`]);
        try {
          const base = `http://127.0.0.1:${proxy.port}`;
          const file = await runH2Get([`${base}/files/hello.txt`]);
          expect(file.stdout.toString(), file.stderr).toBe('hello from h2serve\n');
          // The HTTP/1.1 backend is reached with h2proxy's own HTTP/1.1 client.
          const info = await runH2Get([`${base}/info`]);
          expect(JSON.parse(info.stdout.toString()), info.stderr).toMatchObject({ method: 'GET', url: '/info', httpVersion: '1.1' });
          // h2bench with two worker threads (their own bundle), and over HTTP/1.1 (undici).
          const b = await exec(join(bin, 'h2bench'), ['-n', '40', '-c', '2', '-t', '2', `${base}/files/hello.txt`], { timeout: 60_000 });
          expect(b.stdout.toString(), b.stderr).toMatch(/requests: 40 total, 40 started, 40 done, 40 succeeded, 0 failed, 0 errored/);
          const h1 = await exec(join(bin, 'h2bench'), ['--h1', '-n', '10', '-c', '1', `http://127.0.0.1:${echo.port}/x`], { timeout: 60_000 });
          expect(h1.stdout.toString(), h1.stderr).toMatch(/requests: 10 total, 10 started, 10 done, 10 succeeded, 0 failed, 0 errored/);
        } finally {
          await proxy.stop();
          await serve.stop();
          await echo.close();
        }
      } finally {
        if (saved === undefined) delete process.env['H2KIT_CLI_DIR'];
        else process.env['H2KIT_CLI_DIR'] = saved;
      }
    });
  });
});
