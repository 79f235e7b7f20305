/**
 * A connection's streams (RFC 9113 §5.1.1, §5.1.2): the open ones, the
 * recently closed ones and how they closed (bounded: what is forgotten
 * counts as closed), the stream identifiers each side has used, and the
 * counts that SETTINGS_MAX_CONCURRENT_STREAMS limits.
 */
import { MAX_WINDOW_SIZE } from './frame.js';
import { type StreamCore, StreamState as StreamStateImport } from './stream.js';

// The imports used per frame as module constants: V8 embeds a constant, where it loads and checks an import at every use.
const StreamState = StreamStateImport;
type StreamState = StreamStateImport;

/**
 * The open streams by id: open addressing with linear probing over a table
 * that only grows. Streams come and go with every request, and a Map
 * reallocates its table as it empties and fills again; this allocates
 * nothing once it has reached its size.
 */
export class StreamMap<S extends StreamCore> {
  private keys = new Int32Array(16);
  private vals: Array<S | undefined> = new Array<S | undefined>(16);
  private mask = 15;
  size = 0;

  get(id: number): S | undefined {
    const keys = this.keys;
    for (let i = id & this.mask; ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === id) return this.vals[i];
      if (k === 0) return undefined;
    }
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  set(id: number, s: S): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    let i = id & this.mask;
    while (keys[i] !== 0 && keys[i] !== id) i = (i + 1) & this.mask;
    if (keys[i] === 0) this.size++;
    keys[i] = id;
    this.vals[i] = s;
  }

  delete(id: number): boolean {
    const keys = this.keys;
    const mask = this.mask;
    let i = id & mask;
    while (keys[i] !== id) {
      if (keys[i] === 0) return false;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: later entries of the probe run move up, so no tombstones are needed.
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = keys[j]! & mask;
      // Move j to i if its home slot is not in the cyclic range (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        keys[i] = keys[j]!;
        this.vals[i] = this.vals[j];
        i = j;
      }
    }
    keys[i] = 0;
    this.vals[i] = undefined;
    this.size--;
    return true;
  }

  /** The open streams, as a new array (safe to change the map while going through it). */
  values(): S[] {
    const out: S[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== 0) out.push(this.vals[i]!);
    return out;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const n = oldKeys.length * 2;
    this.keys = new Int32Array(n);
    this.vals = new Array<S | undefined>(n);
    this.mask = n - 1;
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== 0) this.set(oldKeys[i]!, oldVals[i]!);
  }
}

export class StreamTable<S extends StreamCore> {
  /** The open streams (any state but idle and closed). */
  readonly streams = new StreamMap<S>();
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
