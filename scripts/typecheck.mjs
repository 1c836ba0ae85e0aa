#!/usr/bin/env node
// Type-checks each part against its own configuration: the shell with Electron's
// types and the DOM, the backend with Node's only, the renderer with the DOM and no
// Node at all, the runtime with Node. A part with no sources yet is reported, not failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { root } from './ensure-deps.mjs';

const parts = [
  ['shell', 'electron/main/tsconfig.json'],
  ['backend', 'electron/backend/tsconfig.json'],
  ['renderer', 'renderer/tsconfig.json'],
  ['runtime', 'agents-runtime/tsconfig.json'],
  ['tests', 'tests/tsconfig.json'],
];

function hasSources(dir) {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true, recursive: true }).some(
    (e) => e.isFile() && /\.tsx?$/.test(e.name) && !e.parentPath?.includes('node_modules'),
  );
}

let failed = 0;
for (const [name, config] of parts) {
  const dir = path.dirname(path.join(root, config));
  if (!hasSources(dir)) {
    console.log(`typecheck ${name}: no TypeScript sources yet, skipped`);
    continue;
  }
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', config], {
    cwd: root,
    stdio: 'inherit',
  });
  console.log(`typecheck ${name}: ${result.status === 0 ? 'ok' : 'FAILED'}`);
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
