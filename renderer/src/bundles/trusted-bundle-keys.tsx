import type { TrustedBundleKey } from '../../../electron/contract';
import { formatDateTime } from '../format/time';

/** The signing keys whose bundles import without asking, and when and where each was trusted. */
export function TrustedBundleKeys({ keys }: { keys: TrustedBundleKey[] }) {
  return (
    <div className="card table-card">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Fingerprint</th>
            <th scope="col">Signer’s name for it</th>
            <th scope="col">Trusted</th>
            <th scope="col">From</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.fingerprint} data-testid="trusted-bundle-key" data-fingerprint={key.fingerprint}>
              <td className="mono">{key.fingerprint}</td>
              <td>{key.label || <span className="muted">—</span>}</td>
              <td className="nowrap">{formatDateTime(key.trustedAt)}</td>
              <td>{key.trustSource}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
