#!/usr/bin/env node
// Builds every part with esbuild: the Electron shell (main, preload), the backend
// entries (utility process, web mode, CLI) and the renderer (and, when named, the
// renderer as `npm run web` serves it). Node parts keep their
// npm dependencies external (better-sqlite3 is native; electron-builder ships
// node_modules), the renderer is one self-contained bundle.
import { build } from 'esbuild';
import { copyFile, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist');

const nodeTargets = [
  { entry: 'electron/main/main.ts', outfile: 'main/main.cjs', external: ['electron'] },
  { entry: 'electron/preload/preload.ts', outfile: 'preload/preload.cjs', external: ['electron'] },
  { entry: 'electron/backend/entry/utility-process.ts', outfile: 'backend/utility-process.cjs' },
  { entry: 'electron/backend/entry/web.ts', outfile: 'backend/web.cjs' },
  { entry: 'electron/backend/cli/main.ts', outfile: 'backend/cli.cjs' },
  // The YAML worker thread every backend entry starts (untrusted-yaml/parse-off-thread.ts).
  { entry: 'electron/backend/untrusted-yaml/yaml-worker.ts', outfile: 'backend/yaml-worker.cjs', partOf: 'backend/' },
  // The worker thread that decrypts encrypted private keys (hosts/ssh/key-decrypt-pool.ts).
  { entry: 'electron/backend/hosts/ssh/key-decrypt-worker.ts', outfile: 'backend/key-decrypt-worker.cjs', partOf: 'backend/' },
];

/**
 * Which parts to build; `only` narrows it for the commands that need one part. `outDir`
 * (default dist/) lets the packaging test build a production app of its own.
 */
export async function buildAll({ only, quiet = false, production = process.env.NODE_ENV === 'production', outDir = out } = {}) {
  const started = Date.now();
  const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const tasks = [];
  for (const target of nodeTargets) {
    if (only && !only.some((part) => target.outfile.startsWith(part) || (target.partOf !== undefined && part.startsWith(target.partOf))))
      continue;
    tasks.push(
      build({
        entryPoints: [path.join(root, target.entry)],
        outfile: path.join(outDir, target.outfile),
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        packages: 'external',
        external: target.external ?? [],
        sourcemap: true,
        logLevel: 'warning',
        define: {
          'process.env.SUTAZAI_BUILD': JSON.stringify(production ? 'production' : 'development'),
          __APP_VERSION__: JSON.stringify(version),
        },
      }),
    );
  }
  if (!only || only.includes('renderer')) tasks.push(buildRenderer(path.join(outDir, 'renderer'), production));
  // What `npm run web` serves (scripts/web.mjs): always React's production build. The
  // development one (dist/renderer: the desktop app in development, the e2e tests, with
  // React's warnings) spends three to four times the page's CPU on each live chart update.
  // Built only when named (`--only=renderer-web`; web.mjs names it when it serves it and it is
  // stale): `npm start`, the tests and CI use dist/renderer, and every build made the renderer twice.
  if (only?.includes('renderer-web')) tasks.push(buildRenderer(path.join(outDir, 'renderer-web'), true));
  await Promise.all(tasks);
  if (!quiet) console.log(`built ${tasks.length} part(s) into ${outDir === out ? 'dist' : outDir}/ in ${Date.now() - started} ms`);
}

function buildRenderer(outdir, production) {
  return build({
    entryPoints: { app: path.join(root, 'renderer/src/main.tsx') },
    outdir,
    bundle: true,
    platform: 'browser',
    target: ['chrome120'],
    format: 'esm',
    jsx: 'automatic',
    minify: production,
    sourcemap: true,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': JSON.stringify(production ? 'production' : 'development') },
  }).then(async () => {
    await mkdir(outdir, { recursive: true });
    await copyFile(path.join(root, 'renderer/index.html'), path.join(outdir, 'index.html'));
  });
}

/** True when an output is missing or older than any source file under the given folders. */
export async function isStale(outputs, sourceDirs) {
  let oldestOutput = Infinity;
  for (const output of outputs) {
    try {
      oldestOutput = Math.min(oldestOutput, (await stat(path.join(root, output))).mtimeMs);
    } catch {
      return true;
    }
  }
  for (const dir of sourceDirs) {
    if ((await newestMtime(path.join(root, dir))) > oldestOutput) return true;
  }
  return false;
}

async function newestMtime(dir) {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestMtime(full));
    else newest = Math.max(newest, (await stat(full)).mtimeMs);
  }
  return newest;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const onlyArg = args.find((a) => a.startsWith('--only='));
  await buildAll({
    only: onlyArg ? onlyArg.slice('--only='.length).split(',') : undefined,
    quiet: args.includes('--quiet'),
    production: args.includes('--production') || process.env.NODE_ENV === 'production',
  });
}
