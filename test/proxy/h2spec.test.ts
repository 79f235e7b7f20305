/**
 * h2spec against h2proxy's frontends (h2c and TLS), with an HTTP/1.1
 * backend behind: every case passes, in strict mode too (nghttpx 1.52 passes
 * 140 of the 146 default cases here).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { type EchoBackend, killProxies, type ProxyProcess, startEchoBackend, startProxy } from '../helpers/h2proxy.js';
import { opensslCert } from '../helpers/h2serve.js';
import { H2SPEC, h2spec } from '../helpers/h2spec.js';

describe.skipIf(!existsSync(H2SPEC))('h2spec against h2proxy', () => {
  let backend: EchoBackend;
  let p: ProxyProcess;
  beforeAll(async () => {
    const cert = await opensslCert(tempDir('h2proxy-h2spec-'));
    backend = await startEchoBackend('h2spec');
    p = await startProxy(['-f127.0.0.1,0;no-tls', '-f127.0.0.1,0', `-b127.0.0.1,${backend.port}`, cert.key, cert.cert], { listeners: 2 });
  });
  afterAll(async () => {
    await killProxies();
    await backend.close();
  });

  it('h2c: 146 of 146, and 147 of 147 with --strict', async () => {
    const r = await h2spec(['-h', '127.0.0.1', '-p', String(p.ports[0])]);
    expect(r.failed, r.output.slice(-4000)).toEqual([]);
    expect(r.total).toBe(146);
    const strict = await h2spec(['-h', '127.0.0.1', '-p', String(p.ports[0]), '--strict']);
    expect(strict.failed, strict.output.slice(-4000)).toEqual([]);
    expect(strict.total).toBe(147);
  });

  it('TLS with ALPN h2: 147 of 147 with --strict', async () => {
    const r = await h2spec(['-h', '127.0.0.1', '-p', String(p.ports[1]), '-t', '-k', '--strict']);
    expect(r.failed, r.output.slice(-4000)).toEqual([]);
    expect(r.total).toBe(147);
  });
});
