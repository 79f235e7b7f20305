// HTTP/2 server throughput: our engine against Node's built-in http2 and
// nghttpd, each driven by h2load in the same run (rounds interleaved, the best
// round kept for each server), on a 1 KiB and a 100 KiB body served from memory.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, machine, ROOT, h2load as runH2load, startNghttpd, which } from './lib.mjs';

const ROUNDS = 3;
const LOADS = [
  { name: '1 KiB', path: '/1k', args: ['-n', '100000', '-c', '10', '-m', '10'] },
  { name: '100 KiB', path: '/100k', args: ['-n', '20000', '-c', '10', '-m', '10'] },
];

/** Starts `node bench/h2-server.mjs kind`; resolves with { port, child }. */
function startNode(kind) {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'h2-server.mjs'), kind], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /ready (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), child });
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

/** Resident set size of a server process: /proc on Linux, else asked over IPC (our node children only). */
function rssOf(child) {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
    if (kb) return Promise.resolve(Number(kb) * 1024);
  } catch {
    // not Linux
  }
  if (!child.connected) return Promise.resolve(null);
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m.rss));
    child.send('rss');
  });
}

/** h2serve --no-tls serving the htdocs files (port 0: it says which port it took). */
function startH2serve(htdocs) {
  const child = spawn(join(ROOT, 'bin', 'h2serve.js'), ['--no-tls', '-a', '127.0.0.1', '-d', htdocs, '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      const m = /listening on http:\/\/[^\s]*:(\d+)\//.exec(err);
      if (m) resolve({ port: Number(m[1]), child });
    });
    child.once('exit', (code) => reject(new Error(`h2serve exited with ${code}: ${err}`)));
  });
}

function h2load(bin, port, load) {
  return runH2load(bin, `http://127.0.0.1:${port}${load.path}`, load.args);
}

export async function run() {
  const H2LOAD = which('h2load');
  if (!H2LOAD) return '## HTTP/2 server\n\nNot measured: h2load is not installed (apt-get install nghttp2-client).';
  const NGHTTPD = which('nghttpd');
  const htdocs = mkdtempSync(join(tmpdir(), 'h2kit-bench-'));
  writeFileSync(join(htdocs, '1k'), Buffer.alloc(1024, 0x61));
  writeFileSync(join(htdocs, '100k'), Buffer.alloc(100 * 1024, 0x62));

  const servers = [
    { name: 'h2serve', ...(await startH2serve(htdocs)) },
    { name: 'h2kit', ...(await startNode('ours')) },
    { name: 'node:http2', ...(await startNode('node')) },
  ];
  if (NGHTTPD) servers.push({ name: 'nghttpd', ...(await startNghttpd(NGHTTPD, htdocs)) });

  const results = {}; // server -> load -> { best, runs[], failed }
  try {
    for (const s of servers) {
      // Warm up (JIT, connection setup paths).
      h2load(H2LOAD, s.port, { ...LOADS[0], args: ['-n', '20000', '-c', '10', '-m', '10'] });
      results[s.name] = {};
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const load of LOADS) {
        for (const s of servers) {
          process.stderr.write(`bench h2: round ${r + 1}/${ROUNDS} ${load.name} ${s.name}\n`);
          const res = h2load(H2LOAD, s.port, load);
          const cell = (results[s.name][load.name] ??= { runs: [], failed: 0, total: 0 });
          cell.runs.push(res.rps);
          cell.failed += res.failed + (res.total - res.succeeded - res.failed);
          cell.total += res.total;
        }
      }
    }
    for (const s of servers) s.rss = await rssOf(s.child);
  } finally {
    for (const s of servers) s.child.kill();
    rmSync(htdocs, { recursive: true, force: true });
  }

  const best = (name, load) => Math.max(...results[name][load].runs);
  const lines = [
    '## HTTP/2 server',
    '',
    `h2load against h2c servers: \`h2serve --no-tls\` serving the files of a temp htdocs (the static file server, with its cache, validators and headers), the bare engine with a one-line handler answering the same octets from memory (\`bench/h2-server.mjs ours\`, "h2kit"), a minimal server on Node's built-in \`http2\` answering them from memory (\`bench/h2-server.mjs node\`), and \`nghttpd --no-tls\` serving the same files. ${ROUNDS} rounds, the servers interleaved; the best round is reported (all rounds in brackets). Machine: ${machine()}.`,
    '',
    `| server | ${LOADS.map((l) => `${l.name}: req/s (h2load ${l.args.join(' ')})`).join(' | ')} | failed requests | RSS after the run |`,
    `|---|${LOADS.map(() => '---:').join('|')}|---:|---:|`,
  ];
  for (const s of servers) {
    const cells = LOADS.map((l) => `**${fmt(best(s.name, l.name), 0)}** (${results[s.name][l.name].runs.map((x) => fmt(x, 0)).join(', ')})`);
    const failed = LOADS.map((l) => results[s.name][l.name].failed).reduce((a, b) => a + b, 0);
    const total = LOADS.map((l) => results[s.name][l.name].total).reduce((a, b) => a + b, 0);
    lines.push(`| ${s.name} | ${cells.join(' | ')} | ${failed} of ${total} | ${s.rss ? `${fmt(s.rss / 2 ** 20, 1)} MiB` : 'n/a'} |`);
  }
  lines.push('');
  for (const l of LOADS) {
    const parts = [
      `h2serve / node:http2 **${fmt(best('h2serve', l.name) / best('node:http2', l.name), 2)}×**`,
      `h2kit / node:http2 ${fmt(best('h2kit', l.name) / best('node:http2', l.name), 2)}×`,
    ];
    if (results.nghttpd)
      parts.push(
        `h2kit / nghttpd ${fmt(best('h2kit', l.name) / best('nghttpd', l.name), 2)}×`,
        `nghttpd / node:http2 ${fmt(best('nghttpd', l.name) / best('node:http2', l.name), 2)}×`,
      );
    lines.push(`${l.name}: ${parts.join(', ')}.`);
  }
  if (!NGHTTPD) lines.push('', 'nghttpd: not measured (not installed).');
  lines.push('', 'Floors: h2serve / node:http2 at least 1.5× on 1 KiB and at least 1× on 100 KiB, no failed request. Command: `npm run bench -- h2`.');
  return lines.join('\n');
}
