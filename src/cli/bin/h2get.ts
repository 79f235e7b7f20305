// Entry point of the h2get command (bundled by scripts/build.mjs).
import { launch } from '../common.js';
import { main } from '../h2get.js';

launch('h2get', main, { streams: true });
