/**
 * -s: per-request timing, in the columns nghttp prints (its table can be
 * read by the same scripts): times relative to the connection being
 * established, completed requests first.
 */
import type { Exchange } from './exchange.js';

/** `234us`, `1.23ms`, `2.50s`: nghttp's durations (two decimals, truncated). */
export function formatDuration(milliseconds: number): string {
  const us = Math.max(0, Math.round(milliseconds * 1000));
  if (us < 1000) return `${us}us`;
  const [d, unit] = us >= 1_000_000 ? [1_000_000, 's'] : [1000, 'ms'];
  const hundredths = Math.floor((us * 100) / d);
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}${unit}`;
}

const LEGEND = `***** Statistics *****

Request timing:
  responseEnd: when the last octet of the response arrived, from the
               moment the connection was established (connectEnd)
 requestStart: when the request's first octet went out, from connectEnd;
               '*' marks a response the server pushed (from its promise)
      process: responseEnd - requestStart
         code: the status code
         size: response content octets as received (before gzip or
               deflate were undone)
 request path: the :path

sorted by 'complete'
`;

/** The statistics of the exchanges of one connection. */
export function statistics(exchanges: readonly Exchange[]): string {
  const rows = exchanges
    .filter((x) => x.endAt >= 0)
    .map((x) => {
      const base = x.connection.secureEnd;
      const start = x.pushed ? x.issuedAt : x.headersSentAt >= 0 ? x.headersSentAt : x.issuedAt;
      return { x, end: x.endAt - base, start: start - base };
    })
    .sort((a, b) => a.end - b.end);
  let out = `${LEGEND}\nid  responseEnd requestStart  process code size request path\n`;
  for (const { x, end, start } of rows) {
    const path = x.url.pathname + x.url.search;
    out +=
      `${String(x.streamId).padStart(3)} ${`+${formatDuration(end)}`.padStart(11)} ${x.pushed ? '*' : ' '}${`+${formatDuration(start)}`.padStart(11)}` +
      ` ${formatDuration(end - start).padStart(8)} ${String(x.status).padStart(4)} ${String(x.bodySize).padStart(4)} ${path}\n`;
  }
  return out;
}
