/** createSecureServer / createServer({ tls }) with the client engine: ALPN h2, refusals and the handshake timeout. */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createSecureServer, Http2Error, type Http2Server } from '../../src/h2/index.js';
import { selfSignedCertificate } from '../../src/server/self-signed.js';

const { key, cert } = selfSignedCertificate();
let server: Http2Server;
let port = 0;
beforeAll(async () => {
  server = createSecureServer(
    { key, cert },
    { handler: (s) => s.respond(200, { 'content-type': 'text/plain' }, `over ${s.scheme}`), limits: { handshakeTimeout: 300 } },
  );
  port = (await server.listen(0, '127.0.0.1')).port;
});
afterAll(() => server.close({ graceful: false }));

describe('createSecureServer', () => {
  it('serves h2 over TLS to a client that verifies the certificate', async () => {
    const s = await connect(`https://localhost:${port}`, { tls: { ca: cert } });
    try {
      expect(s.alpnProtocol).toBe('h2');
      expect(s.tls?.authorized).toBe(true);
      expect(await (await s.request({ ':path': '/' })).text()).toBe('over https');
    } finally {
      s.destroy();
    }
  });

  it('an unverifiable certificate fails the client unless told otherwise', async () => {
    const e = await connect(`https://localhost:${port}`).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Http2Error);
    expect((e as Http2Error).code).toBe('CONNECT_FAILED');
    const s = await connect(`https://localhost:${port}`, { tls: { rejectUnauthorized: false } });
    expect(s.tls?.authorized).toBe(false);
    expect(s.tls?.authorizationError).toMatch(/SELF_SIGNED|self.signed/i);
    s.destroy();
  });

  it('a TLS client that does not offer h2 fails the handshake (no_application_protocol)', async () => {
    const err = await new Promise<Error>((resolve) => {
      const t = tls.connect({ host: '127.0.0.1', port, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false });
      t.on('error', resolve);
      t.on('secureConnect', () => resolve(new Error(`negotiated ${String(t.alpnProtocol)}`)));
    });
    expect(err.message).toMatch(/no application protocol|alert number 120/i);
  });

  it('a client that never completes the handshake is disconnected after limits.handshakeTimeout', async () => {
    const t0 = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    await new Promise((r) => sock.once('close', r));
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
