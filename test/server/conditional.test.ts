import { describe, expect, it } from 'vitest';
import { acceptsGzip, evaluateRange, ifRangeHolds, parseEntityTags, strongMatch, weakMatch } from '../../src/server/conditional.js';
import { formatHttpDate } from '../../src/server/http-date.js';

describe('entity-tag lists (RFC 9110 §8.8.3, §13.1.2)', () => {
  it('parses *, strong and weak tags with whitespace and empty elements', () => {
    expect(parseEntityTags(' * ')).toBe('*');
    expect(parseEntityTags('"a", W/"b" ,,"c,d"')).toEqual([
      { weak: false, tag: '"a"' },
      { weak: true, tag: '"b"' },
      { weak: false, tag: '"c,d"' },
    ]);
  });
  it('skips elements that are not entity-tags', () => {
    expect(parseEntityTags('abc, "ok", "unterminated')).toEqual([{ weak: false, tag: '"ok"' }]);
    expect(parseEntityTags('"a"b, "sp ace"')).toEqual([]);
  });
  it('weak comparison ignores W/, strong comparison does not', () => {
    const list = parseEntityTags('W/"x"');
    expect(weakMatch(list, '"x"')).toBe(true);
    expect(strongMatch(list, '"x"')).toBe(false);
    expect(strongMatch(parseEntityTags('"y", "x"'), '"x"')).toBe(true);
    expect(weakMatch(parseEntityTags('"y"'), '"x"')).toBe(false);
    expect(weakMatch('*', '"x"')).toBe(true);
  });
});

describe('Range (RFC 9110 §14.1.2, §14.2)', () => {
  it('first-last, open-ended and suffix ranges', () => {
    expect(evaluateRange('bytes=0-9', 100)).toEqual({ kind: 'single', start: 0, end: 10 });
    expect(evaluateRange('bytes=90-', 100)).toEqual({ kind: 'single', start: 90, end: 100 });
    expect(evaluateRange('bytes=-10', 100)).toEqual({ kind: 'single', start: 90, end: 100 });
    expect(evaluateRange('bytes=-1000', 100)).toEqual({ kind: 'single', start: 0, end: 100 });
    expect(evaluateRange('bytes=50-5000', 100)).toEqual({ kind: 'single', start: 50, end: 100 });
    expect(evaluateRange('BYTES=99-99', 100)).toEqual({ kind: 'single', start: 99, end: 100 });
  });
  it('unsatisfiable: every first-pos at or past the end, or a zero suffix', () => {
    expect(evaluateRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(evaluateRange('bytes=100-200', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(evaluateRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(evaluateRange('bytes=200-300, 400-', 100)).toEqual({ kind: 'unsatisfiable' });
  });
  it('multiple ranges with one satisfiable become a full response', () => {
    expect(evaluateRange('bytes=0-1, 5-6', 100)).toEqual({ kind: 'multiple' });
    expect(evaluateRange('bytes=0-1,500-600', 100)).toEqual({ kind: 'multiple' });
  });
  it('invalid fields and other units are ignored', () => {
    for (const bad of [
      'bytes=5-1',
      'bytes=a-b',
      'bytes=1-2-3',
      'bytes=',
      'bytes=,',
      'bytes 0-1',
      'items=0-1',
      'bytes=0x1-2',
      'bytes=-',
      'bytes=1',
      'bytes=0-1, 9-3',
    ]) {
      expect(evaluateRange(bad, 100), bad).toEqual({ kind: 'ignore' });
    }
  });
  it('ranges of an empty representation are ignored (the empty 200 is sent)', () => {
    expect(evaluateRange('bytes=0-', 0)).toEqual({ kind: 'ignore' });
    expect(evaluateRange('bytes=-5', 0)).toEqual({ kind: 'ignore' });
  });
});

describe('If-Range (RFC 9110 §13.1.5)', () => {
  const lm = 1_700_000_000;
  const now = lm + 100;
  it('an entity-tag must match strongly', () => {
    expect(ifRangeHolds('"e1"', '"e1"', lm, now)).toBe(true);
    expect(ifRangeHolds('"e2"', '"e1"', lm, now)).toBe(false);
    expect(ifRangeHolds('W/"e1"', '"e1"', lm, now)).toBe(false);
    expect(ifRangeHolds('"e1"', undefined, lm, now)).toBe(false);
  });
  it('a date must equal Last-Modified exactly, and only when Last-Modified is strong', () => {
    expect(ifRangeHolds(formatHttpDate(lm), '"e1"', lm, now)).toBe(true);
    expect(ifRangeHolds(formatHttpDate(lm + 1), '"e1"', lm, now)).toBe(false);
    expect(ifRangeHolds(formatHttpDate(lm - 1), '"e1"', lm, now)).toBe(false);
    // modified within the last second: Last-Modified is weak (§8.8.2.2)
    expect(ifRangeHolds(formatHttpDate(lm), '"e1"', lm, lm + 0.5)).toBe(false);
    expect(ifRangeHolds('not a date', '"e1"', lm, now)).toBe(false);
  });
});

describe('Accept-Encoding and gzip (RFC 9110 §12.5.3)', () => {
  it('absent means anything goes; empty means identity only', () => {
    expect(acceptsGzip(undefined)).toBe(true);
    expect(acceptsGzip('')).toBe(false);
  });
  it('gzip listed, weighted, refused, or via *', () => {
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('br;q=1.0, GZIP;q=0.5')).toBe(true);
    expect(acceptsGzip('x-gzip')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('gzip;q=0.000, *')).toBe(false);
    expect(acceptsGzip('br, *')).toBe(true);
    expect(acceptsGzip('*;q=0')).toBe(false);
    expect(acceptsGzip('deflate, br')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
  });
});
