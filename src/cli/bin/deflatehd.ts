// Entry point of the deflatehd command (bundled by scripts/build.mjs).
import { launch } from '../common.js';
import { main } from '../deflatehd.js';

launch('deflatehd', main);
