import { useId } from 'react';
import { useApiQuery } from '../api/queries';
import { Card } from '../components/card';
import { InstallConfiguration } from '../components/install-configuration';
import { useDebouncedValue } from '../components/use-debounced-value';
import { checkParams } from '../config/config-draft';
import type { WizardDraftHandle } from './use-wizard-draft';
import { configDraftOf, installNameProblem } from './wizard-draft';
import { WizardNav } from './wizard-nav';

/** As the configuration editor waits before it checks: the same pause asks the same query, answered once. */
const CHECK_DEBOUNCE_MS = 350;

/** Step 5: the install's name, its environment profile and values, checked as they are typed. */
export function ConfigurationStep({ wizard }: { wizard: WizardDraftHandle }) {
  const { draft } = wizard;
  const nameId = useId();
  const config = configDraftOf(draft);
  const params = checkParams(config);
  const settled = useDebouncedValue(params, CHECK_DEBOUNCE_MS);
  const check = useApiQuery('config.check', settled, { keepPrevious: true, staleTime: Infinity, gcTime: 60_000 });
  const current = JSON.stringify(settled) === JSON.stringify(params) && !check.isPlaceholderData && !check.isFetching;
  const nameProblem = installNameProblem(draft.installName);
  const problem =
    nameProblem ??
    (!current ? 'Checking the configuration…' : check.isError ? 'The configuration could not be checked.' : check.data?.valid === false ? 'Correct the configuration: the install would stop on it.' : null);

  return (
    <div className="stack" data-testid="wizard-configuration-step">
      <Card title="The install">
        <div className="field">
          <label className="field-label" htmlFor={nameId}>
            Name
          </label>
          <input
            id={nameId}
            className="input mono wizard-name"
            value={draft.installName}
            onChange={(event) => wizard.update({ installName: event.target.value })}
            aria-invalid={nameProblem !== null}
            autoComplete="off"
            spellCheck={false}
            data-testid="wizard-install-name"
          />
          <p className={nameProblem ? 'field-error' : 'field-hint'}>{nameProblem ?? 'Names the install and its own certificate authority (“SutazAI CA name”).'}</p>
        </div>
      </Card>
      <InstallConfiguration
        draft={config}
        onChange={(next) => wizard.update({ environment: next.environment, config: { name: next.name, text: next.text } })}
      />
      <WizardNav onBack={() => void wizard.go('roles')} nextLabel="Next: review the plan" onNext={() => void wizard.go('review')} problem={problem} />
    </div>
  );
}
