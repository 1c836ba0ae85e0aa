import type { BundleSummary } from '../../../electron/contract';
import { useApiQuery } from '../api/queries';
import { hrefFor } from '../router/route';

/** Versions in their natural order (0.9.0 before 0.10.0), as the backend compares them. */
function byVersion(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * After an import: each install of the same product running an older release, with a link
 * to its upgrade; and each running a newer one, with a link named as what it is, a downgrade.
 */
export function UpgradeLinks({ bundle }: { bundle: BundleSummary }) {
  const installs = useApiQuery('installs.list', {});
  const runs = (installs.data ?? []).flatMap((install) => {
    if (install.bundle?.name !== bundle.name) return [];
    const current = install.hosts.flatMap((h) => h.releases.filter((r) => r.state === 'current').map((r) => r.version)).sort(byVersion);
    return current.length > 0 ? [{ name: install.name, oldest: current[0]!, newest: current.at(-1)! }] : [];
  });
  const older = runs.filter((install) => byVersion(bundle.version, install.oldest) > 0 && byVersion(bundle.version, install.newest) >= 0);
  const newer = runs.filter((install) => byVersion(bundle.version, install.newest) < 0);
  if (older.length === 0 && newer.length === 0) return null;
  return (
    <div className="key-panel" role="status" data-testid="bundle-upgrade-links">
      {older.length > 0 ? (
        <>
          <p>{bundle.version} is newer than what these installs run:</p>
          <ul className="plain-list">
            {older.map((install) => (
              <li key={install.name}>
                <a href={hrefFor({ name: 'installed', installName: install.name, upgradeTo: bundle.version })} data-testid="bundle-upgrade-link" data-install-name={install.name}>
                  Upgrade {install.name} from {install.oldest} to {bundle.version}
                </a>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {newer.length > 0 ? (
        <>
          <p>{bundle.version} is older than what these installs run; installing it is a downgrade, done only when confirmed:</p>
          <ul className="plain-list">
            {newer.map((install) => (
              <li key={install.name}>
                <a href={hrefFor({ name: 'installed', installName: install.name, upgradeTo: bundle.version })} data-testid="bundle-downgrade-link" data-install-name={install.name}>
                  Downgrade {install.name} from {install.newest} to {bundle.version}
                </a>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}
