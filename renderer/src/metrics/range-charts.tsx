import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { ApiError } from '../../../electron/contract';
import { useApiClient } from '../api/api-context';
import { formatClock, formatDateTime } from '../format/time';
import { ErrorNotice, LoadingState } from '../ui/query-state';
import { chartRows, countBreaks, CHART_RANGES, type ChartRangeId, type ChartRow } from './chart-rows';

export interface ChartSeries {
  metric: string;
  label: string;
}

export interface ChartPanel {
  id: string;
  title: string;
  series: ChartSeries[];
  format: (value: number) => string;
}

const COLORS = ['var(--chart-1)', 'var(--chart-2)', '#2da44e', '#8250df', '#bf3989', '#57606a'];
const AXIS_TICK = { fontSize: 11, fill: 'var(--text-muted)' };
/** A chart is about 600 px wide: more points than that draw nothing more. */
const CHART_POINTS = 600;

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
 * A page's charts over one range, read through `metrics.query` (which picks the tier and
 * downsamples to the chart's width) and re-read while live; one crosshair across all of
 * them (recharts' syncId, matched by time); a click on a point hands its time to
 * `onPointClick` (the process's logs at that moment).
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
  const client = useApiClient();
  const range = CHART_RANGES.find((r) => r.id === rangeId) ?? CHART_RANGES[0];
  const metrics = panels.flatMap((p) => p.series.map((s) => s.metric));
  const query = useQuery({
    queryKey: ['fleet-range-charts', hostId, rangeId, metrics],
    queryFn: async () => {
      const toMs = Date.now();
      const fromMs = toMs - range.spanMs;
      const result = await client.call('metrics.query', { hostId, metrics, fromMs, toMs, maxPoints: CHART_POINTS });
      return { fromMs, toMs, tier: result.tier, stepMs: result.stepMs, rows: chartRows(result, metrics) };
    },
    refetchInterval: range.refreshMs,
    placeholderData: (previous) => previous,
  });
  const [hoverMs, setHoverMs] = useState<number | null>(null);
  if (query.isPending) return <LoadingState label="Loading the charts…" />;
  if (query.isError)
    return <ErrorNotice title="Could not read the charts" error={query.error as ApiError} onRetry={() => void query.refetch()} />;
  const { fromMs, toMs, tier, stepMs, rows } = query.data;
  const long = range.spanMs > 24 * 60 * 60_000 - 1;
  const tickFormat = (t: number) => (long ? formatDateTime(t).slice(5, 16) : formatClock(t).slice(0, 5));
  return (
    <div
      className="range-charts"
      data-testid="range-charts"
      data-range={rangeId}
      data-tier={tier}
      data-step-ms={stepMs}
      data-hover-ms={hoverMs ?? undefined}
    >
      <p className="range-charts-note">
        {tier === '1s' ? 'Per second' : tier === '1m' ? 'Per minute' : 'Per hour'}, a point every {Math.round(stepMs / 1000)} s; a break is
        a time with no sample. Click a point to open the logs at that time.
      </p>
      <div className="metric-grid">
        {panels.map((panel) => (
          <RangePanel
            key={panel.id}
            panel={panel}
            rows={rows}
            domain={[fromMs, toMs]}
            syncId={syncId}
            tickFormat={tickFormat}
            onHover={setHoverMs}
            onPointClick={onPointClick}
          />
        ))}
      </div>
    </div>
  );
}

function RangePanel({
  panel,
  rows,
  domain,
  syncId,
  tickFormat,
  onHover,
  onPointClick,
}: {
  panel: ChartPanel;
  rows: ChartRow[];
  domain: [number, number];
  syncId: string;
  tickFormat: (t: number) => string;
  onHover: (t: number | null) => void;
  onPointClick?: (atMs: number) => void;
}) {
  const latest = (metric: string) => {
    for (let i = rows.length - 1; i >= 0; i--) {
      const v = rows[i]![metric];
      if (typeof v === 'number') return v;
    }
    return null;
  };
  const points = panel.series.reduce((n, s) => n + rows.filter((r) => typeof r[s.metric] === 'number').length, 0);
  const breaks = panel.series.reduce((n, s) => n + countBreaks(rows, s.metric), 0);
  return (
    <figure className="metric-panel" data-metric-panel={panel.id} data-point-count={points} data-break-count={breaks}>
      <figcaption className="metric-panel-head">
        <span className="metric-panel-title">{panel.title}</span>
        <span className="metric-panel-values">
          {panel.series.map((s, i) => {
            const v = latest(s.metric);
            return (
              <span key={s.metric} className="metric-value">
                {panel.series.length > 1 ? (
                  <>
                    <span className="swatch" style={{ background: COLORS[i % COLORS.length] }} aria-hidden="true" />
                    <span className="metric-value-label">{s.label}</span>{' '}
                  </>
                ) : null}
                <span className="figure">{v === null ? '—' : panel.format(v)}</span>
              </span>
            );
          })}
        </span>
      </figcaption>
      {points === 0 ? (
        <p className="live-chart-waiting">No samples in this range.</p>
      ) : (
        <LineChart
          data={rows}
          responsive
          style={{ width: '100%', height: 150, cursor: onPointClick ? 'pointer' : undefined }}
          margin={{ top: 6, right: 12, bottom: 0, left: 0 }}
          syncId={syncId}
          syncMethod="value"
          accessibilityLayer={false}
          onMouseMove={(state) => onHover(typeof state.activeLabel === 'number' ? state.activeLabel : null)}
          onMouseLeave={() => onHover(null)}
          onClick={(state) => {
            if (onPointClick && typeof state.activeLabel === 'number') onPointClick(state.activeLabel);
          }}
        >
          <CartesianGrid vertical={false} stroke="var(--chart-grid)" />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={domain}
            allowDataOverflow
            tickFormatter={tickFormat}
            tick={AXIS_TICK}
            stroke="var(--border)"
            tickLine={false}
            height={22}
          />
          <YAxis
            tickFormatter={(v: number) => panel.format(v)}
            tick={AXIS_TICK}
            stroke="var(--border)"
            tickLine={false}
            axisLine={false}
            width={76}
          />
          <Tooltip
            isAnimationActive={false}
            labelFormatter={(t) => (typeof t === 'number' ? formatDateTime(t) : String(t))}
            formatter={(value) => (typeof value === 'number' ? panel.format(value) : String(value))}
            contentStyle={{
              background: 'var(--surface-raised)',
              border: '1px solid var(--border)',
              borderRadius: 6,
              fontSize: 12,
              color: 'var(--text)',
            }}
          />
          {panel.series.map((s, i) => (
            <Line
              key={s.metric}
              name={s.label}
              // An accessor, not a key: recharts reads a dotted key as a nested path.
              dataKey={(row: ChartRow) => row[s.metric] ?? null}
              type="linear"
              stroke={COLORS[i % COLORS.length]}
              strokeWidth={1.5}
              dot={false}
              activeDot={{ r: 3 }}
              isAnimationActive={false}
              connectNulls={false}
            />
          ))}
        </LineChart>
      )}
    </figure>
  );
}
