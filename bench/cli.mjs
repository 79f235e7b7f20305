// deflatehd / inflatehd on large and small inputs, against nghttp2's own
// deflatehd / inflatehd measured in the same run when available.
//
// nghttp2's HPACK tools are not in Debian's binary packages. Build them from
// Debian's source package (outside this repository) and point the benchmark
// at them, e.g.:
//   apt-get source nghttp2 && cd nghttp2-1.52.0 && mkdir build && cd build &&
//   cmake .. -DENABLE_HPACK_TOOLS=ON -DENABLE_APP=OFF && make deflatehd inflatehd
//   NGHTTP2_DEFLATEHD=$PWD/src/deflatehd NGHTTP2_INFLATEHD=$PWD/src/inflatehd npm run bench -- cli
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { corpusCases, fmt, machine, median, ROOT, vectorFiles, WORK } from './lib.mjs';

const NODE = process.execPath;
// The launchers run as users run them: directly, so that their shebang's V8 flags apply.
const OURS = { deflate: [join(ROOT, 'bin/deflatehd.cjs')], inflate: [join(ROOT, 'bin/inflatehd.cjs')] };
const EXE = join(ROOT, 'dist-exe', 'deflatehd');
const NG = {
  deflate: process.env.NGHTTP2_DEFLATEHD ?? join(WORK, 'nghttp2', 'deflatehd'),
  inflate: process.env.NGHTTP2_INFLATEHD ?? join(WORK, 'nghttp2', 'inflatehd'),
};
// Interleaved pairs per command: this VM drifts (other work shares its 2 cores), so the best and
// the median of several pairs are both reported.
const PAIRS = 7;

/** Runs a command with stdin from a file and stdout to a file (or /dev/null); wall time and peak RSS (VmHWM). */
function measure(argv, input, output = '/dev/null', env = process.env) {
  return new Promise((resolve, reject) => {
    const inFd = openSync(input, 'r');
    const outFd = openSync(output, 'w');
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: [inFd, outFd, 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    let hwm = 0;
    const poll = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]));
      } catch {}
    };
    const timer = setInterval(poll, 20);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      closeSync(inFd);
      closeSync(outFd);
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited ${code}: ${stderr.slice(0, 300)}`));
      else resolve({ ms, rssMiB: hwm / 1024 });
    });
    poll();
  });
}

/** Writes the corpus repeated `times` times as compact JSON (the raw-data stories concatenated). */
function writeCorpus(path, times) {
  const cases = corpusCases();
  const fd = openSync(path, 'w');
  writeSync(fd, '{"cases": [');
  const body = cases.map((c) => JSON.stringify(c)).join(', ');
  for (let i = 0; i < times; i++) writeSync(fd, (i ? ', ' : '') + body);
  writeSync(fd, ']}\n');
  closeSync(fd);
  return cases.length * times;
}

export async function run() {
  const large = join(WORK, 'large.json');
  const sets = writeCorpus(large, 30);
  const largeMB = statSync(large).size / 1e6;
  const haveNg = existsSync(NG.deflate) && existsSync(NG.inflate);
  const ngOut = join(WORK, 'large-ng.out.json');
  const ourOut = join(WORK, 'large-ours.out.json');

  const rows = [];
  const loadBefore = loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
  // Small input, start-up included: first, before large files fill the page cache and keep the disk busy.
  const small = join(WORK, 'story_00.json');
  writeCorpusSmall(small);
  // Interleaved, best of 40 each: start-up times on this VM swing by tens of milliseconds.
  // NODE_EXTRA_CA_CERTS makes every Node process parse that file and build its root
  // certificate store before any JavaScript runs (tens of milliseconds for a system bundle),
  // so when the environment sets it, start-up is measured both with and without it.
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
  const envs = [{ label: 'Node defaults', env: process.env }];
  if (extraCa) {
    const clean = { ...process.env };
    delete clean.NODE_EXTRA_CA_CERTS;
    envs[0] = { label: 'Node defaults (NODE_EXTRA_CA_CERTS unset)', env: clean };
    envs.push({ label: `this environment (NODE_EXTRA_CA_CERTS=${extraCa}${countCerts(extraCa)})`, env: process.env });
  }
  const startRuns = envs.map(() => ({ ours: [], exe: [], node: [], ng: [] }));
  for (let i = 0; i < 40; i++) {
    for (const [k, { env }] of envs.entries()) {
      const runs = startRuns[k];
      runs.node.push((await measure([NODE, '-e', '0'], small, '/dev/null', env)).ms);
      runs.ours.push((await measure(OURS.deflate, small, '/dev/null', env)).ms);
      if (existsSync(EXE)) runs.exe.push((await measure([EXE], small, '/dev/null', env)).ms);
      if (haveNg) runs.ng.push((await measure([NG.deflate], small, '/dev/null', env)).ms);
    }
  }
  const bestMs = (xs) => (xs.length ? Math.min(...xs) : NaN);
  const startRows = envs.map(({ label }, k) => {
    const runs = startRuns[k];
    const ms = (xs) => (xs.length ? `${fmt(bestMs(xs), 0)} ms` : 'n/a');
    const own = (xs) => (xs.length ? ` (+${fmt(bestMs(xs) - bestMs(runs.node), 0)})` : '');
    return `| ${label} | ${ms(runs.node)} | ${ms(runs.ours)}${own(runs.ours)} | ${runs.exe.length ? ms(runs.exe) + own(runs.exe) : 'not built (npm run build:exe)'} | ${runs.ng.length ? `${fmt(bestMs(runs.ng), 1)} ms` : 'n/a'} |`;
  });

  // The input of the inflaters: nghttp2's deflatehd output (the issue's setup), made once, untimed.
  await measure(haveNg ? [NG.deflate] : OURS.deflate, large, haveNg ? ngOut : ourOut);
  const inflIn = haveNg ? ngOut : ourOut;
  // Timed runs write to /dev/null (writing 100 MB files slows whatever runs next while the
  // page cache flushes), in interleaved pairs so both tools see the same machine.
  const timing = { ours: { deflate: [], inflate: [] }, ng: { deflate: [], inflate: [] } };
  for (let i = 0; i < PAIRS; i++) {
    timing.ours.deflate.push(await measure(OURS.deflate, large));
    if (haveNg) timing.ng.deflate.push(await measure([NG.deflate], large));
    timing.ours.inflate.push(await measure(OURS.inflate, inflIn));
    if (haveNg) timing.ng.inflate.push(await measure([NG.inflate], inflIn));
  }
  const summary = (runs) => ({ ms: Math.min(...runs.map((r) => r.ms)), median: median(runs.map((r) => r.ms)), rssMiB: Math.max(...runs.map((r) => r.rssMiB)) });
  const ours = { deflate: summary(timing.ours.deflate), inflate: summary(timing.ours.inflate) };
  const ng = haveNg ? { deflate: summary(timing.ng.deflate), inflate: summary(timing.ng.inflate) } : null;
  const inflMB = statSync(inflIn).size / 1e6;

  // Flat memory: about 1 GB of input.
  const huge = join(WORK, 'huge.json');
  const hugeSets = writeCorpus(huge, Math.ceil((1e9 / largeMB / 1e6) * 30));
  const hugeMB = statSync(huge).size / 1e6;
  const hugeOut = join(WORK, 'huge.out.json');
  const hugeDeflate = await measure(OURS.deflate, huge, hugeOut);
  const hugeInflate = await measure(OURS.inflate, hugeOut);
  const hugeOutMB = statSync(hugeOut).size / 1e6;
  rmSync(huge, { force: true });
  rmSync(hugeOut, { force: true });

  const loadAfter = loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
  const r = (a, b) => (b ? fmt(a / b, 2) : 'n/a');
  rows.push(
    '## deflatehd / inflatehd',
    '',
    `Large input: the raw-data stories concatenated and repeated 30 times, ${sets.toLocaleString('en-US')} header sets, ${fmt(largeMB)} MB of compact JSON. inflatehd reads ${haveNg ? "nghttp2's deflatehd output" : 'our deflatehd output'} (${fmt(inflMB)} MB). ${PAIRS} interleaved pairs of runs (h2kit, then nghttp2), output to /dev/null; the best time is shown and the ratio of the best times, with the ratio of the medians in brackets; peak RSS is the largest VmHWM. Machine: ${machine()}; load average (1, 5, 15 min) ${loadBefore} before the runs, ${loadAfter} after.`,
    '',
    '| command | h2kit time | h2kit peak RSS | nghttp2 time | nghttp2 peak RSS | time ratio | memory ratio |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| deflatehd < large | ${fmt(ours.deflate.ms / 1000, 2)} s | ${fmt(ours.deflate.rssMiB, 0)} MiB | ${ng ? `${fmt(ng.deflate.ms / 1000, 2)} s` : 'not measured'} | ${ng ? `${fmt(ng.deflate.rssMiB, 0)} MiB` : ''} | ${ng ? `${r(ours.deflate.ms, ng.deflate.ms)}× (${r(ours.deflate.median, ng.deflate.median)}×)` : ''} | ${ng ? `${r(ours.deflate.rssMiB, ng.deflate.rssMiB)}×` : ''} |`,
    `| inflatehd < deflatehd output | ${fmt(ours.inflate.ms / 1000, 2)} s | ${fmt(ours.inflate.rssMiB, 0)} MiB | ${ng ? `${fmt(ng.inflate.ms / 1000, 2)} s` : 'not measured'} | ${ng ? `${fmt(ng.inflate.rssMiB, 0)} MiB` : ''} | ${ng ? `${r(ours.inflate.ms, ng.inflate.ms)}× (${r(ours.inflate.median, ng.inflate.median)}×)` : ''} | ${ng ? `${r(ours.inflate.rssMiB, ng.inflate.rssMiB)}×` : ''} |`,
    '',
    "Floors: at most 0.33× nghttp2's time and 0.25× its memory.",
    '',
    `Flat memory on ~1 GB: deflatehd on ${fmt(hugeMB / 1000, 2)} GB (${hugeSets.toLocaleString('en-US')} header sets) took ${fmt(hugeDeflate.ms / 1000, 1)} s with a peak RSS of **${fmt(hugeDeflate.rssMiB, 0)} MiB**; inflatehd on its ${fmt(hugeOutMB / 1000, 2)} GB output took ${fmt(hugeInflate.ms / 1000, 1)} s, peak RSS **${fmt(hugeInflate.rssMiB, 0)} MiB** (floor: 150 MiB).`,
    '',
    `Small input, start-up included: \`deflatehd < story_00.json\`, best of 40 interleaved runs; in brackets, what our own start-up and work add to Node's (\`node -e 0\` in the same runs). Floors: 80 ms for the npm command, 60 ms for the single-file executable.`,
    '',
    '| environment | node -e 0 | npm command | executable | nghttp2 deflatehd |',
    '|---|---:|---:|---:|---:|',
    ...startRows,
    '',
    "Command: `npm run bench -- cli` (with NGHTTP2_DEFLATEHD and NGHTTP2_INFLATEHD set to nghttp2's tools, see bench/cli.mjs).",
  );
  return rows.join('\n');
}

/** ", 144 certificates" for a PEM bundle, or nothing when it cannot be read. */
function countCerts(path) {
  try {
    const n = readFileSync(path, 'latin1').split('-----BEGIN CERTIFICATE-----').length - 1;
    return `, ${n} certificate${n === 1 ? '' : 's'}`;
  } catch {
    return '';
  }
}

function writeCorpusSmall(path) {
  const fd = openSync(path, 'w');
  writeSync(fd, vectorFiles().get('hpack-test-case/raw-data/story_00.json'));
  closeSync(fd);
}
