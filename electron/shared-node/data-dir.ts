import fs from 'node:fs';
import path from 'node:path';

export const APP_DIR_NAME = 'SutazAI Control Center';

/** The desktop app's vault key, sealed by the OS secret store (electron/main/vault-key.ts). */
export const VAULT_KEY_FILE = 'vault-key.sealed';
/**
 * The data directory holds the sealed vault, the database and the logs: only its owner
 * may enter it, and its files are the owner's alone, so another local user can neither
 * read the database nor copy it away to guess the passphrase offline.
 */
const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;
const GROUP_OTHER_BITS = 0o077;
/** What the app keeps there: the database with its journal files, the desktop key, logs and bundles. */
const APP_FILE = /^sutazai\.db(-wal|-shm|-journal)?$/;
const APP_DIRS = new Set(['logs', 'bundles']);

export interface DataDirEnvironment {
  platform: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
  homedir: string;
}

/**
 * Where the control center keeps its database and logs, per user, in the place each
 * OS expects: the XDG data directory on Linux, Application Support on macOS, the
 * roaming AppData on Windows. The desktop app, web mode and the CLI all use this, so
 * `sutazai` on the command line sees what the app sees.
 */
export function defaultDataDir({ platform, env, homedir }: DataDirEnvironment): string {
  if (platform === 'win32') {
    const base = env.APPDATA || path.win32.join(homedir, 'AppData', 'Roaming');
    return path.win32.join(base, APP_DIR_NAME);
  }
  if (platform === 'darwin') {
    return path.posix.join(homedir, 'Library', 'Application Support', APP_DIR_NAME);
  }
  const base =
    env.XDG_DATA_HOME && path.posix.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.posix.join(homedir, '.local', 'share');
  return path.posix.join(base, 'sutazai-control-center');
}

/** `--data-dir` beats `SUTAZAI_DATA_DIR`, which beats the per-user default. */
export function resolveDataDir(flag: string | undefined, environment: DataDirEnvironment): string {
  if (flag) return path.resolve(flag);
  const fromEnv = environment.env.SUTAZAI_DATA_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  return defaultDataDir(environment);
}

/** Creates the data directory (and any missing parent) for its owner only. */
export function makeDataDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Creates a file in the data directory for its owner only; one that exists is left as it is. */
export function makePrivateFile(file: string): void {
  try {
    fs.closeSync(fs.openSync(file, 'wx', PRIVATE_FILE_MODE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/**
 * Takes group and other permissions off the data directory and what the app keeps in
 * it (older versions made it 0755 with 0644 files). Only the app's own entries are
 * walked, so a data directory pointed at a folder with other things in it does not
 * have them changed; symbolic links are skipped (chmod would follow them out).
 * Returns what changed ("path 0644 -> 0600") and what could not be changed.
 */
export function tightenDataDirModes(dir: string): { changed: string[]; failed: string[] } {
  const result = { changed: [] as string[], failed: [] as string[] };
  if (process.platform === 'win32') return result; // ACLs there, not mode bits: the per-user AppData is private already.
  const tighten = (target: string, stat: fs.Stats) => {
    const mode = stat.mode & 0o7777;
    if ((mode & GROUP_OTHER_BITS) === 0) return;
    const wanted = mode & ~GROUP_OTHER_BITS & 0o7777;
    try {
      fs.chmodSync(target, wanted);
      result.changed.push(`${target} ${octal(mode)} -> ${octal(wanted)}`);
    } catch (error) {
      result.failed.push(`${target} ${octal(mode)} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  };
  const walk = (target: string) => {
    const stat = fs.lstatSync(target, { throwIfNoEntry: false });
    if (!stat || stat.isSymbolicLink()) return;
    tighten(target, stat);
    if (stat.isDirectory()) for (const entry of fs.readdirSync(target)) walk(path.join(target, entry));
  };
  const top = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (!top?.isDirectory()) return result;
  // A sticky, world-writable directory (/tmp) is shared on purpose: it is not ours to close.
  if ((top.mode & 0o1000) !== 0)
    result.failed.push(`${dir} ${octal(top.mode & 0o7777)} (a shared directory: give the control center a data directory of its own)`);
  else tighten(dir, top);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (
      (entry.isFile() && (APP_FILE.test(entry.name) || entry.name === VAULT_KEY_FILE)) ||
      (entry.isDirectory() && APP_DIRS.has(entry.name))
    )
      walk(path.join(dir, entry.name));
  }
  return result;
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
