import { useQueries } from '@tanstack/react-query';
import { HOST_SERIES, type ApiError } from '../../../electron/contract';
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

/** Each host's CPU and memory over the last 15 minutes from `metrics.query`, by host id. */
export function useFleetUsage(hostIds: readonly number[]): FleetUsage {
  const client = useApiClient();
  const results = useQueries({
    queries: hostIds.map((hostId) => ({
      queryKey: ['fleet-usage', hostId],
      queryFn: async (): Promise<HostUsage> => {
        const toMs = Date.now();
        const answer = await client.call('metrics.query', {
          hostId,
          metrics: [HOST_SERIES.cpuPercent, HOST_SERIES.memoryUsedBytes],
          fromMs: toMs - USAGE_WINDOW_MS,
          toMs,
          maxPoints: POINTS,
        });
        const points = (metric: string) => answer.series.find((s) => s.metric === metric)?.points ?? [];
        return { cpu: points(HOST_SERIES.cpuPercent), memory: points(HOST_SERIES.memoryUsedBytes) };
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
