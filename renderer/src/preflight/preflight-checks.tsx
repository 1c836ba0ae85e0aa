import type { PreflightCheck } from '../../../electron/contract';
import { DataTable, type Column } from '../ui/data-table';
import { worstFirst } from './outcomes';
import { OutcomeBadge } from './outcome-badge';

type ShownCheck = PreflightCheck & { hostIds?: number[] };

function columns(hostNames: Map<number, string> | undefined): Array<Column<ShownCheck>> {
  return [
    { header: 'Outcome', headerClassName: 'col-outcome', cell: (check) => <OutcomeBadge outcome={check.outcome} /> },
    {
      header: 'Check',
      className: 'check-title',
      cell: (check) => (
        <>
          {check.title}
          {check.hostIds && hostNames && check.outcome !== 'pass' ? (
            <div className="cell-sub">{check.hostIds.map((id) => hostNames.get(id) ?? `#${id}`).join(', ')}</div>
          ) : null}
        </>
      ),
    },
    { header: 'Found', cell: (check) => check.message },
    { header: 'What to do', className: (check) => (check.remedy ? 'check-remedy' : 'muted'), cell: (check) => check.remedy || '—' },
  ];
}

/** Preflight checks, worst first: outcome, what was checked, what was found, what to do. */
export function PreflightChecksTable({ checks, hostNames }: { checks: ShownCheck[]; hostNames?: Map<number, string> }) {
  if (checks.length === 0) return <p className="muted">No checks apply.</p>;
  return (
    <DataTable
      className="checks-table"
      columns={columns(hostNames)}
      rows={worstFirst(checks)}
      rowKey={(check, index) => `${check.id}-${index}`}
      rowProps={(check) => ({ 'data-testid': 'preflight-check', 'data-check-id': check.id, 'data-outcome': check.outcome })}
    />
  );
}
