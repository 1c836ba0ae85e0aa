import type { BundleSummary } from '../../../electron/contract';
import { useApiQuery } from '../api/queries';
import { hrefFor } from '../router/route';

/** Versions in their natural order (0.9.0 before 0.10.0), as the backend compares them. */
function byVersion(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** After an import: each install of the same product running an older release, with a link to its upgrade. */
export function UpgradeLinks({ bundle }: { bundle: BundleSummary }) {
  const installs = useApiQuery('installs.list', {});
  const older = (installs.data ?? []).flatMap((install) => {
    if (install.bundle?.name !== bundle.name) return [];
    const current = install.hosts.flatMap((h) => h.releases.filter((r) => r.state === 'current').map((r) => r.version)).sort(byVersion)[0];
    return current !== undefined && byVersion(bundle.version, current) > 0 ? [{ name: install.name, current }] : [];
  });
  if (older.length === 0) return null;
  return (
    <div className="key-panel" role="status" data-testid="bundle-upgrade-links">
      <p>{bundle.version} is newer than what these installs run:</p>
      <ul className="plain-list">
        {older.map((install) => (
          <li key={install.name}>
            <a href={hrefFor({ name: 'installed', installName: install.name, upgradeTo: bundle.version })} data-testid="bundle-upgrade-link" data-install-name={install.name}>
              Upgrade {install.name} from {install.current} to {bundle.version}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}
