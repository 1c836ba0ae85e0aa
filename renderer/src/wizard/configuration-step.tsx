import { useCallback, useId, useState } from 'react';
import { useHostList } from '../api/queries';
import { Card } from '../ui/card';
import { InstallConfiguration } from '../config/install-configuration';
import { useConfigCheck, type ConfigCheckState } from '../config/use-config-check';
import { checkParams } from '../config/config-draft';
import { HostOverrides } from './host-overrides';
import type { WizardDraftHandle } from './use-wizard-draft';
import { configDraftOf, hostConfigsProblem, installNameProblem } from './wizard-draft';
import { WizardNav } from './wizard-nav';

/**
 * Step 5: the install's name, its environment profile and values, and each machine's
 * override, all checked as they are typed; any of them refused keeps the review away.
 */
export function ConfigurationStep({ wizard }: { wizard: WizardDraftHandle }) {
  const { draft } = wizard;
  const nameId = useId();
  const hosts = useHostList();
  const config = configDraftOf(draft);
  // The same layers as the editor below: one query, answered once for both.
  const check = useConfigCheck(checkParams(config));
  const [hostChecks, setHostChecks] = useState<ReadonlyMap<number, ConfigCheckState>>(new Map());
  const onHostState = useCallback((hostId: number, state: ConfigCheckState | null) => {
    setHostChecks((current) => {
      if ((current.get(hostId) ?? null) === state) return current;
      const next = new Map(current);
      if (state === null) next.delete(hostId);
      else next.set(hostId, state);
      return next;
    });
  }, []);

  const nameProblem = installNameProblem(draft.installName);
  const configProblem =
    check.state === 'checking'
      ? 'Checking the configuration…'
      : check.state === 'error'
        ? 'The configuration could not be checked.'
        : check.state === 'invalid'
          ? 'Correct the configuration: the install would stop on it.'
          : null;
  const problem = nameProblem ?? configProblem ?? hostConfigsProblem(draft, hosts.data ?? [], hostChecks);

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
          <p className={nameProblem ? 'field-error' : 'field-hint'}>
            {nameProblem ?? 'Names the install and its own certificate authority (“SutazAI CA name”).'}
          </p>
        </div>
      </Card>
      <InstallConfiguration
        draft={config}
        onChange={(next) => wizard.update({ environment: next.environment, config: { name: next.name, text: next.text } })}
      />
      <HostOverrides wizard={wizard} onState={onHostState} />
      <WizardNav
        onBack={() => void wizard.go('roles')}
        nextLabel="Next: review the plan"
        onNext={() => void wizard.go('review')}
        problem={problem}
      />
    </div>
  );
}
