// One measurement for bench/h2client.mjs, in a process of its own:
//   node bench/h2client-worker.mjs load ours|node URL N SESSIONS STREAMS
//     N GETs of URL over SESSIONS sessions, STREAMS concurrent streams each
//     (as h2load -n N -c SESSIONS -m STREAMS); prints {"rps","failed","bytes","cpuUs"}.
//   node --expose-gc bench/h2client-worker.mjs idle ours|node URL SESSIONS
//     opens SESSIONS sessions, waits until each has exchanged SETTINGS and
//     answered a PING, lets them sit idle, and prints the RSS and heap growth.
import http2 from 'node:http2';
import { h2 } from '../dist/index.js';

const [mode, kind, url, ...rest] = process.argv.slice(2);
const path = new URL(url).pathname;
// One request head for every request, as an application would keep it.
const head = Object.freeze({ ':path': path });

/** A client kind behind one interface: open(), get(session) -> octets received, ping(session), close(session). */
const clients = {
  ours: {
    open: () => h2.connect(url),
    get: (s) =>
      s
        .request(head)
        .then((r) => (r.status === 200 ? r.bytes() : Promise.reject(new Error(`status ${r.status}`))))
        .then((b) => b.length),
    ping: (s) => s.ping(),
    close: (s) => s.destroy(),
  },
  node: {
    open: () =>
      new Promise((resolve, reject) => {
        const s = http2.connect(url);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      }),
    get: (s) =>
      new Promise((resolve, reject) => {
        const req = s.request(head);
        let n = 0;
        let status = 0;
        req.on('response', (h) => (status = h[':status']));
        req.on('data', (c) => (n += c.length));
        req.on('end', () => (status === 200 ? resolve(n) : reject(new Error(`status ${status}`))));
        req.on('error', reject);
      }),
    ping: (s) => new Promise((resolve, reject) => s.ping((err) => (err ? reject(err) : resolve()))),
    close: (s) => s.destroy(),
  },
};
const client = clients[kind];
if (!client) throw new Error(`unknown client ${kind}`);

if (mode === 'load') {
  const [n, sessionsN, streamsN] = rest.map(Number);
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const sessions = await Promise.all(Array.from({ length: sessionsN }, () => client.open()));
  let issued = 0;
  let done = 0;
  let failed = 0;
  let bytes = 0;
  await new Promise((resolve) => {
    const next = (s) => {
      if (issued >= n) return;
      issued++;
      client.get(s).then(
        (len) => {
          bytes += len;
          finish(s);
        },
        () => {
          failed++;
          finish(s);
        },
      );
    };
    const finish = (s) => {
      if (++done === n) resolve();
      else next(s);
    };
    for (const s of sessions) for (let i = 0; i < streamsN; i++) next(s);
  });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  for (const s of sessions) client.close(s);
  process.stdout.write(`${JSON.stringify({ rps: n / seconds, failed, bytes, cpuUs: cpu.user + cpu.system })}\n`);
  process.exit(0);
} else if (mode === 'idle') {
  const [count] = rest.map(Number);
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 1500));
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 100));
    globalThis.gc?.();
  };
  // One session first: the code paths and the modules are loaded before the baseline.
  const warm = await client.open();
  await client.ping(warm);
  await settle();
  const before = process.memoryUsage();
  const sessions = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => client.open()));
    await Promise.all(batch.map((s) => client.ping(s)));
    sessions.push(...batch);
  }
  await settle();
  const after = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ sessions: sessions.length, rss: after.rss - before.rss, heap: after.heapUsed - before.heapUsed, external: after.external + after.arrayBuffers - before.external - before.arrayBuffers })}\n`,
  );
  for (const s of [warm, ...sessions]) client.close(s);
  process.exit(0);
} else {
  throw new Error(`unknown mode ${mode}`);
}
