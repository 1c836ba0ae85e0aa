import { useEffect, useReducer, useState, type ReactNode } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { HOST_METRICS, type HostMetric } from '../../../electron/contract';
import { useMetricsHistory } from '../api/queries';
import { useApiEvent } from '../api/use-api-event';
import { formatByteRate, formatBytes, formatBytesRound } from '../format/bytes';
import { formatDecimal, formatPercent, formatTickNumber } from '../format/number';
import { formatClock } from '../format/time';
import { minuteTicks, niceTicks } from './axis-ticks';
import { EMPTY_WINDOW, LIVE_WINDOW_MS, countPoints, latestValue, liveWindowReducer, type MetricRow } from './live-window';
import { ErrorNotice, LoadingState } from '../ui/query-state';

interface SeriesSpec {
  metric: HostMetric;
  label: string;
  colorVar: string;
}

interface PanelSpec {
  id: string;
  title: string;
  series: SeriesSpec[];
  format: (value: number) => string;
  formatTick: (value: number) => string;
  ticks: (max: number, limit: number | null) => number[];
}

const PANELS: PanelSpec[] = [
  {
    id: 'cpu',
    title: 'CPU',
    series: [{ metric: 'cpu.percent', label: 'CPU', colorVar: 'var(--chart-1)' }],
    format: (v) => formatPercent(v, 0),
    formatTick: (v) => formatPercent(v, 0),
    ticks: () => [0, 25, 50, 75, 100],
  },
  {
    id: 'memory',
    title: 'Memory used',
    series: [{ metric: 'memory.used_bytes', label: 'Used', colorVar: 'var(--chart-1)' }],
    format: formatBytes,
    formatTick: formatBytesRound,
    ticks: (max, limit) => niceTicks(limit ?? max, { binary: true, floor: 1024 ** 2 }),
  },
  {
    id: 'load',
    title: 'Load (1 min)',
    series: [{ metric: 'load.1m', label: 'Load', colorVar: 'var(--chart-1)' }],
    format: formatDecimal,
    formatTick: formatTickNumber,
    ticks: (max) => niceTicks(max, { floor: 1 }),
  },
  {
    id: 'network',
    title: 'Network',
    series: [
      { metric: 'net.rx_bytes_per_s', label: 'Received', colorVar: 'var(--chart-1)' },
      { metric: 'net.tx_bytes_per_s', label: 'Sent', colorVar: 'var(--chart-2)' },
    ],
    format: formatByteRate,
    formatTick: (v) => `${formatBytesRound(v)}/s`,
    ticks: (max) => niceTicks(max, { binary: true, floor: 1024 }),
  },
  {
    id: 'disk',
    title: 'Disk',
    series: [
      { metric: 'disk.read_bytes_per_s', label: 'Read', colorVar: 'var(--chart-1)' },
      { metric: 'disk.write_bytes_per_s', label: 'Write', colorVar: 'var(--chart-2)' },
    ],
    format: formatByteRate,
    formatTick: (v) => `${formatBytesRound(v)}/s`,
    ticks: (max) => niceTicks(max, { binary: true, floor: 1024 }),
  },
];

// Accessors rather than string keys: recharts reads a dotted key as a nested path.
const accessors = Object.fromEntries(HOST_METRICS.map((metric) => [metric, (row: MetricRow) => row[metric] ?? null])) as Record<
  HostMetric,
  (row: MetricRow) => number | null
>;

function seriesMax(rows: readonly MetricRow[], series: SeriesSpec[]): number {
  let max = 0;
  for (const row of rows) {
    for (const { metric } of series) {
      const value = row[metric];
      if (typeof value === 'number' && value > max) max = value;
    }
  }
  return max;
}

const AXIS_TICK = { fontSize: 11, fill: 'var(--text-muted)' };

function MetricPanel({
  spec,
  rows,
  domain,
  limit,
  headline,
}: {
  spec: PanelSpec;
  rows: readonly MetricRow[];
  domain: [number, number];
  limit: number | null;
  headline?: ReactNode;
}) {
  const yTicks = spec.ticks(seriesMax(rows, spec.series), limit);
  const yTop = yTicks[yTicks.length - 1] ?? 1;
  return (
    <figure className="metric-panel" data-metric-panel={spec.id}>
      <figcaption className="metric-panel-head">
        <span className="metric-panel-title">{spec.title}</span>
        <span className="metric-panel-values">
          {headline ??
            spec.series.map((series) => {
              const value = latestValue(rows, series.metric);
              return (
                <span key={series.metric} className="metric-value">
                  {spec.series.length > 1 ? (
                    <>
                      <span className="swatch" style={{ background: series.colorVar }} aria-hidden="true" />
                      <span className="metric-value-label">{series.label}</span>{' '}
                    </>
                  ) : null}
                  <span className="figure">{value === null ? '—' : spec.format(value)}</span>
                </span>
              );
            })}
        </span>
      </figcaption>
      <LineChart
        data={rows as MetricRow[]}
        responsive
        style={{ width: '100%', height: 150 }}
        margin={{ top: 6, right: 12, bottom: 0, left: 0 }}
        accessibilityLayer={false}
      >
        <CartesianGrid vertical={false} stroke="var(--chart-grid)" />
        <XAxis
          dataKey="t"
          type="number"
          scale="time"
          domain={domain}
          allowDataOverflow
          ticks={minuteTicks(domain[0], domain[1], { edgeMs: 25_000 })}
          tickFormatter={(t: number) => formatClock(t).slice(0, 5)}
          tick={AXIS_TICK}
          stroke="var(--border)"
          tickLine={false}
          height={22}
        />
        <YAxis
          type="number"
          domain={[0, yTop]}
          ticks={yTicks}
          allowDataOverflow
          tickFormatter={(v: number) => spec.formatTick(v)}
          tick={AXIS_TICK}
          stroke="var(--border)"
          tickLine={false}
          axisLine={false}
          width={76}
        />
        <Tooltip
          isAnimationActive={false}
          labelFormatter={(t) => (typeof t === 'number' ? formatClock(t) : String(t))}
          formatter={(value) => (typeof value === 'number' ? spec.format(value) : String(value))}
          contentStyle={{
            background: 'var(--surface-raised)',
            border: '1px solid var(--border)',
            borderRadius: 6,
            fontSize: 12,
            color: 'var(--text)',
          }}
          labelStyle={{ color: 'var(--text-muted)' }}
        />
        {limit !== null ? (
          <ReferenceLine
            y={limit}
            stroke="var(--text-faint)"
            strokeDasharray="4 3"
            label={{ value: 'total', position: 'insideTopRight', fontSize: 11, fill: 'var(--text-muted)' }}
          />
        ) : null}
        {spec.series.map((series) => (
          <Line
            key={series.metric}
            name={series.label}
            dataKey={accessors[series.metric]}
            type="linear"
            stroke={series.colorVar}
            strokeWidth={1.5}
            dot={false}
            activeDot={{ r: 3 }}
            isAnimationActive={false}
            connectNulls={false}
          />
        ))}
      </LineChart>
    </figure>
  );
}

/**
 * The last five minutes of a host's metrics, following live. History comes from
 * `metrics.query` (so a reload shows what came before), live samples from
 * `metrics.live`; both start at mount and are merged, the window trimmed as it moves.
 * Remount (key) it for another host.
 */
export function LiveMetricsChart({ hostId, memoryTotalBytes }: { hostId: number; memoryTotalBytes: number | null }) {
  const [mountedAt] = useState(() => Date.now());
  const [liveWindow, dispatch] = useReducer(liveWindowReducer, EMPTY_WINDOW);
  const history = useMetricsHistory({
    hostId,
    metrics: [...HOST_METRICS],
    fromMs: mountedAt - LIVE_WINDOW_MS,
    toMs: mountedAt,
    maxPoints: 600,
  });
  useEffect(() => {
    if (history.data) dispatch({ type: 'history', result: history.data });
  }, [history.data]);
  const live = useApiEvent('metrics.live', { hostId }, (sample) => dispatch({ type: 'live', sample }));

  const rows = liveWindow.rows;
  const newest = rows[rows.length - 1]?.t ?? mountedAt;
  const domain: [number, number] = [newest - LIVE_WINDOW_MS, newest];
  const pointCount = countPoints(rows, 'cpu.percent');
  const memoryUsed = latestValue(rows, 'memory.used_bytes');
  const waiting = rows.length === 0;

  return (
    <div
      className="live-chart"
      data-testid="live-chart"
      data-point-count={pointCount}
      data-oldest-point-ms={rows[0]?.t}
      data-newest-point-ms={rows[rows.length - 1]?.t}
      aria-busy={waiting && live.error === null}
    >
      {history.isError ? (
        <ErrorNotice
          title="Could not load the last five minutes"
          error={history.error}
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
      <div className="metric-grid">
        {PANELS.map((spec) => (
          <MetricPanel
            key={spec.id}
            spec={spec}
            rows={rows}
            domain={domain}
            limit={spec.id === 'memory' ? memoryTotalBytes : null}
            headline={
              spec.id === 'memory' && memoryUsed !== null && memoryTotalBytes ? (
                <span className="metric-value">
                  <span className="figure">{formatBytes(memoryUsed)}</span>
                  <span className="metric-value-label"> of {formatBytes(memoryTotalBytes)}</span>
                </span>
              ) : undefined
            }
          />
        ))}
      </div>
    </div>
  );
}
