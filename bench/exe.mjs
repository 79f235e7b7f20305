// Start-up of the single executable (dist-exe/h2kit, rebuilt here), through
// its links and with the command as first argument, against `node -e 0` and,
// when H2KIT_EXE_BEFORE names a folder of other executables of the commands
// (e.g. the per-command executables of h2kit 0.1.0), against those, all in
// interleaved rounds. Also the sizes on disk. H2KIT_EXE_BEFORE_NAME says what
// those are, for BENCHMARKS.md.
//   H2KIT_EXE_BEFORE=/path/to/old/dist-exe H2KIT_EXE_BEFORE_NAME='...' npm run bench -- exe
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, openSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, machine, median, ROOT, vectorFiles, WORK } from './lib.mjs';

const ROUNDS = 30;
const COMMANDS = ['deflatehd', 'inflatehd', 'h2serve', 'h2get', 'h2bench', 'h2proxy'];

// NODE_EXTRA_CA_CERTS makes every Node process read and parse that file before any JavaScript
// runs (tens of milliseconds for a system bundle, see the cli section): unset, so that the
// figures are the executables' own.
const ENV = { ...process.env };
delete ENV.NODE_EXTRA_CA_CERTS;

/** Wall time of one run in ms (stdout to /dev/null, stdin from `input` or empty). */
function time(argv, input) {
  const inFd = openSync(input ?? '/dev/null', 'r');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: [inFd, 'ignore', 'pipe'], env: ENV });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  closeSync(inFd);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${String(r.stderr).slice(0, 300)}`);
  return ms;
}

const mib = (bytes) => `${fmt(bytes / 2 ** 20, 1)} MiB`;

export async function run() {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-exe.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exeDir = join(ROOT, 'dist-exe');
  const before = process.env.H2KIT_EXE_BEFORE;
  if (before && !COMMANDS.every((c) => existsSync(join(before, c)))) throw new Error(`H2KIT_EXE_BEFORE=${before}: not every command is there`);
  const story = join(WORK, 'story_00.json');
  writeFileSync(story, vectorFiles().get('hpack-test-case/raw-data/story_00.json'));

  const cases = [
    { label: 'deflatehd < story_00.json', cmd: 'deflatehd', args: [], input: story },
    ...COMMANDS.map((cmd) => ({ label: `${cmd} --version`, cmd, args: ['--version'] })),
  ];
  const variants = (c) => ({
    node: [process.execPath, '-e', '0'],
    ...(before ? { before: [join(before, c.cmd), ...c.args] } : {}),
    link: [join(exeDir, c.cmd), ...c.args],
    first: [join(exeDir, 'h2kit'), c.cmd, ...c.args],
  });
  const runs = cases.map(() => ({}));
  for (let i = 0; i < ROUNDS; i++) {
    for (const [k, c] of cases.entries()) {
      for (const [name, argv] of Object.entries(variants(c))) (runs[k][name] ??= []).push(time(argv, c.input));
    }
  }
  const best = (xs) => Math.min(...xs);
  const cell = (xs) => (xs ? `${fmt(best(xs), 1)} / ${fmt(median(xs), 1)} ms` : 'n/a');
  const diff = (xs, ys) =>
    xs && ys
      ? `${best(xs) - best(ys) >= 0 ? '+' : ''}${fmt(best(xs) - best(ys), 1)} / ${median(xs) - median(ys) >= 0 ? '+' : ''}${fmt(median(xs) - median(ys), 1)} ms`
      : 'n/a';
  const rows = cases.map((c, k) => {
    const r = runs[k];
    return `| ${c.label} | ${cell(r.node)} | ${cell(r.before)} | ${cell(r.link)} | ${cell(r.first)} | ${diff(r.link, r.before)} |`;
  });

  const exeSize = statSync(join(exeDir, 'h2kit')).size;
  const beforeSize = before ? COMMANDS.reduce((n, c) => n + statSync(join(before, c)).size, 0) : NaN;
  const links = readdirSync(exeDir)
    .filter((f) => lstatSync(join(exeDir, f)).isSymbolicLink())
    .sort();
  return [
    '## Single executable: start-up and size',
    '',
    `Wall time of each run (spawn to exit), best / median of ${ROUNDS} interleaved rounds; each round runs every variant of every line once. ` +
      `"link" runs dist-exe/CMD (a link to dist-exe/h2kit), "first argument" runs \`dist-exe/h2kit CMD\`; ` +
      `"before" ${before ? `is the executable of that command alone: ${process.env.H2KIT_EXE_BEFORE_NAME ?? before}` : 'was not measured (set H2KIT_EXE_BEFORE to a folder of per-command executables)'}. NODE_EXTRA_CA_CERTS unset. Machine: ${machine()}.`,
    '',
    '| command | node -e 0 | before | link | first argument | link − before (best / median) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Size: dist-exe/h2kit ${mib(exeSize)} for all six commands (links: ${links.join(', ')})${before ? `; before, ${mib(beforeSize)} for the six executables` : ''}.`,
    '',
    'Command: `H2KIT_EXE_BEFORE=DIR npm run bench -- exe`.',
  ].join('\n');
}
