/**
 * h2proxy: nghttpx's reverse proxy command line on h2kit.
 *
 *   h2proxy [OPTIONS]... [<PRIVATE_KEY> <CERT>]
 *
 * The options are nghttpx 1.52's (src/proxy/config.ts has the table); --conf
 * reads them from a file of name=value lines. Signals as nghttpx: SIGTERM,
 * SIGINT and SIGQUIT stop gracefully (in-flight requests finish), SIGHUP and
 * SIGUSR2 reload the configuration, SIGUSR1 reopens the log files. Workers
 * (-n) are processes sharing the frontends (node:cluster).
 */

import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { type Command, Option } from 'commander';
import { compileAccessLog } from '../proxy/access-log.js';
import { buildConfig, ConfigError, needsTls, OPTIONS, type OptionValue, type ProxyConfig, parseConfText } from '../proxy/config.js';
import { type RunningProxy, startProxy } from '../proxy/index.js';
import { parseArgs, program, UsageError, writeErr } from './common.js';
import { DaemonStatus } from './daemon-status.js';
import { listenFailureReason, loadKeyPair } from './server-common.js';

const HELP = `
Frontends (-f) take HTTP/2 over TLS (ALPN h2) and HTTP/1.1 over TLS (ALPN
http/1.1, or no ALPN); with no-tls, h2c with prior knowledge, the HTTP/1.1
Upgrade to h2c, and plain HTTP/1.1 on the same port. Backends (-b) speak
HTTP/1.1 (default) or HTTP/2 (proto=h2), over TLS with "tls".

<PATTERN> routes by host and path as nghttpx: "/path/" matches the subtree,
"/path" only itself, "/path*" longer paths; "host/path", "*.host"; longer
and host patterns win. A catch-all backend ("/" or no pattern) is required.
<DURATION> is an integer with h, m, s or ms (seconds by default); <SIZE>
takes K, M, G (powers of 1024).

--conf FILE holds name=value lines with the long option names (flags take
yes or no); options on the command line replace the file's values of the
same option. No configuration file is read unless --conf is given.

Signals: SIGTERM, SIGINT, SIGQUIT stop accepting, let in-flight requests
finish, exit 0. SIGHUP or SIGUSR2 reload the configuration (the --conf
file and the command line) without dropping connections. SIGUSR1 reopens
the log files.

Examples:
  $ h2proxy -f'*,8443' -b'127.0.0.1,8080' key.pem cert.pem
  $ h2proxy -f'127.0.0.1,3000;no-tls' -b'127.0.0.1,8080;/api/' -b'127.0.0.1,81'
  $ h2proxy --conf=h2proxy.conf

Exit status: 0 after a stop signal, 1 when it cannot start, 2 bad options
or configuration.
`;

function buildProgram(): Command {
  // nghttpx's -v is --version.
  const p = program('h2proxy', "An HTTP/2 and HTTP/1.1 reverse proxy (nghttpx's options) on the h2kit engine.", '-v, --version');
  p.usage('[OPTIONS]... [<PRIVATE_KEY> <CERT>]')
    .argument('[PRIVATE_KEY]', 'private key (PEM) for TLS frontends')
    .argument('[CERT]', 'certificate (PEM) for TLS frontends');
  for (const o of OPTIONS) {
    const arg = o.arg ?? 'VALUE';
    const flags = `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.kind === 'flag' ? '' : arg.startsWith('<') ? ` ${arg}` : ` <${arg}>`}`;
    const opt = new Option(flags, o.help);
    if (o.default !== undefined) opt.default(undefined, o.default);
    if (o.kind === 'list') opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    p.addOption(opt);
  }
  p.addOption(new Option('--conf <PATH>', 'read options from this file (name=value lines)'));
  p.addHelpText('after', HELP);
  return p;
}

const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

interface Parsed {
  cli: OptionValue[];
  conf: string | null;
  key: string | null;
  cert: string | null;
}

/** The command line's occurrences; null when --help or --version answered. */
export function parseCommandLine(argv: string[]): Parsed | null {
  const p = buildProgram();
  if (!parseArgs(p, argv)) return null;
  const values = p.opts<Record<string, unknown>>();
  const cli: OptionValue[] = [];
  for (const o of OPTIONS) {
    // commander names "--no-via" after "via", true unless given.
    const negated = o.kind === 'flag' && o.name.startsWith('no-');
    const attr = camel(negated ? o.name.slice(3) : o.name);
    if (p.getOptionValueSource(attr) !== 'cli') continue;
    const v = values[attr];
    const where = `--${o.name}`;
    if (o.kind === 'flag') cli.push({ name: o.name, value: negated ? v === false : v === true, where });
    else if (o.kind === 'list') for (const x of v as string[]) cli.push({ name: o.name, value: x, where: `${where} '${x}'` });
    else cli.push({ name: o.name, value: v as string, where: `${where} '${String(v)}'` });
  }
  const [key, cert] = p.args as [string?, string?];
  if (key !== undefined && cert === undefined) throw new UsageError('PRIVATE_KEY given without CERT');
  return { cli, conf: (values['conf'] as string | undefined) ?? null, key: key ?? null, cert: cert ?? null };
}

function readConf(path: string): OptionValue[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--conf ${path}: cannot read: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
  return parseConfText(text, path);
}

/** The configuration the command line (and its --conf file) gives; throws UsageError. */
export function loadConfig(parsed: Parsed): ProxyConfig {
  let c: ProxyConfig;
  try {
    const conf = parsed.conf !== null ? readConf(parsed.conf) : [];
    c = buildConfig(conf, parsed.cli, parsed.conf !== null ? resolve(parsed.conf) : null);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  if (parsed.key !== null) {
    c.privateKeyFile = parsed.key;
    c.certificateFile = parsed.cert;
  }
  if (needsTls(c)) {
    if (c.privateKeyFile === null || c.certificateFile === null)
      throw new UsageError('PRIVATE_KEY and CERT are required for TLS frontends (or give every --frontend the no-tls parameter)');
    loadKeyPair(c.privateKeyFile, c.certificateFile);
    c.privateKeyFile = resolve(c.privateKeyFile);
    c.certificateFile = resolve(c.certificateFile);
  }
  if (c.cacert !== null) {
    try {
      readFileSync(c.cacert);
    } catch {
      throw new UsageError(`--cacert ${c.cacert}: cannot read it`);
    }
    c.cacert = resolve(c.cacert);
  }
  try {
    compileAccessLog(c.accesslogFormat);
  } catch (e) {
    throw new UsageError(`--accesslog-format: ${(e as Error).message}`);
  }
  // Files are opened after a daemon moved to /: make them absolute now.
  for (const k of ['accesslogFile', 'errorlogFile', 'pidFile'] as const) if (c[k] !== null) c[k] = resolve(c[k]!);
  return c;
}

// ---- running -------------------------------------------------------------------------

/** A daemon's status pipe (fd 3) until it listens; see daemonize(). */
const status = new DaemonStatus('H2PROXY_DAEMON_CHILD');
const say = (text: string): void => status.say(text);
const detached = (): void => status.detached();

export async function main(commandLine: string[]): Promise<number> {
  const inherited = (cluster.isWorker || process.env['H2PROXY_DAEMON_CHILD']) && process.env['H2PROXY_ARGV'];
  const argv = inherited ? (JSON.parse(inherited) as string[]) : commandLine;
  const cwd = process.env['H2PROXY_CWD'];
  if (cwd) process.chdir(cwd); // relative paths resolve where the command was started
  const parsed = parseCommandLine(argv);
  if (!parsed) return 0;
  const config = loadConfig(parsed);
  const reloadConfig = (): ProxyConfig => loadConfig(parseCommandLine(argv)!);
  if (cluster.isWorker) return worker(config, reloadConfig);
  if (config.daemon && !process.env['H2PROXY_DAEMON_CHILD']) return daemonize(argv);
  if (process.env['H2PROXY_DAEMON_CHILD']) process.chdir('/');
  if (config.workers > 1) return primary(config, argv, reloadConfig);
  return single(config, reloadConfig);
}

function writePidFile(c: ProxyConfig): () => void {
  if (c.pidFile === null) return () => {};
  const path = c.pidFile;
  writeFileSync(path, `${process.pid}\n`);
  return () => {
    try {
      unlinkSync(path);
    } catch {
      // gone already
    }
  };
}

function cannotStart(e: unknown): number {
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = err.address !== undefined ? `${err.address}:${err.port}` : '';
  say(`h2proxy: cannot listen${where ? ` on ${where}` : ''}: ${listenFailureReason(err)}\n`);
  return 1;
}

/** One process: runs until a stop signal; reloads on SIGHUP / SIGUSR2. */
async function single(config: ProxyConfig, reloadConfig: () => ProxyConfig): Promise<number> {
  let proxy: RunningProxy;
  try {
    proxy = await startProxy(config);
  } catch (e) {
    return cannotStart(e);
  }
  if (status.open) {
    for (const a of proxy.addresses) say(`Listening on ${a.text}\n`);
  }
  // The pid file exists before the launcher of a daemon returns.
  const removePid = writePidFile(config);
  detached();
  return run(proxy, reloadConfig, () => removePid());
}

function run(proxy: RunningProxy, reloadConfig: () => ProxyConfig, atExit: () => void): Promise<number> {
  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      proxy.errorLog.notice(`${sig}: graceful shutdown`);
      proxy.close(true, 60_000).then(
        () => {
          atExit();
          done(0);
        },
        () => {
          atExit();
          done(0);
        },
      );
    };
    let reloading = Promise.resolve();
    const reload = (sig: string) => {
      reloading = reloading.then(async () => {
        if (stopping) return;
        let next: ProxyConfig;
        try {
          next = reloadConfig();
        } catch (e) {
          proxy.errorLog.error(`${sig}: configuration not reloaded: ${(e as Error).message}`);
          return;
        }
        try {
          await proxy.reload(next);
          proxy.errorLog.notice(`${sig}: configuration reloaded`);
        } catch (e) {
          proxy.errorLog.error(`${sig}: configuration not fully reloaded: ${(e as Error).message}`);
        }
      });
    };
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) process.on(sig, () => stop(sig));
    for (const sig of ['SIGHUP', 'SIGUSR2'] as const) process.on(sig, () => reload(sig));
    process.on('SIGUSR1', () => proxy.reopenLogs());
    if (cluster.isWorker) process.on('disconnect', () => stop('primary gone'));
  });
}

async function worker(config: ProxyConfig, reloadConfig: () => ProxyConfig): Promise<number> {
  const index = Number(process.env['H2PROXY_WORKER_INDEX'] ?? 0);
  const n = config.workers;
  let proxy: RunningProxy;
  try {
    proxy = await startProxy(config, { quiet: true, connectionIds: { first: index + 1, step: n } });
  } catch (e) {
    process.send?.({
      failed: (e as Error).message,
      code: (e as NodeJS.ErrnoException).code,
      address: (e as { address?: string }).address,
      port: (e as { port?: number }).port,
    });
    return 1;
  }
  process.send?.({ listening: proxy.addresses.map((a) => a.text) });
  const code = await run(proxy, reloadConfig, () => {});
  if (process.connected) process.disconnect();
  return code;
}

/** -n N: N worker processes; one that dies is replaced. Signals go on to the workers. */
async function primary(config: ProxyConfig, argv: string[], reloadConfig: () => ProxyConfig): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ args: [], silent: false });
  const workers = config.workers;
  let stopping = false;
  let listening = 0;
  let removePid = () => {};
  return new Promise<number>((done) => {
    const fork = (index: number) => {
      const w = cluster.fork({ H2PROXY_WORKER_INDEX: String(index), H2PROXY_ARGV: JSON.stringify(argv), H2PROXY_CWD: process.cwd() });
      w.on('message', (m: { listening?: string[]; failed?: string; code?: string; address?: string; port?: number }) => {
        if (m.failed !== undefined) {
          stopping = true;
          for (const x of Object.values(cluster.workers ?? {})) x?.process.kill('SIGKILL');
          done(cannotStart(Object.assign(new Error(m.failed), { code: m.code, address: m.address, port: m.port })));
          return;
        }
        if (m.listening && ++listening === workers) {
          for (const t of m.listening)
            say(`${!status.open ? `${new Date().toISOString()} ${process.pid} NOTICE ` : ''}Listening on ${t} (${workers} workers)\n`);
          removePid = writePidFile(config);
          detached();
        }
      });
      w.on('exit', (code, signal) => {
        if (stopping) return;
        writeErr(`h2proxy: worker ${index} (pid ${w.process.pid}) ${signal ? `killed by ${signal}` : `exited with ${code}`}; starting another\n`);
        fork(index);
      });
    };
    for (let i = 0; i < workers; i++) fork(i);
    const stop = () => {
      if (stopping) return;
      stopping = true;
      const live = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead());
      const finish = () => {
        removePid();
        done(0);
      };
      if (live.length === 0) return finish();
      let left = live.length;
      for (const w of live) {
        w!.once('exit', () => --left === 0 && finish());
        w!.process.kill('SIGTERM');
      }
    };
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) process.on(sig, stop);
    const forward = (sig: NodeJS.Signals) => () => {
      if (sig !== 'SIGUSR1') {
        try {
          reloadConfig(); // refuse a bad configuration here, once, with one message
        } catch (e) {
          writeErr(`${new Date().toISOString()} ${process.pid} ERROR ${sig}: configuration not reloaded: ${(e as Error).message}\n`);
          return;
        }
      }
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(sig);
    };
    for (const sig of ['SIGHUP', 'SIGUSR2', 'SIGUSR1'] as const) process.on(sig, forward(sig));
  });
}

/**
 * -D: the same command runs detached (its own session, stdio on /dev/null,
 * working directory /). A pipe on its fd 3 brings back the listening lines
 * or why it could not start; we exit 0 once it listens.
 */
async function daemonize(argv: string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: { ...process.env, H2PROXY_DAEMON_CHILD: '1', H2PROXY_ARGV: JSON.stringify(argv), H2PROXY_CWD: process.cwd() },
  });
  const status = child.stdio[3] as Readable;
  return new Promise<number>((done) => {
    let text = '';
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      status.destroy();
      child.unref();
      done(code);
    };
    status.on('data', (b: Buffer) => {
      text += b.toString();
    });
    status.on('error', () => {});
    status.on('close', () => {
      if (/Listening on/.test(text)) {
        writeErr(`${text.trimEnd()}\nh2proxy: running in the background, pid ${child.pid}\n`);
        finish(0);
      } else {
        // It closed the pipe without listening: it failed (its message is the text).
        setTimeout(() => {
          writeErr(text || 'h2proxy: the background process exited before listening\n');
          finish(1);
        }, 100);
      }
    });
    child.on('exit', (code) => {
      if (!/Listening on/.test(text)) {
        setTimeout(() => {
          writeErr(text || `h2proxy: the background process exited with ${code} before listening\n`);
          finish(code === 2 ? 2 : 1);
        }, 100).unref();
      }
    });
  });
}
