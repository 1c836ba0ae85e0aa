import { useState } from 'react';
import { visibleText, type HostAuditVerification } from '../../../electron/contract';
import { useApiAction } from '../api/use-api-action';
import { DeniedNote } from '../operators/denied-note';
import { useAllowed } from '../operators/use-session';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { ErrorNotice } from '../ui/query-state';

/**
 * A host's runtime log that no longer holds the entry the control center last found intact
 * (cut off, or another runtime's fresh log) stays broken until an admin takes it as a new
 * start: confirmed first, recorded in the audit log (audit.acceptHostReset), never done by a
 * verify. The entry taken is the newest one read, named in the dialog.
 */
export function AcceptHostReset({
  hostId,
  verification,
  onAccepted,
}: {
  hostId: number;
  verification: HostAuditVerification;
  onAccepted: () => void;
}) {
  const accept = useApiAction('audit.acceptHostReset');
  const allowed = useAllowed('trust-key', { hostId });
  const [confirming, setConfirming] = useState(false);
  const { head, host, rememberedError } = verification;
  if (rememberedError === null || head === null) return null;
  const replaced = rememberedError.code === 'AUDIT_HOST_RUNTIME_REPLACED';
  return (
    <div className="stack">
      <div className="toolbar-group">
        <button
          type="button"
          className="button button-danger"
          disabled={!allowed.allowed || accept.pending}
          title={allowed.reason ?? undefined}
          onClick={() => setConfirming(true)}
          data-testid="audit-runtime-accept-reset"
        >
          {accept.pending ? 'Accepting…' : 'Accept this log as a new start'}
        </button>
      </div>
      <DeniedNote allowed={allowed} testId="audit-runtime-accept-denied" />
      {accept.state.status === 'error' ? <ErrorNotice title="Could not accept the log as a new start" error={accept.state.error} /> : null}
      {confirming ? (
        <ConfirmDialog
          title={`Accept the runtime's log on ${visibleText(host)} as a new start?`}
          description={
            replaced
              ? 'Do this only if the runtime there was reinstalled on purpose: its fresh log is then the one later verifies check.'
              : 'Do this only once you know who removed the entries and why: what was cut off is not checked again.'
          }
          testId="confirm-accept-host-reset"
          confirmLabel="Accept as a new start"
          onConfirm={() =>
            void accept.run({ host, head: { seq: head.seq, hash: head.hash } }).then((result) => {
              if (result !== undefined) onAccepted();
            })
          }
          onClose={() => setConfirming(false)}
        >
          <p>
            Entry {head.seq}, hash <span className="mono audit-hash">{head.hash}</span>, the newest read now, becomes the entry later
            verifies of this host check. The acceptance is recorded in the audit log with your name.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
