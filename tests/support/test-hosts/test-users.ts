import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { runCommand, runCommandSync } from './run-command';
import { underSystemFilesLock } from './system-files-lock';

// Real local users for the login variants. They live in the machine's /etc/passwd (network
// namespaces share it), with homes inside the run's temp dir so that nothing under /home
// is touched, and random passwords made per run.

export interface TestUser {
  name: string;
  password: string;
  home: string;
  shell: string;
  uid: number;
  gid: number;
}

/** A password sshd, sudo and chpasswd all take as is: no ':' and no whitespace. */
export function randomPassword(): string {
  return `Szt-${randomBytes(18).toString('base64url')}-9`;
}

export async function createUser(spec: { name: string; home: string; shell: string }): Promise<TestUser> {
  const password = randomPassword();
  await runCommand(
    underSystemFilesLock([
      '/usr/sbin/useradd',
      '--create-home',
      '--home-dir',
      spec.home,
      '--shell',
      spec.shell,
      '--comment',
      'SutazAI test host user',
      '--user-group',
      spec.name,
    ]),
  );
  await runCommand(underSystemFilesLock(['/usr/sbin/chpasswd']), { input: `${spec.name}:${password}\n` });
  const stat = fs.statSync(spec.home);
  return { ...spec, password, uid: stat.uid, gid: stat.gid };
}

/** Names of every user in the user database (`getent passwd`). */
export function listUsers(): string[] {
  const out = runCommandSync(['/usr/bin/getent', 'passwd']).stdout;
  return out
    .split('\n')
    .map((line) => line.split(':')[0] ?? '')
    .filter((name) => name !== '');
}

/**
 * Removes users and their homes. Their processes must be gone first (they all live in the
 * run's namespaces, which teardown empties before this). Missing users are not errors.
 */
export function deleteUsersSync(userNames: readonly string[]): void {
  for (const name of userNames) {
    // 6: no such user; 12: the home was already gone.
    runCommandSync(underSystemFilesLock(['/usr/sbin/userdel', '--force', '--remove', name]), { okCodes: [0, 6, 12] });
  }
}
