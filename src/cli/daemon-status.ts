/**
 * The child side of -D (h2serve, h2proxy): until it listens, a daemon's
 * stdout and stderr are /dev/null and its fd 3 is a pipe to the command that
 * started it, which prints what comes through and exits once it reads the
 * listening line or the pipe closes.
 */
import cluster from 'node:cluster';
import { closeSync, writeSync } from 'node:fs';

export class DaemonStatus {
  private fd: number | null;

  /** `childEnv`: the variable the starter sets in the daemon's environment (workers do not own the pipe). */
  constructor(childEnv: string) {
    this.fd = process.env[childEnv] && !cluster.isWorker ? 3 : null;
  }

  /** Whether messages still go to the starter. */
  get open(): boolean {
    return this.fd !== null;
  }

  /** Writes `text` to the starter while the pipe is open, else to stderr. */
  say(text: string): void {
    if (this.fd !== null) {
      try {
        writeSync(this.fd, text);
        return;
      } catch {
        this.fd = null; // the starter went away
      }
    }
    process.stderr.write(text);
  }

  /** Listening (or failed): closing the pipe lets the starter exit. */
  detached(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = null;
  }
}
