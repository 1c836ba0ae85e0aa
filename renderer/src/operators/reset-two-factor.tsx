import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { Operator } from '../../../electron/contract';
import { apiKey } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { ErrorNotice } from '../ui/query-state';

/**
 * An admin's reset of an operator's two-factor sign-in (a lost phone, no recovery code left):
 * confirmed first; the operator then signs in with the password alone and sets it up again.
 */
export function ResetTwoFactor({ operator, disabledReason }: { operator: Operator; disabledReason: string | null }) {
  const reset = useApiAction('mfa.reset');
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  return (
    <>
      <button
        type="button"
        className="button"
        disabled={disabledReason !== null || reset.pending}
        title={disabledReason ?? undefined}
        onClick={() => setConfirming(true)}
      >
        Reset two-factor
      </button>
      {reset.state.status === 'error' ? (
        <ErrorNotice title={`Two-factor sign-in of ${operator.name} not reset`} error={reset.state.error} />
      ) : null}
      {reset.state.status === 'success' ? (
        <span className="muted" role="status">
          Two-factor sign-in of {operator.name} reset.
        </span>
      ) : null}
      {confirming ? (
        <ConfirmDialog
          title={`Reset the two-factor sign-in of ${operator.name}?`}
          description="Their authenticator app and recovery codes stop working; the password alone signs them in until they set it up again."
          testId="confirm-reset-two-factor"
          confirmLabel="Reset"
          onConfirm={() =>
            void reset.run({ name: operator.name }).then(() => queryClient.invalidateQueries({ queryKey: apiKey('mfa.status') }))
          }
          onClose={() => setConfirming(false)}
        >
          <p>Do this when their phone is lost and no recovery code is left.</p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
