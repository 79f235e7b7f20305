// Shared helpers for the benchmarks: the vector corpus, the nghttp2 oracle,
// timing, and updating one section of BENCHMARKS.md.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync } from 'node:zlib';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WORK = join(ROOT, 'bench', '.work');
mkdirSync(WORK, { recursive: true });

let vectors = null;
/** The packed interop vectors (test/cases/vectors.br) as path -> Buffer. */
export function vectorFiles() {
  if (vectors) return vectors;
  const raw = brotliDecompressSync(readFileSync(join(ROOT, 'test/cases/vectors.br')));
  vectors = new Map();
  let pos = 0;
  while (pos < raw.length) {
    const nl1 = raw.indexOf(10, pos);
    const nl2 = raw.indexOf(10, nl1 + 1);
    const len = Number(raw.toString('latin1', nl1 + 1, nl2));
    vectors.set(raw.toString('utf8', pos, nl1), raw.subarray(nl2 + 1, nl2 + 1 + len));
    pos = nl2 + 1 + len;
  }
  return vectors;
}

/** The benchmark corpus: all raw-data stories concatenated in file order (3,384 header sets). */
export function corpusCases() {
  const files = [...vectorFiles().keys()].filter((p) => p.startsWith('hpack-test-case/raw-data/')).sort();
  return files.flatMap((f) => JSON.parse(vectorFiles().get(f).toString('utf8')).cases.map((c) => ({ headers: c.headers })));
}

/** Builds shared/tools/hdoracle.c (libnghttp2) when the machine can; returns its path or null. */
export function hdoracle() {
  const src = join(ROOT, '..', 'shared', 'tools', 'hdoracle.c');
  const bin = join(WORK, 'hdoracle');
  if (existsSync(bin)) return bin;
  if (!existsSync(src)) return null;
  try {
    execFileSync('cc', ['-O2', src, '-o', bin, '-lnghttp2', '-ljansson'], { stdio: 'pipe' });
    return bin;
  } catch {
    return null;
  }
}

export function machine() {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound and released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function accepts(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

/** The median of numbers. */
export const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};

export const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

/** Replaces (or appends) the section between <!-- bench:NAME --> markers in BENCHMARKS.md. */
export function writeSection(name, markdown) {
  const file = join(ROOT, 'BENCHMARKS.md');
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  let doc = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmarks\n\nWritten by `npm run bench` (`npm run bench -- <section>` reruns one section). Each figure is measured in the same run as the peer it is compared with.\n';
  const block = `${open}\n${markdown.trim()}\n${close}`;
  const a = doc.indexOf(open);
  const b = doc.indexOf(close);
  doc = a >= 0 && b > a ? doc.slice(0, a) + block + doc.slice(b + close.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, doc);
}

/** The path of a command on PATH, or null. */
export function which(bin) {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Runs h2load with `args` against `url`; returns req/s and the request
 * counts from its summary (failed includes errored).
 */
export function h2load(bin, url, args) {
  const out = execFileSync(bin, [...args, url], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const rps = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
  const m = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  return { rps, total: Number(m?.[1]), succeeded: Number(m?.[2]), failed: Number(m?.[3]) + Number(m?.[4]) };
}

/**
 * Resident set size in bytes of a process and all its descendants (Linux
 * /proc), or null elsewhere; `field` 'VmHWM' gives the sum of their peaks.
 */
export function treeRss(pid, field = 'VmRSS') {
  const pattern = new RegExp(`${field}:\\s+(\\d+) kB`);
  const rss = (p) => {
    try {
      const kb = pattern.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1];
      return kb ? Number(kb) * 1024 : 0;
    } catch {
      return 0;
    }
  };
  let entries;
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const children = new Map();
  for (const d of entries) {
    try {
      // The fields after the command name, which may itself contain spaces or parentheses.
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop();
    total += rss(p);
    todo.push(...(children.get(p) ?? []));
  }
  return total || null;
}

/** nghttpd --no-tls (one worker) serving `htdocs` on a free port of 127.0.0.1, once it accepts connections. */
export async function startNghttpd(bin, htdocs) {
  const port = await freePort();
  const child = spawn(bin, ['--no-tls', '-a', '127.0.0.1', '-d', htdocs, String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await accepts(port)) return { port, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error('nghttpd did not start');
}
