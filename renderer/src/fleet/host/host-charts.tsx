import { useCallback, useMemo } from 'react';
import { HOST_KEYED_SERIES, HOST_SERIES, seriesName, visibleText, type MetricsSeriesKeysResult } from '../../../../electron/contract';
import { useApiQuery } from '../../api/queries';
import { formatByteRate, formatBytes, formatBytesRound } from '../../format/bytes';
import { formatDecimal, formatPercent, formatTickNumber } from '../../format/number';
import { formatClock } from '../../format/time';
import { niceTicks } from '../../metrics/axis-ticks';
import { useChartView } from '../../metrics/chart-view';
import { RangeCharts, RangePicker, type ChartPanel, type ChartSeries } from '../../metrics/range-charts';
import { hrefFor } from '../../router/route';
import { navigate } from '../../router/use-route';
import { Card } from '../../ui/card';
import { ErrorNotice, LoadingState } from '../../ui/query-state';

/** The host's keyed series a page draws: each core, filesystem and GPU the host has sent. */
export const HOST_KEYED_FAMILIES = [
  HOST_KEYED_SERIES.cpuCorePercent,
  HOST_KEYED_SERIES.filesystemUsedPercent,
  HOST_KEYED_SERIES.gpuUtilizationPercent,
  HOST_KEYED_SERIES.gpuMemoryUsedBytes,
  HOST_KEYED_SERIES.gpuTemperatureCelsius,
] as const;

/** Lines per panel at most: past that a chart is a smear (the caption says how many were left out). */
export const MAX_CORE_LINES = 64;
export const MAX_FILESYSTEM_LINES = 8;
export const MAX_GPU_LINES = 8;
/** The keys are re-read this often: a filesystem mounted or a GPU added shows without a reload. */
const KEYS_REFRESH_MS = 60_000;

const byNumber = (a: string, b: string) => Number(a) - Number(b) || a.localeCompare(b);

/** A family's keys in the order a person reads them (cores and GPUs by number), the first `max`, and how many were left out. */
function keysOf(
  answer: MetricsSeriesKeysResult,
  family: string,
  max: number,
  numeric: boolean,
): { keys: string[]; leftOut: string | null } {
  const found = answer.families.find((f) => f.family === family);
  if (!found) return { keys: [], leftOut: null };
  const sorted = numeric ? [...found.keys].sort(byNumber) : [...found.keys].sort();
  const keys = sorted.slice(0, max);
  const dropped = sorted.length - keys.length;
  if (found.more) return { keys, leftOut: `the first ${keys.length} shown` };
  return { keys, leftOut: dropped > 0 ? `the first ${keys.length} of ${sorted.length} shown` : null };
}

const percent = (v: number) => formatPercent(v, 0);
const percentTicks = () => [0, 25, 50, 75, 100];
const binaryTicks = (floor: number) => (max: number, limit: number | null) => niceTicks(limit ?? max, { binary: true, floor });
const byteRatePanel = (id: string, title: string, series: ChartSeries[]): ChartPanel => ({
  id,
  title,
  series,
  format: formatByteRate,
  formatTick: (v) => `${formatBytesRound(v)}/s`,
  yTicks: binaryTicks(1024),
});

/**
 * The host's panels, from its own series: the vocabulary's host series, every core, a line
 * per filesystem and per GPU (utilisation, memory, temperature) as the host reported them.
 * Mount names are the host's text: labels, shown as text, never markup.
 */
export function hostPanels(answer: MetricsSeriesKeysResult): ChartPanel[] {
  const cores = keysOf(answer, HOST_KEYED_SERIES.cpuCorePercent, MAX_CORE_LINES, true);
  const mounts = keysOf(answer, HOST_KEYED_SERIES.filesystemUsedPercent, MAX_FILESYSTEM_LINES, false);
  const gpus = (family: string) => keysOf(answer, family, MAX_GPU_LINES, true);
  const gpuPanel = (id: string, title: string, family: string, format: (v: number) => string, extra: Partial<ChartPanel> = {}) => {
    const { keys, leftOut } = gpus(family);
    return {
      id,
      title,
      series: keys.map((gpu): ChartSeries => ({
        metric: seriesName(family as typeof HOST_KEYED_SERIES.gpuMemoryUsedBytes, gpu),
        label: `GPU ${gpu}`,
      })),
      format,
      ...(leftOut ? { note: leftOut } : {}),
      ...extra,
    };
  };
  const panels: ChartPanel[] = [
    {
      id: 'cpu',
      title: 'CPU',
      series: [{ metric: HOST_SERIES.cpuPercent, label: 'CPU' }],
      format: percent,
      yTicks: percentTicks,
    },
    {
      id: 'cpu-cores',
      title: 'CPU per core',
      series: cores.keys.map((core) => ({ metric: seriesName(HOST_KEYED_SERIES.cpuCorePercent, core), label: `core ${core}` })),
      format: percent,
      yTicks: percentTicks,
      ...(cores.leftOut ? { note: cores.leftOut } : {}),
    },
    {
      id: 'memory',
      title: 'Memory',
      series: [
        { metric: HOST_SERIES.memoryUsedBytes, label: 'Used' },
        { metric: HOST_SERIES.swapUsedBytes, label: 'Swap' },
      ],
      limitMetric: HOST_SERIES.memoryTotalBytes,
      format: formatBytes,
      formatTick: formatBytesRound,
      yTicks: binaryTicks(1024 ** 2),
    },
    {
      id: 'load',
      title: 'Load',
      series: [
        { metric: HOST_SERIES.load1, label: '1 min' },
        { metric: HOST_SERIES.load5, label: '5 min' },
        { metric: HOST_SERIES.load15, label: '15 min' },
      ],
      format: formatDecimal,
      formatTick: formatTickNumber,
      yTicks: (max) => niceTicks(max, { floor: 1 }),
    },
    byteRatePanel('disk', 'Disk I/O', [
      { metric: HOST_SERIES.diskReadBytesPerSec, label: 'Read' },
      { metric: HOST_SERIES.diskWriteBytesPerSec, label: 'Write' },
    ]),
    byteRatePanel('network', 'Network', [
      { metric: HOST_SERIES.netRxBytesPerSec, label: 'Received' },
      { metric: HOST_SERIES.netTxBytesPerSec, label: 'Sent' },
    ]),
    {
      id: 'filesystems',
      title: 'Filesystems used',
      series: mounts.keys.map((mount) => ({
        metric: seriesName(HOST_KEYED_SERIES.filesystemUsedPercent, mount),
        label: visibleText(mount),
      })),
      format: percent,
      yTicks: percentTicks,
      ...(mounts.leftOut ? { note: mounts.leftOut } : {}),
    },
    gpuPanel('gpu-utilization', 'GPU utilisation', HOST_KEYED_SERIES.gpuUtilizationPercent, percent, { yTicks: percentTicks }),
    gpuPanel('gpu-memory', 'GPU memory used', HOST_KEYED_SERIES.gpuMemoryUsedBytes, formatBytes, {
      formatTick: formatBytesRound,
      yTicks: binaryTicks(1024 ** 2),
    }),
    gpuPanel('gpu-temperature', 'GPU temperature', HOST_KEYED_SERIES.gpuTemperatureCelsius, (v) => `${formatDecimal(v)} °C`, {
      formatTick: (v) => `${formatTickNumber(v)} °C`,
      yTicks: (max) => niceTicks(max, { floor: 10 }),
    }),
  ];
  return panels.filter((panel) => panel.series.length > 0);
}

/**
 * A host's charts over a chosen range (live 5 min, 1 h, 24 h, 7 d), from the series the host
 * itself sent: this machine's sampler, or an installed host's runtime. Opened at a moment
 * (`#/hosts/<id>?at=<ms>`, an event's second) they show the minutes around it. With
 * `processes` (an installed host) a clicked point becomes the page's moment, offering each
 * process's logs at that time.
 */
export function HostChartsCard({ hostId, processes, atMs }: { hostId: number; processes: boolean; atMs?: number | undefined }) {
  const view = useChartView('fleet.host.range', atMs);
  const keys = useApiQuery('metrics.seriesKeys', { hostId, families: [...HOST_KEYED_FAMILIES] }, { refetchInterval: KEYS_REFRESH_MS });
  // The same panels (and series) until the host's keys change: the charts keep their state.
  const panels = useMemo(() => (keys.data ? hostPanels(keys.data) : null), [keys.data]);
  // One function for the card's life: a new one at each render would draw every chart again.
  const onPointClick = useCallback((t: number) => navigate({ name: 'host', hostId, atMs: t }), [hostId]);
  return (
    <Card title="Metrics" aside={<RangePicker view={view} />}>
      <div data-testid="host-charts">
        {processes && atMs !== undefined ? <LogsAt hostId={hostId} atMs={atMs} /> : null}
        {keys.isPending ? <LoadingState label="Reading which series this host has…" /> : null}
        {keys.isError ? (
          <ErrorNotice title="Could not read this host's series" error={keys.error} onRetry={() => void keys.refetch()} />
        ) : null}
        {panels ? (
          <RangeCharts hostId={hostId} panels={panels} view={view} syncId={`host-${hostId}`} {...(processes ? { onPointClick } : {})} />
        ) : null}
      </div>
    </Card>
  );
}

/** After a click on a chart: each process's logs at that time. */
function LogsAt({ hostId, atMs }: { hostId: number; atMs: number }) {
  const processes = useApiQuery('fleet.processes', { hostId }, { staleTime: 3_000 });
  return (
    <p className="chart-jump" role="status" data-testid="chart-jump" data-at-ms={atMs}>
      Logs at {formatClock(atMs)}:{' '}
      {(processes.data?.processes ?? []).map((p, i) => (
        <span key={p.name}>
          {i > 0 ? ' · ' : null}
          <a href={hrefFor({ name: 'fleet-process', hostId, process: p.name, atMs })}>{p.name}</a>
        </span>
      ))}
    </p>
  );
}
