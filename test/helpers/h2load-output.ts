/**
 * h2load's summary, parsed with patterns written from the output of the
 * real h2load (nghttp2 1.52): the tests parse h2load's and h2bench's output
 * with these same patterns, so that a script that parses one parses the
 * other.
 */

export interface TimeRow {
  min: string;
  max: string;
  mean: string;
  sd: string;
  withinSd: number;
}

export interface H2loadSummary {
  finished: { time: string; rps: number; bps: string };
  requests: { total: number; started: number; done: number; succeeded: number; failed: number; errored: number; timeout: number };
  status: { '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  traffic: { total: number; headers: number; savings: number; data: number };
  request: TimeRow;
  connect: TimeRow;
  ttfb: TimeRow;
  rps: { min: number; max: number; mean: number; sd: number; withinSd: number };
}

const DUR = '(\\d+us|\\d+\\.\\d\\dms|\\d+\\.\\d\\ds)';
const SIZE = '(\\d+(?:\\.\\d\\d[KMG])?)';
const FINISHED = new RegExp(`^finished in ${DUR}, (\\d+\\.\\d\\d) req/s, ${SIZE}B/s$`, 'm');
const REQUESTS = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout$/m;
const STATUS = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx$/m;
const TRAFFIC = new RegExp(
  `^traffic: ${SIZE}B \\((\\d+)\\) total, ${SIZE}B \\((\\d+)\\) headers \\(space savings (\\d+\\.\\d\\d)%\\), ${SIZE}B \\((\\d+)\\) data$`,
  'm',
);
const HEADER = /^ {21}min {9}max {9}mean {9}sd {8}\+\/- sd$/m;
const row = (label: string) => new RegExp(`^${label} +${DUR} +${DUR} +${DUR} +${DUR} +(\\d+\\.\\d\\d)%$`, 'm');
const REQUEST = row('time for request:');
const CONNECT = row('time for connect:');
const TTFB = row('time to 1st byte:');
const RPS = /^req\/s {11}: +(\d+\.\d\d) +(\d+\.\d\d) +(\d+\.\d\d) +(\d+\.\d\d) +(\d+\.\d\d)%$/m;

function must(re: RegExp, text: string): RegExpExecArray {
  const m = re.exec(text);
  if (!m) throw new Error(`no line matches ${re} in:\n${text}`);
  return m;
}

const timeRow = (m: RegExpExecArray): TimeRow => ({ min: m[1]!, max: m[2]!, mean: m[3]!, sd: m[4]!, withinSd: Number(m[5]) });

/** Parses the summary; throws naming the pattern that matched no line. */
export function parseH2loadSummary(text: string): H2loadSummary {
  const f = must(FINISHED, text);
  const r = must(REQUESTS, text).slice(1).map(Number);
  const s = must(STATUS, text).slice(1).map(Number);
  const t = must(TRAFFIC, text);
  must(HEADER, text);
  const p = must(RPS, text).slice(1).map(Number);
  return {
    finished: { time: f[1]!, rps: Number(f[2]), bps: f[3]! },
    requests: { total: r[0]!, started: r[1]!, done: r[2]!, succeeded: r[3]!, failed: r[4]!, errored: r[5]!, timeout: r[6]! },
    status: { '2xx': s[0]!, '3xx': s[1]!, '4xx': s[2]!, '5xx': s[3]! },
    traffic: { total: Number(t[2]), headers: Number(t[4]), savings: Number(t[5]), data: Number(t[7]) },
    request: timeRow(must(REQUEST, text)),
    connect: timeRow(must(CONNECT, text)),
    ttfb: timeRow(must(TTFB, text)),
    rps: { min: p[0]!, max: p[1]!, mean: p[2]!, sd: p[3]!, withinSd: p[4]! },
  };
}

/** A duration as printed ("742us", "1.20ms", "2.00s") in microseconds. */
export function micros(d: string): number {
  if (d.endsWith('us')) return Number(d.slice(0, -2));
  if (d.endsWith('ms')) return Number(d.slice(0, -2)) * 1000;
  return Number(d.slice(0, -1)) * 1e6;
}
