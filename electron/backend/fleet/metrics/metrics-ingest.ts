import { ApiError, type LiveSample } from '../../../contract';
import type { MetricStore } from '../../metrics/metric-store';
import type { LinkConsumer, LinkTarget } from '../link/link-types';
import { readUntilAborted } from '../link/read-stream';
import { ClockSkewEstimator } from './clock-skew';

/** What the ingest needs of the metric store. */
export type MetricIngestStore = Pick<MetricStore, 'record' | 'newestSampleMs'>;

export interface MetricsIngestLogger {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

export interface MetricsIngestOptions {
  store: MetricIngestStore;
  /** Each sample once stored (backfilled ones too, oldest first): the `metrics.live` push. */
  onSample: (sample: LiveSample) => void;
  logger?: MetricsIngestLogger;
  /** This machine's clock, for the skew. Default Date.now. */
  clock?: () => number;
}

export interface HostClockSkew {
  /** The host's clock minus this machine's, ms (positive: ahead), accurate to the link's latency. */
  readonly skewMs: number;
  /** When it was last measured, by this machine's clock. */
  readonly measuredAtMs: number;
}

/** The link consumer 'metrics', and what it measured of each host's clock. */
export interface MetricsIngest extends LinkConsumer {
  clockSkew(hostId: number): HostClockSkew | null;
}

/** A skew past this is logged (and said again when it is back under): a chart's time axis is the host's. */
export const CLOCK_SKEW_WARN_MS = 2_000;

/**
 * The link consumer that streams a host's metrics into the store, keyed by the host's id.
 *
 * Backfill: the stream starts at the second after the newest one stored for the host
 * (memory or disk), so the runtime's ring buffer (15 minutes) sends exactly what the store
 * lacks: a link down for less than the ring leaves no gap, and nothing is stored twice
 * (the store holds one value per series and second anyway). A link down for longer leaves
 * the seconds the ring no longer holds missing (NaN in the 1 s tier, no point in a query,
 * a break in a chart). The first time, it asks from 1 ms: whatever the ring holds.
 *
 * Time: samples are stored at the runtime's time (its clock), not at arrival; how far that
 * clock is from this machine's is measured on the samples (ClockSkewEstimator), reported in
 * each live sample, by `clockSkew`, and logged when over CLOCK_SKEW_WARN_MS.
 *
 * Per-process series are named `process.<reading>:<instance>` (series-names.ts), so the store
 * keys them like any other series of the host: an instance is what has a pid, restarts
 * and a crash, and a name rather than a column keeps one table, one index and one query
 * path for every series.
 */
export function createMetricsIngest(options: MetricsIngestOptions): MetricsIngest {
  const clock = options.clock ?? Date.now;
  const skews = new Map<number, HostClockSkew>();
  const skewed = new Set<number>();

  function reportSkew(target: LinkTarget, skewMs: number, at: number): void {
    skews.set(target.hostId, { skewMs, measuredAtMs: at });
    const over = Math.abs(skewMs) > CLOCK_SKEW_WARN_MS;
    if (over === skewed.has(target.hostId)) return;
    const details = { hostId: target.hostId, host: target.hostName, skewMs };
    if (over) {
      skewed.add(target.hostId);
      options.logger?.warn(details, "a host's clock is off from this machine's: its samples are placed at its own time");
    } else {
      skewed.delete(target.hostId);
      options.logger?.info(details, "a host's clock agrees with this machine's again");
    }
  }

  return {
    name: 'metrics',

    clockSkew: (hostId) => skews.get(hostId) ?? null,

    async run(target, connection, signal) {
      if (signal.aborted) return;
      const newest = options.store.newestSampleMs(target.hostId);
      const sinceMs = newest === null ? 1 : newest + 1000;
      const skew = new ClockSkewEstimator();
      await readUntilAborted(
        // Read from the wire straight into series values, names kept from second to second (sample-wire-reader.ts).
        connection.streamSeries(sinceMs),
        signal,
        ({ atMs: t, values }) => {
          const receivedAt = clock();
          // The ring sends from sinceMs on; anything older is a second the store already has.
          if (!Number.isSafeInteger(t) || t < sinceMs) return;
          options.store.record(target.hostId, t, values);
          const clockSkewMs = skew.add(t, receivedAt);
          reportSkew(target, clockSkewMs, receivedAt);
          options.onSample({ hostId: target.hostId, t, values, clockSkewMs, receivedMs: receivedAt });
        },
        () =>
          new ApiError(
            'RUNTIME_CALL_FAILED',
            `The runtime on ${target.hostName} ended its metrics stream.`,
            'Nothing to do: the link streams the metrics again shortly, from the last stored second, without a gap while the runtime still holds the missed samples (15 minutes).',
          ),
      );
    },
  };
}
