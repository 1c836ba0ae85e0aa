import { connectSsh } from '../../electron/backend/hosts/ssh/connect-ssh';
import type { SshSession } from '../../electron/backend/hosts/ssh/ssh-session';
import type { TestHost } from './test-hosts/test-hosts';

/** A session logged in to a lab host as the control center would: its login key, its host key pinned. */
export function openLabSession(host: TestHost): Promise<SshSession> {
  return connectSsh(
    {
      hostId: 0,
      name: host.name,
      address: host.address,
      port: host.port,
      user: host.user,
      credentials: { method: 'key', keyPath: host.privateKeyPath },
      pinned: { keyType: host.hostKeyType, fingerprint: host.hostKeyFingerprint, trustedAt: 0 },
      jump: null,
    },
    { timeoutMs: 10_000 },
  );
}
