/**
 * One request with a real HTTP/2 client (curl, nghttp or Node's http2),
 * returning the status, the response fields and the body octets, so that the
 * same checks run with each client.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec, requireBin } from './h2serve.js';

export type ClientName = 'curl' | 'nghttp' | 'node';
export const CLIENTS: ClientName[] = ['curl', 'nghttp', 'node'];

export interface FetchOptions {
  method?: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  headers?: Record<string, string>;
  /** TLS without certificate verification (the server's is self-signed). */
  insecure?: boolean;
  timeout?: number;
}

export interface FetchResult {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  /** 2 for HTTP/2. */
  httpVersion: string;
}

export function fetchWith(client: ClientName, url: string, opts: FetchOptions = {}): Promise<FetchResult> {
  switch (client) {
    case 'curl':
      return curlFetch(url, opts);
    case 'nghttp':
      return nghttpFetch(url, opts);
    case 'node':
      return nodeFetch(url, opts);
  }
}

function headerLines(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':', 1);
    if (i > 0) m.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  return m;
}

async function curlFetch(url: string, opts: FetchOptions): Promise<FetchResult> {
  const curl = requireBin('curl');
  const dir = mkdtempSync(join(tmpdir(), 'h2kit-curl-'));
  try {
    const args = [
      '-s',
      '-S',
      url.startsWith('https') ? '--http2' : '--http2-prior-knowledge',
      '-D',
      join(dir, 'h'),
      '-o',
      join(dir, 'b'),
      '-w',
      '%{http_version} %{size_download}',
    ];
    if (opts.insecure) args.push('-k');
    if (opts.method === 'HEAD') args.push('--head');
    else if (opts.method && opts.method !== 'GET') args.push('-X', opts.method);
    for (const [n, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${n}: ${v}`);
    const r = await exec(curl, [...args, url], { timeout: opts.timeout ?? 60_000 });
    if (r.code !== 0) throw new Error(`curl exited with ${r.code}: ${r.stderr}`);
    const head = readFileSync(join(dir, 'h'), 'latin1');
    const status = /^HTTP\/\S+ (\d{3})/.exec(head);
    if (!status) throw new Error(`curl: no status line in ${JSON.stringify(head)}`);
    let body: Buffer;
    try {
      body = readFileSync(join(dir, 'b'));
    } catch {
      body = Buffer.alloc(0); // curl creates no file for an empty body
    }
    // --head writes the header section to the output too: what follows it is the body.
    if (opts.method === 'HEAD' && body.subarray(0, head.length).toString('latin1') === head) body = body.subarray(head.length);
    const [httpVersion, downloaded] = r.stdout.toString().split(' ');
    if (Number(downloaded) !== body.length) throw new Error(`curl: size_download ${downloaded} but ${body.length} body octets`);
    return { status: Number(status[1]), headers: headerLines(head.split(/\r?\n/).slice(1).join('\n')), body, httpVersion: httpVersion! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * nghttp -nv prints the received fields (and discards the body); a second
 * run without -v writes the body to stdout. nghttp's -O is not implemented.
 */
async function nghttpFetch(url: string, opts: FetchOptions): Promise<FetchResult> {
  const nghttp = requireBin('nghttp');
  const args: string[] = [];
  if (opts.method && opts.method !== 'GET') args.push('-H', `:method: ${opts.method}`);
  for (const [n, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${n}: ${v}`);
  const timeout = opts.timeout ?? 60_000;
  const [head, data] = await Promise.all([exec(nghttp, ['-nv', ...args, url], { timeout }), exec(nghttp, [...args, url], { timeout })]);
  const out = head.stdout.toString('latin1');
  if (head.code !== 0) throw new Error(`nghttp -nv exited with ${head.code}: ${head.stderr}\n${out.slice(-3000)}`);
  if (data.code !== 0) throw new Error(`nghttp exited with ${data.code}: ${data.stderr}`);
  const headers = new Map<string, string>();
  let sid = '';
  for (const m of out.matchAll(/recv \(stream_id=(\d+)\) (:?[^:\s]+): (.*)/g)) {
    // The response to our request only (the first stream that answers); pushed streams are even.
    if (Number(m[1]) % 2 === 0) continue;
    if (!sid) sid = m[1]!;
    if (m[1] === sid) headers.set(m[2]!, m[3]!);
  }
  const status = headers.get(':status');
  if (!status) throw new Error(`nghttp: no :status in\n${out.slice(0, 3000)}`);
  headers.delete(':status');
  return { status: Number(status), headers, body: data.stdout, httpVersion: '2' };
}

async function nodeFetch(url: string, opts: FetchOptions): Promise<FetchResult> {
  const u = new URL(url);
  const session = http2.connect(u.origin, opts.insecure ? { rejectUnauthorized: false } : {});
  try {
    return await new Promise<FetchResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node http2: no response within ${opts.timeout ?? 60_000} ms`)), opts.timeout ?? 60_000);
      session.on('error', reject);
      const req = session.request({ ':method': opts.method ?? 'GET', ':path': u.pathname + u.search, ...(opts.headers ?? {}) });
      req.end();
      const parts: Buffer[] = [];
      let status = 0;
      const headers = new Map<string, string>();
      req.on('response', (h) => {
        status = Number(h[':status']);
        for (const [n, v] of Object.entries(h)) if (!n.startsWith(':') && v !== undefined) headers.set(n, Array.isArray(v) ? v.join(', ') : String(v));
      });
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('error', reject);
      req.on('end', () => {
        clearTimeout(timer);
        resolve({ status, headers, body: Buffer.concat(parts), httpVersion: '2' });
      });
      // A connection that just ends (no GOAWAY, no RST) closes the stream without 'end' or 'error'.
      req.on('close', () => {
        clearTimeout(timer);
        reject(new Error(`node http2: the stream closed before the response ended (RST_STREAM code ${req.rstCode})`));
      });
    });
  } finally {
    session.close();
  }
}
