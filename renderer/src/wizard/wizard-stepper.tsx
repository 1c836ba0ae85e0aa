import { WIZARD_STEPS, type WizardStep } from '../../../electron/contract';
import { STEP_LABELS, stepIndex } from './wizard-draft';

/** Where the operator is among the wizard's steps; an earlier step can be opened again until the install starts. */
export function WizardStepper({ step, onOpen, locked }: { step: WizardStep; onOpen: (step: WizardStep) => void; locked: boolean }) {
  const current = stepIndex(step);
  return (
    <ol className="wizard-steps" aria-label="Install steps">
      {WIZARD_STEPS.map((name, index) => {
        const state = index < current ? 'past' : index === current ? 'current' : 'future';
        const open = state === 'past' && !locked;
        return (
          <li
            key={name}
            className={`wizard-step wizard-step-${state}`}
            data-testid="wizard-step"
            data-step={name}
            data-state={state}
            aria-current={state === 'current' ? 'step' : undefined}
          >
            <span className="wizard-step-number" aria-hidden="true">
              {index + 1}
            </span>
            {open ? (
              <button type="button" className="wizard-step-link" onClick={() => onOpen(name)}>
                {STEP_LABELS[name]}
              </button>
            ) : (
              <span className="wizard-step-label">{STEP_LABELS[name]}</span>
            )}
          </li>
        );
      })}
    </ol>
  );
}
