#!/usr/bin/env node
import '../dist/bin/h2bench.mjs';
