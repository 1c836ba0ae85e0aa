import type { BundleVerification } from '../../../electron/contract';
import { TrustKeyActions } from '../hosts/host-key-check';
import type { Allowed } from '../operators/session-rules';

/**
 * A bundle signed by a key the operator does not trust yet: its fingerprint, and the
 * decision, as for a host key seen for the first time. Trusting it is remembered, so later
 * bundles from the same signer import without asking.
 */
export function BundleKeyConfirm({
  verification,
  onTrust,
  onNotNow,
  trusting,
  allowed,
}: {
  verification: BundleVerification;
  onTrust: () => void;
  onNotNow: () => void;
  trusting: boolean;
  allowed: Allowed;
}) {
  const { signer } = verification;
  return (
    <div className="key-panel" data-testid="bundle-key-unknown">
      <p>
        <strong>
          {verification.name} {verification.version}
        </strong>{' '}
        is signed by a key you do not trust yet:
      </p>
      <pre className="key-line" data-testid="bundle-key-fingerprint" data-fingerprint={signer.fingerprint}>
        ed25519 {signer.fingerprint}
      </pre>
      {signer.label ? (
        <p className="key-hint">The signer calls it “{signer.label}”: a name anyone can give a key, proof of nothing.</p>
      ) : null}
      <p className="key-hint">
        Ask the bundle’s builder for the fingerprint <code className="mono">sutazai bundle keygen</code> printed for their signing key,
        through a channel you trust, and compare. Trust it only if the fingerprints match character for character.
      </p>
      <TrustKeyActions
        onTrust={onTrust}
        onNotNow={onNotNow}
        trusting={trusting}
        trustLabel="Trust this key and import"
        trustingLabel="Importing…"
        allowed={allowed}
      />
    </div>
  );
}
