// Installs npm dependencies on a fresh checkout, so each quick-start command does its
// own set-up. The Electron binary is skipped unless the caller needs the desktop app.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
  if (installedFrom(hash)) return;
  // Several entries may start at once (tests start `npm run web` beside each other): the
  // first installs, the others wait for it and then find the stamp, instead of each
  // running `npm ci`, which empties node_modules under the others.
  const release = takeInstallLock();
  try {
    if (installedFrom(hash)) return;
    console.log('Installing dependencies (npm ci); better-sqlite3 compiles from source, which takes a few minutes...');
    const env = { ...process.env };
    if (skipElectronDownload) env.ELECTRON_SKIP_BINARY_DOWNLOAD = '1';
    const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit', env });
    if (result.status !== 0) {
      console.error('npm ci failed; see the output above. Remedy: check that the npm registry is reachable, then run the command again.');
      process.exit(result.status ?? 1);
    }
    writeFileSync(stamp, hash);
  } finally {
    release();
  }
}

function installedFrom(hash) {
  return existsSync(path.join(root, 'node_modules')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash;
}

const lockDir = path.join(root, '.npm-ci.lock');
/** How long a waiter waits for another process's install (a cold better-sqlite3 build is minutes). */
const LOCK_WAIT_MS = 20 * 60 * 1000;

/** Takes the install lock (a directory: mkdir is atomic), waiting for a live holder; a dead holder's lock is taken over. */
function takeInstallLock() {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let told = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    if (!holderAlive()) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      console.error(
        `Another process has been installing dependencies for over ${LOCK_WAIT_MS / 60000} minutes (${lockDir}). Remedy: wait for it, or stop it and remove that directory.`,
      );
      process.exit(1);
    }
    if (!told) console.log('Waiting for another process that is installing dependencies (npm ci)...');
    told = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}

function holderAlive() {
  let pid;
  try {
    pid = Number(readFileSync(path.join(lockDir, 'pid'), 'utf8'));
  } catch {
    // Made but not yet written by its holder (alive for a moment), or left so by a holder
    // killed between the two steps (dead once the directory is some seconds old).
    try {
      return Date.now() - statSync(lockDir).mtimeMs < 10_000;
    } catch {
      return true;
    }
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

if (import.meta.url === `file://${process.argv[1]}`) ensureDependencies();
