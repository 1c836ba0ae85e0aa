// The runtime bundle's Node built-ins, each bound once and only by the names our code imports
// (build-runtime.mjs). Two esbuild plugins and the pass between them:
//   builtinImportsOf(options)  a first build, in ES module form with the built-ins left as
//                              imports, read for the names each `import ... from 'node:X'` takes
//                              (after tree shaking, like the real build);
//   builtinsOnce(imports)      the real build: `node:X` becomes a small module that requires
//                              Node's module object once and exports those names alone.
import { build } from 'esbuild';

/**
 * Memory: esbuild turns every default import of a Node built-in (`import fs from 'node:fs'`)
 * into a copy of the module object with one getter per export (its __toESM helper), a copy per
 * importing file: 26 of fs alone, some 3,100 getters and their property tables on the daemon's
 * heap (heap snapshot, 10 children). Hence one module per built-in, evaluated once.
 *
 * It exports only the names imported: destructuring every export read every getter of the
 * module at start, and some build what they return on first read, for names nothing uses
 * (before: fs.ReadStream and three more stream classes, fs.Dir, fs.opendir, fs.promises,
 * http.globalAgent, net.BlockList and net.SocketAddress, crypto.webcrypto and crypto.subtle,
 * which load Web Crypto; an import of node:tls would have read tls.rootCertificates,
 * ~213 KiB of PEM strings). tests/integration/runtime/bundle-builtins.test.ts traps them.
 * A name imported but not exported is esbuild's "No matching export" error: the list cannot
 * go stale silently. `require()` calls (the bundled CommonJS libraries) are left to esbuild.
 */
export function builtinsOnce(imports) {
  return {
    name: 'node-builtins-once',
    setup(b) {
      b.onResolve({ filter: /^node:/ }, (args) => {
        if (args.namespace === 'node-builtin') return { path: args.path, external: true };
        return args.kind === 'import-statement' ? { path: args.path, namespace: 'node-builtin' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => {
        const names = [...(imports.get(args.path) ?? [])].sort();
        const lines = [`const m = require(${JSON.stringify(args.path)});`, 'export default m;'];
        if (names.length > 0) lines.push(`export const { ${names.join(', ')} } = m;`);
        return { contents: `${lines.join('\n')}\n`, loader: 'js' };
      });
    },
  };
}

/** `node:X` imports stay imports in the first pass, so its output names what each takes. */
const builtinsExternal = {
  name: 'node-builtins-external',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'import-statement' ? { path: args.path, external: true } : undefined));
  },
};

// esbuild's own printing of an import of an external module (unminified ES module output).
const IMPORT_LINE = /^import (.*) from "(node:[\w/]+)";$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Parses esbuild's import statements of `node:` modules: `import d from`, `import { a, b as c }
 * from`, `import d, { a } from`. A namespace import (`import * as ns`) would need every name, so
 * it is refused with the way round; a line it cannot read fails the build rather than drop names.
 */
export function builtinImportsOfOutput(text) {
  const imports = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('import ') || !line.includes('"node:')) continue;
    const match = IMPORT_LINE.exec(line);
    if (match === null) throw new Error(`builtins-once: cannot read the import line ${JSON.stringify(line)}`);
    const [, clause, specifier] = match;
    if (clause.includes('* as ')) {
      throw new Error(
        `builtins-once: a namespace import of ${specifier} (${line}) would bind every export of it; import its default or the names used instead`,
      );
    }
    const names = imports.get(specifier) ?? new Set();
    imports.set(specifier, names);
    const braces = /\{([^}]*)\}/.exec(clause);
    if (braces === null) continue;
    for (const part of braces[1].split(',')) {
      const name = part.trim().split(/\s+as\s+/)[0];
      if (name === '' || name === 'default') continue;
      if (!IDENTIFIER.test(name)) throw new Error(`builtins-once: cannot read the import line ${JSON.stringify(line)}`);
      names.add(name);
    }
  }
  return imports;
}

/** The names each `node:` module is imported by, from a first build with the same options. */
export async function builtinImportsOf(options) {
  const probe = await build({
    ...options,
    format: 'esm',
    write: false,
    minifyWhitespace: false,
    metafile: false,
    banner: {},
    plugins: [builtinsExternal],
    logLevel: 'error',
  });
  return builtinImportsOfOutput(probe.outputFiles.map((file) => file.text).join('\n'));
}
