/** selfSignedCertificate (h2serve --self-signed, h2kit/server): certificates OpenSSL accepts, whatever the random serial. */
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { describe, expect, it, vi } from 'vitest';

// The serial's random octets, chosen by the test: OpenSSL refuses an INTEGER with a needless leading
// zero octet (DER, X.690 §8.3.2), which 1 serial in 256 had.
const serials: number[][] = [];
vi.mock('node:crypto', async (original) => {
  const crypto = await original<typeof import('node:crypto')>();
  return { ...crypto, randomBytes: (n: number) => Buffer.from(serials.shift() ?? crypto.randomBytes(n)) };
});
const { selfSignedCertificate } = await import('../../src/server/self-signed.js');

describe('selfSignedCertificate', () => {
  it('a positive serial in minimal DER whatever the random octets (leading zeros, high bit set)', () => {
    for (const first of [
      [0x00, 0x00],
      [0x00, 0x7f],
      [0x80, 0x00],
      [0xff, 0xff],
      [0x01, 0x80],
    ]) {
      serials.push([...first, ...new Array<number>(14).fill(0x5a)]);
      const { key, cert } = selfSignedCertificate();
      const x = new X509Certificate(cert);
      expect(x.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
      expect(x.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
      expect(() => createSecureContext({ key, cert })).not.toThrow();
    }
  });
});
