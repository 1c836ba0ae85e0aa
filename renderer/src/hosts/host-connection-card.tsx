import { useEffect, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { HostSummary } from '../../../electron/contract';
import { apiKey, invalidateInventory, useHostList } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { Card, Fact } from '../ui/card';
import { EditHostDialog } from './edit-host-dialog';
import { HostKeyCheck, KeyLine } from './host-key-check';
import { ModalDialog } from '../ui/modal-dialog';
import { ErrorNotice } from '../ui/query-state';
import { formatDateTime } from '../format/time';
import { ROLE_LABELS } from './host-form';
import { hrefFor } from '../router/route';
import { navigate } from '../router/use-route';
import { DeniedNote } from '../operators/denied-note';
import { useAllowed } from '../operators/use-session';

function authText(host: HostSummary): string {
  switch (host.authMethod) {
    case 'key':
      if (host.keyStored) return host.hasSecret ? 'Private key (stored, sealed; passphrase stored)' : 'Private key (stored, sealed)';
      if (host.keyPath === null) return 'Private key (none stored)';
      return host.hasSecret ? 'Key file (passphrase stored)' : 'Key file';
    case 'agent':
      return 'SSH agent';
    case 'password':
      return host.hasSecret ? 'Password (stored, sealed)' : 'Password (none stored)';
    case 'none':
      return '—';
  }
}

function RemoveDialog({ host, onClose }: { host: HostSummary; onClose: () => void }) {
  const queryClient = useQueryClient();
  const remove = useApiAction('hosts.remove');
  const confirm = async () => {
    const removed = await remove.run({ hostId: host.id });
    if (!removed) return;
    onClose();
    navigate({ name: 'hosts' });
    queryClient.removeQueries({ queryKey: apiKey('hosts.get', { hostId: host.id }) });
    await invalidateInventory(queryClient);
  };
  return (
    <ModalDialog
      title={`Remove ${host.name}?`}
      onClose={onClose}
      testId="remove-host-dialog"
      footer={
        <>
          <button type="button" className="button" onClick={onClose} data-autofocus>
            Cancel
          </button>
          <button type="button" className="button button-danger" onClick={() => void confirm()} disabled={remove.pending}>
            {remove.pending ? 'Removing…' : 'Remove host'}
          </button>
        </>
      }
    >
      <p>
        The app forgets {host.name} ({host.address}): its pinned key, stored credentials, facts history and preflight results. Nothing on
        the machine itself is touched.
      </p>
      {remove.state.status === 'error' ? <ErrorNotice title={`${host.name} was not removed`} error={remove.state.error} /> : null}
    </ModalDialog>
  );
}

/** The key check, brought into view when it opens (it may have been opened from the page's top). */
function KeyCheckSection({ host, onDismiss }: { host: HostSummary; onDismiss: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, []);
  return (
    <div className="key-check" ref={ref}>
      <HostKeyCheck host={host} onDismiss={onDismiss} />
    </div>
  );
}

/** How the app reaches an SSH host, and the actions on it: edit, check the key, remove. */
export function ConnectionCard({
  host,
  checkingKey: checking,
  onCheckingKey: setChecking,
}: {
  host: HostSummary;
  /** Whether the host key check is open; the page opens it too, from a probe's key error. */
  checkingKey: boolean;
  onCheckingKey: (checking: boolean) => void;
}) {
  const hosts = useHostList();
  const [dialog, setDialog] = useState<'edit' | 'remove' | null>(null);
  // Changing and removing hosts is an admin's; checking the key only reads it (trusting it is gated where it is offered).
  // With the host: an install's access policy (abac) can refuse editing it or trusting its key, naming the rule.
  const managing = useAllowed('manage-hosts', { hostId: host.id });
  const trusting = useAllowed('trust-key', { hostId: host.id });
  const jump = host.jumpHostId === null ? null : hosts.data?.find((h) => h.id === host.jumpHostId);
  return (
    <Card
      title="Connection"
      testId="connection-card"
      actions={
        <>
          <button
            type="button"
            className="button"
            onClick={() => setDialog('edit')}
            disabled={!managing.allowed}
            title={managing.reason ?? undefined}
          >
            Edit
          </button>
          <button type="button" className="button" onClick={() => setChecking(true)} disabled={checking}>
            Check host key
          </button>
          <button
            type="button"
            className="button button-danger-quiet"
            onClick={() => setDialog('remove')}
            disabled={!managing.allowed}
            title={managing.reason ?? undefined}
          >
            Remove
          </button>
        </>
      }
    >
      <DeniedNote allowed={managing} testId="connection-denied" />
      <dl className="facts facts-wide">
        <Fact label="Address">
          <span className="mono">
            {host.address}:{host.port}
          </span>
        </Fact>
        <Fact label="User">
          <span className="mono">{host.user}</span>
        </Fact>
        <Fact label="Log in with">
          {authText(host)}
          {host.keyPath ? <div className="cell-sub mono">{host.keyPath}</div> : null}
        </Fact>
        <Fact label="Jump host">
          {host.jumpHostId === null ? (
            'None: direct'
          ) : jump ? (
            <a href={hrefFor({ name: 'host', hostId: jump.id })}>
              {jump.name} <span className="muted">({jump.address})</span>
            </a>
          ) : (
            `#${host.jumpHostId}`
          )}
        </Fact>
        <Fact label="Role">{host.role ? ROLE_LABELS[host.role] : <span className="muted">Not decided</span>}</Fact>
        <Fact label="Labels">
          {host.labels.length === 0 ? (
            <span className="muted">None</span>
          ) : (
            <span className="labels">
              {host.labels.map((label) => (
                <span key={label} className="label">
                  {label}
                </span>
              ))}
            </span>
          )}
        </Fact>
        <Fact label="Host key" testId="pinned-key">
          {host.hostKey ? (
            <>
              <KeyLine keyType={host.hostKey.keyType} fingerprint={host.hostKey.fingerprint} />
              <div className="cell-sub">Trusted {formatDateTime(host.hostKey.trustedAt)}</div>
            </>
          ) : (
            <span className="status status-warn">
              Not trusted yet: the app will not log in until {trusting.allowed ? 'you confirm' : 'an admin confirms'} its key
            </span>
          )}
        </Fact>
      </dl>
      {checking ? <KeyCheckSection host={host} onDismiss={() => setChecking(false)} /> : null}
      {dialog === 'edit' ? <EditHostDialog host={host} hosts={hosts.data ?? [host]} onClose={() => setDialog(null)} /> : null}
      {dialog === 'remove' ? <RemoveDialog host={host} onClose={() => setDialog(null)} /> : null}
    </Card>
  );
}
