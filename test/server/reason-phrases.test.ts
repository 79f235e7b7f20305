/** One table of reason phrases (RFC 9110 §15): Node's http.STATUS_CODES, for error pages and for the HTTP/1.1 answers of an h2c port. */
import { STATUS_CODES } from 'node:http';
import { describe, expect, it } from 'vitest';
import { http1Response } from '../../src/h2/upgrade.js';
import { errorPageHtml } from '../../src/server/error-pages.js';

const statuses = Object.keys(STATUS_CODES)
  .map(Number)
  .filter((s) => s >= 200);

describe('reason phrases', () => {
  it('error pages name every status as http.STATUS_CODES does', () => {
    for (const s of statuses) expect(errorPageHtml(s), String(s)).toContain(`<title>${s} ${STATUS_CODES[s]}</title>`);
  });

  it('the HTTP/1.1 answers of an h2c port take their status lines from the same table', () => {
    for (const s of statuses) expect(http1Response(s, '').split('\r\n')[0], String(s)).toBe(`HTTP/1.1 ${s} ${STATUS_CODES[s]}`);
  });
});
