/**
 * Our PINGs in flight (RFC 9113 §6.7): each waits for the ACK that echoes its
 * opaque data, which gives the round trip. Settled on the ACK, or rejected
 * when the connection closes; nothing stays behind once settled.
 */
import { invalidArgument } from './errors.js';

interface Waiting {
  at: number;
  resolve: (ms: number) => void;
  reject: (err: Error) => void;
}

export class Pings {
  private readonly waiting = new Map<string, Waiting>();

  /** Opaque data for a new PING (random unless given), and the promise of its round trip. */
  start(opaque: Uint8Array | undefined, now: number): { data: Uint8Array; rtt: Promise<number> } {
    const data = opaque ?? new Uint8Array(8);
    if (opaque === undefined) for (let i = 0; i < 8; i++) data[i] = (Math.random() * 256) | 0;
    if (data.length !== 8) return { data, rtt: Promise.reject(invalidArgument('PING opaque data must be 8 octets')) };
    const rtt = new Promise<number>((resolve, reject) => this.waiting.set(key(data), { at: now, resolve, reject }));
    return { data, rtt };
  }

  /** A PING ACK arrived: true when it answered one of ours (which is then settled). */
  acked(opaque: Uint8Array, now: number): boolean {
    const k = key(opaque);
    const w = this.waiting.get(k);
    if (w === undefined) return false;
    this.waiting.delete(k);
    w.resolve(now - w.at);
    return true;
  }

  /** The connection is gone: every PING in flight fails. */
  fail(err: Error): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of all) w.reject(err);
  }
}

function key(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}
