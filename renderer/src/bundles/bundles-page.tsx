import { useState } from 'react';
import type { BundleSummary } from '../../../electron/contract';
import { useBundles, useTrustedBundleKeys } from '../api/queries';
import { BundleImport } from './bundle-import';
import { BundleTable } from './bundle-table';
import { Card } from '../ui/card';
import { EmptyState, QueryState } from '../ui/query-state';
import { TrustedBundleKeys } from './trusted-bundle-keys';
import { UpgradeLinks } from '../installs/upgrade-links';

/** Release bundles: import one (verified first), and what was imported and who signed it. */
export function BundlesPage() {
  const bundles = useBundles();
  const keys = useTrustedBundleKeys();
  const [imported, setImported] = useState<BundleSummary | null>(null);
  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>Bundles</h1>
          <p className="page-sub">Signed release bundles: everything an offline install needs, checked before it is stored.</p>
        </div>
      </header>
      <Card title="Import a bundle" testId="bundle-import-card">
        <div className="stack">
          <BundleImport onImported={setImported} />
          {imported ? <UpgradeLinks key={imported.id} bundle={imported} /> : null}
        </div>
      </Card>
      <section className="stack" aria-labelledby="imported-bundles">
        <h2 id="imported-bundles">Imported</h2>
        <QueryState
          query={bundles}
          loadingLabel="Loading bundles…"
          errorTitle="Could not load the bundles"
          isEmpty={(data) => data.length === 0}
          empty={<EmptyState title="No bundle imported yet">Build one with npm run bundle, then verify and import it above.</EmptyState>}
        >
          {(data) => <BundleTable bundles={data} />}
        </QueryState>
      </section>
      <section className="stack" aria-labelledby="trusted-keys">
        <h2 id="trusted-keys">Trusted signing keys</h2>
        <QueryState
          query={keys}
          loadingLabel="Loading keys…"
          errorTitle="Could not load the trusted keys"
          isEmpty={(data) => data.length === 0}
          empty={<EmptyState title="No key trusted yet">The first import of a bundle asks you to confirm its signer’s key.</EmptyState>}
        >
          {(data) => <TrustedBundleKeys keys={data} />}
        </QueryState>
      </section>
    </section>
  );
}
