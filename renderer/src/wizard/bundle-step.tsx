import { useBundles } from '../api/queries';
import { BundleImport } from '../bundles/bundle-import';
import { Card } from '../ui/card';
import { EmptyState, QueryState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';
import { formatBytes } from '../format/bytes';
import type { WizardDraftHandle } from './use-wizard-draft';
import { WizardNav } from './wizard-nav';

/** Step 1: the release bundle to install, imported here (verified first) or chosen among those imported before. */
export function BundleStep({ wizard }: { wizard: WizardDraftHandle }) {
  const bundles = useBundles();
  const { draft } = wizard;
  const chosen = bundles.data?.find((b) => b.id === draft.bundleId);
  return (
    <div className="stack" data-testid="wizard-bundle-step">
      <Card title="Import a bundle" testId="wizard-bundle-import">
        <BundleImport onImported={(bundle) => wizard.update({ bundleId: bundle.id })} />
      </Card>
      <Card title="The bundle to install" aside={chosen ? `${chosen.name} ${chosen.version}` : undefined}>
        <QueryState
          query={bundles}
          loadingLabel="Loading bundles…"
          errorTitle="Could not load the bundles"
          isEmpty={(data) => data.length === 0}
          empty={<EmptyState title="No bundle imported yet">Choose a .sutazai-bundle above: it is verified, then imported.</EmptyState>}
        >
          {(data) => (
            <div className="table-scroll-flat">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col" className="col-check">
                      <span className="visually-hidden">Chosen</span>
                    </th>
                    <th scope="col">Bundle</th>
                    <th scope="col">Architectures</th>
                    <th scope="col" className="num">
                      Size
                    </th>
                    <th scope="col">Imported</th>
                  </tr>
                </thead>
                <tbody>
                  {data.map((bundle) => (
                    <tr
                      key={bundle.id}
                      data-testid="wizard-bundle-option"
                      data-version={bundle.version}
                      data-chosen={String(bundle.id === draft.bundleId)}
                    >
                      <td className="col-check">
                        <input
                          type="radio"
                          name="wizard-bundle"
                          checked={bundle.id === draft.bundleId}
                          onChange={() => wizard.update({ bundleId: bundle.id })}
                          aria-label={`Install ${bundle.name} ${bundle.version}`}
                        />
                      </td>
                      <td>
                        <div className="host-name">
                          {bundle.name} <span className="figure">{bundle.version}</span>
                        </div>
                        <div className="cell-sub mono">sha256 {bundle.sha256.slice(0, 16)}…</div>
                      </td>
                      <td>{bundle.architectures.join(', ')}</td>
                      <td className="num">{formatBytes(bundle.sizeBytes)}</td>
                      <td className="nowrap">
                        <RelativeTime ms={bundle.importedAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </QueryState>
      </Card>
      <WizardNav
        nextLabel="Next: hosts"
        onNext={() => void wizard.go('hosts')}
        problem={chosen ? null : 'Import a bundle, or choose one imported before.'}
      />
    </div>
  );
}
