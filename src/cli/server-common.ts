/**
 * What the servers (h2serve, h2proxy) share at start-up: their key pair read
 * and checked, and why they could not listen. Apart from common.ts so that
 * the HPACK tools do not load node:tls.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { setFlagsFromString } from 'node:v8';
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

/**
 * Keeps V8's young generation at its initial size (two 1 MiB semi-spaces)
 * instead of letting it grow to 16 MiB each under load, which a server
 * then holds for as long as it runs. Measured on h2serve (1 KiB and 100 KiB
 * over h2c and TLS): the same CPU per request, about 10 MiB less resident
 * after a burst. Left alone when the user gives V8 semi-space flags of
 * their own (on the command line or in NODE_OPTIONS). The flag is one V8
 * reads whenever it resizes the young generation, so it works when set at
 * run time.
 */
export function keepYoungGenerationSmall(): void {
  const flag = youngGenerationFlag(process.execArgv, process.env['NODE_OPTIONS']);
  if (flag !== null) setFlagsFromString(flag);
}

/** The V8 flag keepYoungGenerationSmall() sets, or null when the user's own flags decide. */
export function youngGenerationFlag(execArgv: readonly string[], nodeOptions: string | undefined): string | null {
  const given = [...execArgv, nodeOptions ?? ''].some((a) => a.includes('semi-space') || a.includes('semi_space'));
  return given ? null : SMALL_YOUNG_GENERATION;
}

export const SMALL_YOUNG_GENERATION = '--semi-space-growth-factor=1';
