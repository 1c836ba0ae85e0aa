#!/usr/bin/env node
// `npm run web`: installs and builds what web mode needs, then serves the app to a
// browser on 127.0.0.1 (see electron/backend/entry/web.ts for the flags).
import path from 'node:path';
import { ensureDependencies, root } from './ensure-deps.mjs';

ensureDependencies();
const { buildAll, isStale } = await import('./build.mjs');
// React's production build (dist/renderer-web, scripts/build.mjs): the development one is several times slower at every
// live chart update. The e2e tests ask for the development one (dist/renderer, React's warnings) by SUTAZAI_RENDERER_DIR.
process.env.SUTAZAI_RENDERER_DIR ??= path.join(root, 'dist', 'renderer-web');
const renderer = builtRenderer(process.env.SUTAZAI_RENDERER_DIR);
const outputs = [
  'dist/backend/web.cjs',
  'dist/backend/yaml-worker.cjs',
  'dist/backend/key-decrypt-worker.cjs',
  ...(renderer ? [`dist/${renderer}/app.js`, `dist/${renderer}/index.html`] : []),
];
// The backend bundles the runtime's wire vocabulary, readers and YAML (agents-runtime/src/wire/index.ts): all of its sources count.
if (await isStale(outputs, ['electron/backend', 'electron/contract', 'agents-runtime/src', ...(renderer ? ['renderer'] : [])])) {
  await buildAll({ only: ['backend/web', ...(renderer ? [renderer] : [])], quiet: true });
  // esbuild's service is a child process that otherwise lives as long as the server, idle but not free.
  await (await import('esbuild')).stop();
}

/** Which of the build's renderers the served folder is (only that one is built); null for a folder of someone else's. */
function builtRenderer(dir) {
  const relative = path.relative(path.join(root, 'dist'), path.resolve(dir));
  return relative === 'renderer' || relative === 'renderer-web' ? relative : null;
}
await import(path.join(root, 'dist', 'backend', 'web.cjs'));
