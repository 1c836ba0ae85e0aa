import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { createPortal } from 'react-dom';
import { ApiError, type MethodResult } from '../../../electron/contract';
import { apiKey, useApiQuery } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { FormField } from '../ui/form-field';
import { ModalDialog } from '../ui/modal-dialog';
import { useAllowed } from '../operators/use-session';

type VaultStatus = MethodResult<'secrets.status'>;

function failureText(error: unknown): string {
  return error instanceof ApiError ? `${error.message} ${error.remedy}` : String(error);
}

/**
 * Asks for the vault passphrase and opens the vault with it. The passphrase lives only
 * in this dialog's state and in the one `secrets.unlock` request over the page's
 * authenticated connection; the backend neither stores nor logs it. On a data
 * directory with nothing sealed yet it becomes the passphrase, so it is asked twice.
 */
export function VaultUnlockDialog({ status, onClose, onUnlocked }: { status: VaultStatus; onClose: () => void; onUnlocked: () => void }) {
  const queryClient = useQueryClient();
  const unlock = useApiAction('secrets.unlock');
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const [differs, setDiffers] = useState(false);
  const choosing = status.sealedWith === 'none';

  const submit = async () => {
    if (choosing && passphrase !== repeat) {
      setDiffers(true);
      return;
    }
    setDiffers(false);
    const opened = await unlock.run({ passphrase });
    if (!opened) return;
    await queryClient.invalidateQueries({ queryKey: apiKey('secrets.status') });
    onUnlocked();
  };

  const formId = useId();
  // Portalled to the body: the notice that opens it may sit inside another form (the
  // host dialog's), and a form inside a form would submit both.
  return createPortal(
    <ModalDialog
      title={choosing ? 'Choose the vault passphrase' : 'Unlock the vault'}
      description={
        choosing
          ? 'Nothing is sealed in this data directory yet. The passphrase you choose seals SSH passwords, key passphrases, sudo passwords and each install’s CA key from now on. Web mode asks for it again after each start (or takes SUTAZAI_PASSPHRASE); it cannot be recovered, so keep it safe.'
          : 'Stored passwords, passphrases and CA keys are sealed with the passphrase of this data directory (the one set with SUTAZAI_PASSPHRASE or chosen here). It opens them until web mode stops.'
      }
      onClose={onClose}
      testId="vault-unlock-dialog"
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            form={formId}
            className="button button-primary"
            disabled={unlock.pending || passphrase === ''}
            data-testid="vault-unlock-submit"
          >
            {unlock.pending ? 'Unlocking…' : choosing ? 'Set the passphrase' : 'Unlock'}
          </button>
        </>
      }
    >
      <form
        id={formId}
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          // React bubbles the event along the component tree, portals included.
          event.stopPropagation();
          void submit();
        }}
      >
        <FormField
          label="Passphrase"
          hint="Sent only over this page’s authenticated connection; never stored or logged."
          error={unlock.state.status === 'error' ? failureText(unlock.state.error) : undefined}
          testId="vault-passphrase-field"
        >
          <input
            className="input"
            type="password"
            value={passphrase}
            onChange={(event) => setPassphrase(event.target.value)}
            autoComplete={choosing ? 'new-password' : 'current-password'}
            data-testid="vault-passphrase"
            data-autofocus
          />
        </FormField>
        {choosing ? (
          <FormField label="Repeat the passphrase" error={differs ? 'The two passphrases differ.' : undefined}>
            <input
              className="input"
              type="password"
              value={repeat}
              onChange={(event) => setRepeat(event.target.value)}
              autoComplete="new-password"
              data-testid="vault-passphrase-repeat"
            />
          </FormField>
        ) : null}
      </form>
    </ModalDialog>,
    document.body,
  );
}

/**
 * What an error notice offers when an action was refused with SECRETS_LOCKED: open the
 * vault here, then retry (at once when the notice can retry, else by the operator). Shows
 * nothing where a passphrase cannot open it (the desktop app's OS secret store) or the
 * vault is open already (the refusal was about one secret, not the lock).
 */
export function VaultUnlockOffer({ onUnlocked }: { onUnlocked?: (() => void) | undefined }) {
  const status = useApiQuery('secrets.status', {}, { staleTime: 0 });
  const [asking, setAsking] = useState(false);
  const [unlocked, setUnlocked] = useState(false);
  // Opening the vault lets stored passwords be used: an operator's, not a viewer's.
  const unlocking = useAllowed('unlock');
  if (unlocked && !onUnlocked) {
    return (
      <span className="notice-note" role="status" data-testid="vault-unlocked">
        The vault is open: try again.
      </span>
    );
  }
  if (!status.data || status.data.unlocked || !status.data.acceptsPassphrase) return null;
  return (
    <>
      <button
        type="button"
        className="button button-primary"
        onClick={() => setAsking(true)}
        disabled={!unlocking.allowed}
        title={unlocking.reason ?? undefined}
        data-testid="vault-unlock-open"
      >
        {status.data.sealedWith === 'none' ? 'Choose a vault passphrase…' : 'Unlock the vault…'}
      </button>
      {asking ? (
        <VaultUnlockDialog
          status={status.data}
          onClose={() => setAsking(false)}
          onUnlocked={() => {
            setAsking(false);
            setUnlocked(true);
            onUnlocked?.();
          }}
        />
      ) : null}
    </>
  );
}
