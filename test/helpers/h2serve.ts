/**
 * Runs the real h2serve (bin/h2serve.js, or the single-file executable in
 * H2KIT_CLI_DIR) as a user would, and the real peers (curl, nghttp, h2load,
 * nghttpd, openssl) against it.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** The argv that runs h2serve: the executable in H2KIT_CLI_DIR, else bin/h2serve.js itself (run by /bin/sh, it starts Node with h2serve's V8 flag). */
export function h2serveArgv(args: string[]): string[] {
  const exeDir = process.env['H2KIT_CLI_DIR'];
  return exeDir ? [join(exeDir, 'h2serve'), ...args] : [join(ROOT, 'bin', 'h2serve.js'), ...args];
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** What stderr must show before the server counts as ready (default: the listening line). */
  ready?: RegExp;
  /** Milliseconds to wait for `ready` (default 15 s). */
  timeout?: number;
}

const LISTENING = /listening on (https?):\/\/(\[[^\]]*\]|[^:/]+):(\d+)\//;

/** A running h2serve. */
export class H2ServeProcess {
  private out: Buffer[] = [];
  private err: Buffer[] = [];
  private outWaiters: Array<() => void> = [];
  readonly exited: Promise<Exit>;
  exit: Exit | null = null;
  port = 0;
  scheme: 'http' | 'https' = 'http';

  constructor(
    readonly child: ChildProcess,
    readonly args: string[],
  ) {
    child.stdout!.on('data', (b: Buffer) => {
      this.out.push(b);
      this.wake();
    });
    child.stderr!.on('data', (b: Buffer) => {
      this.err.push(b);
      this.wake();
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        // stdout/stderr may still hold data: let 'close' come first.
      });
      child.on('close', (code, signal) => {
        this.exit ??= { code, signal };
        this.wake();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get stdout(): string {
    return Buffer.concat(this.out).toString('utf8');
  }

  get stdoutBytes(): Buffer {
    return Buffer.concat(this.out);
  }

  get stderr(): string {
    return Buffer.concat(this.err).toString('utf8');
  }

  /** http://127.0.0.1:PORT (or https://localhost:PORT under TLS). */
  get url(): string {
    return this.scheme === 'https' ? `https://localhost:${this.port}` : `http://127.0.0.1:${this.port}`;
  }

  private wake(): void {
    const w = this.outWaiters;
    this.outWaiters = [];
    for (const fn of w) fn();
  }

  /** Waits until `test` holds for (stdout, stderr); rejects on timeout or exit. */
  async waitFor(test: (stdout: string, stderr: string) => boolean, timeout = 10_000, what = 'output'): Promise<void> {
    const deadline = Date.now() + timeout;
    for (;;) {
      if (test(this.stdout, this.stderr)) return;
      if (this.exit)
        throw new Error(`h2serve exited (${JSON.stringify(this.exit)}) before ${what}; stderr: ${this.stderr}\nstdout: ${this.stdout.slice(-2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${what}; stderr: ${this.stderr}\nstdout (end): ${this.stdout.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.outWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until stdout matches `re`. */
  waitForStdout(re: RegExp, timeout = 10_000): Promise<void> {
    return this.waitFor((o) => re.test(o), timeout, `stdout matching ${re}`);
  }

  /** Waits until stderr matches `re`. */
  waitForStderr(re: RegExp, timeout = 10_000): Promise<void> {
    return this.waitFor((_, e) => re.test(e), timeout, `stderr matching ${re}`);
  }

  /** Sends `signal` and resolves with how the process ended (SIGKILL after `timeout`). */
  async kill(signal: NodeJS.Signals = 'SIGTERM', timeout = 15_000): Promise<Exit> {
    if (!this.exit) this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeout);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }

  /** SIGTERM; throws unless the process then exits with status 0. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const e = await this.kill(signal);
    if (e.code !== 0) throw new Error(`h2serve ended with ${JSON.stringify(e)} after ${signal}; stderr: ${this.stderr}`);
  }
}

const running = new Set<H2ServeProcess>();

/**
 * Starts h2serve with `args` (options, then PORT and KEY CERT as the test
 * wants them; PORT 0 picks a free port) and resolves once it listens, with
 * the port parsed from its `listening on` line.
 */
export async function startH2Serve(args: string[], opts: StartOptions = {}): Promise<H2ServeProcess> {
  const argv = h2serveArgv(args);
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = new H2ServeProcess(child, args);
  running.add(p);
  void p.exited.then(() => running.delete(p));
  const ready = opts.ready ?? LISTENING;
  await p.waitFor((_, e) => ready.test(e) && LISTENING.test(e), opts.timeout ?? 15_000, 'the listening line');
  const m = LISTENING.exec(p.stderr)!;
  p.scheme = m[1] as 'http' | 'https';
  p.port = Number(m[3]);
  return p;
}

/** Kills whatever a test left running (for afterEach/afterAll). */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill('SIGKILL')));
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a command to completion (killed after `timeout` ms). */
export function exec(
  cmd: string,
  args: string[],
  opts: { timeout?: number; input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { encoding: 'buffer', maxBuffer: 512 << 20, timeout: opts.timeout ?? 60_000, killSignal: 'SIGKILL', env: { ...process.env, ...opts.env }, cwd: opts.cwd },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
        if (e && typeof e.code === 'string') return reject(e); // could not start (ENOENT ...)
        resolve({ code: e ? ((e.code as number | undefined) ?? null) : 0, signal: e?.signal ?? null, stdout, stderr: stderr.toString('utf8') });
      },
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** Runs h2serve to completion (for --help, --version, bad options). */
export function runH2Serve(args: string[], opts: { timeout?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ExecResult> {
  const argv = h2serveArgv(args);
  return exec(argv[0]!, argv.slice(1), opts);
}

const found = new Map<string, string | null>();
function which(bin: string): string | null {
  if (!found.has(bin)) {
    const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
    found.set(bin, r.status === 0 ? r.stdout.trim() : null);
  }
  return found.get(bin)!;
}

const PACKAGE: Record<string, string> = {
  curl: 'curl',
  nghttp: 'nghttp2-client',
  h2load: 'nghttp2-client',
  nghttpd: 'nghttp2-server',
  openssl: 'openssl',
  script: 'util-linux',
  stdbuf: 'coreutils',
};

/** The path of a peer program; throws (so the test fails, never skips) when it is not installed. */
export function requireBin(bin: string): string {
  const p = which(bin);
  if (!p)
    throw new Error(
      `this test needs '${bin}', which is not installed (Debian package ${PACKAGE[bin] ?? bin}; CI installs curl, nghttp2-client, nghttp2-server and openssl)`,
    );
  return p;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A TCP port that was free a moment ago (for tools that cannot take port 0). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeout = 10_000): Promise<void> {
  const connects = () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  await until(connects, timeout, `a listener on port ${port}`);
}

/** Pids of the live children of `pid` (from /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === pid && rest[0] !== 'Z') out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

/** Inodes of the sockets listening on TCP `port` (from /proc/net/tcp and tcp6). */
export function listeningInodes(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT; state 0A is LISTEN; the inode is the tenth field.
      if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '0A') inodes.push(f[9]!);
    }
  }
  return inodes;
}

/** True when process `pid` holds one of the socket `inodes`. */
export function holdsSocket(pid: number, inodes: string[]): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        return m !== null && inodes.includes(m[1]!);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** True while a process with this pid exists (and is not a zombie). */
/**
 * A process's start time (clock ticks since boot, /proc/PID/stat field 22),
 * or null when it is gone: with the pid, it names one process even after
 * the pid is reused (pid_max can be as low as 32768, and a test run spawns
 * thousands of processes).
 */
export function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** SIGKILLs `pid` only if it is still the process that started at `started` (see startTime). */
export function killIfSame(pid: number, started: string | null, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (started === null || startTime(pid) !== started || !alive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    // gone meanwhile
  }
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `test` every 50 ms until it holds; rejects after `timeout`. */
export async function until(test: () => boolean | Promise<boolean>, timeout = 10_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The count of successful requests from h2load's summary ("requests: N total, ... N succeeded, ..."). */
export function h2loadSucceeded(out: string): { total: number; succeeded: number; failed: number; errored: number } {
  const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  if (!m) throw new Error(`no requests line in h2load's output:\n${out}`);
  return { total: Number(m[1]), succeeded: Number(m[4]), failed: Number(m[5]), errored: Number(m[6]) };
}

/** A key and self-signed certificate made by openssl in `dir`. */
export async function opensslCert(dir: string, name = 'server', cn = 'localhost'): Promise<{ key: string; cert: string }> {
  const openssl = requireBin('openssl');
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const r = await exec(openssl, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
    '-addext',
    `subjectAltName=DNS:${cn},IP:127.0.0.1`,
  ]);
  if (r.code !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return { key, cert };
}
