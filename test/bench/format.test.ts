/**
 * h2load's number formats (util::dtos, utos_funit, format_duration) and the
 * summary statistics, checked against values read from real h2load output.
 */
import { describe, expect, it } from 'vitest';
import { dtos, duration, durationUs, seconds, sizeUnit } from '../../src/bench/format.js';
import { addValue, mergeRunning, newHistogram, newRunning, requestStat, sdStat } from '../../src/bench/stats.js';

describe('h2load number formats', () => {
  it('two decimals, rounded half away from zero', () => {
    expect(dtos(0)).toBe('0.00');
    expect(dtos(92.4847)).toBe('92.48');
    expect(dtos(11.455)).toBe('11.46');
    expect(dtos(1000)).toBe('1000.00');
    expect(dtos(0.005)).toBe('0.01');
  });

  it('sizes: plain below 1024, else K/M/G of 1024 with two decimals (from h2load: 11730 -> 11.46K, 1053970 -> 1.01M)', () => {
    expect(sizeUnit(0)).toBe('0');
    expect(sizeUnit(1023)).toBe('1023');
    expect(sizeUnit(1024000)).toBe('1000.00K');
    expect(sizeUnit(11730)).toBe('11.46K');
    expect(sizeUnit(1053970)).toBe('1.01M');
    expect(sizeUnit(91900000)).toBe('87.64M');
    expect(sizeUnit(2 ** 31)).toBe('2.00G');
  });

  it('durations: whole us below 1 ms, else ms or s with two decimals', () => {
    expect(duration(0.00006)).toBe('60us');
    expect(duration(0.0007429)).toBe('742us');
    expect(duration(0.00342)).toBe('3.42ms');
    expect(duration(2.995)).toBe('3.00s');
    expect(durationUs(11468)).toBe('11.47ms');
    expect(durationUs(336)).toBe('336us');
    expect(durationUs(3_000_412)).toBe('3.00s');
    expect(seconds(1)).toBe('1');
    expect(seconds(0.5)).toBe('0.5');
  });
});

describe('statistics', () => {
  it('sdStat: population standard deviation and the share within mean ± sd, as h2load', () => {
    const s = sdStat([1, 2, 3, 4, 100]);
    expect(s.min).toBe(1);
    expect(s.max).toBe(100);
    expect(s.mean).toBe(22);
    expect(s.sd).toBeCloseTo(Math.sqrt((21 ** 2 + 20 ** 2 + 19 ** 2 + 18 ** 2 + 78 ** 2) / 5), 9);
    expect(s.withinSd).toBe(80);
    expect(sdStat([])).toEqual({ min: 0, max: 0, mean: 0, sd: 0, withinSd: 0 });
  });

  it('running figures merged across workers equal those of all the values at once', () => {
    const values = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 997) / 1000);
    const all = newRunning();
    for (const v of values) addValue(all, v);
    const a = newRunning();
    const b = newRunning();
    for (const [i, v] of values.entries()) addValue(i % 3 === 0 ? a : b, v);
    mergeRunning(a, b);
    expect(a.n).toBe(all.n);
    expect(a.mean).toBeCloseTo(all.mean, 12);
    expect(a.m2).toBeCloseTo(all.m2, 9);
    expect([a.min, a.max]).toEqual([all.min, all.max]);
  });

  it('request times: exact min, max, mean and sd; within ± sd from the histogram', () => {
    const r = newRunning();
    const h = newHistogram();
    const us = [100, 200, 300, 400, 10000];
    for (const u of us) {
      addValue(r, u / 1e6);
      h.recordValue(u);
    }
    const s = requestStat(r, h);
    const exact = sdStat(us.map((u) => u / 1e6));
    expect(s.min).toBe(exact.min);
    expect(s.max).toBe(exact.max);
    expect(s.mean).toBeCloseTo(exact.mean, 12);
    expect(s.sd).toBeCloseTo(exact.sd, 12);
    expect(s.withinSd).toBe(exact.withinSd);
  });
});
