// h2bench against h2load, in the same run: both load the same nghttpd
// (--no-tls, and TLS with one openssl key and certificate) serving a 1 KiB
// file, with the same -n 100000 -c 10 -m 10, with -t 1 and -t 2. Rounds
// are interleaved (the order of the two tools alternates); the best and the
// median round of each cell are reported, and the ratios of both. Then the
// same against h2serve (h2c, one worker): whether h2bench saturates it as
// h2load does.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, fmt, freePort, machine, median, ROOT, which } from './lib.mjs';

/** GNU time, to read each run's CPU time (user + system): steadier than wall time on a shared machine. */
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

const ROUNDS = 7;
const ARGS = ['-n', '100000', '-c', '10', '-m', '10'];
const WARM_UP = ['-n', '20000', '-c', '10', '-m', '10'];
const THREADS = [1, 2];
const FLOORS = { 1: 0.5, 2: 0.8 };

/** Runs h2load or h2bench; returns req/s and the request counts of its summary (the same patterns for both). */
function load(argv, args, url) {
  const cmd = TIME ? [TIME, '-f', 'cpu %U %S', ...argv] : argv;
  const r = spawnSync(cmd[0], [...cmd.slice(1), ...args, url], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  const out = r.stdout;
  const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  const rps = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
  const m = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  return { rps, total: Number(m?.[1]), succeeded: Number(m?.[2]), failed: Number(m?.[3]) + Number(m?.[4]), cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN };
}

async function startNghttpd(bin, args, port) {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`nghttpd exited before listening: ${err.trim()}`);
    if (await accepts(port)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`nghttpd did not start: ${err.trim()}`);
}

export async function run() {
  const H2LOAD = which('h2load');
  const NGHTTPD = which('nghttpd');
  const OPENSSL = which('openssl');
  if (!H2LOAD || !NGHTTPD) return '## h2bench against h2load\n\nNot measured: h2load and nghttpd are needed (apt-get install nghttp2-client nghttp2-server).';
  const dir = mkdtempSync(join(tmpdir(), 'h2kit-bench-h2bench-'));
  const htdocs = join(dir, 'htdocs');
  execFileSync('mkdir', [htdocs]);
  writeFileSync(join(htdocs, '1k'), execFileSync('head', ['-c', '1024', '/dev/urandom']));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const transports = OPENSSL ? ['h2c', 'TLS'] : ['h2c'];
  if (OPENSSL)
    execFileSync(
      OPENSSL,
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'],
      { stdio: 'ignore' },
    );
  const h2loadVersion = execFileSync(H2LOAD, ['--version'], { encoding: 'utf8' }).trim();
  const tools = { h2bench: [process.execPath, join(ROOT, 'bin', 'h2bench.js')], h2load: [H2LOAD] };
  const servers = [];
  const cells = {};
  const cellKey = (s, t, tool) => `${s.server ?? 'nghttpd'} ${s.transport} ${t} ${tool}`;
  const loadBefore = loadavg()[0];
  let loadAfter = NaN;
  try {
    for (const transport of transports) {
      const port = await freePort();
      // Two nghttpd threads: the server is not what bounds the run.
      const args = ['-a', '127.0.0.1', '-d', htdocs, '-n', '2', ...(transport === 'TLS' ? [String(port), key, cert] : ['--no-tls', String(port)])];
      servers.push({ transport, url: `${transport === 'TLS' ? 'https' : 'http'}://127.0.0.1:${port}/1k`, child: await startNghttpd(NGHTTPD, args, port) });
    }
    {
      // h2serve, one worker: can h2bench saturate it?
      const port = await freePort();
      const child = await startNghttpd(join(ROOT, 'bin', 'h2serve.js'), ['-a', '127.0.0.1', '-d', htdocs, '--no-tls', String(port)], port);
      servers.push({ transport: 'h2c', server: 'h2serve', url: `http://127.0.0.1:${port}/1k`, child });
    }
    for (const s of servers) for (const argv of Object.values(tools)) load(argv, WARM_UP, s.url);
    for (let r = 0; r < ROUNDS; r++) {
      for (const s of servers) {
        for (const t of THREADS) {
          const order = r % 2 === 0 ? ['h2bench', 'h2load'] : ['h2load', 'h2bench'];
          for (const tool of order) {
            process.stderr.write(`bench h2bench: round ${r + 1}/${ROUNDS} ${s.server ?? 'nghttpd'} ${s.transport} -t ${t} ${tool}\n`);
            const res = load(tools[tool], [...ARGS, '-t', String(t)], s.url);
            const cell = (cells[cellKey(s, t, tool)] ??= { runs: [], cpu: [], failed: 0, total: 0 });
            cell.runs.push(res.rps);
            cell.cpu.push((res.cpu / res.total) * 1e6);
            cell.failed += res.total - res.succeeded;
            cell.total += res.total;
          }
        }
      }
    }
    loadAfter = loadavg()[0];
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  const best = (k) => Math.max(...cells[k].runs);
  const mid = (k) => median(cells[k].runs);
  const lines = [
    '## h2bench against h2load',
    '',
    `\`h2bench\` (\`bin/h2bench.js\`) and \`h2load\` (${h2loadVersion}) load the same \`nghttpd -n 2\` serving a 1 KiB file of random octets on 127.0.0.1, over h2c (\`--no-tls\`) and over TLS (P-256 key and certificate made with openssl), with the same \`${ARGS.join(' ')}\` and \`-t 1\` or \`-t 2\`. ${ROUNDS} rounds; in each, both tools run every cell, in alternating order; the best round is reported with all rounds in brackets, and the ratios of the best and (in brackets) of the median rounds. Both tools were warmed up first (\`${WARM_UP.join(' ')}\`). CPU per request is the tool's user + system time (GNU time, the whole process: Node's start-up, about 0.3 s here, and h2bench's self warm-up, 30,000 requests to a loopback server of its own with both ends in the process, included) over its requests, the median of the rounds: it shows what each tool costs when the wall-clock figures are blurred by other work on the machine. The load generator, the server and other work share the machine's cores: the 1-minute load average was ${fmt(loadBefore, 2)} before the run and ${fmt(loadAfter, 2)} after it. Machine: ${machine()}.`,
    '',
    '| server | transport | -t | tool | req/s | CPU per request (median) | failed requests |',
    '|---|---|---:|---|---:|---:|---:|',
  ];
  for (const s of servers) {
    for (const t of THREADS) {
      for (const tool of ['h2bench', 'h2load']) {
        const k = cellKey(s, t, tool);
        lines.push(
          `| ${s.server ?? 'nghttpd -n 2'} | ${s.transport} | ${t} | ${tool} | **${fmt(best(k), 0)}** (${cells[k].runs.map((x) => fmt(x, 0)).join(', ')}) | ${fmt(median(cells[k].cpu), 1)} us | ${cells[k].failed} of ${cells[k].total} |`,
        );
      }
    }
  }
  lines.push('', '| h2bench / h2load | best rounds (medians) | floor |', '|---|---:|---|');
  const verdicts = [];
  for (const s of servers) {
    for (const t of THREADS) {
      const ratio = best(cellKey(s, t, 'h2bench')) / best(cellKey(s, t, 'h2load'));
      const medians = mid(cellKey(s, t, 'h2bench')) / mid(cellKey(s, t, 'h2load'));
      if (s.server) {
        lines.push(`| ${s.server} (one worker), ${s.transport}, -t ${t} | **${fmt(ratio, 2)}×** (${fmt(medians, 2)}×) | saturates it when near 1× |`);
        continue;
      }
      const ok = ratio >= FLOORS[t];
      if (s.transport === 'h2c') verdicts.push(ok);
      lines.push(
        `| ${s.transport}, -t ${t} | **${fmt(ratio, 2)}×** (${fmt(medians, 2)}×) | ${FLOORS[t]}×${s.transport === 'h2c' ? `: ${ok ? 'met' : 'NOT met'}` : ''} |`,
      );
    }
  }
  lines.push(
    '',
    `Floors (h2c: h2bench at least 0.5× h2load's req/s with -t 1, 0.8× with -t 2, against nghttpd): ${verdicts.every(Boolean) ? 'met' : '**not met**'}. Against h2serve (\`h2serve -a 127.0.0.1 -d HTDOCS --no-tls PORT\`, one worker), the same runs say whether h2bench drives it as hard as h2load does.`,
    '',
    `Command: \`npm run bench -- h2bench\` (\`bench/h2bench.mjs\`; it builds first). Each run is \`h2bench ${ARGS.join(' ')} -t T URL\` or \`h2load ${ARGS.join(' ')} -t T URL\`, URL \`http://127.0.0.1:PORT/1k\` or \`https://127.0.0.1:PORT/1k\`, against \`nghttpd -a 127.0.0.1 -d HTDOCS -n 2 --no-tls PORT\` (or \`PORT KEY CERT\`). Requests/s is what each tool prints on its \`finished in\` line, read with the same pattern.`,
  );
  return lines.join('\n');
}
