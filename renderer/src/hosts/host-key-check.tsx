import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { HostSummary, MethodResult } from '../../../electron/contract';
import { invalidateInventory } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { formatDateTime } from '../format/time';
import { confirmsFingerprint, fingerprintCommand, opensshKeyLabel } from './fingerprint';
import { ErrorNotice } from '../ui/query-state';
import { DeniedNote } from '../operators/denied-note';
import type { Allowed } from '../operators/session-rules';
import { useAllowed } from '../operators/use-session';

type ScanResult = MethodResult<'hosts.scanKey'>;

/** A host key as OpenSSH prints it: type, fingerprint, and the short type in parentheses. */
export function KeyLine({ keyType, fingerprint, testId }: { keyType: string; fingerprint: string; testId?: string }) {
  return (
    <pre className="key-line" data-testid={testId} data-fingerprint={fingerprint} data-key-type={keyType}>
      {keyType} {fingerprint} ({opensshKeyLabel(keyType)})
    </pre>
  );
}

function CompareHint({ keyType }: { keyType: string }) {
  return (
    <p className="key-hint">
      Compare it with the machine’s own key before you trust it: on its console run{' '}
      <code className="mono">{fingerprintCommand(keyType)}</code>. Trust it only if the fingerprints match character for character.
    </p>
  );
}

/**
 * The decision on a key seen for the first time (a host's, a bundle signer's): trust it, or
 * not now; both wait while the trust is being recorded. `allowed` says whether this
 * operator's role may trust it (disabled with the reason when not).
 */
export function TrustKeyActions({
  onTrust,
  onNotNow,
  trusting,
  trustLabel,
  trustingLabel,
  dismissLabel = 'Not now',
  allowed,
}: {
  onTrust: () => void;
  onNotNow: () => void;
  trusting: boolean;
  trustLabel: string;
  trustingLabel: string;
  dismissLabel?: string | undefined;
  allowed: Allowed;
}) {
  return (
    <>
      <div className="actions">
        <button
          type="button"
          className="button button-primary"
          onClick={onTrust}
          disabled={trusting || !allowed.allowed}
          title={allowed.reason ?? undefined}
        >
          {trusting ? trustingLabel : trustLabel}
        </button>
        <button type="button" className="button" onClick={onNotNow} disabled={trusting}>
          {dismissLabel}
        </button>
      </div>
      <DeniedNote allowed={allowed} testId="trust-denied" />
    </>
  );
}

/** A key seen for the first time, with the hint to compare it; a host not stored yet has no summary, only where it is. */
export function NewKey({
  host,
  scan,
  onTrust,
  onNotNow,
  trusting,
  trustLabel = 'Trust this key',
  trustingLabel = 'Trusting…',
  dismissLabel,
  allowed,
}: {
  host: Pick<HostSummary, 'name' | 'address' | 'port'>;
  scan: Pick<ScanResult, 'keyType' | 'fingerprint'>;
  onTrust: () => void;
  onNotNow: () => void;
  trusting: boolean;
  trustLabel?: string;
  trustingLabel?: string;
  dismissLabel?: string;
  allowed: Allowed;
}) {
  return (
    <div className="key-panel" data-testid="host-key-new">
      <p>
        <strong>{host.name}</strong>{' '}
        <span className="muted">
          ({host.address}:{host.port})
        </span>{' '}
        presents
      </p>
      <KeyLine keyType={scan.keyType} fingerprint={scan.fingerprint} testId="host-key-fingerprint" />
      <CompareHint keyType={scan.keyType} />
      <TrustKeyActions
        onTrust={onTrust}
        onNotNow={onNotNow}
        trusting={trusting}
        trustLabel={trustLabel}
        trustingLabel={trustingLabel}
        dismissLabel={dismissLabel}
        allowed={allowed}
      />
    </div>
  );
}

function ChangedKey({
  host,
  scan,
  onRetrust,
  onNotNow,
  trusting,
  allowed,
}: {
  host: HostSummary;
  scan: ScanResult;
  onRetrust: () => void;
  onNotNow: () => void;
  trusting: boolean;
  allowed: Allowed;
}) {
  const [typed, setTyped] = useState('');
  const inputId = useId();
  const confirmed = confirmsFingerprint(typed, scan.fingerprint);
  const pinned = scan.pinned;
  return (
    <div className="key-panel key-panel-danger" role="alert" data-testid="host-key-changed">
      <p className="key-panel-title">The host key of {host.name} has changed</p>
      <p>
        {host.name} ({host.address}:{host.port}) now presents a different key than the one you trusted. The app refuses to connect to it
        until you re-trust it. A reinstalled machine or regenerated keys explain this; so would someone intercepting the connection.
      </p>
      <dl className="key-compare">
        <dt>Now presents</dt>
        <dd>
          <KeyLine keyType={scan.keyType} fingerprint={scan.fingerprint} testId="host-key-new-fingerprint" />
        </dd>
        <dt>Trusted{pinned ? ` on ${formatDateTime(pinned.trustedAt)}` : ''}</dt>
        <dd>
          {pinned ? (
            <KeyLine keyType={pinned.keyType} fingerprint={pinned.fingerprint} testId="host-key-old-fingerprint" />
          ) : (
            <span className="muted">no key on record</span>
          )}
        </dd>
      </dl>
      <CompareHint keyType={scan.keyType} />
      <form
        className="retrust"
        onSubmit={(event) => {
          event.preventDefault();
          if (confirmed && allowed.allowed) onRetrust();
        }}
      >
        <label htmlFor={inputId} className="field-label">
          To re-trust, paste the new fingerprint as the machine prints it
        </label>
        <input
          id={inputId}
          className="input mono"
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
          placeholder="SHA256:…"
          autoComplete="off"
          spellCheck={false}
          data-testid="retrust-confirm"
        />
        {typed !== '' && !confirmed ? <p className="field-error">That is not the fingerprint the host presents now.</p> : null}
        <div className="actions">
          <button
            type="submit"
            className="button button-danger"
            disabled={!confirmed || trusting || !allowed.allowed}
            title={allowed.reason ?? undefined}
          >
            {trusting ? 'Re-trusting…' : 'Re-trust new key'}
          </button>
          <button type="button" className="button" onClick={onNotNow} disabled={trusting}>
            Not now
          </button>
        </div>
        <DeniedNote allowed={allowed} testId="trust-denied" />
      </form>
    </div>
  );
}

/** A host whose key is pinned now, with what the operator may do next. */
export function KeyTrusted({ host, children }: { host: HostSummary; children: ReactNode }) {
  const pinned = host.hostKey;
  return (
    <div className="key-panel key-panel-ok" role="status" data-testid="host-key-trusted">
      <p>
        Trusted. {host.name}’s key {pinned ? <span className="mono">{pinned.fingerprint}</span> : null} is pinned; a different key will be
        refused.
      </p>
      <div className="actions">{children}</div>
    </div>
  );
}

/**
 * Reads the key a host presents now and lets the operator decide: trust a first key,
 * see that it still matches, or (deliberately) re-trust a changed one. Scans on mount.
 */
export function HostKeyCheck({
  host,
  onTrusted,
  onDismiss,
  afterTrust,
}: {
  host: HostSummary;
  onTrusted?: (host: HostSummary) => void;
  onDismiss: () => void;
  /** The actions once the key is pinned; a Done button by default. */
  afterTrust?: ReactNode;
}) {
  const queryClient = useQueryClient();
  const scan = useApiAction('hosts.scanKey');
  const trust = useApiAction('hosts.trust');
  // Anyone may read the key the host presents; trusting it is an admin's.
  const trusting = useAllowed('trust-key');
  const { run: runScan } = scan;
  const hostId = host.id;
  // One scan per host shown: each is an SSH connection (StrictMode would run the effect twice).
  const scannedFor = useRef<number | null>(null);
  useEffect(() => {
    if (scannedFor.current === hostId) return;
    scannedFor.current = hostId;
    void runScan({ hostId });
  }, [runScan, hostId]);

  const doTrust = async (fingerprint: string) => {
    const updated = await trust.run({ hostId, fingerprint });
    if (updated) {
      await invalidateInventory(queryClient, hostId);
      onTrusted?.(updated);
    }
  };
  const rescan = () => {
    trust.reset();
    void runScan({ hostId });
  };

  if (scan.state.status === 'idle' || scan.state.status === 'pending') {
    return (
      <div className="key-panel" role="status">
        <span className="spinner" aria-hidden="true" /> Reading the host key of {host.name} ({host.address}:{host.port})…
      </div>
    );
  }
  if (scan.state.status === 'error') {
    return (
      <div className="key-panel-error" data-testid="host-key-error">
        <ErrorNotice title={`Could not read the host key of ${host.name}`} error={scan.state.error} onRetry={rescan} />
        <div className="actions">
          <button type="button" className="button" onClick={onDismiss}>
            Not now
          </button>
        </div>
      </div>
    );
  }
  const result = scan.state.result;
  const trustError =
    trust.state.status === 'error' ? <ErrorNotice title="The key was not trusted" error={trust.state.error} onRetry={rescan} /> : null;
  if (trust.state.status === 'success') {
    return (
      <KeyTrusted host={trust.state.result}>
        {afterTrust ?? (
          <button type="button" className="button" onClick={onDismiss}>
            Done
          </button>
        )}
      </KeyTrusted>
    );
  }
  switch (result.status) {
    case 'new':
      return (
        <>
          <NewKey
            host={host}
            scan={result}
            onTrust={() => void doTrust(result.fingerprint)}
            onNotNow={onDismiss}
            trusting={trust.pending}
            allowed={trusting}
          />
          {trustError}
        </>
      );
    case 'changed':
      return (
        <>
          <ChangedKey
            host={host}
            scan={result}
            onRetrust={() => void doTrust(result.fingerprint)}
            onNotNow={onDismiss}
            trusting={trust.pending}
            allowed={trusting}
          />
          {trustError}
        </>
      );
    case 'trusted':
      return (
        <div className="key-panel key-panel-ok" role="status" data-testid="host-key-matches">
          <p>The key matches the one you trusted{result.pinned ? ` on ${formatDateTime(result.pinned.trustedAt)}` : ''}.</p>
          <KeyLine keyType={result.keyType} fingerprint={result.fingerprint} />
          <div className="actions">
            <button type="button" className="button" onClick={onDismiss}>
              Done
            </button>
          </div>
        </div>
      );
  }
}
