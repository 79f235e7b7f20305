// HPACK engine throughput on the benchmark corpus (all raw-data stories
// concatenated, 3,384 header sets sharing one context), against nghttp2
// (shared/tools/hdoracle.c on libnghttp2) and hpack.js, in the same run.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Deflater, Inflater } from '../dist/index.js';
import { corpusCases, fmt, hdoracle, machine, median, WORK } from './lib.mjs';


const ROUNDS = 20; // passes over the corpus per timing, as `hdoracle bench-* 20`
const RUNS = 9; // interleaved rounds of timings; best and median kept, for every implementation

export async function run() {
  const cases = corpusCases();
  const sets = cases.map((c) => c.headers.map((h) => Object.entries(h)[0]));
  let bytes = 0;
  for (const s of sets) for (const [n, v] of s) bytes += Buffer.byteLength(n) + Buffer.byteLength(v);
  const d0 = new Deflater();
  const wires = sets.map((s) => d0.deflate(s).slice());
  const perPass = (ns) => ({ mbps: (bytes * ROUNDS) / ns * 1e3, setsps: (sets.length * ROUNDS) / ns * 1e9 });

  // One timing of each implementation per round, interleaved, so that all of them see the same
  // machine (this VM's speed drifts, by up to 3x over minutes); best and median over the rounds.
  const hpack = createRequire(import.meta.url)('hpack.js');
  const hsets = sets.map((s) => s.map(([name, value]) => ({ name, value })));
  const time = (fn) => {
    const t = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t);
  };
  const impls = {
    ours: {
      deflate: () => time(() => { for (let r = 0; r < ROUNDS; r++) { const d = new Deflater(); for (const s of sets) d.deflate(s); } }),
      inflate: () => time(() => { for (let r = 0; r < ROUNDS; r++) { const f = new Inflater(); for (const w of wires) f.inflate(w); } }),
    },
    hjs: {
      deflate: () => time(() => {
        for (let r = 0; r < ROUNDS; r++) {
          const c = hpack.compressor.create({ table: { size: 4096 } });
          for (const s of hsets) { c.write(s); c.read(); }
        }
      }),
      inflate: () => time(() => {
        for (let r = 0; r < ROUNDS; r++) {
          const dc = hpack.decompressor.create({ table: { size: 4096 } });
          for (const w of wires) { dc.write(Buffer.from(w.buffer, w.byteOffset, w.byteLength)); dc.execute(); while (dc.read()); }
        }
      }),
    },
  };
  const oracle = hdoracle();
  if (oracle) {
    const plain = join(WORK, 'corpus.json');
    const withWire = join(WORK, 'corpus-wire.json');
    writeFileSync(plain, JSON.stringify({ cases }));
    writeFileSync(withWire, JSON.stringify({ cases: cases.map((c, i) => ({ ...c, wire: Buffer.from(wires[i]).toString('hex') })) }));
    // hdoracle times its own loop (after reading its input) and prints nanoseconds per header set.
    const run = (mode, file) => () => {
      const out = execFileSync('sh', ['-c', `"${oracle}" ${mode} ${ROUNDS} < "${file}"`]).toString();
      return Number(/ns_per_set=([\d.]+)/.exec(out)[1]) * sets.length * ROUNDS;
    };
    impls.ng = { deflate: run('bench-deflate', plain), inflate: run('bench-inflate', withWire) };
  }
  const samples = Object.fromEntries(Object.keys(impls).map((k) => [k, { deflate: [], inflate: [] }]));
  for (const dir of ['deflate', 'inflate']) impls.ours[dir](); // warm-up
  for (let i = 0; i < RUNS; i++) {
    for (const dir of ['deflate', 'inflate']) for (const k of Object.keys(impls)) samples[k][dir].push(impls[k][dir]());
  }
  const summary = (k) => Object.fromEntries(['deflate', 'inflate'].map((dir) => {
    const xs = samples[k][dir];
    return [dir, { ...perPass(Math.min(...xs)), medianMbps: perPass(median(xs)).mbps }];
  }));
  const ours = summary('ours');
  const hjs = summary('hjs');
  const ng = impls.ng ? summary('ng') : null;

  const row = (name, r) => `| ${name} | ${fmt(r.deflate.mbps)} | ${fmt(r.deflate.setsps / 1e3, 0)}k | ${fmt(r.inflate.mbps)} | ${fmt(r.inflate.setsps / 1e3, 0)}k |`;
  const ratio = (a, b) => fmt(a / b, 2);
  const ratios = (a, b, dir) => `**${ratio(a[dir].mbps, b[dir].mbps)}×** (${ratio(a[dir].medianMbps, b[dir].medianMbps)}×)`;
  const lines = [
    '## HPACK engine',
    '',
    `Corpus: the 32 raw-data stories of hpack-test-case concatenated, ${sets.length} header sets in one compression context, ${(bytes / 1e6).toFixed(2)} MB of name and value octets per pass; ${ROUNDS} passes per timing; ${RUNS} rounds, each timing every implementation once (interleaved, as this VM's speed drifts); the table shows the best timing, the ratios are of the best timings with the ratio of the medians in brackets. Machine: ${machine()}.`,
    '',
    '| implementation | deflate MB/s | deflate sets/s | inflate MB/s | inflate sets/s |',
    '|---|---:|---:|---:|---:|',
    row('h2kit (this run)', ours),
    ng ? row('nghttp2 (libnghttp2, hdoracle)', ng) : '| nghttp2 | not measured (needs ../shared/tools/hdoracle.c, cc, libnghttp2-dev, libjansson-dev) | | | |',
    row('hpack.js 2.1.6', hjs),
    '',
    ng ? `h2kit / nghttp2: deflate ${ratios(ours, ng, 'deflate')}, inflate ${ratios(ours, ng, 'inflate')} (floor 0.5×).` : 'h2kit / nghttp2: not measured.',
    `h2kit / hpack.js: deflate ${ratios(ours, hjs, 'deflate')}, inflate ${ratios(ours, hjs, 'inflate')} (floor 4×).`,
    '',
    'Command: `npm run bench -- hpack`. Inflate is `Inflater.inflate()` (UTF-8 text out); the wire is nghttp2\'s encoding of the corpus (ours is byte-identical).',
  ];
  return lines.join('\n');
}
