/**
 * A run's settings, resolved from the command line: plain data, so that it
 * can be handed to worker threads as it is.
 */

export type Protocol = 'h2' | 'http/1.1';

export interface BenchConfig {
  /** Where to connect. */
  scheme: 'http' | 'https';
  /** The :scheme sent (-H ':scheme: ...' may change it). */
  requestScheme: string;
  host: string;
  port: number;
  /** :authority / Host. */
  authority: string;
  /** --connect-to: connect here instead (the URI still gives :authority and SNI). */
  connectHost: string;
  connectPort: number;
  /** -B unix:PATH: a UNIX domain socket instead of TCP. */
  unixPath: string | null;
  /** The request paths (path and query), used in turn by each client. */
  paths: string[];
  method: string;
  /** The request's fields after the pseudo-headers (user-agent, -H). */
  headers: Array<[string, string]>;
  /** -d: the request body, or null. */
  data: Uint8Array | null;
  /** -n: requests in all (0 in timing-based mode). */
  requests: number;
  clients: number;
  threads: number;
  /** -m: concurrent streams per client (pipelined requests with HTTP/1.1). */
  maxConcurrentStreams: number;
  /** -w, -W: window bits. */
  windowBits: number;
  connectionWindowBits: number;
  /** -f: our SETTINGS_MAX_FRAME_SIZE. */
  maxFrameSize: number;
  headerTableSize: number;
  encoderHeaderTableSize: number;
  /** -r: connections created per rate period (0: all at once). */
  rate: number;
  /** --rate-period in seconds. */
  ratePeriod: number;
  /** -D and --warm-up-time in seconds (0: not timing-based). */
  duration: number;
  warmUpTime: number;
  /** -T, -N in seconds (0: none). */
  activeTimeout: number;
  inactivityTimeout: number;
  /** --rps: requests per second per client (0: as fast as responses come). */
  rps: number;
  /** Protocol over cleartext (-p, --h1) and the ALPN list under TLS (--alpn-list, --h1). */
  cleartextProtocol: Protocol;
  alpn: string[];
  sni: string | null;
  ciphers: string | null;
  tls13Ciphers: string | null;
  groups: string | null;
  /** --log-file: opened by the main thread; workers append to it. */
  logFd: number;
  verbose: boolean;
  /** Run h2bench's own code against a loopback server before the clock starts (--no-self-warm-up: false). */
  selfWarmUp: boolean;
}

/** One worker's share of the run. */
export interface WorkerPlan {
  id: number;
  /** Requests for this worker's clients (0: timing-based). */
  requests: number;
  clients: number;
  /** Connections per rate period (equal to clients without -r). */
  rate: number;
}

/** h2load's split of requests, clients and the connection rate over threads: the remainders go to the first. */
export function planWorkers(c: BenchConfig): WorkerPlan[] {
  const plans: WorkerPlan[] = [];
  const share = (total: number, i: number) => Math.floor(total / c.threads) + (i < total % c.threads ? 1 : 0);
  for (let i = 0; i < c.threads; i++) {
    const clients = share(c.clients, i);
    plans.push({ id: i, requests: c.duration > 0 ? 0 : share(c.requests, i), clients, rate: c.rate > 0 ? share(c.rate, i) : clients });
  }
  return plans;
}

/** The protocol the clients speak: over TLS the first of the ALPN list, else -p (h2c or http/1.1). */
export function protocolOf(c: BenchConfig): Protocol {
  if (c.scheme === 'https') return c.alpn[0] === 'http/1.1' ? 'http/1.1' : 'h2';
  return c.cleartextProtocol;
}
