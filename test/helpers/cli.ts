/** Runs the real commands from bin/ (built dist/) as a user would. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The launcher of a command in bin/ (the file tools are CommonJS launchers, h2serve and h2bench ES modules). */
export function binPath(cmd: string): string {
  return join(ROOT, 'bin', cmd === 'h2serve' || cmd === 'h2bench' ? `${cmd}.js` : `${cmd}.cjs`);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs bin/<cmd>.js with `args`, feeding `input` on stdin. With H2KIT_CLI_DIR
 * set, runs the command found there instead (the single-file executables).
 */
export function run(cmd: string, args: string[], input?: string | Buffer, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const exeDir = process.env['H2KIT_CLI_DIR'];
  // bin/ launchers run as users run them (their shebang passes V8 flags).
  const argv = exeDir ? [join(exeDir, cmd), ...args] : [binPath(cmd), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => {}); // the command may exit before reading everything
    child.stdin.end(input ?? '');
  });
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'h2kit-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `content` to a file in `dir` and returns its path. */
export function file(dir: string, name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

export interface OutCase {
  seq: number;
  wire: string;
  headers: Array<Record<string, string>>;
  header_table_size?: number;
  header_encoding?: string;
  input_length?: number;
  output_length?: number;
  percentage_of_original_size?: number;
  header_table?: {
    entries: Array<{ index: number; name: string; value: string; size: number }>;
    size: number;
    max_size: number;
    deflate_size?: number;
    max_deflate_size?: number;
  };
  trace?: Array<Record<string, unknown>>;
}

/** stdout parsed as a story document (it must always be valid JSON). */
export function cases(r: RunResult): OutCase[] {
  return (JSON.parse(r.stdout) as { cases: OutCase[] }).cases;
}
