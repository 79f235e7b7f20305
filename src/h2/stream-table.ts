/**
 * A connection's streams (RFC 9113 §5.1.1, §5.1.2): the open ones, the
 * recently closed ones and how they closed (bounded: what is forgotten
 * counts as closed), the stream identifiers each side has used, and the
 * counts that SETTINGS_MAX_CONCURRENT_STREAMS limits.
 */
import { MAX_WINDOW_SIZE } from './frame.js';
import { StreamState, type StreamCore } from './stream.js';

export class StreamTable<S extends StreamCore> {
  /** The open streams (any state but idle and closed). */
  readonly streams = new Map<number, S>();
  /** Recently closed streams and how they closed. */
  private readonly recent = new Map<number, StreamState>();
  /** Their ids in the order they were remembered, a ring once full: evicting the oldest allocates nothing. */
  private readonly order: number[] = [];
  private oldest = 0;
  /** Highest stream id the peer opened or promised (§5.1.1); also our GOAWAY's Last-Stream-ID. */
  lastPeerId = 0;
  /** The next stream id we open (odd for a client, even for a server's pushes). */
  nextLocalId: number;
  /** Peer-initiated streams open now. */
  peerCount = 0;
  /** Streams we initiated that are open now. */
  localCount = 0;

  constructor(
    /** True on a server: the peer opens odd streams (§5.1.1). */
    private readonly server: boolean,
    private readonly recentCap: number,
  ) {
    this.nextLocalId = server ? 2 : 1;
  }

  get size(): number {
    return this.streams.size;
  }

  /** True for an id the peer opens (odd for a server, even for a client). */
  isPeerId(id: number): boolean {
    return (id & 1) === (this.server ? 1 : 0);
  }

  /** True when `id` is idle: never opened or promised by either side (§5.1). */
  isIdle(id: number): boolean {
    return this.isPeerId(id) ? id > this.lastPeerId : id >= this.nextLocalId;
  }

  /** The state of a stream that is not open: idle, or closed (remembered or forgotten). */
  stateOf(id: number): StreamState {
    if (this.isIdle(id)) return StreamState.IDLE;
    return this.recent.get(id) ?? StreamState.CLOSED;
  }

  /** How a recently closed stream closed; undefined when it was never opened or has been forgotten. */
  recentState(id: number): StreamState | undefined {
    return this.recent.get(id);
  }

  remember(id: number, state: StreamState): void {
    const r = this.recent;
    if (r.has(id)) {
      r.set(id, state);
      return;
    }
    const order = this.order;
    if (order.length < this.recentCap) order.push(id);
    else {
      r.delete(order[this.oldest]!);
      order[this.oldest] = id;
      this.oldest = (this.oldest + 1) % this.recentCap;
    }
    r.set(id, state);
  }

  /** The next id of ours (§5.1.1), or -1 when they are used up. */
  takeLocalId(): number {
    const id = this.nextLocalId;
    if (id > MAX_WINDOW_SIZE) return -1;
    this.nextLocalId += 2;
    return id;
  }

  add(s: S): void {
    this.streams.set(s.id, s);
    if (s.local) this.localCount++;
    else this.peerCount++;
  }

  /** Removes an open stream; false when it was not open. */
  remove(s: S): boolean {
    if (!this.streams.delete(s.id)) return false;
    if (s.local) this.localCount--;
    else this.peerCount--;
    return true;
  }
}
