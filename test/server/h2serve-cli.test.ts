/**
 * h2serve's process-level options and command line: -a, -d, -D, -V, -n,
 * --version, --help, bad values (exit 2, one line, no stack trace) and a
 * port in use (exit 1).
 */
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { fetchWith } from '../helpers/h2-clients.js';
import { RawClient } from '../helpers/h2-raw-client.js';
import {
  alive,
  childPids,
  exec,
  type H2ServeProcess,
  holdsSocket,
  killAll,
  killIfSame,
  listeningInodes,
  opensslCert,
  requireBin,
  runH2Serve,
  startH2Serve,
  startTime,
  until,
} from '../helpers/h2serve.js';

let dir = '';
let other = '';
const servers: H2ServeProcess[] = [];
/** Daemons started by a test: pid and start time (the pid may be reused once it is gone). */
const daemons: Array<[number, string | null]> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'h2serve-cli-'));
  writeFileSync(join(dir, 'index.html'), '<h1>cli</h1>\n');
  other = join(dir, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'index.html'), '<h1>other</h1>\n');
});

afterEach(async () => {
  const list = servers.splice(0);
  await Promise.all(list.map((s) => s.stop()));
  for (const [pid, started] of daemons.splice(0)) killIfSame(pid, started);
});

afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(args: string[], opts: Parameters<typeof startH2Serve>[1] = {}): Promise<H2ServeProcess> {
  const s = await startH2Serve(args, opts);
  servers.push(s);
  return s;
}

const get = async (url: string, insecure = false): Promise<string> => {
  const r = await fetchWith('node', url, { insecure, timeout: 10_000 });
  expect(r.status).toBe(200);
  return r.body.toString();
};

/** Resolves with the connect error code, or 'connected'. */
const tryConnect = (host: string, port: number): Promise<string> =>
  new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });

describe('listening', () => {
  it('-a 127.0.0.1: binds that address only (127.0.0.2 is refused)', async () => {
    const s = await serve(['-a', '127.0.0.1', '--no-tls', '-d', dir, '0']);
    expect(s.stderr).toMatch(new RegExp(`listening on http://127\\.0\\.0\\.1:${s.port}/`));
    expect(await get(`http://127.0.0.1:${s.port}/`)).toBe('<h1>cli</h1>\n');
    expect(await tryConnect('127.0.0.2', s.port)).toBe('ECONNREFUSED');
    // Without -a: all interfaces.
    const t = await serve(['--no-tls', '-d', dir, '0']);
    expect(await tryConnect('127.0.0.2', t.port)).toBe('connected');
  });

  it('-d serves that directory; without -d, the current directory', async () => {
    const s = await serve(['--no-tls', '-d', other, '0']);
    expect(await get(`${s.url}/`)).toBe('<h1>other</h1>\n');
    const t = await serve(['--no-tls', '0'], { cwd: dir });
    expect(await get(`${t.url}/`)).toBe('<h1>cli</h1>\n');
    const r = await runH2Serve(['--no-tls', '-d', join(dir, 'missing'), '0']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`h2serve: htdocs ${join(dir, 'missing')} is not a directory`);
  });

  it('--cache-valid 30: a changed file is served as cached until then; without it, the change is served at once', async () => {
    const file = join(dir, 'changing.txt');
    writeFileSync(file, 'first');
    // Older than h2serve's racy window (2 s): a file written that recently is read again anyway.
    await new Promise((r) => setTimeout(r, 2100));
    const trusting = await serve(['--no-tls', '-d', dir, '--cache-valid', '30', '0']);
    const strict = await serve(['--no-tls', '-d', dir, '0']);
    expect(await get(`${trusting.url}/changing.txt`)).toBe('first');
    expect(await get(`${strict.url}/changing.txt`)).toBe('first');
    writeFileSync(file, 'second, longer');
    expect(await get(`${trusting.url}/changing.txt`)).toBe('first');
    expect(await get(`${strict.url}/changing.txt`)).toBe('second, longer');
  });

  it('a port in use: exit 1 with a clear message', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const r = await runH2Serve(['--no-tls', '-d', dir, String(port)], { timeout: 15_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`h2serve: cannot listen on *:${port}: address already in use\n`);
      expect(r.stdout.length).toBe(0);
    } finally {
      blocker.close();
    }
  });
});

describe('-D', () => {
  /** Starts h2serve -D; returns the daemon's pid and port once the command has exited 0. */
  async function daemon(args: string[], cwd?: string): Promise<{ pid: number; port: number; stderr: string }> {
    const r = await runH2Serve(['-D', ...args], { timeout: 20_000, ...(cwd ? { cwd } : {}) });
    expect(r.code, r.stderr).toBe(0);
    const m = /listening on http:\/\/\S+:(\d+)\/.*\(in the background, pid (\d+)\)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const pid = Number(m![2]);
    daemons.push([pid, startTime(pid)]);
    return { pid, port: Number(m![1]), stderr: r.stderr };
  }

  it('returns with exit 0, the server keeps serving (relative -d resolved first) from /, detached; SIGTERM to the printed pid stops it', async () => {
    // A relative -d is resolved where the command ran, before the daemon moves to /.
    const d = await daemon(['--no-tls', '-d', 'other', '0'], dir);
    expect(alive(d.pid)).toBe(true);
    expect(await get(`http://127.0.0.1:${d.port}/`)).toBe('<h1>other</h1>\n');
    expect(readlinkSync(`/proc/${d.pid}/cwd`)).toBe('/');
    // Its own session (setsid), and no terminal output: stdout and stderr go to /dev/null.
    const stat = readFileSync(`/proc/${d.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect(Number(fields[3]), 'session id').toBe(d.pid);
    expect(readlinkSync(`/proc/${d.pid}/fd/1`)).toBe('/dev/null');
    expect(readlinkSync(`/proc/${d.pid}/fd/2`)).toBe('/dev/null');
    process.kill(d.pid, 'SIGTERM');
    await until(() => !alive(d.pid), 10_000, 'the daemon to exit');
    expect(await tryConnect('127.0.0.1', d.port)).toBe('ECONNREFUSED');
  });

  it('-D -n 2: a worker killed after the command returned is replaced, and the daemon keeps serving', async () => {
    const d = await daemon(['-n', '2', '--no-tls', '-d', dir, '0']);
    await until(() => childPids(d.pid).length === 2, 10_000, 'two workers');
    const [victim] = childPids(d.pid);
    process.kill(victim!, 'SIGKILL');
    await until(() => childPids(d.pid).length === 2 && !childPids(d.pid).includes(victim!), 10_000, 'a replacement worker');
    expect(alive(d.pid)).toBe(true);
    for (let i = 0; i < 4; i++) expect(await get(`http://127.0.0.1:${d.port}/`)).toBe('<h1>cli</h1>\n');
    const workers = childPids(d.pid);
    process.kill(d.pid, 'SIGTERM');
    await until(() => !alive(d.pid) && workers.every((w) => !alive(w)), 10_000, 'the daemon and its workers to exit');
  });

  it('-D --self-signed: the certificate note and the listening line come back; TLS serves', async () => {
    const r = await runH2Serve(['-D', '--self-signed', '-d', dir, '0'], { timeout: 20_000 });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^h2serve: --self-signed: serving with a throwaway certificate for localhost/);
    const m = /^h2serve: listening on https:\/\/\S+:(\d+)\/ \(TLS, ALPN h2\) \(in the background, pid (\d+)\)$/.exec(lines[1]!);
    expect(m, r.stderr).not.toBeNull();
    const pid = Number(m![2]);
    daemons.push([pid, startTime(pid)]);
    expect(await get(`https://localhost:${m![1]}/`, true)).toBe('<h1>cli</h1>\n');
    process.kill(pid, 'SIGTERM');
    await until(() => !alive(pid), 10_000, 'the daemon to exit');
  });

  it('-vD (combined flags): one daemon, which does not daemonize again', async () => {
    const r = await runH2Serve(['-vD', '--no-tls', '-d', dir, '0'], { timeout: 20_000 });
    expect(r.code, r.stderr).toBe(0);
    const m = /listening on http:\/\/\S+:(\d+)\/.*\(in the background, pid (\d+)\)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const pid = Number(m![2]);
    daemons.push([pid, startTime(pid)]);
    expect(await get(`http://127.0.0.1:${m![1]}/`)).toBe('<h1>cli</h1>\n');
    expect(childPids(pid)).toEqual([]);
    process.kill(pid, 'SIGTERM');
    await until(() => !alive(pid), 10_000, 'the daemon to exit');
  });

  it('a daemon that cannot start: the command fails with its message', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const r = await runH2Serve(['-D', '--no-tls', '-d', dir, String(port)], { timeout: 15_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`h2serve: cannot listen on *:${port}: address already in use\n`);
    } finally {
      blocker.close();
    }
  });
});

describe('-V', () => {
  it('a TLS client without a certificate is refused; with one it is served', async () => {
    const server = await opensslCert(dir, 'server');
    const client = await opensslCert(dir, 'client', 'client');
    const curl = requireBin('curl');
    const s = await serve(['-V', '-d', dir, '0', server.key, server.cert]);
    const url = `https://localhost:${s.port}/`;
    const without = await exec(curl, ['-sS', '-k', '--http2', url]);
    expect(without.code).not.toBe(0);
    expect(without.stdout.length).toBe(0);
    const withCert = await exec(curl, ['-sS', '-k', '--http2', '--cert', client.cert, '--key', client.key, '-w', '\n%{http_version} %{http_code}', url]);
    expect(withCert.code, withCert.stderr).toBe(0);
    expect(withCert.stdout.toString()).toBe('<h1>cli</h1>\n\n2 200');
    // Without -V no certificate is asked for.
    const t = await serve(['-d', dir, '0', server.key, server.cert]);
    const plain = await exec(curl, ['-sS', '-k', '--http2', `https://localhost:${t.port}/`]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.toString()).toBe('<h1>cli</h1>\n');
  });
});

describe('the h2serve command', () => {
  it.skipIf(process.env['H2KIT_CLI_DIR'] !== undefined)("runs Node with a 1 MiB young generation (its launcher's flag), and so do its workers", async () => {
    const s = await serve(['-n', '2', '--no-tls', '-d', dir, '0']);
    await until(() => childPids(s.pid).length === 2, 10_000, 'two workers');
    for (const pid of [s.pid, ...childPids(s.pid)]) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(argv).toContain('--max-semi-space-size=1');
    }
  });
});

describe('-n workers', () => {
  it('-n 2: two workers serve; one killed with SIGKILL is replaced while requests keep succeeding', async () => {
    const s = await serve(['-n', '2', '--no-tls', '-d', dir, '0'], { ready: /2 workers listening on/ });
    await until(() => childPids(s.pid).length === 2, 10_000, 'two workers');
    const before = childPids(s.pid);
    for (let i = 0; i < 4; i++) expect(await get(`${s.url}/`)).toBe('<h1>cli</h1>\n');
    // Keep a stream of requests going while a worker dies.
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const load = (async () => {
      while (!stop) {
        try {
          const r = await fetchWith('node', `${s.url}/`, { timeout: 10_000 });
          if (r.status === 200) ok++;
          else failures.push(String(r.status));
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    })();
    process.kill(before[0]!, 'SIGKILL');
    await until(() => childPids(s.pid).length === 2 && !childPids(s.pid).includes(before[0]!), 10_000, 'a replacement worker');
    const okAtReplacement = ok;
    await until(() => ok >= okAtReplacement + 20, 10_000, '20 more requests');
    stop = true;
    await load;
    // A connection that the dying worker held may fail; new ones never do.
    expect(failures.length, failures.join('; ')).toBeLessThanOrEqual(1);
    const after = childPids(s.pid);
    expect(after).toContain(before[1]!);
    expect(after.length).toBe(2);
    await s.waitForStderr(new RegExp(`worker \\d \\(pid ${before[0]}\\) killed by SIGKILL; starting another`));
    const workers = childPids(s.pid);
    servers.splice(servers.indexOf(s), 1);
    await s.stop();
    expect(workers.filter(alive)).toEqual([]);
  });
});

describe('-n: the kernel spreads the connections', () => {
  it('each worker holds the listening socket and accepts itself', async () => {
    const s = await serve(['-n', '2', '--no-tls', '-d', dir, '0'], { ready: /2 workers listening on/ });
    await until(() => childPids(s.pid).length === 2, 10_000, 'two workers');
    const inodes = listeningInodes(s.port);
    expect(inodes.length).toBeGreaterThan(0);
    for (const w of childPids(s.pid)) expect(holdsSocket(w, inodes), `worker ${w}`).toBe(true);
  });

  it('a connection made as a worker is killed is served or reset, never left hanging', async () => {
    const s = await serve(['-n', '2', '--no-tls', '-d', dir, '0'], { ready: /2 workers listening on/ });
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      await until(() => childPids(s.pid).length === 2, 10_000, 'two workers');
      const [victim] = childPids(s.pid);
      const sock = net.connect(s.port, '127.0.0.1');
      process.kill(victim!, 'SIGKILL');
      outcomes.push(
        await new Promise<string>((resolve) => {
          const t = setTimeout(() => resolve('no answer within 5 s'), 5000);
          const done = (what: string) => {
            clearTimeout(t);
            resolve(what);
          };
          sock.on('connect', () => sock.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00'));
          sock.on('data', () => done('served'));
          sock.on('error', () => done('reset'));
          sock.on('close', () => done('closed'));
        }),
      );
      sock.destroy();
      await until(() => !alive(victim!), 10_000, 'the killed worker to go');
    }
    expect(outcomes.filter((o) => o.startsWith('no answer'))).toEqual([]);
  });
});

describe('command line', () => {
  it('--version prints the version and exits 0', async () => {
    const r = await runH2Serve(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(`h2serve (h2kit) ${VERSION}\n`);
    expect(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version).toBe(VERSION);
  });

  it('--help lists every option and exits 0', async () => {
    const r = await runH2Serve(['--help']);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    expect(out).toMatch(/^Usage: h2serve \[OPTIONS\] <PORT> \[<PRIVATE_KEY> <CERT>\]/);
    for (const o of [
      '-a, --address',
      '-D, --daemon',
      '-V, --verify-client',
      '-d, --htdocs',
      '-v, --verbose',
      '--no-tls',
      '-c, --header-table-size',
      '--encoder-header-table-size',
      '--color',
      '-p, --push',
      '-b, --padding',
      '-m, --max-concurrent-streams',
      '-n, --workers',
      '-e, --error-gzip',
      '-w, --window-bits',
      '-W, --connection-window-bits',
      '--early-response',
      '--trailer',
      '--hexdump',
      '--echo-upload',
      '--mime-types-file',
      '--no-content-length',
      '--self-signed',
      '--cache-valid',
      '--version',
      '-h, --help',
    ]) {
      expect(out, o).toContain(o);
    }
    expect(r.stderr).toBe('');
  });

  it.each([
    [['-b', '300'], /^h2serve: option '-b, --padding <N>' argument '300' is invalid\. 300 is out of range \(0 to 256\)\.$/],
    [['-w', '40'], /^h2serve: option '-w, --window-bits <N>' argument '40' is invalid\. 40 is out of range \(0 to 31\)\.$/],
    [['-W', '40'], /^h2serve: option '-W, --connection-window-bits <N>' argument '40' is invalid\. 40 is out of range \(0 to 31\)\.$/],
    [
      ['-W', '15'],
      /^h2serve: option '-W, --connection-window-bits <N>' argument '15' is invalid\. The connection window cannot start below 65535 \(2\^16-1, RFC 9113 §6\.9\.2\): N is 16 to 31\.$/,
    ],
    [['-p', 'bad'], /^h2serve: --push 'bad': expected PATH=PUSH_PATH\[,PUSH_PATH\.\.\.\] with absolute paths/],
    [['--trailer', ':x: y'], /^h2serve: --trailer ':x: y': expected 'name: value' with a field name that is not a pseudo-header$/],
    // Accepted before, it made every response with a body end in RST_STREAM INTERNAL_ERROR.
    [
      ['--trailer', 'connection: x'],
      /^h2serve: --trailer 'connection: x': connection-specific field connection is not allowed in HTTP\/2 \(RFC 9113 §8\.2\.2\)$/,
    ],
    [['--bogus'], /^h2serve: unknown option '--bogus'$/],
    [['-m', '-1'], /^h2serve: option '-m, --max-concurrent-streams <N>' argument '-1' is invalid/],
    [['-n', '0'], /^h2serve: option '-n, --workers <N>' argument '0' is invalid/],
    [['-c', 'lots'], /^h2serve: option '-c, --header-table-size <SIZE>' argument 'lots' is invalid/],
    [['--cache-valid', 'soon'], /^h2serve: option '--cache-valid <SECONDS>' argument 'soon' is invalid\. 'soon' is not a number of seconds from 0 to 86400\.$/],
  ])('%j: exit 2 with a one-line message, no stack trace', async (bad, message) => {
    const r = await runH2Serve(['--no-tls', '-d', dir, ...bad, '0']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(message);
    // The message, then only the pointer to --help.
    expect(lines.slice(1)).toEqual(["h2serve: try 'h2serve --help'"]);
    expect(r.stdout.length).toBe(0);
  });

  it.each([['abc'], ['70000'], ['-1']])('PORT %s: exit 2', async (port) => {
    const r = await runH2Serve(['--no-tls', '-d', dir, '--', port]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`h2serve: PORT '${port}' is not a port number (0 to 65535)`);
  });

  it('a raw client can still connect to a server started with every wire option at once', async () => {
    const s = await serve([
      '--no-tls',
      '-d',
      dir,
      '-v',
      '-c',
      '8192',
      '--encoder-header-table-size',
      '1024',
      '-b',
      '5',
      '-m',
      '10',
      '-w',
      '18',
      '-W',
      '22',
      '--early-response',
      '--trailer',
      'a: b',
      '--hexdump',
      '--echo-upload',
      '--no-content-length',
      '-e',
      '-p',
      '/=/index.html',
      '0',
    ]);
    const c = await RawClient.open(s.port);
    try {
      c.send(c.request(1, '/'));
      const r = await c.response(1);
      expect(r.body.toString()).toBe('<h1>cli</h1>\n');
      expect(r.trailers).toEqual([['a', 'b']]);
    } finally {
      c.close();
    }
  });
});
