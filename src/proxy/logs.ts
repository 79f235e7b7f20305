/**
 * The error log (nghttpx's lines: time, pid, level, message) and the access
 * log, each to a file opened for appending or to stderr / stdout, reopened
 * on demand (SIGUSR1, as nghttpx). Lines are written synchronously so that
 * none is lost when the process exits right after.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { timeIso8601 } from './access-log.js';

export const LEVELS = ['INFO', 'NOTICE', 'WARN', 'ERROR', 'FATAL'] as const;
export type Level = (typeof LEVELS)[number];

/** A log destination: a file path (appended to) or a descriptor. */
export class LogFile {
  private fd: number;
  private readonly owned: boolean;
  constructor(
    private readonly path: string | null,
    fallbackFd: number,
  ) {
    this.owned = path !== null;
    this.fd = path !== null ? openSync(path, 'a') : fallbackFd;
  }

  write(line: string): void {
    try {
      writeSync(this.fd, `${line}\n`);
    } catch {
      // a log that cannot be written must not take the proxy down
    }
  }

  reopen(): void {
    if (!this.owned) return;
    const fd = openSync(this.path!, 'a');
    const old = this.fd;
    this.fd = fd;
    closeSync(old);
  }

  close(): void {
    if (this.owned) closeSync(this.fd);
  }
}

export class ErrorLog {
  private min: number;
  constructor(
    private file: LogFile,
    level: Level,
  ) {
    this.min = LEVELS.indexOf(level);
  }

  /** Writes to another file, from another level on (a reload). */
  retarget(file: LogFile, level: Level): void {
    this.file = file;
    this.min = LEVELS.indexOf(level);
  }

  get destination(): LogFile {
    return this.file;
  }

  enabled(level: Level): boolean {
    return LEVELS.indexOf(level) >= this.min;
  }

  log(level: Level, message: string): void {
    if (!this.enabled(level)) return;
    this.file.write(`${timeIso8601(new Date())} ${process.pid} ${level} ${message}`);
  }

  info(m: string): void {
    this.log('INFO', m);
  }
  notice(m: string): void {
    this.log('NOTICE', m);
  }
  warn(m: string): void {
    this.log('WARN', m);
  }
  error(m: string): void {
    this.log('ERROR', m);
  }

  reopen(): void {
    this.file.reopen();
  }
}
