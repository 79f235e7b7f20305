/**
 * h2proxy's configuration in nghttpx 1.52's syntax: the option table that
 * both the command line and --conf files (`name=value` lines with the long
 * option names) go through, the parsers of its value types (<DURATION>,
 * <SIZE>, -f and -b specifications), and the resolved ProxyConfig.
 *
 * Pure: no I/O besides what the caller passes in; errors are ConfigError
 * values that say where (which option, which file and line) and why.
 */

import { textToOctets } from '../hpack/octets.js';
import { type Pattern, parsePattern } from './router.js';

/** A problem with one option value: `where` is "--backend" or "FILE:LINE: backend". */
export class ConfigError extends Error {
  constructor(
    readonly where: string,
    readonly why: string,
  ) {
    super(`${where}: ${why}`);
  }
}

export interface FrontendAddress {
  /** '*' for all addresses (IPv4 and IPv6), else a host name or address. */
  host: string;
  port: number;
  tls: boolean;
}

export type BackendProto = 'http/1.1' | 'h2';

export interface BackendAddress {
  host: string;
  port: number;
  /** The patterns this backend serves (each its own group, as nghttpx splits ':'-separated patterns). */
  patterns: Pattern[];
  proto: BackendProto;
  tls: boolean;
  /** TLS SNI (default: the host, unless it is an IP address). */
  sni: string | null;
  /** Per-backend read and write timeouts (ms), overriding --backend-read-timeout / --backend-write-timeout. */
  readTimeout: number | null;
  writeTimeout: number | null;
  /** The text of the option, for messages. */
  spec: string;
}

/** Everything h2proxy runs with. Durations in milliseconds, sizes in octets. */
export interface ProxyConfig {
  frontends: FrontendAddress[];
  backends: BackendAddress[];
  privateKeyFile: string | null;
  certificateFile: string | null;
  workers: number;
  // HTTP message rules (nghttpx's defaults).
  addXForwardedFor: boolean;
  stripIncomingXForwardedFor: boolean;
  noAddXForwardedProto: boolean;
  noStripIncomingXForwardedProto: boolean;
  addForwarded: Array<'by' | 'for' | 'host' | 'proto'>;
  stripIncomingForwarded: boolean;
  forwardedBy: string;
  forwardedFor: 'obfuscated' | 'ip';
  noVia: boolean;
  noServerRewrite: boolean;
  serverName: string;
  addRequestHeaders: Array<[string, string]>;
  addResponseHeaders: Array<[string, string]>;
  requestHeaderFieldBuffer: number;
  maxRequestHeaderFields: number;
  responseHeaderFieldBuffer: number;
  maxResponseHeaderFields: number;
  // Timeouts.
  frontendReadTimeout: number;
  frontendHttp2ReadTimeout: number;
  frontendWriteTimeout: number;
  frontendKeepAliveTimeout: number;
  backendReadTimeout: number;
  backendWriteTimeout: number;
  backendConnectTimeout: number;
  backendKeepAliveTimeout: number;
  backendMaxBackoff: number;
  // Connections. 0: no limit. Both count HTTP/1.1 backend connections per frontend connection (BackendQueue).
  backendConnectionsPerHost: number;
  backendConnectionsPerFrontend: number;
  frontendHttp2MaxConcurrentStreams: number;
  backendHttp2MaxConcurrentStreams: number;
  /** -k: do not verify TLS backends' certificates. */
  insecure: boolean;
  cacert: string | null;
  // Logs and process.
  accesslogFile: string | null;
  accesslogFormat: string;
  errorlogFile: string | null;
  logLevel: 'INFO' | 'NOTICE' | 'WARN' | 'ERROR' | 'FATAL';
  daemon: boolean;
  pidFile: string | null;
  /** The --conf file this came from (for reloads), or null. */
  confFile: string | null;
}

/** nghttpx's default access log format (combined). */
export const DEFAULT_ACCESSLOG_FORMAT = '$remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

export function defaultConfig(): ProxyConfig {
  return {
    frontends: [],
    backends: [],
    privateKeyFile: null,
    certificateFile: null,
    workers: 1,
    addXForwardedFor: false,
    stripIncomingXForwardedFor: false,
    noAddXForwardedProto: false,
    noStripIncomingXForwardedProto: false,
    addForwarded: [],
    stripIncomingForwarded: false,
    forwardedBy: 'obfuscated',
    forwardedFor: 'obfuscated',
    noVia: false,
    noServerRewrite: false,
    serverName: 'h2proxy',
    addRequestHeaders: [],
    addResponseHeaders: [],
    requestHeaderFieldBuffer: 64 * 1024,
    maxRequestHeaderFields: 100,
    responseHeaderFieldBuffer: 64 * 1024,
    maxResponseHeaderFields: 500,
    frontendReadTimeout: 60_000,
    frontendHttp2ReadTimeout: 180_000,
    frontendWriteTimeout: 30_000,
    frontendKeepAliveTimeout: 60_000,
    backendReadTimeout: 60_000,
    backendWriteTimeout: 30_000,
    backendConnectTimeout: 30_000,
    backendKeepAliveTimeout: 2_000,
    backendMaxBackoff: 120_000,
    backendConnectionsPerHost: 8,
    backendConnectionsPerFrontend: 0,
    frontendHttp2MaxConcurrentStreams: 100,
    backendHttp2MaxConcurrentStreams: 100,
    insecure: false,
    cacert: null,
    accesslogFile: null,
    accesslogFormat: DEFAULT_ACCESSLOG_FORMAT,
    errorlogFile: null,
    logLevel: 'NOTICE',
    daemon: false,
    pidFile: null,
    confFile: null,
  };
}

// ---- value types -------------------------------------------------------------------

/** <DURATION>: an integer with an optional unit h, m, s or ms (seconds without one). */
export function parseDuration(v: string): number {
  const m = /^(\d+)(h|m|s|ms)?$/i.exec(v.trim());
  if (!m) throw new Error(`'${v}' is not a duration (an integer with an optional unit h, m, s or ms)`);
  const mult = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, '': 1000 }[(m[2] ?? '').toLowerCase() as 'h' | 'm' | 's' | 'ms' | ''];
  return Number(m[1]) * mult;
}

/** <SIZE>: an integer with an optional unit K, M or G (powers of 1024). */
export function parseSize(v: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(v.trim());
  if (!m) throw new Error(`'${v}' is not a size (an integer with an optional unit K, M or G)`);
  return Number(m[1]) * { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
}

function parseInteger(v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v.trim())) throw new Error(`'${v}' is not a non-negative integer`);
  const n = Number(v.trim());
  if (n < min || n > max) throw new Error(`${v} is out of range (${min} to ${max})`);
  return n;
}

function parsePort(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new Error(`'${v}' is not a port number (0 to 65535)`);
  return Number(v);
}

/** "HOST,PORT" (HOST may be [IPv6]); the part before the first ';'. */
function hostPort(s: string): { host: string; port: number } {
  if (s.startsWith('unix:')) throw new Error('UNIX domain sockets are not supported');
  const comma = s.lastIndexOf(',');
  if (comma <= 0) throw new Error(`'${s}' is not <HOST>,<PORT>`);
  let host = s.slice(0, comma);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: parsePort(s.slice(comma + 1)) };
}

/** -f <HOST>,<PORT>[;<PARAM>...]: only "no-tls" is taken (other nghttpx parameters are refused). */
export function parseFrontend(spec: string): FrontendAddress {
  const [addr, ...params] = spec.split(';');
  const { host, port } = hostPort(addr!);
  let tls = true;
  for (const p of params) {
    if (p === '') continue;
    if (p === 'no-tls') tls = false;
    else throw new Error(`unsupported frontend parameter '${p}' (h2proxy takes "no-tls")`);
  }
  return { host, port, tls };
}

/** -b <HOST>,<PORT>[;<PATTERN>[:...]][;<PARAM>...]. */
export function parseBackend(spec: string): BackendAddress {
  const parts = spec.split(';');
  const { host, port } = hostPort(parts[0]!);
  const patterns: Pattern[] = [];
  const patternText = parts.length > 1 ? parts[1]! : '';
  for (const p of patternText === '' ? [''] : patternText.split(':')) patterns.push(parsePattern(p));
  const b: BackendAddress = { host, port, patterns, proto: 'http/1.1', tls: false, sni: null, readTimeout: null, writeTimeout: null, spec };
  for (const param of parts.slice(2)) {
    if (param === '') continue;
    const eq = param.indexOf('=');
    const key = eq < 0 ? param : param.slice(0, eq);
    const value = eq < 0 ? null : param.slice(eq + 1);
    const need = (): string => {
      if (value === null || value === '') throw new Error(`parameter "${key}" needs a value (${key}=...)`);
      return value;
    };
    switch (key) {
      case 'proto': {
        const v = need();
        if (v !== 'h2' && v !== 'http/1.1') throw new Error(`proto=${v}: the protocol is h2 or http/1.1`);
        b.proto = v;
        break;
      }
      case 'tls':
        b.tls = true;
        break;
      case 'sni':
        b.sni = need();
        break;
      case 'read-timeout':
        b.readTimeout = parseDuration(need());
        break;
      case 'write-timeout':
        b.writeTimeout = parseDuration(need());
        break;
      default:
        throw new Error(`unsupported backend parameter '${param}' (h2proxy takes proto=, tls, sni=, read-timeout=, write-timeout=)`);
    }
  }
  return b;
}

/** "name: value" for --add-request-header and --add-response-header. */
function parseHeader(v: string): [string, string] {
  const colon = v.indexOf(':', 1);
  const name = colon > 0 ? v.slice(0, colon).trim().toLowerCase() : '';
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw new Error(`'${v}' is not "name: value" with a field name`);
  const value = v.slice(colon + 1).trim();
  if (/[\0\r\n]/.test(value)) throw new Error(`the value of ${name} holds NUL, CR or LF`);
  return [name, textToOctets(value)];
}

// ---- the option table ----------------------------------------------------------------

type Kind = 'flag' | 'value' | 'list';

export interface OptionDef {
  /** The long name, as in nghttpx (and in --conf files). */
  name: string;
  short?: string;
  kind: Kind;
  arg?: string;
  /** What the option does, for --help; its default goes in `default`, which --help shows in its one style. */
  help: string;
  /** The default, as --help shows it. */
  default?: string;
  /** Applies one value (flags get true/false). */
  apply: (c: ProxyConfig, v: string | boolean) => void;
}

const str = (v: string | boolean): string => v as string;
const dur = (key: keyof ProxyConfig) => (c: ProxyConfig, v: string | boolean) => {
  (c as unknown as Record<string, number>)[key] = parseDuration(str(v));
};
const flag = (key: keyof ProxyConfig) => (c: ProxyConfig, v: string | boolean) => {
  (c as unknown as Record<string, boolean>)[key] = v === true;
};

export const OPTIONS: readonly OptionDef[] = [
  {
    name: 'frontend',
    short: 'f',
    kind: 'list',
    arg: '<HOST>,<PORT>[;no-tls]',
    help: 'listen on HOST,PORT (repeatable; HOST * is every address): TLS unless no-tls',
    default: '*,3000',
    apply: (c, v) => c.frontends.push(parseFrontend(str(v))),
  },
  {
    name: 'backend',
    short: 'b',
    kind: 'list',
    arg: '<HOST>,<PORT>[;<PATTERN>[:...]][;proto=h2][;tls]',
    help: 'backend address (repeatable); PATTERNs route by host and path as nghttpx; backends sharing a pattern are balanced round robin',
    default: '127.0.0.1,80',
    apply: (c, v) => c.backends.push(parseBackend(str(v))),
  },
  {
    name: 'private-key-file',
    kind: 'value',
    arg: '<PATH>',
    help: 'the private key for TLS frontends (as the first positional argument)',
    apply: (c, v) => (c.privateKeyFile = str(v)),
  },
  {
    name: 'certificate-file',
    kind: 'value',
    arg: '<PATH>',
    help: 'the certificate for TLS frontends (as the second positional argument)',
    apply: (c, v) => (c.certificateFile = str(v)),
  },
  {
    name: 'workers',
    short: 'n',
    kind: 'value',
    arg: '<N>',
    help: 'worker processes sharing the frontends',
    default: '1',
    apply: (c, v) => (c.workers = parseInteger(str(v), 1, 256)),
  },
  { name: 'add-x-forwarded-for', kind: 'flag', help: 'append the client address to X-Forwarded-For', apply: flag('addXForwardedFor') },
  { name: 'strip-incoming-x-forwarded-for', kind: 'flag', help: 'drop X-Forwarded-For from client requests', apply: flag('stripIncomingXForwardedFor') },
  { name: 'no-add-x-forwarded-proto', kind: 'flag', help: 'do not add X-Forwarded-Proto', apply: flag('noAddXForwardedProto') },
  {
    name: 'no-strip-incoming-x-forwarded-proto',
    kind: 'flag',
    help: 'keep X-Forwarded-Proto from client requests',
    apply: flag('noStripIncomingXForwardedProto'),
  },
  {
    name: 'add-forwarded',
    kind: 'value',
    arg: '<LIST>',
    help: 'append an RFC 7239 Forwarded field with these of by, for, host, proto',
    apply: (c, v) => {
      const list = str(v)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const p of list) if (!['by', 'for', 'host', 'proto'].includes(p)) throw new Error(`'${p}' is not one of by, for, host, proto`);
      c.addForwarded = list as ProxyConfig['addForwarded'];
    },
  },
  { name: 'strip-incoming-forwarded', kind: 'flag', help: 'drop Forwarded from client requests', apply: flag('stripIncomingForwarded') },
  {
    name: 'forwarded-by',
    kind: 'value',
    arg: '(obfuscated|ip|<VALUE>)',
    help: 'the "by" parameter of Forwarded',
    default: 'obfuscated',
    apply: (c, v) => {
      const s = str(v);
      if (s !== 'obfuscated' && s !== 'ip' && !/^_[A-Za-z0-9._-]+$/.test(s))
        throw new Error(`'${s}' is not obfuscated, ip, or a string of [A-Za-z0-9._-] starting with _`);
      c.forwardedBy = s;
    },
  },
  {
    name: 'forwarded-for',
    kind: 'value',
    arg: '(obfuscated|ip)',
    help: 'the "for" parameter of Forwarded',
    default: 'obfuscated',
    apply: (c, v) => {
      const s = str(v);
      if (s !== 'obfuscated' && s !== 'ip') throw new Error(`'${s}' is not obfuscated or ip`);
      c.forwardedFor = s;
    },
  },
  { name: 'no-via', kind: 'flag', help: 'do not append to Via', apply: flag('noVia') },
  { name: 'no-server-rewrite', kind: 'flag', help: "keep the backend's Server field", apply: flag('noServerRewrite') },
  {
    name: 'server-name',
    kind: 'value',
    arg: '<NAME>',
    help: 'the Server field of responses',
    default: 'h2proxy',
    apply: (c, v) => {
      if (/[\0\r\n]/.test(str(v))) throw new Error('the name holds NUL, CR or LF');
      c.serverName = textToOctets(str(v));
    },
  },
  {
    name: 'add-request-header',
    kind: 'list',
    arg: '<HEADER>',
    help: 'add "name: value" to requests (repeatable)',
    apply: (c, v) => c.addRequestHeaders.push(parseHeader(str(v))),
  },
  {
    name: 'add-response-header',
    kind: 'list',
    arg: '<HEADER>',
    help: 'add "name: value" to responses (repeatable)',
    apply: (c, v) => c.addResponseHeaders.push(parseHeader(str(v))),
  },
  {
    name: 'request-header-field-buffer',
    kind: 'value',
    arg: '<SIZE>',
    help: 'largest request header section (names and values)',
    default: '64K',
    apply: (c, v) => (c.requestHeaderFieldBuffer = parseSize(str(v))),
  },
  {
    name: 'max-request-header-fields',
    kind: 'value',
    arg: '<N>',
    help: 'most request header fields',
    default: '100',
    apply: (c, v) => (c.maxRequestHeaderFields = parseInteger(str(v), 0, 0xffffffff)),
  },
  {
    name: 'response-header-field-buffer',
    kind: 'value',
    arg: '<SIZE>',
    help: 'largest response header section from a backend (names and values)',
    default: '64K',
    apply: (c, v) => (c.responseHeaderFieldBuffer = parseSize(str(v))),
  },
  {
    name: 'max-response-header-fields',
    kind: 'value',
    arg: '<N>',
    help: 'most response header fields from a backend',
    default: '500',
    apply: (c, v) => (c.maxResponseHeaderFields = parseInteger(str(v), 0, 0xffffffff)),
  },
  {
    name: 'frontend-read-timeout',
    kind: 'value',
    arg: '<DURATION>',
    help: 'read timeout of HTTP/1.1 frontend connections',
    default: '1m',
    apply: dur('frontendReadTimeout'),
  },
  {
    name: 'frontend-http2-read-timeout',
    kind: 'value',
    arg: '<DURATION>',
    help: 'idle timeout of HTTP/2 frontend connections',
    default: '3m',
    apply: dur('frontendHttp2ReadTimeout'),
  },
  {
    name: 'frontend-write-timeout',
    kind: 'value',
    arg: '<DURATION>',
    help: 'write timeout of frontend connections',
    default: '30s',
    apply: dur('frontendWriteTimeout'),
  },
  {
    name: 'frontend-keep-alive-timeout',
    kind: 'value',
    arg: '<DURATION>',
    help: 'keep-alive timeout of HTTP/1.1 frontend connections',
    default: '1m',
    apply: dur('frontendKeepAliveTimeout'),
  },
  {
    name: 'backend-read-timeout',
    kind: 'value',
    arg: '<DURATION>',
    help: 'time a backend may stay silent before 504',
    default: '1m',
    apply: dur('backendReadTimeout'),
  },
  {
    name: 'backend-write-timeout',
    kind: 'value',
    arg: '<DURATION>',
    help: 'accepted so that nghttpx configurations load; not enforced by h2proxy',
    apply: dur('backendWriteTimeout'),
  },
  {
    name: 'backend-connect-timeout',
    kind: 'value',
    arg: '<DURATION>',
    help: 'time to connect to a backend',
    default: '30s',
    apply: dur('backendConnectTimeout'),
  },
  {
    name: 'backend-keep-alive-timeout',
    kind: 'value',
    arg: '<DURATION>',
    help: 'idle HTTP/1.1 backend connections close after this',
    default: '2s',
    apply: dur('backendKeepAliveTimeout'),
  },
  {
    name: 'backend-max-backoff',
    kind: 'value',
    arg: '<DURATION>',
    help: 'longest time a refusing backend is left out',
    default: '2m',
    apply: dur('backendMaxBackoff'),
  },
  {
    name: 'backend-connections-per-host',
    kind: 'value',
    arg: '<N>',
    help: 'most HTTP/1.1 backend connections one frontend connection holds to each backend address; more requests wait',
    default: '8',
    apply: (c, v) => (c.backendConnectionsPerHost = parseInteger(str(v), 1, 65535)),
  },
  {
    name: 'backend-connections-per-frontend',
    kind: 'value',
    arg: '<N>',
    help: 'most HTTP/1.1 backend connections one frontend connection holds in all; more requests wait',
    default: '0: no limit',
    apply: (c, v) => (c.backendConnectionsPerFrontend = parseInteger(str(v), 0, 65535)),
  },
  {
    name: 'frontend-http2-max-concurrent-streams',
    short: 'c',
    kind: 'value',
    arg: '<N>',
    help: 'SETTINGS_MAX_CONCURRENT_STREAMS of HTTP/2 frontends',
    default: '100',
    apply: (c, v) => (c.frontendHttp2MaxConcurrentStreams = parseInteger(str(v), 1, 0xffffffff)),
  },
  {
    name: 'backend-http2-max-concurrent-streams',
    kind: 'value',
    arg: '<N>',
    help: 'streams we open at once on an HTTP/2 backend connection',
    default: '100',
    apply: (c, v) => (c.backendHttp2MaxConcurrentStreams = parseInteger(str(v), 1, 0xffffffff)),
  },
  { name: 'insecure', short: 'k', kind: 'flag', help: 'do not verify the certificates of TLS backends', apply: flag('insecure') },
  { name: 'cacert', kind: 'value', arg: '<PATH>', help: 'CA certificates (PEM) for TLS backends', apply: (c, v) => (c.cacert = str(v)) },
  {
    name: 'accesslog-file',
    kind: 'value',
    arg: '<PATH>',
    help: 'write the access log here (reopened on SIGUSR1)',
    apply: (c, v) => (c.accesslogFile = str(v)),
  },
  {
    name: 'accesslog-format',
    kind: 'value',
    arg: '<FORMAT>',
    help: "access log format with nghttpx's $variables",
    default: 'combined',
    apply: (c, v) => (c.accesslogFormat = str(v)),
  },
  { name: 'errorlog-file', kind: 'value', arg: '<PATH>', help: 'write the error log here', default: 'stderr', apply: (c, v) => (c.errorlogFile = str(v)) },
  {
    name: 'log-level',
    short: 'L',
    kind: 'value',
    arg: '<LEVEL>',
    help: 'INFO, NOTICE, WARN, ERROR or FATAL',
    default: 'NOTICE',
    apply: (c, v) => {
      const l = str(v).toUpperCase();
      if (!['INFO', 'NOTICE', 'WARN', 'ERROR', 'FATAL'].includes(l)) throw new Error(`'${str(v)}' is not INFO, NOTICE, WARN, ERROR or FATAL`);
      c.logLevel = l as ProxyConfig['logLevel'];
    },
  },
  { name: 'daemon', short: 'D', kind: 'flag', help: 'run in the background (working directory /)', apply: flag('daemon') },
  { name: 'pid-file', kind: 'value', arg: '<PATH>', help: 'write the process id here', apply: (c, v) => (c.pidFile = str(v)) },
];

const BY_NAME = new Map(OPTIONS.map((o) => [o.name, o]));

/** One option occurrence: from the command line or from a --conf line. */
export interface OptionValue {
  name: string;
  value: string | boolean;
  where: string;
}

/**
 * The occurrences of a --conf file's text: `name=value` lines, '#' comments,
 * blank lines; flags take yes or no (as nghttpx). Unknown names and bad lines
 * are ConfigErrors naming the file and line.
 */
export function parseConfText(text: string, file: string): OptionValue[] {
  const out: OptionValue[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${file}:${i + 1}`;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfigError(where, `expected name=value, got '${line.length > 60 ? `${line.slice(0, 60)}...` : line}'`);
    const name = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const def = BY_NAME.get(name);
    if (!def) {
      if (name === 'conf') throw new ConfigError(`${where}: conf`, 'not allowed in a configuration file');
      throw new ConfigError(`${where}: ${name}`, 'unknown option');
    }
    if (def.kind === 'flag') {
      if (value !== 'yes' && value !== 'no') throw new ConfigError(`${where}: ${name}`, `'${value}' is not yes or no`);
      out.push({ name, value: value === 'yes', where: `${where}: ${name}` });
    } else out.push({ name, value, where: `${where}: ${name}` });
  }
  return out;
}

/**
 * The configuration from occurrences: the --conf file's first, then the
 * command line's; for each option given on the command line, its --conf
 * values are dropped (a repeatable option's list is replaced, not extended).
 */
export function buildConfig(conf: OptionValue[], cli: OptionValue[], confFile: string | null): ProxyConfig {
  const c = defaultConfig();
  c.confFile = confFile;
  const onCli = new Set(cli.map((o) => o.name));
  for (const o of [...conf.filter((o) => !onCli.has(o.name)), ...cli]) {
    const def = BY_NAME.get(o.name);
    if (!def) throw new ConfigError(o.where, 'unknown option');
    try {
      def.apply(c, o.value);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(o.where, (e as Error).message);
    }
  }
  if (c.frontends.length === 0) c.frontends.push({ host: '*', port: 3000, tls: true });
  if (c.backends.length === 0) c.backends.push(parseBackend('127.0.0.1,80'));
  const catchAll = c.backends.some((b) => b.patterns.some((p) => p.host === null && p.path === '/'));
  if (!catchAll) throw new ConfigError('--backend', 'no catch-all backend: give one with the pattern "/" or without a pattern (as nghttpx requires)');
  return c;
}

/** True when some frontend needs TLS (and so a key and certificate). */
export function needsTls(c: ProxyConfig): boolean {
  return c.frontends.some((f) => f.tls);
}
