import type { HostFacts, HostSummary, LastProbe, PinnedKey } from '../../contract';
import type { HostRow } from '../store/hosts-repo';

/** The one line per host the hosts list shows, derived from the newest facts. */
export function summarizeHost(row: HostRow, facts: HostFacts | null, pinned: PinnedKey | null, lastProbe: LastProbe | null): HostSummary {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    address: row.address,
    createdAt: row.createdAt,
    lastProbedAt: facts?.probedAt ?? null,
    os: facts ? [facts.os.distro, facts.os.release].filter(Boolean).join(' ') : null,
    cpuModel: facts?.cpu?.model ?? null,
    cpuThreads: facts?.cpu?.threads ?? null,
    memoryBytes: facts?.memory?.totalBytes ?? null,
    gpuCount: facts?.gpus ? facts.gpus.length : null,
    port: row.port,
    user: row.user,
    authMethod: row.authMethod,
    keyPath: row.keyPath,
    keyStored: row.keySecretId !== null,
    hasSecret: row.secretId !== null,
    jumpHostId: row.jumpHostId,
    role: row.role,
    labels: row.labels,
    hostKey: pinned ? { keyType: pinned.keyType, fingerprint: pinned.fingerprint, trustedAt: pinned.trustedAt } : null,
    lastProbe,
  };
}
