// Entry point of the h2proxy command (bundled by scripts/build.mjs).
import { launch } from '../common.js';
import { main } from '../h2proxy.js';

launch('h2proxy', main, { streams: true });
