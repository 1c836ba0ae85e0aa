import { useId, useState } from 'react';
import type { InstallRecord } from '../../../electron/contract';
import { useApiAction } from '../api/use-api-action';
import { ModalDialog } from '../ui/modal-dialog';
import { ErrorNotice } from '../ui/query-state';
import { rollbackChoices } from './install-view';

const PREVIOUS = '';

/**
 * Roll back every host, or one, to a kept release (default each host's previous one),
 * host by host and health-gated: a release that does not come up hands the host back.
 */
export function RollbackDialog({
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
  const releaseId = useId();
  const rollback = useApiAction('installs.rollback');
  const hosts = install.hosts.filter((h) => host === undefined || h.hostName === host);
  const choices = rollbackChoices(install, host);
  const [to, setTo] = useState(choices.previous ? PREVIOUS : (choices.versions[0] ?? PREVIOUS));
  const start = async () => {
    const started = await rollback.run({ name: install.name, ...(host !== undefined ? { host } : {}), ...(to !== PREVIOUS ? { to } : {}) });
    if (started) onStarted(started.jobId);
  };
  return (
    <ModalDialog
      title={host === undefined ? `Roll back ${install.name}` : `Roll back ${host}`}
      description="Each host switches to the release chosen, one at a time, and must report its core and agents healthy in time; one that does not returns to the release it ran, and the rollback stops there."
      onClose={onClose}
      testId="rollback-dialog"
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Keep as it is
          </button>
          <button
            type="button"
            className="button button-primary"
            onClick={() => void start()}
            disabled={rollback.pending}
            data-testid="rollback-confirm"
          >
            {rollback.pending ? 'Starting…' : 'Roll back'}
          </button>
        </>
      }
    >
      <div className="stack">
        <div className="field">
          <label className="field-label" htmlFor={releaseId}>
            Release
          </label>
          <select
            id={releaseId}
            className="input"
            value={to}
            onChange={(event) => setTo(event.target.value)}
            data-testid="rollback-release"
            data-autofocus
          >
            {choices.previous ? <option value={PREVIOUS}>Each host’s previous release</option> : null}
            {choices.versions.map((version) => (
              <option key={version} value={version}>
                {version}
              </option>
            ))}
          </select>
          <p className="field-hint">
            Releases kept on {hosts.length === 1 ? hosts[0]!.hostName : 'every host'}; older ones are removed after each upgrade (the
            install’s releases_kept setting says how many stay).
          </p>
        </div>
        {rollback.state.status === 'error' ? <ErrorNotice title="The rollback did not start" error={rollback.state.error} /> : null}
      </div>
    </ModalDialog>
  );
}
