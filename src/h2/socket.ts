/**
 * A Node socket (TCP, or TLS after ALPN h2) as an endpoint's transport:
 * frames are written in one corked batch, the socket's buffer is what the
 * sender's backpressure watches, and the socket's events drive the
 * endpoint. Both roles use it.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Transport } from './sender.js';

/** What a socket's events go to. */
export interface SocketPeer {
  receive(chunk: Uint8Array): void;
  onDrain(): void;
  onTransportClose(reason?: string): void;
}

/** The transport that writes to `socket`. */
export function socketTransport(socket: Duplex): Transport {
  return {
    write(chunks) {
      if (socket.destroyed) return;
      if (chunks.length === 1) {
        socket.write(chunks[0]!);
        return;
      }
      socket.cork();
      for (const c of chunks) socket.write(c);
      socket.uncork();
    },
    get bufferedAmount() {
      return socket.writableLength;
    },
    // A net.Socket (TLS ones included) has handed its chunks to the kernel
    // or to OpenSSL, which copy them, once nothing is pending.
    releasesWritten: socket instanceof net.Socket,
    end() {
      if (!socket.destroyed) socket.end();
    },
    destroy() {
      socket.destroy();
    },
  };
}

/**
 * Feeds the socket's octets, drains and close to `peer`. `onData` sees
 * the octets first (e.g. for a hex dump). `onClose` runs after the peer
 * was told.
 */
export function attachSocket(socket: Duplex, peer: SocketPeer, onData?: ((d: Uint8Array) => void) | null, onClose?: () => void): void {
  if (onData) {
    socket.on('data', (d: Uint8Array) => {
      onData(d);
      peer.receive(d);
    });
  } else {
    socket.on('data', (d: Uint8Array) => peer.receive(d));
  }
  socket.on('drain', () => peer.onDrain());
  let error: Error | null = null;
  socket.on('error', (e: Error) => {
    // 'close' follows; the connection reports how it ended.
    error ??= e;
  });
  socket.on('close', () => {
    peer.onTransportClose(error ? `transport error: ${error.message}` : undefined);
    onClose?.();
  });
}
