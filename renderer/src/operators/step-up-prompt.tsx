import { useCallback, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useApiClient } from '../api/api-context';
import { StepUpContext } from '../api/step-up';
import { useApiAction } from '../api/use-api-action';
import { FormField } from '../ui/form-field';
import { ModalDialog } from '../ui/modal-dialog';
import { ErrorNotice } from '../ui/query-state';

/**
 * Gives every action (useApiAction) a way to ask for a fresh two-factor code when an admin
 * action is refused for want of one: a dialog asks once, however many actions wait on it;
 * the actions go on when the backend has taken the code. An operator without two-factor
 * sign-in is not asked (the refusal, which says to enrol, shows instead).
 */
export function StepUpProvider({ children }: { children: ReactNode }) {
  const client = useApiClient();
  const [open, setOpen] = useState(false);
  const waiting = useRef<{ promise: Promise<boolean>; resolve: (taken: boolean) => void } | null>(null);

  const ask = useCallback(async () => {
    if (waiting.current) return waiting.current.promise;
    const status = await client.call('mfa.status', {}).catch(() => null);
    if (!status?.enrolled) return false;
    if (waiting.current) return (waiting.current as { promise: Promise<boolean> }).promise;
    let resolve: (taken: boolean) => void = () => undefined;
    const promise = new Promise<boolean>((done) => (resolve = done));
    waiting.current = { promise, resolve };
    setOpen(true);
    return promise;
  }, [client]);

  const finish = (taken: boolean) => {
    waiting.current?.resolve(taken);
    waiting.current = null;
    setOpen(false);
  };

  return (
    <StepUpContext.Provider value={ask}>
      {children}
      {open ? <StepUpDialog onDone={finish} /> : null}
    </StepUpContext.Provider>
  );
}

function StepUpDialog({ onDone }: { onDone: (taken: boolean) => void }) {
  const stepUp = useApiAction('session.stepUp');
  const [code, setCode] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const taken = await stepUp.run({ code: code.trim() });
    setCode('');
    if (taken) onDone(true);
  };
  return (
    <ModalDialog
      title="Confirm with your two-factor code"
      description="Admin actions (install, upgrade, roll back, uninstall, trusting a key, managing operators) need a code typed within the last few minutes."
      onClose={() => onDone(false)}
      testId="step-up"
    >
      <form onSubmit={(event) => void submit(event)}>
        <FormField label="Code" hint="The 6 digits your authenticator app shows now, or one of your recovery codes.">
          <input
            className="input mono"
            name="step-up-code"
            autoComplete="one-time-code"
            inputMode="numeric"
            data-autofocus
            required
            maxLength={64}
            value={code}
            onChange={(event) => setCode(event.target.value)}
          />
        </FormField>
        {stepUp.state.status === 'error' ? <ErrorNotice title="Code not taken" error={stepUp.state.error} /> : null}
        <div className="actions">
          <button type="button" className="button" onClick={() => onDone(false)}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={stepUp.pending || code.trim() === ''}>
            {stepUp.pending ? 'Checking…' : 'Confirm'}
          </button>
        </div>
      </form>
    </ModalDialog>
  );
}
