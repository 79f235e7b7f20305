/**
 * What a run measures, per worker and summed: h2load's request counters and
 * octet counts, request times (exact min, max, mean and standard deviation
 * kept as they come, plus an HDR histogram for percentiles), and per-client
 * figures (connect time, time to first byte, req/s), few enough to keep as
 * arrays. Everything here crosses threads as plain data (WorkerResult).
 */
import { decodeFromCompressedBase64, encodeIntoCompressedBase64, Int32Histogram, JsHistogram } from 'hdr-histogram-js';

/** h2load's request and traffic counters. */
export interface Counters {
  /** Requests to make (in timing-based mode: the requests done in the main duration). */
  todo: number;
  started: number;
  done: number;
  /** Streams that closed cleanly (whatever the status): what req/s counts. */
  success: number;
  /** Of those, 2xx and 3xx: "succeeded". */
  statusSuccess: number;
  failed: number;
  errored: number;
  timedOut: number;
  /** Octets received (decrypted, under TLS). */
  bytesTotal: number;
  /** Header octets received as sent (HPACK-encoded in HTTP/2). */
  bytesHead: number;
  /** The same headers' name and value octets. */
  bytesHeadDecoded: number;
  bytesBody: number;
  /** Responses by status class: index 1 to 5. */
  status: number[];
}

export function newCounters(): Counters {
  return {
    todo: 0,
    started: 0,
    done: 0,
    success: 0,
    statusSuccess: 0,
    failed: 0,
    errored: 0,
    timedOut: 0,
    bytesTotal: 0,
    bytesHead: 0,
    bytesHeadDecoded: 0,
    bytesBody: 0,
    status: [0, 0, 0, 0, 0, 0],
  };
}

export function addCounters(into: Counters, c: Counters): void {
  into.todo += c.todo;
  into.started += c.started;
  into.done += c.done;
  into.success += c.success;
  into.statusSuccess += c.statusSuccess;
  into.failed += c.failed;
  into.errored += c.errored;
  into.timedOut += c.timedOut;
  into.bytesTotal += c.bytesTotal;
  into.bytesHead += c.bytesHead;
  into.bytesHeadDecoded += c.bytesHeadDecoded;
  into.bytesBody += c.bytesBody;
  for (let i = 0; i < 6; i++) into.status[i]! += c.status[i]!;
}

/** Count, min, max, mean and the sum of squared deviations, kept as values come (Welford). */
export interface Running {
  n: number;
  min: number;
  max: number;
  mean: number;
  m2: number;
}

export function newRunning(): Running {
  return { n: 0, min: Infinity, max: -Infinity, mean: 0, m2: 0 };
}

export function addValue(r: Running, x: number): void {
  const n = ++r.n;
  if (x < r.min) r.min = x;
  if (x > r.max) r.max = x;
  const d = x - r.mean;
  r.mean += d / n;
  r.m2 += d * (x - r.mean);
}

/** Merges `b` into `a` (Chan et al.'s parallel form). */
export function mergeRunning(a: Running, b: Running): void {
  if (b.n === 0) return;
  if (a.n === 0) {
    Object.assign(a, b);
    return;
  }
  const n = a.n + b.n;
  const d = b.mean - a.mean;
  a.m2 += b.m2 + (d * d * a.n * b.n) / n;
  a.mean += (d * b.n) / n;
  a.n = n;
  a.min = Math.min(a.min, b.min);
  a.max = Math.max(a.max, b.max);
}

/** min, max, mean, sd and the share of samples within mean ± sd (percent), as h2load's summary rows. */
export interface SDStat {
  min: number;
  max: number;
  mean: number;
  sd: number;
  withinSd: number;
}

const ZERO: SDStat = { min: 0, max: 0, mean: 0, sd: 0, withinSd: 0 };

/** h2load's figures for a list of samples (population standard deviation). */
export function sdStat(samples: readonly number[]): SDStat {
  if (samples.length === 0) return { ...ZERO };
  const r = newRunning();
  for (const x of samples) addValue(r, x);
  const sd = Math.sqrt(r.m2 / r.n);
  let within = 0;
  for (const x of samples) if (r.mean - sd <= x && x <= r.mean + sd) within++;
  return { min: r.min, max: r.max, mean: r.mean, sd, withinSd: (within / samples.length) * 100 };
}

/** Microseconds, 1 us to 1 hour, 3 significant digits. */
export function newHistogram(): JsHistogram {
  const h = new Int32Histogram(1, 3_600_000_000, 3);
  h.autoResize = true;
  return h;
}

/** Values waiting at most; beyond, they go into the histogram in one batch (8 MiB). */
const MAX_PENDING = 1 << 20;

/**
 * Values (us) kept as they are measured and added to their histogram
 * afterwards, as h2load keeps each request's times and computes its
 * statistics once the run is over: hdr-histogram-js finds a value's bucket
 * with Math.log2 and Math.pow, which per request cost h2bench about 3% of
 * its CPU during the run. A long run adds them in batches of MAX_PENDING.
 */
export class PendingValues {
  private values = new Float64Array(4096);
  private n = 0;
  constructor(private readonly histogram: JsHistogram) {}

  add(v: number): void {
    if (this.n === this.values.length) this.makeRoom();
    this.values[this.n++] = v;
  }

  /** The histogram with every value added so far. */
  flush(): JsHistogram {
    const h = this.histogram;
    const values = this.values;
    for (let i = 0; i < this.n; i++) h.recordValue(values[i]!);
    this.n = 0;
    return h;
  }

  private makeRoom(): void {
    if (this.values.length >= MAX_PENDING) {
      this.flush();
      return;
    }
    const next = new Float64Array(this.values.length * 2);
    next.set(this.values);
    this.values = next;
  }
}

/** A monotonic clock in milliseconds, the same in every thread of the process. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function encodeHistogram(h: JsHistogram): string {
  return encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string): JsHistogram {
  const h = decodeFromCompressedBase64(s, 32, false);
  if (!(h instanceof JsHistogram)) throw new Error('h2bench: a histogram did not decode to the JavaScript implementation');
  return h;
}

/** The request-time figures: min, max, mean and sd exact (seconds); within ± sd counted from the histogram (us). */
export function requestStat(r: Running, h: JsHistogram): SDStat {
  if (r.n === 0) return { ...ZERO };
  const sd = Math.sqrt(r.m2 / r.n);
  const lo = (r.mean - sd) * 1e6;
  const hi = (r.mean + sd) * 1e6;
  let within = 0;
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    const value = v.valueIteratedTo;
    if (value >= lo && value <= hi) within += v.countAtValueIteratedTo;
  }
  return { min: r.min, max: r.max, mean: r.mean, sd, withinSd: h.totalCount > 0 ? (within / h.totalCount) * 100 : 0 };
}

/** The latency percentiles reported beyond h2load's rows (microseconds). */
export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function percentiles(h: JsHistogram): Percentiles {
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

/** What a worker hands back at the end: plain data (it crosses threads). */
export interface WorkerResult {
  counters: Counters;
  /** Request times in seconds, from when each request was sent. */
  request: Running;
  /** Their histogram (us), encoded. */
  requestHistogram: string;
  /** Latency from when each request should have been sent (--rps, --rate), encoded; null otherwise. */
  latencyHistogram: string | null;
  /** Per client, in seconds. */
  connectTimes: number[];
  ttfbTimes: number[];
  /** Per client: its successful requests over its lifetime. */
  rpsValues: number[];
  /** Why clients could not connect or lost their connection, with how many times. */
  errors: Record<string, number>;
  /** Why requests failed (reset streams, HTTP/1.1 errors), with how many times. */
  requestErrors: Record<string, number>;
  /** When the worker's last client finished (monotonicMs()), before its statistics were put together. */
  endedAt: number;
}
