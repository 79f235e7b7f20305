/**
 * Streaming reader of HTTP/1-style header sets (deflatehd -t):
 *
 *   :method: GET
 *   user-agent: curl
 *   <blank line ends the set>
 *
 * A field's name ends at the first ':' after its first character (so
 * pseudo-header names work); spaces and tabs after the colon and a trailing
 * CR are dropped. As in nghttp2, every blank line ends a set (two in a row
 * make an empty set); unlike nghttp2, a last set without a blank line after
 * it is still returned. Lines are read as octets (latin1 strings), so nothing
 * is altered; callers decide how to present them.
 */

export type Http1Set =
  | { index: number; line: number; ok: true; headers: Array<[string, string]> }
  | { index: number; line: number; ok: false; error: string; errorLine: number };

export class Http1Reader {
  private partial = '';
  private lineNo = 0;
  private headers: Array<[string, string]> = [];
  private setLine = 0;
  private error: { message: string; line: number } | null = null;
  private index = 0;

  constructor(private readonly onSet: (s: Http1Set) => void) {}

  push(chunk: Buffer): void {
    const text = this.partial + chunk.toString('latin1');
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.partial = text.slice(start);
  }

  end(): void {
    if (this.partial !== '') {
      this.line(this.partial);
      this.partial = '';
    }
    if (this.headers.length > 0 || this.error) this.finishSet();
  }

  private line(raw: string): void {
    this.lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') {
      this.finishSet();
      return;
    }
    if (this.headers.length === 0 && !this.error) this.setLine = this.lineNo;
    if (this.error) return;
    const colon = line.indexOf(':', 1);
    if (colon === -1) {
      this.error = { message: `no ':' in the header line ${JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}...` : line)}`, line: this.lineNo };
      return;
    }
    let v = colon + 1;
    while (v < line.length && (line.charCodeAt(v) === 0x20 || line.charCodeAt(v) === 0x09)) v++;
    this.headers.push([line.slice(0, colon), line.slice(v)]);
  }

  private finishSet(): void {
    const index = this.index++;
    const line = this.setLine || this.lineNo;
    if (this.error) {
      this.onSet({ index, line, ok: false, error: this.error.message, errorLine: this.error.line });
    } else {
      this.onSet({ index, line, ok: true, headers: this.headers });
    }
    this.headers = [];
    this.error = null;
    this.setLine = 0;
  }
}
