import path from 'node:path';

export const APP_DIR_NAME = 'SutazAI Control Center';

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
  const base = env.XDG_DATA_HOME && path.posix.isAbsolute(env.XDG_DATA_HOME)
    ? env.XDG_DATA_HOME
    : path.posix.join(homedir, '.local', 'share');
  return path.posix.join(base, 'sutazai-control-center');
}

/** `--data-dir` beats `SUTAZAI_DATA_DIR`, which beats the per-user default. */
export function resolveDataDir(flag: string | undefined, environment: DataDirEnvironment): string {
  if (flag) return path.resolve(flag);
  const fromEnv = environment.env.SUTAZAI_DATA_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  return defaultDataDir(environment);
}
