import { randomBytes } from 'node:crypto';
import { ApiError } from '../../../contract';
import { describeEndpoint } from '../../hosts/ssh/ssh-endpoint';
import type { SshSession } from '../../hosts/ssh/ssh-session';
import { sftpIfOffered } from './offered-sftp';
import { sh } from './shell-script';

export interface StagedFile {
  name: string;
  content: string;
  mode: number;
}

/**
 * Writes small files for a step into a new directory under the install's staging
 * directory, as the login user: over SFTP, or where the host offers none, through one
 * command per file that reads the content from its stdin. The directory is 0700, each
 * file has its own mode (a private key 0600). A step's script, as root where the install
 * is system-wide, then moves them into place. Secrets travel inside the SSH connection and
 * land in a directory only the login user can read: never an argv, the environment or a log.
 */
export async function stageFiles(session: SshSession, stagingDir: string, prefix: string, files: readonly StagedFile[]): Promise<string> {
  const dir = `${stagingDir}/${prefix}-${randomBytes(4).toString('hex')}`;
  const sftp = await sftpIfOffered(session);
  if (sftp === null) {
    await stageThroughCommands(session, dir, files);
    return dir;
  }
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

/**
 * The same through commands, one per file, in order: the first also makes the directory
 * (mkdir fails on anything already there, so nothing is written through a planted link);
 * umask 077 keeps each file private until its chmod.
 */
async function stageThroughCommands(session: SshSession, dir: string, files: readonly StagedFile[]): Promise<void> {
  for (const [index, file] of files.entries()) {
    const path = `${dir}/${file.name}`;
    const mkdir = index === 0 ? sh`mkdir -m 700 ${dir} && ` : sh``;
    const command = sh`umask 077 && ${mkdir}cat > ${path} && chmod ${file.mode.toString(8).padStart(4, '0')} ${path}`;
    const result = await session.exec(command.text, { stdin: file.content, timeoutMs: 60_000 });
    if (result.code !== 0) {
      const said = result.stderr.trim().split('\n').at(-1) || `exit ${result.code ?? result.signal}`;
      throw new ApiError(
        'INSTALL_STEP_FAILED',
        `Writing ${path} on ${describeEndpoint(session.endpoint)} failed: ${said}`,
        "Check that the login user can write to the install's staging directory and that its disk has space, then apply again.",
      );
    }
  }
}

function call<T>(start: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))));
}
