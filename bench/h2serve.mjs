// h2serve against nghttpd, in the same run: both serve the same htdocs (a
// 1 KiB and a 100 KiB file) over TLS (one openssl key and certificate for
// both) and over h2c (--no-tls), with one worker and with two (-n). h2load
// drives each; rounds are interleaved (the order of the two servers
// alternates) and the best round of each cell is kept. Memory: each
// server's resident set (all its processes) idle after start, at its peak
// under load (VmHWM), and after the run, next to a bare node process.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, fmt, freePort, h2load, machine, median, ROOT, treeRss, which } from './lib.mjs';

const ROUNDS = 5;
/** Resident memory of h2serve with one worker after the run (issue 14), MiB. */
const RSS_CEILING_MIB = 64;
const LOADS = [
  { name: '1 KiB', path: '/1k', args: ['-n', '100000', '-c', '10', '-m', '10'], floor: 1.0 },
  { name: '100 KiB', path: '/100k', args: ['-n', '20000', '-c', '10', '-m', '10'], floor: 0.8 },
];
const WARM_UP = { '/1k': ['-n', '20000', '-c', '10', '-m', '10'], '/100k': ['-n', '4000', '-c', '10', '-m', '10'] };
const TRANSPORTS = ['TLS', 'h2c'];
const WORKERS = [1, 2];

/** Spawns a server and waits until its port accepts connections. */
async function start(name, argv, port) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  let exited = null;
  child.once('exit', (code, signal) => (exited = signal ?? code));
  for (let i = 0; i < 200; i++) {
    if (exited !== null) throw new Error(`${name} exited (${exited}) before listening: ${err.trim()}`);
    // h2serve says when every worker listens; nghttpd says nothing, so its port is tried.
    if ((!/h2serve/.test(name) || /listening on/.test(err)) && (await accepts(port))) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not start: ${err.trim()}`);
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 7000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function run() {
  const H2LOAD = which('h2load');
  const NGHTTPD = which('nghttpd');
  if (!H2LOAD || !NGHTTPD) {
    return '## h2serve against nghttpd\n\nNot measured: h2load and nghttpd are needed (apt-get install nghttp2-client nghttp2-server).';
  }
  const OPENSSL = which('openssl');
  const transports = OPENSSL ? TRANSPORTS : TRANSPORTS.filter((t) => t !== 'TLS');
  const dir = mkdtempSync(join(tmpdir(), 'h2kit-bench-h2serve-'));
  const htdocs = join(dir, 'htdocs');
  execFileSync('mkdir', [htdocs]);
  // Incompressible content; both servers read the same files.
  writeFileSync(join(htdocs, '1k'), execFileSync('head', ['-c', '1024', '/dev/urandom']));
  writeFileSync(join(htdocs, '100k'), execFileSync('head', ['-c', String(100 * 1024), '/dev/urandom']));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  if (OPENSSL) {
    execFileSync(
      OPENSSL,
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'],
      { stdio: 'ignore' },
    );
  }
  const nghttpdVersion = execFileSync(NGHTTPD, ['--version'], { encoding: 'utf8' }).trim();

  const loadBefore = loadavg()[0];
  let loadAfter = NaN;
  let bareRss = null;
  const servers = [];
  try {
    for (const transport of transports) {
      for (const workers of WORKERS) {
        for (const kind of ['h2serve', 'nghttpd']) {
          const port = await freePort();
          const tail = transport === 'TLS' ? [String(port), key, cert] : ['--no-tls', String(port)];
          const argv =
            kind === 'h2serve'
              ? [join(ROOT, 'bin', 'h2serve.js'), '-a', '127.0.0.1', '-d', htdocs, '-n', String(workers), ...tail]
              : [NGHTTPD, '-a', '127.0.0.1', '-d', htdocs, '-n', String(workers), ...tail];
          const child = await start(`${kind} ${transport} -n ${workers}`, argv, port);
          await new Promise((r) => setTimeout(r, 300));
          servers.push({ kind, transport, workers, port, child, cells: {}, idle: treeRss(child.pid) });
        }
      }
    }
    const url = (s, path) => `${s.transport === 'TLS' ? 'https' : 'http'}://127.0.0.1:${s.port}${path}`;
    for (const s of servers) for (const l of LOADS) h2load(H2LOAD, url(s, l.path), WARM_UP[l.path]);
    for (let r = 0; r < ROUNDS; r++) {
      for (const l of LOADS) {
        for (const transport of transports) {
          for (const workers of WORKERS) {
            const pair = servers.filter((s) => s.transport === transport && s.workers === workers);
            if (r % 2 === 1) pair.reverse();
            for (const s of pair) {
              process.stderr.write(`bench h2serve: round ${r + 1}/${ROUNDS} ${l.name} ${transport} -n ${workers} ${s.kind}\n`);
              const res = h2load(H2LOAD, url(s, l.path), l.args);
              const cell = (s.cells[l.name] ??= { runs: [], failed: 0, total: 0 });
              cell.runs.push(res.rps);
              cell.failed += res.failed + (res.total - res.succeeded - res.failed);
              cell.total += res.total;
            }
          }
        }
      }
    }
    for (const s of servers) {
      s.rss = treeRss(s.child.pid);
      s.peak = treeRss(s.child.pid, 'VmHWM');
    }
    loadAfter = loadavg()[0];
    // A bare node process, for scale: what Node costs before any of our code.
    const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    bareRss = treeRss(bare.pid);
    bare.kill('SIGKILL');
  } finally {
    await Promise.all(servers.map((s) => stop(s.child)));
    rmSync(dir, { recursive: true, force: true });
  }

  const best = (s, l) => Math.max(...s.cells[l.name].runs);
  const middle = (s, l) => median(s.cells[l.name].runs);
  const find = (kind, transport, workers) => servers.find((s) => s.kind === kind && s.transport === transport && s.workers === workers);
  const lines = [
    '## h2serve against nghttpd',
    '',
    `\`h2serve\` (\`bin/h2serve.js\`, run as the command, so that its launcher's \`--max-semi-space-size=1\` applies) and \`nghttpd\` (${nghttpdVersion}) serve the same htdocs, a 1 KiB and a 100 KiB file of random octets, on 127.0.0.1: over TLS with the same key and certificate (P-256, made with openssl; h2load negotiates TLS 1.3) and over h2c (\`--no-tls\`), each with \`-n 1\` and \`-n 2\` (h2serve: worker processes; nghttpd: threads). ${ROUNDS} rounds; in each, every server takes the same h2load run, the two servers of a pair in alternating order; the best round is reported (all rounds in brackets). Every server is warmed up first (${WARM_UP['/1k'].join(' ')} on 1 KiB, ${WARM_UP['/100k'].join(' ')} on 100 KiB). Memory: the resident set (VmRSS) of all the server's processes idle after start, their peak (VmHWM, summed over the processes) and after the run; a bare \`node -e 'setInterval(() => {}, 1e6)'\` on this machine holds ${bareRss ? `${fmt(bareRss / 2 ** 20, 1)} MiB` : 'n/a'}. h2load runs on the same machine and takes a core of its own; the 1-minute load average was ${fmt(loadBefore, 2)} before the run and ${fmt(loadAfter, 2)} after it (other work on the machine shows in the spread of the rounds). Machine: ${machine()}.`,
    '',
    `| transport | -n | server | ${LOADS.map((l) => `${l.name}: req/s (h2load ${l.args.join(' ')})`).join(' | ')} | failed requests | RSS idle | peak RSS | RSS after the run |`,
    `|---|---:|---|${LOADS.map(() => '---:').join('|')}|---:|---:|---:|---:|`,
  ];
  for (const s of servers) {
    const cells = LOADS.map((l) => `**${fmt(best(s, l), 0)}** (${s.cells[l.name].runs.map((x) => fmt(x, 0)).join(', ')})`);
    const failed = LOADS.reduce((a, l) => a + s.cells[l.name].failed, 0);
    const total = LOADS.reduce((a, l) => a + s.cells[l.name].total, 0);
    const mib = (b) => (b ? `${fmt(b / 2 ** 20, 1)} MiB` : 'n/a');
    lines.push(
      `| ${s.transport} | ${s.workers} | ${s.kind} | ${cells.join(' | ')} | ${failed} of ${total} | ${mib(s.idle)} | ${mib(s.peak)} | ${mib(s.rss)} |`,
    );
  }
  lines.push(
    '',
    `| h2serve / nghttpd, best rounds (medians) | ${LOADS.map((l) => `${l.name} (floor ${l.floor}× with -n 1)`).join(' | ')} |`,
    `|---|${LOADS.map(() => '---:').join('|')}|`,
  );
  const verdicts = [];
  for (const transport of transports) {
    for (const workers of WORKERS) {
      const cells = LOADS.map((l) => {
        const ours = find('h2serve', transport, workers);
        const theirs = find('nghttpd', transport, workers);
        const ratio = best(ours, l) / best(theirs, l);
        const medians = `(${fmt(middle(ours, l) / middle(theirs, l), 2)}×)`;
        if (workers !== 1) return `${fmt(ratio, 2)}× ${medians}`;
        verdicts.push(ratio >= l.floor);
        return `**${fmt(ratio, 2)}×** ${medians}: ${ratio >= l.floor ? 'met' : 'NOT met'}`;
      });
      lines.push(`| ${transport}, -n ${workers} | ${cells.join(' | ')} |`);
    }
  }
  const rssVerdicts = transports.map((t) => {
    const s = find('h2serve', t, 1);
    const mib = s.rss / 2 ** 20;
    return `${t} ${fmt(mib, 1)} MiB (${mib <= RSS_CEILING_MIB ? 'met' : 'NOT met'})`;
  });
  lines.push(
    '',
    `Floors (h2serve at least 1.0× nghttpd on 1 KiB and 0.8× on 100 KiB with -n 1, over TLS and h2c, best rounds): ${verdicts.every(Boolean) ? 'met' : '**not met**'}${transports.includes('TLS') ? '' : ' (TLS not measured: no openssl)'}. Memory after the run with one worker, at most ${RSS_CEILING_MIB} MiB: ${rssVerdicts.join(', ')}.`,
    '',
    `Command: \`npm run bench -- h2serve\` (\`bench/h2serve.mjs\`; it builds first). Each run is \`h2load ${LOADS[0].args.join(' ')} https://127.0.0.1:PORT/1k\` or \`h2load ${LOADS[1].args.join(' ')} https://127.0.0.1:PORT/100k\` (\`http://\` for h2c) against \`h2serve -a 127.0.0.1 -d HTDOCS -n N PORT KEY CERT\` (or \`--no-tls PORT\`) and \`nghttpd -a 127.0.0.1 -d HTDOCS -n N PORT KEY CERT\` (or \`--no-tls PORT\`).`,
  );
  return lines.join('\n');
}
