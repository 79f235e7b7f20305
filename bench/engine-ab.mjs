// The HTTP/2 engine in-process, two builds against each other: CPU time per
// request of the server role and of the client role on the 1 KiB path, with
// no socket and no kernel in the way, interleaved A B A B (a development
// tool for engine changes; npm run bench measures the commands against their
// C peers).
//
//   node bench/engine-ab.mjs DIST_A DIST_B [ROUNDS]
//     DIST_A, DIST_B: dist/ folders of two builds (npm run build, then copy dist/)
//
// Server: a ServerConnection over a transport that drops its output, fed
// pre-encoded GETs 10 at a time (HEADERS, END_STREAM); the handler answers a
// frozen field list and 1 KiB. Client: a ClientConnection on h2bench's lean
// path (no promise per request), 10 requests submitted, then their responses
// fed pre-encoded (nghttpd's fields, HEADERS and 1 KiB DATA).
import { join, resolve } from 'node:path';

const [distA, distB, roundsArg] = process.argv.slice(2);
if (!distA || !distB) {
  console.error('usage: node bench/engine-ab.mjs DIST_A DIST_B [ROUNDS]');
  process.exit(2);
}
const ROUNDS = Number(roundsArg ?? 10);
const N = 50_000;
const BODY = new Uint8Array(1024).fill(0x61);

async function load(dist) {
  const root = resolve(dist);
  const lib = await import(join(root, 'index.js'));
  const { ClientConnection } = await import(join(root, 'h2/client-connection.js'));
  return { h2: lib.h2, Deflater: lib.Deflater, ClientConnection };
}

const sink = () => ({ write() {}, bufferedAmount: 0, releasesWritten: true, end() {}, destroy() {} });

/** Requests and responses encoded once, with build A's encoder (the octets are the same for both). */
function encode({ h2, Deflater }) {
  const req = new Deflater();
  const res = new Deflater();
  const requests = [];
  const responses = [];
  let id = 1;
  for (let done = 0; done < N; done += 10) {
    const q = [];
    const r = [];
    for (let i = 0; i < 10; i++, id += 2) {
      const block = req.deflate([
        [':method', 'GET'],
        [':scheme', 'http'],
        [':authority', '127.0.0.1:8080'],
        [':path', '/1k'],
        ['accept-encoding', 'gzip, deflate'],
        ['user-agent', 'h2load nghttp2/1.52.0'],
      ]);
      q.push(h2.encodeHeaders(id, block, { endStream: true }));
      const head = res.deflate([
        [':status', '200'],
        ['server', 'nghttpd nghttp2/1.52.0'],
        ['cache-control', 'max-age=3600'],
        ['date', 'Sun, 29 Nov 2026 05:55:31 GMT'],
        ['content-length', '1024'],
        ['last-modified', 'Sun, 29 Nov 2026 05:55:31 GMT'],
        ['content-type', 'application/octet-stream'],
      ]);
      r.push(h2.encodeHeaders(id, head, {}), h2.encodeData(id, BODY, { endStream: true }));
    }
    requests.push(Buffer.concat(q));
    responses.push(Buffer.concat(r));
  }
  return { requests, responses };
}

const FIELDS = Object.freeze([Object.freeze(['server', 'h2serve']), Object.freeze(['content-type', 'application/octet-stream'])]);

function server({ h2 }, { requests }) {
  let answered = 0;
  const conn = new h2.Connection(sink(), {
    onStream(s) {
      answered++;
      s.respond(200, FIELDS, BODY);
    },
    settings: { maxConcurrentStreams: 1000 },
  });
  conn.receive(
    Buffer.concat([h2.CONNECTION_PREFACE, h2.encodeSettings([[4, 1 << 30]]), h2.encodeWindowUpdate(0, 2 ** 31 - 1 - 65535), h2.encodeSettings([], true)]),
  );
  const t = process.cpuUsage();
  for (const c of requests) conn.receive(c);
  const u = process.cpuUsage(t);
  conn.destroy();
  if (answered !== N) throw new Error(`server: ${answered} of ${N} requests answered`);
  return (u.user + u.system) / N;
}

const REQUEST = Object.freeze(
  [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':authority', '127.0.0.1:8080'],
    [':path', '/1k'],
  ].map((f) => Object.freeze(f)),
);

/**
 * One request of a client run, as h2bench's: one class for every run. (A class made in each run gave
 * each run's requests new maps, and the engine's request path was deoptimized run after run until its
 * property loads went megamorphic: about 900 instructions a request that h2bench does not pay.)
 */
class Request {
  fields = REQUEST;
  method = 'GET';
  path = '/1k';
  body = undefined;
  kind = 0;
  bytes = null;
  trailers = null;
  exchange = null;
  cancelled = false;
  listener = this;
  constructor(counts, free) {
    this.counts = counts;
    this.free = free;
  }
  resolve() {}
  reject() {
    this.counts.failed++;
  }
  onHead() {}
  onData() {}
  onComplete() {
    this.counts.done++;
    this.free.push(this);
  }
  onError() {
    this.counts.failed++;
  }
}

function client({ h2, ClientConnection }, { responses }) {
  const counts = { done: 0, failed: 0 };
  const free = [];
  const conn = new ClientConnection(sink(), {
    scheme: 'http',
    authority: '127.0.0.1:8080',
    limits: { idleTimeout: 0 },
    settings: { initialWindowSize: 2 ** 30 - 1, connectionWindowSize: 2 ** 30 - 1 },
  });
  conn.receive(
    Buffer.concat([
      h2.encodeSettings([
        [3, 100],
        [4, 1 << 30],
      ]),
      h2.encodeWindowUpdate(0, 2 ** 30),
      h2.encodeSettings([], true),
    ]),
  );
  const t = process.cpuUsage();
  for (const chunk of responses) {
    for (let i = 0; i < 10; i++) {
      const r = free.pop() ?? new Request(counts, free);
      r.exchange = null;
      conn.submit(r);
    }
    conn.receive(chunk);
  }
  const u = process.cpuUsage(t);
  conn.destroy();
  if (counts.done !== N) throw new Error(`client: ${counts.done} of ${N} responses completed (${counts.failed} failed)`);
  return (u.user + u.system) / N;
}

const builds = { A: await load(distA), B: await load(distB) };
const input = encode(builds.A);
const runs = { server: { A: [], B: [] }, client: { A: [], B: [] } };
for (const k of ['A', 'B']) for (let i = 0; i < 2; i++) server(builds[k], input), client(builds[k], input); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const k of r % 2 ? ['B', 'A'] : ['A', 'B']) {
    runs.server[k].push(server(builds[k], input));
    runs.client[k].push(client(builds[k], input));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const best = (xs) => Math.min(...xs);
console.log(`${ROUNDS} interleaved rounds of ${N} requests; CPU µs per request (best / median)`);
for (const role of ['server', 'client']) {
  const a = runs[role].A;
  const b = runs[role].B;
  console.log(
    `${role}: A ${best(a).toFixed(3)} / ${median(a).toFixed(3)}, B ${best(b).toFixed(3)} / ${median(b).toFixed(3)}; B/A ${(best(b) / best(a)).toFixed(3)} (median ${(median(b) / median(a)).toFixed(3)})`,
  );
}
