import type { PreflightCheck } from '../../../electron/contract';
import { worstFirst } from './outcomes';
import { OutcomeBadge } from './outcome-badge';

/** Preflight checks, worst first: outcome, what was checked, what was found, what to do. */
export function PreflightChecksTable({
  checks,
  hostNames,
}: {
  checks: Array<PreflightCheck & { hostIds?: number[] }>;
  hostNames?: Map<number, string>;
}) {
  if (checks.length === 0) return <p className="muted">No checks apply.</p>;
  return (
    <table className="table checks-table">
      <thead>
        <tr>
          <th scope="col" className="col-outcome">
            Outcome
          </th>
          <th scope="col">Check</th>
          <th scope="col">Found</th>
          <th scope="col">What to do</th>
        </tr>
      </thead>
      <tbody>
        {worstFirst(checks).map((check, index) => (
          <tr key={`${check.id}-${index}`} data-testid="preflight-check" data-check-id={check.id} data-outcome={check.outcome}>
            <td>
              <OutcomeBadge outcome={check.outcome} />
            </td>
            <td className="check-title">
              {check.title}
              {check.hostIds && hostNames && check.outcome !== 'pass' ? (
                <div className="cell-sub">{check.hostIds.map((id) => hostNames.get(id) ?? `#${id}`).join(', ')}</div>
              ) : null}
            </td>
            <td>{check.message}</td>
            <td className={check.remedy ? 'check-remedy' : 'muted'}>{check.remedy || '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
