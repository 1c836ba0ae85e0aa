import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { HostSummary } from '../../../electron/contract';
import type { ActionState } from '../api/use-api-action';
import type { FieldErrors, HostFormValues } from './host-form';
import { withServerError } from './host-form-errors';
import { HostFormFields } from './host-form-fields';
import { ModalDialog } from '../ui/modal-dialog';
import { ErrorNotice } from '../ui/query-state';

export interface HostFormState {
  values: HostFormValues;
  errors: FieldErrors;
  setErrors: (errors: FieldErrors) => void;
  onChange: (patch: Partial<HostFormValues>) => void;
  /** Secrets leave the form state as soon as they were sent; the dialog keeps nothing to echo back. */
  forgetSecrets: () => void;
}

/** What the add and edit host forms hold while open. */
export function useHostFormState(initial: HostFormValues | (() => HostFormValues)): HostFormState {
  const [values, setValues] = useState<HostFormValues>(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const onChange = (patch: Partial<HostFormValues>) => {
    setValues((current) => ({ ...current, ...patch }));
    // A field's error goes once it is edited; the rest stay until the next submit.
    setErrors((current) => {
      const next = { ...current };
      for (const key of Object.keys(patch)) delete next[key as keyof FieldErrors];
      return next;
    });
  };
  const forgetSecrets = () => setValues((current) => ({ ...current, passphrase: '', privateKey: '', password: '', sudoPassword: '' }));
  return { values, errors, setErrors, onChange, forgetSecrets };
}

/** After a successful submit: the host key the operator confirms next, in the same dialog. */
export interface KeyCheckStep {
  title: string;
  /** Why the key needs confirming. */
  description: string;
  body: ReactNode;
}

/**
 * Adding or editing a host: the connection fields, then, once `keyCheck` is set, the host
 * key to confirm, in the same dialog. The backend's refusal of the form shows at its field
 * when it names one, and in full below the form.
 */
export function HostFormDialog({
  title,
  description,
  testId,
  form,
  jumpCandidates,
  editing,
  action,
  submitLabel,
  pendingLabel,
  failureTitle,
  onSubmit,
  keyCheck,
  onClose,
}: {
  title: string;
  description: string;
  testId: string;
  form: HostFormState;
  /** SSH hosts this one may connect through. */
  jumpCandidates: HostSummary[];
  /** The stored host when editing. */
  editing?: HostSummary;
  /** The state of the contract call the form sends. */
  action: ActionState<unknown>;
  submitLabel: string;
  pendingLabel: string;
  /** The title of the notice when the backend refuses. */
  failureTitle: string;
  onSubmit: () => Promise<void>;
  keyCheck: KeyCheckStep | null;
  onClose: () => void;
}) {
  const formId = useId();
  const failure = useRef<HTMLDivElement>(null);
  // The refusal is below a long form: bring it into view when it arrives.
  useEffect(() => {
    if (action.status === 'error') failure.current?.scrollIntoView({ block: 'nearest' });
  }, [action]);
  if (keyCheck) {
    return (
      <ModalDialog title={keyCheck.title} description={keyCheck.description} onClose={onClose} testId={testId} wide>
        {keyCheck.body}
      </ModalDialog>
    );
  }

  const pending = action.status === 'pending';
  return (
    <ModalDialog
      title={title}
      description={description}
      onClose={onClose}
      testId={testId}
      wide
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="button button-primary" disabled={pending}>
            {pending ? pendingLabel : submitLabel}
          </button>
        </>
      }
    >
      <form
        id={formId}
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void onSubmit();
        }}
      >
        <HostFormFields
          values={form.values}
          onChange={form.onChange}
          errors={withServerError(form.errors, action)}
          jumpCandidates={jumpCandidates}
          editing={editing}
        />
        {action.status === 'error' ? (
          <div ref={failure}>
            <ErrorNotice title={failureTitle} error={action.error} />
          </div>
        ) : null}
      </form>
    </ModalDialog>
  );
}
