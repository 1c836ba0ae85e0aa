import type { HostRelease } from './installs';

type KeptRelease = Pick<HostRelease, 'version' | 'state' | 'installedAt'>;

/**
 * The release a rollback takes one host to: the one asked for when the host keeps it, or
 * else its previous release (the newest one that was current before the current one);
 * null when there is none. One rule for the backend, which refuses a rollback with no
 * target before any job starts, and for a window, which offers Roll back only where it
 * has one.
 */
export function rollbackTarget(releases: readonly KeptRelease[], to?: string): string | null {
  if (to !== undefined) return releases.some((r) => r.version === to) ? to : null;
  const previous = releases.filter((r) => r.state === 'previous').sort((a, b) => b.installedAt - a.installedAt)[0];
  return previous?.version ?? null;
}

/** A host's kept releases as a refusal lists them: "1.0.0 (previous), 1.1.0 (current)", in version order. */
export function describeKeptReleases(releases: readonly KeptRelease[]): string {
  return (
    [...releases]
      .sort((a, b) => a.version.localeCompare(b.version, 'en', { numeric: true }))
      .map((r) => `${r.version} (${r.state})`)
      .join(', ') || 'none'
  );
}
