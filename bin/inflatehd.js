#!/usr/bin/env node
import { launch } from '../dist/cli/common.js';
import { main } from '../dist/cli/inflatehd.js';

launch('inflatehd', main);
