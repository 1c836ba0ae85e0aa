import type { ApiError } from '../../../contract';
import type { RuntimeTls } from '../../fleet/runtime-connection';
import type { HostReleasesRepo } from '../../store/host-releases-repo';
import type { InstallsRepo } from '../../store/installs-repo';
import { asInstallError, autoRollbackFailedError, autoRolledBackError, type FailedSwitch, type ReturnTarget } from '../install-errors';
import type { RouteLinks } from '../health/runtime-route';
import type { PreparedHost } from '../plan/prepare-host';
import { activateRelease, RETURN_HEALTH_FLOOR_SECONDS } from './activate-release';
import type { InstallEvent } from './install-steps';
import type { ServedCertificates } from './record-served-certificate';

export interface AutoRollbackDeps {
  installs: Pick<InstallsRepo, 'upsertHost' | 'addCreatedPaths' | 'setHostState'>;
  releases: Pick<HostReleasesRepo, 'current' | 'markCurrent' | 'markFailed'>;
  transaction<T>(fn: () => T): T;
  now: () => number;
  /** Where the certificate the returned release serves is recorded, for the certificate-expiry alert. */
  runtimeCertificates: ServedCertificates;
}

export interface AutoRollbackInput {
  host: PreparedHost;
  installId: number;
  installName: string;
  /** The bundle the failed release was unpacked from. */
  bundleSha256: string;
  /** The release that failed on the host, at which step and why. */
  failed: FailedSwitch;
  to: ReturnTarget;
  /** The host's configuration as the store kept it before this apply: a configuration return puts it back on the record. */
  recordedConfig: string;
  tls: RuntimeTls;
  /** The fleet's links (a serving backend's), through which the health gate asks while the host's is up; null without. */
  links: RouteLinks | null;
  signal: AbortSignal | undefined;
  emit(event: InstallEvent): void;
}

/**
 * A switch step failed once the running release was touched: the host goes back to what it
 * ran, health-gated like any activation (a release that ran healthy before gets at least
 * RETURN_HEALTH_FLOOR_SECONDS). Either the release it ran before (its binaries,
 * configuration and service; the failed one is recorded as failed), or, when the failure
 * was a new configuration of the release that runs, that release's earlier etc/ (kept by
 * configure) with its runtime restarted; the host's recorded configuration stays the
 * earlier one. The host is left `failed` either way; the answer is the error its result
 * carries: INSTALL_ROLLED_BACK once it is healthy again, INSTALL_ROLLBACK_FAILED when the
 * return failed too.
 */
export async function autoRollback(deps: AutoRollbackDeps, input: AutoRollbackInput): Promise<ApiError> {
  const { host, installId, failed, to } = input;
  const row = host.row;
  // The release that runs once the host is back.
  const runs = to.kind === 'release' ? to.previous : failed.version;
  const failedRelease = {
    hostId: row.id,
    installId,
    version: failed.version,
    bundleSha256: input.bundleSha256,
    path: host.release.dir,
    installedAt: deps.now(),
  };
  if (to.kind === 'configuration') {
    deps.installs.upsertHost({ installId, hostId: row.id, role: host.entry.role, gpu: host.gpu, config: input.recordedConfig }, deps.now());
  }
  try {
    const activated = await activateRelease({
      host,
      installName: input.installName,
      version: runs,
      tls: input.tls,
      fleetLink: { links: input.links, hostId: row.id, installName: input.installName, job: 'apply' },
      servedCertificate: { certificates: deps.runtimeCertificates, now: deps.now },
      ...(to.kind === 'configuration' ? { restorePreviousConfig: true } : {}),
      healthTimeoutMs: Math.max(host.config.install.health_timeout_seconds, RETURN_HEALTH_FLOOR_SECONDS) * 1000,
      ...(input.signal ? { signal: input.signal } : {}),
      onStep: (step, status, detail) =>
        input.emit({ kind: 'activate', host: row.name, purpose: 'auto-rollback', version: runs, step, status, detail }),
    });
    deps.installs.addCreatedPaths(installId, row.id, activated.created, deps.now());
    if (to.kind === 'release') {
      deps.transaction(() => {
        deps.releases.markFailed(failedRelease);
        if (deps.releases.current(row.id)?.version !== to.previous) {
          deps.releases.markCurrent({
            hostId: row.id,
            installId,
            version: to.previous,
            bundleSha256: activated.bundleSha256,
            path: activated.releaseDir,
            installedAt: deps.now(),
          });
        }
      });
    }
    input.emit({
      kind: 'activate',
      host: row.name,
      purpose: 'auto-rollback',
      version: runs,
      step: 'record',
      status: 'done',
      detail:
        to.kind === 'release'
          ? `${to.previous} is current again; ${failed.version} is recorded as failed`
          : `${failed.version} runs with its earlier configuration again`,
    });
    deps.installs.setHostState(installId, row.id, 'failed', deps.now());
    return autoRolledBackError(failed, to, activated.health);
  } catch (rollbackError) {
    const why = asInstallError(rollbackError, 'Apply again');
    if (to.kind === 'release') deps.releases.markFailed(failedRelease);
    deps.installs.setHostState(installId, row.id, 'failed', deps.now());
    return autoRollbackFailedError(failed, to, why);
  }
}
