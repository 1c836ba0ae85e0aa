import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { HostInput, HostSummary, MethodResult } from '../../../electron/contract';
import { invalidateInventory } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { EMPTY_HOST_FORM, validateNewHost } from './host-form';
import { hrefFor } from '../router/route';
import { HostFormDialog, useHostFormState } from './host-form-dialog';
import { KeyTrusted, NewKey } from './host-key-check';
import { ErrorNotice } from '../ui/query-state';
import { useAllowed } from '../operators/use-session';

/** What "Check host" found: the details as sent, and the key the machine presents. */
interface Checked {
  input: HostInput;
  key: MethodResult<'hosts.scanNew'>;
}

/**
 * Adding an SSH host in two steps, storing nothing until the second: the connection
 * details (checked with the contract's own schema, then by reading the machine's host
 * key, which is what proves the address, port and jump host right), then that key for the
 * operator to compare; "Trust and add" stores the host pinned to it, only if the machine
 * still presents it. `onAdded` says which host was added (the install wizard chooses it).
 */
export function AddHostDialog({
  hosts,
  onClose,
  onAdded,
}: {
  hosts: HostSummary[];
  onClose: () => void;
  onAdded?: (host: HostSummary) => void;
}) {
  const queryClient = useQueryClient();
  const form = useHostFormState(EMPTY_HOST_FORM);
  const [checked, setChecked] = useState<Checked | null>(null);
  const scan = useApiAction('hosts.scanNew');
  const add = useApiAction('hosts.add');
  // Opened only where adding is allowed; an admin's demotion meanwhile still disables the last step.
  const adding = useAllowed('manage-hosts');

  const check = async () => {
    const valid = validateNewHost(form.values);
    if (!valid.ok) {
      form.setErrors(valid.errors);
      return;
    }
    form.setErrors({});
    add.reset();
    const key = await scan.run(valid.value);
    if (key) setChecked({ input: valid.value, key });
  };

  const trustAndAdd = async (confirmed: Checked) => {
    const host = await add.run({ ...confirmed.input, trust: confirmed.key.fingerprint });
    if (!host) return;
    // The secrets were needed until now (they are sent again with the confirmed key); no longer.
    form.forgetSecrets();
    setChecked(null);
    onAdded?.(host);
    await invalidateInventory(queryClient);
  };

  const checkAgain = () => {
    setChecked(null);
    void check();
  };

  const added = add.state.status === 'success' ? add.state.result : null;
  const description = 'Step 2 of 2: the app stores the host with the key you confirm and refuses a different one later.';
  const confirmStep = added
    ? {
        title: `${added.name} was added`,
        description,
        body: (
          <KeyTrusted host={added}>
            <button type="button" className="button button-primary" onClick={onClose}>
              Done
            </button>
            <a className="button" href={hrefFor({ name: 'host', hostId: added.id })} onClick={onClose}>
              Open {added.name}
            </a>
          </KeyTrusted>
        ),
      }
    : checked && {
        title: `Confirm the host key of ${checked.input.name}`,
        description,
        body: (
          <>
            <NewKey
              host={{ name: checked.input.name, address: checked.input.address, port: checked.input.port ?? 22 }}
              scan={checked.key}
              onTrust={() => void trustAndAdd(checked)}
              onNotNow={onClose}
              trusting={add.pending}
              trustLabel="Trust and add"
              trustingLabel="Adding…"
              dismissLabel="Cancel"
              allowed={adding}
            />
            {add.state.status === 'error' ? (
              <ErrorNotice title="The host was not added" error={add.state.error} onRetry={checkAgain} />
            ) : null}
          </>
        ),
      };

  return (
    <HostFormDialog
      title="Add a host"
      description="Step 1 of 2: how this app reaches the machine over SSH. Nothing is stored until you trust its key."
      testId="add-host-dialog"
      form={form}
      jumpCandidates={hosts.filter((host) => host.kind === 'ssh')}
      action={scan.state}
      submitLabel="Check host"
      pendingLabel="Checking…"
      failureTitle="The host was not checked; nothing was stored"
      onSubmit={check}
      keyCheck={confirmStep}
      onClose={onClose}
    />
  );
}
