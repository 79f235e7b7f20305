/**
 * h2serve: nghttpd's command line on the h2kit HTTP/2 engine.
 *
 *   h2serve [OPTIONS] <PORT> [<PRIVATE_KEY> <CERT>]
 *
 * Workers (-n) are processes sharing the listening port (node:cluster); the
 * primary replaces a worker that dies. -D runs the server detached.
 */

import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, Option } from 'commander';
import { Http2Error } from '../h2/errors.js';
import { trailerFields } from '../h2/response.js';
import { type H2ServeConfig, startH2Serve } from '../server/h2serve.js';
import { selfSignedCertificate } from '../server/self-signed.js';
import { collect, colorFromEnvironment, connectionWindowBitsArg, intArg, parseArgs, program, sizeArg, UsageError } from './common.js';
import { DaemonStatus } from './daemon-status.js';
import { listenFailureReason, loadKeyPair } from './server-common.js';

const HELP = `
Serves the files under HTDOCS over HTTP/2: TLS with ALPN h2 when PRIVATE_KEY
and CERT are given (or --self-signed), h2c with --no-tls (prior knowledge, or
an HTTP/1.1 "Upgrade: h2c" request without a body, as curl --http2 and
nghttp -u send; other HTTP/1.x requests get an HTTP/1.1 505 that says why).
GET and HEAD; index.html for directories; content-type from the extension;
etag, last-modified, 304 for conditional requests, byte ranges (206, 416).
Nothing outside HTDOCS is ever served. SIGINT or SIGTERM: GOAWAY, in-flight
streams finish (at most 5 s), exit 0.

<SIZE> takes K, M and G suffixes (powers of 1024).

The -v log is coloured on a terminal, unless NO_COLOR is set; FORCE_COLOR
(0: never) and --color decide otherwise.

Examples:
  $ h2serve --no-tls -d ./public 8080
  $ curl --http2-prior-knowledge http://localhost:8080/
  $ curl --http2 http://localhost:8080/          (upgrades to h2c)
  $ h2serve -v -p /=/style.css,/app.js --self-signed 8443
  $ nghttp -nv https://localhost:8443/

Exit status: 0 after a signal, 1 when the server cannot start, 2 bad options.
`;

interface Options {
  address?: string;
  daemon?: boolean;
  verifyClient?: boolean;
  htdocs?: string;
  verbose?: boolean;
  tls: boolean;
  headerTableSize?: number;
  encoderHeaderTableSize?: number;
  color?: boolean;
  push: string[];
  padding?: number;
  maxConcurrentStreams?: number;
  workers: number;
  errorGzip?: boolean;
  windowBits?: number;
  connectionWindowBits?: number;
  earlyResponse?: boolean;
  trailer: string[];
  hexdump?: boolean;
  echoUpload?: boolean;
  mimeTypesFile?: string;
  contentLength: boolean;
  selfSigned?: boolean;
  cacheValid?: number;
}

function buildProgram() {
  return program('h2serve', "A static HTTP/2 file server (nghttpd's options) on the h2kit engine.")
    .usage('[OPTIONS] <PORT> [<PRIVATE_KEY> <CERT>]')
    .argument('<PORT>', 'port to listen on (0: any free port)')
    .argument('[PRIVATE_KEY]', 'private key file (PEM), unless --no-tls or --self-signed')
    .argument('[CERT]', 'certificate file (PEM)')
    .addOption(new Option('-a, --address <ADDR>', 'address to bind').default(undefined, 'all interfaces'))
    .option('-D, --daemon', 'run in the background (stdout and stderr go to /dev/null)')
    .option('-V, --verify-client', 'request a client certificate and refuse clients without one (it is not verified, as in nghttpd)')
    .addOption(new Option('-d, --htdocs <PATH>', 'document root').default(undefined, 'the current directory'))
    .option('-v, --verbose', "print every frame sent and received, in nghttpd's format")
    .option('--no-tls', 'h2c with prior knowledge instead of TLS')
    .option('-c, --header-table-size <SIZE>', "our SETTINGS_HEADER_TABLE_SIZE (the decoder's table)", sizeArg)
    .option('--encoder-header-table-size <SIZE>', "the encoder's own table limit; the table used is the smaller of this and the client's setting", sizeArg)
    .option('--color', 'colour the output even when it is not a terminal')
    .option('-p, --push <PATH=PUSH_PATH,...>', 'push PUSH_PATHs when PATH is requested (repeatable), e.g. -p /=/style.css,/app.js', collect, [])
    .option('-b, --padding <N>', 'add up to N octets of padding (Pad Length included) to DATA, HEADERS and PUSH_PROMISE frames', intArg(0, 256))
    .addOption(new Option('-m, --max-concurrent-streams <N>', 'SETTINGS_MAX_CONCURRENT_STREAMS').argParser(intArg(0, 0xffffffff)).default(undefined, '100'))
    .option('-n, --workers <N>', 'worker processes sharing the port', intArg(1, 256), 1)
    .option('-e, --error-gzip', 'gzip error pages')
    .addOption(new Option('-w, --window-bits <N>', 'per-stream window: 2^N-1').argParser(intArg(0, 31)).default(undefined, '16'))
    .addOption(
      new Option('-W, --connection-window-bits <N>', 'connection window: 2^N-1, N from 16 to 31')
        .argParser(connectionWindowBitsArg(31))
        .default(undefined, '20'),
    )
    .option('--early-response', 'respond when the request headers arrive, not when the request ends')
    .option('--trailer <HEADER>', "add a trailer field to responses with a body (repeatable), e.g. --trailer 'foo: bar'", collect, [])
    .option('--hexdump', 'dump received octets (decrypted, under TLS) as hex and ASCII')
    .option('--echo-upload', 'answer POST and PUT with the uploaded body')
    .addOption(new Option('--mime-types-file <PATH>', 'mime.types file for content-type').default(undefined, '/etc/mime.types when present'))
    .option('--no-content-length', 'omit content-length from file responses')
    .option('--self-signed', 'make a throwaway key and certificate for localhost at start-up (instead of PRIVATE_KEY and CERT)')
    .addOption(
      new Option(
        '--cache-valid <SECONDS>',
        'trust a cached file this long before checking it with a stat again (0: in every turn of the event loop that serves it; nghttpd trusts its files for 10 s)',
      )
        .argParser(secondsArg)
        .default(undefined, '0'),
    )
    .addHelpText('after', HELP);
}

/** --cache-valid: seconds, a decimal number from 0 to 86400. */
function secondsArg(v: string): number {
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) > 86400) throw new InvalidArgumentError(`'${v}' is not a number of seconds from 0 to 86400.`);
  return Number(v);
}

function parseTrailer(t: string): [string, string] {
  const colon = t.indexOf(':', 1);
  const name = colon > 0 ? t.slice(0, colon).trim().toLowerCase() : '';
  if (!name || name.startsWith(':') || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name))
    throw new UsageError(`--trailer '${t}': expected 'name: value' with a field name that is not a pseudo-header`);
  const value = t.slice(colon + 1).trim();
  try {
    trailerFields([[name, value]]); // the engine's rules (connection-specific fields, values), checked now rather than on every response
  } catch (e) {
    throw new UsageError(`--trailer '${t}': ${(e as Error).message}`);
  }
  return [name, value];
}

function parsePush(p: string, into: Map<string, string[]>): void {
  const eq = p.indexOf('=');
  const path = p.slice(0, eq);
  const list = p
    .slice(eq + 1)
    .split(',')
    .filter(Boolean);
  if (eq <= 0 || !path.startsWith('/') || list.length === 0 || list.some((x) => !x.startsWith('/'))) {
    throw new UsageError(`--push '${p}': expected PATH=PUSH_PATH[,PUSH_PATH...] with absolute paths, e.g. /=/style.css,/app.js`);
  }
  into.set(path, [...(into.get(path) ?? []), ...list]);
}

/** The server configuration from the command line; throws UsageError. */
export function configFromArgs(argv: string[]): { config: H2ServeConfig; workers: number; daemon: boolean; selfSigned: string | null } | null {
  const p = buildProgram();
  if (!parseArgs(p, argv)) return null;
  const o = p.opts<Options>();
  const [portArg, keyFile, certFile] = p.args as [string, string?, string?];
  if (!/^\d+$/.test(portArg) || Number(portArg) > 65535) throw new UsageError(`PORT '${portArg}' is not a port number (0 to 65535)`);
  let tls: H2ServeConfig['tls'] = null;
  let selfSigned: string | null = null;
  if (o.tls) {
    if (o.selfSigned) {
      if (keyFile || certFile) throw new UsageError('--self-signed makes its own key and certificate: give no PRIVATE_KEY and CERT');
      // Workers and a daemon use the certificate their parent made, so that every connection sees the same one.
      const inherited = process.env['H2SERVE_SELF_SIGNED'];
      const c = inherited ? (JSON.parse(inherited) as { key: string; cert: string; notAfter: string }) : selfSignedCertificate();
      tls = { key: c.key, cert: c.cert, verifyClient: o.verifyClient === true };
      selfSigned = JSON.stringify({ key: c.key, cert: c.cert, notAfter: new Date(c.notAfter).toISOString() });
    } else {
      if (!keyFile || !certFile) throw new UsageError('PRIVATE_KEY and CERT are required unless --no-tls or --self-signed');
      const { key, cert } = loadKeyPair(keyFile, certFile);
      tls = { key, cert, verifyClient: o.verifyClient === true };
    }
  } else if (keyFile || certFile) {
    throw new UsageError('--no-tls takes no PRIVATE_KEY and CERT');
  }
  const htdocs = resolve(o.htdocs ?? '.');
  if (!existsSync(htdocs) || !statSync(htdocs).isDirectory()) throw new UsageError(`htdocs ${htdocs} is not a directory`);
  if (o.mimeTypesFile && !existsSync(o.mimeTypesFile)) throw new UsageError(`--mime-types-file ${o.mimeTypesFile}: no such file`);
  const push = new Map<string, string[]>();
  for (const x of o.push) parsePush(x, push);
  const config: H2ServeConfig = {
    port: Number(portArg),
    htdocs,
    tls,
    verbose: o.verbose === true,
    hexdump: o.hexdump === true,
    color: colorFromEnvironment(process.stdout.isTTY === true, o.color === true),
    push,
    trailers: o.trailer.map(parseTrailer),
    errorGzip: o.errorGzip === true,
    earlyResponse: o.earlyResponse === true,
    echoUpload: o.echoUpload === true,
    noContentLength: o.contentLength === false,
    ...(o.address !== undefined ? { address: o.address } : {}),
    ...(o.headerTableSize !== undefined ? { headerTableSize: o.headerTableSize } : {}),
    ...(o.encoderHeaderTableSize !== undefined ? { encoderHeaderTableSize: o.encoderHeaderTableSize } : {}),
    ...(o.padding !== undefined ? { padding: o.padding } : {}),
    ...(o.maxConcurrentStreams !== undefined ? { maxConcurrentStreams: o.maxConcurrentStreams } : {}),
    ...(o.windowBits !== undefined ? { windowBits: o.windowBits } : {}),
    ...(o.connectionWindowBits !== undefined ? { connectionWindowBits: o.connectionWindowBits } : {}),
    ...(o.mimeTypesFile !== undefined ? { mimeTypesFile: resolve(o.mimeTypesFile) } : {}),
    ...(o.cacheValid !== undefined ? { cacheValidMs: Math.round(o.cacheValid * 1000) } : {}),
  };
  return { config, workers: o.workers, daemon: o.daemon === true, selfSigned };
}

/**
 * Our own messages go to stderr, except in a daemon (-D) until it listens:
 * then the status pipe carries the listening line or the failure to the
 * command that started it.
 */
const status = new DaemonStatus('H2SERVE_DAEMON_CHILD');
const say = (text: string): void => status.say(text);
const detached = (): void => status.detached();

export async function main(commandLine: string[]): Promise<number> {
  // Workers and a daemon get the arguments from the environment: a
  // single-file executable sees the script path that fork() inserts as an
  // argument of its own.
  const inherited = (cluster.isWorker || process.env['H2SERVE_DAEMON_CHILD']) && process.env['H2SERVE_ARGV'];
  const argv = inherited ? (JSON.parse(inherited) as string[]) : commandLine;
  const parsed = configFromArgs(argv);
  if (!parsed) return 0;
  const { config, workers, daemon, selfSigned } = parsed;
  if (selfSigned) process.env['H2SERVE_SELF_SIGNED'] = selfSigned; // for workers and the daemon
  if (cluster.isWorker) return worker(config);
  if (process.env['H2SERVE_DAEMON_CHILD']) process.chdir('/'); // paths were resolved and files read above
  // The daemon itself ignores -D (also when given as part of combined flags, e.g. -vD).
  if (daemon && !process.env['H2SERVE_DAEMON_CHILD']) return daemonize(argv);
  if (selfSigned) {
    const until = (JSON.parse(selfSigned) as { notAfter: string }).notAfter.slice(0, 10);
    say(`h2serve: --self-signed: serving with a throwaway certificate for localhost, 127.0.0.1 and ::1 (valid until ${until}); clients must not verify it\n`);
  }
  if (workers > 1) return primary(config, workers, argv);
  return serve(config, (a) => {
    say(`h2serve: listening on ${describe(a.address, a.port, config.tls !== null)}\n`);
    detached();
  });
}

function describe(address: string, port: number, tls: boolean): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${tls ? 'https' : 'http'}://${host}:${port}/ (${tls ? 'TLS, ALPN h2' : 'h2c: prior knowledge or Upgrade'})`;
}

/** Runs one server until SIGINT/SIGTERM, then stops gracefully; resolves with the exit code. */
async function serve(config: H2ServeConfig, onListening: (a: { address: string; port: number }) => void): Promise<number> {
  // The handlers go in before anything is announced: whoever reads "listening" may signal at once.
  let stop: (() => void) | null = null;
  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
    stop?.();
  };
  // disconnect: a worker whose primary went away.
  const signals = cluster.isWorker ? (['SIGINT', 'SIGTERM', 'disconnect'] as const) : (['SIGINT', 'SIGTERM'] as const);
  for (const sig of signals) process.once(sig, onSignal);
  let s: Awaited<ReturnType<typeof startH2Serve>>;
  try {
    s = await startH2Serve(config);
  } catch (e) {
    for (const sig of signals) process.off(sig, onSignal);
    // The engine's LISTEN_FAILED carries Node's error (EADDRINUSE...) as its cause.
    const err = (e instanceof Http2Error && e.cause !== undefined ? e.cause : e) as NodeJS.ErrnoException;
    const where = `${config.address ?? '*'}:${config.port}`;
    say(`h2serve: cannot listen on ${where}: ${listenFailureReason(err)}\n`);
    return 1;
  }
  const server = s;
  return new Promise<number>((done) => {
    let stopping = false;
    stop = () => {
      if (stopping) return;
      stopping = true;
      server.close(5000).then(
        () => done(0),
        () => done(0),
      );
    };
    onListening(server.address);
    if (stopRequested) stop();
  });
}

/** -n N: N worker processes share the port; one that dies is replaced, the others go on. */
async function primary(config: H2ServeConfig, workers: number, argv: string[]): Promise<number> {
  // Let the kernel spread connections over the workers' accept() calls. This must come before
  // setupPrimary(), which freezes the policy: with Node's default round robin the primary accepts
  // every connection and one handed to a worker that dies meanwhile hangs for ever.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ args: [], silent: false });
  let stopping = false;
  let listening = 0;
  const started: number[] = [];
  const fork = (index: number) => {
    const w = cluster.fork({ H2SERVE_WORKER_INDEX: String(index), H2SERVE_WORKERS: String(workers), H2SERVE_ARGV: JSON.stringify(argv) });
    w.on('message', (m: { listening?: { address: string; port: number }; failed?: boolean }) => {
      if (m.listening && ++listening === workers) {
        say(`h2serve: ${workers} workers listening on ${describe(m.listening.address, m.listening.port, config.tls !== null)}\n`);
        detached();
      }
    });
    w.on('exit', (code, signal) => {
      if (stopping) return;
      // A crash loop must not spin: replace at most 5 times in 10 s per slot.
      const now = Date.now();
      started.push(now);
      while (started.length && now - started[0]! > 10_000) started.shift();
      if (started.length > 5 * workers) {
        say('h2serve: workers keep dying; giving up\n');
        process.exit(1);
      }
      say(`h2serve: worker ${index} (pid ${w.process.pid}) ${signal ? `killed by ${signal}` : `exited with ${code}`}; starting another\n`);
      fork(index);
    });
  };
  for (let i = 0; i < workers; i++) fork(i);
  return new Promise<number>((done) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      const live = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead());
      if (live.length === 0) return done(0);
      let left = live.length;
      for (const w of live) {
        w!.once('exit', () => --left === 0 && done(0));
        w!.process.kill('SIGTERM');
      }
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function worker(base: H2ServeConfig): Promise<number> {
  const index = Number(process.env['H2SERVE_WORKER_INDEX'] ?? 0);
  const n = Number(process.env['H2SERVE_WORKERS'] ?? 1);
  // Connection ids are numbered apart in each worker, so that log lines do not collide.
  const config = { ...base, connectionIds: { first: index + 1, step: n } };
  const code = await serve(config, (a) => process.send?.({ listening: { address: a.address, port: a.port } }));
  // The IPC channel to the primary would keep this process alive after the server stopped.
  if (process.connected) process.disconnect();
  return code;
}

/**
 * -D: the same command runs detached, in its own session, with stdin, stdout
 * and stderr on /dev/null, from our directory so that relative paths resolve
 * (it then moves to / as nghttpd does). A pipe on its fd 3 brings back the
 * listening line or why it could not start: we exit 0 once it listens, or
 * with its error.
 */
async function daemonize(argv: string[]): Promise<number> {
  const args = argv.filter((a) => a !== '-D' && a !== '--daemon');
  // The arguments go in the environment (see main); a single-file executable takes process.argv[1] as one more.
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: { ...process.env, H2SERVE_DAEMON_CHILD: '1', H2SERVE_ARGV: JSON.stringify(args) },
  });
  const status = child.stdio[3] as Readable;
  return new Promise<number>((done) => {
    let text = '';
    let finished = false;
    let exitCode: number | null | undefined;
    let ended = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      status.destroy();
      child.unref();
      done(code);
    };
    const failed = () => {
      if (finished || exitCode === undefined || !ended) return;
      process.stderr.write(text || `h2serve: the background server exited with ${exitCode} before listening\n`);
      finish(exitCode === 2 ? 2 : 1);
    };
    status.on('data', (b: Buffer) => {
      text += b.toString();
      if (/listening on/.test(text)) {
        process.stderr.write(`${text.replace(/\n$/, '')} (in the background, pid ${child.pid})\n`);
        finish(0);
      }
    });
    status.on('error', () => {});
    status.on('close', () => {
      ended = true;
      failed();
    });
    child.on('exit', (code) => {
      exitCode = code;
      // Workers may hold a copy of the pipe: do not wait for its end for ever.
      setTimeout(() => {
        ended = true;
        failed();
      }, 2000).unref();
      failed();
    });
  });
}
