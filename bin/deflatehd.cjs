#!/usr/bin/env -S node --max-semi-space-size=8
// An 8 MiB young generation (V8's default is 16): less peak memory on large inputs at no
// measurable cost in time. V8 reads it only at start-up, hence here. See BENCHMARKS.md.
require('../dist/bin/deflatehd.cjs');
