/**
 * Runs the real h2proxy (bin/h2proxy.js, or the single-file executable in
 * H2KIT_CLI_DIR) as a user would, and the backends the tests put behind it:
 * a Node HTTP/1.1 server that echoes what it received, nginx, nghttpd and
 * h2serve, each on a free port with its own temporary configuration and
 * stopped by its process id.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROOT, tempDir } from './cli.js';
import { type ExecResult, exec, freePort, H2ServeProcess, requireBin, waitForPort } from './h2serve.js';

/** The argv that runs h2proxy. */
export function h2proxyArgv(args: string[]): string[] {
  const exeDir = process.env['H2KIT_CLI_DIR'];
  return exeDir ? [join(exeDir, 'h2proxy'), ...args] : [process.execPath, join(ROOT, 'bin', 'h2proxy.js'), ...args];
}

const LISTENING = /Listening on (\[[^\]]*\]|[^\s:]+):(\d+)( \(no-tls\))?/g;

/** A running h2proxy; `ports` in the order of its "Listening on" lines. */
export class ProxyProcess extends H2ServeProcess {
  ports: number[] = [];
}

const running = new Set<H2ServeProcess>();

/** Starts h2proxy and resolves once it listens on `listeners` frontends (default 1). */
export async function startProxy(
  args: string[],
  opts: { listeners?: number; cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<ProxyProcess> {
  const argv = h2proxyArgv(args);
  const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const p = new ProxyProcess(child, args);
  running.add(p);
  void p.exited.then(() => running.delete(p));
  const n = opts.listeners ?? 1;
  await p.waitFor((_, e) => [...e.matchAll(LISTENING)].length >= n, opts.timeout ?? 15_000, `${n} "Listening on" lines`);
  p.ports = [...p.stderr.matchAll(LISTENING)].map((m) => Number(m[2]));
  p.port = p.ports[0]!;
  return p;
}

/** Runs h2proxy to completion (--help, bad options). */
export function runProxy(args: string[], opts: { timeout?: number; cwd?: string } = {}): Promise<ExecResult> {
  const argv = h2proxyArgv(args);
  return exec(argv[0]!, argv.slice(1), opts);
}

/** Kills whatever a test left running. */
export async function killProxies(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill('SIGKILL')));
}

/** What an echo backend saw of one request. */
export interface Seen {
  method: string;
  url: string;
  httpVersion: string;
  /** Raw header lines as received (names lowercased), in order. */
  headers: Array<[string, string]>;
  trailers: Array<[string, string]>;
  bytes: number;
  sha256: string;
}

export interface EchoBackend {
  port: number;
  name: string;
  seen: Seen[];
  /** Requests whose client (the proxy) went away before the response ended. */
  aborted: string[];
  server: http.Server;
  close(): Promise<void>;
}

/**
 * An HTTP/1.1 backend in the test process. Paths:
 * - /echo: answers with the request body, streamed back as it arrives
 * - /slow/N: sends N chunks of 1 KiB, one every 100 ms (to cancel mid-way)
 * - /hang: never answers
 * - /reset: sends half a response and destroys the connection
 * - /size/N: N octets of a pattern
 * - /trailers: a chunked body with a trailer field (x-sum)
 * - anything else: JSON of what it received.
 * Every response carries x-backend: NAME and two set-cookie fields, plus
 * hop-by-hop fields the proxy must drop (connection nominating x-hop, keep-alive).
 */
export async function startEchoBackend(name: string, port = 0): Promise<EchoBackend> {
  const seen: Seen[] = [];
  const aborted: string[] = [];
  const server = http.createServer((req, res) => {
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
    const hash = createHash('sha256');
    let bytes = 0;
    const url = req.url ?? '/';
    res.on('close', () => {
      if (!res.writableFinished) aborted.push(url);
    });
    const base = (): void => {
      res.setHeader('x-backend', name);
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2, c=3']);
      res.setHeader('connection', 'keep-alive, x-hop');
      res.setHeader('x-hop', 'dropped');
      res.setHeader('keep-alive', 'timeout=5');
    };
    if (url === '/echo') {
      base();
      res.setHeader('content-type', 'application/octet-stream');
      if (req.headers['content-length']) res.setHeader('content-length', req.headers['content-length']);
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      req.pipe(res);
      req.on('end', () => seen.push({ method: req.method!, url, httpVersion: req.httpVersion, headers, trailers: [], bytes, sha256: hash.digest('hex') }));
      return;
    }
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
    req.on('end', () => {
      const trailers: Array<[string, string]> = [];
      for (let i = 0; i < req.rawTrailers.length; i += 2) trailers.push([req.rawTrailers[i]!.toLowerCase(), req.rawTrailers[i + 1]!]);
      const s: Seen = { method: req.method!, url, httpVersion: req.httpVersion, headers, trailers, bytes, sha256: hash.digest('hex') };
      seen.push(s);
      base();
      const slow = /^\/slow\/(\d+)$/.exec(url);
      const size = /^\/size\/(\d+)$/.exec(url);
      if (url === '/hang') return;
      if (url === '/trailers') {
        res.writeHead(200, { trailer: 'x-sum' });
        res.write('abc');
        res.addTrailers({ 'x-sum': '3' });
        res.end();
        return;
      }
      if (url === '/reset') {
        res.setHeader('content-length', '1000');
        res.write('x'.repeat(100));
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      if (slow) {
        let left = Number(slow[1]);
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const t = setInterval(() => {
          if (left-- <= 0 || res.destroyed) {
            clearInterval(t);
            if (!res.destroyed) res.end();
            return;
          }
          res.write(Buffer.alloc(1024, 0x61));
        }, 100);
        res.on('close', () => clearInterval(t));
        return;
      }
      if (size) return void res.end(pattern(Number(size[1])));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ backend: name, ...s }));
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    port: (server.address() as AddressInfo).port,
    name,
    seen,
    aborted,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `n` octets of a repeating, position-dependent pattern. */
export function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** nginx serving `root` on a free port, with its own configuration in a temp folder; stopped by pid. */
export async function startNginx(root: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const nginx = requireBin('nginx');
  const dir = tempDir('h2proxy-nginx-');
  const port = await freePort();
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'worker_processes 1;',
      'daemon off;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'logs/error.log')};`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
      `  server { listen 127.0.0.1:${port}; root ${root}; }`,
      '}',
    ].join('\n'),
  );
  const child = spawn(nginx, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  try {
    await waitForPort(port);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`nginx did not start: ${err}`, { cause: e });
  }
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGQUIT');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** nghttpd (h2c) on a free port; stopped by pid. */
export async function startNghttpd(args: string[]): Promise<{ port: number; stop: () => Promise<void> }> {
  const bin = requireBin('nghttpd');
  const port = await freePort();
  const child = spawn(bin, ['--no-tls', ...args, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await waitForPort(port);
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
