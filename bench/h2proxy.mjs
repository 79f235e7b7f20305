// h2proxy against nghttpx, in the same run: both in front of the same
// HTTP/1.1 backend (nginx serving a 1 KiB and a 100 KiB file), one worker
// each, h2c frontends; h2load drives each, rounds interleaved (the order of
// the two proxies alternates), best and median reported. RSS: VmRSS of each
// proxy's processes after the run.
//
// Before that, the choice of HTTP/1.1 client for the backends: h2proxy's own
// (Http1Pool, bundled from src/ for this run), undici (a Client per
// connection with a handler) and node:http with a keep-alive Agent, the same
// requests to the same nginx, interleaved.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, fmt, freePort, h2load, machine, median, ROOT, treeRss, which } from './lib.mjs';

const ROUNDS = 5;
const LOADS = [
  { name: '1 KiB', path: '/1k', args: ['-n', '50000', '-c', '10', '-m', '10'] },
  { name: '100 KiB', path: '/100k', args: ['-n', '50000', '-c', '10', '-m', '10'] },
];
const WARM_UP = ['-n', '10000', '-c', '10', '-m', '10'];
const FLOOR = 0.8;
const CLIENT_REQUESTS = 20000;
const CLIENT_CONCURRENCY = 100;

/** CPU time (user + system, ms) of a process and its descendants, from /proc; null elsewhere. */
function treeCpu(pid) {
  const tick = 10; // USER_HZ is 100 on Linux
  let entries;
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const stats = new Map();
  for (const d of entries) {
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      // ppid is the 2nd field after the name; utime and stime the 12th and 13th.
      stats.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) * tick });
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop();
    total += stats.get(p)?.cpu ?? 0;
    for (const [q, s] of stats) if (s.ppid === p) todo.push(q);
  }
  return total;
}

async function start(name, argv, port, ready) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  let exited = null;
  child.once('exit', (code, signal) => (exited = signal ?? code));
  for (let i = 0; i < 200; i++) {
    if (exited !== null) throw new Error(`${name} exited (${exited}) before listening: ${err.trim()}`);
    if ((!ready || ready.test(err)) && (await accepts(port))) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not start: ${err.trim()}`);
}

function stop(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 7000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill(signal);
  });
}

/** `n` GETs of `path`, `concurrency` at a time, through `one(done)`; resolves with requests per second. */
function drive(one, n, concurrency) {
  return new Promise((resolve, reject) => {
    let started = 0;
    let finished = 0;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const next = () => {
      if (started >= n) return;
      started++;
      one((err) => {
        if (err) return reject(err);
        if (++finished === n) {
          const c = process.cpuUsage(cpu0);
          resolve({ rps: n / ((performance.now() - t0) / 1000), us: (c.user + c.system) / n });
        } else next();
      });
    };
    for (let i = 0; i < concurrency; i++) next();
  });
}

async function clientComparison(port, dir) {
  const { Client } = await import('undici');
  // h2proxy's client as it is in src/ (dist/ holds only the library's entry points).
  const esbuild = await import('esbuild');
  const out = join(dir, 'backend-http1.mjs');
  await esbuild.build({
    entryPoints: [join(ROOT, 'src/proxy/backend-http1.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'warning',
  });
  const { Http1Pool } = await import(out);
  const pool = new Http1Pool({
    host: '127.0.0.1',
    port,
    tls: false,
    servername: null,
    connectTimeout: 5000,
    readTimeout: 5000,
    keepAliveTimeout: 2000,
    rejectUnauthorized: true,
    ca: null,
  });
  const request = {
    method: 'GET',
    scheme: 'http',
    authority: `127.0.0.1:${port}`,
    path: '/1k',
    fields: [['host', `127.0.0.1:${port}`]],
    body: null,
    front: { trailers: () => null },
  };
  const viaOwn = (done) => {
    let n = 0;
    pool.dispatch(request, {
      head() {},
      data(c) {
        n += c.length;
        return true;
      },
      end() {
        done(n === 1024 ? null : new Error(`h2kit: ${n} octets`));
      },
      error(f) {
        done(new Error(f.message));
      },
    });
  };
  // As h2proxy uses undici: a Client per connection, taken from a free list.
  const idle = [];
  const all = [];
  const take = () => idle.pop() ?? all[all.push(new Client(`http://127.0.0.1:${port}`, { pipelining: 1, keepAliveTimeout: 2000 })) - 1];
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const viaUndici = (done) => {
    let n = 0;
    const client = take();
    client.dispatch(
      { path: '/1k', method: 'GET', headers: ['host', `127.0.0.1:${port}`] },
      {
        onConnect() {},
        onHeaders() {
          return true;
        },
        onData(c) {
          n += c.length;
          return true;
        },
        onComplete() {
          idle.push(client);
          done(n === 1024 ? null : new Error(`undici: ${n} octets`));
        },
        onError: done,
      },
    );
  };
  const viaHttp = (done) => {
    http
      .get({ host: '127.0.0.1', port, path: '/1k', agent }, (res) => {
        let n = 0;
        res.on('data', (c) => (n += c.length));
        res.on('end', () => done(n === 1024 ? null : new Error(`http: ${n} octets`)));
        res.on('error', done);
      })
      .on('error', done);
  };
  const clients = { h2kit: viaOwn, undici: viaUndici, http: viaHttp };
  const runs = { h2kit: [], undici: [], http: [] };
  for (const one of Object.values(clients)) await drive(one, 2000, CLIENT_CONCURRENCY);
  for (let r = 0; r < 5; r++) {
    const order = Object.keys(clients);
    if (r % 2 === 1) order.reverse();
    for (const k of order) runs[k].push(await drive(clients[k], CLIENT_REQUESTS, CLIENT_CONCURRENCY));
  }
  await Promise.all(all.map((c) => c.close()));
  await pool.close();
  agent.destroy();
  return runs;
}

/**
 * The same proxies in front of an HTTP/2 backend (nghttpd --no-tls serving the 1 KiB file,
 * `;proto=h2`): ROUNDS interleaved h2load runs each; req/s and CPU time per request.
 */
async function h2Backend(H2LOAD, NGHTTPX, NGHTTPD, htdocs) {
  const backendPort = await freePort();
  const backend = await start('nghttpd', [NGHTTPD, '--no-tls', '-a', '127.0.0.1', '-d', htdocs, String(backendPort)], backendPort);
  const procs = [];
  try {
    const hp = await freePort();
    const nx = await freePort();
    const b = `-b127.0.0.1,${backendPort};;proto=h2`;
    procs.push({
      kind: 'h2proxy',
      port: hp,
      runs: [],
      cpu: [],
      failed: 0,
      child: await start('h2proxy', [process.execPath, join(ROOT, 'bin', 'h2proxy.js'), `-f127.0.0.1,${hp};no-tls`, b, '-n1'], hp, /Listening on/),
    });
    procs.push({
      kind: 'nghttpx',
      port: nx,
      runs: [],
      cpu: [],
      failed: 0,
      child: await start('nghttpx', [NGHTTPX, '--conf=/dev/null', `-f127.0.0.1,${nx};no-tls`, b, '-n1'], nx, /Created worker thread/),
    });
    const url = (p) => `http://127.0.0.1:${p.port}/1k`;
    for (const p of procs) h2load(H2LOAD, url(p), WARM_UP);
    for (let r = 0; r < ROUNDS; r++) {
      for (const p of r % 2 === 0 ? procs : [...procs].reverse()) {
        process.stderr.write(`bench h2proxy: HTTP/2 backend, round ${r + 1}/${ROUNDS} ${p.kind}\n`);
        const cpu0 = treeCpu(p.child.pid);
        const res = h2load(H2LOAD, url(p), LOADS[0].args);
        const cpu1 = treeCpu(p.child.pid);
        p.runs.push(res.rps);
        if (cpu0 !== null && cpu1 !== null) p.cpu.push(((cpu1 - cpu0) * 1000) / res.total);
        p.failed += res.failed + (res.total - res.succeeded - res.failed);
      }
    }
  } finally {
    await Promise.all(procs.map((p) => stop(p.child)));
    await stop(backend);
  }
  return procs;
}

export async function run() {
  const H2LOAD = which('h2load');
  const NGHTTPX = which('nghttpx') ?? (which('/usr/sbin/nghttpx') ? '/usr/sbin/nghttpx' : null);
  const NGINX = which('nginx') ?? (which('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null);
  if (!H2LOAD || !NGHTTPX || !NGINX) {
    return '## h2proxy against nghttpx\n\nNot measured: h2load, nghttpx and nginx are needed (apt-get install nghttp2-client nghttp2-proxy nginx).';
  }
  const dir = mkdtempSync(join(tmpdir(), 'h2kit-bench-h2proxy-'));
  chmodSync(dir, 0o755);
  const htdocs = join(dir, 'htdocs');
  mkdirSync(htdocs);
  writeFileSync(join(htdocs, '1k'), execFileSync('head', ['-c', '1024', '/dev/urandom']));
  writeFileSync(join(htdocs, '100k'), execFileSync('head', ['-c', String(100 * 1024), '/dev/urandom']));
  const nginxPort = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${nginxPort}; root ${htdocs}; } }\n`,
  );
  const nghttpxVersion = execFileSync(NGHTTPX, ['--version'], { encoding: 'utf8' }).trim();
  const loadBefore = loadavg()[0];
  let loadAfter = NaN;
  const procs = [];
  let nginx = null;
  let clients = null;
  let h2b = null;
  try {
    nginx = await start('nginx', [NGINX, '-c', join(dir, 'nginx.conf'), '-p', dir], nginxPort);
    process.stderr.write('bench h2proxy: HTTP/1.1 clients (h2kit, undici, node:http)\n');
    clients = await clientComparison(nginxPort, dir);
    const hp = await freePort();
    const nx = await freePort();
    procs.push({
      kind: 'h2proxy',
      port: hp,
      cells: {},
      child: await start(
        'h2proxy',
        [process.execPath, join(ROOT, 'bin', 'h2proxy.js'), `-f127.0.0.1,${hp};no-tls`, `-b127.0.0.1,${nginxPort}`, '-n1'],
        hp,
        /Listening on/,
      ),
    });
    procs.push({
      kind: 'nghttpx',
      port: nx,
      cells: {},
      child: await start('nghttpx', [NGHTTPX, '--conf=/dev/null', `-f127.0.0.1,${nx};no-tls`, `-b127.0.0.1,${nginxPort}`, '-n1'], nx, /Created worker thread/),
    });
    const url = (p, path) => `http://127.0.0.1:${p.port}${path}`;
    for (const p of procs) for (const l of LOADS) h2load(H2LOAD, url(p, l.path), WARM_UP);
    for (let r = 0; r < ROUNDS; r++) {
      for (const l of LOADS) {
        const order = r % 2 === 0 ? procs : [...procs].reverse();
        for (const p of order) {
          process.stderr.write(`bench h2proxy: round ${r + 1}/${ROUNDS} ${l.name} ${p.kind}\n`);
          const cpu0 = treeCpu(p.child.pid);
          const res = h2load(H2LOAD, url(p, l.path), l.args);
          const cpu1 = treeCpu(p.child.pid);
          const cell = (p.cells[l.name] ??= { runs: [], cpu: [], failed: 0, total: 0 });
          cell.runs.push(res.rps);
          if (cpu0 !== null && cpu1 !== null) cell.cpu.push(((cpu1 - cpu0) * 1000) / res.total);
          cell.failed += res.failed + (res.total - res.succeeded - res.failed);
          cell.total += res.total;
        }
      }
    }
    for (const p of procs) p.rss = treeRss(p.child.pid);
    await Promise.all(procs.map((p) => stop(p.child)));
    const NGHTTPD = which('nghttpd') ?? (which('/usr/sbin/nghttpd') ? '/usr/sbin/nghttpd' : null);
    if (NGHTTPD) h2b = await h2Backend(H2LOAD, NGHTTPX, NGHTTPD, htdocs);
    loadAfter = loadavg()[0];
  } finally {
    // nghttpx stops gracefully on SIGQUIT; SIGTERM ends it at once (either is fine here).
    await Promise.all(procs.map((p) => stop(p.child)));
    if (nginx) await stop(nginx, 'SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  }

  const [ours, theirs] = procs;
  const best = (p, l) => Math.max(...p.cells[l.name].runs);
  const mid = (p, l) => median(p.cells[l.name].runs);
  const lines = [
    '## h2proxy against nghttpx',
    '',
    `\`h2proxy\` (\`bin/h2proxy.js\`, with its own HTTP/1.1 client for the backends) and \`nghttpx\` (${nghttpxVersion}, \`--conf=/dev/null\`), each with one worker (\`-n1\`) and an h2c frontend on 127.0.0.1, in front of the same nginx (one worker process, keep-alive) serving a 1 KiB and a 100 KiB file of random octets. ${ROUNDS} rounds; in each, both proxies take the same h2load run, in alternating order. Best round in bold, then every round. CPU time per request: the user and system time of the proxy's processes during each run (from /proc) over its requests. Each proxy was warmed up first (h2load ${WARM_UP.join(' ')} on each file). RSS: VmRSS of the proxy's processes after the run (nghttpx: its main and worker processes). h2load, nginx and the proxy share the machine's cores with other work: the 1-minute load average was ${fmt(loadBefore, 2)} before the run and ${fmt(loadAfter, 2)} after it, so single rounds swing widely; the ratios come from interleaved rounds. Machine: ${machine()}.`,
    '',
    `| proxy | ${LOADS.map((l) => `${l.name}: req/s (h2load ${l.args.join(' ')})`).join(' | ')} | failed requests | RSS after the run |`,
    `|---|${LOADS.map(() => '---:').join('|')}|---:|---:|`,
  ];
  for (const p of procs) {
    const cells = LOADS.map((l) => `**${fmt(best(p, l), 0)}** (${p.cells[l.name].runs.map((x) => fmt(x, 0)).join(', ')})`);
    const failed = LOADS.reduce((a, l) => a + p.cells[l.name].failed, 0);
    const total = LOADS.reduce((a, l) => a + p.cells[l.name].total, 0);
    lines.push(`| ${p.kind} | ${cells.join(' | ')} | ${failed} of ${total} | ${p.rss ? `${fmt(p.rss / 2 ** 20, 1)} MiB` : 'n/a'} |`);
  }
  const verdicts = [];
  lines.push('', `| h2proxy / nghttpx | ${LOADS.map((l) => `${l.name} (floor ${FLOOR}×)`).join(' | ')} |`, `|---|${LOADS.map(() => '---:').join('|')}|`);
  const ratioCells = LOADS.map((l) => {
    const b = best(ours, l) / best(theirs, l);
    const m = mid(ours, l) / mid(theirs, l);
    verdicts.push(m >= FLOOR);
    return `best **${fmt(b, 2)}×**, median **${fmt(m, 2)}×**: ${m >= FLOOR ? 'met' : 'NOT met'}`;
  });
  lines.push(`| req/s | ${ratioCells.join(' | ')} |`);
  if (ours.cells[LOADS[0].name].cpu.length) {
    lines.push(
      `| CPU time per request, h2proxy / nghttpx (medians, µs) | ${LOADS.map((l) => `${fmt(median(ours.cells[l.name].cpu), 1)} / ${fmt(median(theirs.cells[l.name].cpu), 1)} = ${fmt(median(ours.cells[l.name].cpu) / median(theirs.cells[l.name].cpu), 1)}×`).join(' | ')} |`,
    );
  }
  lines.push('', `Floor (h2proxy at least ${FLOOR}× nghttpx's req/s, judged on the medians): ${verdicts.every(Boolean) ? 'met' : '**not met**'}.`);
  if (h2b) {
    const [o, x] = h2b;
    lines.push(
      '',
      `**In front of an HTTP/2 backend** (no floor): the same proxies with \`-b127.0.0.1,PORT;;proto=h2\` in front of \`nghttpd --no-tls\` serving the 1 KiB file, h2load ${LOADS[0].args.join(' ')}, ${ROUNDS} interleaved rounds.`,
      '',
      '| proxy | req/s | CPU time per request (median) | failed requests |',
      '|---|---:|---:|---:|',
      ...h2b.map(
        (p) =>
          `| ${p.kind} | **${fmt(Math.max(...p.runs), 0)}** (${p.runs.map((v) => fmt(v, 0)).join(', ')}) | ${p.cpu.length ? `${fmt(median(p.cpu), 1)} µs` : 'n/a'} | ${p.failed} |`,
      ),
      '',
      `h2proxy / nghttpx: best **${fmt(Math.max(...o.runs) / Math.max(...x.runs), 2)}×**, median **${fmt(median(o.runs) / median(x.runs), 2)}×**.`,
    );
  }
  if (clients) {
    const o = clients.h2kit;
    const u = clients.undici;
    const h = clients.http;
    const rps = (xs) => xs.map((x) => fmt(x.rps, 0)).join(', ');
    const cpu = (xs) => median(xs.map((x) => x.us));
    const undiciVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules/undici/package.json'), 'utf8')).version;
    lines.push(
      '',
      `**The HTTP/1.1 client for backends.** ${CLIENT_REQUESTS} GETs of the 1 KiB file from the same nginx, ${CLIENT_CONCURRENCY} at a time, ${o.length} interleaved rounds, in this process, CPU time per request (median) and req/s of each round: h2proxy's own client (\`Http1Pool\`, src/proxy/backend-http1.ts) **${fmt(cpu(o), 1)} µs** (${rps(o)}); undici ${undiciVersion} (a \`Client\` per connection with a handler, as h2proxy used it before) **${fmt(cpu(u), 1)} µs** (${rps(u)}); node:http with a keep-alive \`Agent\` **${fmt(cpu(h), 1)} µs** (${rps(h)}). Own client / undici: ${fmt(cpu(o) / cpu(u), 2)}× the CPU time. The backend client is most of a proxy's work per request beside the frontend, which is why h2proxy has its own (see README).`,
    );
  }
  lines.push(
    '',
    `Command: \`npm run bench -- h2proxy\` (\`bench/h2proxy.mjs\`; it builds first). Each run is \`h2load ${LOADS[0].args.join(' ')} http://127.0.0.1:PORT/1k\` (or \`/100k\`) against \`h2proxy -f'127.0.0.1,PORT;no-tls' -b'127.0.0.1,NGINX_PORT' -n1\` and \`nghttpx --conf=/dev/null -f'127.0.0.1,PORT;no-tls' -b'127.0.0.1,NGINX_PORT' -n1\`.`,
  );
  return lines.join('\n');
}
