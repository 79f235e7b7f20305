/**
 * A command's CommonJS bundle as the single executable runs it. Also used by
 * scripts/build-exe.mjs to make each bundle's V8 code cache: the cache only
 * fits the very source it was made for, wrapper included.
 */
import { Script } from 'node:vm';

/** Compiles a bundle in a CommonJS wrapper, with its code cache when there is one. */
export function compileBundle(code: string, filename: string, cachedData?: Buffer): Script {
  return new Script(`(function (exports, require, module) {${code}\n})`, cachedData ? { filename, cachedData } : { filename });
}

/** Runs a compiled bundle as a CommonJS module that can require Node's built-in modules. */
export function runBundle(script: Script, req: NodeJS.Require): void {
  const fn = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }) => void;
  const mod = { exports: {} };
  fn(mod.exports, req, mod);
}
