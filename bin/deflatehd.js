#!/usr/bin/env -S node --max-semi-space-size=4
// A small young generation: a quarter of the peak memory on large inputs, no slower
// (V8 reads it only at start-up, hence here). See BENCHMARKS.md.
import '../dist/bin/deflatehd.mjs';
