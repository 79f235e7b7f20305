/**
 * h2spec (the HTTP/2 conformance tester, see test/helpers/h2spec.ts) in strict
 * mode against h2serve over h2c and over TLS: every case must pass. The
 * JUnit report names each failing case, so a regression says which section
 * of RFC 9113 / RFC 7541 broke.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, startH2Serve } from '../helpers/h2serve.js';
import { H2SPEC, h2spec as run } from '../helpers/h2spec.js';

afterAll(killAll);

const h2spec = (args: string[]) => run([...args, '--strict']);

describe.skipIf(!existsSync(H2SPEC))('h2spec --strict', () => {
  const root = mkdtempSync(join(tmpdir(), 'h2spec-root-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>h2spec</title>\n');

  it('h2c: every case passes (147 of 147)', async () => {
    const s = await startH2Serve(['--no-tls', '-d', root, '0']);
    const r = await h2spec(['-h', '127.0.0.1', '-p', String(s.port)]);
    expect(r.failed, r.output.slice(-4000)).toEqual([]);
    expect(r.total).toBe(147);
  });

  it('TLS with ALPN h2: every case passes (147 of 147)', async () => {
    const s = await startH2Serve(['--self-signed', '-d', root, '0']);
    const r = await h2spec(['-h', '127.0.0.1', '-p', String(s.port), '-t', '-k']);
    expect(r.failed, r.output.slice(-4000)).toEqual([]);
    expect(r.total).toBe(147);
  });
});
