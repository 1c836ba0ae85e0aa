import { useEffect, useId, useRef, type ReactNode } from 'react';

/**
 * A modal on the platform's own `<dialog>`: `showModal()` makes the rest of the page
 * inert (focus cannot leave the dialog for it), Escape closes, and focus returns to
 * where it was. The dialog is open while mounted; the parent unmounts it to close.
 * The element marked `data-autofocus` gets the focus first.
 */
export function ModalDialog({
  title,
  description,
  onClose,
  testId,
  wide = false,
  children,
  footer,
}: {
  title: ReactNode;
  description?: ReactNode;
  onClose: () => void;
  testId?: string;
  wide?: boolean;
  children: ReactNode;
  footer?: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    // showModal focuses the first control (the close button); a form wants its first field.
    dialog.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    return () => {
      if (dialog.open) dialog.close();
      // Back to the button that opened it, if it is still on the page.
      if (returnTo?.isConnected) returnTo.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={wide ? 'dialog dialog-wide' : 'dialog'}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      data-testid={testId}
      onCancel={(event) => {
        // Escape: let React decide (unmounting closes it), so state and DOM agree. Only
        // the innermost dialog closes: React would pass the event on to one that opened it.
        event.preventDefault();
        event.stopPropagation();
        onClose();
      }}
    >
      <header className="dialog-head">
        <div>
          <h2 id={titleId} className="dialog-title">
            {title}
          </h2>
          {description ? (
            <p id={descriptionId} className="dialog-description">
              {description}
            </p>
          ) : null}
        </div>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      <div className="dialog-body">{children}</div>
      {footer ? <footer className="dialog-foot">{footer}</footer> : null}
    </dialog>
  );
}
