/**
 * The access log in nghttpx's --accesslog-format: `$name` and `${name}`
 * variables (its --help lists them), compiled once into a list of parts.
 * Unknown variables are refused at start-up; variables without a value here
 * (client certificates, session ids) print "-", as nghttpx prints them
 * without TLS.
 */

/** What one finished request leaves for the log line. */
export interface AccessRecord {
  remoteAddress: string;
  remotePort: number;
  serverPort: number;
  method: string;
  /** :path (or the authority for CONNECT). */
  path: string;
  /** "HTTP/2", "HTTP/1.1" or "HTTP/1.0". */
  protocolVersion: string;
  /** "h2", "h2c" or "http/1.1". */
  alpn: string;
  status: number;
  bodyBytesSent: number;
  /** Request fields (lowercase names), for $http_<name>. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** When the request arrived (performance.now() ms) and when the exchange ended, and the wall clock then. */
  start: number;
  end: number;
  wallClock: Date;
  tlsCipher: string | null;
  tlsProtocol: string | null;
  tlsSni: string | null;
  tlsSessionReused: boolean | null;
  backendHost: string | null;
  backendPort: number | null;
}

type Part = string | ((r: AccessRecord) => string);

const dash = (s: string | null | undefined): string => (s === null || s === undefined || s === '' ? '-' : s);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function offset(d: Date, colon: boolean): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${sign}${pad(Math.floor(a / 60))}${colon ? ':' : ''}${pad(a % 60)}`;
}

/** Common Log Format time: 29/Nov/2026:02:45:55 +0000. */
export function timeLocal(d: Date): string {
  return `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${offset(d, false)}`;
}

/** ISO 8601 local time with milliseconds and offset: 2026-11-29T02:45:55.123+00:00 (nghttpx's $time_iso8601). */
export function timeIso8601(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${offset(d, true)}`;
}

function header(r: AccessRecord, name: string): string {
  for (const [n, v] of r.headers) if (n === name) return v;
  return '-';
}

const VARIABLES: Record<string, (r: AccessRecord) => string> = {
  remote_addr: (r) => dash(r.remoteAddress),
  time_local: (r) => timeLocal(r.wallClock),
  time_iso8601: (r) => timeIso8601(r.wallClock),
  request: (r) => `${r.method} ${r.path} ${r.protocolVersion}`,
  status: (r) => String(r.status),
  body_bytes_sent: (r) => String(r.bodyBytesSent),
  remote_port: (r) => String(r.remotePort),
  server_port: (r) => String(r.serverPort),
  request_time: (r) => ((r.end - r.start) / 1000).toFixed(3),
  pid: () => String(process.pid),
  alpn: (r) => r.alpn,
  tls_cipher: (r) => dash(r.tlsCipher),
  tls_protocol: (r) => dash(r.tlsProtocol),
  tls_sni: (r) => dash(r.tlsSni),
  tls_session_reused: (r) => (r.tlsSessionReused ? 'r' : '.'),
  tls_session_id: () => '-',
  tls_client_fingerprint_sha256: () => '-',
  tls_client_fingerprint_sha1: () => '-',
  tls_client_subject_name: () => '-',
  tls_client_issuer_name: () => '-',
  tls_client_serial: () => '-',
  backend_host: (r) => dash(r.backendHost),
  backend_port: (r) => (r.backendPort === null ? '-' : String(r.backendPort)),
  method: (r) => r.method,
  path: (r) => r.path,
  path_without_query: (r) => {
    const q = r.path.indexOf('?');
    return q < 0 ? r.path : r.path.slice(0, q);
  },
  protocol_version: (r) => r.protocolVersion,
};

/** Compiles a format; throws an Error naming an unknown variable. */
export function compileAccessLog(format: string): (r: AccessRecord) => string {
  const parts: Part[] = [];
  let lit = '';
  const re = /\$(\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    lit += format.slice(last, m.index);
    last = m.index + m[0].length;
    const name = m[2] ?? m[3]!;
    let fn: (r: AccessRecord) => string;
    if (name.startsWith('http_') && name.length > 5) {
      const field = name.slice(5).toLowerCase().replace(/_/g, '-');
      fn = (r) => header(r, field);
    } else {
      const v = VARIABLES[name];
      if (!v) throw new Error(`unknown variable $${name} (see --help for the list)`);
      fn = v;
    }
    if (lit !== '') parts.push(lit);
    lit = '';
    parts.push(fn);
  }
  lit += format.slice(last);
  if (lit !== '') parts.push(lit);
  return (r) => {
    let s = '';
    for (const p of parts) s += typeof p === 'string' ? p : p(r);
    return s;
  };
}
