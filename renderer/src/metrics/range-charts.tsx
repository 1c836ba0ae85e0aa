import { useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState, type ReactNode } from 'react';
import { MAX_QUERY_SERIES, type ApiClient, type ApiError, type LiveSample, type MetricsQueryResult } from '../../../electron/contract';
import { useApiClient } from '../api/api-context';
import { useApiEvent } from '../api/use-api-event';
import { formatClock, formatDateTime } from '../format/time';
import { ErrorNotice, LoadingState } from '../ui/query-state';
import { minuteTicks } from './axis-ticks';
import { chartRows, CHART_RANGES, liveChartRows, type ChartRange, type ChartRangeId, type ChartRow } from './chart-rows';
import { EMPTY_WINDOW, LIVE_WINDOW_MS, countPoints, liveWindowReducer } from './live-window';
import { MetricPanel, type ChartPanel, type TimeAxis } from './metric-panel';

export type { ChartPanel, ChartSeries } from './metric-panel';

/** A chart is about 600 px wide: more points than that draw nothing more. */
const CHART_POINTS = 600;
/** Live samples held for the next frame at most: a five-minute window at one a second, twice over. */
const MAX_PENDING_SAMPLES = (2 * LIVE_WINDOW_MS) / 1000;

/** The range buttons shared by a page's charts. */
export function RangePicker({ value, onChange }: { value: ChartRangeId; onChange: (id: ChartRangeId) => void }) {
  return (
    <div className="segmented" role="radiogroup" aria-label="Time range" data-testid="range-picker">
      {CHART_RANGES.map((range) => (
        <label key={range.id} className={value === range.id ? 'segment segment-on' : 'segment'} data-range={range.id}>
          <input type="radio" name="chart-range" value={range.id} checked={value === range.id} onChange={() => onChange(range.id)} />
          {range.label}
        </label>
      ))}
    </div>
  );
}

/**
 * `metrics.query` for any number of series: a query reads at most MAX_QUERY_SERIES (a host
 * with 64 cores has more), so the series go in as many calls as that takes, all over the
 * same range and width, which the backend answers from the same tier at the same step.
 */
async function queryAll(
  client: ApiClient,
  params: { hostId: number; metrics: readonly string[]; fromMs: number; toMs: number; maxPoints: number },
): Promise<MetricsQueryResult> {
  const chunks: string[][] = [];
  for (let i = 0; i < params.metrics.length; i += MAX_QUERY_SERIES) chunks.push(params.metrics.slice(i, i + MAX_QUERY_SERIES));
  const answers = await Promise.all(chunks.map((metrics) => client.call('metrics.query', { ...params, metrics })));
  const first = answers[0]!;
  return { tier: first.tier, stepMs: first.stepMs, series: answers.flatMap((a) => a.series) };
}

/** Every series a page's panels read: their lines and their limits. */
function panelMetrics(panels: readonly ChartPanel[]): string[] {
  return [...new Set(panels.flatMap((p) => [...p.series.map((s) => s.metric), ...(p.limitMetric ? [p.limitMetric] : [])]))];
}

/**
 * A page's charts over one range, with one crosshair across all of them (recharts' syncId,
 * matched by time); a click on a point hands its time to `onPointClick` (the logs at that
 * moment). The live range follows the host's samples as they are pushed (`metrics.live`:
 * this machine's sampler, or a host's runtime over its link, backfill included) after the
 * stored last five minutes; the other ranges are read through `metrics.query`, which picks
 * the tier and downsamples to the chart's width, and re-read now and then.
 */
export function RangeCharts({
  hostId,
  panels,
  rangeId,
  syncId,
  onPointClick,
}: {
  hostId: number;
  panels: ChartPanel[];
  rangeId: ChartRangeId;
  syncId: string;
  onPointClick?: (atMs: number) => void;
}) {
  const range = CHART_RANGES.find((r) => r.id === rangeId) ?? CHART_RANGES[0];
  const metrics = useMemo(() => panelMetrics(panels), [panels]);
  const props = { hostId, panels, metrics, syncId, onPointClick };
  // Another set of series (a filesystem mounted, an instance scaled up) starts the window over, with its history.
  return range.refreshMs === null ? <LiveCharts key={metrics.join('\n')} {...props} /> : <StoredCharts {...props} range={range} />;
}

interface ChartsProps {
  hostId: number;
  panels: ChartPanel[];
  metrics: string[];
  syncId: string;
  onPointClick?: ((atMs: number) => void) | undefined;
}

/** Only the series drawn: a runtime's sample carries every series of the host, its processes' too. */
function pick(sample: LiveSample, wanted: ReadonlySet<string>): LiveSample {
  const values: Record<string, number> = {};
  for (const [name, value] of Object.entries(sample.values)) if (wanted.has(name)) values[name] = value;
  return { ...sample, values };
}

/**
 * The last five minutes, following live. History comes from `metrics.query` once (so a
 * reload shows what came before), live samples from `metrics.live`; both start at mount and
 * are merged, the window trimmed as it moves. Samples are drawn once per frame however many
 * arrive (a backfill after a link's outage brings hundreds at once).
 */
function LiveCharts({ hostId, panels, metrics, syncId, onPointClick }: ChartsProps) {
  const client = useApiClient();
  const [mountedAt] = useState(() => Date.now());
  const [liveWindow, dispatch] = useReducer(liveWindowReducer, EMPTY_WINDOW);
  const [liveCount, setLiveCount] = useState(0);
  const history = useQuery({
    queryKey: ['range-charts-history', hostId, metrics, mountedAt],
    queryFn: () => queryAll(client, { hostId, metrics, fromMs: mountedAt - LIVE_WINDOW_MS, toMs: mountedAt, maxPoints: CHART_POINTS }),
    staleTime: Infinity,
    gcTime: 0,
  });
  useEffect(() => {
    if (history.data) dispatch({ type: 'history', result: history.data });
  }, [history.data]);

  const pending = useRef<LiveSample[]>([]);
  const frame = useRef<number | null>(null);
  const wanted = useRef(new Set(metrics));
  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
    },
    [],
  );
  const live = useApiEvent('metrics.live', { hostId }, (sample) => {
    pending.current.push(pick(sample, wanted.current));
    // A hidden tab gets no frames: hold no more than the window can show (a backfill sends oldest first).
    if (pending.current.length > MAX_PENDING_SAMPLES) pending.current.splice(0, pending.current.length - MAX_PENDING_SAMPLES);
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      const samples = pending.current;
      pending.current = [];
      dispatch({ type: 'samples', samples });
      setLiveCount((n) => n + samples.length);
    });
  });

  const windowRows = liveWindow.rows;
  const rows = useMemo(() => liveChartRows(windowRows, metrics, liveWindow.stepMs), [windowRows, metrics, liveWindow.stepMs]);
  const oldest = windowRows[0]?.t;
  const newest = windowRows[windowRows.length - 1]?.t;
  // The newest sample at the right edge: a host's samples carry its own clock, so "now" here could leave a gap or cut them off.
  const end = newest ?? mountedAt;
  const time = useMemo<TimeAxis>(
    () => ({
      domain: [end - LIVE_WINDOW_MS, end],
      ticks: minuteTicks(end - LIVE_WINDOW_MS, end, { edgeMs: 25_000 }),
      tickFormat: (t) => formatClock(t).slice(0, 5),
      tooltipFormat: formatClock,
    }),
    [end],
  );
  const waiting = windowRows.length === 0;
  return (
    <div
      className="range-charts live-chart"
      data-testid="live-chart"
      data-range="5m"
      data-point-count={countPoints(windowRows, metrics[0] ?? '')}
      data-oldest-point-ms={oldest}
      // The newest sample drawn (its host's time): bench:fleet measures sample-to-screen by it.
      data-newest-point-ms={newest}
      data-live-sample-count={liveCount}
      aria-busy={waiting && live.error === null}
    >
      {history.isError ? (
        <ErrorNotice
          title="Could not load the last five minutes"
          error={history.error as ApiError}
          onRetry={() => void history.refetch()}
          retrying={history.isFetching}
        />
      ) : null}
      {live.error ? <ErrorNotice title="Live updates are not arriving" error={live.error} /> : null}
      {waiting && history.isPending ? <LoadingState label="Loading the last five minutes…" /> : null}
      {waiting && !history.isPending && live.error === null ? (
        <p className="live-chart-waiting" role="status">
          No samples stored yet; waiting for the first one…
        </p>
      ) : null}
      {waiting ? null : (
        <>
          <ChartsNote clickable={onPointClick !== undefined}>Every second, as the samples arrive.</ChartsNote>
          <ChartGrid panels={panels} rows={rows} time={time} syncId={syncId} onPointClick={onPointClick} />
        </>
      )}
    </div>
  );
}

/** A range read from the store, re-read every `range.refreshMs`. */
function StoredCharts({ hostId, panels, metrics, syncId, onPointClick, range }: ChartsProps & { range: ChartRange }) {
  const client = useApiClient();
  const query = useQuery({
    queryKey: ['range-charts', hostId, range.id, metrics],
    queryFn: async () => {
      const toMs = Date.now();
      const fromMs = toMs - range.spanMs;
      const result = await queryAll(client, { hostId, metrics, fromMs, toMs, maxPoints: CHART_POINTS });
      const long = range.spanMs > 24 * 60 * 60_000 - 1;
      const time: TimeAxis = {
        domain: [fromMs, toMs],
        tickFormat: (t) => (long ? formatDateTime(t).slice(5, 16) : formatClock(t).slice(0, 5)),
        tooltipFormat: formatDateTime,
      };
      return { tier: result.tier, stepMs: result.stepMs, rows: chartRows(result, metrics), time };
    },
    refetchInterval: range.refreshMs ?? false,
    placeholderData: (previous) => previous,
  });
  if (query.isPending) return <LoadingState label="Loading the charts…" />;
  if (query.isError)
    return <ErrorNotice title="Could not read the charts" error={query.error as ApiError} onRetry={() => void query.refetch()} />;
  const { tier, stepMs, rows, time } = query.data;
  return (
    <div className="range-charts" data-testid="range-charts" data-range={range.id} data-tier={tier} data-step-ms={stepMs}>
      {rows.length === 0 ? (
        <p className="live-chart-waiting" role="status">
          No samples in the last {range.label}.
        </p>
      ) : (
        <>
          <ChartsNote clickable={onPointClick !== undefined}>
            {tier === '1s' ? 'Stored per second' : tier === '1m' ? 'Stored per minute' : 'Stored per hour'}, a point every{' '}
            {stepWords(stepMs)}.
          </ChartsNote>
          <ChartGrid panels={panels} rows={rows} time={time} syncId={syncId} onPointClick={onPointClick} />
        </>
      )}
    </div>
  );
}

/** A point's span in words: 6 s, 2.4 min, 1 h. */
function stepWords(stepMs: number): string {
  const seconds = Math.round(stepMs / 1000);
  const inUnit = (size: number, unit: string) => `${(seconds / size).toFixed(seconds % size === 0 ? 0 : 1)} ${unit}`;
  if (seconds < 60) return `${seconds} s`;
  return seconds < 3600 ? inUnit(60, 'min') : inUnit(3600, 'h');
}

function ChartsNote({ clickable, children }: { clickable: boolean; children: ReactNode }) {
  return (
    <p className="range-charts-note">
      {children} A break in a line is a time with no sample.{clickable ? ' Click a point to open the logs at that time.' : ''}
    </p>
  );
}

/**
 * The panels side by side; the time under the pointer, shared by every panel, is on
 * `data-hover-ms`, written to the element itself: a state would draw every chart again at
 * each move of the pointer.
 */
function ChartGrid({
  panels,
  rows,
  time,
  syncId,
  onPointClick,
}: {
  panels: ChartPanel[];
  rows: ChartRow[];
  time: TimeAxis;
  syncId: string;
  onPointClick?: ((atMs: number) => void) | undefined;
}) {
  const grid = useRef<HTMLDivElement>(null);
  const onHover = useCallback((t: number | null) => {
    if (!grid.current) return;
    if (t === null) delete grid.current.dataset['hoverMs'];
    else grid.current.dataset['hoverMs'] = String(t);
  }, []);
  return (
    <div className="metric-grid" ref={grid}>
      {panels.map((panel) => (
        <MetricPanel
          key={panel.id}
          panel={panel}
          rows={rows}
          time={time}
          syncId={syncId}
          onHover={onHover}
          {...(onPointClick ? { onPointClick } : {})}
        />
      ))}
    </div>
  );
}
