/**
 * The single executable's entry (npm run build:exe): one Node runtime for all
 * the commands, busybox style. The command is the name the executable was
 * started under (a link named deflatehd, h2serve, ...), else its first
 * argument (`h2kit deflatehd ...`). Each command's bundle is an asset of the
 * executable with its V8 code cache, compiled only when that command runs, so
 * start-up pays for one command, not six.
 */
import { getAsset, getRawAsset } from 'node:sea';
import { VERSION } from '../version.js';
import { COMMANDS, chooseCommand } from './choose.js';
import { compileBundle, runBundle } from './compile.js';

const usage = `Usage: h2kit COMMAND [ARGS...]   (or run a link to h2kit named after the command)
Commands: ${COMMANDS.join(', ')}
Run 'h2kit COMMAND --help' for a command's options.
`;

const choice = chooseCommand(process.argv0, process.argv.slice(2));
if (choice.kind === 'help') {
  process.stdout.write(usage);
} else if (choice.kind === 'version') {
  process.stdout.write(`h2kit ${VERSION}\n`);
} else if (choice.kind === 'error') {
  process.stderr.write(`h2kit: ${choice.message}\n${usage}`);
  process.exitCode = 2;
} else {
  // The command reads its arguments from process.argv.slice(2). argv[1] names the command:
  // workers and daemons (node:cluster, spawn) start process.execPath, the executable itself,
  // with argv[1] as their first argument, so they run the same command.
  process.argv.splice(1, process.argv.length - 1, choice.command, ...choice.args);
  // latin1: the bundles are ASCII (scripts/build-exe.mjs checks), so no UTF-8 decoding is needed.
  const code = getAsset(`${choice.command}.cjs`, 'latin1');
  // The cache was made by this same Node at build time; V8 checks it and compiles afresh if it does not fit.
  const raw = getRawAsset(`${choice.command}.cache`);
  const cache = typeof raw === 'string' ? undefined : Buffer.from(raw);
  runBundle(compileBundle(code, `${choice.command}.cjs`, cache), require);
}
