#!/usr/bin/env node
import '../dist/bin/h2get.mjs';
