/**
 * Opening a client's connection: TCP (or a UNIX domain socket with -B
 * unix:PATH), then TLS with ALPN for https; which protocol to speak is
 * decided here, as h2load decides it (ALPN's choice, http/1.1 when nothing
 * was selected and the list allows it, -p / --h1 over cleartext).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { BenchConfig, Protocol } from './config.js';

/** A connection that is up, and what was negotiated. */
export interface Established {
  socket: net.Socket;
  protocol: Protocol;
  /** What h2load prints about the first connection ("TLS Protocol: ...", "Application protocol: ..."). */
  lines: string[];
}

/** Why a connection could not be made, in one line (also the key errors are counted by). */
export class ConnectError extends Error {}

function where(c: BenchConfig): string {
  return c.unixPath !== null ? `unix:${c.unixPath}` : `${c.connectHost.includes(':') ? `[${c.connectHost}]` : c.connectHost}:${c.connectPort}`;
}

/** OpenSSL's and libuv's codes without their noise: 'connect ECONNREFUSED 127.0.0.1:1' -> 'ECONNREFUSED'. */
function reason(e: NodeJS.ErrnoException): string {
  if (e.code && /^E[A-Z]+$/.test(e.code)) return e.code;
  return e.message.replace(/^error:[0-9A-F]+:[^:]*:+/, '');
}

function serverTempKey(s: tls.TLSSocket): string | null {
  const k = s.getEphemeralKeyInfo();
  if (!k || typeof k !== 'object' || !('type' in k)) return null;
  if (k.type === 'DH') return `DH ${k.size} bits`;
  // X25519 and X448 are their own key types (not EC) for OpenSSL; h2load prints them by name.
  if (k.name === 'X25519' || k.name === 'X448') return `${k.name} ${k.size} bits`;
  return `${k.type} ${k.name} ${k.size} bits`;
}

/**
 * Connects; `done` gets the connection, or a ConnectError. The socket is
 * returned at once, so that the caller can destroy it on a timeout.
 */
export function openConnection(c: BenchConfig, done: (err: ConnectError | null, e: Established | null) => void): net.Socket {
  const secure = c.scheme === 'https';
  let settled = false;
  let tcpUp = false;
  const finish = (err: ConnectError | null, e: Established | null) => {
    if (settled) return;
    settled = true;
    done(err, e);
  };
  const target: net.NetConnectOpts = c.unixPath !== null ? { path: c.unixPath } : { host: c.connectHost, port: c.connectPort };
  let socket: net.Socket;
  if (secure) {
    const opts: tls.ConnectionOptions = {
      ...target,
      // h2load does not verify the server's certificate: it measures, it does not authenticate.
      rejectUnauthorized: false,
      ALPNProtocols: c.alpn,
    };
    const sni = c.sni ?? (net.isIP(c.host) === 0 ? c.host : null);
    if (sni !== null) opts.servername = sni;
    if (c.ciphers !== null || c.tls13Ciphers !== null) opts.ciphers = [c.ciphers, c.tls13Ciphers].filter((x) => x !== null).join(':');
    if (c.groups !== null) opts.ecdhCurve = c.groups;
    socket = tls.connect(opts);
  } else {
    socket = net.connect(target);
  }
  socket.setNoDelay(true);
  socket.once('connect', () => (tcpUp = true));
  socket.once('error', (e: NodeJS.ErrnoException) => {
    const what = secure && tcpUp ? 'TLS handshake with' : 'cannot connect to';
    finish(new ConnectError(`${what} ${where(c)}: ${reason(e)}`), null);
  });
  socket.once('close', () =>
    finish(new ConnectError(`${where(c)} closed the connection ${secure && tcpUp ? 'during the TLS handshake' : 'before it was up'}`), null),
  );
  socket.once(secure ? 'secureConnect' : 'connect', () => {
    if (!secure) {
      const protocol = c.cleartextProtocol;
      return finish(null, { socket, protocol, lines: [`Application protocol: ${protocol === 'h2' ? 'h2c' : 'http/1.1'}`] });
    }
    const t = socket as tls.TLSSocket;
    const lines = [`TLS Protocol: ${t.getProtocol() ?? 'unknown'}`, `Cipher: ${t.getCipher()?.name ?? 'unknown'}`];
    const key = serverTempKey(t);
    if (key !== null) lines.push(`Server Temp Key: ${key}`);
    const selected = t.alpnProtocol;
    if (selected === 'h2' || selected === 'http/1.1') {
      lines.push(`Application protocol: ${selected}`);
      return finish(null, { socket, protocol: selected, lines });
    }
    if (!selected && c.alpn.includes('http/1.1')) {
      lines.push(
        'No protocol negotiated. Fallback behaviour may be activated',
        'Server does not support NPN/ALPN. Falling back to HTTP/1.1.',
        'Application protocol: http/1.1',
      );
      return finish(null, { socket, protocol: 'http/1.1', lines });
    }
    socket.destroy();
    finish(
      new ConnectError(`${where(c)} did not select ${c.alpn.join(' or ')} with ALPN (it selected ${selected ? JSON.stringify(selected) : 'nothing'})`),
      null,
    );
  });
  return socket;
}
