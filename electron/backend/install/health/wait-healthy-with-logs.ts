import { ApiError } from '../../../contract';
import type { RuntimeTls } from '../../fleet/runtime-connection';
import type { HostLink } from '../remote/host-link';
import { lastLogLines } from './process-logs';
import type { ExpectedProcess } from '../render/render-manifest';
import { detachedDaemonLog } from '../render/render-service';
import { HealthTimeoutError, waitHealthy } from './wait-healthy';

export interface HealthGate {
  runtimeAddress: string;
  runtimePort: number;
  tls: RuntimeTls;
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
 * the operator reads why without logging in to the host.
 */
export async function waitHealthyWithLogs(host: HostLink, gate: HealthGate): Promise<string> {
  try {
    return await waitHealthy({
      session: host.session,
      runtimeAddress: gate.runtimeAddress,
      runtimePort: gate.runtimePort,
      tls: gate.tls,
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
