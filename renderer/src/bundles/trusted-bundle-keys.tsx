import type { TrustedBundleKey } from '../../../electron/contract';
import { formatDateTime } from '../format/time';
import { DataTable, type Column } from '../ui/data-table';

const COLUMNS: Array<Column<TrustedBundleKey>> = [
  { header: 'Fingerprint', className: 'mono', cell: (key) => key.fingerprint },
  { header: 'Signer’s name for it', cell: (key) => key.label || <span className="muted">—</span> },
  { header: 'Trusted', className: 'nowrap', cell: (key) => formatDateTime(key.trustedAt) },
  { header: 'From', cell: (key) => key.trustSource },
];

/** The signing keys whose bundles import without asking, and when and where each was trusted. */
export function TrustedBundleKeys({ keys }: { keys: TrustedBundleKey[] }) {
  return (
    <div className="card table-card">
      <DataTable
        columns={COLUMNS}
        rows={keys}
        rowKey={(key) => key.fingerprint}
        rowProps={(key) => ({ 'data-testid': 'trusted-bundle-key', 'data-fingerprint': key.fingerprint })}
      />
    </div>
  );
}
