/**
 * SIGINT and SIGTERM: h2serve sends GOAWAY, lets in-flight streams finish
 * (at most 5 s, as --help says), and exits 0, also with workers, also
 * when the signal comes the moment it announced that it listens.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, Flag, FrameType, SettingId } from '../../src/h2/index.js';
import { fetchWith } from '../helpers/h2-clients.js';
import { RawClient } from '../helpers/h2-raw-client.js';
import { alive, childPids, h2serveArgv, killAll, requireBin, startH2Serve, until } from '../helpers/h2serve.js';

let dir = '';
const MIB = randomBytes(1 << 20);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'h2serve-signals-'));
  writeFileSync(join(dir, 'index.html'), 'signals\n');
  writeFileSync(join(dir, '1m.bin'), MIB);
  writeFileSync(join(dir, '64m.bin'), Buffer.alloc(64 << 20, 0x61));
});

afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('signals', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s: GOAWAY NO_ERROR to an idle connection, the close, exit 0', async (signal) => {
    const s = await startH2Serve(['--no-tls', '-d', dir, '0']);
    const c = await RawClient.open(s.port);
    c.send(c.request(1, '/index.html'));
    expect((await c.response(1)).body.toString()).toBe('signals\n');
    const exit = s.kill(signal);
    const g = await c.goaway(10_000);
    expect(g.errorCode).toBe(ErrorCode.NO_ERROR);
    expect(g.lastStreamId).toBe(1);
    await c.waitClosed(10_000);
    expect(await exit).toEqual({ code: 0, signal: null });
  });

  it('TLS: a client that never completes the handshake does not hold up the exit', async () => {
    const s = await startH2Serve(['--self-signed', '-d', dir, '0']);
    const idle = net.connect(s.port, '127.0.0.1');
    idle.on('error', () => {});
    const closed = new Promise<void>((resolve) => idle.on('close', () => resolve()));
    await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
    // And one that completed it and was served.
    const r = await fetchWith('node', `${s.url}/index.html`, { insecure: true });
    expect(r.body.toString()).toBe('signals\n');
    expect(await s.kill('SIGTERM', 20_000)).toEqual({ code: 0, signal: null });
    await closed;
  });

  it('a signal the moment the listening line appears still gets the graceful exit 0', async () => {
    // A supervisor may act on the listening line at once: the handlers must already be there.
    for (let i = 0; i < 8; i++) {
      const argv = h2serveArgv(['--no-tls', '-d', dir, '0']);
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (/listening on/.test(err)) child.kill('SIGTERM');
      });
      const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.on('exit', (code, sig) => resolve({ code, signal: sig })),
      );
      expect(exit, `run ${i}: ${err}`).toEqual({ code: 0, signal: null });
    }
  });

  it('an in-flight download completes after GOAWAY, then the process exits 0', async () => {
    const s = await startH2Serve(['--no-tls', '-d', dir, '0']);
    // The client holds the download at the initial 65,535-octet window until after the signal.
    const c = await RawClient.open(s.port);
    c.send(c.request(1, '/1m.bin'));
    await until(() => c.responseSoFar(1).body.length === 65535, 10_000, 'the first window of data');
    const exit = s.kill('SIGTERM');
    const g = await c.goaway(10_000);
    expect(g.errorCode).toBe(ErrorCode.NO_ERROR);
    expect(g.lastStreamId).toBe(1);
    // A stream opened after the GOAWAY is not served.
    c.send(c.request(3, '/index.html'));
    // Now let the rest through.
    c.send(c.windowUpdate(0, MIB.length), c.windowUpdate(1, MIB.length));
    const r = await c.response(1, 10_000);
    expect(r.rst).toBeNull();
    expect(r.body.equals(MIB)).toBe(true);
    await c.waitClosed(10_000);
    expect(c.frames.filter((f) => f.streamId === 3 && f.type === FrameType.HEADERS)).toEqual([]);
    expect(await exit).toEqual({ code: 0, signal: null });
  });

  it.concurrent('a download that does not progress is bounded: the process exits 0 after the grace period', async () => {
    const s = await startH2Serve(['--no-tls', '-d', dir, '0']);
    const c = await RawClient.open(s.port, [[SettingId.INITIAL_WINDOW_SIZE, 1000]]);
    c.send(c.request(1, '/64m.bin'));
    await until(() => c.responseSoFar(1).body.length === 1000, 10_000, 'the first window of data');
    const exit = s.kill('SIGTERM', 30_000);
    await c.goaway(10_000);
    // Never a WINDOW_UPDATE: the stream cannot finish, the connection is closed anyway.
    await c.waitClosed(20_000);
    expect(c.responseSoFar(1).body.length).toBe(1000);
    expect(c.frames.some((f) => f.streamId === 1 && (f.flags & Flag.END_STREAM) !== 0)).toBe(false);
    expect(await exit).toEqual({ code: 0, signal: null });
  });

  it.concurrent('curl --limit-rate downloading 64 MiB during SIGINT: bounded, exit 0', async () => {
    const curl = requireBin('curl');
    const s = await startH2Serve(['-v', '--no-tls', '-d', dir, '0']);
    const child = spawn(curl, ['-sS', '--http2-prior-knowledge', '--limit-rate', '2M', '-o', '/dev/null', '-w', '%{size_download}', `${s.url}/64m.bin`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const curlExit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Under way: the response and some data have gone out.
    await s.waitForStdout(/send DATA frame <length=\d+, flags=0x00, stream_id=1>(.|\n)*send DATA frame <length=\d+, flags=0x00, stream_id=1>/, 15_000);
    const exit = s.kill('SIGINT', 30_000);
    expect(await exit).toEqual({ code: 0, signal: null });
    const code = await curlExit;
    // curl got part of the file and reports the cut (the server did not wait for 30 s of download).
    expect(code, err).not.toBe(0);
    expect(Number(out)).toBeGreaterThan(0);
    expect(Number(out)).toBeLessThan(64 << 20);
  });
  it.each(['SIGTERM', 'SIGINT'] as const)('-n 2 and %s: the workers stop and the primary exits 0', async (signal) => {
    const s = await startH2Serve(['-n', '2', '--no-tls', '-d', dir, '0'], { ready: /2 workers listening/ });
    await until(() => childPids(s.pid).length === 2, 10_000, 'two workers');
    const workers = childPids(s.pid);
    const c = await RawClient.open(s.port);
    c.send(c.request(1, '/index.html'));
    expect((await c.response(1)).body.toString()).toBe('signals\n');
    const exit = s.kill(signal);
    const g = await c.goaway(10_000);
    expect(g.errorCode).toBe(ErrorCode.NO_ERROR);
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(workers.filter(alive)).toEqual([]);
  });
});
