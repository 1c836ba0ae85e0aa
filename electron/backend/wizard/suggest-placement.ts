import type { HostFacts } from '../../contract';
import type { InstallRole } from '../install/definition/install-file';

export interface PlacementInput {
  name: string;
  /** The host's newest facts; null when it was never probed. */
  facts: HostFacts | null;
}

export interface Placement {
  name: string;
  role: InstallRole;
  /** Runs GPU agents (it has an NVIDIA GPU). */
  gpu: boolean;
  /** Why, in a line an operator reads next to the choice. */
  reason: string;
}

/** As the agent-gpu requirement profile counts them: GPU agents need NVIDIA GPUs. */
export function nvidiaGpuCount(facts: HostFacts | null): number {
  return (facts?.gpus ?? []).filter((gpu) => /nvidia/i.test(`${gpu.vendor} ${gpu.model}`)).length;
}

/**
 * A first placement from the stored facts, for the operator to accept or change: exactly
 * one core, on the machine with the most memory (then threads), preferring one without a
 * GPU so the GPUs stay with agents; every other machine runs agents, GPU agents where
 * there is an NVIDIA GPU. A single machine runs both. Pure: the same facts, the same answer.
 */
export function suggestPlacement(hosts: readonly PlacementInput[]): Placement[] {
  if (hosts.length === 0) return [];
  const ranked = [...hosts].sort(
    (a, b) =>
      Number(nvidiaGpuCount(a.facts) > 0) - Number(nvidiaGpuCount(b.facts) > 0) ||
      (b.facts?.memory?.totalBytes ?? 0) - (a.facts?.memory?.totalBytes ?? 0) ||
      (b.facts?.cpu?.threads ?? 0) - (a.facts?.cpu?.threads ?? 0) ||
      a.name.localeCompare(b.name),
  );
  const core = ranked[0]!;
  return hosts.map((host) => {
    const gpus = nvidiaGpuCount(host.facts);
    const gpu = gpus > 0;
    const gpuNote = gpu ? `, GPU agents on its ${gpus} NVIDIA GPU${gpus > 1 ? 's' : ''}` : '';
    if (host !== core) return { name: host.name, role: 'agent', gpu, reason: `agents${gpuNote}` };
    if (hosts.length === 1) return { name: host.name, role: 'both', gpu, reason: `the only machine: core and agents${gpuNote}` };
    const why =
      host.facts === null
        ? 'not probed yet; probe the hosts for a better choice'
        : gpu
          ? 'every machine has a GPU; this one has the most memory'
          : 'the most memory of the machines without a GPU';
    return { name: host.name, role: 'core', gpu: false, reason: `the core: ${why}` };
  });
}
