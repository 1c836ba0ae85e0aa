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
      <InstallLinks
        intro={`${bundle.version} is newer than what these installs run:`}
        installs={older}
        verb="Upgrade"
        from={(i) => i.oldest}
        to={bundle.version}
        testId="bundle-upgrade-link"
      />
      <InstallLinks
        intro={`${bundle.version} is older than what these installs run; installing it is a downgrade, done only when confirmed:`}
        installs={newer}
        verb="Downgrade"
        from={(i) => i.newest}
        to={bundle.version}
        testId="bundle-downgrade-link"
      />
    </div>
  );
}

/** One list of links to an install's upgrade page for this bundle, under its intro; nothing when empty. */
function InstallLinks<I extends { name: string }>({
  intro,
  installs,
  verb,
  from,
  to,
  testId,
}: {
  intro: string;
  installs: I[];
  verb: string;
  from: (install: I) => string;
  to: string;
  testId: string;
}) {
  if (installs.length === 0) return null;
  return (
    <>
      <p>{intro}</p>
      <ul className="plain-list">
        {installs.map((install) => (
          <li key={install.name}>
            <a
              href={hrefFor({ name: 'installed', installName: install.name, upgradeTo: to })}
              data-testid={testId}
              data-install-name={install.name}
            >
              {verb} {install.name} from {from(install)} to {to}
            </a>
          </li>
        ))}
      </ul>
    </>
  );
}
