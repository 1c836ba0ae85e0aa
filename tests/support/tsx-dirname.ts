import path from 'node:path';

/**
 * The backend finds the checkout (and config/) from `__dirname`, which vitest and the CJS
 * build provide; under tsx this package is ESM. A script run from the repository root
 * (a bench, the screenshots) stands in with the directory of the module that reads it
 * (electron/backend/bundles).
 */
export function provideDirname(): void {
  const g = globalThis as { __dirname?: string };
  g.__dirname ??= path.join(process.cwd(), 'electron', 'backend', 'bundles');
}
