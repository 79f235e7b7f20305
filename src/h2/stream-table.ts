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
  /**
   * Recently closed streams and how they closed: a ring indexed by the id
   * modulo its size (a newer id takes an older one's slot; forgotten
   * streams count as closed). Allocated on the first close.
   */
  private recentIds: Int32Array | null = null;
  private recentStates: Uint8Array | null = null;
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
    return this.recentState(id) ?? StreamState.CLOSED;
  }

  /** How a recently closed stream closed; undefined when it was never opened or has been forgotten. */
  recentState(id: number): StreamState | undefined {
    const ids = this.recentIds;
    if (ids === null) return undefined;
    const slot = id % this.recentCap;
    return ids[slot] === id ? (this.recentStates![slot] as StreamState) : undefined;
  }

  remember(id: number, state: StreamState): void {
    if (this.recentIds === null) {
      this.recentIds = new Int32Array(this.recentCap);
      this.recentStates = new Uint8Array(this.recentCap);
    }
    const slot = id % this.recentCap;
    this.recentIds[slot] = id;
    this.recentStates![slot] = state;
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
