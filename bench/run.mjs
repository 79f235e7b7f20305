#!/usr/bin/env node
// Runs the benchmarks and writes their sections of BENCHMARKS.md.
// Usage: npm run bench [-- SECTION...]   sections: hpack, cli, h2, h2serve, h2client, h2proxy, h2bench, exe
import { writeSection } from './lib.mjs';

const SECTIONS = {
  hpack: () => import('./hpack.mjs'),
  cli: () => import('./cli.mjs'),
  h2: () => import('./h2.mjs'),
  h2serve: () => import('./h2serve.mjs'),
  h2client: () => import('./h2client.mjs'),
  h2proxy: () => import('./h2proxy.mjs'),
  h2bench: () => import('./h2bench.mjs'),
  exe: () => import('./exe.mjs'),
};

const wanted = process.argv.slice(2);
for (const name of wanted)
  if (!SECTIONS[name]) {
    console.error(`bench: unknown section ${name} (have: ${Object.keys(SECTIONS).join(', ')})`);
    process.exit(2);
  }
for (const name of wanted.length ? wanted : Object.keys(SECTIONS)) {
  process.stderr.write(`bench: ${name}...\n`);
  const md = await (await SECTIONS[name]()).run();
  writeSection(name, md);
  console.log(`${md}\n`);
}
