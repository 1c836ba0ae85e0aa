/**
 * A MetricSample as Prometheus text exposition format 0.0.4: one `# HELP` and one `# TYPE`
 * per metric family, then its series; label values escaped (\\, ", newline); no timestamps
 * (Prometheus stamps a scrape itself). Names follow promtool's lint: base units (bytes,
 * seconds, celsius), no abbreviations, `_total` on the counter. Pure: no I/O.
 *
 * Per-process series are labelled `sutazai_instance` (the supervisor's instance, e.g.
 * `agent-1`) and `process`, never `instance`: Prometheus reserves `instance` for the scrape
 * target and renames a scraped one `exported_instance`, which breaks `{instance="core-1"}`.
 */
import type { RestartReason } from '../wire/series-names';
import type { MetricSample } from './metric-sample';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  series: { labels: Labels; value: number }[];
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

/** Families in a fixed order; a family with no series is left out entirely. */
export function formatFamilies(families: Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (f.series.length === 0) continue;
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.series) lines.push(`${f.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function family(name: string, type: Family['type'], help: string): Family {
  return { name, type, help, series: [] };
}

/** The exposition of one sample; '' when there is none yet. */
export function sampleToPrometheus(sample: MetricSample | null): string {
  if (sample === null) return '';
  const h = sample.host;
  const host = (name: string, help: string, value: number): Family => ({ ...family(name, 'gauge', help), series: [{ labels: {}, value }] });

  const fams: Family[] = [
    host('sutazai_host_cpu_percent', 'Busy share of all CPU cores together over the last interval, 0..100.', h.cpuPercent),
    {
      ...family('sutazai_host_cpu_core_percent', 'gauge', 'Busy share of one CPU core over the last interval, 0..100.'),
      series: h.perCorePercent.map((value, core) => ({ labels: { core: String(core) }, value })),
    },
    host('sutazai_host_load1', '1-minute load average.', h.loadOneMinute),
    host('sutazai_host_load5', '5-minute load average.', h.loadFiveMinutes),
    host('sutazai_host_load15', '15-minute load average.', h.loadFifteenMinutes),
    host('sutazai_host_memory_used_bytes', 'Memory in use: MemTotal minus MemAvailable.', h.memoryUsedBytes),
    host('sutazai_host_memory_total_bytes', 'Total memory (MemTotal).', h.memoryTotalBytes),
    host('sutazai_host_swap_used_bytes', 'Swap in use.', h.swapUsedBytes),
    host('sutazai_host_swap_total_bytes', 'Total swap.', h.swapTotalBytes),
    host(
      'sutazai_host_disk_read_bytes_per_second',
      'Bytes read from whole disks per second over the last interval.',
      h.diskReadBytesPerSec,
    ),
    host(
      'sutazai_host_disk_write_bytes_per_second',
      'Bytes written to whole disks per second over the last interval.',
      h.diskWriteBytesPerSec,
    ),
    host('sutazai_host_network_receive_bytes_per_second', 'Bytes received per second on all interfaces but loopback.', h.netRxBytesPerSec),
    host(
      'sutazai_host_network_transmit_bytes_per_second',
      'Bytes transmitted per second on all interfaces but loopback.',
      h.netTxBytesPerSec,
    ),
    {
      ...family('sutazai_host_filesystem_used_bytes', 'gauge', 'Bytes used on a mounted local filesystem.'),
      series: h.filesystems.map((f) => ({ labels: { mount: f.mount }, value: f.usedBytes })),
    },
    {
      ...family('sutazai_host_filesystem_size_bytes', 'gauge', 'Size of a mounted local filesystem.'),
      series: h.filesystems.map((f) => ({ labels: { mount: f.mount }, value: f.totalBytes })),
    },
  ];

  const gpuFamilies = {
    util: family('sutazai_gpu_utilization_percent', 'gauge', 'GPU utilization as nvidia-smi reports it, 0..100.'),
    used: family('sutazai_gpu_memory_used_bytes', 'gauge', 'GPU memory in use.'),
    total: family('sutazai_gpu_memory_total_bytes', 'gauge', 'GPU memory in total.'),
    temp: family('sutazai_gpu_temperature_celsius', 'gauge', 'GPU core temperature.'),
  };
  for (const g of h.gpus) {
    const labels = { gpu: String(g.index), name: g.name };
    if (g.utilizationPercent !== null) gpuFamilies.util.series.push({ labels, value: g.utilizationPercent });
    if (g.memoryUsedBytes !== null) gpuFamilies.used.series.push({ labels, value: g.memoryUsedBytes });
    if (g.memoryTotalBytes !== null) gpuFamilies.total.series.push({ labels, value: g.memoryTotalBytes });
    if (g.temperatureC !== null) gpuFamilies.temp.series.push({ labels, value: g.temperatureC });
  }
  fams.push(gpuFamilies.util, gpuFamilies.used, gpuFamilies.total, gpuFamilies.temp);

  const proc = {
    up: family('sutazai_process_up', 'gauge', '1 when the instance has a running process, else 0.'),
    restarts: family(
      'sutazai_process_restarts_total',
      'counter',
      'Restarts of the instance, by reason: crash (it exited or failed its health check) or operator (asked for).',
    ),
    cpu: family('sutazai_process_cpu_percent', 'gauge', "CPU of the instance's process group over the last interval, percent of one core."),
    rss: family('sutazai_process_rss_bytes', 'gauge', "Resident memory of the instance's process group."),
    threads: family('sutazai_process_threads', 'gauge', "Threads in the instance's process group."),
    fds: family('sutazai_process_open_fds', 'gauge', "Open file descriptors in the instance's process group."),
    uptime: family('sutazai_process_uptime_seconds', 'gauge', 'Seconds since the instance last started.'),
    logDropped: family(
      'sutazai_process_log_dropped_lines_total',
      'counter',
      'Log lines of the instance the log collector could not write (disk full, log file unwritable), since the collector started.',
    ),
  };
  for (const i of sample.instances) {
    const labels = { sutazai_instance: i.instance, process: i.process };
    const isUp = i.pid !== null;
    proc.up.series.push({ labels, value: isUp ? 1 : 0 });
    // Every reason of the vocabulary (series-names.ts RESTART_REASONS), zeros included, so a sum over reasons is every restart.
    const byReason: Record<RestartReason, number> = { crash: i.restarts, operator: i.operatorRestarts };
    for (const [reason, value] of Object.entries(byReason)) proc.restarts.series.push({ labels: { ...labels, reason }, value });
    if (i.logDroppedLines !== undefined) proc.logDropped.series.push({ labels, value: i.logDroppedLines });
    if (!isUp) continue;
    proc.cpu.series.push({ labels, value: i.cpuPercent });
    proc.rss.series.push({ labels, value: i.rssBytes });
    proc.threads.series.push({ labels, value: i.threads });
    if (i.openFiles !== null) proc.fds.series.push({ labels, value: i.openFiles });
    if (i.uptimeMs !== null) proc.uptime.series.push({ labels, value: i.uptimeMs / 1000 });
  }
  fams.push(...Object.values(proc));
  return formatFamilies(fams);
}
