import type { HostFacts } from '../../../contract';
import { buildSshTarget, sudoPasswordOf, type TargetDeps } from '../../hosts/build-ssh-target';
import { connectSsh } from '../../hosts/ssh/connect-ssh';
import type { SshSession } from '../../hosts/ssh/ssh-session';
import type { HostRow } from '../../store/hosts-repo';
import type { InstallMode } from '../../store/installs-repo';
import { privilegeLostError } from '../install-errors';
import { createRemoteShell, type Privilege, type RemoteShell } from './remote-shell';

/**
 * Logs in to the host (its pinned key) with the privilege the probe found: root, sudo (the
 * stored password fed on stdin), or none. A host installed system-wide that lost its
 * privilege is refused before connecting.
 */
export async function openHostShell(
  deps: TargetDeps,
  row: HostRow,
  facts: HostFacts,
  recordedMode: InstallMode | null,
  timeoutMs: number,
): Promise<{ session: SshSession; shell: RemoteShell; privilege: Privilege }> {
  const sudoPassword = sudoPasswordOf(deps.vault, row);
  const privilege = privilegeOf(facts, sudoPassword);
  if (recordedMode === 'system' && privilege === 'none') throw privilegeLostError(row, facts.privilege?.level === 'sudo-password');
  const session = await connectSsh(buildSshTarget(deps, row), { timeoutMs });
  return { session, shell: createRemoteShell(session, privilege, sudoPassword), privilege };
}

/** How the login reaches root, from the probe's facts and whether a sudo password is stored. */
export function privilegeOf(facts: HostFacts, sudoPassword: string | undefined): Privilege {
  switch (facts.privilege?.level) {
    case 'root':
      return 'root';
    case 'sudo-nopasswd':
      return 'sudo-nopasswd';
    case 'sudo-password':
      return sudoPassword !== undefined && facts.privilege.sudoPasswordVerified !== false ? 'sudo-password' : 'none';
    default:
      return 'none';
  }
}
