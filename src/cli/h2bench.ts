/**
 * h2bench: h2load's command line and summary on the h2kit client engine.
 *
 *   h2bench [OPTIONS] <URI>...
 *
 * -t runs worker threads, each with its own clients and engines. The
 * summary is h2load's, line for line, plus latency percentiles; --json
 * prints it as one JSON document instead.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Option } from 'commander';
import type { BenchConfig } from '../bench/config.js';
import { jsonReport, textReport } from '../bench/report.js';
import { runBench } from '../bench/run.js';
import { requestFields } from '../h2/response.js';
import { VERSION } from '../version.js';
import { collect, parseArgs, program, sizeArg, UsageError } from './common.js';

const HELP = `
URIs are used in turn by each client; the scheme, host and port of the first
(or of -B) are used for all. https: TLS with ALPN (the server's certificate
is not verified, as h2load does not); http: h2c with prior knowledge, or
HTTP/1.1 with --h1 or -p http/1.1 (undici's client, -m requests pipelined).

<SIZE> takes K, M and G suffixes (powers of 1024). <DURATION> is a number
with an optional unit h, m, s or ms (seconds without one).

Beyond h2load: latency percentiles (p50, p90, p99, p99.9, max) from an HDR
histogram; with --rps or -r they run from when each request should have
been sent (coordinated omission corrected). --json prints the summary as
one JSON document (the other lines go to stderr). On a terminal, a
progress line is updated in place on stderr.

Examples:
  $ h2bench -n 100000 -c 10 -m 10 http://127.0.0.1:8080/index.html
  $ h2bench -t 2 -c 20 -m 10 -D 10s --warm-up-time 2s https://localhost:8443/
  $ h2bench -c 4 --rps 500 -n 20000 --json http://127.0.0.1:8080/ > result.json

Exit status: 0 when the run completed (whatever the servers answered), 1
when a client could not connect (the summary is printed all the same), 2
for bad options.
`;

interface Options {
  requests: string;
  clients: string;
  threads: string;
  inputFile?: string;
  maxConcurrentStreams: string;
  maxFrameSize: number;
  windowBits: string;
  connectionWindowBits: string;
  header: string[];
  ciphers?: string;
  tls13Ciphers?: string;
  tlsProto: string | true;
  data?: string;
  rate?: string;
  ratePeriod: string;
  duration?: string;
  warmUpTime?: string;
  connectionActiveTimeout?: string;
  connectionInactivityTimeout?: string;
  baseUri?: string;
  alpnList?: string;
  npnList?: string;
  h1?: boolean;
  headerTableSize: number;
  encoderHeaderTableSize: number;
  logFile?: string;
  connectTo?: string;
  rps?: string;
  groups?: string;
  sni?: string;
  verbose?: boolean;
  json?: boolean;
  selfWarmUp?: boolean;
}

function buildProgram() {
  const p = program('h2bench', "An HTTP/2 load generator (h2load's options and summary) on the h2kit client engine.")
    .usage('[OPTIONS] <URI>...')
    .argument('[URI...]', 'URIs to request')
    .option('-n, --requests <N>', 'requests across all clients (ignored with -D)', '1')
    .option('-c, --clients <N>', 'concurrent clients (connections); with -r, the most to make', '1')
    .option('-t, --threads <N>', 'worker threads, each with its own clients', '1')
    .option('-i, --input-file <PATH>', "URIs from a file, one a line ('-': stdin), instead of the command line")
    .option('-m, --max-concurrent-streams <N>', 'requests in flight per client (pipelined with HTTP/1.1)', '1')
    .option('-f, --max-frame-size <SIZE>', 'our SETTINGS_MAX_FRAME_SIZE (16K to 16M-1)', sizeArg, 16384)
    .option('-w, --window-bits <N>', 'stream window: 2^N-1 (0 to 30)', '30')
    .option('-W, --connection-window-bits <N>', 'connection window: 2^N-1 (0 to 30)', '30')
    .option('-H, --header <HEADER>', "add or override a request header (repeatable), e.g. -H 'accept: */*'", collect, [])
    .option('--ciphers <SUITE>', 'TLS 1.2 cipher list (OpenSSL format)')
    .option('--tls13-ciphers <SUITE>', 'TLS 1.3 cipher suites (OpenSSL format)')
    .addOption(new Option('-p, --no-tls-proto <PROTOID>', 'protocol for http URIs: h2c or http/1.1').default(undefined, 'h2c'))
    .option('-d, --data <PATH>', 'POST the contents of PATH with every request')
    .option('-r, --rate <N>', 'make N connections every --rate-period, up to -c (not with -D)')
    .option('--rate-period <DURATION>', 'the period of -r', '1s')
    .option('-D, --duration <DURATION>', 'timing-based: measure for DURATION (requests are unbounded)')
    .option('--warm-up-time <DURATION>', 'with -D: run this long before measuring')
    .option('-T, --connection-active-timeout <DURATION>', 'close a connection this long after its last request was sent; what is in flight times out')
    .option('-N, --connection-inactivity-timeout <DURATION>', 'close a connection that receives nothing for this long; what is in flight times out')
    .option('-B, --base-uri <URI>', 'scheme, host and port for every request (unix:PATH: a UNIX domain socket)')
    .addOption(new Option('--alpn-list <LIST>', 'ALPN identifiers, comma-separated, most wanted first').default(undefined, 'h2,http/1.1'))
    .addOption(new Option('--npn-list <LIST>', 'the same as --alpn-list (deprecated)').hideHelp())
    .option('--h1', 'HTTP/1.1 over http and https URIs (--alpn-list=http/1.1 -p http/1.1)')
    .option('--header-table-size <SIZE>', 'our SETTINGS_HEADER_TABLE_SIZE (the decoder table)', sizeArg, 4096)
    .option('--encoder-header-table-size <SIZE>', "the encoder's own table limit", sizeArg, 4096)
    .option('--log-file <PATH>', 'append a line per request: start (us since the epoch), status (-1: failed), microseconds to the end of the response')
    .option('--connect-to <HOST[:PORT]>', 'connect here instead of the URI authority (which is still sent)')
    .option('--rps <N>', 'requests per second per client; latency is measured from when each request was due')
    .option('--groups <GROUPS>', 'TLS key exchange groups, e.g. X25519:P-256')
    .option('--sni <DNSNAME>', 'TLS SNI instead of the URI host')
    .option('-v, --verbose', 'print the header fields of every response')
    .option(
      '--no-self-warm-up',
      "do not run h2bench's own code against a server of its own on the loopback before the clock starts (h2c, about 0.3 s; nothing is sent to URI)",
    )
    .option('--json', 'print the summary as one JSON document on stdout')
    .addHelpText('after', HELP);
  return p;
}

function count(name: string, v: string, min = 0): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`${name}: bad option value: '${v}' (a non-negative integer)`);
  const n = Number(v);
  if (n < min) throw new UsageError(`${name}: must be at least ${min}`);
  return n;
}

/** h2load's <DURATION>: a number with h, m, s or ms (seconds without a unit). */
function durationArg(name: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(h|m|s|ms)?$/.exec(v);
  if (!m) throw new UsageError(`${name}: bad duration '${v}' (a number with an optional unit h, m, s or ms)`);
  const n = Number(m[1]);
  return m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 'ms' ? n / 1000 : n;
}

interface Target {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  defaultPort: number;
}

function parseTarget(uri: string, what: string): Target {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new UsageError(`${what}: invalid URI: ${uri}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UsageError(`${what}: unsupported scheme ${u.protocol.replace(/:$/, '')} in ${uri} (http or https)`);
  if (!u.hostname) throw new UsageError(`${what}: no host in ${uri}`);
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  const defaultPort = scheme === 'https' ? 443 : 80;
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { scheme, host, port: u.port ? Number(u.port) : defaultPort, defaultPort };
}

/** The request line's target: path and query ("/" when empty). */
function requestPath(uri: string, what: string): string {
  // Relative URIs (a path alone) are allowed after the first, as h2load's parser allows them.
  if (uri.startsWith('/')) return uri;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new UsageError(`${what}: invalid URI: ${uri}`);
  }
  return `${u.pathname || '/'}${u.search}`;
}

/** -H 'name: value' (a leading ':' belongs to the name). */
function parseHeader(h: string): [string, string] {
  const colon = h.indexOf(':', 1);
  if (colon < 0 || (h[0] === ':' && colon === 1)) throw new UsageError(`-H: invalid header: ${h}`);
  const name = h.slice(0, colon).trim().toLowerCase();
  const value = h.slice(colon + 1).trim();
  if (value === '') throw new UsageError(`-H: invalid header - value missing: ${h}`);
  return [name, value];
}

/** The run's settings from the command line; null after --help or --version. */
export function configFromArgs(
  argv: string[],
  stdin: () => string = () => readFileSync(0, 'utf8'),
): { config: BenchConfig; json: boolean; logFile: string | null } | null {
  const p = buildProgram();
  if (!parseArgs(p, argv)) return null;
  const o = p.opts<Options>();
  const requests = count('-n', o.requests);
  const clients = count('-c', o.clients);
  const threads = count('-t', o.threads);
  const maxConcurrentStreams = count('-m', o.maxConcurrentStreams);
  const windowBits = count('-w', o.windowBits);
  const connectionWindowBits = count('-W', o.connectionWindowBits);
  if (windowBits > 30) throw new UsageError('-w: specify the integer in the range [0, 30], inclusive');
  if (connectionWindowBits > 30) throw new UsageError('-W: specify the integer in the range [0, 30], inclusive');
  if (o.maxFrameSize < 16384) throw new UsageError('--max-frame-size: minimum 16384');
  if (o.maxFrameSize > 16777215) throw new UsageError('--max-frame-size: maximum 16777215');
  for (const [n, v] of [
    ['--header-table-size', o.headerTableSize],
    ['--encoder-header-table-size', o.encoderHeaderTableSize],
  ] as const) {
    if (v > 0xffffffff) throw new UsageError(`${n}: Value too large.  It should be less than or equal to 4294967295`);
  }
  const rate = o.rate === undefined ? 0 : count('-r', o.rate);
  if (o.rate !== undefined && rate === 0) throw new UsageError('-r: the rate at which connections are made must be positive.');
  const ratePeriod = durationArg('--rate-period', o.ratePeriod);
  if (ratePeriod <= 0) throw new UsageError('--rate-period: must be positive');
  const duration = o.duration === undefined ? 0 : durationArg('-D', o.duration);
  if (o.duration !== undefined && duration <= 0) throw new UsageError('-D: the duration must be positive');
  const warmUpTime = o.warmUpTime === undefined ? 0 : durationArg('--warm-up-time', o.warmUpTime);
  if (o.warmUpTime !== undefined && duration === 0) throw new UsageError('--warm-up-time: needs -D');
  const activeTimeout = o.connectionActiveTimeout === undefined ? 0 : durationArg('-T', o.connectionActiveTimeout);
  const inactivityTimeout = o.connectionInactivityTimeout === undefined ? 0 : durationArg('-N', o.connectionInactivityTimeout);
  let rps = 0;
  if (o.rps !== undefined) {
    rps = Number(o.rps);
    if (!/^\d+(\.\d+)?$/.test(o.rps) || !Number.isFinite(rps) || rps <= 0 || 1 / rps < 1e-6) throw new UsageError(`--rps: Invalid value ${o.rps}`);
  }

  // URIs: the command line, or -i.
  let uris: string[] = p.args;
  if (o.inputFile !== undefined) {
    let text: string;
    try {
      text = o.inputFile === '-' ? stdin() : readFileSync(o.inputFile, 'utf8');
    } catch (e) {
      throw new UsageError(`-i: cannot read input file: ${o.inputFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    uris = text.split(/\r?\n/).filter((l) => l.trim() !== '');
    if (uris.length === 0) throw new UsageError(`-i: no URI in ${o.inputFile}`);
  } else if (uris.length === 0) throw new UsageError('no URI or input file given');

  let unixPath: string | null = null;
  let target: Target;
  if (o.baseUri !== undefined) {
    if (/^unix:/i.test(o.baseUri)) {
      unixPath = o.baseUri.slice(5);
      if (unixPath === '' || Buffer.byteLength(unixPath) > 107) throw new UsageError(`--base-uri: invalid UNIX domain socket path: ${o.baseUri}`);
      target = parseTarget(uris[0]!, 'URI');
    } else target = parseTarget(o.baseUri, '--base-uri');
  } else target = parseTarget(uris[0]!, 'URI');
  const paths = uris.map((u, i) => requestPath(u, i === 0 && o.inputFile === undefined ? 'URI' : `URI ${i + 1}`));

  if (clients === 0) throw new UsageError('-c: the number of clients must be strictly greater than 0.');
  if (requests === 0 && duration === 0)
    throw new UsageError('-n: the number of requests must be strictly greater than 0 if timing-based test is not being run.');
  if (maxConcurrentStreams === 0) throw new UsageError('-m: the max concurrent streams must be strictly greater than 0.');
  if (threads === 0) throw new UsageError('-t: the number of threads must be strictly greater than 0.');
  if (duration > 0 && rate > 0) throw new UsageError('-r, -D: they are mutually exclusive.');
  if (duration === 0 && requests < clients) throw new UsageError('-n, -c: the number of requests must be greater than or equal to the clients.');
  if (clients < threads) throw new UsageError('-c, -t: the number of clients must be greater than or equal to the number of threads.');
  if (rate > 0 && rate < threads) throw new UsageError('-r, -t: the connection rate must be greater than or equal to the number of threads.');
  if (rate > clients) throw new UsageError('-r, -c: the connection rate must be smaller than or equal to the number of clients.');

  let cleartextProtocol: BenchConfig['cleartextProtocol'] = 'h2';
  if (typeof o.tlsProto === 'string') {
    const v = o.tlsProto.toLowerCase();
    if (v === 'h2c') cleartextProtocol = 'h2';
    else if (v === 'http/1.1') cleartextProtocol = 'http/1.1';
    else throw new UsageError(`-p: unsupported protocol ${o.tlsProto} (h2c or http/1.1)`);
  }
  const list = o.alpnList ?? o.npnList;
  let alpn = list !== undefined ? list.split(',') : ['h2', 'http/1.1'];
  if (alpn.some((x) => x === '' || x.length > 255)) throw new UsageError(`--alpn-list: invalid list ${list}`);
  if (o.h1) {
    alpn = ['http/1.1'];
    cleartextProtocol = 'http/1.1';
  }

  let connectHost = target.host;
  let connectPort = target.port;
  if (o.connectTo !== undefined) {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(o.connectTo);
    if (!m || (m[3] !== undefined && Number(m[3]) > 65535)) throw new UsageError(`--connect-to: Invalid value ${o.connectTo}`);
    connectHost = m[1] ?? m[2]!;
    if (m[3] !== undefined) connectPort = Number(m[3]);
  }

  const hostText = target.host.includes(':') ? `[${target.host}]` : target.host;
  let authority = target.port === target.defaultPort ? hostText : `${hostText}:${target.port}`;
  let method = o.data !== undefined ? 'POST' : 'GET';
  let userAgent = `h2bench h2kit/${VERSION}`;
  let scheme = target.scheme;
  const extra: Array<[string, string]> = [];
  for (const h of o.header) {
    const [name, value] = parseHeader(h);
    // h2load's overridable fields; the rest are added.
    if (name === ':authority' || name === 'host') authority = value;
    else if (name === ':method') method = value;
    else if (name === ':scheme') {
      if (value !== 'http' && value !== 'https') throw new UsageError(`-H: :scheme must be http or https, not ${value}`);
      scheme = value;
    } else if (name === 'user-agent') userAgent = value;
    else {
      if (name.startsWith(':')) throw new UsageError(`-H: ${name} is not a request pseudo-header h2bench can set (RFC 9113 §8.3.1)`);
      try {
        requestFields([[name, value]], 'http', 'localhost'); // the engine's rules for request fields
      } catch (e) {
        throw new UsageError(`-H '${h}': ${(e as Error).message}`);
      }
      extra.push([name, value]);
    }
  }
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) throw new UsageError(`-H: invalid :method ${JSON.stringify(method)}`);

  let data: Uint8Array | null = null;
  if (o.data !== undefined) {
    try {
      data = readFileSync(o.data);
    } catch (e) {
      throw new UsageError(`-d: Could not open file ${o.data} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }

  const config: BenchConfig = {
    scheme: target.scheme,
    // -H :scheme changes what is sent, not how we connect (as h2load).
    requestScheme: scheme,
    host: target.host,
    port: target.port,
    authority,
    connectHost,
    connectPort,
    unixPath,
    paths,
    method,
    headers: [['user-agent', userAgent], ...extra],
    data,
    requests: duration > 0 ? 0 : requests,
    clients,
    threads,
    maxConcurrentStreams,
    windowBits,
    connectionWindowBits,
    maxFrameSize: o.maxFrameSize,
    headerTableSize: o.headerTableSize,
    encoderHeaderTableSize: o.encoderHeaderTableSize,
    rate,
    ratePeriod,
    duration,
    warmUpTime,
    activeTimeout,
    inactivityTimeout,
    rps,
    cleartextProtocol,
    alpn,
    sni: o.sni ?? null,
    ciphers: o.ciphers ?? null,
    tls13Ciphers: o.tls13Ciphers ?? null,
    groups: o.groups ?? null,
    logFd: -1,
    verbose: o.verbose === true,
    selfWarmUp: o.selfWarmUp !== false,
  };
  return { config, json: o.json === true, logFile: o.logFile ?? null };
}

export async function main(argv: string[]): Promise<number> {
  const parsed = configFromArgs(argv);
  if (!parsed) return 0;
  const { config, json, logFile } = parsed;
  if (config.threads > availableParallelism()) process.stderr.write('h2bench: -t: warning: the number of threads is greater than hardware cores.\n');
  if (logFile !== null) {
    try {
      config.logFd = openSync(logFile, 'a', 0o640);
    } catch (e) {
      throw new UsageError(`--log-file: Could not open file ${logFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  // Lines while running: stdout as h2load, stderr with --json (stdout is the document).
  const out = json ? process.stderr : process.stdout;
  const tty = process.stderr.isTTY === true;
  let shown = false;
  const clearProgress = () => {
    if (!shown) return;
    process.stderr.write('\r\x1b[K');
    shown = false;
  };
  const progressText = (done: number, made: number): string => {
    if (config.rate > 0) return `progress: ${Math.floor((made * 100) / config.clients)}% of clients started`;
    if (config.duration > 0) return '';
    return `progress: ${Math.floor((done * 100) / config.requests)}% done`;
  };
  try {
    const { summary, applicationProtocol } = await runBench(config, {
      line: (text) => {
        clearProgress();
        out.write(`${text}\n`);
      },
      ...(tty
        ? {
            progress: (done: number, made: number) => {
              const text = progressText(done, made);
              if (text === '') return;
              process.stderr.write(`\r${text}\x1b[K`);
              shown = true;
            },
          }
        : {}),
    });
    clearProgress();
    if (json) process.stdout.write(`${JSON.stringify(jsonReport(summary, config, applicationProtocol), null, 2)}\n`);
    else process.stdout.write(textReport(summary));
    const errors = Object.entries(summary.errors);
    for (const [message, n] of errors) process.stderr.write(`h2bench: ${n === 1 ? 'a client' : `${n} clients`}: ${message}\n`);
    // Requests the server failed are counted, as h2load counts them: said, not an error of the run.
    for (const [message, n] of Object.entries(summary.requestErrors)) process.stderr.write(`h2bench: ${n} request${n === 1 ? '' : 's'} failed: ${message}\n`);
    const code = errors.length > 0 ? 1 : 0;
    // Everything is counted and printed: a socket a server keeps open must not keep us waiting.
    setTimeout(() => process.exit(code), 500).unref();
    return code;
  } finally {
    if (config.logFd >= 0) closeSync(config.logFd);
  }
}
