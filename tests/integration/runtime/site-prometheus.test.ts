// A site's own monitoring against real components (issue 12, item 8): the runtime's
// metrics service sampling this machine's /proc and a real child instance, its /metrics
// HTTP endpoint, `sutazai prometheus-targets` writing file_sd targets from a recorded
// install, Debian's real Prometheus scraping through them, and the Grafana dashboard in
// resources/grafana/ checked against both the exposition and Prometheus's own query engine.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetricsHttp, type MetricsHttp } from '../../../agents-runtime/src/metrics/metrics-http';
import { createMetricsService, type MetricsService } from '../../../agents-runtime/src/metrics/metrics-service';
import type { MetricSample } from '../../../agents-runtime/src/metrics/metric-sample';
import { openStore } from '../../../electron/backend/store/open-store';
import { freePort } from '../../support/free-ports';
import { seedRecordedInstalls } from '../../support/recorded-installs';
import { runSutazaiAsync } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const PROMETHEUS = '/usr/bin/prometheus';
const DASHBOARD = path.resolve(__dirname, '../../../resources/grafana/sutazai-runtimes.json');
const INSTALL = 'site';
const HOST = 'site-host-1';
/** Labels Prometheus gives every series of a file_sd target: the target's own and ours. */
const TARGET_LABELS = new Set(['instance', 'job', 'install', 'host', 'role']);

const tmp = makeTempDir('sutazai-site-prometheus-');
const waitFor = makeWaitFor({ timeoutMs: 60_000, pollMs: 250, retryErrors: true });
let service: MetricsService;
let http: MetricsHttp;
let instance: ChildProcess;
let prometheus: ChildProcess | null = null;
let prometheusLog = '';
let promBase = '';
let exposition = '';
let targetsFile = '';

interface Dashboard {
  templating: { list: Array<{ name: string; type: string; query: unknown; definition?: string }> };
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string; legendFormat?: string }> }>;
}
const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const expressions = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr, legend: t.legendFormat ?? '' })),
);
const variableQueries = dashboard.templating.list.filter((v) => v.type === 'query').map((v) => ({ name: v.name, query: v.definition! }));

/** Each family of an exposition and the label names its series carry. */
function familiesOf(text: string): Map<string, Set<string>> {
  const families = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type) families.set(type[1]!, new Set());
    const series = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (series && !line.startsWith('#')) {
      const labels = families.get(series[1]!);
      expect(labels, `series ${series[1]} without its # TYPE`).toBeDefined();
      for (const m of (series[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels!.add(m[1]!);
    }
  }
  return families;
}

/** What a PromQL expression names: metrics (identifiers that are not labels, functions or keywords) and labels (in matchers and by/without). */
function namesIn(expr: string): { metrics: string[]; labels: string[] } {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const labels = [...bare.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!);
  for (const group of bare.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g))
    labels.push(
      ...group[1]!
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    );
  const withoutGroups = bare
    .replace(/\b(?:by|without)\s*\([^)]*\)/g, '')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]');
  const metrics = [...withoutGroups.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((n) => n.startsWith('sutazai_'));
  return { metrics, labels };
}

/** The dashboard's variables as Grafana would set them with one install, one host and every process. */
function substituted(expr: string): string {
  return expr.replaceAll('$install', INSTALL).replaceAll('$host', HOST).replaceAll('$process', '.*');
}

async function promApi<T>(pathAndQuery: string): Promise<T> {
  const res = await fetch(`${promBase}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${pathAndQuery}: ${body.error}`);
  return body.data;
}

type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>;
const query = (expr: string) => promApi<{ resultType: string; result: Vector }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);

beforeAll(async () => {
  // A supervised instance as the runtime starts one: the leader of its own process group.
  instance = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
  const startedAtMs = Date.now();
  service = createMetricsService({
    intervalMs: 200,
    gpu: false,
    processes: () => [
      { instance: 'agent-1', process: 'agent', pid: instance.pid!, restarts: 1, startedAtMs },
      { instance: 'core-1', process: 'core', pid: null, restarts: 3, startedAtMs: null },
    ],
  });
  service.start();
  // This machine has no GPU: one is added to each real sample so the GPU families (and
  // the dashboard's GPU panels) are exposed and checked like the others.
  const withGpu = (sample: MetricSample | null): MetricSample | null =>
    sample === null || sample.host.gpus.length > 0
      ? sample
      : {
          ...sample,
          host: {
            ...sample.host,
            gpus: [
              { index: 0, name: 'Test GPU', utilizationPercent: 40, memoryUsedBytes: 2 ** 30, memoryTotalBytes: 2 ** 34, temperatureC: 55 },
            ],
          },
        };
  await waitFor('a sample', () => service.latest());
  // Served on every interface, as runtime.metrics_listen_address 0.0.0.0 makes the runtime do.
  http = await startMetricsHttp({
    host: '0.0.0.0',
    port: 0,
    metrics: { freshSample: () => withGpu(service.freshSample()) },
    healthy: () => true,
  });
  exposition = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
}, 60_000);

afterAll(async () => {
  prometheus?.kill('SIGKILL');
  await http?.close();
  service?.stop();
  try {
    process.kill(-instance.pid!, 'SIGKILL');
  } catch {
    // gone
  }
  tmp.remove();
});

describe('the Grafana dashboard (resources/grafana/)', () => {
  it('names only metric families, and labels, that the runtime exposes', () => {
    const families = familiesOf(exposition);
    expect(families.size).toBeGreaterThan(20);
    expect(expressions.length).toBeGreaterThan(15);
    const named = new Set<string>();
    for (const { panel, expr, legend } of [
      ...expressions,
      ...variableQueries.map((v) => ({ panel: `variable ${v.name}`, expr: v.query, legend: '' })),
    ]) {
      const { metrics, labels } = namesIn(expr);
      expect(metrics.length, `${panel}: ${expr} names no metric`).toBeGreaterThan(0);
      const exposedLabels = new Set([...TARGET_LABELS]);
      for (const metric of metrics) {
        expect(families.has(metric), `${panel}: ${metric} is not in the runtime's /metrics`).toBe(true);
        for (const l of families.get(metric)!) exposedLabels.add(l);
        named.add(metric);
      }
      for (const label of [...labels, ...[...legend.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)].map((m) => m[1]!)])
        expect(exposedLabels.has(label), `${panel}: label ${label} is on none of ${metrics.join(', ')}`).toBe(true);
    }
    // Every family the runtime exposes is on the dashboard.
    expect([...families.keys()].filter((f) => !named.has(f))).toEqual([]);
  });

  it('has a data source variable every panel and query uses', () => {
    const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const text = JSON.stringify(dashboard.panels);
    expect(text).not.toMatch(/"uid":\s*"(?!\$\{datasource\})/);
  });

  it('the name checker is real: it refuses a family the runtime does not expose and the old instance label', () => {
    expect(namesIn('sum by (install) (sutazai_process_rss_bytes{instance="agent-1"})')).toEqual({
      metrics: ['sutazai_process_rss_bytes'],
      labels: ['instance', 'install'],
    });
    expect(familiesOf(exposition).has('sutazai_process_memory_bytes')).toBe(false);
    expect(familiesOf(exposition).get('sutazai_process_rss_bytes')!.has('instance')).toBe(false);
  });
});

describe('a real Prometheus scraping through `sutazai prometheus-targets`', () => {
  it('writes file_sd targets from the recorded install, and Prometheus keeps sutazai_instance (no exported_instance) and answers every dashboard query', async () => {
    const dataDir = path.join(tmp.path, 'data');
    fs.mkdirSync(dataDir);
    const store = openStore({ dataDir });
    try {
      // This machine stands for the host, reached as a site's Prometheus would reach it.
      seedRecordedInstalls(store.db, [
        {
          name: INSTALL,
          config: `runtime: { metrics_listen_address: 0.0.0.0, metrics_port: ${http.port} }\n`,
          hosts: [{ name: HOST, address: '127.0.0.1', state: 'installed' }],
        },
        { name: 'quiet', hosts: [{ name: 'quiet-1', address: '127.0.0.1', state: 'installed' }] },
      ]);
    } finally {
      store.close();
    }

    targetsFile = path.join(tmp.path, 'sutazai-site.json');
    const wrote = await runSutazaiAsync(['prometheus-targets', '--install', INSTALL, '--out', targetsFile], dataDir);
    expect(wrote.stderr).toBe('');
    expect([wrote.code, wrote.stdout.trim()]).toEqual([0, `wrote 1 target of install ${INSTALL} to ${targetsFile}`]);
    expect(JSON.parse(fs.readFileSync(targetsFile, 'utf8'))).toEqual([
      { targets: [`127.0.0.1:${http.port}`], labels: { install: INSTALL, host: HOST, role: 'both' } },
    ]);
    // The default, loopback only, is refused with the key that opens it.
    const refused = await runSutazaiAsync(['prometheus-targets', '--install', 'quiet'], dataDir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error PROMETHEUS_TARGETS_NONE: Install quiet has nothing a Prometheus elsewhere can scrape');
    expect(refused.stderr).toContain('runtime.metrics_listen_address');

    const webPort = await freePort();
    promBase = `http://127.0.0.1:${webPort}`;
    const configFile = path.join(tmp.path, 'prometheus.yml');
    fs.writeFileSync(
      configFile,
      [
        'global: { scrape_interval: 1s, scrape_timeout: 900ms }',
        'scrape_configs:',
        '  - job_name: sutazai',
        '    file_sd_configs:',
        `      - files: [${JSON.stringify(targetsFile)}]`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(tmp.path, 'tsdb')}`, `--web.listen-address=127.0.0.1:${webPort}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.stderr!.on('data', (d: Buffer) => (prometheusLog = (prometheusLog + d.toString()).slice(-4000)));

    const scraped = await waitFor(`Prometheus scraping the target (log: ${prometheusLog.slice(-500)})`, async () => {
      const up = await query(`up{install="${INSTALL}"}`);
      return up.result.length === 1 && up.result[0]!.value[1] === '1' ? up.result[0]! : null;
    });
    expect(scraped.metric).toMatchObject({
      instance: `127.0.0.1:${http.port}`,
      job: 'sutazai',
      install: INSTALL,
      host: HOST,
      role: 'both',
    });

    const rss = await waitFor('agent-1 scraped', async () => {
      const r = await query('sutazai_process_rss_bytes{sutazai_instance="agent-1"}');
      return r.result.length === 1 ? r.result[0]! : null;
    });
    expect(rss.metric).toEqual({
      __name__: 'sutazai_process_rss_bytes',
      sutazai_instance: 'agent-1',
      process: 'agent',
      instance: `127.0.0.1:${http.port}`,
      job: 'sutazai',
      install: INSTALL,
      host: HOST,
      role: 'both',
    });
    const renamed = await promApi<string[]>('/api/v1/label/exported_instance/values');
    expect(renamed).toEqual([]);

    // Every panel's query parses in Prometheus and returns series for this install and host
    // (increase() needs two scrapes: waited for, in order, not timed).
    for (const { panel, expr } of expressions) {
      const result = await waitFor(`${panel}: ${expr}`, async () => {
        const r = await query(substituted(expr));
        return r.result.length > 0 ? r.result : null;
      });
      for (const series of result) if ('host' in series.metric) expect(series.metric.host).toBe(HOST);
    }
    for (const { name, query: q } of variableQueries) {
      const m = /^label_values\((.*),\s*([a-zA-Z_]+)\)$/.exec(q);
      expect(m, `variable ${name}: ${q}`).not.toBeNull();
      const values = await promApi<string[]>(
        `/api/v1/label/${m![2]}/values?match[]=${encodeURIComponent(substituted(m![1]!).replace('=~"$install"', `=~"${INSTALL}"`))}`,
      );
      expect(values.length, `variable ${name} has no values`).toBeGreaterThan(0);
    }
  }, 180_000);
});
