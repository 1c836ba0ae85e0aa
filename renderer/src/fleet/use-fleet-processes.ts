import { useQueries } from '@tanstack/react-query';
import type { ApiError, FleetProcessTable } from '../../../electron/contract';
import { useApiClient } from '../api/api-context';

const REFRESH_MS = 10_000;

/** A host's instances by health: what the overview shows of its processes. */
export interface ProcessCounts {
  healthy: number;
  unhealthy: number;
  stopped: number;
  /** When the runtime answered. */
  atMs: number;
}

export function countProcesses(table: FleetProcessTable): ProcessCounts {
  const counts: ProcessCounts = { healthy: 0, unhealthy: 0, stopped: 0, atMs: table.atMs };
  for (const process of table.processes) for (const instance of process.instances) counts[instance.health] += 1;
  return counts;
}

/**
 * The process table of each host whose link is up (`fleet.processes`, re-read every
 * 10 s); a host whose link is down is not asked (its link says why), by host id.
 */
export function useFleetProcesses(hostIds: readonly number[]): { byHost: Map<number, ProcessCounts>; failed: Map<number, ApiError> } {
  const client = useApiClient();
  const results = useQueries({
    queries: hostIds.map((hostId) => ({
      queryKey: ['fleet-processes', hostId],
      queryFn: async () => countProcesses(await client.call('fleet.processes', { hostId })),
      refetchInterval: REFRESH_MS,
      staleTime: REFRESH_MS,
      retry: false,
    })),
  });
  const byHost = new Map<number, ProcessCounts>();
  const failed = new Map<number, ApiError>();
  results.forEach((result, index) => {
    if (result.data) byHost.set(hostIds[index]!, result.data);
    if (result.error) failed.set(hostIds[index]!, result.error as ApiError);
  });
  return { byHost, failed };
}
