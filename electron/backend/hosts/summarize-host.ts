import type { HostFacts, HostSummary } from '../../contract';
import type { HostRow } from '../store/hosts-repo';

/** The one line per host the hosts list shows, derived from the newest facts. */
export function summarizeHost(row: HostRow, facts: HostFacts | null): HostSummary {
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
  };
}
