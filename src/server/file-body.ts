/**
 * Reading a FileBody in bounded chunks, with positional reads (pread), so
 * concurrent streams of one file never share a file offset and memory stays
 * at one chunk per stream whatever the file size.
 */
import type { FileBody } from './static.js';

/** The file ended before the range did: it was truncated while being sent. */
export class FileChangedError extends Error {
  override readonly name = 'FileChangedError';
  constructor(
    readonly path: string,
    readonly position: number,
  ) {
    super(`${path}: ended at byte ${position}, before the announced length`);
  }
}

export class FileRangeReader {
  private position: number;

  constructor(
    private readonly body: FileBody,
    /** Largest chunk `read()` allocates. */
    private readonly chunkSize = 64 * 1024,
  ) {
    if (!(chunkSize > 0)) throw new RangeError('chunkSize must be > 0');
    this.position = body.start;
  }

  /** Bytes of the range not read yet. */
  get remaining(): number {
    return this.body.end - this.position;
  }

  /**
   * Reads up to `max` bytes into `target` at `offset` (e.g. straight into a
   * DATA frame's payload) and returns how many; 0 only at the end of the
   * range. Throws FileChangedError if the file ends early.
   */
  async readInto(target: Uint8Array, offset: number, max: number): Promise<number> {
    const n = Math.min(max, this.remaining, target.length - offset);
    if (n <= 0) return 0;
    const { bytesRead } = await this.body.handle.read(target, offset, n, this.position);
    if (bytesRead === 0) throw new FileChangedError(this.body.path, this.position);
    this.position += bytesRead;
    return bytesRead;
  }

  /** The next chunk (at most chunkSize bytes, in a new buffer), or null at the end. */
  async read(): Promise<Uint8Array | null> {
    const n = Math.min(this.chunkSize, this.remaining);
    if (n <= 0) return null;
    const buf = Buffer.allocUnsafe(n);
    const got = await this.readInto(buf, 0, n);
    return got === n ? buf : buf.subarray(0, got);
  }

  /** Every chunk to the end of the range. Does not close the handle. */
  async *chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    for (let chunk = await this.read(); chunk !== null; chunk = await this.read()) yield chunk;
  }
}

/**
 * The bytes read from files and not yet taken by the engine, bounded per
 * connection and per process. A connection that holds nothing may always
 * read one chunk, so one connection that never reads cannot stop the others;
 * beyond that, a read waits until bytes are given back: on its own
 * connection's queue when that connection is full, on the process queue
 * when all of them together are (both first in, first out). A give only
 * looks at the queues it can help, so waiting reads cost nothing while they
 * wait. The bound in the worst case is `perProcess` plus one chunk per
 * connection.
 */
export class ReadAhead {
  private total = 0;
  private highest = 0;
  private queued = 0;
  private readonly byConnection = new Map<number, number>();
  private readonly forProcess = new Set<ReadAheadWaiter>();
  private readonly forConnection = new Map<number, Set<ReadAheadWaiter>>();

  constructor(
    /** Bytes one connection may hold beyond its first chunk. Default 256 KiB. */
    readonly perConnection = 256 * 1024,
    /** Bytes all connections together may hold beyond their first chunks. Default 16 MiB. */
    readonly perProcess = 16 * 1024 * 1024,
  ) {}

  /** Bytes held now, and the most held at once since the start. */
  get bytes(): number {
    return this.total;
  }
  get peak(): number {
    return this.highest;
  }
  /** Reads waiting for room. */
  get waiting(): number {
    return this.queued;
  }

  /** Counts `n` bytes for `connection` if the bounds allow; false otherwise. */
  take(connection: number, n: number): boolean {
    return this.tryTake(connection, n) === TAKEN;
  }

  /** Gives back `n` bytes of `connection`, and grants waiting reads what now fits. */
  give(connection: number, n: number): void {
    if (n <= 0) return;
    const used = (this.byConnection.get(connection) ?? 0) - n;
    if (used > 0) this.byConnection.set(connection, used);
    else this.byConnection.delete(connection);
    this.total -= n;
    if (this.queued === 0) return;
    const granted: ReadAheadWaiter[] = [];
    const own = this.forConnection.get(connection);
    if (own !== undefined) {
      for (const w of own) {
        const r = this.tryTake(connection, w.wanted);
        if (r === CONNECTION_FULL) break;
        this.unqueue(w);
        if (r === TAKEN) granted.push(w);
        else this.enqueue(w, PROCESS_FULL);
        if (r === PROCESS_FULL) break;
      }
    }
    for (const w of this.forProcess) {
      const r = this.tryTake(w.connectionId, w.wanted);
      if (r === PROCESS_FULL) break;
      this.unqueue(w);
      if (r === TAKEN) granted.push(w);
      else this.enqueue(w, CONNECTION_FULL);
    }
    for (const w of granted) w.granted();
  }

  /**
   * Queues `w` (whose take of `w.wanted` bytes just failed) until they can
   * be taken for it; `w.granted()` is then called with them taken.
   */
  wait(w: ReadAheadWaiter): void {
    const used = this.byConnection.get(w.connectionId) ?? 0;
    this.enqueue(w, used + w.wanted > this.perConnection ? CONNECTION_FULL : PROCESS_FULL);
  }

  cancel(w: ReadAheadWaiter): void {
    this.unqueue(w);
  }

  private tryTake(connection: number, n: number): number {
    const used = this.byConnection.get(connection) ?? 0;
    if (used > 0) {
      if (used + n > this.perConnection) return CONNECTION_FULL;
      if (this.total + n > this.perProcess) return PROCESS_FULL;
    }
    this.byConnection.set(connection, used + n);
    this.total += n;
    if (this.total > this.highest) this.highest = this.total;
    return TAKEN;
  }

  private enqueue(w: ReadAheadWaiter, why: number): void {
    if (why === PROCESS_FULL) this.forProcess.add(w);
    else {
      let q = this.forConnection.get(w.connectionId);
      if (q === undefined) this.forConnection.set(w.connectionId, (q = new Set()));
      q.add(w);
    }
    this.queued++;
  }

  private unqueue(w: ReadAheadWaiter): void {
    if (this.forProcess.delete(w)) {
      this.queued--;
      return;
    }
    const q = this.forConnection.get(w.connectionId);
    if (q?.delete(w)) {
      this.queued--;
      if (q.size === 0) this.forConnection.delete(w.connectionId);
    }
  }
}

const TAKEN = 0;
const CONNECTION_FULL = 1;
const PROCESS_FULL = 2;

export interface ReadAheadWaiter {
  readonly connectionId: number;
  readonly wanted: number;
  granted(): void;
}

/** The stream a file body is sent on, as the producer sees it. */
export interface ProducerHost {
  readonly connectionId: number;
  /** Called when a producer that returned 'deferred' has something to give. */
  resume(): void;
}

/**
 * A body producer (as the engine's `BodyProducer`) over a FileBody that
 * reads only when called, that is when the stream may send: at most what
 * the engine says may go out now, one read at a time, counted against
 * `readAhead` until the engine asks for more. A stream whose window is
 * closed reads nothing and holds no buffer. The file is released when the
 * body ends or on `close()` (call it when the stream closes). A file that
 * ends early makes the producer throw FileChangedError (the engine resets
 * the stream).
 */
export class FileProducer implements ReadAheadWaiter {
  private position: number;
  /** Read and not yet handed out, from `readyOffset`. */
  private ready: Uint8Array | null = null;
  private readyOffset = 0;
  /** Bytes counted against the read-ahead for the current buffer. */
  private charged = 0;
  /** Bytes taken for us while we waited. */
  private grant = 0;
  private reading = false;
  private failure: unknown = null;
  private finished = false;
  wanted = 0;

  constructor(
    private readonly body: FileBody,
    private readonly host: ProducerHost,
    private readonly readAhead: ReadAhead,
    private readonly chunkSize = 64 * 1024,
  ) {
    if (!(chunkSize > 0)) throw new RangeError('chunkSize must be > 0');
    this.position = body.start;
  }

  get connectionId(): number {
    return this.host.connectionId;
  }

  /** The producer to give the engine. */
  readonly produce = (maxLength: number): Uint8Array | null | 'deferred' => {
    if (this.finished) return null;
    if (this.failure !== null) {
      const e = this.failure;
      this.close();
      throw e;
    }
    const ready = this.ready;
    if (ready !== null) {
      const from = this.readyOffset;
      if (ready.length - from > maxLength) {
        this.readyOffset += maxLength;
        return ready.subarray(from, from + maxLength);
      }
      this.ready = null;
      // The engine takes the chunk now (it is within the window it offered): the read-ahead is free
      // again. Holding it until this stream's next turn would let streams whose windows stay closed
      // keep the whole budget while the one being read waits for it.
      this.readAhead.give(this.host.connectionId, this.charged);
      this.charged = 0;
      return from === 0 ? ready : ready.subarray(from);
    }
    if (this.reading) return 'deferred';
    // Everything handed out before has been taken by the engine.
    this.readAhead.give(this.host.connectionId, this.charged);
    this.charged = 0;
    const left = this.body.end - this.position;
    if (left <= 0) {
      this.close();
      return null;
    }
    const n = Math.min(maxLength, this.chunkSize, left);
    if (n <= 0) return 'deferred';
    if (this.grant > 0) {
      // Taken for us while we waited: keep what this read needs.
      const keep = Math.min(n, this.grant);
      this.readAhead.give(this.host.connectionId, this.grant - keep);
      this.grant = 0;
      this.read(keep);
      return 'deferred';
    }
    if (!this.readAhead.take(this.host.connectionId, n)) {
      this.wanted = n;
      this.readAhead.wait(this);
      return 'deferred';
    }
    this.read(n);
    return 'deferred';
  };

  /** @internal The read-ahead took `wanted` bytes for us. */
  granted(): void {
    if (this.finished) {
      this.readAhead.give(this.host.connectionId, this.wanted);
      return;
    }
    this.grant = this.wanted;
    this.host.resume();
  }

  /** Stops: gives back what is held and releases the file. Safe to call more than once. */
  close(): void {
    if (this.finished) return;
    this.finished = true;
    this.ready = null;
    this.readAhead.cancel(this);
    this.readAhead.give(this.host.connectionId, this.grant);
    this.grant = 0;
    // A read in flight gives its bytes back when it completes.
    if (!this.reading) {
      this.readAhead.give(this.host.connectionId, this.charged);
      this.charged = 0;
    }
    void this.body.release();
  }

  private read(n: number): void {
    this.charged = n;
    this.reading = true;
    // Its own ArrayBuffer: the engine may hand it to the socket as it is.
    const buf = Buffer.allocUnsafeSlow(n);
    const position = this.position;
    this.body.handle.read(buf, 0, n, position).then(
      ({ bytesRead }) => {
        this.reading = false;
        if (this.finished) return this.dropCharge();
        if (bytesRead === 0) this.failure = new FileChangedError(this.body.path, position);
        else {
          this.position += bytesRead;
          this.ready = bytesRead === n ? buf : buf.subarray(0, bytesRead);
          this.readyOffset = 0;
        }
        this.host.resume();
      },
      (err: unknown) => {
        this.reading = false;
        if (this.finished) return this.dropCharge();
        this.failure = err;
        this.host.resume();
      },
    );
  }

  private dropCharge(): void {
    this.readAhead.give(this.host.connectionId, this.charged);
    this.charged = 0;
  }
}
