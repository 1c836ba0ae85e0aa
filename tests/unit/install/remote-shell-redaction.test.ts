// The sudo password is masked in what a remote script prints, except stdout a caller asked for
// exactly (the runtime's audit log read, whose hashes are checked): a short password that
// happens to appear in a hash made intact entries look edited. stderr is masked either way.
import { describe, expect, it } from 'vitest';
import type { SshSession } from '../../../electron/backend/hosts/ssh/ssh-session';
import { createRemoteShell } from '../../../electron/backend/install/remote/remote-shell';
import { rawShell } from '../../../electron/backend/install/remote/shell-script';

const PASSWORD = '42';
const session = {
  endpoint: { name: 'db-1', address: '10.0.0.5', port: 22 },
  exec: async () => ({ code: 0, signal: null, stdout: '{"atMs":1700000000042,"hash":"4242ab"}\n', stderr: 'sudo said 42' }),
} as unknown as SshSession;

describe('remote shell sudo-password masking', () => {
  it('masks stdout and stderr by default', async () => {
    const result = await createRemoteShell(session, 'sudo-password', PASSWORD).run(rawShell('true'), { asRoot: true, step: 'x' });
    expect(result.stdout).toBe('{"atMs":17000000000***,"hash":"******ab"}\n');
    expect(result.stderr).toBe('sudo said ***');
  });

  it('hands stdout back exactly with exactStdout, stderr still masked', async () => {
    const result = await createRemoteShell(session, 'sudo-password', PASSWORD).run(rawShell('true'), {
      asRoot: true,
      step: 'audit-read',
      exactStdout: true,
    });
    expect(result.stdout).toBe('{"atMs":1700000000042,"hash":"4242ab"}\n');
    expect(result.stderr).toBe('sudo said ***');
  });
});
