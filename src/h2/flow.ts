/**
 * Flow-control windows (RFC 9113 §5.2, §6.9): the connection's and each
 * stream's, in both directions. Plain arithmetic with the RFC's bounds; the
 * endpoint decides what an overflow means (FLOW_CONTROL_ERROR on the
 * connection or on the stream) and when to send WINDOW_UPDATE.
 */
import { MAX_WINDOW_SIZE } from './frame.js';

/** The peer's window for what we send. It may go negative after SETTINGS_INITIAL_WINDOW_SIZE shrinks (§6.9.2). */
export class SendWindow {
  constructor(public size: number) {}

  /** We sent `n` flow-controlled octets. */
  take(n: number): void {
    this.size -= n;
  }

  /** WINDOW_UPDATE or a SETTINGS change added `n` (which may be negative); false when it passed 2^31-1 (§6.9.1). */
  add(n: number): boolean {
    this.size += n;
    return this.size <= MAX_WINDOW_SIZE;
  }
}

/**
 * Our window for what the peer sends, and the octets it used that we have
 * not yet given back with WINDOW_UPDATE. Octets are consumed when DATA
 * arrives and released when the application has taken them; the window is
 * topped up once the released octets reach a threshold, so that
 * WINDOW_UPDATEs stay few.
 */
export class RecvWindow {
  /** Released octets not yet announced. */
  unacked = 0;

  constructor(public size: number) {}

  /** DATA of `n` octets arrived: false when it exceeds the window (FLOW_CONTROL_ERROR, §6.9.1). */
  consume(n: number): boolean {
    if (n > this.size) return false;
    this.size -= n;
    return true;
  }

  /**
   * `n` consumed octets were taken by the application (or discarded). Returns
   * the increment to announce now, or 0 while below `threshold` (with
   * `whenEmpty`, announced anyway once the window is empty, so that a peer
   * sending small amounts is never stuck).
   */
  release(n: number, threshold: number, whenEmpty: boolean): number {
    this.unacked += n;
    if (this.unacked < threshold && (!whenEmpty || this.size > 0)) return 0;
    const inc = this.unacked;
    this.size += inc;
    this.unacked = 0;
    return inc;
  }

  /** A SETTINGS_INITIAL_WINDOW_SIZE change of ours, once acknowledged, moves every stream window (§6.9.2). */
  adjust(delta: number): void {
    this.size += delta;
  }
}
