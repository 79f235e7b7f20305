#!/usr/bin/env node
import '../dist/bin/h2proxy.mjs';
