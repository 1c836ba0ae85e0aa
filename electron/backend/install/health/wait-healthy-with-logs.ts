import { ApiError } from '../../../contract';
import type { RuntimeTls } from '../../fleet/runtime-connection';
import type { HostLink } from '../remote/host-link';
import { lastLogLines } from './process-logs';
import type { ExpectedProcess } from '../render/render-manifest';
import { detachedDaemonLog } from '../render/render-service';
import type { FleetLinkRef } from './runtime-route';
import { HEALTH_CALL_TIMEOUT_MS, HealthTimeoutError, waitHealthy, type HealthPassed } from './wait-healthy';

export interface HealthGate {
  runtimeAddress: string;
  runtimePort: number;
  tls: RuntimeTls;
  /** The host's fleet link, through which the runtime is asked while it is up (else over the host's own session). */
  fleetLink: FleetLinkRef;
  expected: readonly ExpectedProcess[];
  timeoutMs: number;
  /** The release's log_dir, where each instance's log file is. */
  logDir: string;
  signal?: AbortSignal;
}

/**
 * The health gate of a release: waits until the runtime reports every expected process
 * running and healthy; when it does not in time, the error carries the last lines the
 * failing processes wrote (or the daemon's own output, when its API never answered), so
 * the operator reads why without logging in to the host. The answer says which way the
 * runtime was asked (the host's fleet link or the job's own session), for the job's log.
 */
export async function waitHealthyWithLogs(host: HostLink, gate: HealthGate): Promise<HealthPassed> {
  try {
    return await waitHealthy({
      route: {
        ...gate.fleetLink,
        hostName: host.row.name,
        session: host.session,
        channel: {
          runtimeAddress: gate.runtimeAddress,
          runtimePort: gate.runtimePort,
          tls: gate.tls,
          callTimeoutMs: HEALTH_CALL_TIMEOUT_MS,
        },
      },
      expected: gate.expected,
      timeoutMs: gate.timeoutMs,
      ...(gate.signal ? { signal: gate.signal } : {}),
    });
  } catch (error) {
    if (!(error instanceof HealthTimeoutError) || host.session.closed || host.session.lost !== null) throw error;
    const lines = await lastLogLines({
      shell: host.shell,
      asRoot: host.mode === 'system',
      logDir: gate.logDir,
      lockFile: `${host.layout.stateDir}/sutazai-runtime.lock`,
      instances: error.failing,
      daemon: error.answered ? null : { service: host.service, outFile: detachedDaemonLog({ ...host.layout, logDir: gate.logDir }) },
    });
    if (lines === '') throw error;
    throw new ApiError('INSTALL_UNHEALTHY', `${error.message}\n${lines}`, error.remedy, { cause: error });
  }
}
