import { describe, expect, it } from 'vitest';
import { detectLocalPrivilege, type LocalPrivilegeDeps } from '../../../electron/backend/probe/local-privilege';
import type { ToolResult } from '../../../electron/backend/probe/run-tool';

/** A sudo that answers each argument list from a table, and records what it was asked. */
function fakeSudo(answers: Record<string, ToolResult | null>, uid: number | null = 1000): LocalPrivilegeDeps & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    platform: 'linux',
    uid,
    user: 'ops',
    run: async (file, args) => {
      calls.push([file, ...args].join(' '));
      return answers[args.join(' ')] ?? null;
    },
  };
}
const ok = (stdout = ''): ToolResult => ({ code: 0, stdout, stderr: '' });
const fail = (stderr: string): ToolResult => ({ code: 1, stdout: '', stderr });

describe('local privilege', () => {
  it('is root for uid 0 without asking sudo', async () => {
    const deps = fakeSudo({}, 0);
    expect((await detectLocalPrivilege(deps)).privilege).toEqual({ level: 'root', user: 'ops', uid: 0, sudoPasswordVerified: null });
    expect(deps.calls).toEqual([]);
  });

  it('only ever asks sudo with -n, so nothing waits for a terminal', async () => {
    const deps = fakeSudo({ '-n true': fail('sudo: a password is required'), '-n -v': fail('sudo: a password is required') });
    expect((await detectLocalPrivilege(deps)).privilege.level).toBe('sudo-password');
    expect(deps.calls.every((c) => c.startsWith('sudo -n'))).toBe(true);
  });

  it('does not take "a password is required" from sudo -n true for sudo rights: sudo says it to every user', async () => {
    const asked = { '-n true': fail('sudo: a password is required'), '-n -l': fail('sudo: a password is required') };
    const outsider = await detectLocalPrivilege(fakeSudo({ ...asked, '-n -v': fail('Sorry, user ops may not run sudo on ws-1.') }));
    expect(outsider).toEqual({ privilege: { level: 'none', user: 'ops', uid: 1000, sudoPasswordVerified: null }, note: null });
    expect((await detectLocalPrivilege(fakeSudo({ ...asked, '-n -v': fail('sudo: a password is required') }))).privilege.level).toBe(
      'sudo-password',
    );
  });

  it('tells passwordless sudo, no sudo, no rights and requiretty apart', async () => {
    expect((await detectLocalPrivilege(fakeSudo({ '-n true': ok() }))).privilege.level).toBe('sudo-nopasswd');
    expect((await detectLocalPrivilege(fakeSudo({}))).privilege.level).toBe('none');
    const denied = fakeSudo({
      '-n true': fail('sudo: a password is required'),
      '-n -v': fail('Sorry, user ops may not run sudo on ws-1.'),
    });
    expect((await detectLocalPrivilege(denied)).privilege.level).toBe('none');
    const tty = await detectLocalPrivilege(fakeSudo({ '-n true': fail('sudo: sorry, you must have a tty to run sudo') }));
    expect(tty).toEqual({
      privilege: { level: 'unknown', user: 'ops', uid: 1000, sudoPasswordVerified: null },
      note: 'sudo insists on a terminal (Defaults requiretty)',
    });
  });

  it('says sudo hung when it was killed at the time limit', async () => {
    const hung = await detectLocalPrivilege(
      fakeSudo({ '-n true': { code: null, stdout: '', stderr: '' }, '-n -v': { code: null, stdout: '', stderr: '' } }),
    );
    expect(hung.privilege.level).toBe('unknown');
    expect(hung.note).toBe('sudo gave no answer within 10 s');
  });
});
