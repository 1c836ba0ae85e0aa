import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { HostSummary } from '../../../electron/contract';
import { invalidateInventory } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { formFromHost, validateHostChanges, type FieldErrors, type HostFormValues } from '../inventory/host-form';
import { withServerError } from './host-form-errors';
import { HostFormFields } from './host-form-fields';
import { HostKeyCheck } from './host-key-check';
import { ModalDialog } from './modal-dialog';
import { ErrorNotice } from './query-state';

const FORM_ID = 'edit-host-form';

/** Jump hosts that cannot loop back: never the host itself, nor a host that goes through it. */
function jumpCandidatesFor(host: HostSummary, hosts: HostSummary[]): HostSummary[] {
  const byId = new Map(hosts.map((h) => [h.id, h]));
  const goesThrough = (candidate: HostSummary): boolean => {
    const seen = new Set<number>();
    for (let cursor: HostSummary | undefined = candidate; cursor && !seen.has(cursor.id); cursor = cursor.jumpHostId === null ? undefined : byId.get(cursor.jumpHostId)) {
      if (cursor.id === host.id) return true;
      seen.add(cursor.id);
    }
    return false;
  };
  return hosts.filter((h) => h.kind === 'ssh' && !goesThrough(h));
}

/**
 * Editing a host's connection with the add form. Only what changed is sent; a new
 * address or port points at another machine, so its key is confirmed again right after.
 */
export function EditHostDialog({ host, hosts, onClose }: { host: HostSummary; hosts: HostSummary[]; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [values, setValues] = useState<HostFormValues>(() => formFromHost(host));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [readdressed, setReaddressed] = useState<HostSummary | null>(null);
  const update = useApiAction('hosts.update');

  const onChange = (patch: Partial<HostFormValues>) => {
    setValues((current) => ({ ...current, ...patch }));
    setErrors((current) => {
      const next = { ...current };
      for (const key of Object.keys(patch)) delete next[key as keyof FieldErrors];
      return next;
    });
  };

  const submit = async () => {
    const checked = validateHostChanges(values, host);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    if (Object.keys(checked.value).length === 0) {
      onClose();
      return;
    }
    const updated = await update.run({ hostId: host.id, changes: checked.value });
    if (!updated) return;
    setValues((current) => ({ ...current, passphrase: '', password: '', sudoPassword: '' }));
    await invalidateInventory(queryClient, host.id);
    if (updated.hostKey === null && host.hostKey !== null) setReaddressed(updated);
    else onClose();
  };

  if (readdressed) {
    return (
      <ModalDialog
        title={`Confirm the host key of ${readdressed.name}`}
        description={`${readdressed.address}:${readdressed.port} may be another machine: its key was unpinned. Confirm the key it presents.`}
        onClose={onClose}
        testId="edit-host-dialog"
        wide
      >
        <HostKeyCheck host={readdressed} onDismiss={onClose} />
      </ModalDialog>
    );
  }

  return (
    <ModalDialog
      title={`Edit ${host.name}`}
      description="Changing the address or port unpins the host key: you confirm the new machine’s key next."
      onClose={onClose}
      testId="edit-host-dialog"
      wide
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={FORM_ID} className="button button-primary" disabled={update.pending}>
            {update.pending ? 'Saving…' : 'Save'}
          </button>
        </>
      }
    >
      <form
        id={FORM_ID}
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <HostFormFields
          values={values}
          onChange={onChange}
          errors={withServerError(errors, update.state)}
          jumpCandidates={jumpCandidatesFor(host, hosts)}
          editing={host}
        />
        {update.state.status === 'error' ? <ErrorNotice title="The changes were not saved" error={update.state.error} /> : null}
      </form>
    </ModalDialog>
  );
}
