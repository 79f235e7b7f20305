/**
 * One worker: the clients of one thread (h2load's Worker). It creates them
 * all at once, or -r at a time every --rate-period; with -D it runs the
 * warm-up and the main duration; it counts what its clients report and
 * hands back a WorkerResult. Nothing here prints: lines go to `out`.
 */
import { writeSync } from 'node:fs';
import { type Client, type ClientHost, Phase } from './client.js';
import { type BenchConfig, protocolOf, type WorkerPlan } from './config.js';
import type { ConnectError } from './connect.js';
import { seconds } from './format.js';
import { H1Client } from './h1-client.js';
import { H2Client, requestFieldLists } from './h2-client.js';
import {
  addValue,
  type Counters,
  encodeHistogram,
  monotonicMs,
  newCounters,
  newHistogram,
  newRunning,
  PendingValues,
  type Running,
  type WorkerResult,
} from './stats.js';
import { warmUp } from './warm-up.js';

/** Where a worker's lines and progress go. */
export interface WorkerIo {
  /** A line h2load prints on stdout while it runs ("spawning thread", "Application protocol: h2c", ...). */
  line(text: string): void;
}

/** Log lines are written in blocks of about this many characters. */
const LOG_BLOCK = 64 * 1024;

export class BenchWorker implements ClientHost {
  phase: Phase;
  clock = 0;
  readonly counters: Counters = newCounters();
  private readonly request: Running = newRunning();
  private readonly requestTimes = new PendingValues(newHistogram());
  /** From when each request should have been sent: --rps and --rate only. */
  private readonly latencies: PendingValues | null;
  private readonly connectTimes: number[] = [];
  private readonly ttfbTimes: number[] = [];
  private readonly rpsValues: number[] = [];
  private readonly errors: Record<string, number> = {};
  private readonly requestErrors: Record<string, number> = {};
  private readonly clients: Client[] = [];
  /** Clients created, and those finished for good. */
  made = 0;
  private closedCount = 0;
  private reported = false;
  private log = '';
  private readonly logOrigin = performance.timeOrigin / 1000;
  private done: ((r: WorkerResult) => void) | null = null;
  private rateTimer: ReturnType<typeof setInterval> | null = null;
  private readonly timers: Array<ReturnType<typeof setTimeout>> = [];
  private startedAt = 0;

  constructor(
    readonly config: BenchConfig,
    readonly plan: WorkerPlan,
    private readonly io: WorkerIo,
  ) {
    this.phase = config.duration > 0 ? Phase.IDLE : Phase.MAIN;
    this.latencies = config.rps > 0 || config.rate > 0 ? new PendingValues(newHistogram()) : null;
  }

  /** The "spawning thread" line (printed before any worker starts, as h2load does). */
  static spawningLine(c: BenchConfig, p: WorkerPlan): string {
    if (c.duration > 0) {
      return `spawning thread #${p.id}: ${p.clients} total client(s). Timing-based test with ${seconds(c.warmUpTime)}s of warm-up time and ${seconds(c.duration)}s of main duration for measurements.`;
    }
    const rate = c.rate > 0 && p.clients > p.rate ? `Up to ${p.rate} client(s) will be created every ${durationText(c.ratePeriod)} ` : '';
    return `spawning thread #${p.id}: ${p.clients} total client(s). ${rate}${p.requests} total requests`;
  }

  /** Before the clock starts: h2bench's own code compiled against a loopback server (see warm-up.ts); nothing reaches the server under test. */
  warmUp(): Promise<void> {
    if (protocolOf(this.config) !== 'h2' || !this.config.selfWarmUp) return Promise.resolve();
    return warmUp(this.config, (c, p) => new BenchWorker(c, p, { line: () => {} }));
  }

  /** Runs every client to its end. */
  run(): Promise<WorkerResult> {
    return new Promise((resolve) => {
      this.done = resolve;
      this.startedAt = performance.now() / 1000;
      if (this.plan.clients === 0) return this.finish();
      const fields = requestFieldLists(this.config);
      let next = 0;
      const perClient = Math.floor(this.plan.requests / this.plan.clients);
      let rem = this.plan.requests % this.plan.clients;
      const create = (dueAt: number) => {
        const todo = perClient + (rem > 0 ? 1 : 0);
        if (rem > 0) rem--;
        const id = next++;
        const c: Client = protocolOf(this.config) === 'http/1.1' ? new H1Client(this, id, todo) : new H2Client(this, id, todo, fields);
        c.dueAt = dueAt;
        this.clients.push(c);
        this.made++;
        c.connect();
      };
      if (this.config.rate > 0) {
        const period = this.config.ratePeriod;
        let tick = 0;
        const wave = () => {
          const due = this.startedAt + tick++ * period;
          const n = Math.min(this.plan.rate, this.plan.clients - this.made);
          for (let i = 0; i < n; i++) create(due);
          if (this.made >= this.plan.clients && this.rateTimer !== null) {
            clearInterval(this.rateTimer);
            this.rateTimer = null;
          }
        };
        this.rateTimer = setInterval(wave, period * 1000);
        wave();
      } else {
        for (let i = 0; i < this.plan.clients; i++) create(0);
      }
    });
  }

  // ---- ClientHost ---------------------------------------------------------------

  requestEnded(status: number, ok: boolean, sentAt: number, dueAt: number): void {
    const c = this.counters;
    c.done++;
    if (status >= 200 && status < 600) c.status[Math.floor(status / 100)]!++;
    if (ok) {
      c.success++;
      if (status >= 200 && status < 400) c.statusSuccess++;
      else c.failed++;
      const t = this.clock - sentAt;
      addValue(this.request, t);
      this.requestTimes.add(Math.round(t * 1e6));
      if (this.latencies !== null) this.latencies.add(Math.round((this.clock - dueAt) * 1e6));
    } else {
      c.failed++;
      c.errored++;
    }
    if (this.config.logFd >= 0) {
      this.log += `${Math.round((this.logOrigin + sentAt) * 1e6)}\t${ok ? status : -1}\t${Math.round((this.clock - sentAt) * 1e6)}\n`;
      if (this.log.length >= LOG_BLOCK) this.flushLog();
    }
  }

  established(lines: string[]): void {
    if (this.reported || this.plan.id !== 0) return;
    this.reported = true;
    for (const l of lines) this.io.line(l);
  }

  verbose(line: string): void {
    this.io.line(line);
  }

  connectFailed(e: ConnectError): void {
    this.errors[e.message] = (this.errors[e.message] ?? 0) + 1;
  }

  requestFailed(reason: string): void {
    if (this.phase === Phase.MAIN) this.requestErrors[reason] = (this.requestErrors[reason] ?? 0) + 1;
  }

  connecting(): void {
    if (this.phase !== Phase.IDLE) return;
    // -D: the warm-up starts with the first connection.
    this.phase = Phase.WARM_UP;
    const id = this.plan.id;
    this.io.line(`Warm-up started for thread #${id}.`);
    this.timers.push(
      setTimeout(() => {
        this.io.line(`Warm-up phase is over for thread #${id}.`);
        this.io.line(`Main benchmark duration is started for thread #${id}.`);
        const now = performance.now() / 1000;
        for (const c of this.clients) if (!c.finished) c.clientStart = now;
        this.phase = Phase.MAIN;
        this.timers.push(setTimeout(() => this.durationOver(), this.config.duration * 1000));
      }, this.config.warmUpTime * 1000),
    );
  }

  private durationOver(): void {
    const id = this.plan.id;
    this.phase = Phase.OVER;
    this.io.line(`Main benchmark duration is over for thread #${id}. Stopping all clients.`);
    for (const c of this.clients) c.stop();
    this.io.line(`Stopped all clients for thread #${id}`);
  }

  clientClosed(c: Client): void {
    if (c.clientStart > 0 && c.clientEnd > 0) {
      const t = c.clientEnd - c.clientStart;
      if (t > 1e-9) this.rpsValues.push(c.reqSuccess / t);
    }
    if (c.connectStart > 0 && c.connectTime > 0) {
      this.connectTimes.push(c.connectTime - c.connectStart);
      if (c.ttfb > 0) this.ttfbTimes.push(c.ttfb - c.connectStart);
    }
    // -D: the requests done in the main duration are the total (h2load's free_client).
    if (this.config.duration > 0) this.counters.todo += c.reqDone;
    if (++this.closedCount === this.plan.clients) this.finish();
  }

  // ---- the end ---------------------------------------------------------------------

  private flushLog(): void {
    if (this.log.length === 0) return;
    writeSync(this.config.logFd, this.log);
    this.log = '';
  }

  private finish(): void {
    if (this.done === null) return;
    const endedAt = monotonicMs();
    for (const t of this.timers) clearTimeout(t);
    if (this.rateTimer !== null) clearInterval(this.rateTimer);
    if (this.config.duration === 0) this.counters.todo = this.plan.requests;
    if (this.config.logFd >= 0) this.flushLog();
    const done = this.done;
    this.done = null;
    done({
      counters: this.counters,
      request: this.request,
      requestHistogram: encodeHistogram(this.requestTimes.flush()),
      latencyHistogram: this.latencies === null ? null : encodeHistogram(this.latencies.flush()),
      connectTimes: this.connectTimes,
      ttfbTimes: this.ttfbTimes,
      rpsValues: this.rpsValues,
      errors: this.errors,
      requestErrors: this.requestErrors,
      endedAt,
    });
  }
}

/** --rate-period as h2load prints it (util::duration_str): 1s, 500ms, 2m, 1h. */
function durationText(s: number): string {
  if (s === 0) return '0';
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  if (Number.isInteger(s)) return `${s}s`;
  return `${Math.round(s * 1000)}ms`;
}
