/**
 * What deflatehd and inflatehd share: option parsing with commander (exit 2
 * on bad options, no stack traces), input streams, the error reporter, the
 * progress line, and the JSON output writer.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { octetsToText } from '../hpack/octets.js';
import { VERSION } from '../version.js';
import { HELP_STYLE } from './help.js';
import { DEFAULT_MAX_CASE_SIZE, JsonSyntaxError } from './io/json-cases.js';

/** Thrown for a bad command line; the launcher prints it and exits 2. */
export class UsageError extends Error {}

/**
 * A commander program with our conventions: errors -> UsageError,
 * --help/--version -> exit 0, the one help style (help.ts).
 */
export function program(name: string, description: string, versionFlags = '--version'): Command {
  const p = new Command(name);
  p.description(description)
    .version(`${name} (h2kit) ${VERSION}`, versionFlags, 'print the version and exit')
    .helpOption('-h, --help', 'show this help and exit')
    .configureHelp(HELP_STYLE)
    // Errors are printed once, in our one-line format, by launch().
    .configureOutput({ writeErr: (s) => writeErr(s), writeOut: (s) => writeOut(s), outputError: () => {} })
    .exitOverride();
  return p;
}

/**
 * Whether h2serve's and h2get's -v output is coloured (the one decision;
 * the colours themselves are NGHTTP2_PAINT): --color says yes; else
 * FORCE_COLOR decides when set (0 or false: no); else NO_COLOR set and not
 * empty says no (no-color.org); else colour when the output is a terminal.
 */
export function colorFromEnvironment(tty: boolean, flag = false, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag) return true;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env['NO_COLOR']) return false;
  return tty;
}

/** Parses argv; returns null when --help or --version already answered. */
export function parseArgs(p: Command, argv: string[]): Command | null {
  try {
    p.parse(argv, { from: 'user' });
    return p;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return null;
      throw new UsageError(e.message.replace(/^error: /, ''));
    }
    throw e;
  }
}

/** A commander parser of a whole number from `min` to `max`. */
export const intArg =
  (min: number, max: number) =>
  (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`'${v}' is not a non-negative integer.`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${v} is out of range (${min} to ${max}).`);
    return n;
  };

/** -W: the connection window starts at 65535 and a WINDOW_UPDATE can only raise it; `max` is the command's limit. */
export const connectionWindowBitsArg =
  (max: number) =>
  (v: string): number => {
    const n = intArg(0, max)(v);
    if (n < 16) throw new InvalidArgumentError(`The connection window cannot start below 65535 (2^16-1, RFC 9113 §6.9.2): N is 16 to ${max}.`);
    return n;
  };

/** --max-case-size, as deflatehd and inflatehd take it. */
export function maxCaseSizeOption(): Option {
  return new Option(
    '--max-case-size <SIZE>',
    'largest case, in octets of JSON text (K, M, G suffixes); a larger one is reported and skipped (memory grows with the largest case)',
  )
    .argParser(sizeArg)
    .default(DEFAULT_MAX_CASE_SIZE, '32M');
}

/** A commander collector of a repeatable option's values. */
export const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function tableSizeArg(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`'${value}' is not a non-negative integer.`);
  const n = Number(value);
  if (n > 0xffffffff) throw new InvalidArgumentError(`${value} is larger than 4294967295.`);
  return n;
}

/** A size with an optional K, M or G suffix (powers of 1024). */
export function sizeArg(value: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(value);
  if (!m) throw new InvalidArgumentError(`'${value}' is not a size (an integer with an optional K, M or G suffix).`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * mult;
}

/**
 * Reads a file, or stdin when `file` is undefined or '-', in chunks into one
 * reused buffer, synchronously: a filter has nothing else to do while it
 * waits, and reusing the buffer keeps memory flat.
 */
export class InputReader {
  // 256 KiB: the cases of a chunk are parsed together and live until they are written;
  // larger chunks make V8 promote more of them to the old generation (slower, more memory).
  private readonly buf = Buffer.allocUnsafe(256 * 1024);
  private readonly fd: number;
  private readonly owned: boolean;

  constructor(file: string | undefined) {
    this.owned = file !== undefined && file !== '-';
    this.fd = this.owned ? openSync(file!, 'r') : 0;
  }

  /** The next chunk (valid until the next call), or null at the end. */
  read(): Buffer | null {
    for (;;) {
      try {
        const n = readSync(this.fd, this.buf, 0, this.buf.length, null);
        if (n === 0) {
          this.close();
          return null;
        }
        return this.buf.subarray(0, n);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN')
          pause(); // a non-blocking stdin with nothing yet
        else if (code === 'EOF') return null;
        else throw e;
      }
    }
  }

  close(): void {
    if (this.owned) closeSync(this.fd);
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Waits a millisecond without spinning (for EAGAIN on non-blocking descriptors). */
function pause(): void {
  Atomics.wait(sleeper, 0, 0, 1);
}

/** Writes all of `data` to a descriptor, waiting when it is non-blocking and full. */
export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      pause();
    }
  }
}

/**
 * Handles items (cases) in order as they come: at once while each handler
 * returns nothing, so a case is encoded while its bytes are fresh and little
 * stays alive; behind the first that returns a promise (explaining a bad case
 * loads zod), the others wait until drain().
 */
export class InOrder<T> {
  private queue: T[] = [];
  private pending: Promise<void> | null = null;

  constructor(private readonly handle: (item: T) => Promise<void> | void) {}

  readonly push = (item: T): void => {
    if (this.pending !== null) {
      this.queue.push(item);
      return;
    }
    const r = this.handle(item);
    if (r) this.pending = r;
  };

  /** Waits for what is pending and handles what waited; call before the items' chunk is reused. */
  async drain(): Promise<void> {
    while (this.pending !== null) {
      await this.pending;
      this.pending = null;
      const waiting = this.queue;
      this.queue = [];
      for (let k = 0; k < waiting.length; k++) {
        if (this.pending !== null) {
          this.queue.push(waiting[k]!);
          continue;
        }
        const r = this.handle(waiting[k]!);
        if (r) this.pending = r;
      }
    }
  }
}

/** What a story reader is: chunks in, cases out through its callback; JsonSyntaxError when the input is broken. */
export interface ChunkConsumer {
  push(chunk: Buffer): void;
  end(): void;
}

/**
 * Feeds a file (or stdin) to `consumer` chunk by chunk, calling `drain`
 * after each chunk to handle the cases it produced. Returns null when the
 * whole input was read, else the one-line reason it could not be: a
 * syntax error (line, column) or a read error. Cases before the problem
 * have been handled.
 */
export async function consumeInput(
  file: string | undefined,
  consumer: ChunkConsumer,
  drain: () => Promise<void> | void,
  progress: (bytesRead: number) => void,
): Promise<string | null> {
  const syntax = (e: unknown): string => {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return `line ${e.line}, column ${e.column}: ${e.message}`;
  };
  let bytesRead = 0;
  // Only reading is guarded here: an error from drain() (writing the output, e.g. EPIPE
  // when the reader of stdout went away) is not the input's fault and goes to launch().
  let input: InputReader;
  try {
    input = new InputReader(file);
  } catch (e) {
    return readErrorMessage(file, e);
  }
  const next = (): Buffer | null | Error => {
    try {
      return input.read();
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  };
  for (let chunk = next(); chunk !== null; chunk = next()) {
    if (chunk instanceof Error) return readErrorMessage(file, chunk);
    bytesRead += chunk.length;
    let error: string | null = null;
    try {
      consumer.push(chunk);
    } catch (e) {
      error = syntax(e);
    }
    await drain();
    progress(bytesRead);
    if (error) {
      input.close();
      return error;
    }
  }
  try {
    consumer.end();
  } catch (e) {
    await drain();
    return syntax(e);
  }
  await drain();
  return null;
}

/** "cannot read x.json: no such file" from a read error. */
export function readErrorMessage(file: string | undefined, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const what = file === undefined || file === '-' ? 'standard input' : file;
  const reason =
    err.code === 'ENOENT'
      ? 'no such file'
      : err.code === 'EISDIR'
        ? 'is a directory'
        : err.code === 'EACCES'
          ? 'permission denied'
          : (err.message ?? String(e));
  return `cannot read ${what}: ${reason}`;
}

/** Writes one-line messages to stderr, prefixed with the program name, and counts failures. */
export class Reporter {
  failed = 0;
  constructor(
    private readonly prog: string,
    private readonly progress?: Progress,
  ) {}

  error(message: string): void {
    this.failed++;
    this.line(message);
  }

  note(message: string): void {
    this.line(message);
  }

  private line(message: string): void {
    this.progress?.clear();
    writeErr(`${this.prog}: ${message}\n`);
  }
}

/**
 * A progress line on stderr (cases done, MB read, MB/s), only when stderr is
 * a terminal, and only once a run has lasted a second: never in a pipe or
 * for small inputs.
 */
export class Progress {
  /** Decided on first use: asking whether stderr is a terminal costs start-up time short runs need not pay. */
  private enabled: boolean | null = null;
  private readonly start = Date.now();
  /** How long a run lasts before progress shows (H2KIT_PROGRESS_AFTER_MS, for tests). */
  private readonly after = Number(process.env['H2KIT_PROGRESS_AFTER_MS'] ?? 1000);
  private last = 0;
  private shown = false;
  constructor(private readonly prog: string) {}

  update(cases: number, bytes: number): void {
    const now = Date.now();
    if (now - this.start < this.after || now - this.last < 250) return;
    this.enabled ??= process.stderr.isTTY === true;
    if (!this.enabled) return;
    this.last = now;
    const mb = bytes / 1e6;
    const rate = mb / ((now - this.start) / 1000);
    writeErr(`\r${this.prog}: ${cases.toLocaleString('en-US')} cases, ${mb.toFixed(1)} MB read, ${rate.toFixed(1)} MB/s\x1b[K`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) {
      writeErr('\r\x1b[K');
      this.shown = false;
    }
  }
}

/**
 * Writes `{"cases": [...]}` incrementally, straight into a 1 MiB buffer that
 * is written out (synchronously, so stdout's pace is ours) and reused when
 * full: a case is written piece by piece (begin(), ascii(), string(), hex()
 * ...), with no string built for it. The document is always closed, so
 * stdout stays valid JSON whatever happened to the input.
 */
export class CasesWriter {
  private buf = Buffer.allocUnsafe(WRITE_CHUNK);
  /** `buf` as a DataView, for writing two or four octets at a time. */
  private view: DataView<ArrayBufferLike> = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  /** The last source of header() and quoted(), and a DataView of it. */
  private src: Uint8Array = EMPTY;
  private srcView: DataView<ArrayBufferLike> = new DataView(EMPTY.buffer);
  private pos = 0;
  private count = 0;

  constructor(private readonly fd = 1) {}

  /** Starts the next case (after the document's opening, or a comma). */
  begin(): void {
    this.bytes(this.count++ === 0 ? DOC_START : CASE_SEP);
  }

  /** Text known to be ASCII with nothing to escape: layout, keys, numbers, hex. */
  ascii(s: string): void {
    const n = s.length;
    if (this.buf.length - this.pos < n) this.room(n);
    const buf = this.buf;
    let p = this.pos;
    for (let k = 0; k < n; k++) buf[p++] = s.charCodeAt(k);
    this.pos = p;
  }

  /** A JSON string literal. ASCII without quotes, backslashes or controls (nearly every header) is copied as it is. */
  string(s: string): void {
    const n = s.length;
    if (this.buf.length - this.pos < n + 2) this.room(n + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 0x22;
    for (let k = 0; k < n; k++) {
      const c = s.charCodeAt(k);
      // Anything else is written by JSON.stringify and UTF-8 encoded (what was copied is overwritten).
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) return this.text(JSON.stringify(s));
      buf[p++] = c;
    }
    buf[p++] = 0x22;
    this.pos = p;
  }

  /** Any text, UTF-8 encoded. */
  text(s: string): void {
    if (this.buf.length - this.pos < s.length * 3) this.room(s.length * 3);
    // utf8Write skips Buffer#write's argument handling.
    this.pos += (this.buf as unknown as { utf8Write(s: string, offset: number): number }).utf8Write(s, this.pos);
  }

  /** Octets as they are (layout prepared as bytes). */
  bytes(b: Uint8Array): void {
    const n = b.length;
    if (this.buf.length - this.pos < n) this.room(n);
    const buf = this.buf;
    let p = this.pos;
    for (let k = 0; k < n; k++) buf[p++] = b[k]!;
    this.pos = p;
  }

  /** src[s..e) as it is (text already checked to need no escaping). */
  raw(src: Uint8Array, s: number, e: number): void {
    const n = e - s;
    if (this.buf.length - this.pos < n) this.room(n);
    const buf = this.buf;
    let p = this.pos;
    if (n > 64) {
      buf.set(src.subarray(s, e), p);
      p += n;
    } else {
      for (let k = s; k < e; k++) buf[p++] = src[k]!;
    }
    this.pos = p;
  }

  /** src[s..e) between quotes: the octets of a JSON string that need no escaping (see CaseFields.headerSpans). */
  quoted(src: Uint8Array, s: number, e: number): void {
    const n = e - s;
    if (this.buf.length - this.pos < n + 2) this.room(n + 2);
    this.source(src);
    const buf = this.buf;
    buf[this.pos] = 0x22;
    const p = this.copy(src, s, e, this.pos + 1);
    buf[p] = 0x22;
    this.pos = p + 1;
  }

  /**
   * One header line copied from the input: `{"name": "value"}` after the
   * case's indent (and a comma unless first), where src[ns..ne) and
   * src[vs..ve) need no escaping. One call and one room check per header:
   * this is most of deflatehd's output.
   */
  header(first: boolean, src: Uint8Array, ns: number, ne: number, vs: number, ve: number): void {
    const need = 20 + (ne - ns) + (ve - vs);
    if (this.buf.length - this.pos < need) this.room(need);
    this.source(src);
    const buf = this.buf;
    const view = this.view;
    let p = this.pos;
    if (!first) buf[p++] = 0x2c;
    // "\n        {\"" in three stores.
    view.setUint32(p, 0x2020200a, true);
    view.setUint32(p + 4, 0x20202020, true);
    view.setUint16(p + 8, 0x7b20, true);
    buf[p + 10] = 0x22;
    p = this.copy(src, ns, ne, p + 11);
    view.setUint32(p, 0x22203a22, true); // '": "'
    p = this.copy(src, vs, ve, p + 4);
    view.setUint16(p, 0x7d22, true); // '"}'
    this.pos = p + 2;
  }

  /** Makes `src` the source that copy() reads (the input chunk the spans of a case point into). */
  private source(src: Uint8Array): void {
    if (src !== this.src) {
      this.src = src;
      this.srcView = new DataView(src.buffer, src.byteOffset, src.length);
    }
  }

  /** Copies src[s..e) (src is this.src) to buf at p, four octets at a time; returns the position after it. */
  private copy(src: Uint8Array, s: number, e: number, p: number): number {
    const buf = this.buf;
    const from = this.srcView;
    const to = this.view;
    for (; s + 4 <= e; s += 4, p += 4) to.setUint32(p, from.getUint32(s, true), true);
    for (; s < e; s++) buf[p++] = src[s]!;
    return p;
  }

  /** A non-negative integer in decimal, without building its string. */
  int(v: number): void {
    if (v < 10) {
      this.ascii(DIGIT_STRINGS[v]!);
      return;
    }
    if (!(v < 2 ** 53)) {
      this.ascii(String(v));
      return;
    }
    if (this.buf.length - this.pos < 16) this.room(16);
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    const buf = this.buf;
    const start = this.pos;
    let p = start + digits;
    this.pos = p;
    for (let t = v; p > start; t = Math.floor(t / 10)) buf[--p] = 0x30 + (t % 10);
  }

  /** Octets as lowercase hex digits. */
  hex(b: Uint8Array): void {
    const n = b.length;
    if (this.buf.length - this.pos < 2 * n) this.room(2 * n);
    const view = this.view;
    let p = this.pos;
    for (let k = 0; k < n; k++, p += 2) view.setUint16(p, HEX_PAIRS[b[k]!]!, true);
    this.pos = p;
  }

  private room(n: number): void {
    this.flush();
    if (this.buf.length < n) {
      this.buf = Buffer.allocUnsafe(n);
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    }
  }

  flush(): void {
    if (this.pos > 0) writeAll(this.fd, this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  close(): void {
    this.ascii(this.count === 0 ? '{\n  "cases": []\n}\n' : '\n  ]\n}\n');
    this.flush();
  }
}

const WRITE_CHUNK = 1 << 20;
const DOC_START = Buffer.from('{\n  "cases": [\n');
const CASE_SEP = Buffer.from(',\n');
const HEX_DIGITS = Buffer.from('0123456789abcdef');
/** The two hex digits of each octet, as a little-endian 16-bit word (the first digit in the low octet). */
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, x) => HEX_DIGITS[x >> 4]! | (HEX_DIGITS[x & 15]! << 8));
const EMPTY = new Uint8Array(0);
const DIGIT_STRINGS = '0123456789'.split('');

const HEADER_FIRST = Buffer.from('[\n        {');
const HEADER_NEXT = Buffer.from(',\n        {');
const HEADER_FIRST_ITEM = Buffer.from('\n        {');
const HEADER_COLON = Buffer.from(': ');
const HEADER_CLOSE = Buffer.from('}');
const HEADERS_END = Buffer.from('\n      ]');

/**
 * A case's `headers` array (at the indent of a case's members), one
 * `{"name": "value"}` object per line: readable, diffable, and half the size
 * of fully expanded objects.
 */
export function writeHeaders(out: CasesWriter, headers: ReadonlyArray<readonly [string, string]>): void {
  if (headers.length === 0) {
    out.ascii('[]');
    return;
  }
  for (let k = 0; k < headers.length; k++) {
    const h = headers[k]!;
    out.bytes(k === 0 ? HEADER_FIRST : HEADER_NEXT);
    out.string(h[0]);
    out.bytes(HEADER_COLON);
    out.string(h[1]);
    out.bytes(HEADER_CLOSE);
  }
  out.bytes(HEADERS_END);
}

/**
 * writeHeaders, copying each string that needs no escaping from the input's
 * octets (`spans`, as CaseFields.headerSpans).
 */
export function writeHeadersFrom(out: CasesWriter, headers: ReadonlyArray<readonly [string, string]>, src: Uint8Array, spans: number[]): void {
  if (headers.length === 0) {
    out.ascii('[]');
    return;
  }
  out.ascii('[');
  for (let k = 0; k < headers.length; k++) {
    const ns = spans[4 * k]!;
    const vs = spans[4 * k + 2]!;
    if (ns >= 0 && vs >= 0) {
      out.header(k === 0, src, ns, spans[4 * k + 1]!, vs, spans[4 * k + 3]!);
      continue;
    }
    out.bytes(k === 0 ? HEADER_FIRST_ITEM : HEADER_NEXT);
    if (ns >= 0) out.quoted(src, ns, spans[4 * k + 1]!);
    else out.string(headers[k]![0]);
    out.bytes(HEADER_COLON);
    if (vs >= 0) out.quoted(src, vs, spans[4 * k + 3]!);
    else out.string(headers[k]![1]);
    out.bytes(HEADER_CLOSE);
  }
  out.bytes(HEADERS_END);
}

/** JSON.stringify(value, null, 2) re-indented to sit at `indent`. */
export function nestedJson(value: unknown, indent: string): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`);
}

/**
 * Names and values given as octet strings, as JSON text: UTF-8 text when every
 * one of them is UTF-8, else unchanged with latin1 = true (the case is then
 * written with "header_encoding": "latin1").
 */
export function octetsForJson(headers: ReadonlyArray<readonly [string, string]>): { headers: Array<[string, string]>; latin1: boolean } {
  const out: Array<[string, string]> = new Array(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const [n, v] = headers[i]!;
    const tn = octetsToText(n);
    const tv = octetsToText(v);
    if (tn === null || tv === null) return { headers: headers.map(([a, b]) => [a, b]), latin1: true };
    out[i] = [tn, tv];
  }
  return { headers: out, latin1: false };
}

/**
 * Writes to stderr (or stdout) synchronously, without process.stderr: the
 * file tools never create Node's stdio streams, whose modules would add a
 * tenth to their start-up.
 */
export function writeErr(text: string): void {
  writeAll(2, Buffer.from(text));
}

export function writeOut(text: string): void {
  writeAll(1, Buffer.from(text));
}

/**
 * Runs a CLI main: exit code from its result, one-line messages for every
 * failure, never a stack trace. `streams`: the command writes through
 * process.stdout (h2serve's log), whose write errors are then handled too.
 */
export function launch(prog: string, main: (argv: string[]) => Promise<number>, options: { streams?: boolean } = {}): void {
  if (options.streams) {
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      // The reader went away (e.g. `| head`): stop quietly, as a Unix filter does.
      if (e.code === 'EPIPE') process.exit(141);
      writeErr(`${prog}: cannot write output: ${e.message}\n`);
      process.exit(1);
    });
  }
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') {
        // The reader went away (e.g. `| head`): stop quietly, as a Unix filter does.
        process.exitCode = 141;
        return;
      }
      try {
        if (e instanceof UsageError) {
          writeErr(`${prog}: ${e.message}\n${prog}: try '${prog} --help'\n`);
          process.exitCode = 2;
        } else if ((e as NodeJS.ErrnoException).syscall === 'write') {
          // stdout failed (ENOSPC on a full disk, EIO ...): not a bug, but nothing more can be done.
          writeErr(`${prog}: cannot write output: ${(e as Error).message}\n`);
          process.exitCode = 70;
        } else {
          writeErr(`${prog}: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
          process.exitCode = 70;
        }
      } catch {
        process.exitCode = process.exitCode ?? 70;
      }
    },
  );
}
