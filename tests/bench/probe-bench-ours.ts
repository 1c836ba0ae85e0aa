import { connectSsh, type SshTarget } from '../../electron/backend/hosts/ssh/connect-ssh';
import { probeOverSsh } from '../../electron/backend/hosts/ssh/remote-probe';
import type { TestHost } from '../support/test-hosts/test-hosts';

// Our side of the probe benchmark: what the control center does for "probe these hosts",
// i.e. a fresh SSH login with the host key pinned, one probe, hang up; for every host,
// at most `concurrency` at a time. The wall time covers the whole set, logins included.

export interface OursRun {
  ms: number;
  /** Exec channels each session opened, one entry per host that got as far as a session. */
  channels: number[];
  /** `host: message` for each host whose login or probe failed, or whose facts were empty. */
  failures: string[];
}

/** The target the backend would build for an inventory row whose key the operator trusted. */
export function targetFor(host: TestHost, hostId: number): SshTarget {
  const blob = Buffer.from(host.hostPublicKey.trim().split(/\s+/)[1] ?? '', 'base64');
  return {
    hostId,
    name: host.name,
    address: host.address,
    port: host.port,
    user: host.user,
    credentials: { method: 'key', keyPath: host.privateKeyPath },
    pinned: { keyType: host.hostKeyType, fingerprint: host.hostKeyFingerprint, trustedAt: Date.now(), publicKey: blob },
    jump: null,
  };
}

export async function probeHosts(targets: SshTarget[], options: { concurrency: number; timeoutMs: number }): Promise<OursRun> {
  const channels: number[] = [];
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < targets.length; i = next++) {
      const target = targets[i] as SshTarget;
      let session;
      try {
        session = await connectSsh(target, { timeoutMs: options.timeoutMs });
        const facts = await probeOverSsh(session, { timeoutMs: options.timeoutMs });
        if (facts.cpu === null || facts.memory === null) failures.push(`${target.name}: the probe returned no CPU or memory facts`);
      } catch (error) {
        failures.push(`${target.name}: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        if (session !== undefined) {
          channels.push(session.execChannels);
          session.close();
        }
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(options.concurrency, targets.length) }, worker));
  return { ms: performance.now() - started, channels, failures };
}
