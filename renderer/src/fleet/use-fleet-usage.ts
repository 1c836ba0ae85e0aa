import { useQueries } from '@tanstack/react-query';
import { HOST_KEYED_SERIES, HOST_SERIES, seriesName, type ApiError } from '../../../electron/contract';
import { useApiClient } from '../api/api-context';
import type { HostUsage } from './fleet-rows';

/** What the overview draws: the last 15 minutes, re-read every 10 s. */
export const USAGE_WINDOW_MS = 15 * 60_000;
const REFRESH_MS = 10_000;
/** A sparkline is ~90 px wide: one point per 10 s is all it can draw. */
const POINTS = 90;

export interface FleetUsage {
  byHost: Map<number, HostUsage>;
  /** Hosts whose history could not be read, with why. */
  failed: Array<{ hostId: number; error: ApiError }>;
}

/** The root filesystem stands for the host's disk: the one every host has. */
const ROOT_DISK = seriesName(HOST_KEYED_SERIES.filesystemUsedPercent, '/');
/** At most this many GPUs of a host are drawn (the busiest is shown). */
const MAX_GPUS = 16;

/**
 * Each host's CPU, memory, root filesystem and GPUs over the last 15 minutes from
 * `metrics.query`, by host id. This machine's sampler records CPU and memory in bytes; a
 * remote host's runtime records every series, memory as a share too.
 */
export function useFleetUsage(hosts: ReadonlyArray<{ hostId: number; gpuCount: number }>): FleetUsage {
  const client = useApiClient();
  const hostIds = hosts.map((h) => h.hostId);
  const results = useQueries({
    queries: hosts.map(({ hostId, gpuCount }) => ({
      queryKey: ['fleet-usage', hostId, gpuCount],
      queryFn: async (): Promise<HostUsage> => {
        const toMs = Date.now();
        const gpus = Array.from({ length: Math.min(gpuCount, MAX_GPUS) }, (_, i) => seriesName(HOST_KEYED_SERIES.gpuUtilizationPercent, i));
        const answer = await client.call('metrics.query', {
          hostId,
          metrics: [HOST_SERIES.cpuPercent, HOST_SERIES.memoryUsedBytes, HOST_SERIES.memoryUsedPercent, ROOT_DISK, ...gpus],
          fromMs: toMs - USAGE_WINDOW_MS,
          toMs,
          maxPoints: POINTS,
        });
        const points = (metric: string) => answer.series.find((s) => s.metric === metric)?.points ?? [];
        return {
          cpu: points(HOST_SERIES.cpuPercent),
          memory: points(HOST_SERIES.memoryUsedBytes),
          memoryPercent: points(HOST_SERIES.memoryUsedPercent),
          disk: points(ROOT_DISK),
          gpus: gpus.map(points),
        };
      },
      refetchInterval: REFRESH_MS,
      staleTime: REFRESH_MS,
    })),
  });
  const byHost = new Map<number, HostUsage>();
  const failed: FleetUsage['failed'] = [];
  results.forEach((result, index) => {
    if (result.data) byHost.set(hostIds[index]!, result.data);
    else if (result.error) failed.push({ hostId: hostIds[index]!, error: result.error as ApiError });
  });
  return { byHost, failed };
}
