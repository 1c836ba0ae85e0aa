import { MAX_QUERY_POINTS, MAX_QUERY_SERIES, PROCESS_SERIES, seriesName } from '../../../contract';
import type { MetricStore } from '../../metrics/metric-store';
import type { SeriesKeys } from '../../metrics/series-keys';
import type { FleetReadings } from './fleet-readings';

const SECOND_MS = 1000;
/** More instances than a runtime may run (its manifest limit is 1,024), with room for those since removed. */
const MAX_INSTANCES_READ = 65_536;

/** What the replay reads of the metric store, through its own interfaces. */
export interface StoredRestartCounters {
  metrics: Pick<MetricStore, 'query'>;
  /** Which instances a host has a restart counter stored for. */
  seriesKeys: SeriesKeys;
  /** The hosts to look through (the inventory's): a host with no counter stored costs one index lookup. */
  hostIds(): readonly number[];
}

/**
 * Replays the restart counters the store kept from `fromMs` to `toMs` into the readings, so a
 * backend that starts (or restarts) counts the restarts of the window before it as it counts
 * new ones: each at its second, the first stored reading a baseline and a counter that went
 * down (its runtime restarted) a new baseline, never restarts. Read in pieces of at most
 * MAX_QUERY_POINTS seconds, so each piece reads the 1 s tier at its own step.
 */
export function replayStoredRestarts(
  stored: StoredRestartCounters,
  readings: Pick<FleetReadings, 'observeSample'>,
  fromMs: number,
  toMs: number,
): void {
  for (const hostId of stored.hostIds()) {
    const names = stored.seriesKeys
      .keysOf(hostId, PROCESS_SERIES.restarts, MAX_INSTANCES_READ)
      .map((instance) => seriesName(PROCESS_SERIES.restarts, instance));
    for (let first = 0; first < names.length; first += MAX_QUERY_SERIES) {
      const batch = names.slice(first, first + MAX_QUERY_SERIES);
      for (let from = fromMs; from <= toMs; from += MAX_QUERY_POINTS * SECOND_MS) {
        const to = Math.min(toMs, from + MAX_QUERY_POINTS * SECOND_MS - 1);
        const { series } = stored.metrics.query({ hostId, metrics: batch, fromMs: from, toMs: to, maxPoints: MAX_QUERY_POINTS });
        // One point a second (a piece this short reads the 1 s tier at its own step): the counter's reading.
        for (const { metric, points } of series)
          for (const [atMs, value] of points) readings.observeSample(hostId, atMs, [[metric, value]]);
      }
    }
  }
}
