// Installs npm dependencies on a fresh checkout, so each quick-start command does its
// own set-up. The Electron binary is skipped unless the caller needs the desktop app.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'node_modules', '.sutazai-lock-hash');

function lockHash() {
  return createHash('sha256')
    .update(readFileSync(path.join(root, 'package-lock.json')))
    .digest('hex');
}

/** Runs `npm ci` when node_modules is missing or was installed from another lock file. */
export function ensureDependencies({ skipElectronDownload = true } = {}) {
  const hash = lockHash();
  if (existsSync(path.join(root, 'node_modules')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  console.log('Installing dependencies (npm ci); better-sqlite3 compiles from source, which takes a few minutes...');
  const env = { ...process.env };
  if (skipElectronDownload) env.ELECTRON_SKIP_BINARY_DOWNLOAD = '1';
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) {
    console.error('npm ci failed; see the output above. Remedy: check that the npm registry is reachable, then run the command again.');
    process.exit(result.status ?? 1);
  }
  writeFileSync(stamp, hash);
}

if (import.meta.url === `file://${process.argv[1]}`) ensureDependencies();
