import type { LiveSample, MetricsQueryResult } from '../../../electron/contract';

/** How much recent history the live charts keep in view. */
export const LIVE_WINDOW_MS = 5 * 60_000;

/** One instant across all series (a host's, a process's): the shape recharts plots from (`dataKey` = series name). */
export type MetricRow = { t: number } & { [series: string]: number | undefined };

export interface LiveWindow {
  rows: readonly MetricRow[];
  /** The backend's spacing of stored points; 1 s for the live tier. */
  stepMs: number;
  historyLoaded: boolean;
}

export const EMPTY_WINDOW: LiveWindow = { rows: [], stepMs: 1000, historyLoaded: false };

/** Turns a `metrics.query` answer (one series per metric) into rows by time, oldest first. */
export function rowsFromQuery(result: MetricsQueryResult): MetricRow[] {
  const byTime = new Map<number, MetricRow>();
  for (const series of result.series) {
    for (const [t, mean] of series.points) {
      let row = byTime.get(t);
      if (!row) {
        row = { t };
        byTime.set(t, row);
      }
      row[series.metric] = mean;
    }
  }
  return [...byTime.values()].sort((a, b) => a.t - b.t);
}

export function rowFromSample(sample: LiveSample): MetricRow {
  return { t: sample.t, ...sample.values };
}

/** Drops rows older than `windowMs` before the newest row. */
export function trimToWindow(rows: readonly MetricRow[], windowMs: number): MetricRow[] {
  const newest = rows[rows.length - 1];
  if (!newest) return [];
  const cutoff = newest.t - windowMs;
  let first = 0;
  while (first < rows.length && (rows[first]?.t ?? Infinity) < cutoff) first += 1;
  return rows.slice(first);
}

/**
 * Joins stored history with live samples that arrived while it was loading. History
 * points are bucketed (a bucket's time may be its start), so a history point within
 * half a step of the first live sample is the same sample seen twice: the live one wins.
 */
export function mergeHistory(history: readonly MetricRow[], live: readonly MetricRow[], stepMs: number, windowMs: number): MetricRow[] {
  const firstLive = live[0];
  const keptHistory = firstLive ? history.filter((row) => row.t <= firstLive.t - stepMs / 2) : [...history];
  return trimToWindow([...keptHistory, ...live], windowMs);
}

/** Adds one live row in time order (a repeated time replaces the old row), then trims. */
export function appendRow(rows: readonly MetricRow[], row: MetricRow, windowMs: number): MetricRow[] {
  const newest = rows[rows.length - 1];
  if (!newest || row.t > newest.t) return trimToWindow([...rows, row], windowMs);
  if (row.t < newest.t - windowMs) return [...rows]; // too old to show
  const next = rows.filter((existing) => existing.t !== row.t);
  let at = next.length;
  while (at > 0 && (next[at - 1]?.t ?? -Infinity) > row.t) at -= 1;
  next.splice(at, 0, row);
  return trimToWindow(next, windowMs);
}

export type LiveWindowAction =
  | { type: 'history'; result: MetricsQueryResult }
  | { type: 'live'; sample: LiveSample }
  | { type: 'samples'; samples: readonly LiveSample[] }
  | { type: 'reset' };

/** The chart's state machine: history once, live samples as they come, always trimmed. */
export function reduceLiveWindow(state: LiveWindow, action: LiveWindowAction, windowMs: number): LiveWindow {
  switch (action.type) {
    case 'history':
      return {
        rows: mergeHistory(rowsFromQuery(action.result), state.rows, action.result.stepMs, windowMs),
        stepMs: action.result.stepMs,
        historyLoaded: true,
      };
    case 'live':
      return { ...state, rows: appendRow(state.rows, rowFromSample(action.sample), windowMs) };
    case 'samples':
      // Samples gathered over one frame (a backfill brings hundreds at once): one render for all.
      return { ...state, rows: action.samples.reduce((rows, sample) => appendRow(rows, rowFromSample(sample), windowMs), state.rows) };
    case 'reset':
      return EMPTY_WINDOW;
  }
}

export function liveWindowReducer(state: LiveWindow, action: LiveWindowAction): LiveWindow {
  return reduceLiveWindow(state, action, LIVE_WINDOW_MS);
}

/** How many points a metric's line has: what the chart plots for it. */
export function countPoints(rows: readonly MetricRow[], metric: string): number {
  let count = 0;
  for (const row of rows) if (typeof row[metric] === 'number') count += 1;
  return count;
}

/** The newest value of a metric, for the figure beside each chart's title. */
export function latestValue(rows: readonly MetricRow[], metric: string): number | null {
  for (let i = rows.length - 1; i >= 0; i -= 1) {
    const value = rows[i]?.[metric];
    if (typeof value === 'number') return value;
  }
  return null;
}
