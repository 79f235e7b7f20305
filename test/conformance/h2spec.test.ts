/**
 * h2spec (the HTTP/2 conformance tester, ../shared/tools/h2spec) in strict
 * mode against h2serve over h2c and over TLS: every case must pass. The
 * JUnit report names each failing case, so a regression says which section
 * of RFC 9113 / RFC 7541 broke.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { exec, killAll, startH2Serve } from '../helpers/h2serve.js';

const H2SPEC = resolve(ROOT, '..', 'shared', 'tools', 'h2spec');

afterAll(killAll);

/** Runs h2spec and returns [passed, failed names] from its JUnit report. */
async function h2spec(args: string[]): Promise<{ total: number; failed: string[]; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'h2spec-'));
  const report = join(dir, 'report.xml');
  const r = await exec(H2SPEC, [...args, '--strict', '-o', '5', '-j', report], { timeout: 120_000 });
  const xml = existsSync(report) ? readFileSync(report, 'utf8') : '';
  // <testcase package="http2/3.5" classname="Sends invalid connection preface" ...>[<error .../>]</testcase>
  const cases = [...xml.matchAll(/<testcase package="([^"]*)" classname="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)];
  const failed = cases.filter((m) => /<(failure|error|skipped)/.test(m[4] ?? '')).map((m) => `${m[1]}: ${m[2]}`);
  return { total: cases.length, failed, output: r.stdout + r.stderr };
}

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
