#!/usr/bin/env node
// The `sutazai` command from a checkout (`npx sutazai ...`): builds the CLI bundle when
// its sources changed, then runs it with the same backend and data directory as the app.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { buildAll, isStale } = await import(pathToFileURL(path.join(root, 'scripts', 'build.mjs')).href);
if (
  await isStale(
    ['dist/backend/cli.cjs', 'dist/backend/yaml-worker.cjs', 'dist/backend/key-decrypt-worker.cjs'],
    ['electron/backend', 'electron/contract', 'agents-runtime/src/yaml'],
  )
) {
  await buildAll({ only: ['backend/cli'], quiet: true });
}
await import(pathToFileURL(path.join(root, 'dist', 'backend', 'cli.cjs')).href);
