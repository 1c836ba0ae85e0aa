import type { MetricPoint, MetricsQueryResult } from '../../../electron/contract';

/** One x position of a chart: its time and each series' mean there (null: no sample, the line breaks). */
export type ChartRow = { t: number } & Record<string, number | null>;

/** The ranges a chart can show; `live` is re-read every few seconds. */
export const CHART_RANGES = [
  { id: '5m', label: 'Live 5 min', spanMs: 5 * 60_000, refreshMs: 2_000 },
  { id: '1h', label: '1 h', spanMs: 60 * 60_000, refreshMs: 15_000 },
  { id: '24h', label: '24 h', spanMs: 24 * 60 * 60_000, refreshMs: 60_000 },
  { id: '7d', label: '7 d', spanMs: 7 * 24 * 60 * 60_000, refreshMs: 300_000 },
] as const;
export type ChartRangeId = (typeof CHART_RANGES)[number]['id'];

export function chartRange(id: string | null): (typeof CHART_RANGES)[number] {
  return CHART_RANGES.find((r) => r.id === id) ?? CHART_RANGES[0];
}

/**
 * The rows a chart draws from a `metrics.query` answer: every series' points on one time
 * axis, and a row of nulls wherever consecutive points of a series are farther apart than
 * the answer's step. The store has no point where no sample was taken, so without the
 * break a line would bridge a link's outage as if the values had been there.
 */
export function chartRows(result: Pick<MetricsQueryResult, 'stepMs' | 'series'>, metrics: readonly string[]): ChartRow[] {
  const byTime = new Map<number, ChartRow>();
  const row = (t: number): ChartRow => {
    let found = byTime.get(t);
    if (!found) {
      found = { t } as ChartRow;
      byTime.set(t, found);
    }
    return found;
  };
  for (const metric of metrics) {
    const points: readonly MetricPoint[] = result.series.find((s) => s.metric === metric)?.points ?? [];
    points.forEach(([t, mean], i) => {
      const previous = points[i - 1];
      // A break halfway between: recharts ends the line at a null (connectNulls off).
      if (previous && t - previous[0] > result.stepMs) row(previous[0] + Math.floor((t - previous[0]) / 2))[metric] = null;
      row(t)[metric] = Number.isFinite(mean) ? mean : null;
    });
  }
  // One host's series share the answer's aligned buckets, so their rows coincide.
  return [...byTime.values()].sort((a, b) => a.t - b.t);
}

/** How many breaks (gaps wider than the step) a series has: for tests and the page's hooks. */
export function countBreaks(rows: readonly ChartRow[], metric: string): number {
  return rows.filter((r) => r[metric] === null).length;
}
