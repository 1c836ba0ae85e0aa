import path from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import type { HostLink } from './host-link';

/**
 * Whether the staging directory can be made over SFTP instead of by a script: when the
 * login user is the one who should own it anyway (a per-user install, or a system-wide
 * one logged in as root), SFTP's mkdir does what the script's `mkd` and `chmod` do. Through
 * sudo it cannot (root makes the directory and hands it to the login user).
 *
 * Why bother: the upload needs the SFTP channel anyway, and every command started on a
 * host costs a login shell's start-up (about 80 ms on the test hosts), which the upload
 * would otherwise wait for before its first write.
 */
export function canStageOverSftp(host: Pick<HostLink, 'mode' | 'shell'>): boolean {
  return host.mode === 'user' || host.shell.privilege === 'root';
}

/**
 * Makes <root> and <root>/staging as the script would (0755 like `mkdir -p` under umask
 * 022, staging then 0700) and names the topmost directory it created, for uninstall.
 */
export async function stageOverSftp(sftp: SFTPWrapper, root: string, staging: string): Promise<{ created: string[] }> {
  const created: string[] = [];
  for (const dir of [root, staging]) {
    if (await isDirectory(sftp, dir)) continue;
    const missing: string[] = [];
    for (let at = dir; !(await isDirectory(sftp, at)); at = path.posix.dirname(at)) {
      if (at === '/' || missing.length > 64) throw new Error(`cannot find an existing parent of ${dir}`);
      missing.unshift(at);
    }
    for (const at of missing) await mkdir(sftp, at);
    created.push(missing[0]!);
  }
  await chmod(sftp, staging, 0o700);
  return { created };
}

function isDirectory(sftp: SFTPWrapper, dir: string): Promise<boolean> {
  return new Promise((resolve, reject) =>
    sftp.stat(dir, (error, stats) => {
      if (!error) resolve(stats.isDirectory());
      // SSH_FX_NO_SUCH_FILE: not there yet.
      else if ((error as Error & { code?: number }).code === 2) resolve(false);
      else reject(error);
    }),
  );
}

function mkdir(sftp: SFTPWrapper, dir: string): Promise<void> {
  return new Promise((resolve, reject) => sftp.mkdir(dir, { mode: 0o755 }, (error) => (error ? reject(error) : resolve())));
}

function chmod(sftp: SFTPWrapper, file: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) => sftp.chmod(file, mode, (error) => (error ? reject(error) : resolve())));
}
