#!/usr/bin/env node
import '../dist/bin/inflatehd.mjs';
