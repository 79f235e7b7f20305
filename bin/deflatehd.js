#!/usr/bin/env node
import '../dist/bin/deflatehd.mjs';
