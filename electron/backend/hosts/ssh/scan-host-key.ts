import type { Client } from 'ssh2';
import { startConnectDeadline } from './connect-deadline';
import { hangUp } from './hang-up';
import { openStreamTo, prepareChainLogins, type Reachable } from './open-hop-chain';
import { scanHopKey } from './open-ssh-hop';
import { endpointOf } from './ssh-endpoint';

export interface ScannedHostKey {
  keyType: string;
  /** `SHA256:...` as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** The key blob in SSH wire form, to pin byte for byte. */
  publicKey: Buffer;
}

/**
 * The key a host presents, for the first-contact dialog: connects (through the jump
 * hosts, which must be trusted and logged into), reads the key in ssh2's hostVerifier
 * and rejects it there, so the handshake ends before authentication and the host
 * never sees a user name or a credential.
 */
export async function scanHostKey(host: Reachable, options: { timeoutMs: number; signal?: AbortSignal }): Promise<ScannedHostKey> {
  const logins = await prepareChainLogins(host, null);
  const deadline = startConnectDeadline(options.timeoutMs, options.signal);
  const opened: Client[] = [];
  try {
    const stream = await openStreamTo(host, { deadline, opened, logins });
    const key = await scanHopKey({ endpoint: endpointOf(host), deadline, ...stream });
    return { keyType: key.keyType, fingerprint: key.fingerprint, publicKey: key.publicKey };
  } finally {
    hangUp(opened);
    deadline.dispose();
  }
}
