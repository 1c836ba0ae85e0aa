import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { HostSummary } from '../../../electron/contract';
import { invalidateInventory } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { EMPTY_HOST_FORM, validateNewHost, type FieldErrors, type HostFormValues } from '../inventory/host-form';
import { withServerError } from './host-form-errors';
import { hrefFor } from '../router/route';
import { HostFormFields } from './host-form-fields';
import { HostKeyCheck } from './host-key-check';
import { ModalDialog } from './modal-dialog';
import { ErrorNotice } from './query-state';

const FORM_ID = 'add-host-form';

/** Secrets leave the form state as soon as they were sent; the dialog keeps nothing to echo back. */
function withoutSecrets(values: HostFormValues): HostFormValues {
  return { ...values, passphrase: '', password: '', sudoPassword: '' };
}

/**
 * Adding an SSH host in two steps: the connection details (checked with the contract's
 * own schema before they are sent), then the host key read from the machine, shown for
 * the operator to compare and trust.
 */
export function AddHostDialog({ hosts, onClose }: { hosts: HostSummary[]; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [values, setValues] = useState<HostFormValues>(EMPTY_HOST_FORM);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [added, setAdded] = useState<HostSummary | null>(null);
  const add = useApiAction('hosts.add');

  const onChange = (patch: Partial<HostFormValues>) => {
    setValues((current) => ({ ...current, ...patch }));
    // A field's error goes once it is edited; the rest stay until the next submit.
    setErrors((current) => {
      const next = { ...current };
      for (const key of Object.keys(patch)) delete next[key as keyof FieldErrors];
      return next;
    });
  };

  const submit = async () => {
    const checked = validateNewHost(values);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    const host = await add.run(checked.value);
    if (!host) return;
    setValues(withoutSecrets);
    setAdded(host);
    await invalidateInventory(queryClient);
  };

  if (added) {
    return (
      <ModalDialog
        title={`Confirm the host key of ${added.name}`}
        description="Step 2 of 2: the app pins the key you confirm and refuses a different one later."
        onClose={onClose}
        testId="add-host-dialog"
        wide
      >
        <HostKeyCheck
          host={added}
          onDismiss={onClose}
          afterTrust={
            <>
              <button type="button" className="button button-primary" onClick={onClose}>
                Done
              </button>
              <a className="button" href={hrefFor({ name: 'host', hostId: added.id })} onClick={onClose}>
                Open {added.name}
              </a>
            </>
          }
        />
      </ModalDialog>
    );
  }

  const jumpCandidates = hosts.filter((host) => host.kind === 'ssh');
  return (
    <ModalDialog
      title="Add a host"
      description="Step 1 of 2: how this app reaches the machine over SSH."
      onClose={onClose}
      testId="add-host-dialog"
      wide
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={FORM_ID} className="button button-primary" disabled={add.pending}>
            {add.pending ? 'Adding…' : 'Add host'}
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
        <HostFormFields values={values} onChange={onChange} errors={withServerError(errors, add.state)} jumpCandidates={jumpCandidates} />
        {add.state.status === 'error' ? <ErrorNotice title="The host was not added" error={add.state.error} /> : null}
      </form>
    </ModalDialog>
  );
}
