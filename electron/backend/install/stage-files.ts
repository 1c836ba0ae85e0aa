import { randomBytes } from 'node:crypto';
import type { SshSession } from '../hosts/ssh/ssh-session';

/**
 * Writes small files for a step into a new directory under the install's staging
 * directory over SFTP, as the login user: the directory 0700, each file with its own
 * mode (a private key 0600). A step's script, as root where the install is system-wide,
 * then moves them into place. Secrets travel inside the SSH connection and land in a
 * directory only the login user can read: never an argv, the environment or a log.
 */
export async function stageFiles(session: SshSession, stagingDir: string, prefix: string, files: ReadonlyArray<{ name: string; content: string; mode: number }>): Promise<string> {
  const dir = `${stagingDir}/${prefix}-${randomBytes(4).toString('hex')}`;
  const sftp = await session.sftp();
  try {
    await call<void>((done) => sftp.mkdir(dir, { mode: 0o700 }, done));
    for (const file of files) {
      await call<void>((done) => sftp.writeFile(`${dir}/${file.name}`, file.content, { mode: file.mode }, done));
      // writeFile's mode applies only to a new file under the server's umask; set it exactly.
      await call<void>((done) => sftp.chmod(`${dir}/${file.name}`, file.mode, done));
    }
  } finally {
    sftp.end();
  }
  return dir;
}

function call<T>(start: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))));
}

