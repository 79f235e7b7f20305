// Entry point of the h2serve command (bundled by scripts/build.mjs).
import { launch } from '../common.js';
import { main } from '../h2serve.js';

launch('h2serve', main, { streams: true });
