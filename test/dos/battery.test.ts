/**
 * The HTTP/2 DoS battery against the real h2serve process: for each attack
 * (test/helpers/dos.ts), the attacker gets the RFC's or nghttp2's answer, the
 * server stays up, its memory and descriptors stay bounded, and a second,
 * well-behaved client on its own connection keeps getting answers.
 *
 * With H2KIT_DOS_PEERS set (e.g. "nghttpd,nghttpx"), the same attacks also run
 * against those servers (nghttpx: as a proxy in front of the proxy rows' backend) and a comparison table is printed (informational).
 */

import { spawn } from 'node:child_process';
import { closeSync, createReadStream, ftruncateSync, mkdtempSync, openSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attacks, EXPECTED, type Outcome, runAttack } from '../helpers/dos.js';
import { killProxies, type ProxyProcess, startProxy } from '../helpers/h2proxy.js';
import { alive, childPids, freePort, type H2ServeProcess, killAll, requireBin, startH2Serve, waitForPort } from '../helpers/h2serve.js';

/** The bystander's slowest answer during an attack, in ms (generous: CI machines are slow and shared). */
const LATENCY_CEILING = 3000;
/** Growth of the server's resident memory during an attack, at its peak (KiB). */
const RSS_CEILING = 96 * 1024;
/** Descriptors open in the server at the attack's peak. */
const FD_CEILING = 400;

const root = mkdtempSync(join(tmpdir(), 'dos-'));
writeFileSync(join(root, 'index.html'), '<!doctype html><title>ok</title>\n');
const bigFd = openSync(join(root, 'big'), 'w');
ftruncateSync(bigFd, 64 << 20);
closeSync(bigFd);

const table: Array<{ target: string; row: string; o: Outcome }> = [];

/** The attacker got the RFC's or nghttp2's answer, and the server held: bounded memory and descriptors, the bystander served. */
function expectWithstood(row: string, o: Outcome): void {
  expect(o.answer).toMatch(EXPECTED[row]!);
  expect(o.bystander.failures, 'the bystander got every answer').toBe(0);
  expect(o.bystander.requests).toBeGreaterThan(0);
  expect(o.bystander.maxMs).toBeLessThanOrEqual(LATENCY_CEILING);
  expect(o.rss.peak - o.rss.before).toBeLessThanOrEqual(RSS_CEILING);
  expect(o.fdsPeak).toBeLessThanOrEqual(FD_CEILING);
}
const ATTACKS = attacks('/big', '/index.html');
let server: H2ServeProcess;

beforeAll(async () => {
  server = await startH2Serve(['--no-tls', '-d', root, '0']);
});

afterAll(async () => {
  await killAll();
  if (table.length) {
    const lines = [
      '| target | attack | attacker got | bystander max / p50 ms (failed) | RSS before → peak → after MiB | fds peak |',
      '|---|---|---|---|---|---|',
    ];
    const mib = (k: number) => (k / 1024).toFixed(0);
    for (const { target, row, o } of table) {
      lines.push(
        `| ${target} | ${row} | ${o.answer} | ${o.bystander.maxMs} / ${o.bystander.p50Ms} (${o.bystander.failures}) | ${mib(o.rss.before)} → ${mib(o.rss.peak)} → ${mib(o.rss.after)} | ${o.fdsPeak} |`,
      );
    }
    console.log(lines.join('\n'));
  }
});

describe('DoS battery against h2serve', () => {
  for (const [row, attack] of Object.entries(ATTACKS)) {
    it(row, async () => {
      const o = await runAttack(server.port, server.child.pid!, attack);
      table.push({ target: 'h2serve', row, o });
      expect(alive(server.child.pid!), 'the server is still running').toBe(true);
      expectWithstood(row, o);
    });
  }
});

/** An HTTP/1.1 backend serving the same files (streamed, as a real one would), for the proxies. */
async function fileBackend(): Promise<{ port: number; close: () => void }> {
  const backend = http.createServer((req, res) => {
    const path = req.url === '/big' ? join(root, 'big') : join(root, 'index.html');
    res.setHeader('content-length', statSync(path).size);
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  return {
    port: (backend.address() as AddressInfo).port,
    close: () => {
      backend.closeAllConnections();
      backend.close();
    },
  };
}

describe('DoS battery against h2proxy (h2c frontend, an HTTP/1.1 backend)', () => {
  let proxy: ProxyProcess;
  let backend: { port: number; close: () => void } | undefined;
  beforeAll(async () => {
    backend = await fileBackend();
    proxy = await startProxy(['-f127.0.0.1,0;no-tls', `-b127.0.0.1,${backend.port}`]);
  });
  afterAll(async () => {
    await killProxies();
    backend?.close();
  });
  for (const [row, attack] of Object.entries(ATTACKS)) {
    it(row, async () => {
      const o = await runAttack(proxy.port, proxy.child.pid!, attack);
      table.push({ target: 'h2proxy', row, o });
      expect(alive(proxy.child.pid!), 'the proxy is still running').toBe(true);
      expectWithstood(row, o);
    });
  }
});

const peers = (process.env['H2KIT_DOS_PEERS'] ?? '').split(',').filter(Boolean);
// "before:<path to another build's bin/h2serve.js>": the same battery against that build (informational).
const before = peers.find((p) => p.startsWith('before:'))?.slice('before:'.length);
describe.runIf(before !== undefined)('the same battery against another h2serve build (informational)', () => {
  let other: H2ServeProcess;
  beforeAll(async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [before!, '--no-tls', '-d', root, String(port)], { stdio: 'ignore' });
    await waitForPort(port);
    other = { child, port } as unknown as H2ServeProcess;
  });
  for (const [row, attack] of Object.entries(ATTACKS)) {
    it(row, async () => {
      const o = await runAttack(other.port, other.child.pid!, attack);
      table.push({ target: 'h2serve before', row, o });
      expect(o.bystander.requests).toBeGreaterThan(0);
    });
  }
  afterAll(() => {
    other?.child.kill('SIGKILL');
  });
});
// "nghttpx": the proxy battery against nghttpx (--conf=/dev/null, defaults) in front of the same backend; its worker process is measured.
describe.runIf(peers.includes('nghttpx'))('the proxy battery against nghttpx (informational)', () => {
  let master = 0;
  let worker = 0;
  let port = 0;
  let backend: { port: number; close: () => void } | undefined;
  beforeAll(async () => {
    backend = await fileBackend();
    port = await freePort();
    const child = spawn(requireBin('nghttpx'), ['--conf=/dev/null', `-f127.0.0.1,${port};no-tls`, `-b127.0.0.1,${backend.port}`, '--errorlog-file=/dev/null'], {
      stdio: 'ignore',
    });
    master = child.pid!;
    await waitForPort(port);
    worker = childPids(master)[0] ?? master;
  });
  for (const [row, attack] of Object.entries(ATTACKS)) {
    it(row, async () => {
      const o = await runAttack(port, worker, attack);
      table.push({ target: 'nghttpx', row, o });
      expect(o.bystander.requests).toBeGreaterThan(0);
    });
  }
  afterAll(() => {
    if (master) process.kill(master, 'SIGKILL');
    if (worker && worker !== master && alive(worker)) process.kill(worker, 'SIGKILL');
    backend?.close();
  });
});
describe.runIf(peers.includes('nghttpd'))('the same battery against nghttpd (informational)', () => {
  let pid = 0;
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
    const child = spawn(requireBin('nghttpd'), ['--no-tls', '-d', root, String(port)], { stdio: 'ignore' });
    pid = child.pid!;
    await waitForPort(port);
  });
  for (const [row, attack] of Object.entries(ATTACKS)) {
    it(row, async () => {
      const o = await runAttack(port, pid, attack);
      table.push({ target: 'nghttpd', row, o });
      expect(o.bystander.requests).toBeGreaterThan(0);
    });
  }
  afterAll(() => {
    if (pid) process.kill(pid, 'SIGKILL');
  });
});
