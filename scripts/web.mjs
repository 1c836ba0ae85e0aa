#!/usr/bin/env node
// `npm run web`: installs and builds what web mode needs, then serves the app to a
// browser on 127.0.0.1 (see electron/backend/entry/web.ts for the flags).
import path from 'node:path';
import { ensureDependencies, root } from './ensure-deps.mjs';

ensureDependencies();
const { buildAll, isStale } = await import('./build.mjs');
const outputs = ['dist/backend/web.cjs', 'dist/backend/yaml-worker.cjs', 'dist/renderer-web/app.js', 'dist/renderer-web/index.html'];
// The backend bundles the runtime's wire vocabulary, readers and YAML (agents-runtime/src/wire/index.ts): all of its sources count.
if (await isStale(outputs, ['electron/backend', 'electron/contract', 'agents-runtime/src', 'renderer'])) {
  await buildAll({ only: ['backend/web', 'renderer'], quiet: true });
  // esbuild's service is a child process that otherwise lives as long as the server, idle but not free.
  await (await import('esbuild')).stop();
}
// React's production build (scripts/build.mjs): the development one is several times slower at every live chart update.
process.env.SUTAZAI_RENDERER_DIR ??= path.join(root, 'dist', 'renderer-web');
await import(path.join(root, 'dist', 'backend', 'web.cjs'));
