#!/usr/bin/env node
// npm start: the main job on the bundled example. deflatehd encodes
// examples/requests.json (HPACK, as nghttp2 would), inflatehd --verify decodes
// the result and checks every header list against the input.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'h2kit-start-'));
const encoded = join(dir, 'encoded.json');

function step(cmd, args, cwd = root) {
  console.log(`\n$ ${[cmd, ...args].join(' ')}`);
  return spawnSync(join(root, 'bin', `${cmd}.cjs`), args, { cwd, encoding: 'utf8' });
}

const d = step('deflatehd', ['examples/requests.json']);
writeFileSync(encoded, d.stdout);
const out = JSON.parse(d.stdout).cases;
for (const c of out) console.log(`  case ${c.seq}: ${c.input_length} octets of headers -> ${c.output_length} octets: ${c.wire}`);
process.stdout.write(`  ${d.stderr}`);

const v = step('inflatehd', ['--verify', 'encoded.json'], dir);
process.stdout.write(v.stdout.replace(/^(?=.)/gm, '  '));
process.stderr.write(v.stderr);

const t = step('deflatehd', ['-t', 'examples/requests.txt']);
for (const c of JSON.parse(t.stdout).cases) console.log(`  set ${c.seq}: ${c.headers.length} fields -> ${c.wire}`);
rmSync(dir, { recursive: true, force: true });
process.exitCode = d.status || v.status || t.status;
