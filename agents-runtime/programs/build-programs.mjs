#!/usr/bin/env node
// Bundles the reference SutazAI programs into single CommonJS files that a plain Node 20
// binary runs with no node_modules on the target:
//   <out>/core.cjs, <out>/agent.cjs   everything bundled (@grpc/grpc-js, @grpc/proto-loader, ...)
//   <out>/proto/                      a copy of agents-runtime/proto, loaded at run time
// The programs look for proto/ next to the file they run from (shared/protos.ts).
//
//   node agents-runtime/programs/build-programs.mjs [--out DIR] [--minify]   (default DIR: dist/runtime)
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const runtimeDir = path.resolve(here, '..');
const root = path.resolve(runtimeDir, '..');

export const PROGRAMS = ['core', 'agent'];

export async function buildPrograms({ outDir = path.join(root, 'dist', 'runtime'), minify = false, quiet = false } = {}) {
  const started = Date.now();
  fs.mkdirSync(outDir, { recursive: true });
  await Promise.all(
    PROGRAMS.map((name) =>
      build({
        entryPoints: [path.join(here, `${name}.ts`)],
        outfile: path.join(outDir, `${name}.cjs`),
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        // No externals: the target has a Node binary and nothing else.
        external: [],
        minify,
        sourcemap: false,
        legalComments: 'inline',
        logLevel: 'warning',
        banner: {
          js: `// SutazAI reference ${name} (agents-runtime/programs/${name}.ts), bundled by build-programs.mjs. Needs ./proto next to it.`,
        },
      }),
    ),
  );
  const protoOut = path.join(outDir, 'proto');
  fs.rmSync(protoOut, { recursive: true, force: true });
  fs.cpSync(path.join(runtimeDir, 'proto'), protoOut, {
    recursive: true,
    filter: (src) => fs.statSync(src).isDirectory() || src.endsWith('.proto'),
  });
  if (!quiet)
    console.log(
      `built ${PROGRAMS.map((n) => `${n}.cjs`).join(', ')} and proto/ into ${path.relative(process.cwd(), outDir) || '.'} in ${Date.now() - started} ms`,
    );
  return { outDir, files: PROGRAMS.map((n) => path.join(outDir, `${n}.cjs`)), protoDir: protoOut };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const outDir = outIndex === -1 ? undefined : path.resolve(args[outIndex + 1] ?? '');
  if (outIndex !== -1 && args[outIndex + 1] === undefined) {
    console.error('build-programs: --out needs a directory');
    process.exit(2);
  }
  buildPrograms({ outDir, minify: args.includes('--minify') }).catch((error) => {
    console.error(`build-programs: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
