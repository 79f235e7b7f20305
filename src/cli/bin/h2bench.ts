// Entry point of the h2bench command (bundled by scripts/build.mjs; its worker threads run h2bench-worker.mjs).
import { launch } from '../common.js';
import { main } from '../h2bench.js';

launch('h2bench', main, { streams: true });
