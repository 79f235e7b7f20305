/**
 * The end of a run: the workers' results summed into h2load's figures, then
 * written as h2load writes them (line for line, so that what parses
 * h2load's output parses ours) plus the latency percentiles, or as one JSON
 * document (--json).
 */
import type { BenchConfig } from './config.js';
import { dtos, duration, durationUs, pad, sizeUnit } from './format.js';
import {
  addCounters,
  type Counters,
  decodeHistogram,
  mergeRunning,
  newCounters,
  newHistogram,
  newRunning,
  type Percentiles,
  percentiles,
  requestStat,
  type SDStat,
  sdStat,
  type WorkerResult,
} from './stats.js';

export interface Summary {
  /** Wall time of the run in microseconds ("finished in"). */
  elapsedUs: number;
  requestsPerSecond: number;
  bytesPerSecond: number;
  counters: Counters;
  /** 1 - encoded / decoded header octets (0 when none). */
  headerSpaceSavings: number;
  /** In seconds, except rps (requests per second). */
  request: SDStat;
  connect: SDStat;
  ttfb: SDStat;
  rps: SDStat;
  /** Microseconds. */
  latency: Percentiles;
  /** True when latency runs from when each request should have been sent (--rps, --rate). */
  corrected: boolean;
  errors: Record<string, number>;
  requestErrors: Record<string, number>;
}

export function summarize(config: BenchConfig, results: readonly WorkerResult[], elapsedSeconds: number): Summary {
  const counters = newCounters();
  const request = newRunning();
  const requestHistogram = newHistogram();
  const latencyHistogram = newHistogram();
  const connect: number[] = [];
  const ttfb: number[] = [];
  const rps: number[] = [];
  const errors: Record<string, number> = {};
  const requestErrors: Record<string, number> = {};
  let corrected = false;
  for (const r of results) {
    addCounters(counters, r.counters);
    mergeRunning(request, r.request);
    requestHistogram.add(decodeHistogram(r.requestHistogram));
    if (r.latencyHistogram !== null) {
      corrected = true;
      latencyHistogram.add(decodeHistogram(r.latencyHistogram));
    }
    connect.push(...r.connectTimes);
    ttfb.push(...r.ttfbTimes);
    rps.push(...r.rpsValues);
    for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.requestErrors)) requestErrors[k] = (requestErrors[k] ?? 0) + v;
  }
  // h2load: requests never issued (their connection failed first) are failed and errored.
  const notIssued = counters.todo - counters.statusSuccess - counters.failed;
  if (notIssued > 0) {
    counters.failed += notIssued;
    counters.errored += notIssued;
  }
  const elapsedUs = Math.floor(elapsedSeconds * 1e6);
  // Timing-based: only the main duration counts (h2load).
  const seconds = config.duration > 0 ? config.duration : elapsedUs / 1e6;
  return {
    elapsedUs,
    requestsPerSecond: elapsedUs > 0 ? counters.success / seconds : 0,
    bytesPerSecond: elapsedUs > 0 ? Math.floor(counters.bytesTotal / seconds) : 0,
    counters,
    headerSpaceSavings: counters.bytesHeadDecoded > 0 ? 1 - counters.bytesHead / counters.bytesHeadDecoded : 0,
    request: requestStat(request, requestHistogram),
    connect: sdStat(connect),
    ttfb: sdStat(ttfb),
    rps: sdStat(rps),
    latency: percentiles(corrected ? latencyHistogram : requestHistogram),
    corrected,
    errors,
    requestErrors,
  };
}

function timeRow(label: string, s: SDStat): string {
  return `${label}${pad(duration(s.min), 10)}  ${pad(duration(s.max), 10)}  ${pad(duration(s.mean), 10)}  ${pad(duration(s.sd), 10)}${pad(dtos(s.withinSd), 9)}%`;
}

const usText = (us: number): string => duration(us / 1e6);

/** h2load's summary (from the blank line before "finished in"), then the percentiles. */
export function textReport(s: Summary): string {
  const c = s.counters;
  const r = s.rps;
  const lines = [
    '',
    `finished in ${durationUs(s.elapsedUs)}, ${s.requestsPerSecond.toFixed(2)} req/s, ${sizeUnit(s.bytesPerSecond)}B/s`,
    `requests: ${c.todo} total, ${c.started} started, ${c.done} done, ${c.statusSuccess} succeeded, ${c.failed} failed, ${c.errored} errored, ${c.timedOut} timeout`,
    `status codes: ${c.status[2]} 2xx, ${c.status[3]} 3xx, ${c.status[4]} 4xx, ${c.status[5]} 5xx`,
    `traffic: ${sizeUnit(c.bytesTotal)}B (${c.bytesTotal}) total, ${sizeUnit(c.bytesHead)}B (${c.bytesHead}) headers (space savings ${(s.headerSpaceSavings * 100).toFixed(2)}%), ${sizeUnit(c.bytesBody)}B (${c.bytesBody}) data`,
    '                     min         max         mean         sd        +/- sd',
    timeRow('time for request: ', s.request),
    timeRow('time for connect: ', s.connect),
    timeRow('time to 1st byte: ', s.ttfb),
    `req/s           : ${pad(r.min.toFixed(2), 10)}  ${pad(r.max.toFixed(2), 10)}  ${pad(r.mean.toFixed(2), 10)}  ${pad(r.sd.toFixed(2), 10)}${pad(dtos(r.withinSd), 9)}%`,
    // Beyond h2load: percentiles from the HDR histogram.
    `                  ${['p50', 'p90', 'p99', 'p99.9', 'max'].map((x) => pad(x, 10)).join('  ')}`,
    `latency         : ${[s.latency.p50, s.latency.p90, s.latency.p99, s.latency.p999, s.latency.max].map((us) => pad(usText(us), 10)).join('  ')}`,
  ];
  if (s.corrected) lines.push('latency is measured from when each request should have been sent (coordinated omission corrected)');
  return `${lines.join('\n')}\n`;
}

const sd = (s: SDStat, scale: number) => ({ min: s.min * scale, max: s.max * scale, mean: s.mean * scale, sd: s.sd * scale, withinSdPercent: s.withinSd });

/** --json: the whole summary as one document. Durations in microseconds. */
export function jsonReport(s: Summary, config: BenchConfig, applicationProtocol: string | null): unknown {
  const c = s.counters;
  return {
    tool: 'h2bench',
    applicationProtocol,
    config: {
      uris: config.paths.map((p) => `${config.scheme}://${config.authority}${p}`),
      requests: config.requests,
      clients: config.clients,
      threads: config.threads,
      maxConcurrentStreams: config.maxConcurrentStreams,
      durationSeconds: config.duration,
      warmUpSeconds: config.warmUpTime,
      rate: config.rate,
      ratePeriodSeconds: config.ratePeriod,
      rps: config.rps,
      method: config.method,
    },
    finishedInUs: s.elapsedUs,
    requestsPerSecond: s.requestsPerSecond,
    bytesPerSecond: s.bytesPerSecond,
    requests: { total: c.todo, started: c.started, done: c.done, succeeded: c.statusSuccess, failed: c.failed, errored: c.errored, timeout: c.timedOut },
    statusCodes: { '2xx': c.status[2], '3xx': c.status[3], '4xx': c.status[4], '5xx': c.status[5] },
    traffic: {
      total: c.bytesTotal,
      headers: c.bytesHead,
      headersDecoded: c.bytesHeadDecoded,
      data: c.bytesBody,
      headerSpaceSavingsPercent: s.headerSpaceSavings * 100,
    },
    timeForRequestUs: sd(s.request, 1e6),
    timeForConnectUs: sd(s.connect, 1e6),
    timeToFirstByteUs: sd(s.ttfb, 1e6),
    requestsPerSecondPerClient: sd(s.rps, 1),
    latencyUs: {
      from: s.corrected ? 'intended' : 'sent',
      count: s.latency.count,
      p50: s.latency.p50,
      p90: s.latency.p90,
      p99: s.latency.p99,
      'p99.9': s.latency.p999,
      max: s.latency.max,
    },
    errors: Object.entries(s.errors).map(([message, count]) => ({ message, count })),
    requestErrors: Object.entries(s.requestErrors).map(([message, count]) => ({ message, count })),
  };
}
