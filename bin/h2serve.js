#!/usr/bin/env -S node --max-semi-space-size=1
import '../dist/bin/h2serve.mjs';
