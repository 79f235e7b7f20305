/** Runs h2spec and reads its JUnit report: the cases run and the names of those that failed. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { ROOT } from './cli.js';
import { exec } from './h2serve.js';

/** h2spec: $H2SPEC, else h2spec on PATH, else ../shared/tools/h2spec next to the clone. The tests that need it are skipped without it. */
export const H2SPEC =
  process.env['H2SPEC'] ??
  (process.env['PATH'] ?? '')
    .split(delimiter)
    .map((d) => join(d, 'h2spec'))
    .find((f) => f.startsWith('/') && existsSync(f)) ??
  resolve(ROOT, '..', 'shared', 'tools', 'h2spec');

export async function h2spec(args: string[]): Promise<{ total: number; failed: string[]; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'h2spec-'));
  const report = join(dir, 'report.xml');
  const r = await exec(H2SPEC, [...args, '-o', '5', '-j', report], { timeout: 120_000 });
  const xml = existsSync(report) ? readFileSync(report, 'utf8') : '';
  // <testcase package="http2/3.5" classname="Sends invalid connection preface" ...>[<error .../>]</testcase>
  const cases = [...xml.matchAll(/<testcase package="([^"]*)" classname="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)];
  const failed = cases.filter((m) => /<(failure|error|skipped)/.test(m[4] ?? '')).map((m) => `${m[1]}: ${m[2]}`);
  return { total: cases.length, failed, output: r.stdout + r.stderr };
}
