import { describe, expect, it } from 'vitest';
import { formatHttpDate, parseHttpDate } from '../../src/server/http-date.js';

// RFC 9110 §5.6.7's example instant.
const T = 784111777;

describe('HTTP-date (RFC 9110 §5.6.7)', () => {
  it('formats IMF-fixdate', () => {
    expect(formatHttpDate(T)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(formatHttpDate(0)).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
  });
  it('parses the three formats to the same instant', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(T);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', T)).toBe(T);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(T);
  });
  it('round-trips what it formats', () => {
    for (const s of [0, 1, T, 1_700_000_000, 4_102_444_799]) expect(parseHttpDate(formatHttpDate(s))).toBe(s);
  });
  it('resolves two-digit years against the clock (50-year rule)', () => {
    const now2026 = Date.UTC(2026, 0, 1) / 1000;
    expect(parseHttpDate('Wednesday, 01-Jan-70 00:00:00 GMT', now2026)).toBe(Date.UTC(2070, 0, 1) / 1000);
    expect(parseHttpDate('Friday, 01-Jan-30 00:00:00 GMT', now2026)).toBe(Date.UTC(2030, 0, 1) / 1000);
    expect(parseHttpDate('Monday, 01-Jan-80 00:00:00 GMT', now2026)).toBe(Date.UTC(1980, 0, 1) / 1000);
  });
  it('rejects what is not an HTTP-date', () => {
    for (const bad of [
      '',
      'yesterday',
      '1994-11-06T08:49:37Z',
      'Sun, 06 Nov 1994 08:49:37 UTC',
      'Sun, 6 Nov 1994 08:49:37 GMT',
      'Sun, 06 Foo 1994 08:49:37 GMT',
      'Xyz, 06 Nov 1994 08:49:37 GMT',
      'Sun, 31 Feb 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 24:00:00 GMT',
      'Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT',
      '784111777',
    ]) {
      expect(parseHttpDate(bad), bad).toBeUndefined();
    }
  });
});
