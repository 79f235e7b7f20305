#!/usr/bin/env node
// npm start: the HPACK engine on the bundled example (examples/requests.json).
// Replaced by the deflatehd | inflatehd --verify pipeline once the CLIs land.
import { readFileSync } from 'node:fs';
import { Deflater, Inflater, formatTable } from '../dist/index.js';

const cases = JSON.parse(readFileSync(new URL('../examples/requests.json', import.meta.url), 'utf8')).cases;
const d = new Deflater();
const inf = new Inflater();
let input = 0;
let output = 0;
let ok = 0;
for (const c of cases) {
  const headers = c.headers.map((h) => Object.entries(h)[0]);
  const wire = d.deflate(headers);
  input += headers.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  output += wire.length;
  if (JSON.stringify(inf.inflate(wire)) === JSON.stringify(headers)) ok++;
  console.log(Buffer.from(wire).toString('hex'));
}
console.log(formatTable(d.getTable()));
console.log(`${cases.length} header sets: input=${input} output=${output} ratio=${(output / input).toFixed(2)}; ${ok}/${cases.length} decode back exactly`);
