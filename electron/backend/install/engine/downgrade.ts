import { ApiError } from '../../../contract';
import { compareVersions, parseVersion } from '../../bundles/version-range';

/**
 * A bundle older than what a host runs is a downgrade, never a "rolling upgrade": applying
 * it is refused unless the operator named it as one (sutazai apply --allow-downgrade, the
 * API's allowDowngrade, the app's typed confirmation). An older signed bundle is still a
 * signed bundle; what makes it dangerous is installing it without anyone noticing (the
 * release it replaces may have fixed a hole the older one has).
 */

/** Semantic version precedence (1.0.0-rc.1 before 1.0.0); text order for anything that is not a version. */
export function compareReleases(a: string, b: string): number {
  const [va, vb] = [parseVersion(a), parseVersion(b)];
  if (va && vb) return compareVersions(va, vb);
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The releases among `running` newer than `version`, oldest first, each once. */
export function releasesNewerThan(running: Iterable<string | null | undefined>, version: string): string[] {
  const newer = new Set<string>();
  for (const release of running) if (release && compareReleases(release, version) > 0) newer.add(release);
  return [...newer].sort(compareReleases);
}

export function downgradeRefusedError(install: string, bundle: string, newer: readonly string[]): ApiError {
  const version = bundle.slice(bundle.lastIndexOf('@') + 1);
  return new ApiError(
    'INSTALL_DOWNGRADE_REFUSED',
    `${bundle} is older than ${newer.join(' and ')}, which ${install} runs: installing it is a downgrade, and a downgrade is only done when asked for by name; nothing was changed.`,
    `To go back to a release the hosts keep, roll back instead. To install ${bundle} anyway, confirm the downgrade: sutazai apply --allow-downgrade, allowDowngrade: true in the API, or "Downgrade to ${version}" on the Installs page.`,
  );
}
