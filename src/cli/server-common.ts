/**
 * What the servers (h2serve, h2proxy) share at start-up: their key pair read
 * and checked, and why they could not listen. Apart from common.ts so that
 * the HPACK tools do not load node:tls.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { UsageError } from './common.js';

/** OpenSSL's reason without its code: 'error:05800074:x509 certificate routines::key values mismatch' -> 'x509 certificate routines: key values mismatch'. */
function opensslReason(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/^error:[0-9A-F]+:([^:]*)::?/, '$1: ');
}

/** PRIVATE_KEY and CERT read and checked together now, so that a message names the files (not a port); throws UsageError. */
export function loadKeyPair(keyFile: string, certFile: string): { key: Buffer; cert: Buffer } {
  const read = (f: string, what: string): Buffer => {
    try {
      return readFileSync(f);
    } catch (e) {
      throw new UsageError(`cannot read the ${what} ${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
  };
  const key = read(keyFile, 'private key');
  const cert = read(certFile, 'certificate');
  try {
    createSecureContext({ key, cert });
  } catch (e) {
    throw new UsageError(`PRIVATE_KEY ${keyFile} and CERT ${certFile} cannot be used: ${opensslReason(e)}`);
  }
  return { key, cert };
}

/** Why a server could not listen, in words (Node's code for the common cases). */
export function listenFailureReason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address already in use';
    case 'EACCES':
      return 'permission denied';
    case 'EADDRNOTAVAIL':
      return 'address not available';
    default:
      return err.message;
  }
}
