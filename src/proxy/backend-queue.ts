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

export class BackendQueue {
  private active = 0;
  private readonly perKey = new Map<string, number>();
  private readonly waiting: QueueEntry[] = [];

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
    return this.waiting.length;
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
    if (this.fits(e.backendKey)) {
      this.take(e.backendKey);
      return true;
    }
    this.waiting.push(e);
    return false;
  }

  /** `e` no longer waits (its stream went away before it got a slot). */
  drop(e: QueueEntry): void {
    const i = this.waiting.indexOf(e);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  /** A request that held a slot for `key` is done with it: the first waiting ones that fit get slots. */
  leave(key: string): void {
    this.active--;
    const n = (this.perKey.get(key) ?? 1) - 1;
    if (n > 0) this.perKey.set(key, n);
    else this.perKey.delete(key);
    if (this.waiting.length > 0 && !this.admitting) this.admitWaiting();
  }

  private admitting = false;

  /** Admits waiting entries in order while they fit (admitted() may end a request and call leave() again). */
  private admitWaiting(): void {
    this.admitting = true;
    try {
      for (let i = 0; i < this.waiting.length; ) {
        if (this.total > 0 && this.active >= this.total) return;
        const e = this.waiting[i]!;
        if (!this.fits(e.backendKey)) {
          i++;
          continue;
        }
        this.waiting.splice(i, 1);
        this.take(e.backendKey);
        e.admitted();
        i = 0;
      }
    } finally {
      this.admitting = false;
    }
  }
}
