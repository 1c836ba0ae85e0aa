import { useState } from 'react';
import type { WizardStep } from '../../../electron/contract';
import { EmptyState, ErrorNotice, LoadingState } from '../ui/query-state';
import { DeniedNote } from '../operators/denied-note';
import { useAllowed } from '../operators/use-session';
import { hrefFor } from '../router/route';
import { BundleStep } from './bundle-step';
import { ConfigurationStep } from './configuration-step';
import { DoneStep } from './done-step';
import { HostsStep } from './hosts-step';
import { InstallStep } from './install-step';
import { PreflightStep } from './preflight-step';
import { ReviewStep } from './review-step';
import { RolesStep } from './roles-step';
import { useWizardDraft, type SaveState, type WizardDraftHandle } from './use-wizard-draft';
import { STEP_LABELS, stepIndex } from './wizard-draft';
import { WizardStepper } from './wizard-stepper';

function StepBody({ step, wizard }: { step: WizardStep; wizard: WizardDraftHandle }) {
  switch (step) {
    case 'bundle':
      return <BundleStep wizard={wizard} />;
    case 'hosts':
      return <HostsStep wizard={wizard} />;
    case 'preflight':
      return <PreflightStep wizard={wizard} />;
    case 'roles':
      return <RolesStep wizard={wizard} />;
    case 'configuration':
      return <ConfigurationStep wizard={wizard} />;
    case 'review':
      return <ReviewStep wizard={wizard} />;
    case 'install':
      return <InstallStep wizard={wizard} />;
    case 'done':
      return <DoneStep wizard={wizard} />;
  }
}

function SaveStatus({ save, onRetry }: { save: SaveState; onRetry: () => void }) {
  if (save.status === 'error') {
    return <ErrorNotice title="Your choices were not saved" error={save.error} onRetry={onRetry} />;
  }
  const text = save.status === 'saved' ? 'Saved' : 'Saving…';
  return (
    <span className="wizard-saved muted" role="status" data-testid="wizard-saved" data-state={save.status}>
      {text}
    </span>
  );
}

/** Discarding asks once more: the draft holds every choice made so far. */
function StartOver({ onDiscard }: { onDiscard: () => Promise<void> }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className="button" onClick={() => setAsking(true)}>
        Start over
      </button>
    );
  }
  return (
    <span className="actions" role="group" aria-label="Start over">
      <span className="muted">Forget every choice of this install?</span>
      <button
        type="button"
        className="button button-danger"
        onClick={() => {
          setAsking(false);
          void onDiscard();
        }}
      >
        Forget them
      </button>
      <button type="button" className="button" onClick={() => setAsking(false)}>
        Keep
      </button>
    </span>
  );
}

/**
 * The install wizard: bundle, hosts, preflight, roles, configuration, plan, install,
 * done. Every choice is kept in the backend's store as it is made, so a reload, or the
 * app closed and opened again, continues at the same step with the same values.
 */
export function InstallWizardPage() {
  const wizard = useWizardDraft();
  // Every choice is saved as a draft, which a viewer may not write: the steps would only fail to save.
  const drafting = useAllowed('draft');
  return (
    <section className="page wizard" data-testid="install-wizard" data-step={wizard.status === 'ready' ? wizard.draft.step : undefined}>
      <header className="page-head">
        <div>
          <h1>Install</h1>
          <p className="page-sub">
            SutazAI’s core and agents from a signed bundle onto your machines, step by step; nothing changes on them before the install
            step.
          </p>
        </div>
        {wizard.status === 'ready' && drafting.allowed ? (
          <div className="actions">
            <SaveStatus save={wizard.save} onRetry={wizard.retrySave} />
            {stepIndex(wizard.draft.step) < stepIndex('install') ? <StartOver onDiscard={wizard.discard} /> : null}
          </div>
        ) : null}
      </header>
      {wizard.status === 'loading' && drafting.allowed ? <LoadingState label="Loading where you were…" /> : null}
      {wizard.status === 'error' && drafting.allowed ? (
        <ErrorNotice title="Could not load the install draft" error={wizard.error} onRetry={wizard.retry} />
      ) : null}
      {!drafting.allowed ? (
        <>
          <DeniedNote allowed={drafting} testId="wizard-denied" />
          <EmptyState title="The install wizard is for operators and admins">
            An operator prepares an install here, step by step, and an admin starts it. What is installed already is on the{' '}
            <a href={hrefFor({ name: 'installs' })}>Installs</a> page.
          </EmptyState>
        </>
      ) : wizard.status === 'ready' ? (
        <>
          <WizardStepper
            step={wizard.draft.step}
            locked={stepIndex(wizard.draft.step) >= stepIndex('install')}
            onOpen={(step) => void wizard.go(step)}
          />
          <h2 className="wizard-title" data-testid="wizard-title">
            {stepIndex(wizard.draft.step) + 1}. {STEP_LABELS[wizard.draft.step]}
          </h2>
          <StepBody key={wizard.draft.step} step={wizard.draft.step} wizard={wizard} />
        </>
      ) : null}
    </section>
  );
}
