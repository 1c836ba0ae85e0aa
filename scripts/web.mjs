#!/usr/bin/env node
// `npm run web`: installs and builds what web mode needs, then serves the app to a
// browser on 127.0.0.1 (see electron/backend/entry/web.ts for the flags).
import path from 'node:path';
import { ensureDependencies, root } from './ensure-deps.mjs';

ensureDependencies();
const { buildAll, isStale } = await import('./build.mjs');
const outputs = ['dist/backend/web.cjs', 'dist/backend/yaml-worker.cjs', 'dist/renderer/app.js', 'dist/renderer/index.html'];
if (await isStale(outputs, ['electron/backend', 'electron/contract', 'agents-runtime/src/yaml', 'renderer'])) {
  await buildAll({ only: ['backend/web', 'renderer'], quiet: true });
}
process.env.SUTAZAI_RENDERER_DIR ??= path.join(root, 'dist', 'renderer');
await import(path.join(root, 'dist', 'backend', 'web.cjs'));
