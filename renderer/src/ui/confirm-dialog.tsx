import type { ReactNode } from 'react';
import { ModalDialog } from './modal-dialog';

/**
 * Asks before an action that cannot be taken back: Cancel, or the danger button, which has
 * the focus first (Enter confirms what the operator just asked for) and closes the dialog
 * before it acts.
 */
export function ConfirmDialog({
  title,
  description,
  testId,
  confirmLabel,
  onConfirm,
  onClose,
  children,
}: {
  title: ReactNode;
  description: ReactNode;
  testId: string;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  children: ReactNode;
}) {
  return (
    <ModalDialog
      title={title}
      description={description}
      onClose={onClose}
      testId={testId}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            data-autofocus
            onClick={() => {
              onClose();
              onConfirm();
            }}
          >
            {confirmLabel}
          </button>
        </>
      }
    >
      {children}
    </ModalDialog>
  );
}
