// HTTP/2 client throughput and memory: our client (connect() in h2kit/h2)
// against Node's built-in http2 client and h2load, all fetching a 1 KiB file
// from the same `nghttpd --no-tls`, 10 sessions × 10 concurrent streams,
// rounds interleaved (ours, node:http2, h2load; best and median). Then the
// memory of 1,000 idle sessions, ours and Node's, interleaved too.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, machine, median, ROOT, startNghttpd, which } from './lib.mjs';

const ROUNDS = 5;
const N = 100_000;
const SESSIONS = 10;
const STREAMS = 10;
const IDLE_SESSIONS = 1000;
const IDLE_ROUNDS = 2;
const WORKER = join(ROOT, 'bench', 'h2client-worker.mjs');

/** One load run of our client or Node's in a fresh process: { rps, failed, cpu (µs per request) }. */
function runWorker(kind, url, n) {
  const out = execFileSync(process.execPath, [WORKER, 'load', kind, url, String(n), String(SESSIONS), String(STREAMS)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const r = JSON.parse(out.trim().split('\n').pop());
  return { rps: r.rps, failed: r.failed + (r.bytes === n * 1024 ? 0 : 1), cpu: r.cpuUs / n };
}

/** h2load -n N -c 10 -m 10 -t 1; its CPU time from the shell's `times` (children's user and system). */
function runH2load(bin, url, n) {
  const out = execFileSync('bash', ['-c', '"$0" "$@"; times', bin, '-n', String(n), '-c', String(SESSIONS), '-m', String(STREAMS), '-t', '1', url], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const rps = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
  const m = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  const times = [...out.matchAll(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/g)].pop();
  const cpuSeconds = times ? Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) : NaN;
  return { rps, failed: Number(m?.[1]) - Number(m?.[2]), cpu: (cpuSeconds * 1e6) / n };
}

function runIdle(kind, url) {
  const out = execFileSync(process.execPath, ['--expose-gc', WORKER, 'idle', kind, url, String(IDLE_SESSIONS)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop());
}

export async function run() {
  const H2LOAD = which('h2load');
  const NGHTTPD = which('nghttpd');
  if (!H2LOAD || !NGHTTPD) return '## HTTP/2 client\n\nNot measured: needs h2load and nghttpd (apt-get install nghttp2-client nghttp2-server).';
  const htdocs = mkdtempSync(join(tmpdir(), 'h2kit-bench-client-'));
  writeFileSync(join(htdocs, '1k'), Buffer.alloc(1024, 0x61));
  const server = await startNghttpd(NGHTTPD, htdocs);
  const url = `http://127.0.0.1:${server.port}/1k`;
  const clients = [
    { name: 'h2kit', run: () => runWorker('ours', url, N) },
    { name: 'node:http2', run: () => runWorker('node', url, N) },
    { name: 'h2load', run: () => runH2load(H2LOAD, url, N) },
  ];
  const results = Object.fromEntries(clients.map((c) => [c.name, { rps: [], cpu: [], failed: 0 }]));
  const idle = { ours: [], node: [] };
  try {
    // Warm up nghttpd and the page cache (not counted).
    runH2load(H2LOAD, url, 20_000);
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of clients) {
        process.stderr.write(`bench h2client: round ${r + 1}/${ROUNDS} ${c.name}\n`);
        const res = c.run();
        results[c.name].rps.push(res.rps);
        results[c.name].cpu.push(res.cpu);
        results[c.name].failed += res.failed;
      }
    }
    for (let r = 0; r < IDLE_ROUNDS; r++) {
      for (const kind of ['ours', 'node']) {
        process.stderr.write(`bench h2client: ${IDLE_SESSIONS} idle sessions, round ${r + 1}/${IDLE_ROUNDS} ${kind}\n`);
        idle[kind].push(runIdle(kind, url));
      }
    }
  } finally {
    server.child.kill();
    rmSync(htdocs, { recursive: true, force: true });
  }

  const best = (name) => Math.max(...results[name].rps);
  const med = (name) => median(results[name].rps);
  const lines = [
    '## HTTP/2 client',
    '',
    `GETs of a 1 KiB file from \`nghttpd --no-tls\` (one worker), ${SESSIONS} sessions × ${STREAMS} concurrent streams, ${N.toLocaleString('en')} requests a run: our client (\`connect()\`, \`bench/h2client-worker.mjs\`: one request after another on each stream, \`await res.bytes()\`), Node's built-in \`http2\` client doing the same, and \`h2load -n ${N} -c ${SESSIONS} -m ${STREAMS} -t 1\`. ${ROUNDS} rounds, the clients interleaved; best and median req/s (all rounds in brackets), and the client's CPU time per request (median; user + system, the whole process). Machine: ${machine()}.`,
    '',
    '| client | best req/s | median req/s | rounds | CPU µs / request | failed requests |',
    '|---|---:|---:|---|---:|---:|',
  ];
  for (const c of clients) {
    const x = results[c.name];
    lines.push(
      `| ${c.name} | **${fmt(best(c.name), 0)}** | ${fmt(med(c.name), 0)} | ${x.rps.map((v) => fmt(v, 0)).join(', ')} | ${fmt(median(x.cpu), 1)} | ${x.failed} of ${N * ROUNDS} |`,
    );
  }
  const ratio = (a, b) => `${fmt(best(a) / best(b), 2)}× best, ${fmt(med(a) / med(b), 2)}× median`;
  lines.push(
    '',
    `h2kit / node:http2: **${ratio('h2kit', 'node:http2')}** (floor 1.5×). h2kit / h2load: **${ratio('h2kit', 'h2load')}** (floor 0.5×). CPU per request, h2kit / h2load: ${fmt(median(results.h2kit.cpu) / median(results.h2load.cpu), 1)}×; h2kit / node:http2: ${fmt(median(results.h2kit.cpu) / median(results['node:http2'].cpu), 2)}×.`,
  );
  // Paired within each round (the clients ran back to back): how the ratio moves with the machine's drift.
  const paired = (a, b) => results[a].rps.map((x, i) => fmt(x / results[b].rps[i], 2)).join(', ');
  lines.push('', `Per round, h2kit / h2load: ${paired('h2kit', 'h2load')}; h2kit / node:http2: ${paired('h2kit', 'node:http2')}.`);
  const perSession = (list, key) => median(list.map((m) => m[key] / m.sessions));
  lines.push(
    '',
    `Memory of ${IDLE_SESSIONS.toLocaleString('en')} idle sessions (connected, SETTINGS exchanged, one PING answered, then 1.5 s idle and a full GC; growth of the client process over one warm session; median of ${IDLE_ROUNDS} rounds, interleaved):`,
    '',
    '| client | RSS / session | JS heap / session | external + ArrayBuffers / session |',
    '|---|---:|---:|---:|',
    `| h2kit | **${fmt(perSession(idle.ours, 'rss') / 1024, 1)} KiB** | ${fmt(perSession(idle.ours, 'heap') / 1024, 1)} KiB | ${fmt(perSession(idle.ours, 'external') / 1024, 1)} KiB |`,
    `| node:http2 | ${fmt(perSession(idle.node, 'rss') / 1024, 1)} KiB | ${fmt(perSession(idle.node, 'heap') / 1024, 1)} KiB | ${fmt(perSession(idle.node, 'external') / 1024, 1)} KiB |`,
    '',
    `RSS per idle session, h2kit / node:http2: ${fmt(perSession(idle.ours, 'rss') / perSession(idle.node, 'rss'), 2)}×. Command: \`npm run bench -- h2client\`.`,
  );
  return lines.join('\n');
}
