/** Our reason-phrase table against Node's, which h2kit used before it had its own. */
import { STATUS_CODES } from 'node:http';
import { describe, expect, it } from 'vitest';
import { reasonPhrase, reasonPhraseCodes } from '../../src/h2/reason-phrases.js';

describe('reasonPhrase', () => {
  it("has Node's codes and phrases, no more and no fewer", () => {
    expect(reasonPhraseCodes().map(String)).toEqual(Object.keys(STATUS_CODES));
    for (const code of reasonPhraseCodes()) expect(reasonPhrase(code), String(code)).toBe(STATUS_CODES[code]);
  });

  it('has no phrase for other numbers, nor for keys of Object.prototype', () => {
    for (const n of [0, 99, 199, 299, 419, 599, 600, 1000, -1, 200.5, Number.NaN]) expect(reasonPhrase(n), String(n)).toBeUndefined();
    expect(reasonPhrase('constructor' as unknown as number)).toBeUndefined();
  });
});
