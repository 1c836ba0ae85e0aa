/**
 * Vitest's global setup: builds dist/ once, before any test file runs, when a source is newer
 * than what is built. Test files start `npm run web` (scripts/web.mjs) and the `sutazai` CLI
 * (bin/sutazai.mjs), each of which builds what it serves when it is stale; two files doing that
 * at once would write the same outputs while the other reads them. `npm test` builds first
 * (scripts/test.sh), so there this finds nothing to do.
 */
// @ts-expect-error: a plain .mjs script without type declarations
import { buildAll as buildAllUntyped, isStale as isStaleUntyped } from '../../scripts/build.mjs';

const buildAll = buildAllUntyped as (options: { quiet: boolean }) => Promise<void>;
const isStale = isStaleUntyped as (outputs: string[], sourceDirs: string[]) => Promise<boolean>;

const OUTPUTS = [
  'dist/backend/web.cjs',
  'dist/backend/cli.cjs',
  'dist/backend/utility-process.cjs',
  'dist/backend/yaml-worker.cjs',
  'dist/backend/key-decrypt-worker.cjs',
  'dist/renderer/app.js',
  'dist/renderer/index.html',
];
const SOURCES = ['electron', 'agents-runtime/src', 'renderer'];

export default async function setup(): Promise<void> {
  if (await isStale(OUTPUTS, SOURCES)) await buildAll({ quiet: true });
}
