import type Database from 'better-sqlite3';
import { MAX_QUERY_POINTS, MAX_QUERY_SERIES, PROCESS_SERIES } from '../../../contract';
import type { MetricStore } from '../../metrics/metric-store';
import type { FleetReadings } from './fleet-readings';

const SECOND_MS = 1000;

/**
 * Replays the restart counters the store kept from `fromMs` to `toMs` into the readings, so a
 * backend that starts (or restarts) counts the restarts of the window before it as it counts
 * new ones: each at its second, the first stored reading a baseline and a counter that went
 * down (its runtime restarted) a new baseline, never restarts. Read in pieces of at most
 * MAX_QUERY_POINTS seconds, so each piece reads the 1 s tier at its own step.
 */
export function replayStoredRestarts(
  db: Database.Database,
  metrics: Pick<MetricStore, 'query'>,
  readings: Pick<FleetReadings, 'observeSample'>,
  fromMs: number,
  toMs: number,
): void {
  const rows = db
    .prepare<[string], { hostId: number; metric: string }>(
      'SELECT host_id AS hostId, metric FROM metric_series WHERE metric LIKE ? ORDER BY host_id, metric',
    )
    .all(`${PROCESS_SERIES.restarts}:%`);
  const byHost = new Map<number, string[]>();
  for (const { hostId, metric } of rows) byHost.set(hostId, [...(byHost.get(hostId) ?? []), metric]);
  for (const [hostId, names] of byHost)
    for (let first = 0; first < names.length; first += MAX_QUERY_SERIES) {
      const batch = names.slice(first, first + MAX_QUERY_SERIES);
      for (let from = fromMs; from <= toMs; from += MAX_QUERY_POINTS * SECOND_MS) {
        const to = Math.min(toMs, from + MAX_QUERY_POINTS * SECOND_MS - 1);
        const { series } = metrics.query({ hostId, metrics: batch, fromMs: from, toMs: to, maxPoints: MAX_QUERY_POINTS });
        // One point a second (a piece this short reads the 1 s tier at its own step): the counter's reading.
        for (const { metric, points } of series)
          for (const [atMs, value] of points) readings.observeSample(hostId, atMs, [[metric, value]]);
      }
    }
}
