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
