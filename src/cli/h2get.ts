/**
 * h2get: nghttp's command line (nghttp2 1.52) on the h2kit HTTP/2 client.
 *
 *   h2get [OPTIONS] <URI>...
 *
 * This file turns the command line into a GetConfig (bad options: one
 * line, exit 2); h2get-run.ts makes the requests.
 */
import { readFileSync, statSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';
import { SettingId } from '../h2/index.js';
import {
  collect,
  colorFromEnvironment,
  connectionWindowBitsArg,
  InputReader,
  intArg,
  parseArgs,
  program,
  readErrorMessage,
  sizeArg,
  UsageError,
} from './common.js';
import { type GetConfig, runGet, type Upload } from './h2get-run.js';

const HELP = `
Gets each URI over HTTP/2 (https: TLS with ALPN h2; http: h2c with prior
knowledge, or the HTTP/1.1 Upgrade with -u) and writes the response bodies
to standard output, unless -n or -O. URIs with the same scheme, host and
port share one connection; connections are made one after the other.

Like nghttp, h2get sends SETTINGS_MAX_CONCURRENT_STREAMS 100 and
SETTINGS_INITIAL_WINDOW_SIZE 65535, and the RFC 7540 priority tree nghttp
builds (PRIORITY frames on streams 3 to 11; the first request is stream 13)
unless --no-dep, so that a server answers it frame for frame as it answers
nghttp.

-v prints every frame sent and received in nghttp's format (coloured on a
terminal unless NO_COLOR is set; FORCE_COLOR and --color decide otherwise);
--json prints them as one JSON object per line instead (bodies are then not
written to standard output; use -O to keep them).

<SIZE> takes K, M and G suffixes (powers of 1024). <DURATION> is a number
with an optional unit: h, m, s (the default) or ms.

Examples:
  $ h2get -nv https://localhost:8443/
  $ h2get -a -s -n https://localhost:8443/index.html
  $ h2get -u -v http://localhost:8080/
  $ h2get -d notes.txt -H 'content-type: text/plain' http://localhost:8080/echo
  $ h2get -r out.har -a https://localhost:8443/
  $ h2get -O https://localhost:8443/big.iso

Exit status: 0 when every request got a complete response (whatever its
status code), 1 when a URI was not usable or a connection or stream failed,
2 for bad options.
`;

interface Options {
  verbose?: number;
  nullOut?: boolean;
  remoteName?: boolean;
  timeout?: number;
  windowBits?: number;
  connectionWindowBits?: number;
  getAssets?: boolean;
  stat?: boolean;
  header: string[];
  trailer: string[];
  cert?: string;
  key?: string;
  data?: string;
  multiply: number;
  upgrade?: boolean;
  weight: number[];
  peerMaxConcurrentStreams?: number;
  headerTableSize: number[];
  encoderHeaderTableSize?: number;
  padding?: number;
  har?: string;
  color?: boolean;
  continuation?: boolean;
  contentLength: boolean;
  dep: boolean;
  hexdump?: boolean;
  push: boolean;
  maxConcurrentStreams?: number;
  expectContinue?: boolean;
  verifyPeer: boolean;
  rfc7540Pri: boolean;
  json?: boolean;
}

const collectInt = (min: number, max: number) => (v: string, prev: number[]) => [...prev, intArg(min, max)(v)];
const collectSize = (v: string, prev: number[]) => {
  const n = sizeArg(v);
  if (n > 0xffffffff) throw new InvalidArgumentError(`${v} is larger than 4294967295.`);
  return [...prev, n];
};

/** nghttp's <DURATION>: an integer with an optional unit h, m, s (default) or ms; returns milliseconds. */
export function durationArg(v: string): number {
  const m = /^(\d+)(h|m|s|ms)?$/.exec(v);
  if (!m) throw new InvalidArgumentError(`'${v}' is not a duration (an integer with an optional unit h, m, s or ms).`);
  const unit = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, '': 1000 }[(m[2] ?? '') as 'h' | 'm' | 's' | 'ms' | ''];
  return Number(m[1]) * unit;
}

function buildProgram() {
  return program('h2get', "An HTTP/2 client (nghttp's options and -v log) on the h2kit engine.")
    .usage('[OPTIONS] <URI>...')
    .argument('<URI...>', 'http: or https: URIs to get')
    .option('-v, --verbose', "print every frame sent and received, in nghttp's format", (_v: string, prev: number) => prev + 1, 0)
    .option('-n, --null-out', 'discard the response bodies')
    .option('-O, --remote-name', "save each body in the current directory under the URI's last path segment (index.html for a URI ending in '/')")
    .option('-t, --timeout <DURATION>', 'give up on a request that receives nothing for DURATION (0: never), and on connecting after it', durationArg)
    .addOption(new Option('-w, --window-bits <N>', 'per-stream window: SETTINGS_INITIAL_WINDOW_SIZE 2^N-1').argParser(intArg(0, 30)).default(undefined, '16'))
    .addOption(
      new Option('-W, --connection-window-bits <N>', 'connection window: 2^N-1, N from 16 to 30')
        .argParser(connectionWindowBitsArg(30))
        .default(undefined, '16'),
    )
    .option('-a, --get-assets', 'also get the stylesheets, scripts, images and shortcut icon the HTML links to, from the same origin')
    .option('-s, --stat', 'print timing statistics per request')
    .option('-H, --header <HEADER>', "add a header field to the requests (repeatable), e.g. -H ':method: PUT' -H 'x-a: 1'", collect, [])
    .option('--trailer <HEADER>', "send a trailer field after the -d body (repeatable), e.g. --trailer 'foo: bar'", collect, [])
    .option('--cert <CERT>', 'client certificate (PEM)')
    .option('--key <KEY>', 'private key of the client certificate (PEM)')
    .option('-d, --data <PATH>', "POST the content of PATH ('-': standard input)")
    .option('-m, --multiply <N>', 'request each URI N times (without -m, a URI given twice is requested once)', intArg(1, 1_000_000), 1)
    .option('-u, --upgrade', 'h2c through the HTTP/1.1 Upgrade for http: URIs (with -d, the upgrade is an OPTIONS * request)')
    .addOption(
      new Option('-p, --weight <WEIGHT>', 'the weight (1 to 256) of the N-th URI, for the N-th -p; the last repeats')
        .argParser(collectInt(1, 256))
        .default([], '16'),
    )
    .addOption(
      new Option('-M, --peer-max-concurrent-streams <N>', "the server's SETTINGS_MAX_CONCURRENT_STREAMS assumed until its SETTINGS arrive")
        .argParser(intArg(0, 0xffffffff))
        .default(undefined, '100'),
    )
    .option(
      '-c, --header-table-size <SIZE>',
      "our SETTINGS_HEADER_TABLE_SIZE (the decoder's table); given several times, a smaller earlier one is sent first",
      collectSize,
      [],
    )
    .option('--encoder-header-table-size <SIZE>', "the encoder's own table limit; the table used is the smaller of this and the server's setting", sizeArg)
    .option('-b, --padding <N>', 'add up to N octets of padding (Pad Length included) to DATA and HEADERS frames', intArg(0, 256))
    .option('-r, --har <PATH>', "write a HAR 1.2 file of the requests ('-': standard output)")
    .option('--color', 'colour the -v output even when it is not a terminal')
    .option('--continuation', 'send six 4 KiB header fields, so that HEADERS needs CONTINUATION frames')
    .option('--no-content-length', 'send no content-length with -d')
    .option('--no-dep', 'send no priority tree (no PRIORITY frames; the first request is stream 1)')
    .option('--hexdump', 'dump the octets received (decrypted, under TLS) as hex and ASCII')
    .option('--no-push', 'refuse server push (SETTINGS_ENABLE_PUSH 0)')
    .addOption(
      new Option('--max-concurrent-streams <N>', 'our SETTINGS_MAX_CONCURRENT_STREAMS: pushed streams accepted at once')
        .argParser(intArg(0, 0xffffffff))
        .default(undefined, '100'),
    )
    .option('--expect-continue', 'with -d, send expect: 100-continue and hold the body until a 100 response (at most 1 s)')
    .option('-y, --no-verify-peer', "don't warn when the server's certificate does not verify")
    .option('--no-rfc7540-pri', 'send SETTINGS_NO_RFC7540_PRIORITIES 1 (RFC 9218 §2.1)')
    .option('--json', 'print the -v frame log as one JSON object per line (implies -v)')
    .addHelpText('after', HELP);
}

/** A -H or --trailer value: `name: value`; a name may start with ':' (pseudo-header). Names are lowercased, as nghttp does. */
export function parseHeader(h: string, option: string, pseudo: boolean): [string, string] {
  const colon = h.indexOf(':', 1);
  const name = colon > 0 ? h.slice(0, colon).trim().toLowerCase() : '';
  const value = colon > 0 ? h.slice(colon + 1).replace(/^[ \t]+/, '') : '';
  const bad = (why: string) => new UsageError(`${option} '${h}': ${why}`);
  if (!name) throw bad("expected 'name: value'");
  if (name.startsWith(':')) {
    if (!pseudo) throw bad('a trailer cannot be a pseudo-header');
    if (![':method', ':path', ':scheme', ':authority'].includes(name)) throw bad('the request pseudo-headers are :method, :path, :scheme and :authority');
    if (name === ':method' && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) throw bad('a method is a token (RFC 9110 §9.1)');
    if (name === ':path' && !(value.startsWith('/') || value === '*')) throw bad("a path starts with '/' (or is '*')");
  } else if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
    throw bad('the name is not a token (RFC 9110 §5.1)');
  }
  if (/[\0\r\n]/.test(value)) throw bad('a value cannot hold NUL, CR or LF (RFC 9113 §8.2.1)');
  return [name, value];
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UsageError(`${what}: ${readErrorMessage(file, e)}`);
  }
}

/** Files up to this size are read once, now: the last DATA frame then carries END_STREAM, as nghttp sends it. */
const READ_AT_ONCE = 64 << 20;

/** -d: a large regular file is read for each request as it is sent; smaller ones and standard input (or a pipe) once, now. */
function upload(path: string): Upload {
  if (path !== '-') {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch (e) {
      throw new UsageError(`-d: ${readErrorMessage(path, e)}`);
    }
    if (st.isDirectory()) throw new UsageError(`-d: ${path} is a directory`);
    if (st.isFile() && st.size > READ_AT_ONCE) return { path, size: st.size, data: null };
  }
  const parts: Buffer[] = [];
  try {
    const input = new InputReader(path === '-' ? undefined : path);
    for (let c = input.read(); c !== null; c = input.read()) parts.push(Buffer.from(c));
  } catch (e) {
    throw new UsageError(`-d: ${readErrorMessage(path, e)}`);
  }
  const data = Buffer.concat(parts);
  return { path: null, size: data.length, data };
}

/**
 * The SETTINGS nghttp sends, in its order: MAX_CONCURRENT_STREAMS,
 * INITIAL_WINDOW_SIZE, then HEADER_TABLE_SIZE (with -c given several times,
 * the smallest earlier value first when it is below the last one: a table
 * size change the server has to follow), ENABLE_PUSH 0, NO_RFC7540_PRIORITIES 1.
 */
export function prefaceSettings(o: {
  maxConcurrentStreams: number;
  initialWindowSize: number;
  headerTableSizes: number[];
  push: boolean;
  noRfc7540Priorities: boolean;
}): Array<[number, number]> {
  const s: Array<[number, number]> = [
    [SettingId.MAX_CONCURRENT_STREAMS, o.maxConcurrentStreams],
    [SettingId.INITIAL_WINDOW_SIZE, o.initialWindowSize],
  ];
  const sizes = o.headerTableSizes;
  if (sizes.length > 0) {
    const last = sizes[sizes.length - 1]!;
    const earlier = Math.min(...sizes.slice(0, -1));
    if (sizes.length > 1 && earlier < last) s.push([SettingId.HEADER_TABLE_SIZE, earlier]);
    s.push([SettingId.HEADER_TABLE_SIZE, last]);
  }
  if (!o.push) s.push([SettingId.ENABLE_PUSH, 0]);
  if (o.noRfc7540Priorities) s.push([9, 1]);
  return s;
}

/** The configuration from the command line; throws UsageError; null after --help or --version. */
export function configFromArgs(argv: string[]): GetConfig | null {
  const p = buildProgram();
  if (!parseArgs(p, argv)) return null;
  const o = p.opts<Options>();
  const uris = p.args;
  const headers = o.header.map((h) => parseHeader(h, '-H', true));
  const trailers = o.trailer.map((h) => parseHeader(h, '--trailer', false));
  if (trailers.length > 0 && o.data === undefined) throw new UsageError('--trailer needs -d: trailers follow a request body');
  if ((o.cert === undefined) !== (o.key === undefined)) throw new UsageError('--cert and --key go together');
  if (o.nullOut && o.remoteName) throw new UsageError('-n discards the bodies that -O saves: give one of them');
  const initialWindowSize = 2 ** (o.windowBits ?? 16) - 1;
  const headerTableSizes = o.headerTableSize;
  const verbose = (o.verbose ?? 0) > 0 || o.json === true;
  const stdoutTty = process.stdout.isTTY === true;
  return {
    uris,
    verbose,
    json: o.json === true,
    color: !o.json && colorFromEnvironment(stdoutTty, o.color === true),
    hexdump: o.hexdump === true,
    nullOut: o.nullOut === true || (o.json === true && !o.remoteName),
    remoteName: o.remoteName === true,
    timeout: o.timeout ?? null,
    assets: o.getAssets === true,
    stat: o.stat === true,
    headers,
    trailers,
    tls: o.cert !== undefined ? { cert: readPem(o.cert, '--cert'), key: readPem(o.key!, '--key') } : null,
    upload: o.data !== undefined ? upload(o.data) : null,
    multiply: o.multiply,
    upgrade: o.upgrade === true,
    weights: o.weight,
    peerMaxConcurrentStreams: o.peerMaxConcurrentStreams ?? 100,
    settings: {
      initialWindowSize,
      connectionWindowSize: 2 ** (o.connectionWindowBits ?? 16) - 1,
      maxConcurrentStreams: o.maxConcurrentStreams ?? 100,
      enablePush: o.push,
      ...(headerTableSizes.length > 0 ? { headerTableSize: headerTableSizes[headerTableSizes.length - 1]! } : {}),
    },
    prefaceSettings: prefaceSettings({
      maxConcurrentStreams: o.maxConcurrentStreams ?? 100,
      initialWindowSize,
      headerTableSizes,
      push: o.push,
      noRfc7540Priorities: !o.rfc7540Pri,
    }),
    encoderTableSize: o.encoderHeaderTableSize ?? null,
    padding: o.padding ?? 0,
    har: o.har ?? null,
    continuation: o.continuation === true,
    contentLength: o.contentLength,
    dependencies: o.dep,
    expectContinue: o.expectContinue === true,
    verifyPeer: o.verifyPeer,
    progress: stdoutTty && process.stderr.isTTY === true,
  };
}

export async function main(argv: string[]): Promise<number> {
  const config = configFromArgs(argv);
  if (config === null) return 0;
  return runGet(config);
}
