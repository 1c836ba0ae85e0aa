import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { visibleText, type OperatorCertificate } from '../../../electron/contract';
import { apiKey, useApiQuery } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { Card } from '../ui/card';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { DataTable, type Column } from '../ui/data-table';
import { EmptyState, ErrorNotice, LoadingState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';

/**
 * Operators' own credentials for the runtimes (issue 14 item 2): the client certificates
 * issued to them (by `sutazai operators certificate issue`, which writes the key where only
 * its operator reads it), each revocable here; and the rotation of an install's token key.
 * Either change reaches every linked runtime with a push made at once.
 */
export function RuntimeCredentialsCard({ disabledReason }: { disabledReason: string | null }) {
  // Certificates are issued from the command line: read again while shown, so a new one appears without a reload.
  const certificates = useApiQuery('operators.certificates', {}, { refetchInterval: 10_000 });
  return (
    <Card title="Runtime credentials" testId="runtime-credentials">
      <p className="muted">
        Certificates operators use to reach the runtimes directly (authentication method mtls). Issue one with{' '}
        <span className="mono">sutazai operators certificate issue NAME --install I --out DIR</span>; removing or disabling an operator
        revokes theirs.
      </p>
      {certificates.isError ? (
        <ErrorNotice title="Could not load the certificates" error={certificates.error} onRetry={() => void certificates.refetch()} />
      ) : !certificates.data ? (
        <LoadingState label="Loading the certificates…" />
      ) : certificates.data.length === 0 ? (
        <EmptyState title="No operator certificates">None has been issued.</EmptyState>
      ) : (
        <DataTable
          columns={columns(disabledReason)}
          rows={certificates.data}
          rowKey={(certificate) => certificate.serial}
          rowProps={(certificate) => ({ 'data-serial': certificate.serial })}
        />
      )}
      <RotateTokenKey disabledReason={disabledReason} />
    </Card>
  );
}

function stateOf(certificate: OperatorCertificate): string {
  if (certificate.revokedAt !== null) return 'revoked';
  return certificate.notAfter <= Date.now() ? 'expired' : 'valid';
}

function columns(disabledReason: string | null): Array<Column<OperatorCertificate>> {
  return [
    { header: 'Operator', cell: (c) => <span className="mono">{visibleText(c.operator)}</span> },
    { header: 'Role', cell: (c) => c.role },
    { header: 'Install', cell: (c) => <span className="mono">{visibleText(c.install)}</span> },
    { header: 'Serial', cell: (c) => <span className="mono">{c.serial}</span> },
    { header: 'State', cell: (c) => <span data-testid="certificate-state">{stateOf(c)}</span> },
    { header: 'Valid until', cell: (c) => <RelativeTime ms={c.notAfter} /> },
    {
      label: 'Actions',
      cell: (c) => (stateOf(c) === 'valid' ? <RevokeCertificate certificate={c} disabledReason={disabledReason} /> : null),
    },
  ];
}

function RevokeCertificate({ certificate, disabledReason }: { certificate: OperatorCertificate; disabledReason: string | null }) {
  const revoke = useApiAction('operators.certificateRevoke');
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  return (
    <div className="actions">
      <button
        type="button"
        className="button"
        disabled={disabledReason !== null || revoke.pending}
        title={disabledReason ?? undefined}
        onClick={() => setConfirming(true)}
      >
        Revoke
      </button>
      {revoke.state.status === 'error' ? <ErrorNotice title="The certificate was not revoked" error={revoke.state.error} /> : null}
      {confirming ? (
        <ConfirmDialog
          title={`Revoke the certificate ${certificate.serial} of ${certificate.operator}?`}
          description="Every linked runtime of the install is told now and refuses it from then on."
          testId="confirm-revoke-certificate"
          confirmLabel="Revoke"
          onConfirm={() =>
            void revoke
              .run({ serial: certificate.serial })
              .then(() => queryClient.invalidateQueries({ queryKey: apiKey('operators.certificates') }))
          }
          onClose={() => setConfirming(false)}
        >
          <p>
            {certificate.operator} can still act through the control center; only this certificate stops working. Until{' '}
            <RelativeTime ms={certificate.notAfter} /> it stays on the list every runtime refuses.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

function RotateTokenKey({ disabledReason }: { disabledReason: string | null }) {
  const installs = useApiQuery('installs.list', {});
  const rotate = useApiAction('access.rotateKey');
  const selectId = useId();
  const [install, setInstall] = useState('');
  const chosen = install || installs.data?.[0]?.name || '';
  return (
    <form
      className="stack"
      data-testid="rotate-token-key"
      onSubmit={(event) => {
        event.preventDefault();
        if (chosen !== '') void rotate.run({ install: chosen });
      }}
    >
      <h3>Rotate an install’s token key</h3>
      <p className="muted">
        The key that signs the control center’s one-call tokens (authentication method jwt). The old key is retired at once: runtimes refuse
        its tokens from their next push, made now.
      </p>
      <div className="field">
        <label className="field-label" htmlFor={selectId}>
          Install
        </label>
        <select id={selectId} className="input" value={chosen} onChange={(e) => setInstall(e.target.value)}>
          {(installs.data ?? []).map((row) => (
            <option key={row.name} value={row.name}>
              {row.name}
            </option>
          ))}
        </select>
      </div>
      <div className="actions">
        <button
          type="submit"
          className="button"
          disabled={disabledReason !== null || rotate.pending || chosen === ''}
          title={disabledReason ?? undefined}
        >
          Rotate key
        </button>
      </div>
      {rotate.state.status === 'error' ? <ErrorNotice title="The key was not rotated" error={rotate.state.error} /> : null}
      {rotate.state.status === 'success' ? (
        <p role="status" className="muted">
          {rotate.state.result.install} now signs with key <span className="mono">{rotate.state.result.keyId}</span>;{' '}
          {rotate.state.result.retired} retired.
        </p>
      ) : null}
    </form>
  );
}
