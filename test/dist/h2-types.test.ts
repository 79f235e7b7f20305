/**
 * The published types of h2kit/h2 (dist/h2/*.d.ts, as built by the global
 * setup) show only the API: the classes a user meets have no private,
 * protected or @internal members, every type reachable from the exports is
 * itself exported, and the engine's state does not compile from outside.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/cli.js';

const INDEX = join(ROOT, 'dist/h2/index.d.ts');
const OPTIONS: ts.CompilerOptions = {
  strict: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  types: ['node'],
  typeRoots: [join(ROOT, 'node_modules/@types')],
  noEmit: true,
  skipLibCheck: true,
};

function loadIndex(): { checker: ts.TypeChecker; exports: ts.Symbol[] } {
  const program = ts.createProgram([INDEX], OPTIONS);
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(INDEX)!)!;
  // Connection is ServerConnection under a second name: each symbol once.
  const exports = [...new Set(checker.getExportsOfModule(moduleSymbol).map((s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s)))];
  return { checker, exports };
}

const hasModifier = (d: ts.Declaration, kind: ts.SyntaxKind): boolean => ts.canHaveModifiers(d) && (ts.getModifiers(d) ?? []).some((m) => m.kind === kind);

const isInternalDoc = (d: ts.Node): boolean => ts.getJSDocTags(d).some((t) => t.tagName.text === 'internal');

/** `Class.member` for every member of every exported class, with what is wrong with it, if anything. */
function classMembers(checker: ts.TypeChecker, exports: ts.Symbol[]): { api: string[]; leaks: string[] } {
  const api: string[] = [];
  const leaks: string[] = [];
  for (const sym of exports) {
    if (!(sym.flags & ts.SymbolFlags.Class)) continue;
    const decl = sym.declarations!.find(ts.isClassDeclaration)!;
    if (isInternalDoc(decl)) leaks.push(`${sym.name}: @internal`);
    for (const m of decl.members) {
      const name = m.name ? m.name.getText() : 'constructor';
      if (name === '#private') continue; // ES private fields: nothing but their existence shows
      const where = `${sym.name}.${name}`;
      if (ts.isConstructorDeclaration(m) && hasModifier(m, ts.SyntaxKind.PrivateKeyword)) {
        if (m.parameters.length > 0) leaks.push(`${where}: a private constructor showing its parameters`);
        continue;
      }
      if (hasModifier(m, ts.SyntaxKind.PrivateKeyword)) leaks.push(`${where}: private`);
      else if (hasModifier(m, ts.SyntaxKind.ProtectedKeyword)) leaks.push(`${where}: protected`);
      else if (isInternalDoc(m)) leaks.push(`${where}: @internal`);
      else api.push(ts.isConstructorDeclaration(m) ? `new ${sym.name}` : where);
    }
    // What a class inherits from a class that is not exported is not seen above: none may.
    for (const h of decl.heritageClauses ?? []) {
      for (const t of h.types) {
        const base = checker.getSymbolAtLocation(t.expression);
        const resolved = base && base.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(base) : base;
        if (h.token === ts.SyntaxKind.ExtendsKeyword && resolved && !exports.includes(resolved) && resolved.name !== 'Error')
          leaks.push(`${sym.name} extends ${resolved.name}, which is not exported`);
      }
    }
  }
  return { api: api.sort(), leaks };
}

/** The named declarations (in dist/) that the exports' types lead to, however deep. */
function reachable(checker: ts.TypeChecker, exports: ts.Symbol[]): Map<string, ts.Symbol> {
  const found = new Map<string, ts.Symbol>();
  const seenTypes = new Set<ts.Type>();
  const inDist = (s: ts.Symbol): boolean => (s.declarations ?? []).some((d) => d.getSourceFile().fileName.startsWith(join(ROOT, 'dist')));
  const visitSymbol = (s: ts.Symbol | undefined): void => {
    if (!s || !inDist(s)) return;
    const d = s.declarations![0]!;
    if (ts.isClassDeclaration(d) || ts.isInterfaceDeclaration(d) || ts.isTypeAliasDeclaration(d) || ts.isEnumDeclaration(d)) {
      const key = `${d.getSourceFile().fileName.slice(ROOT.length)}:${s.name}`;
      if (found.has(key)) return;
      found.set(key, s);
    }
  };
  const visitType = (t: ts.Type): void => {
    if (seenTypes.has(t)) return;
    seenTypes.add(t);
    visitSymbol(t.aliasSymbol);
    for (const a of t.aliasTypeArguments ?? []) visitType(a);
    const s = t.getSymbol();
    if (s && !inDist(s) && !(t.flags & ts.TypeFlags.Object && (t as ts.ObjectType).objectFlags & ts.ObjectFlags.Anonymous)) {
      // A type from Node or the standard library: its type arguments may still be ours.
      if ((t as ts.TypeReference).typeArguments) for (const a of checker.getTypeArguments(t as ts.TypeReference)) visitType(a);
      return;
    }
    visitSymbol(s);
    if (t.isUnionOrIntersection()) for (const u of t.types) visitType(u);
    if (t.flags & ts.TypeFlags.Object && (t as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) {
      for (const a of checker.getTypeArguments(t as ts.TypeReference)) visitType(a);
    }
    for (const p of checker.getPropertiesOfType(t)) {
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      if (decl && (decl.getSourceFile().fileName.startsWith(join(ROOT, 'dist')) || !inDist(p) === false)) visitType(checker.getTypeOfSymbolAtLocation(p, decl));
    }
    for (const kind of [ts.SignatureKind.Call, ts.SignatureKind.Construct]) {
      for (const sig of checker.getSignaturesOfType(t, kind)) {
        if (sig.declaration && hasModifier(sig.declaration, ts.SyntaxKind.PrivateKeyword)) continue;
        for (const p of sig.getParameters()) visitType(checker.getTypeOfSymbol(p));
        visitType(sig.getReturnType());
      }
    }
    for (const b of t.getBaseTypes?.() ?? []) visitType(b);
  };
  for (const s of exports) {
    visitSymbol(s);
    if (s.flags & ts.SymbolFlags.Class) {
      visitType(checker.getDeclaredTypeOfSymbol(s));
      visitType(checker.getTypeOfSymbol(s));
    } else if (s.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) {
      visitType(checker.getDeclaredTypeOfSymbol(s));
    } else {
      visitType(checker.getTypeOfSymbol(s));
    }
  }
  return found;
}

describe('the h2kit/h2 types', () => {
  const { checker, exports } = loadIndex();

  it('exported classes: no private, protected or @internal member, no unexported base class; the members are the API', () => {
    const { api, leaks } = classMembers(checker, exports);
    expect(leaks).toEqual([]);
    // The API, member by member: a change here is a change of the public API (README's h2kit/h2 section).
    expect(api).toEqual(
      [
        'ClientResponse.body',
        'ClientResponse.bytes',
        'ClientResponse.cancel',
        'ClientResponse.get',
        'ClientResponse.getAll',
        'ClientResponse.headers',
        'ClientResponse.informational',
        'ClientResponse.json',
        'ClientResponse.pushed',
        'ClientResponse.rawHeaders',
        'ClientResponse.rawTrailers',
        'ClientResponse.status',
        'ClientResponse.streamId',
        'ClientResponse.text',
        'ClientResponse.trailers',
        'ClientSession.activeStreams',
        'ClientSession.alpnProtocol',
        'ClientSession.authority',
        'ClientSession.close',
        'ClientSession.closed',
        'ClientSession.closedPromise',
        'ClientSession.destroy',
        'ClientSession.off',
        'ClientSession.on',
        'ClientSession.pendingRequests',
        'ClientSession.ping',
        'ClientSession.priority',
        'ClientSession.request',
        'ClientSession.scheme',
        'ClientSession.setNextStreamId',
        'ClientSession.stats',
        'ClientSession.timings',
        'ClientSession.tls',
        'ClientSession.url',
        'FrameLines.connectionClosed',
        'FrameLines.lines',
        'FrameLines.settingsLines',
        'FrameLines.streamClosed',
        'new FrameLines',
        'H2Error.errorCode',
        'H2Error.name',
        'H2Error.scope',
        'H2Error.streamId',
        'H2Error.toString',
        'new H2Error',
        'Http2Error.code',
        'Http2Error.errorCode',
        'Http2Error.fromCode',
        'Http2Error.name',
        'Http2Error.retryable',
        'Http2Error.streamId',
        'new Http2Error',
        'Http2Server.address',
        'Http2Server.close',
        'Http2Server.connectionCount',
        'Http2Server.getConnections',
        'Http2Server.handleSocket',
        'Http2Server.listen',
        'new Http2Server',
        'ServerConnection.closed',
        'ServerConnection.destroy',
        'ServerConnection.id',
        'ServerConnection.onDrain',
        'ServerConnection.onTransportClose',
        'ServerConnection.ping',
        'ServerConnection.receive',
        'ServerConnection.remoteAddress',
        'ServerConnection.remotePort',
        'ServerConnection.shutdown',
        'ServerConnection.stats',
        'ServerConnection.streamCount',
        'new ServerConnection',
        'ServerStream.authority',
        'ServerStream.closed',
        'ServerStream.connectionId',
        'ServerStream.endStreamReceived',
        'ServerStream.get',
        'ServerStream.getAll',
        'ServerStream.headers',
        'ServerStream.headersSent',
        'ServerStream.method',
        'ServerStream.rawHeaders',
        'ServerStream.rawTrailers',
        'ServerStream.off',
        'ServerStream.on',
        'ServerStream.once',
        'ServerStream.path',
        'ServerStream.push',
        'ServerStream.pushed',
        'ServerStream.remoteAddress',
        'ServerStream.remotePort',
        'ServerStream.requestEnded',
        'ServerStream.reset',
        'ServerStream.respond',
        'ServerStream.resume',
        'ServerStream.scheme',
        'ServerStream.sendTrailers',
        'ServerStream.streamId',
        'ServerStream.trailers',
      ].sort(),
    );
  });

  it('every class, interface and type a user meets through the exports is exported itself (no engine type leaks through a signature)', () => {
    const exported = new Set(exports.map((s) => s.name));
    // Type aliases that only name a shape inline (not classes or interfaces of the engine).
    const shapes = new Set(['Listener', 'Events']);
    const leaked = [...reachable(checker, exports).entries()].filter(([, s]) => !exported.has(s.name) && !shapes.has(s.name)).map(([k]) => k);
    expect(leaked).toEqual([]);
  });

  it('nothing the exports reach is marked @internal', () => {
    const marked: string[] = [];
    for (const [key, s] of reachable(checker, exports)) {
      for (const d of s.declarations ?? []) {
        if (isInternalDoc(d)) marked.push(key);
        if (ts.isClassDeclaration(d) || ts.isInterfaceDeclaration(d)) {
          for (const m of d.members)
            if (isInternalDoc(m) && !(ts.isClassDeclaration(d) && hasModifier(m, ts.SyntaxKind.PrivateKeyword)))
              marked.push(`${key}.${m.name?.getText() ?? 'constructor'}`);
        }
      }
    }
    expect(marked).toEqual([]);
  });

  it("the engine's state does not compile from outside (test/types/h2-api.ts against the published .d.ts: every @ts-expect-error is an error)", () => {
    const dir = tempDir('h2kit-types-');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'h2-api.ts');
    const source = readFileSync(join(ROOT, 'test/types/h2-api.ts'), 'utf8');
    expect(source).toContain("from '../../src/h2/index.js'");
    writeFileSync(file, source.replace("from '../../src/h2/index.js'", `from ${JSON.stringify(join(ROOT, 'dist/h2/index.js'))}`));
    const program = ts.createProgram([file], OPTIONS);
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const at = d.file && d.start !== undefined ? `${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
      return `${at}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(diagnostics).toEqual([]);
    // Not vacuous: without the directives the file has as many errors as directives.
    const bare = source.replace(/\/\/ @ts-expect-error.*\n/g, '\n');
    writeFileSync(file, bare.replace("from '../../src/h2/index.js'", `from ${JSON.stringify(join(ROOT, 'dist/h2/index.js'))}`));
    const errors = ts.getPreEmitDiagnostics(ts.createProgram([file], OPTIONS));
    expect(errors.length).toBeGreaterThanOrEqual((source.match(/^\s*\/\/ @ts-expect-error/gm) ?? []).length);
  });
});
