/**
 * h2serve over TLS with ALPN h2, with --self-signed and with a key and
 * certificate made by openssl: curl, nghttp and h2load speak HTTP/2; a
 * client that offers only http/1.1 gets TLS's no_application_protocol
 * alert; a client without ALPN gets no HTTP/2 and is disconnected.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchWith } from '../helpers/h2-clients.js';
import { exec, type H2ServeProcess, h2loadSucceeded, killAll, opensslCert, requireBin, runH2Serve, sha256, startH2Serve } from '../helpers/h2serve.js';

let dir = '';
const big = randomBytes(1 << 20);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'h2serve-tls-'));
});

afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** The TLS setups (options, and what follows PORT): --self-signed, and a key/certificate pair from `openssl req -x509`. */
const SETUPS: Array<[string, () => Promise<{ options: string[]; keyCert: string[] }>]> = [
  ['--self-signed', async () => ({ options: ['--self-signed'], keyCert: [] })],
  [
    'an openssl key and certificate',
    async () => {
      const { key, cert } = await opensslCert(dir);
      return { options: [], keyCert: [key, cert] };
    },
  ],
];

describe.each(SETUPS)('TLS with %s', (_name, setup) => {
  let server: H2ServeProcess;
  let root = '';

  beforeAll(async () => {
    root = mkdtempSync(join(dir, 'root-'));
    writeFileSync(join(root, 'index.html'), '<h1>tls</h1>\n');
    writeFileSync(join(root, 'big.bin'), big);
    const { options, keyCert } = await setup();
    server = await startH2Serve([...options, '-d', root, '0', ...keyCert]);
    expect(server.scheme).toBe('https');
  });

  afterAll(async () => {
    if (server) await server.stop();
  });

  it('curl --http2 -k gets the file over HTTP/2', async () => {
    const r = await fetchWith('curl', `${server.url}/big.bin`, { insecure: true });
    expect(r.httpVersion).toBe('2');
    expect(r.status).toBe(200);
    expect(sha256(r.body)).toBe(sha256(big));
  });

  it('Node http2 gets the file (ALPN h2)', async () => {
    const r = await fetchWith('node', `${server.url}/index.html`, { insecure: true });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('<h1>tls</h1>\n');
  });

  it('nghttp -nv over TLS negotiates h2 and completes the stream', async () => {
    const r = await exec(requireBin('nghttp'), ['-nv', `${server.url}/index.html`]);
    const out = r.stdout.toString();
    expect(r.code, out + r.stderr).toBe(0);
    expect(out).toMatch(/The negotiated protocol: h2\b/);
    expect(out).toMatch(/recv \(stream_id=13\) :status: 200/);
    expect(out).toMatch(/recv DATA frame <length=13, flags=0x01, stream_id=13>/);
  });

  it('h2load -n 2000 -c 4 -m 10: all succeed', async () => {
    const r = await exec(requireBin('h2load'), ['-n', '2000', '-c', '4', '-m', '10', `${server.url}/index.html`], { timeout: 120_000 });
    const out = r.stdout.toString();
    expect(r.code, out + r.stderr).toBe(0);
    expect(out).toMatch(/Application protocol: h2/);
    expect(h2loadSucceeded(out)).toEqual({ total: 2000, succeeded: 2000, failed: 0, errored: 0 });
  });

  it('a client that offers only http/1.1 is refused with a TLS alert, no content', async () => {
    const r = await exec(requireBin('curl'), ['-sS', '-k', '--http1.1', `${server.url}/index.html`]);
    expect(r.code).toBe(35); // CURLE_SSL_CONNECT_ERROR
    expect(r.stderr).toMatch(/no application protocol/i);
    expect(r.stdout.length).toBe(0);
  });

  it('a client without ALPN (openssl s_client) gets no HTTP/2 and the connection closes', async () => {
    const openssl = requireBin('openssl');
    // stdin stays open: s_client ends only because the server closes the connection.
    const child = spawn(openssl, ['s_client', '-connect', `127.0.0.1:${server.port}`, '-servername', 'localhost'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', () => {});
    const ended = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 10_000);
      child.on('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    child.kill('SIGKILL');
    const text = Buffer.concat(out);
    expect(ended, 'the server closed the connection').toBe(true);
    expect(text.toString('latin1')).toMatch(/No ALPN negotiated/);
    expect(text.toString('latin1')).toMatch(/BEGIN CERTIFICATE|Server certificate/); // the handshake did complete
    // No SETTINGS frame (nor anything binary): s_client prints application data as it comes.
    expect(text.includes(0)).toBe(false);
  });

  it('a Node TLS client without ALPN receives no octet before the close', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.port, servername: 'localhost', rejectUnauthorized: false });
    let received = 0;
    let handshake = false;
    socket.on('secureConnect', () => {
      handshake = true;
      // A client preface that the server must not answer.
      socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00');
    });
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.on('error', () => {});
    const closed = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 10_000);
      socket.on('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    socket.destroy();
    expect(handshake).toBe(true);
    expect(socket.alpnProtocol).toBe(false);
    expect(closed).toBe(true);
    expect(received).toBe(0);
  });
});

describe('TLS and the log', () => {
  it('-v --hexdump under TLS: the ALPN offer, the negotiated protocol, the decrypted preface and the frames', async () => {
    const root = mkdtempSync(join(dir, 'log-'));
    writeFileSync(join(root, 'index.html'), 'tls log\n');
    const s = await startH2Serve(['-v', '--hexdump', '--self-signed', '-d', root, '0']);
    try {
      const r = await exec(requireBin('curl'), ['-sS', '-k', '--http2', `${s.url}/`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString()).toBe('tls log\n');
      await s.waitForStdout(/stream_id=1 closed/);
      const out = s.stdout;
      expect(out).toMatch(/^\[ALPN\] client offers:\n \* h2\n \* http\/1\.1$/m);
      expect(out).toMatch(/^SSL\/TLS handshake completed\nThe negotiated protocol: h2$/m);
      expect(out).toContain('00000000  50 52 49 20 2a 20 48 54  54 50 2f 32 2e 30 0d 0a  |PRI * HTTP/2.0..|');
      expect(out).toMatch(/^\[id=1\] \[ *\d+\.\d{3}\] recv \(stream_id=1\) :scheme: https$/m);
      expect(out).toMatch(/^\[id=1\] \[ *\d+\.\d{3}\] send DATA frame <length=8, flags=0x01, stream_id=1>$/m);
    } finally {
      await s.stop();
    }
  });
});

describe('TLS start-up errors', () => {
  it('PRIVATE_KEY and CERT missing without --no-tls: exit 2 with a clear message', async () => {
    for (const args of [['0'], ['0', join(dir, 'only-a-key.pem')]]) {
      const r = await runH2Serve(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe('h2serve: PRIVATE_KEY and CERT are required unless --no-tls or --self-signed');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout.length).toBe(0);
    }
  });

  it('an unreadable key file: exit 2 naming it', async () => {
    const { cert } = await opensslCert(dir, 'lonely');
    const r = await runH2Serve(['0', join(dir, 'nonexistent.key'), cert]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`h2serve: cannot read the private key ${join(dir, 'nonexistent.key')}: no such file`);
  });
  it('a key that is not PEM, a certificate that is not PEM, a key that does not match: exit 2 naming the files, not a listen error', async () => {
    const a = await opensslCert(dir, 'a');
    const b = await opensslCert(dir, 'b');
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'this is not PEM\n');
    for (const [key, cert] of [
      [garbage, a.cert],
      [a.key, garbage],
      [a.key, b.cert],
    ] as const) {
      const r = await runH2Serve(['0', key, cert]);
      expect(r.code, `${key} ${cert}: ${r.stderr}`).toBe(2);
      const first = r.stderr.split('\n')[0]!;
      expect(first).toContain(`PRIVATE_KEY ${key} and CERT ${cert} cannot be used`);
      expect(first).not.toMatch(/cannot listen/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
