import fs from 'node:fs';
import path from 'node:path';

/**
 * The first folder holding every one of `files`, looking in each of `folders` under each
 * start directory and its parents (8 levels). Plain paths, no `import.meta`: this runs in
 * the runtime's bundle, in the control center's CommonJS bundle and from source alike.
 */
export function findProtoDir(starts: readonly string[], folders: readonly string[], files: readonly string[]): string | undefined {
  for (const start of starts) {
    for (let dir = start, depth = 0; depth < 8; depth++) {
      for (const folder of folders) {
        const candidate = path.join(dir, folder);
        if (files.every((file) => fs.existsSync(path.join(candidate, file)))) return candidate;
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}
