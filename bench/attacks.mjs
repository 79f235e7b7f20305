#!/usr/bin/env node
// Hostile clients against h2serve and nghttpd side by side (issue 16, "h2serve and the engine").
// Each attack runs against a freshly started server, one server after the other, and prints
// what the server's process looked like meanwhile (RSS and descriptors from /proc, CPU time)
// and how long a well-behaved second client waited for a small file.
//
//   node bench/attacks.mjs [--only download,zero-window,slow-read,rapid-reset,herd,aborted]
//                          [--servers h2serve,before,nghttpd] [--h2serve PATH/bin/h2serve.js]
//                          [--before PATH/bin/h2serve.js] [--quick] [--conns N] [--linger S]
//
// --h2serve runs another build as "h2serve"; --before adds a second build (e.g. an older
// checkout: `git archive BASE | tar -x -C DIR`, then `npm ci` or a node_modules link and
// `node scripts/build.mjs` there) as "before", run in turn with the others; --quick scales the
// attacks down (for a smoke run); --linger keeps each server up that long after its attack.
// "download" is no attack: h2load's throughput on the same files, the servers interleaved
// (3 rounds, best and median), so a change that bounds memory can be checked for its cost. Not part of `npm run bench`: it writes nothing, it prints
// one markdown table per attack. The client is written out here (frames and HPACK literals by
// hand) so that it does not depend on the engine it attacks.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, fmt, freePort, machine, median, ROOT, which } from './lib.mjs';

// ---- options ---------------------------------------------------------------------------
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const QUICK = argv.includes('--quick');
const H2SERVE = opt('h2serve', join(ROOT, 'bin', 'h2serve.js'));
const BEFORE = opt('before', null);
const SERVERS = opt('servers', BEFORE ? 'h2serve,before,nghttpd' : 'h2serve,nghttpd').split(',');
const ONLY = opt('only', 'download,zero-window,slow-read,rapid-reset,herd,aborted').split(',');
const scale = (n) => (QUICK ? Math.max(1, Math.ceil(n / 10)) : n);
/** Connections for the attacks that open many (zero-window, slow-read, rapid-reset, herd), instead of their defaults. */
const CONNS = opt('conns', null);
/** Seconds to keep each server running after its attack (to inspect it: gdb, heap snapshots). */
const LINGER = Number(opt('linger', '0'));

// ---- a minimal HTTP/2 client -------------------------------------------------------------
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const T = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 };
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;
const MAX_WINDOW = 0x7fffffff;

function frame(type, flags, id, payload = Buffer.alloc(0)) {
  const b = Buffer.allocUnsafe(9 + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(id >>> 0, 5);
  payload.copy(b, 9);
  return b;
}
const u32 = (v) => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
function settingsFrame(list) {
  const p = Buffer.alloc(6 * list.length);
  list.forEach(([id, v], i) => {
    p.writeUInt16BE(id, 6 * i);
    p.writeUInt32BE(v >>> 0, 6 * i + 2);
  });
  return frame(T.SETTINGS, 0, 0, p);
}
/** RFC 7541 §5.1 integer with an N-bit prefix. */
function hpackInt(value, bits) {
  const max = (1 << bits) - 1;
  if (value < max) return [value];
  const out = [max];
  for (value -= max; value >= 128; value = Math.floor(value / 128)) out.push((value % 128) + 128);
  out.push(value);
  return out;
}
const hpackString = (s) => {
  const b = Buffer.from(s, 'latin1');
  return Buffer.concat([Buffer.from(hpackInt(b.length, 7)), b]);
};
/** A literal field without indexing, new name (§6.2.2): no dynamic table state on either side. */
const literal = (name, value) => Buffer.concat([Buffer.from([0]), hpackString(name), hpackString(value)]);
const requestFrame = (id, path) =>
  frame(
    T.HEADERS,
    END_STREAM | END_HEADERS,
    id,
    Buffer.concat([literal(':method', 'GET'), literal(':scheme', 'http'), literal(':authority', 'localhost'), literal(':path', path)]),
  );
const rstFrame = (id) => frame(T.RST_STREAM, 0, id, u32(8 /* CANCEL */));
const windowUpdateFrame = (id, inc) => frame(T.WINDOW_UPDATE, 0, id, u32(inc));
const SETTINGS_INITIAL_WINDOW_SIZE = 4;

class Client {
  /** @param {net.Socket} socket */
  constructor(socket, { openWindow = false, stopAfter = Infinity } = {}) {
    this.socket = socket;
    this.nextId = 1;
    this.streams = new Map();
    this.goaway = false;
    this.pingAcks = 0;
    this.closed = false;
    this.received = 0;
    this.stopAfter = stopAfter;
    this.openWindow = openWindow;
    this.buf = Buffer.alloc(0);
    socket.on('data', (d) => this.onData(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const s of this.streams.values()) s.done?.(false);
    });
  }

  /** Connects and sends the preface with `settings` (and a connection WINDOW_UPDATE when the window is opened). */
  static open(port, settings = [], options = {}) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.setNoDelay(true);
        const c = new Client(socket, options);
        const first = [PREFACE, settingsFrame(settings)];
        if (options.openWindow) first.push(windowUpdateFrame(0, MAX_WINDOW - 65535));
        socket.write(Buffer.concat(first));
        resolve(c);
      });
      socket.once('error', reject);
    });
  }

  onData(d) {
    this.received += d.length;
    if (this.received >= this.stopAfter) {
      this.socket.destroy();
      return;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let o = 0;
    while (this.buf.length - o >= 9) {
      const len = this.buf.readUIntBE(o, 3);
      if (this.buf.length - o < 9 + len) break;
      const type = this.buf[o + 3];
      const flags = this.buf[o + 4];
      const id = this.buf.readUInt32BE(o + 5) & MAX_WINDOW;
      this.onFrame(type, flags, id, len);
      o += 9 + len;
    }
    this.buf = o === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(o);
  }

  onFrame(type, flags, id, len) {
    if (type === T.SETTINGS && !(flags & ACK)) this.socket.write(frame(T.SETTINGS, ACK, 0));
    else if (type === T.GOAWAY) this.goaway = true;
    else if (type === T.PING && flags & ACK) this.pingAcks++;
    if (id === 0) return;
    const s = this.streams.get(id);
    if (!s) return;
    if (type === T.HEADERS && s.headersAt === 0) s.headersAt = performance.now();
    if (type === T.DATA) {
      s.bytes += len;
      if (this.openWindow && len > 0) this.socket.write(windowUpdateFrame(0, len));
    }
    if (type === T.RST_STREAM || ((type === T.DATA || type === T.HEADERS) && flags & END_STREAM)) s.done?.(type !== T.RST_STREAM);
  }

  /** Sends a GET; returns the stream record (its `finished` resolves with true on END_STREAM, false on reset or close). */
  get(path, { reset = false, write = true } = {}) {
    const id = this.nextId;
    this.nextId += 2;
    const s = { id, sentAt: performance.now(), headersAt: 0, endAt: 0, bytes: 0, done: null, finished: null };
    s.finished = new Promise((resolve) => {
      s.done = (ok) => {
        s.done = null;
        s.endAt = performance.now();
        this.streams.delete(id);
        resolve(ok);
      };
    });
    this.streams.set(id, s);
    const bytes = reset ? Buffer.concat([requestFrame(id, path), rstFrame(id)]) : requestFrame(id, path);
    if (write) this.socket.write(bytes);
    s.frames = bytes;
    return s;
  }

  close() {
    this.socket.destroy();
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withTimeout = (p, ms) => Promise.race([p, sleep(ms).then(() => false)]);

/**
 * The second client: `n` GETs of `path`, each on a new connection, one after the other;
 * latency from connect to END_STREAM (timeouts count as `timeoutMs`).
 */
async function probe(port, path, n, timeoutMs = 10_000) {
  const times = [];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    let ok = false;
    try {
      const c = await withTimeout(Client.open(port), timeoutMs);
      if (c) {
        ok = await withTimeout(c.get(path).finished, timeoutMs - (performance.now() - t0));
        c.close();
      }
    } catch {
      ok = false;
    }
    if (!ok) failed++;
    times.push(ok ? performance.now() - t0 : timeoutMs);
  }
  return { p50: median(times), max: Math.max(...times), failed, n };
}

/** Probes over and over until `stop()` says so. */
async function probeWhile(port, path, stop) {
  const times = [];
  let failed = 0;
  while (!stop()) {
    const r = await probe(port, path, 1);
    times.push(r.max);
    failed += r.failed;
    await sleep(50);
  }
  return { p50: times.length ? median(times) : NaN, max: times.length ? Math.max(...times) : NaN, failed, n: times.length };
}

// ---- the server's process ------------------------------------------------------------------
function procStats(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 1/100 s
    return { rss, fds, cpu };
  } catch {
    return { rss: NaN, fds: NaN, cpu: NaN };
  }
}

/** Samples the process every 200 ms; `stop()` returns the peaks. */
function sampler(pid) {
  let peakRss = 0;
  let peakFds = 0;
  const take = () => {
    const s = procStats(pid);
    if (s.rss > peakRss) peakRss = s.rss;
    if (s.fds > peakFds) peakFds = s.fds;
  };
  take();
  const t = setInterval(take, 200);
  return () => {
    clearInterval(t);
    take();
    return { peakRss, peakFds };
  };
}

const MB = (b) => `${fmt(b / 1048576, 0)} MB`;
const ms = (x) => (Number.isFinite(x) ? `${fmt(x, x < 10 ? 1 : 0)} ms` : 'n/a');

async function startServer(kind, htdocs) {
  const port = await freePort();
  const cmd =
    kind === 'nghttpd'
      ? [which('nghttpd'), '--no-tls', '-a', '127.0.0.1', '-d', htdocs, String(port)]
      : [process.execPath, kind === 'before' ? BEFORE : H2SERVE, '--no-tls', '-a', '127.0.0.1', '-d', htdocs, String(port)];
  if (kind === 'before' && !BEFORE) throw new Error('the "before" server needs --before PATH');
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${kind} exited before listening: ${err.trim()}`);
    if (await accepts(port)) {
      await sleep(300); // start-up allocations settle
      return { kind, port, child, pid: child.pid, base: procStats(child.pid) };
    }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`${kind} did not start`);
}

function stopServer(s) {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => s.child.kill('SIGKILL'), 7000);
    s.child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    s.child.kill('SIGTERM');
  });
}

/** Opens `conns` connections, then writes `streams` GETs of `path` on each in one write. */
async function flood(port, conns, streams, path, settings, options = {}) {
  const clients = [];
  for (let i = 0; i < conns; i++) clients.push(await Client.open(port, settings, options));
  const all = [];
  for (const c of clients) {
    const list = [];
    for (let j = 0; j < streams; j++) list.push(c.get(typeof path === 'function' ? path() : path, { write: false }));
    c.socket.write(Buffer.concat(list.map((s) => s.frames)));
    all.push(...list);
  }
  return { clients, streams: all };
}

/** h2load's MB/s for `args` against `url`. */
function h2loadMBps(url, args) {
  const out = execFileSync(which('h2load'), [...args, url], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const m = /finished in [\d.]+m?s, [\d.]+ req\/s, ([\d.]+)([KMG]?)B\/s/.exec(out);
  const failed = /requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored/.exec(out);
  if (!m || !failed || Number(failed[1]) + Number(failed[2]) > 0) throw new Error(`h2load failed:\n${out}`);
  return Number(m[1]) * { '': 1 / 1048576, K: 1 / 1024, M: 1, G: 1024 }[m[2]];
}

// ---- the attacks ------------------------------------------------------------------------------
const ATTACKS = {
  /** Not an attack: what well-behaved downloads of large files get, the servers up together and interleaved. */
  download: {
    together: true,
    title: (p) =>
      `Downloads (no attack): h2load ${p.loads.map((l) => `\`${l.args.join(' ')} ${l.path}\``).join(' and ')}, ${p.rounds} rounds, the servers interleaved; MB/s, best (median)`,
    params: () => ({
      rounds: 3,
      loads: [
        { path: '/big.bin', name: '64 MiB, one stream at a time', args: ['-n', String(QUICK ? 2 : 8), '-c', '1', '-m', '1', '-w', '30', '-W', '30'] },
        { path: '/4m.bin', name: '4 MiB, 4 connections × 10 streams', args: ['-n', String(QUICK ? 40 : 400), '-c', '4', '-m', '10', '-w', '30', '-W', '30'] },
      ],
    }),
    async runTogether(servers, p) {
      const cells = new Map(servers.map((s) => [s, p.loads.map(() => [])]));
      for (let r = 0; r < p.rounds; r++) {
        for (const [i, l] of p.loads.entries()) {
          const order = r % 2 ? [...servers].reverse() : servers;
          for (const s of order) cells.get(s)[i].push(h2loadMBps(`http://127.0.0.1:${s.port}${l.path}`, l.args));
        }
      }
      return servers.map((s) => {
        const row = { kind: s.kind };
        p.loads.forEach((_l, i) => {
          const xs = cells.get(s)[i];
          row[`l${i}`] = `${fmt(Math.max(...xs), 0)} (${fmt(median(xs), 0)})`;
        });
        row.rss = MB(procStats(s.pid).rss);
        return row;
      });
    },
    columns: ['l0', 'l1', 'rss'],
    heads: ['64 MiB, one stream at a time', '4 MiB, 4 connections × 10 streams', 'RSS after'],
  },
  /** Many streams of a 64 MiB file, the client's stream windows at 0: nothing can be sent. */
  'zero-window': {
    title: (p) => `Zero window: ${p.conns} connections × ${p.streams} streams of a 64 MiB file, SETTINGS_INITIAL_WINDOW_SIZE 0, held ${p.hold / 1000} s`,
    params: () => ({ conns: scale(50), streams: 100, hold: QUICK ? 3000 : 10_000 }),
    async run(s, p) {
      const stop = sampler(s.pid);
      const f = await flood(s.port, p.conns, p.streams, '/big.bin', [[SETTINGS_INITIAL_WINDOW_SIZE, 0]]);
      const headers = async () => f.streams.filter((x) => x.headersAt > 0).length;
      const deadline = Date.now() + p.hold;
      let done = false;
      const prober = probeWhile(s.port, '/small.html', () => done);
      while (Date.now() < deadline) await sleep(200);
      done = true;
      const lat = await prober;
      const answered = await headers();
      const peak = stop();
      for (const c of f.clients) c.close();
      await sleep(5000);
      const after = procStats(s.pid);
      return {
        answered: `${answered} / ${f.streams.length}`,
        peakRss: MB(peak.peakRss),
        peakFds: peak.peakFds,
        second: `${ms(lat.p50)} / ${ms(lat.max)} (${lat.failed} failed of ${lat.n})`,
        afterRss: MB(after.rss),
        afterFds: after.fds,
      };
    },
    columns: ['answered', 'peakRss', 'peakFds', 'second', 'afterRss', 'afterFds'],
    heads: ['response HEADERS', 'peak RSS', 'peak fds', 'second client p50 / max', 'RSS 5 s after close', 'fds after close'],
  },
  /** Windows wide open, the socket never read: TCP backs up. */
  'slow-read': {
    title: (p) => `Slow read: ${p.conns} connections × ${p.streams} streams of a 64 MiB file, windows 2^31-1, socket never read, held ${p.hold / 1000} s`,
    params: () => ({ conns: scale(20), streams: 100, hold: QUICK ? 3000 : 10_000 }),
    async run(s, p) {
      const stop = sampler(s.pid);
      const f = await flood(s.port, p.conns, p.streams, '/big.bin', [[SETTINGS_INITIAL_WINDOW_SIZE, MAX_WINDOW]], { openWindow: true, stopAfter: Infinity });
      // Read nothing from here on.
      for (const c of f.clients) c.socket.pause();
      let done = false;
      const prober = probeWhile(s.port, '/small.html', () => done);
      await sleep(p.hold);
      done = true;
      const lat = await prober;
      const peak = stop();
      for (const c of f.clients) c.close();
      await sleep(5000);
      const after = procStats(s.pid);
      return {
        peakRss: MB(peak.peakRss),
        peakFds: peak.peakFds,
        second: `${ms(lat.p50)} / ${ms(lat.max)} (${lat.failed} failed of ${lat.n})`,
        afterRss: MB(after.rss),
      };
    },
    columns: ['peakRss', 'peakFds', 'second', 'afterRss'],
    heads: ['peak RSS', 'peak fds', 'second client p50 / max', 'RSS 5 s after close'],
  },
  /** HEADERS + RST_STREAM pairs, each for another file nobody asked for before. */
  'rapid-reset': {
    title: (p) => `Rapid reset on uncached files: ${p.conns} connections, each ${p.streams} HEADERS+RST_STREAM pairs in one write, each for another 1 KiB file`,
    params: () => ({ conns: scale(20), streams: 1000 }),
    async run(s, p, _htdocs, index) {
      const before = procStats(s.pid);
      // Every server gets names no server asked for before.
      let n = index * p.conns * p.streams;
      const next = () => `/many/f${String(n++).padStart(5, '0')}`;
      let done = false;
      const prober = probeWhile(s.port, '/small.html', () => done);
      const t0 = performance.now();
      for (let i = 0; i < p.conns; i++) {
        const c = await Client.open(s.port, []);
        const list = [];
        for (let j = 0; j < p.streams; j++) list.push(c.get(next(), { reset: true, write: false }));
        c.socket.write(Buffer.concat(list.map((x) => x.frames)));
        // Wait until the server has seen them all: a PING answered after them.
        c.socket.write(frame(T.PING, 0, 0, Buffer.alloc(8)));
        await new Promise((resolve) => {
          const check = setInterval(() => {
            if (c.closed || c.goaway || c.pingAcks > 0) {
              clearInterval(check);
              resolve();
            }
          }, 20);
        });
        await sleep(200);
        c.close();
      }
      const wall = performance.now() - t0;
      await sleep(1000); // file work still queued
      done = true;
      const lat = await prober;
      const after = procStats(s.pid);
      return {
        cpu: `${fmt(after.cpu - before.cpu, 2)} s`,
        wall: ms(wall),
        second: `${ms(lat.p50)} / ${ms(lat.max)} (${lat.failed} failed of ${lat.n})`,
        rss: MB(after.rss),
      };
    },
    columns: ['cpu', 'wall', 'second', 'rss'],
    heads: ['server CPU', 'attack wall time', 'second client p50 / max', 'RSS after'],
  },
  /** Many simultaneous first requests for one small file, then the same again (warm). */
  herd: {
    title: (p) =>
      `Cold-cache herd: ${p.conns} connections × ${p.streams} simultaneous first GETs of one 10 KiB file, then the same warm, after two such rounds on another file (warm code)${p.strace ? '; opens counted with strace in a separate round on a third file' : ''}`,
    params: () => ({ conns: scale(20), streams: 100, strace: which('strace') !== null }),
    async run(s, p, htdocs) {
      const round = async (path) => {
        const f = await flood(s.port, p.conns, p.streams, path, [[SETTINGS_INITIAL_WINDOW_SIZE, MAX_WINDOW]], { openWindow: true });
        await withTimeout(Promise.all(f.streams.map((x) => x.finished)), 30_000);
        const lat = f.streams.map((x) => (x.endAt > 0 ? x.endAt - x.sentAt : 30_000));
        for (const c of f.clients) c.close();
        return { mean: lat.reduce((a, b) => a + b, 0) / lat.length, max: Math.max(...lat) };
      };
      // The server's code is warmed up on another file first, so "cold" is about the file only.
      const warmup = `/herd-warmup-${s.kind}-${Date.now()}.txt`;
      writeFileSync(join(htdocs, warmup), Buffer.alloc(10 * 1024, 0x63));
      await round(warmup);
      await round(warmup);
      const name = `/herd-${s.kind}-${Date.now()}.txt`;
      writeFileSync(join(htdocs, name), Buffer.alloc(10 * 1024, 0x61));
      const cold = await round(name);
      const warm = await round(name);
      let opens = 'n/a';
      if (p.strace) {
        const name2 = `/herd2-${s.kind}-${Date.now()}.txt`;
        writeFileSync(join(htdocs, name2), Buffer.alloc(10 * 1024, 0x62));
        const log = join(htdocs, '..', `strace-${s.kind}.log`);
        const tracer = spawn(which('strace'), ['-f', '-qq', '-e', 'trace=open,openat', '-o', log, '-p', String(s.pid)], { stdio: 'ignore' });
        await sleep(1000); // attached
        await round(name2);
        tracer.kill('SIGINT');
        await new Promise((r) => tracer.once('exit', r));
        opens = String(
          readFileSync(log, 'utf8')
            .split('\n')
            .filter((l) => l.includes(name2.slice(1)) && !/= -1/.test(l)).length,
        );
      }
      return { cold: `${ms(cold.mean)} / ${ms(cold.max)}`, warm: `${ms(warm.mean)} / ${ms(warm.max)}`, opens };
    },
    columns: ['cold', 'warm', 'opens'],
    heads: ['cold: mean / max latency', 'warm: mean / max latency', 'opens of the file (cold)'],
  },
  /** Downloads of the 64 MiB file abandoned after 1 MiB (the socket closed). */
  aborted: {
    title: (p) =>
      `Aborted downloads: ${p.first} then ${p.more} more downloads of a 64 MiB file, each on its own connection, the socket closed after 1 MiB (${p.parallel} at a time)`,
    params: () => ({ first: scale(500), more: scale(2000), parallel: 10 }),
    async run(s, p) {
      const batch = async (n) => {
        let left = n;
        const worker = async () => {
          while (left-- > 0) {
            const c = await Client.open(s.port, [[SETTINGS_INITIAL_WINDOW_SIZE, MAX_WINDOW]], { openWindow: true, stopAfter: 1 << 20 });
            const x = c.get('/big.bin');
            await withTimeout(x.finished, 10_000);
            c.close();
          }
        };
        await Promise.all(Array.from({ length: p.parallel }, worker));
        await sleep(2000);
        return procStats(s.pid);
      };
      const a = await batch(p.first);
      const b = await batch(p.more);
      return { first: MB(a.rss), more: MB(b.rss), fds: b.fds };
    },
    columns: ['first', 'more', 'fds'],
    heads: ['RSS after the first batch', 'RSS after the second', 'fds at the end'],
  },
};

// ---- main ---------------------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'h2kit-attacks-'));
const htdocs = join(dir, 'htdocs');
mkdirSync(join(htdocs, 'many'), { recursive: true });
try {
  writeFileSync(join(htdocs, 'big.bin'), execFileSync('head', ['-c', String(64 << 20), '/dev/urandom'], { maxBuffer: 80 << 20 }));
  writeFileSync(join(htdocs, 'small.html'), '<!doctype html><title>small</title><p>second client</p>\n');
  writeFileSync(join(htdocs, '4m.bin'), execFileSync('head', ['-c', String(4 << 20), '/dev/urandom'], { maxBuffer: 8 << 20 }));
  if (ONLY.includes('rapid-reset')) {
    const p = ATTACKS['rapid-reset'].params();
    const one = Buffer.alloc(1024, 0x2e);
    // Every server gets its own fresh names: enough files for all of them.
    for (let i = 0; i < p.conns * p.streams * SERVERS.length; i++) writeFileSync(join(htdocs, 'many', `f${String(i).padStart(5, '0')}`), one);
  }
  const version = (path) => execFileSync(process.execPath, [path, '--version'], { encoding: 'utf8' }).trim();
  const nghttpdVersion = which('nghttpd') ? execFileSync(which('nghttpd'), ['--version'], { encoding: 'utf8' }).trim() : 'not installed';
  const before = BEFORE ? `; before: \`${BEFORE}\` (${version(BEFORE)})` : '';
  console.log(
    `# h2serve and nghttpd under attack\n\nh2serve: \`${H2SERVE}\` (${version(H2SERVE)})${before}; nghttpd: ${nghttpdVersion}; all \`--no-tls\` on 127.0.0.1, one process each, each attack on freshly started servers. Machine: ${machine()}.\n`,
  );
  for (const name of ONLY) {
    const attack = ATTACKS[name];
    if (!attack) throw new Error(`unknown attack ${name} (have: ${Object.keys(ATTACKS).join(', ')})`);
    const p = attack.params();
    if (CONNS !== null && 'conns' in p) p.conns = Number(CONNS);
    const rows = [];
    const kinds = SERVERS.filter((k) => k !== 'nghttpd' || which('nghttpd'));
    if (attack.together) {
      const servers = [];
      try {
        for (const kind of kinds) servers.push(await startServer(kind, htdocs));
        process.stderr.write(`attacks: ${name} against ${kinds.join(', ')}\n`);
        for (const row of await attack.runTogether(servers, p)) {
          const s = servers.find((x) => x.kind === row.kind);
          rows.push({ ...row, startRss: MB(s.base.rss), startFds: s.base.fds });
        }
      } finally {
        await Promise.all(servers.map(stopServer));
      }
    }
    for (const kind of attack.together ? [] : kinds) {
      const s = await startServer(kind, htdocs);
      process.stderr.write(`attacks: ${name} against ${kind} (pid ${s.pid})\n`);
      try {
        rows.push({ kind, ...(await attack.run(s, p, htdocs, SERVERS.indexOf(kind))) });
        rows.at(-1).startRss = MB(s.base.rss);
        rows.at(-1).startFds = s.base.fds;
        if (LINGER > 0) {
          process.stderr.write(`attacks: ${kind} (pid ${s.pid}) kept for ${LINGER} s\n`);
          await sleep(LINGER * 1000);
        }
      } finally {
        await stopServer(s);
      }
    }
    console.log(`## ${attack.title(p)}\n`);
    console.log(`| server | RSS / fds at start | ${attack.heads.join(' | ')} |`);
    console.log(`|---|---:|${attack.heads.map(() => '---:').join('|')}|`);
    for (const r of rows) console.log(`| ${r.kind} | ${r.startRss} / ${r.startFds} | ${attack.columns.map((c) => r[c]).join(' | ')} |`);
    console.log('');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
