/**
 * Runs the real h2get (bin/h2get.js, or the single-file executable in
 * H2KIT_CLI_DIR) and nghttp side by side, and starts the servers they talk
 * to: nghttpd and nginx with their own configuration in a temporary folder
 * (never /etc), stopped by process id.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './cli.js';
import { type ExecResult, exec, freePort, requireBin, waitForPort } from './h2serve.js';

/** The argv that runs h2get: the executable in H2KIT_CLI_DIR, else node bin/h2get.js. */
export function h2getArgv(args: string[]): string[] {
  const exeDir = process.env['H2KIT_CLI_DIR'];
  return exeDir ? [join(exeDir, 'h2get'), ...args] : [process.execPath, join(ROOT, 'bin', 'h2get.js'), ...args];
}

/** Runs h2get to completion (no colour unless the test asks). */
export function runH2Get(args: string[], opts: { timeout?: number; input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ExecResult> {
  const argv = h2getArgv(args);
  return exec(argv[0]!, argv.slice(1), { ...opts, env: { NO_COLOR: '1', FORCE_COLOR: undefined, ...opts.env } });
}

export function runNghttp(args: string[], opts: { timeout?: number; input?: string | Buffer; cwd?: string } = {}): Promise<ExecResult> {
  return exec(requireBin('nghttp'), args, opts);
}

/** A server the tests started. */
export interface Peer {
  port: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function track(child: ChildProcess): { output: () => string; exited: Promise<void> } {
  let text = '';
  child.stdout?.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (text += b.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { output: () => text, exited };
}

async function started(child: ChildProcess, port: number, name: string): Promise<Peer> {
  const t = track(child);
  let dead = false;
  void t.exited.then(() => (dead = true));
  try {
    await waitForPort(port, 15_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not listen on ${port}${dead ? ' (it exited)' : ''}: ${t.output()} (${(e as Error).message})`);
  }
  return {
    port,
    child,
    output: t.output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await t.exited;
      clearTimeout(timer);
    },
  };
}

/** nghttpd on a free port: h2c with `tls` null, else TLS with that key and certificate; `args` before the port (e.g. -p). */
export async function startNghttpd(htdocs: string, tls: { key: string; cert: string } | null, args: string[] = []): Promise<Peer> {
  const port = await freePort();
  const argv = [...args, '-d', htdocs, ...(tls ? [String(port), tls.key, tls.cert] : ['--no-tls', String(port)])];
  return started(spawn(requireBin('nghttpd'), argv, { stdio: ['ignore', 'pipe', 'pipe'] }), port, 'nghttpd');
}

/**
 * nginx serving `htdocs` over TLS with http2 on a free port, from its own
 * prefix with a configuration written there (one process, in the
 * foreground: no daemon, no master, no user switch).
 */
export async function startNginx(htdocs: string, tls: { key: string; cert: string }, extra = ''): Promise<Peer> {
  const nginx = requireBin('nginx');
  const port = await freePort();
  const prefix = tempDir('h2get-nginx-');
  for (const d of ['logs', 'tmp']) mkdirSync(join(prefix, d));
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  types { text/html html; text/css css; application/javascript js; image/png png; application/octet-stream bin; }
  default_type application/octet-stream;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  server {
    listen 127.0.0.1:${port} ssl http2;
    server_name localhost;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    root ${htdocs};
    ${extra}
  }
}
`,
  );
  const child = spawn(nginx, ['-p', prefix, '-c', conf, '-e', join(prefix, 'logs/error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  return started(child, port, 'nginx');
}

/**
 * The frames received in an nghttp-format -v log, stream by stream: each
 * frame with its detail lines and the fields received before it, times and
 * lengths removed (and the values of `date`, which change by the second).
 */
export function receivedByStream(log: string): Map<number, string[]> {
  const streams = new Map<number, string[]>();
  let fields: string[] = [];
  let current: string[] | null = null;
  for (const raw of log.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const field = /^\[ *\d+\.\d{3}\] recv \(stream_id=(\d+)\) ([^:]*|:[^:]+): (.*)$/.exec(line);
    if (field) {
      fields.push(`${field[2]}: ${field[2] === 'date' ? '<date>' : field[3]}`);
      current = null;
      continue;
    }
    const frame = /^\[ *\d+\.\d{3}\] recv (\w+) frame <length=\d+, flags=(0x[0-9a-f]{2}), stream_id=(\d+)>$/.exec(line);
    if (frame) {
      const id = Number(frame[3]);
      let list = streams.get(id);
      if (!list) streams.set(id, (list = []));
      list.push(...fields.map((f) => `  ${f}`), `${frame[1]} flags=${frame[2]}`);
      fields = [];
      current = list;
      continue;
    }
    if (current !== null && line.startsWith('          ')) {
      current.push(`    ${line.trim()}`);
      continue;
    }
    current = null;
  }
  return streams;
}

/** The :path of each request sent, in order, from an nghttp-format -v log. */
export function sentPaths(log: string): string[] {
  const out: string[] = [];
  let inHeaders = false;
  for (const line of log.split('\n')) {
    if (/^\[ *\d+\.\d{3}\] send HEADERS frame/.test(line)) inHeaders = true;
    else if (!line.startsWith('          ')) inHeaders = false;
    else if (inHeaders) {
      const m = /^ {10}:path: (.*)$/.exec(line);
      if (m) out.push(m[1]!);
    }
  }
  return out;
}
