import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SMALL_YOUNG_GENERATION, youngGenerationFlag } from '../../src/cli/server-common.js';

/**
 * h2serve keeps V8's young generation at its initial size (see
 * keepYoungGenerationSmall). The flag is set at run time, which works only
 * for flags V8 reads as it goes: the child process below checks that this
 * one still does in the Node that runs the tests.
 */
describe('the small young generation of the servers', () => {
  it('is asked for unless the user gave semi-space flags of their own', () => {
    expect(youngGenerationFlag([], undefined)).toBe(SMALL_YOUNG_GENERATION);
    expect(youngGenerationFlag(['--enable-source-maps'], '--max-old-space-size=512')).toBe(SMALL_YOUNG_GENERATION);
    expect(youngGenerationFlag(['--max-semi-space-size=8'], undefined)).toBeNull();
    expect(youngGenerationFlag([], '--min_semi_space_size=4')).toBeNull();
    expect(youngGenerationFlag([], '--semi-space-growth-factor=2')).toBeNull();
  });

  it('keeps new space from growing when set at run time', () => {
    // Objects that outlive one scavenge (a ring of recent allocations) make V8 grow new space.
    const script = `
      const v8 = require('node:v8');
      if (process.argv[1] === 'small') v8.setFlagsFromString(${JSON.stringify(SMALL_YOUNG_GENERATION)});
      const ring = new Array(20000);
      for (let i = 0; i < 3e6; i++) ring[i % ring.length] = { i, s: 'x' + i, a: [i, i + 1] };
      const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      console.log(ns.space_size);`;
    const newSpace = (mode: string) => {
      const r = spawnSync(process.execPath, ['-e', script, mode], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
      expect(r.status, r.stderr).toBe(0);
      return Number(r.stdout.trim());
    };
    const grown = newSpace('default');
    const small = newSpace('small');
    expect(small).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(grown).toBeGreaterThan(2 * small);
  });
});
