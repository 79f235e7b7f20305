// Entry point of the inflatehd command (bundled by scripts/build.mjs).
import { launch } from '../common.js';
import { main } from '../inflatehd.js';

launch('inflatehd', main);
