import os from 'node:os';
import type { PrivilegeFacts } from '../../contract';
import { runTool, type ToolResult } from './run-tool';

export interface LocalPrivilegeDeps {
  platform: NodeJS.Platform;
  uid: number | null;
  user: string;
  run: (file: string, args: string[], timeoutMs: number) => Promise<ToolResult | null>;
}

function defaultDeps(): LocalPrivilegeDeps {
  let user = '';
  try {
    user = os.userInfo().username;
  } catch {
    // A uid without a passwd entry (containers) has no name.
  }
  return { platform: process.platform, uid: typeof process.getuid === 'function' ? process.getuid() : null, user, run: runTool };
}

/**
 * The operator's own privilege, decided as the probe script decides it: uid 0 is root;
 * else `sudo -n` (never a prompt: without a terminal it fails at once) tells
 * passwordless sudo from sudo that wants a password. `note` says why when unknown.
 */
export async function detectLocalPrivilege(
  deps: LocalPrivilegeDeps = defaultDeps(),
): Promise<{ privilege: PrivilegeFacts; note: string | null }> {
  const base = { user: deps.user, uid: deps.uid, sudoPasswordVerified: null };
  if (deps.platform === 'win32') {
    return { privilege: { ...base, level: 'unknown' }, note: 'Windows has no sudo; elevation is asked per program' };
  }
  if (deps.uid === 0) return { privilege: { ...base, level: 'root' }, note: null };
  const check = await deps.run('sudo', ['-n', 'true'], 10_000);
  if (check === null) return { privilege: { ...base, level: 'none' }, note: null };
  if (check.code === 0) return { privilege: { ...base, level: 'sudo-nopasswd' }, note: null };
  if (/tty|terminal/.test(check.stderr)) {
    return { privilege: { ...base, level: 'unknown' }, note: 'sudo insists on a terminal (Defaults requiretty)' };
  }
  // `sudo -n true` (and `-n -l`) say "a password is required" to every user, allowed or
  // not; `sudo -n -v` asks the policy first and tells a login without a rule so at once.
  const verify = await deps.run('sudo', ['-n', '-v'], 10_000);
  const said = `${verify?.stdout ?? ''}${verify?.stderr ?? ''}`;
  if (/may not run sudo|not allowed|not in the sudoers/.test(said)) return { privilege: { ...base, level: 'none' }, note: null };
  if (/password is required/.test(said)) return { privilege: { ...base, level: 'sudo-password' }, note: null };
  const why =
    verify === null || verify.code === null ? 'sudo gave no answer within 10 s' : `sudo -n -v said: ${said.trim().split('\n')[0]}`;
  return { privilege: { ...base, level: 'unknown' }, note: why };
}
