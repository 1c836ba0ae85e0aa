import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { HostSummary } from '../../../electron/contract';
import { invalidateInventory } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { formFromHost, validateHostChanges } from './host-form';
import { HostFormDialog, useHostFormState } from './host-form-dialog';
import { HostKeyCheck } from './host-key-check';

/** Jump hosts that cannot loop back: never the host itself, nor a host that goes through it. */
function jumpCandidatesFor(host: HostSummary, hosts: HostSummary[]): HostSummary[] {
  const byId = new Map(hosts.map((h) => [h.id, h]));
  const goesThrough = (candidate: HostSummary): boolean => {
    const seen = new Set<number>();
    for (
      let cursor: HostSummary | undefined = candidate;
      cursor && !seen.has(cursor.id);
      cursor = cursor.jumpHostId === null ? undefined : byId.get(cursor.jumpHostId)
    ) {
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
  const form = useHostFormState(() => formFromHost(host));
  const [readdressed, setReaddressed] = useState<HostSummary | null>(null);
  const update = useApiAction('hosts.update');

  const submit = async () => {
    const checked = validateHostChanges(form.values, host);
    if (!checked.ok) {
      form.setErrors(checked.errors);
      return;
    }
    form.setErrors({});
    if (Object.keys(checked.value).length === 0) {
      onClose();
      return;
    }
    const updated = await update.run({ hostId: host.id, changes: checked.value });
    if (!updated) return;
    form.forgetSecrets();
    await invalidateInventory(queryClient, host.id);
    if (updated.hostKey === null && host.hostKey !== null) setReaddressed(updated);
    else onClose();
  };

  return (
    <HostFormDialog
      title={`Edit ${host.name}`}
      description="Changing the address or port unpins the host key: you confirm the new machine’s key next."
      testId="edit-host-dialog"
      form={form}
      jumpCandidates={jumpCandidatesFor(host, hosts)}
      editing={host}
      action={update.state}
      submitLabel="Save"
      pendingLabel="Saving…"
      failureTitle="The changes were not saved"
      onSubmit={submit}
      keyCheck={
        readdressed && {
          title: `Confirm the host key of ${readdressed.name}`,
          description: `${readdressed.address}:${readdressed.port} may be another machine: its key was unpinned. Confirm the key it presents.`,
          body: <HostKeyCheck host={readdressed} onDismiss={onClose} />,
        }
      }
      onClose={onClose}
    />
  );
}
