/** THIRD-PARTY-NOTICES (written by the build, shipped in the package): every package bundled into the commands, with its licence text. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { bundledPackages, expectNoticesCover } from '../helpers/notices.js';

describe('THIRD-PARTY-NOTICES', () => {
  it('names each package bundled into the commands, with its version, licence and licence text', async () => {
    const notices = readFileSync(join(ROOT, 'THIRD-PARTY-NOTICES'), 'utf8');
    expectNoticesCover(notices, await bundledPackages());
  });

  it("carries pako's zlib licence (its package.json says MIT AND Zlib; its LICENSE file is the MIT one) and the licence comments of the bundled code", () => {
    const notices = readFileSync(join(ROOT, 'THIRD-PARTY-NOTICES'), 'utf8');
    const pako = notices.slice(notices.indexOf('\npako '), notices.indexOf('\n=====', notices.indexOf('\npako ')));
    expect(pako).toContain('Permission is hereby granted, free of charge');
    expect(pako).toContain("This software is provided 'as-is'");
    expect(pako).toContain('Jean-loup Gailly and Mark Adler');
    expect(notices).toContain('/*! ws. MIT License. Einar Otto Stangvik');
  });
});
