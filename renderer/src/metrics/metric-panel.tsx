import { memo, useCallback, useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis, type TooltipContentProps } from 'recharts';
import { visibleText } from '../../../electron/contract';
import { niceTicks } from './axis-ticks';
import { countBreaks, type ChartRow } from './chart-rows';

export interface ChartSeries {
  metric: string;
  /** What the caption and tooltip call it: a host's own text (a mount) is shown as text. */
  label: string;
}

export interface ChartPanel {
  id: string;
  title: string;
  series: ChartSeries[];
  format: (value: number) => string;
  /** The y axis' labels, shorter than `format` where it helps (whole units). Default `format`. */
  formatTick?: (value: number) => string;
  /** The y axis' ticks from the highest value drawn (and the limit). Default: round steps from 0. */
  yTicks?: (max: number, limit: number | null) => number[];
  /** A series drawn as a dashed line marked 'total' (memory's size), not as a line of its own. */
  limitMetric?: string;
  /** Said under the title: what was left out (cores past the first 64). */
  note?: string;
}

/** A panel's lines in order; recharts' own palette would repeat too soon. */
const COLORS = ['var(--chart-1)', 'var(--chart-2)', '#2da44e', '#8250df', '#bf3989', '#57606a', '#bc4c00', '#0a7ea4'];
const AXIS_TICK = { fontSize: 11, fill: 'var(--text-muted)' };
/** Beyond this many series the caption names the highest only, and the tooltip the highest few. */
const CAPTION_SERIES = 3;
const TOOLTIP_SERIES = 8;

/**
 * Props handed to recharts that keep their identity from render to render. Recharts 3 keeps
 * each axis' and line's settings in its store and replaces them whenever a prop is a new
 * object or function, and every replacement runs its selectors and draws the chart once more:
 * with a new accessor, tick list or formatter at each live sample, every panel in view was
 * drawn twice a second instead of once.
 */
const CHART_MARGIN = { top: 6, right: 12, bottom: 0, left: 0 };
const ACTIVE_DOT = { r: 3 };
const LIMIT_LABEL = { value: 'total', position: 'insideTopRight', fontSize: 11, fill: 'var(--text-muted)' } as const;
const accessors = new Map<string, (row: ChartRow) => number | null>();

/** One accessor per series name, for the app's life: recharts reads a dotted key as a nested path, so a key will not do. */
function accessorFor(metric: string): (row: ChartRow) => number | null {
  let accessor = accessors.get(metric);
  if (accessor === undefined) {
    accessor = (row) => row[metric] ?? null;
    accessors.set(metric, accessor);
  }
  return accessor;
}

/** The same array as last time while its values are the same (the y ticks change seldom, their array at every render). */
function useSameWhileEqual(values: number[]): number[] {
  const text = values.join(' ');
  return useMemo(() => (text === '' ? [] : text.split(' ').map(Number)), [text]);
}

export function seriesColor(index: number): string {
  return COLORS[index % COLORS.length]!;
}

function latest(rows: readonly ChartRow[], metric: string): number | null {
  for (let i = rows.length - 1; i >= 0; i--) {
    const v = rows[i]![metric];
    if (typeof v === 'number') return v;
  }
  return null;
}

function highest(rows: readonly ChartRow[], metrics: readonly string[]): number {
  let max = 0;
  for (const row of rows) {
    for (const metric of metrics) {
      const v = row[metric];
      if (typeof v === 'number' && v > max) max = v;
    }
  }
  return max;
}

/** The time axis: its domain, its ticks (none: recharts chooses) and how a tick and the tooltip's time read. */
export interface TimeAxis {
  domain: [number, number];
  ticks?: number[];
  tickFormat: (t: number) => string;
  tooltipFormat: (t: number) => string;
  /** A moment marked with a dashed vertical line (the logs' time), drawn when the domain holds it. */
  mark?: { atMs: number; label: string };
}

interface MetricPanelProps {
  panel: ChartPanel;
  rows: readonly ChartRow[];
  time: TimeAxis;
  syncId?: string;
  onHover?: (t: number | null) => void;
  onPointClick?: (atMs: number) => void;
  /**
   * False while nobody can see the panel (off screen, a hidden tab): it keeps what it drew
   * and is drawn again, with the rows of that moment, when it is shown. Default true.
   */
  drawn?: boolean;
}

/** A panel not shown is not drawn again, whatever changed; shown again, it is drawn with its newest props. */
function sameUnlessShown(previous: MetricPanelProps, next: MetricPanelProps): boolean {
  if (next.drawn === false) return true;
  const keys = new Set([...Object.keys(previous), ...Object.keys(next)] as Array<keyof MetricPanelProps>);
  return [...keys].every((key) => Object.is(previous[key], next[key]));
}

/**
 * The one chart frame of the app: a titled figure with each series' newest value, and a
 * line chart with a break wherever a row holds null (connectNulls off). Charts given the
 * same `syncId` share one crosshair, matched by time (syncMethod value), so a spike in one
 * lines up with the others; `onPointClick` gets the time under the pointer.
 */
export const MetricPanel = memo(function MetricPanel({ panel, rows, time, syncId, onHover, onPointClick }: MetricPanelProps) {
  const metrics = panel.series.map((s) => s.metric);
  const points = panel.series.reduce((n, s) => n + rows.filter((r) => typeof r[s.metric] === 'number').length, 0);
  const breaks = panel.series.reduce((n, s) => n + countBreaks(rows, s.metric), 0);
  const limit = panel.limitMetric === undefined ? null : latest(rows, panel.limitMetric);
  const yTicks = useSameWhileEqual((panel.yTicks ?? ((max) => niceTicks(max)))(highest(rows, metrics), limit));
  const yTop = Math.max(yTicks[yTicks.length - 1] ?? 1, limit ?? 0);
  const formatTick = panel.formatTick ?? panel.format;
  const yTickFormat = useCallback((v: number) => formatTick(v), [formatTick]);
  const chartStyle = useMemo(() => ({ width: '100%', height: 150, cursor: onPointClick ? 'pointer' : undefined }), [onPointClick]);
  const markLabel = useMemo(
    () =>
      time.mark ? ({ value: time.mark.label, position: 'insideTopLeft', fontSize: 11, fill: 'var(--text-muted)' } as const) : undefined,
    [time.mark],
  );
  return (
    <figure
      className="metric-panel"
      data-metric-panel={panel.id}
      data-point-count={points}
      data-break-count={breaks}
      // The newest time this panel drew: behind the chart's own while it is off screen.
      data-newest-point-ms={rows[rows.length - 1]?.t}
    >
      <figcaption className="metric-panel-head">
        <span className="metric-panel-title">
          {panel.title}
          {panel.note ? <span className="metric-panel-note"> · {panel.note}</span> : null}
        </span>
        <span className="metric-panel-values">
          <PanelValues panel={panel} rows={rows} limit={limit} />
        </span>
      </figcaption>
      {points === 0 ? (
        <p className="live-chart-waiting">No samples in this range.</p>
      ) : (
        <LineChart
          data={rows as ChartRow[]}
          responsive
          style={chartStyle}
          margin={CHART_MARGIN}
          syncId={syncId}
          syncMethod="value"
          accessibilityLayer={false}
          onMouseMove={(state) => onHover?.(typeof state.activeLabel === 'number' ? state.activeLabel : null)}
          onMouseLeave={() => onHover?.(null)}
          onClick={(state) => {
            if (onPointClick && typeof state.activeLabel === 'number') onPointClick(state.activeLabel);
          }}
        >
          <CartesianGrid vertical={false} stroke="var(--chart-grid)" />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={time.domain}
            allowDataOverflow
            {...(time.ticks ? { ticks: time.ticks } : {})}
            tickFormatter={time.tickFormat}
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
            tickFormatter={yTickFormat}
            tick={AXIS_TICK}
            stroke="var(--border)"
            tickLine={false}
            axisLine={false}
            width={76}
          />
          <Tooltip isAnimationActive={false} content={(props) => <PanelTooltip {...props} panel={panel} time={time} />} />
          {time.mark ? (
            <ReferenceLine x={time.mark.atMs} stroke="var(--text-muted)" strokeDasharray="3 3" ifOverflow="discard" label={markLabel} />
          ) : null}
          {limit !== null ? <ReferenceLine y={limit} stroke="var(--text-faint)" strokeDasharray="4 3" label={LIMIT_LABEL} /> : null}
          {panel.series.map((s, i) => (
            <Line
              key={s.metric}
              name={s.label}
              dataKey={accessorFor(s.metric)}
              type="linear"
              stroke={seriesColor(i)}
              strokeWidth={1.5}
              dot={false}
              activeDot={ACTIVE_DOT}
              isAnimationActive={false}
              connectNulls={false}
            />
          ))}
        </LineChart>
      )}
    </figure>
  );
}, sameUnlessShown);

/** The caption's figures: each series' newest value, or for many series the highest one and whose. */
function PanelValues({ panel, rows, limit }: { panel: ChartPanel; rows: readonly ChartRow[]; limit: number | null }) {
  const values = panel.series.map((s, i) => ({ ...s, index: i, value: latest(rows, s.metric) }));
  if (values.length > CAPTION_SERIES) {
    const top = values.filter((v) => v.value !== null).sort((a, b) => b.value! - a.value!)[0];
    if (!top) return <span className="figure">—</span>;
    return (
      <span className="metric-value" data-testid="panel-highest" title={visibleText(top.label)}>
        <span className="metric-value-label">highest </span>
        <Swatch index={top.index} />
        <span className="metric-value-label">{visibleText(top.label)}</span> <span className="figure">{panel.format(top.value!)}</span>
      </span>
    );
  }
  return (
    <>
      {values.map((v) => (
        <span key={v.metric} className="metric-value" title={values.length > 1 ? visibleText(v.label) : undefined}>
          {values.length > 1 ? (
            <>
              <Swatch index={v.index} />
              <span className="metric-value-label">{visibleText(v.label)}</span>{' '}
            </>
          ) : null}
          <span className="figure">{v.value === null ? '—' : panel.format(v.value)}</span>
          {/* The first series is what the limit bounds (memory used of its total). */}
          {limit !== null && v.index === 0 ? <span className="metric-value-label"> of {panel.format(limit)}</span> : null}
        </span>
      ))}
    </>
  );
}

function Swatch({ index }: { index: number }) {
  return <span className="swatch" style={{ background: seriesColor(index) }} aria-hidden="true" />;
}

/**
 * The crosshair's box: the time, then each series' value at it, highest first and at most
 * TOOLTIP_SERIES of them (a host with 64 cores would fill the screen); labels as text.
 */
function PanelTooltip({
  active,
  payload,
  label,
  panel,
  time,
}: Pick<TooltipContentProps<number, string>, 'active' | 'payload' | 'label'> & { panel: ChartPanel; time: TimeAxis }) {
  if (!active || typeof label !== 'number') return null;
  const index = new Map(panel.series.map((s, i) => [s.label, i]));
  const items = (payload ?? []).filter((item) => typeof item.value === 'number').sort((a, b) => (b.value as number) - (a.value as number));
  const shown = items.slice(0, TOOLTIP_SERIES);
  return (
    <div className="chart-tooltip" data-testid="chart-tooltip" data-at-ms={label}>
      <div className="chart-tooltip-time">{time.tooltipFormat(label)}</div>
      {shown.map((item) => (
        <div key={String(item.name)} className="chart-tooltip-row">
          <Swatch index={index.get(String(item.name)) ?? 0} />
          {panel.series.length > 1 ? <span className="metric-value-label">{visibleText(String(item.name))} </span> : null}
          <span className="figure">{panel.format(item.value as number)}</span>
        </div>
      ))}
      {items.length > shown.length ? <div className="metric-value-label">and {items.length - shown.length} more</div> : null}
    </div>
  );
}
