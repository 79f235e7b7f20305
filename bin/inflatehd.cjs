#!/usr/bin/env node
require('../dist/bin/inflatehd.cjs');
