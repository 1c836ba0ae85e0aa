import { useId, useState } from 'react';
import type { InstallRecord } from '../../../electron/contract';
import { useApiAction } from '../api/use-api-action';
import { ModalDialog } from '../ui/modal-dialog';
import { ErrorNotice } from '../ui/query-state';

/**
 * Uninstall every host, or one, after the operator types the install's name: the runtime
 * and its processes stop, the service goes, and exactly what the install made is removed.
 */
export function UninstallDialog({
  install,
  host,
  onClose,
  onStarted,
}: {
  install: InstallRecord;
  host?: string;
  onClose: () => void;
  onStarted: (jobId: string) => void;
}) {
  const nameId = useId();
  const [typed, setTyped] = useState('');
  const uninstall = useApiAction('installs.uninstall');
  const start = async () => {
    const started = await uninstall.run({ name: install.name, ...(host !== undefined ? { host } : {}) });
    if (started) onStarted(started.jobId);
  };
  const everything = host === undefined || install.hosts.length === 1;
  return (
    <ModalDialog
      title={host === undefined ? `Uninstall ${install.name}` : `Uninstall ${install.name} from ${host}`}
      description={`The runtime and everything it supervises stop, its service is removed, and exactly the paths the install made are deleted, releases included; nothing else on ${host ?? 'the hosts'} is touched.${everything ? ' With no host left, the install’s record and its CA key go too.' : ''}`}
      onClose={onClose}
      testId="uninstall-dialog"
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Keep it
          </button>
          <button
            type="button"
            className="button button-danger"
            onClick={() => void start()}
            disabled={typed !== install.name || uninstall.pending}
            data-testid="uninstall-confirm"
          >
            {uninstall.pending ? 'Starting…' : 'Uninstall'}
          </button>
        </>
      }
    >
      <div className="stack">
        <div className="field confirm-name">
          <label className="field-label" htmlFor={nameId}>
            Type <span className="mono">{install.name}</span> to confirm
          </label>
          <input
            id={nameId}
            className="input mono"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
            autoComplete="off"
            spellCheck={false}
            data-testid="uninstall-name"
            data-autofocus
          />
        </div>
        {uninstall.state.status === 'error' ? <ErrorNotice title="The uninstall did not start" error={uninstall.state.error} /> : null}
      </div>
    </ModalDialog>
  );
}
