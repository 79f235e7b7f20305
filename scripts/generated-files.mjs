// Writing generated source files, or (--check) telling whether the committed
// ones are still what their generator writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** An emitter for `generator`: emit(rel, text) writes root/rel, or with `check` notes a difference; done() reports. */
export function generatedFiles(root, generator, check) {
  const written = [];
  const stale = [];
  return {
    emit(rel, text) {
      const file = join(root, rel);
      if (!check) {
        writeFileSync(file, text);
        written.push(rel);
        return;
      }
      let now = null;
      try {
        now = readFileSync(file, 'utf8');
      } catch {}
      if (now !== text) stale.push(rel);
    },
    done() {
      if (!check) console.log(`wrote ${written.join(', ')}`);
      else if (stale.length > 0) {
        console.error(`${generator}: not what the generator writes: ${stale.join(', ')} (run node scripts/${generator}.mjs)`);
        process.exit(1);
      }
    },
  };
}
