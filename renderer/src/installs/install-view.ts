import type { InstallJobSummary, InstallRecord } from '../../../electron/contract';
import { rollbackTarget } from '../../../electron/contract/rollback-target';

/** What the install pages say of a recorded install, worked out from what the store recorded. */

type InstallHost = InstallRecord['hosts'][number];

/** The release a host runs now, as the store recorded it. */
export function currentRelease(host: InstallHost): string | null {
  return host.releases.find((r) => r.state === 'current')?.version ?? null;
}

/**
 * What the install runs, from its hosts' current releases rather than the bundle last
 * applied (a rollback runs an older release than that): "runs sutazai 1.0.0", or each
 * host's where they differ (a rollout that stopped, one host rolled back).
 */
export function runningText(install: Pick<InstallRecord, 'bundle' | 'hosts'>): string {
  const running = install.hosts.flatMap((host) => {
    const version = currentRelease(host);
    return version === null ? [] : [{ host: host.hostName, version }];
  });
  if (running.length === 0) return 'no release running yet';
  const versions = [...new Set(running.map((r) => r.version))];
  const product = install.bundle ? `${install.bundle.name} ` : '';
  if (versions.length === 1) return `runs ${product}${versions[0]}`;
  return `runs ${product}${running.map((r) => `${r.version} on ${r.host}`).join(', ')}`;
}

export interface RollbackChoices {
  /** Every chosen host has a previous release to return to: the dialog's default. */
  previous: boolean;
  /** Releases every chosen host keeps that are not current on all of them: the ones that can be named. */
  versions: string[];
}

/**
 * What a rollback of the install (or of one host) can go to, by the backend's own rule
 * (rollbackTarget): nothing at all means Roll back is not offered.
 */
export function rollbackChoices(install: Pick<InstallRecord, 'hosts'>, host?: string): RollbackChoices {
  const hosts = install.hosts.filter((h) => host === undefined || h.hostName === host);
  if (hosts.length === 0) return { previous: false, versions: [] };
  const versions = [...new Set(hosts.flatMap((h) => h.releases.map((r) => r.version)))].filter(
    (version) =>
      hosts.every((h) => rollbackTarget(h.releases, version) !== null) &&
      !hosts.every((h) => h.releases.some((r) => r.version === version && r.state === 'current')),
  );
  return { previous: hosts.every((h) => rollbackTarget(h.releases) !== null), versions };
}

export function canRollBack(choices: RollbackChoices): boolean {
  return choices.previous || choices.versions.length > 0;
}

/** "4 of 10 steps done", and where a host stopped: a failed step and the ones after it are not done. */
export function stepsDoneText(done: number, total: number, stoppedAt: string | null): string {
  return `${done} of ${total} steps done${stoppedAt === null ? '' : `, stopped at ${stoppedAt}`}`;
}

/**
 * The job to show instead of the one followed, when the install was run again since (in
 * another window, or another tab with the same wizard draft): the newest job of its kind,
 * if that is another and started no earlier. Null when the followed job is the newest.
 */
export function laterJobOf(
  followed: Pick<InstallJobSummary, 'jobId' | 'startedAt'>,
  newest: Pick<InstallJobSummary, 'jobId' | 'startedAt'> | undefined,
): string | null {
  if (newest === undefined || newest.jobId === followed.jobId || newest.startedAt < followed.startedAt) return null;
  return newest.jobId;
}
