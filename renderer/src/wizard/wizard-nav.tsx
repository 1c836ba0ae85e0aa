import type { ReactNode } from 'react';

/**
 * The foot of every wizard step: back, and on to the next step once this one allows it,
 * with the reason in words while it does not.
 */
export function WizardNav({
  onBack,
  backDisabled = false,
  nextLabel,
  onNext,
  nextDisabled = false,
  pending = false,
  problem = null,
  children,
}: {
  onBack?: () => void;
  backDisabled?: boolean;
  nextLabel?: string;
  onNext?: () => void;
  nextDisabled?: boolean;
  pending?: boolean;
  /** Why Next is not possible yet. */
  problem?: string | null;
  /** More actions, between back and next. */
  children?: ReactNode;
}) {
  return (
    <div className="wizard-nav" data-testid="wizard-nav">
      <div className="actions">
        {onBack ? (
          <button type="button" className="button" onClick={onBack} disabled={backDisabled} data-testid="wizard-back">
            ← Back
          </button>
        ) : null}
        {children}
      </div>
      <div className="wizard-nav-next">
        {problem ? (
          <p className="wizard-nav-problem" data-testid="wizard-problem">
            {problem}
          </p>
        ) : null}
        {onNext && nextLabel ? (
          <button
            type="button"
            className="button button-primary"
            onClick={onNext}
            disabled={nextDisabled || problem !== null || pending}
            data-testid="wizard-next"
          >
            {pending ? 'Please wait…' : nextLabel}
          </button>
        ) : null}
      </div>
    </div>
  );
}
