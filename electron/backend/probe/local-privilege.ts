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
export async function detectLocalPrivilege(deps: LocalPrivilegeDeps = defaultDeps()): Promise<{ privilege: PrivilegeFacts; note: string | null }> {
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
  const list = await deps.run('sudo', ['-n', '-l'], 10_000);
  const said = `${list?.stdout ?? ''}${list?.stderr ?? ''}`;
  if (/password is required/.test(said)) return passwordAsked(deps, base);
  if (/may not run sudo|not allowed|not in the sudoers/.test(said)) return { privilege: { ...base, level: 'none' }, note: null };
  if (/ALL/.test(said)) return { privilege: { ...base, level: 'sudo-password' }, note: null };
  const why = list === null || list.code === null ? 'sudo gave no answer within 10 s' : `sudo -n -l said: ${said.trim().split('\n')[0]}`;
  return { privilege: { ...base, level: 'unknown' }, note: why };
}

/** The groups stock sudoers lets use sudo with a password: %sudo (Debian), %wheel (RHEL, Alpine, Arch), %admin (old Ubuntu). */
const ADMIN_GROUPS = new Set(['sudo', 'wheel', 'admin']);

/**
 * sudo answers "a password is required" to every user, allowed or not, until it has the
 * password; membership of an admin group is the sign left that it would then say yes.
 */
async function passwordAsked(deps: LocalPrivilegeDeps, base: Omit<PrivilegeFacts, 'level'>): Promise<{ privilege: PrivilegeFacts; note: string | null }> {
  const groups = await deps.run('id', ['-Gn'], 10_000);
  if ((groups?.stdout ?? '').split(/\s+/).some((group) => ADMIN_GROUPS.has(group))) return { privilege: { ...base, level: 'sudo-password' }, note: null };
  const who = deps.user || 'this user';
  return {
    privilege: { ...base, level: 'unknown' },
    note: `sudo asks for a password before it says whether ${who} may use it, and ${who} is in none of the groups sudo, wheel or admin`,
  };
}
