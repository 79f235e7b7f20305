#!/usr/bin/env node
require('../dist/bin/deflatehd.cjs');
