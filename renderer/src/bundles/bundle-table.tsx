import type { BundleSummary } from '../../../electron/contract';
import { formatBytes } from '../format/bytes';
import { shortFingerprint } from '../hosts/fingerprint';
import { DataTable, type Column } from '../ui/data-table';
import { RelativeTime } from '../ui/relative-time';

const COLUMNS: Array<Column<BundleSummary>> = [
  {
    header: 'Bundle',
    cell: (bundle) => (
      <>
        <div className="host-name">
          {bundle.name} <span className="figure">{bundle.version}</span>
        </div>
        <div className="cell-sub mono cell-clip" title={bundle.path}>
          sha256 {bundle.sha256.slice(0, 16)}…
        </div>
      </>
    ),
  },
  { header: 'Architectures', cell: (bundle) => bundle.architectures.join(', ') },
  { header: 'Components', className: 'cell-clip', cell: (bundle) => Object.keys(bundle.components).join(', ') },
  {
    header: 'Signed by',
    className: 'nowrap',
    cellProps: (bundle) => ({ title: bundle.signer.fingerprint }),
    cell: (bundle) => (
      <>
        <span className="mono key-short">{shortFingerprint(bundle.signer.fingerprint, 10)}</span>
        {bundle.signer.label ? <div className="cell-sub">{bundle.signer.label}</div> : null}
      </>
    ),
  },
  { header: 'Size', numeric: true, cell: (bundle) => formatBytes(bundle.sizeBytes) },
  { header: 'Imported', className: 'nowrap', cell: (bundle) => <RelativeTime ms={bundle.importedAt} /> },
];

/** The imported release bundles, newest first, each with the key that signed it. */
export function BundleTable({ bundles }: { bundles: BundleSummary[] }) {
  return (
    <div className="card table-card">
      <DataTable
        columns={COLUMNS}
        rows={bundles}
        rowKey={(bundle) => bundle.id}
        rowProps={(bundle) => ({
          'data-testid': 'bundle-row',
          'data-name': bundle.name,
          'data-version': bundle.version,
          'data-signer': bundle.signer.fingerprint,
        })}
      />
    </div>
  );
}
