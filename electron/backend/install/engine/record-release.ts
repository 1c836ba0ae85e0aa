import path from 'node:path';
import type { HostReleasesRepo } from '../../store/host-releases-repo';
import type { HostRow } from '../../store/hosts-repo';
import type { InstallRow, InstallsRepo } from '../../store/installs-repo';
import { asInstallError } from '../install-errors';
import type { PreparedHost } from '../plan/prepare-host';
import { runChangingScript } from '../remote/host-link';
import { pruneReleasesScript, releasesToPrune } from '../steps/prune-releases';
import type { StepRun } from './run-host-steps';

export interface RecordReleaseDeps {
  installs: Pick<InstallsRepo, 'host' | 'removeCreatedPaths'>;
  releases: Pick<HostReleasesRepo, 'markCurrent' | 'ofHost' | 'remove'>;
  transaction<T>(fn: () => T): T;
  now: () => number;
  logger?: { warn(o: object, m: string): void };
}

/**
 * Apply's last step: the release is recorded as the host's current one, then the releases
 * beyond install.releases_kept go. A failed pruning is said, not failed: the release runs.
 */
export async function recordRelease(
  deps: RecordReleaseDeps,
  install: InstallRow,
  row: HostRow,
  host: PreparedHost,
  bundle: { version: string; sha256: string },
): Promise<StepRun> {
  deps.releases.markCurrent({
    hostId: row.id,
    installId: install.id,
    version: bundle.version,
    bundleSha256: bundle.sha256,
    path: host.release.dir,
    installedAt: deps.now(),
  });
  const detail = `${bundle.version} is current on ${row.name}`;
  const pruned = await pruneHost(deps, install, row, host).catch((error: unknown) => {
    deps.logger?.warn({ err: error, host: row.name }, 'pruning old releases failed');
    return `; removing old releases failed (${asInstallError(error, 'Apply again').message.split('\n')[0]!}), they stay on disk`;
  });
  return { detail: `${detail}${pruned}`, output: `recorded ${host.release.dir} as the current release${pruned}`, created: [] };
}

/**
 * Removes the releases beyond install.releases_kept (never the current or the previous
 * one): those recorded for the host, and release directories the install made but never
 * recorded (an upgrade stopped before its switch), the oldest first.
 */
async function pruneHost(deps: RecordReleaseDeps, install: InstallRow, row: HostRow, host: PreparedHost): Promise<string> {
  const recorded = deps.releases.ofHost(row.id).filter((r) => r.installId === install.id);
  const known = new Set(recorded.map((r) => r.path));
  const created = deps.installs.host(install.id, row.id)?.createdPaths ?? [];
  const unrecorded = created
    .filter((p) => path.posix.dirname(p) === host.layout.releases && !known.has(p) && p !== host.release.dir)
    .map((p) => ({
      hostId: row.id,
      installId: install.id,
      version: path.posix.basename(p),
      bundleSha256: '',
      path: p,
      state: 'failed' as const,
      installedAt: 0,
    }));
  const prune = releasesToPrune([...recorded, ...unrecorded], host.config.install.releases_kept);
  if (prune.length === 0) return '';
  const versions = prune.map((r) => r.version).sort(byVersion);
  const run = await runChangingScript(host, 'record', pruneReleasesScript(host.layout, versions), {
    timeoutMs: 300_000,
    remedy: 'Remove the old release directories by hand, or apply again.',
  });
  const removed = run.removed;
  deps.transaction(() => {
    for (const r of prune) deps.releases.remove(row.id, r.version);
    deps.installs.removeCreatedPaths(
      install.id,
      row.id,
      prune.map((r) => r.path),
      deps.now(),
    );
  });
  return `; removed ${versions.length === 1 ? 'release' : 'releases'} ${versions.join(', ')} (install.releases_kept ${host.config.install.releases_kept})${removed.length === 0 ? ', already gone from the host' : ''}`;
}

/** Versions in their natural order: 0.9.0 before 0.10.0. */
function byVersion(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
