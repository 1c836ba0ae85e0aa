import { useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState, type ReactNode } from 'react';
import { MAX_QUERY_SERIES, type ApiClient, type ApiError, type LiveSample, type MetricsQueryResult } from '../../../electron/contract';
import { useApiClient } from '../api/api-context';
import { useApiEvent } from '../api/use-api-event';
import { formatClock, formatDateTime } from '../format/time';
import { ErrorNotice, LoadingState } from '../ui/query-state';
import { minuteTicks } from './axis-ticks';
import { chartRows, CHART_RANGES, liveChartRows, type ChartRange, type ChartRow } from './chart-rows';
import { AROUND_MS, type ChartView } from './chart-view';
import { EMPTY_WINDOW, LIVE_WINDOW_MS, countPoints, liveWindowReducer } from './live-window';
import { MetricPanel, type ChartPanel, type TimeAxis } from './metric-panel';
import { usePageShown, usePanelsOffScreen } from './use-panels-shown';

export type { ChartPanel, ChartSeries } from './metric-panel';

/** A chart is about 600 px wide: more points than that draw nothing more. */
const CHART_POINTS = 600;
/** Live samples held for the next frame at most: a five-minute window at one a second, twice over. */
const MAX_PENDING_SAMPLES = (2 * LIVE_WINDOW_MS) / 1000;
/** The minutes around a moment are re-read this often until their end has passed and settled (a link's backfill). */
const AROUND_REFRESH_MS = 5_000;
const AROUND_SETTLE_MS = 60_000;

/** A moment's clock time in the picker and notes; the date too when it is not today. */
function momentWords(atMs: number): string {
  return new Date(atMs).toDateString() === new Date().toDateString() ? formatClock(atMs) : formatDateTime(atMs);
}

/** The range buttons shared by a page's charts; first, when the page has a moment, "Around" it. */
export function RangePicker({ view }: { view: ChartView }) {
  const around = view.aroundMs !== null;
  return (
    <div className="segmented" role="radiogroup" aria-label="Time range" data-testid="range-picker">
      {view.centre && view.markMs !== null ? (
        <label className={around ? 'segment segment-on' : 'segment'} data-range="around">
          <input type="radio" name="chart-range" value="around" checked={around} onChange={view.centre} />
          Around {momentWords(view.markMs)}
        </label>
      ) : null}
      {CHART_RANGES.map((range) => {
        const on = !around && view.rangeId === range.id;
        return (
          <label key={range.id} className={on ? 'segment segment-on' : 'segment'} data-range={range.id}>
            <input type="radio" name="chart-range" value={range.id} checked={on} onChange={() => view.pick(range.id)} />
            {range.label}
          </label>
        );
      })}
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
 * A page's charts over its view's range, with one crosshair across all of them (recharts'
 * syncId, matched by time); a click on a point hands its time to `onPointClick` (the logs
 * at that moment). The live range follows the host's samples as they are pushed
 * (`metrics.live`: this machine's sampler, or a host's runtime over its link, backfill
 * included) after the stored last five minutes; the other ranges, and the minutes around a
 * moment, are read through `metrics.query`, which picks the tier and downsamples to the
 * chart's width, and re-read while they can still change.
 */
export function RangeCharts({
  hostId,
  panels,
  view,
  syncId,
  onPointClick,
}: {
  hostId: number;
  panels: ChartPanel[];
  view: ChartView;
  syncId: string;
  onPointClick?: (atMs: number) => void;
}) {
  const range = CHART_RANGES.find((r) => r.id === view.rangeId) ?? CHART_RANGES[0];
  const metrics = useMemo(() => panelMetrics(panels), [panels]);
  const mark = useMemo(() => (view.markMs === null ? undefined : { atMs: view.markMs, label: formatClock(view.markMs) }), [view.markMs]);
  const props = { hostId, panels, metrics, syncId, onPointClick, mark };
  if (view.aroundMs !== null) return <AroundCharts {...props} atMs={view.aroundMs} onBackToLive={view.backToLive} />;
  // Another set of series (a filesystem mounted, an instance scaled up) starts the window over, with its history.
  return range.refreshMs === null ? <LiveCharts key={metrics.join('\n')} {...props} /> : <StoredCharts {...props} range={range} />;
}

interface ChartsProps {
  hostId: number;
  panels: ChartPanel[];
  metrics: string[];
  syncId: string;
  onPointClick?: ((atMs: number) => void) | undefined;
  /** The page's moment, marked where a chart's span holds it. */
  mark?: TimeAxis['mark'];
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
function LiveCharts({ hostId, panels, metrics, syncId, onPointClick, mark }: ChartsProps) {
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
  const pageShown = usePageShown();
  const drawPending = useCallback(() => {
    if (frame.current !== null || pending.current.length === 0) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      const samples = pending.current;
      pending.current = [];
      dispatch({ type: 'samples', samples });
      setLiveCount((n) => n + samples.length);
    });
  }, []);
  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
    },
    [],
  );
  // Shown again (the tab brought back): what came meanwhile is drawn at once, in one frame.
  useEffect(() => {
    if (pageShown) drawPending();
  }, [pageShown, drawPending]);
  const live = useApiEvent('metrics.live', { hostId }, (sample) => {
    pending.current.push(pick(sample, wanted.current));
    // Nothing is drawn while the page is hidden: hold no more than the window can show (a backfill sends oldest first).
    if (pending.current.length > MAX_PENDING_SAMPLES) pending.current.splice(0, pending.current.length - MAX_PENDING_SAMPLES);
    if (document.visibilityState !== 'hidden') drawPending();
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
      ...(mark ? { mark } : {}),
    }),
    [end, mark],
  );
  const waiting = windowRows.length === 0;
  return (
    <div
      className="range-charts live-chart"
      data-testid="live-chart"
      data-range="5m"
      data-point-count={countPoints(windowRows, metrics[0] ?? '')}
      data-oldest-point-ms={oldest}
      // The newest sample in the window (its host's time), drawn by every panel in view; each panel has its own.
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
function StoredCharts({ hostId, panels, metrics, syncId, onPointClick, mark, range }: ChartsProps & { range: ChartRange }) {
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
  // The same axis object until the answer or the mark changes: a new one would draw every panel again.
  const answered = query.data?.time;
  const time = useMemo(() => (answered && mark ? { ...answered, mark } : answered), [answered, mark]);
  if (query.isPending) return <LoadingState label="Loading the charts…" />;
  if (query.isError)
    return <ErrorNotice title="Could not read the charts" error={query.error as ApiError} onRetry={() => void query.refetch()} />;
  const { tier, stepMs, rows } = query.data;
  const axis = time ?? query.data.time;
  return (
    <div className="range-charts" data-testid="range-charts" data-range={range.id} data-tier={tier} data-step-ms={stepMs}>
      {rows.length === 0 ? (
        <p className="live-chart-waiting" role="status">
          No samples in the last {range.label}.
        </p>
      ) : (
        <>
          <ChartsNote clickable={onPointClick !== undefined}>{storedWords(tier, stepMs)}</ChartsNote>
          <ChartGrid panels={panels} rows={rows} time={axis} syncId={syncId} onPointClick={onPointClick} />
        </>
      )}
    </div>
  );
}

/**
 * The minutes either side of a moment (an event's second, a chart's point), read once from
 * the store and again while the window's end is still to come, with the moment marked in the
 * middle. A fixed span: it does not move with the clock, so what happened then stays in view.
 */
function AroundCharts({
  hostId,
  panels,
  metrics,
  syncId,
  onPointClick,
  mark,
  atMs,
  onBackToLive,
}: ChartsProps & { atMs: number; onBackToLive: () => void }) {
  const client = useApiClient();
  // From a whole second, one millisecond short of the end: 600 one-second buckets, so the 1 s tier is read at its own step.
  const fromMs = Math.floor(atMs / 1000) * 1000 - AROUND_MS;
  const toMs = fromMs + 2 * AROUND_MS - 1;
  const query = useQuery({
    queryKey: ['range-charts-around', hostId, atMs, metrics],
    queryFn: async () => {
      const result = await queryAll(client, { hostId, metrics, fromMs, toMs, maxPoints: CHART_POINTS });
      return { tier: result.tier, stepMs: result.stepMs, rows: chartRows(result, metrics) };
    },
    refetchInterval: () => (Date.now() <= toMs + AROUND_SETTLE_MS ? AROUND_REFRESH_MS : false),
    placeholderData: (previous) => previous,
  });
  const time = useMemo<TimeAxis>(
    () => ({
      domain: [fromMs, toMs],
      ticks: minuteTicks(fromMs, toMs, { edgeMs: 25_000 }),
      tickFormat: (t) => formatClock(t).slice(0, 5),
      tooltipFormat: formatDateTime,
      mark: mark ?? { atMs, label: formatClock(atMs) },
    }),
    [fromMs, toMs, mark, atMs],
  );
  return (
    <div
      className="range-charts"
      data-testid="around-charts"
      data-range="around"
      data-at-ms={atMs}
      data-from-ms={fromMs}
      data-to-ms={toMs}
      data-tier={query.data?.tier}
      data-step-ms={query.data?.stepMs}
    >
      <div className="around-charts-head">
        <ChartsNote clickable={onPointClick !== undefined}>
          <strong>
            {AROUND_MS / 60_000} minutes either side of {formatDateTime(atMs)}
          </strong>{' '}
          (the dashed line), not moving with the clock. {query.data ? storedWords(query.data.tier, query.data.stepMs) : null}
        </ChartsNote>
        <button type="button" className="button" data-testid="charts-back-to-live" onClick={onBackToLive}>
          Back to live
        </button>
      </div>
      {query.isPending ? <LoadingState label="Loading the charts around that time…" /> : null}
      {query.isError ? (
        <ErrorNotice title="Could not read the charts" error={query.error as ApiError} onRetry={() => void query.refetch()} />
      ) : null}
      {query.data && query.data.rows.length === 0 ? (
        <p className="live-chart-waiting" role="status">
          No samples stored around {formatDateTime(atMs)}.
        </p>
      ) : null}
      {query.data && query.data.rows.length > 0 ? (
        <ChartGrid panels={panels} rows={query.data.rows} time={time} syncId={syncId} onPointClick={onPointClick} />
      ) : null}
    </div>
  );
}

/** How the store answered: its tier and the span of a point. */
function storedWords(tier: string, stepMs: number): string {
  const per = tier === '1s' ? 'Stored per second' : tier === '1m' ? 'Stored per minute' : 'Stored per hour';
  return `${per}, a point every ${stepWords(stepMs)}.`;
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
 * each move of the pointer. Panels nobody can see (off screen, or the whole page hidden) are
 * not drawn as rows arrive; each is drawn with the newest rows when it is shown.
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
  const pageShown = usePageShown();
  const offScreen = usePanelsOffScreen(grid, panels.map((p) => p.id).join('\n'));
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
          drawn={pageShown && !offScreen.has(panel.id)}
          {...(onPointClick ? { onPointClick } : {})}
        />
      ))}
    </div>
  );
}
