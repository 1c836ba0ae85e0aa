import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { MAX_REPLICAS, MIN_REPLICAS, type FleetActionResult, type FleetProcess } from '../../../../electron/contract';
import { apiKey } from '../../api/queries';
import { useApiAction } from '../../api/use-api-action';
import { DeniedNote } from '../../operators/denied-note';
import { useAllowed } from '../../operators/use-session';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { ErrorNotice } from '../../ui/query-state';

type Action = 'start' | 'stop' | 'restart' | 'scale';

interface Pending {
  action: Action;
  replicas?: number;
}

const DONE: Record<Action, string> = { start: 'started', stop: 'stopped', restart: 'restarted', scale: 'scaled' };

function outcome(result: FleetActionResult): string {
  const after = result.after;
  const states = after ? after.instances.map((i) => `${i.instance} ${i.state}`).join(', ') : 'not reported';
  const replicas = after ? `, ${after.replicas} replica${after.replicas === 1 ? '' : 's'}` : '';
  return `${result.process} ${DONE[result.action]}${replicas}: ${states || 'no instance'}.`;
}

/**
 * Start, stop, restart and scale one process of a host through its runtime (H5's
 * fleet.start|stop|restart|scale). Stopping, restarting and scaling down are confirmed
 * first; the outcome is said beside the buttons and the process table is read again.
 */
export function ProcessControls({ hostId, process }: { hostId: number; process: FleetProcess }) {
  const queryClient = useQueryClient();
  const start = useApiAction('fleet.start');
  const stop = useApiAction('fleet.stop');
  const restart = useApiAction('fleet.restart');
  const scale = useApiAction('fleet.scale');
  const [confirming, setConfirming] = useState<Pending | null>(null);
  const [replicas, setReplicas] = useState(String(process.replicas));
  const [outcomeText, setOutcomeText] = useState<string | null>(null);
  const [lastAction, setLastAction] = useState<Action | null>(null);
  const busy = start.pending || stop.pending || restart.pending || scale.pending;
  // Disabled with the reason when the operator's role may not (the backend refuses the call anyway).
  // The resource lets an install's access policy (abac) disable them too, naming its rule.
  const control = useAllowed('control', { hostId, process: process.name });
  const scaling = useAllowed('scale', { hostId, process: process.name });

  async function run(pending: Pending) {
    setConfirming(null);
    setOutcomeText(null);
    setLastAction(pending.action);
    const params = { hostId, process: process.name };
    const result =
      pending.action === 'scale'
        ? await scale.run({ ...params, replicas: pending.replicas ?? process.replicas })
        : await { start, stop, restart }[pending.action].run(params);
    if (result) setOutcomeText(outcome(result));
    await queryClient.invalidateQueries({ queryKey: apiKey('fleet.processes', { hostId }) });
  }

  const actions = { start, stop, restart, scale } as const;
  const lastState = lastAction ? actions[lastAction].state : null;

  function ask(pending: Pending) {
    const destructive =
      pending.action === 'stop' ||
      pending.action === 'restart' ||
      (pending.action === 'scale' && (pending.replicas ?? 0) < process.replicas);
    if (destructive) setConfirming(pending);
    else void run(pending);
  }

  const wanted = Number(replicas);
  const replicasValid = Number.isInteger(wanted) && wanted >= MIN_REPLICAS && wanted <= MAX_REPLICAS && replicas.trim() !== '';
  return (
    <div className="process-controls" data-testid={`controls-${process.name}`} aria-busy={busy}>
      <div className="actions">
        {(['start', 'stop', 'restart'] as const).map((action) => (
          <button
            key={action}
            type="button"
            className="button"
            disabled={busy || !control.allowed}
            title={control.reason ?? undefined}
            onClick={() => ask({ action })}
          >
            {capital(action)}
          </button>
        ))}
        <label className="scale-field">
          <span>Replicas</span>
          <input
            type="number"
            className="input input-inline"
            min={MIN_REPLICAS}
            max={MAX_REPLICAS}
            value={replicas}
            aria-label={`Replicas of ${process.name}`}
            aria-invalid={!replicasValid}
            disabled={!scaling.allowed}
            onChange={(e) => setReplicas(e.target.value)}
          />
        </label>
        <button
          type="button"
          className="button"
          disabled={busy || !scaling.allowed || !replicasValid || wanted === process.replicas}
          title={scaling.reason ?? (replicasValid ? undefined : `A whole number from ${MIN_REPLICAS} to ${MAX_REPLICAS}`)}
          onClick={() => ask({ action: 'scale', replicas: wanted })}
        >
          Scale
        </button>
      </div>
      <DeniedNote allowed={control.allowed ? scaling : control} testId="controls-denied" />
      {!replicasValid ? (
        <p className="field-error" role="alert">
          Replicas: a whole number from {MIN_REPLICAS} to {MAX_REPLICAS}.
        </p>
      ) : null}
      {busy ? (
        <p role="status" className="muted">
          Asking the runtime…
        </p>
      ) : null}
      {outcomeText ? (
        <p role="status" className="action-outcome" data-testid="action-outcome">
          {outcomeText}
        </p>
      ) : null}
      {lastAction && lastState?.status === 'error' ? (
        <ErrorNotice title={`Could not ${lastAction} ${process.name}`} error={lastState.error} />
      ) : null}
      {confirming ? (
        <ConfirmDialog
          title={`${capital(confirming.action)} ${process.name}?`}
          description={describe(confirming, process)}
          testId="confirm-action"
          confirmLabel={capital(confirming.action)}
          onConfirm={() => void run(confirming)}
          onClose={() => setConfirming(null)}
        >
          <p>Each action is recorded as an event with who asked for it.</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function describe(pending: Pending, process: FleetProcess): string {
  const running = process.instances.map((i) => i.instance).join(', ') || 'no instance';
  switch (pending.action) {
    case 'stop':
      return `Every instance (${running}) stops and stays stopped until started.`;
    case 'restart':
      return `Every instance (${running}) stops and starts again, one after another.`;
    case 'scale':
      return `From ${process.replicas} to ${pending.replicas} replicas: the newest instances stop. Recorded in the install's definition, so applying it again keeps it.`;
    case 'start':
      return `Every instance of ${process.name} starts.`;
  }
}
