/**
 * What one frontend connection may have in flight on HTTP/1.1 backends, as
 * nghttpx's per-frontend downstream queue: at most `perBackend` requests
 * (each a backend connection) to one backend address
 * (--backend-connections-per-host) and `total` in all
 * (--backend-connections-per-frontend, 0: no limit). Requests beyond wait
 * here in arrival order; the queue is bounded by the connection's
 * SETTINGS_MAX_CONCURRENT_STREAMS, since each entry is an open stream.
 *
 * Why per frontend connection rather than per process: a client that keeps
 * its streams' windows closed holds the backend connections it got (an
 * HTTP/1.1 response cannot be set aside), so a process-wide cap would let
 * one client starve every other; this way each connection costs a bounded
 * number of backend connections and a bystander's requests start at once.
 */

/** A request that wants a backend slot. */
export interface QueueEntry {
  /** The backend address the slot is for. */
  readonly backendKey: string;
  /** Called once the request holds a slot: dispatch it now. */
  admitted(): void;
}

/** A waiting entry and its place in the arrival order. */
interface Waiting {
  entry: QueueEntry;
  seq: number;
}

/** The entries waiting for one backend key, oldest from `head`. */
interface KeyQueue {
  items: Waiting[];
  head: number;
}

export class BackendQueue {
  private active = 0;
  private readonly perKey = new Map<string, number>();
  /**
   * Waiting entries, one FIFO per backend key: a slot freed for a key is
   * offered to that key's oldest entry at once, not to a scan of everything
   * waiting (a connection may have a hundred streams waiting).
   */
  private readonly waiting = new Map<string, KeyQueue>();
  private waitingCount = 0;
  private seq = 0;
  private admitting = false;

  constructor(
    private readonly perBackend: number,
    private readonly total: number,
  ) {}

  /** Requests holding a slot. */
  get running(): number {
    return this.active;
  }

  /** Requests waiting for one. */
  get queued(): number {
    return this.waitingCount;
  }

  private fits(key: string): boolean {
    if (this.total > 0 && this.active >= this.total) return false;
    return this.perBackend <= 0 || (this.perKey.get(key) ?? 0) < this.perBackend;
  }

  private take(key: string): void {
    this.active++;
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
  }

  /** Admits `e` now (true) or queues it (false; admitted() is called later, unless it is dropped). */
  enter(e: QueueEntry): boolean {
    // Not ahead of entries already waiting for the key, nor of those being admitted right now.
    if (!this.admitting && !this.waiting.has(e.backendKey) && this.fits(e.backendKey)) {
      this.take(e.backendKey);
      return true;
    }
    let q = this.waiting.get(e.backendKey);
    if (q === undefined) this.waiting.set(e.backendKey, (q = { items: [], head: 0 }));
    q.items.push({ entry: e, seq: this.seq++ });
    this.waitingCount++;
    return false;
  }

  /** `e` no longer waits (its stream went away before it got a slot). */
  drop(e: QueueEntry): void {
    const q = this.waiting.get(e.backendKey);
    if (q === undefined) return;
    const items = q.items;
    for (let i = q.head; i < items.length; i++) {
      if (items[i]!.entry !== e) continue;
      items.splice(i, 1);
      this.waitingCount--;
      if (q.head >= items.length) this.waiting.delete(e.backendKey);
      return;
    }
  }

  /** A request that held a slot for `key` is done with it: the oldest waiting ones that fit get slots. */
  leave(key: string): void {
    this.active--;
    const n = (this.perKey.get(key) ?? 1) - 1;
    if (n > 0) this.perKey.set(key, n);
    else this.perKey.delete(key);
    if (this.waitingCount > 0 && !this.admitting) this.admitWaiting();
  }

  /**
   * Admits waiting entries while any fits, the oldest first among the keys'
   * heads (admitted() may end a request and call leave() again).
   */
  private admitWaiting(): void {
    this.admitting = true;
    try {
      for (;;) {
        if (this.total > 0 && this.active >= this.total) return;
        let best: KeyQueue | null = null;
        let bestKey = '';
        for (const [key, q] of this.waiting) {
          if (!this.fits(key)) continue;
          if (best === null || q.items[q.head]!.seq < best.items[best.head]!.seq) {
            best = q;
            bestKey = key;
          }
        }
        if (best === null) return;
        const w = best.items[best.head++]!;
        this.waitingCount--;
        if (best.head >= best.items.length) this.waiting.delete(bestKey);
        else if (best.head >= 32 && best.head * 2 >= best.items.length) {
          best.items.splice(0, best.head);
          best.head = 0;
        }
        this.take(bestKey);
        w.entry.admitted();
      }
    } finally {
      this.admitting = false;
    }
  }
}
