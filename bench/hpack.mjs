// HPACK engine throughput against nghttp2 (shared/tools/hdoracle.c on
// libnghttp2) and hpack.js, in the same run, on two corpora:
//  - hpack-test-case: all raw-data stories concatenated (3,384 header sets
//    sharing one context, 4 KiB table);
//  - generated: a seeded, deterministic web session (generatedCorpus() below),
//    requests in one context and responses in another, 64 KiB tables
//    (SETTINGS_HEADER_TABLE_SIZE 65536 on both sides), long cookies, UTF-8
//    values, many distinct paths, and blocks that evict constantly.
import { execFileSync, fork } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deflater, Inflater } from '../dist/index.js';
import { corpusCases, fmt, hdoracle, machine, median, ROOT, WORK } from './lib.mjs';

const RUNS = 9; // interleaved rounds of timings; best and median kept, for every implementation

// ---- the generated corpus ----------------------------------------------------

/** A small seeded PRNG (mulberry32): the corpus is the same on every machine and run. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (xs) => xs[int(xs.length)];
  const chars = (alphabet, n) => {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[int(alphabet.length)];
    return s;
  };
  return { next, int, pick, chars };
}

const HEX = '0123456789abcdef';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const HOSTS = [
  'www.example.com',
  'static.example.com',
  'api.example.com',
  'img.cdn-example.net',
  'shop.example.org',
  'news.example.de',
  'accounts.example.com',
  'video.example.jp',
  'search.example.fr',
  'maps.example.es',
];
const WORDS = [
  'products',
  'category',
  'search',
  'user',
  'account',
  'settings',
  'article',
  'news',
  'images',
  'assets',
  'v2',
  'api',
  'orders',
  'cart',
  'checkout',
  'blog',
  'tags',
  'media',
  'thumbnails',
  'comments',
  'reviews',
  'feed',
  'static',
  'js',
  'css',
  'fonts',
];
const EXT = ['', '', '', '.html', '.js', '.css', '.png', '.jpg', '.webp', '.json', '.svg', '.woff2'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'curl/8.7.1',
];
const LANGS = [
  'en-US,en;q=0.9',
  'de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7',
  'fr-FR,fr;q=0.9,en;q=0.5',
  'ja-JP,ja;q=0.9,en-US;q=0.6',
  'es-ES,es;q=0.8,en-US;q=0.5,en;q=0.3',
];
// UTF-8 text as real services put it in headers: names, search terms, file names.
const UTF8 = [
  'Zoë Müller',
  'François Lefèvre',
  'Łukasz Wróbel',
  '山田 太郎',
  'Søren Kierkegård',
  'Ελένη Παπαδοπούλου',
  'Иван Петров',
  'José Núñez',
  '김민준',
  'Ærøskøbing',
  'Grüße aus Köln',
  '東京都渋谷区',
  'café crème',
  'naïve résumé',
  '🚀 launch',
];
const TYPES = [
  { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8', type: 'text/html; charset=utf-8' },
  { accept: 'application/json, text/plain, */*', type: 'application/json; charset=utf-8' },
  { accept: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', type: 'image/webp' },
  { accept: 'text/css,*/*;q=0.1', type: 'text/css; charset=utf-8' },
  { accept: '*/*', type: 'application/javascript; charset=utf-8' },
];

/**
 * A web session of `n` exchanges: { requests, responses }, each a list of
 * header sets ([name, value] text pairs). Seeded, so identical every run.
 * Many clients with long cookies, some of whose parts change on every
 * request; unique ids in every block; with 64 KiB tables the tables fill
 * within the first hundred blocks and every block after evicts.
 */
export function generatedCorpus(n = 1500, seed = 0x68326b74) {
  const r = prng(seed);
  const clients = Array.from({ length: 24 }, () => ({
    agent: r.pick(AGENTS),
    lang: r.pick(LANGS),
    name: r.pick(UTF8),
    // Long-lived cookies (analytics, consent, preferences) and a session.
    cookies: Array.from(
      { length: 3 + r.int(8) },
      (_, i) =>
        `${r.pick(['_ga', '_gid', 'consent', 'prefs', 'ab_test', 'sid', 'csrftoken', '__Host-token', 'cart', 'recently_viewed'])}${i}=${r.chars(B64, 16 + r.int(120))}`,
    ),
    host: r.pick(HOSTS),
    token: r.next() < 0.3 ? `Bearer ${r.chars(B64, 180)}` : null,
  }));
  const requests = [];
  const responses = [];
  let clock = Date.UTC(2024, 4, 6, 8, 0, 0);
  const httpDate = (ms) => new Date(ms).toUTCString();
  for (let i = 0; i < n; i++) {
    const c = r.pick(clients);
    if (r.next() < 0.25) c.host = r.pick(HOSTS);
    const kind = r.pick(TYPES);
    const depth = 1 + r.int(4);
    let path = '';
    for (let k = 0; k < depth; k++) path += `/${r.next() < 0.3 ? r.chars(HEX, 6 + r.int(10)) : r.pick(WORDS)}`;
    path += r.pick(EXT);
    if (r.next() < 0.4) path += `?q=${encodeURIComponent(r.pick(UTF8))}&page=${r.int(50)}&utm_source=${r.pick(WORDS)}`;
    const post = r.next() < 0.12;
    // One changing cookie part per request (a rotating token, a timestamp).
    c.cookies[r.int(c.cookies.length)] = `_rt=${r.chars(B64, 24 + r.int(40))}.${clock}`;
    const req = [
      [':method', post ? 'POST' : 'GET'],
      [':scheme', 'https'],
      [':authority', c.host],
      [':path', path],
      ['user-agent', c.agent],
      ['accept', kind.accept],
      ['accept-encoding', 'gzip, deflate, br, zstd'],
      ['accept-language', c.lang],
      ['cookie', c.cookies.join('; ')],
    ];
    if (r.next() < 0.7) req.push(['referer', `https://${c.host}/${r.pick(WORDS)}/${r.pick(WORDS)}`]);
    req.push(['x-request-id', `${r.chars(HEX, 8)}-${r.chars(HEX, 4)}-4${r.chars(HEX, 3)}-${r.chars(HEX, 4)}-${r.chars(HEX, 12)}`]);
    if (c.token) req.push(['authorization', c.token]);
    if (r.next() < 0.3) req.push(['x-user-name', c.name]);
    if (r.next() < 0.2) req.push(['if-none-match', `W/"${r.chars(HEX, 16)}"`]);
    if (post)
      req.push(
        ['content-type', 'application/x-www-form-urlencoded; charset=utf-8'],
        ['content-length', String(20 + r.int(5000))],
        ['origin', `https://${c.host}`],
      );
    requests.push(req);

    clock += r.int(1500);
    const status = r.next() < 0.72 ? '200' : r.pick(['304', '404', '302', '301', '500', '206', '204']);
    const res = [
      [':status', status],
      ['date', httpDate(clock)],
      ['server', r.next() < 0.5 ? 'nginx/1.25.3' : 'h2kit'],
      ['content-type', kind.type],
      ['content-length', String(r.int(200000))],
      ['cache-control', r.pick(['no-cache', 'private, max-age=0', 'public, max-age=31536000, immutable', 'max-age=600', 'no-store'])],
      ['etag', `"${r.chars(HEX, 24)}"`],
      ['last-modified', httpDate(clock - r.int(1e10))],
      ['vary', 'Accept-Encoding'],
      ['x-trace-id', r.chars(HEX, 32)],
      ['strict-transport-security', 'max-age=63072000; includeSubDomains; preload'],
    ];
    if (status === '301' || status === '302') res.push(['location', `https://${r.pick(HOSTS)}${path}`]);
    if (r.next() < 0.35) res.push(['set-cookie', `_rt=${r.chars(B64, 40 + r.int(200))}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${r.int(1e6)}`]);
    if (r.next() < 0.15) res.push(['content-disposition', `attachment; filename="${r.pick(UTF8)} ${r.int(1000)}.pdf"`]);
    if (r.next() < 0.25) res.push(['x-greeting', `${r.pick(UTF8)}, ${r.pick(UTF8)}`]);
    if (kind.type.startsWith('text/html'))
      res.push(['link', `</static/${r.chars(HEX, 8)}.css>; rel=preload; as=style, </static/${r.chars(HEX, 8)}.js>; rel=preload; as=script`]);
    if (r.next() < 0.5) res.push(['access-control-allow-origin', `https://${r.pick(HOSTS)}`]);
    responses.push(res);
  }
  return { requests, responses };
}

// ---- timing ----------------------------------------------------------------

// Every timing is taken two ways: wall-clock time, and the CPU time of the
// process doing the work (user + system), which is what a loaded machine
// disturbs least (time spent waiting for a core is not counted).
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1e3;
};
const time = (fn) => {
  const c = cpuNow();
  const t = process.hrtime.bigint();
  fn();
  return { wall: Number(process.hrtime.bigint() - t), cpu: cpuNow() - c };
};

/**
 * hdoracle built so that its own timing reads the process's CPU-time clock:
 * clock_gettime(CLOCK_MONOTONIC) is wrapped at link time
 * (-Wl,--wrap=clock_gettime) by a two-line shim; hdoracle.c is unchanged.
 */
function hdoracleCpu() {
  const bin = join(WORK, 'hdoracle-cpu');
  if (existsSync(bin)) return bin;
  const shim = join(WORK, 'cpu-clock.c');
  writeFileSync(
    shim,
    [
      '#include <time.h>',
      'int __real_clock_gettime(clockid_t, struct timespec *);',
      'int __wrap_clock_gettime(clockid_t c, struct timespec *t) { return __real_clock_gettime(c == CLOCK_MONOTONIC ? CLOCK_PROCESS_CPUTIME_ID : c, t); }',
      '',
    ].join('\n'),
  );
  try {
    execFileSync('cc', ['-O2', join(ROOT, '..', 'shared', 'tools', 'hdoracle.c'), shim, '-o', bin, '-Wl,--wrap=clock_gettime', '-lnghttp2', '-ljansson'], {
      stdio: 'pipe',
    });
    return bin;
  } catch {
    return null;
  }
}

/**
 * A story of one compression context: its header sets, our wire for them,
 * and the table size on both sides (null: the default 4096).
 */
function story(sets, tableSize) {
  // The deflater answers a frozen list of frozen pairs from a memo while its table is unchanged
  // (a server's cached response headers); the corpora must measure encoding, so no list is frozen.
  if (sets.some((s) => Object.isFrozen(s))) throw new Error('hpack bench: a header list is frozen; the deflater memo would answer it');
  const d = newDeflater(tableSize);
  const wires = sets.map((s) => d.deflate(s).slice());
  let bytes = 0;
  for (const s of sets) for (const [n, v] of s) bytes += Buffer.byteLength(n) + Buffer.byteLength(v);
  return { sets, wires, tableSize, bytes };
}

/** As deflatehd -s N -S N: the encoder's limit N, and SETTINGS_HEADER_TABLE_SIZE N before the first block. */
function newDeflater(tableSize) {
  if (tableSize === null) return new Deflater();
  const d = new Deflater(tableSize);
  d.changeTableSize(tableSize);
  return d;
}
const newInflater = (tableSize) => (tableSize === null ? new Inflater() : new Inflater({ maxTableSize: tableSize }));

const toJsonCases = (st, withWire) =>
  st.sets.map((s, i) => ({
    headers: s.map(([n, v]) => ({ [n]: v })),
    ...(withWire ? { wire: Buffer.from(st.wires[i]).toString('hex') } : {}),
  }));

/** hdoracle's options for a story's table size. */
const sizeArgs = (st, dir) => (st.tableSize === null ? '' : dir === 'deflate' ? ` -s ${st.tableSize} -S ${st.tableSize}` : ` -s ${st.tableSize}`);

/** Checks that nghttp2 encodes a story to the octets we do (one pass, outside the timings). */
function checkIdentical(oracle, st, file, label) {
  const out = execFileSync('sh', ['-c', `"${oracle}" deflate${sizeArgs(st, 'deflate')} < "${file}"`], { maxBuffer: 1 << 30 }).toString();
  const lines = out.trim().split('\n');
  if (lines.length !== st.wires.length) throw new Error(`${label}: nghttp2 encoded ${lines.length} blocks, we ${st.wires.length}`);
  lines.forEach((line, i) => {
    const ours = Buffer.from(st.wires[i]).toString('hex');
    if (JSON.parse(line).wire !== ours) throw new Error(`${label}: block ${i} differs from nghttp2's`);
  });
}

/**
 * The corpora, built the same way (deterministically) in the parent and in every worker; `key`
 * builds only that one, so that a worker's engine never sees the other corpus.
 */
function buildCorpora(key) {
  const all = [
    {
      key: 'htc',
      title: 'hpack-test-case',
      rounds: 20,
      stories: () => [
        story(
          corpusCases().map((c) => c.headers.map((h) => Object.entries(h)[0])),
          null,
        ),
      ],
    },
    {
      key: 'gen',
      title: 'generated',
      rounds: 10,
      stories: () => {
        const gen = generatedCorpus();
        return [story(gen.requests, 65536), story(gen.responses, 65536)];
      },
    },
  ];
  return all.filter((c) => key === undefined || c.key === key).map((c) => ({ ...c, stories: c.stories() }));
}

/** The timed loops of one implementation ('ours' or 'hjs') on one corpus: { deflate, inflate } -> { wall, cpu }. */
function timers(c, impl) {
  const R = c.rounds;
  if (impl === 'ours') {
    return {
      deflate: () =>
        time(() => {
          for (const st of c.stories)
            for (let r = 0; r < R; r++) {
              const d = newDeflater(st.tableSize);
              for (const s of st.sets) d.deflate(s);
            }
        }),
      inflate: () =>
        time(() => {
          for (const st of c.stories)
            for (let r = 0; r < R; r++) {
              const f = newInflater(st.tableSize);
              for (const w of st.wires) f.inflate(w);
            }
        }),
    };
  }
  // hpack.js on the first corpus only: it is far behind, and its table sizes are set differently.
  const hpack = createRequire(import.meta.url)('hpack.js');
  const st = c.stories[0];
  const hsets = st.sets.map((s) => s.map(([name, value]) => ({ name, value })));
  return {
    deflate: () =>
      time(() => {
        for (let r = 0; r < R; r++) {
          const cmp = hpack.compressor.create({ table: { size: 4096 } });
          for (const s of hsets) {
            cmp.write(s);
            cmp.read();
          }
        }
      }),
    inflate: () =>
      time(() => {
        for (let r = 0; r < R; r++) {
          const dc = hpack.decompressor.create({ table: { size: 4096 } });
          for (const w of st.wires) {
            dc.write(Buffer.from(w.buffer, w.byteOffset, w.byteLength));
            dc.execute();
            while (dc.read());
          }
        }
      }),
  };
}

/**
 * A worker process timing one implementation on one corpus, on request. Each JavaScript
 * implementation is timed in a process of its own, as each nghttp2 timing is (hdoracle): run in
 * one process, the other library's garbage and the other corpus's code shapes slowed our loops by
 * 5-10% (bench/hpack.mjs's history, 2026-11-29).
 */
function worker(key, impl) {
  const child = fork(fileURLToPath(import.meta.url), ['--worker', key, impl], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = [];
  let failure = null;
  child.on('message', (m) => waiting.shift()?.resolve(m));
  child.on('exit', (code, signal) => {
    failure = new Error(`hpack bench worker ${key}/${impl} ended (${signal ?? code})`);
    for (const w of waiting.splice(0)) w.reject(failure);
  });
  const ask = (what) =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      waiting.push({ resolve, reject });
      child.send(what);
    });
  return ask('ready').then(() => ({ ask, stop: () => child.disconnect() }));
}

if (process.argv[2] === '--worker') {
  const [key, impl] = process.argv.slice(3);
  const [c] = buildCorpora(key);
  const t = timers(c, impl);
  t.deflate(); // warm-up
  t.inflate();
  process.on('message', (dir) => process.send(dir === 'ready' ? 'ready' : t[dir]()));
}

export async function run() {
  const corpora = buildCorpora();
  const oracle = hdoracle();
  const oracleCpu = oracle ? hdoracleCpu() : null;
  const loadBefore = loadavg()[0];
  const impls = {}; // impls[corpus][impl][dir]() -> (a promise of) ns for `rounds` passes
  const workers = [];
  for (const c of corpora) {
    const R = c.rounds;
    impls[c.key] = {};
    for (const impl of c.key === 'htc' ? ['ours', 'hjs'] : ['ours']) {
      const w = await worker(c.key, impl);
      workers.push(w);
      impls[c.key][impl] = { deflate: () => w.ask('deflate'), inflate: () => w.ask('inflate') };
    }
    if (oracle) {
      const files = c.stories.map((st, i) => {
        const plain = join(WORK, `hpack-${c.key}-${i}.json`);
        const withWire = join(WORK, `hpack-${c.key}-${i}-wire.json`);
        writeFileSync(plain, JSON.stringify({ cases: toJsonCases(st, false) }));
        writeFileSync(withWire, JSON.stringify({ cases: toJsonCases(st, true) }));
        checkIdentical(oracle, st, plain, `${c.title} story ${i}`);
        return { plain, withWire };
      });
      // hdoracle times its own loop (after reading its input) and prints nanoseconds per header set:
      // wall-clock time, and from the CPU-clock build, CPU time.
      const ng = (dir) => () => {
        const t = { wall: 0, cpu: 0 };
        c.stories.forEach((st, i) => {
          const file = dir === 'deflate' ? files[i].plain : files[i].withWire;
          for (const [k, bin] of [
            ['wall', oracle],
            ['cpu', oracleCpu],
          ]) {
            if (!bin) continue;
            const out = execFileSync('sh', ['-c', `"${bin}" bench-${dir} ${R}${sizeArgs(st, dir)} < "${file}"`]).toString();
            t[k] += Number(/ns_per_set=([\d.]+)/.exec(out)[1]) * st.sets.length * R;
          }
        });
        if (!oracleCpu) t.cpu = NaN;
        return t;
      };
      impls[c.key].ng = { deflate: ng('deflate'), inflate: ng('inflate') };
    }
  }

  // One timing of each implementation per round, interleaved, so that all of them see the same
  // machine (this VM's speed drifts, by up to 3x over minutes); best and median over the rounds.
  const samples = {};
  for (const c of corpora) {
    samples[c.key] = {};
    for (const k of Object.keys(impls[c.key])) samples[c.key][k] = { deflate: [], inflate: [] };
  }
  for (let i = 0; i < RUNS; i++) {
    for (const c of corpora) {
      for (const dir of ['deflate', 'inflate']) for (const k of Object.keys(impls[c.key])) samples[c.key][k][dir].push(await impls[c.key][k][dir]());
    }
  }
  for (const w of workers) w.stop();
  const loadAfter = loadavg()[0];

  const lines = ['## HPACK engine', '', 'Two corpora, each timed for every implementation in every round:', ''];
  const sums = [];
  for (const c of corpora) {
    const sets = c.stories.reduce((a, st) => a + st.sets.length, 0);
    const bytes = c.stories.reduce((a, st) => a + st.bytes, 0);
    const perPass = (ns) => ({ mbps: ((bytes * c.rounds) / ns) * 1e3, setsps: ((sets * c.rounds) / ns) * 1e9 });
    // Per clock and direction: the best timing's throughput and the median's.
    const summary = (k) =>
      Object.fromEntries(
        ['wall', 'cpu'].map((clock) => [
          clock,
          Object.fromEntries(
            ['deflate', 'inflate'].map((dir) => {
              const xs = samples[c.key][k][dir].map((t) => t[clock]);
              return [dir, { ...perPass(Math.min(...xs)), medianMbps: perPass(median(xs)).mbps }];
            }),
          ),
        ]),
      );
    const s = Object.fromEntries(Object.keys(impls[c.key]).map((k) => [k, summary(k)]));
    sums.push({ c, s, sets, bytes });
  }
  const [htc, gen2] = sums;
  lines.push(
    `- **hpack-test-case**: its 32 raw-data stories concatenated, ${htc.sets} header sets in one compression context (4 KiB table), ${(htc.bytes / 1e6).toFixed(2)} MB of name and value octets per pass, ${htc.c.rounds} passes per timing.`,
    `- **generated** (\`generatedCorpus()\` in \`bench/hpack.mjs\`, seeded): a web session of ${gen2.sets / 2} requests (one context) and their ${gen2.sets / 2} responses (another), tables of 64 KiB on both sides (deflatehd/hdoracle \`-s 65536 -S 65536\`): 24 clients with long cookies of which one part changes on every request, UTF-8 names and file names, many distinct paths, a unique id in every block, so that after the first blocks every block evicts; ${(gen2.bytes / 1e6).toFixed(2)} MB per pass, ${gen2.c.rounds} passes per timing.`,
    '',
    `${RUNS} rounds. Each timing is taken twice over: wall-clock time, and CPU time (user + system of the process doing the work: ours from \`process.cpuUsage()\`, nghttp2's from a build of hdoracle whose clock is the process's CPU-time clock). Each JavaScript implementation runs in a process of its own per corpus, warmed up once and asked for each timing, as every nghttp2 timing is an hdoracle process of its own: in one shared process, hpack.js's garbage and the other corpus's shapes cost our loops 5-10%. On this shared machine the wall clock also counts the time spent waiting for a core, so the CPU-time ratios are the steadier ones. The tables show the best timing's throughput; ratios are of the best timings, with the ratio of the medians in brackets. ${oracle ? "nghttp2's encoding of both corpora was checked to be byte-identical with ours in this run. " : ''}Load average (1 min, 2 cores shared with other work): ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after. Machine: ${machine()}.`,
    '',
    '| corpus | implementation | deflate MB/s (CPU time) | deflate sets/s (CPU time) | inflate MB/s (CPU time) | inflate sets/s (CPU time) | deflate MB/s (wall) | inflate MB/s (wall) |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  );
  const names = { ours: 'h2kit (this run)', ng: 'nghttp2 (libnghttp2, hdoracle)', hjs: 'hpack.js 2.1.6' };
  for (const { c, s } of sums) {
    for (const k of ['ours', 'ng', 'hjs']) {
      const r = s[k];
      if (!r) {
        if (k === 'ng') lines.push(`| ${c.title} | nghttp2: not measured (needs ../shared/tools/hdoracle.c, cc, libnghttp2-dev, libjansson-dev) | | | | | | |`);
        continue;
      }
      const u = r.cpu;
      const w = r.wall;
      lines.push(
        `| ${c.title} | ${names[k]} | ${fmt(u.deflate.mbps)} | ${fmt(u.deflate.setsps / 1e3, 0)}k | ${fmt(u.inflate.mbps)} | ${fmt(u.inflate.setsps / 1e3, 0)}k | ${fmt(w.deflate.mbps)} | ${fmt(w.inflate.mbps)} |`,
      );
    }
  }
  const ratio = (a, b) => fmt(a / b, 2);
  const ratios = (a, b, clock, dir) => `**${ratio(a[clock][dir].mbps, b[clock][dir].mbps)}×** (${ratio(a[clock][dir].medianMbps, b[clock][dir].medianMbps)}×)`;
  lines.push('', 'h2kit / nghttp2 (floor 0.9×, aim 1.0×):', '');
  for (const { c, s } of sums) {
    if (!s.ng) {
      lines.push(`- ${c.title}: not measured.`);
      continue;
    }
    lines.push(
      `- ${c.title}: deflate ${ratios(s.ours, s.ng, 'cpu', 'deflate')} CPU time, ${ratios(s.ours, s.ng, 'wall', 'deflate')} wall clock; inflate ${ratios(s.ours, s.ng, 'cpu', 'inflate')} CPU time, ${ratios(s.ours, s.ng, 'wall', 'inflate')} wall clock.`,
    );
  }
  lines.push(
    '',
    `h2kit / hpack.js on hpack-test-case (floor 4×): deflate ${ratios(htc.s.ours, htc.s.hjs, 'cpu', 'deflate')}, inflate ${ratios(htc.s.ours, htc.s.hjs, 'cpu', 'inflate')} CPU time.`,
  );
  lines.push(
    '',
    "Command: `npm run bench -- hpack`. Deflate is `Deflater.deflate()` on [name, value] text pairs; inflate is `Inflater.inflate()` (UTF-8 text out) on nghttp2's encoding of the corpus (ours is byte-identical). nghttp2's figures are hdoracle's own timing of its loop (`bench-deflate`/`bench-inflate`), input already parsed, as ours.",
  );
  return lines.join('\n');
}
