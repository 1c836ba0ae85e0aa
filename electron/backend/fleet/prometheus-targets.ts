import { ApiError, type PrometheusTargetGroup, type PrometheusTargets, type PrometheusTargetSkip } from '../../contract';
import type { HostsRepo } from '../store/hosts-repo';
import type { InstallHostRow, InstallsRepo } from '../store/installs-repo';
import { isLoopback, isWildcard } from '../install/render/listen-addresses';
import { hostPort } from '../install/render/render-runtime-config';

/**
 * An install's runtimes as Prometheus file-based service discovery targets (issue 12,
 * item 8), from what the last apply wrote to each host: its merged configuration in the
 * store. Where a runtime serves /metrics on every interface, Prometheus is pointed at the
 * address the inventory reaches the host at; on one address, at that address. A runtime
 * that serves it on loopback only (the default) or not at all gets no target: a site's
 * Prometheus could not reach it, and a target that is always down hides the real ones.
 */
export interface PrometheusTargetsDeps {
  installs: Pick<InstallsRepo, 'findByName' | 'hosts'>;
  hosts: Pick<HostsRepo, 'get'>;
}

export function prometheusTargetsOf(deps: PrometheusTargetsDeps, installName: string): PrometheusTargets {
  const install = deps.installs.findByName(installName);
  if (!install)
    throw new ApiError(
      'NOT_FOUND',
      `There is no install named ${installName}.`,
      'Install it first; installs.list names the recorded installs.',
    );
  const groups: PrometheusTargetGroup[] = [];
  const skipped: PrometheusTargetSkip[] = [];
  const rows = deps.installs
    .hosts(install.id)
    .map((row) => ({ row, host: deps.hosts.get(row.hostId) }))
    .sort((a, b) => (a.host?.name ?? '').localeCompare(b.host?.name ?? ''));
  for (const { row, host } of rows) {
    if (!host) continue; // left the inventory: nothing to name it by or reach it at
    const metrics = metricsListenOf(row);
    if (metrics === null) {
      skipped.push({ host: host.name, reason: 'metrics-off', listen: null });
      continue;
    }
    const shown = hostPort(metrics.address, metrics.port);
    if (isLoopback(metrics.address)) {
      skipped.push({ host: host.name, reason: 'loopback-only', listen: shown });
      continue;
    }
    const address = isWildcard(metrics.address) ? host.address : metrics.address;
    groups.push({ targets: [hostPort(address, metrics.port)], labels: { install: install.name, host: host.name, role: row.role } });
  }
  if (groups.length === 0) throw noTargetsError(install.name, skipped);
  return { install: install.name, groups, skipped };
}

function noTargetsError(installName: string, skipped: PrometheusTargetSkip[]): ApiError {
  const why =
    skipped.length === 0
      ? 'it has no hosts'
      : skipped.every((s) => s.reason === 'metrics-off')
        ? 'its runtimes serve no /metrics (system_integration.monitoring.metrics_collection is none)'
        : `its runtimes serve /metrics on loopback only (${[...new Set(skipped.map((s) => s.listen ?? 'off'))].join(', ')})`;
  return new ApiError(
    'PROMETHEUS_TARGETS_NONE',
    `Install ${installName} has nothing a Prometheus elsewhere can scrape: ${why}.`,
    `To let a site's Prometheus scrape it, set runtime.metrics_listen_address to the host address it should reach (or 0.0.0.0 for every interface) and system_integration.monitoring.metrics_collection to prometheus in the install's configuration, then apply the install again. /metrics has no TLS and no authentication: open it only to a network you trust.`,
  );
}

/** /metrics as the host's runtime was configured by the last apply; null when off. */
function metricsListenOf(row: InstallHostRow): { address: string; port: number } | null {
  const config = JSON.parse(row.config) as {
    system_integration?: { monitoring?: { metrics_collection?: unknown } };
    runtime?: { listen_address?: unknown; metrics_listen_address?: unknown; metrics_port?: unknown };
  };
  if (config.system_integration?.monitoring?.metrics_collection !== 'prometheus') return null;
  const runtime = config.runtime ?? {};
  // Applied before metrics_listen_address existed: /metrics followed the gRPC listen address.
  const address =
    typeof runtime.metrics_listen_address === 'string'
      ? runtime.metrics_listen_address
      : typeof runtime.listen_address === 'string'
        ? runtime.listen_address
        : '127.0.0.1';
  const port = typeof runtime.metrics_port === 'number' ? runtime.metrics_port : 9464;
  return { address, port };
}
