import type { MetricPoint, MetricsQueryResult } from '../../../electron/contract';
import type { MetricRow } from './live-window';

/** One x position of a chart: its time and each series' mean there (null: no sample, the line breaks). */
export type ChartRow = { t: number } & Record<string, number | null>;

/**
 * The ranges a chart can show: the live one follows the host's samples as they arrive
 * (`metrics.live`, after its stored history); the others are re-read every `refreshMs`.
 */
export const CHART_RANGES = [
  { id: '5m', label: 'Live 5 min', spanMs: 5 * 60_000, refreshMs: null },
  { id: '1h', label: '1 h', spanMs: 60 * 60_000, refreshMs: 15_000 },
  { id: '24h', label: '24 h', spanMs: 24 * 60 * 60_000, refreshMs: 60_000 },
  { id: '7d', label: '7 d', spanMs: 7 * 24 * 60 * 60_000, refreshMs: 300_000 },
] as const;
export type ChartRange = (typeof CHART_RANGES)[number];
export type ChartRangeId = (typeof CHART_RANGES)[number]['id'];

export function chartRange(id: string | null): ChartRange {
  return CHART_RANGES.find((r) => r.id === id) ?? CHART_RANGES[0];
}

/** One series' points, oldest first: time (ms) and value. */
export interface SeriesPoints {
  metric: string;
  points: ReadonlyArray<readonly [t: number, value: number]>;
}

/**
 * Every series' points on one time axis, and a row of nulls wherever consecutive points of a
 * series are farther apart than `maxGapMs`. The store has no point where no sample was
 * taken, so without the break a line would bridge a link's outage as if the values had
 * been there.
 */
export function rowsWithBreaks(series: readonly SeriesPoints[], maxGapMs: number): ChartRow[] {
  const byTime = new Map<number, ChartRow>();
  const row = (t: number): ChartRow => {
    let found = byTime.get(t);
    if (!found) {
      found = { t } as ChartRow;
      byTime.set(t, found);
    }
    return found;
  };
  for (const { metric, points } of series) {
    points.forEach(([t, value], i) => {
      const previous = points[i - 1];
      // A break halfway between: recharts ends the line at a null (connectNulls off).
      if (previous && t - previous[0] > maxGapMs) row(previous[0] + Math.floor((t - previous[0]) / 2))[metric] = null;
      row(t)[metric] = Number.isFinite(value) ? value : null;
    });
  }
  // One host's series share the answer's aligned buckets (or a sample's time), so their rows coincide.
  return [...byTime.values()].sort((a, b) => a.t - b.t);
}

/**
 * Live samples come at the host's own second, not on the store's aligned buckets, and a busy
 * machine's tick may come late: a line breaks only where more than this many steps passed
 * with no sample (at least one whole sample missing, not a late one).
 */
export const LIVE_BREAK_STEPS = 2.5;

/**
 * How far apart a runtime's samples are while no Control Center streams them (the app closed,
 * a link down): agents-runtime's UNWATCHED_INTERVAL_MS, which a unit test keeps equal. Those
 * samples come later as a backfill and are stored like the rest, so at the 1 s tier a host's
 * points can be this far apart with none missing.
 */
export const RUNTIME_UNWATCHED_SAMPLE_MS = 5_000;

/** The widest gap drawn across at the finest steps: more than LIVE_BREAK_STEPS unwatched samples missing breaks the line. */
const FINE_BREAK_MS = RUNTIME_UNWATCHED_SAMPLE_MS * LIVE_BREAK_STEPS;

/** The rows a chart draws from a `metrics.query` answer: a break where points are more than a step apart (FINE_BREAK_MS at the finest steps). */
export function chartRows(result: Pick<MetricsQueryResult, 'stepMs' | 'series'>, metrics: readonly string[]): ChartRow[] {
  return rowsWithBreaks(
    metrics.map((metric) => {
      const points: readonly MetricPoint[] = result.series.find((s) => s.metric === metric)?.points ?? [];
      return { metric, points: points.map(([t, mean]) => [t, mean] as const) };
    }),
    Math.max(result.stepMs, FINE_BREAK_MS),
  );
}

/** The rows a live chart draws from its window (stored history, then live samples). */
export function liveChartRows(rows: readonly MetricRow[], metrics: readonly string[], stepMs: number): ChartRow[] {
  return rowsWithBreaks(
    metrics.map((metric) => {
      const points: Array<readonly [number, number]> = [];
      for (const row of rows) {
        const value = row[metric];
        if (typeof value === 'number') points.push([row.t, value]);
      }
      return { metric, points };
    }),
    Math.max(stepMs, RUNTIME_UNWATCHED_SAMPLE_MS) * LIVE_BREAK_STEPS,
  );
}

/** How many breaks (gaps wider than the step) a series has: for tests and the page's hooks. */
export function countBreaks(rows: readonly ChartRow[], metric: string): number {
  return rows.filter((r) => r[metric] === null).length;
}
