import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { HostSummary } from '../../../electron/contract';
import { invalidateInventory } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { EMPTY_HOST_FORM, validateNewHost } from '../inventory/host-form';
import { hrefFor } from '../router/route';
import { HostFormDialog, useHostFormState } from './host-form-dialog';

/**
 * Adding an SSH host in two steps: the connection details (checked with the contract's
 * own schema before they are sent), then the host key read from the machine, shown for
 * the operator to compare and trust. `onAdded` says which host was added (the install
 * wizard chooses it at once).
 */
export function AddHostDialog({ hosts, onClose, onAdded }: { hosts: HostSummary[]; onClose: () => void; onAdded?: (host: HostSummary) => void }) {
  const queryClient = useQueryClient();
  const form = useHostFormState(EMPTY_HOST_FORM);
  const [added, setAdded] = useState<HostSummary | null>(null);
  const add = useApiAction('hosts.add');

  const submit = async () => {
    const checked = validateNewHost(form.values);
    if (!checked.ok) {
      form.setErrors(checked.errors);
      return;
    }
    form.setErrors({});
    const host = await add.run(checked.value);
    if (!host) return;
    form.forgetSecrets();
    setAdded(host);
    onAdded?.(host);
    await invalidateInventory(queryClient);
  };

  return (
    <HostFormDialog
      title="Add a host"
      description="Step 1 of 2: how this app reaches the machine over SSH."
      testId="add-host-dialog"
      form={form}
      jumpCandidates={hosts.filter((host) => host.kind === 'ssh')}
      action={add.state}
      submitLabel="Add host"
      pendingLabel="Adding…"
      failureTitle="The host was not added"
      onSubmit={submit}
      keyCheck={
        added && {
          host: added,
          description: 'Step 2 of 2: the app pins the key you confirm and refuses a different one later.',
          afterTrust: (
            <>
              <button type="button" className="button button-primary" onClick={onClose}>
                Done
              </button>
              <a className="button" href={hrefFor({ name: 'host', hostId: added.id })} onClick={onClose}>
                Open {added.name}
              </a>
            </>
          ),
        }
      }
      onClose={onClose}
    />
  );
}
