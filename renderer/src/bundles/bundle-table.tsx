import type { BundleSummary } from '../../../electron/contract';
import { formatBytes } from '../format/bytes';
import { shortFingerprint } from '../hosts/fingerprint';
import { RelativeTime } from '../ui/relative-time';

/** The imported release bundles, newest first, each with the key that signed it. */
export function BundleTable({ bundles }: { bundles: BundleSummary[] }) {
  return (
    <div className="card table-card">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Bundle</th>
            <th scope="col">Architectures</th>
            <th scope="col">Components</th>
            <th scope="col">Signed by</th>
            <th scope="col" className="num">
              Size
            </th>
            <th scope="col">Imported</th>
          </tr>
        </thead>
        <tbody>
          {bundles.map((bundle) => (
            <tr
              key={bundle.id}
              data-testid="bundle-row"
              data-name={bundle.name}
              data-version={bundle.version}
              data-signer={bundle.signer.fingerprint}
            >
              <td>
                <div className="host-name">
                  {bundle.name} <span className="figure">{bundle.version}</span>
                </div>
                <div className="cell-sub mono cell-clip" title={bundle.path}>
                  sha256 {bundle.sha256.slice(0, 16)}…
                </div>
              </td>
              <td>{bundle.architectures.join(', ')}</td>
              <td className="cell-clip">{Object.keys(bundle.components).join(', ')}</td>
              <td className="nowrap" title={bundle.signer.fingerprint}>
                <span className="mono key-short">{shortFingerprint(bundle.signer.fingerprint, 10)}</span>
                {bundle.signer.label ? <div className="cell-sub">{bundle.signer.label}</div> : null}
              </td>
              <td className="num">{formatBytes(bundle.sizeBytes)}</td>
              <td className="nowrap">
                <RelativeTime ms={bundle.importedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
