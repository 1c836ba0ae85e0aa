/**
 * The Prometheus side of the fleet benchmark (fleet.bench.ts), made to do the work ours does
 * so that the CPU figures compare like with like:
 *   - it scrapes every runtime's /metrics every second (as our links stream one sample a second);
 *   - it evaluates the shipped alert rules (config/alerts/default.yaml) written as PromQL, every
 *     10 s as ours does (fleet-alerts.ts ALERT_EVALUATION_INTERVAL_MS), over the runtimes' series
 *     and over this machine's;
 *   - Debian's node_exporter samples this machine and is scraped every second, as our backend
 *     samples its own host every second (host-sampler.ts): the same sources only (CPU, load,
 *     memory, disk I/O, network, filesystems), none of its other collectors, none of its own Go
 *     metrics.
 * What ours does and theirs cannot: CertificateExpiring (ours reads the recorded certificates;
 * Prometheus would need a blackbox exporter probing each runtime's TLS), and the crash-loop rule
 * is the runtime's state in ours but a restart rate here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The shipped rules as Prometheus rules: the same names, thresholds and `for:` durations. */
export const PROMETHEUS_RULES = [
  'groups:',
  '  - name: sutazai-default',
  '    interval: 10s',
  '    rules:',
  '      - alert: ProcessCrashLoop',
  '        expr: increase(sutazai_process_restarts_total{reason="crash"}[1m]) >= 3',
  '        labels: { severity: critical }',
  '      - alert: ProcessRestartingOften',
  '        expr: sum by (instance, sutazai_instance) (increase(sutazai_process_restarts_total[15m])) > 5',
  '        labels: { severity: warning }',
  '      - alert: HostOffline',
  '        expr: up{job="sutazai-runtime"} == 0',
  '        for: 5m',
  '        labels: { severity: critical }',
  '      - alert: FilesystemAlmostFull',
  '        expr: 100 * sutazai_host_filesystem_used_bytes / sutazai_host_filesystem_size_bytes > 90',
  '        for: 5m',
  '        labels: { severity: warning }',
  '      - alert: MemoryHigh',
  '        expr: 100 * sutazai_host_memory_used_bytes / sutazai_host_memory_total_bytes > 90',
  '        for: 5m',
  '        labels: { severity: warning }',
  '      - alert: GpuHot',
  '        expr: sutazai_gpu_temperature_celsius > 85',
  '        for: 2m',
  '        labels: { severity: warning }',
  // Ours evaluates the same rules over its own machine's series.
  '      - alert: LocalFilesystemAlmostFull',
  '        expr: 100 * (1 - node_filesystem_avail_bytes / node_filesystem_size_bytes) > 90',
  '        for: 5m',
  '        labels: { severity: warning }',
  '      - alert: LocalMemoryHigh',
  '        expr: 100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) > 90',
  '        for: 5m',
  '        labels: { severity: warning }',
].join('\n');
/** The rules above, for the check that Prometheus loaded them all. */
export const PROMETHEUS_RULE_COUNT = 8;

/** node_exporter's collectors that read what host-sampler.ts reads, and nothing else. */
const NODE_EXPORTER_ARGS = [
  '--collector.disable-defaults',
  '--collector.cpu',
  '--collector.loadavg',
  '--collector.meminfo',
  '--collector.diskstats',
  '--collector.netdev',
  '--collector.filesystem',
  '--web.disable-exporter-metrics',
];

/**
 * Of node_exporter's series, those that match ours of the local machine (host-sampler.ts: CPU
 * overall and per core, load, memory and swap, disk and network bytes, each filesystem's size
 * and use): the rest (every other meminfo field, disk and network counters ours does not keep)
 * is dropped before Prometheus stores it, so both sides store about the same series. node_exporter
 * still reads and writes them all: its collectors cannot be narrowed to fields.
 */
const NODE_SERIES_KEPT = [
  'node_cpu_seconds_total',
  'node_load1',
  'node_load5',
  'node_load15',
  'node_memory_MemTotal_bytes',
  'node_memory_MemAvailable_bytes',
  'node_memory_SwapTotal_bytes',
  'node_memory_SwapFree_bytes',
  'node_disk_read_bytes_total',
  'node_disk_written_bytes_total',
  'node_network_receive_bytes_total',
  'node_network_transmit_bytes_total',
  'node_filesystem_size_bytes',
  'node_filesystem_avail_bytes',
].join('|');

export interface PrometheusSide {
  prometheus: ChildProcess;
  nodeExporter: ChildProcess;
}

function reportExit(child: ChildProcess, name: string, quiet: () => boolean): void {
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-4000)));
  child.on('exit', (code, signal) => {
    if (!quiet()) console.error(`${name} exited (${code ?? signal}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
  });
}

/**
 * Starts node_exporter on 127.0.0.1:`exporterPort` and Prometheus on 127.0.0.1:`port`,
 * scraping `targets` (host:port of each runtime's /metrics) and node_exporter every second
 * with the rules above. `quiet()` is true once the benchmark is stopping them itself.
 */
export function startPrometheusSide(
  dir: string,
  ports: { prometheus: number; nodeExporter: number },
  targets: string[],
  quiet: () => boolean,
): PrometheusSide {
  const config = path.join(dir, 'prometheus.yml');
  const rules = path.join(dir, 'rules.yml');
  fs.writeFileSync(rules, PROMETHEUS_RULES + '\n');
  fs.writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 10s }',
      `rule_files: [${JSON.stringify(rules)}]`,
      'scrape_configs:',
      '  - job_name: sutazai-runtime',
      `    static_configs: [{ targets: [${targets.map((t) => `'${t}'`).join(', ')}] }]`,
      '  - job_name: node',
      `    static_configs: [{ targets: ['127.0.0.1:${ports.nodeExporter}'] }]`,
      `    metric_relabel_configs: [{ source_labels: [__name__], regex: '${NODE_SERIES_KEPT}', action: keep }]`,
    ].join('\n') + '\n',
  );
  const nodeExporter = spawn('prometheus-node-exporter', [...NODE_EXPORTER_ARGS, `--web.listen-address=127.0.0.1:${ports.nodeExporter}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  reportExit(nodeExporter, 'node_exporter', quiet);
  const prometheus = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${ports.prometheus}`,
      '--web.enable-admin-api',
      '--storage.tsdb.retention.time=1d',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  reportExit(prometheus, 'prometheus', quiet);
  return { prometheus, nodeExporter };
}

/** How many alerting rules Prometheus has loaded and evaluated at least once (NaN when it cannot say). */
export async function evaluatedRules(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/rules?type=alert`);
  const body = (await response.json()) as { data?: { groups?: Array<{ lastEvaluation?: string; rules?: unknown[] }> } };
  const groups = body.data?.groups;
  if (groups === undefined) return NaN;
  // A group never evaluated reports the zero time.
  return groups
    .filter((g) => g.lastEvaluation !== undefined && !g.lastEvaluation.startsWith('0001'))
    .reduce((n, g) => n + (g.rules?.length ?? 0), 0);
}
