import type { HostPlan, InstallDefinition, PlannedStep } from '../../../electron/contract';
import { useApiQuery, useBundles, useHostList } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { Card } from '../ui/card';
import { EmptyState, ErrorNotice, LoadingState } from '../ui/query-state';
import { formatBytes } from '../format/bytes';
import { ROLE_LABELS } from '../hosts/host-form';
import type { WizardDraftHandle } from './use-wizard-draft';
import { definitionOf } from './wizard-draft';
import { WizardNav } from './wizard-nav';
import { useAllowed } from '../operators/use-session';

const STATE_TEXT: Record<PlannedStep['state'], string> = { done: 'Already done', todo: 'To do', check: 'Checked', blocked: 'Blocked' };

const PRIVILEGE_TEXT: Record<string, string> = {
  root: 'as root',
  'sudo-nopasswd': 'through sudo',
  'sudo-password': 'through sudo (password fed on stdin)',
  none: 'without root or sudo',
};

export function HostPlanView({ plan }: { plan: HostPlan }) {
  const matching = plan.steps.filter((s) => s.state === 'done').length;
  return (
    <section className="wizard-host" data-testid="wizard-plan-host" data-host-name={plan.host} data-blocked={String(plan.error !== null)}>
      <header className="wizard-host-head">
        <h3 className="host-name">{plan.host}</h3>
        <span className="muted">
          {ROLE_LABELS[plan.role]}
          {plan.gpu ? ', GPU agents' : ''}
          {plan.mode ? ` · ${plan.mode === 'system' ? 'system-wide' : 'per-user'} under ${plan.root}` : ''}
          {plan.service ? ` · ${plan.service === 'systemd' ? 'systemd unit' : 'detached mode'}` : ''}
          {plan.privilege ? ` · ${PRIVILEGE_TEXT[plan.privilege] ?? plan.privilege}` : ''}
        </span>
        <span className="wizard-host-count" data-testid="wizard-plan-matching">
          {matching} of {plan.steps.length} steps already match
        </span>
      </header>
      {plan.error ? <ErrorNotice title={`${plan.host} cannot be installed as it is`} error={plan.error} /> : null}
      <ol className="plan-steps">
        {plan.steps.map((step) => (
          <li
            key={step.step}
            className={`plan-step plan-step-${step.state}`}
            data-testid="wizard-plan-step"
            data-step={step.step}
            data-state={step.state}
          >
            <span className={`badge plan-state plan-state-${step.state}`}>{STATE_TEXT[step.state]}</span>
            <span className="plan-step-name mono">{step.step}</span>
            <span className="plan-step-detail">{step.detail}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Plan({ definition, wizard }: { definition: InstallDefinition; wizard: WizardDraftHandle }) {
  // Each visit looks at the hosts anew: what matches changes as hosts do.
  const plan = useApiQuery('installs.plan', { install: definition }, { staleTime: 0, gcTime: 0 });
  const start = useApiAction('installs.start');
  // An operator prepares the install; starting it is an admin's.
  const installing = useAllowed('install');
  const data = plan.data;
  const blocked = data?.hosts.filter((h) => h.error !== null) ?? [];
  const install = async () => {
    const started = await start.run({ install: definition });
    if (started) await wizard.go('install', { installJobId: started.jobId });
  };
  return (
    <>
      <Card
        title="The plan"
        aside={
          data
            ? data.upToDate
              ? 'Every step already matches: installing changes nothing'
              : `${data.bundle.name} ${data.bundle.version}, ${formatBytes(data.bundle.sizeBytes)}`
            : undefined
        }
        actions={
          <button
            type="button"
            className="button"
            onClick={() => void plan.refetch()}
            disabled={plan.isFetching}
            data-testid="wizard-plan-again"
          >
            {plan.isFetching ? 'Planning…' : 'Plan again'}
          </button>
        }
        testId="wizard-plan"
      >
        <div className="stack">
          <p className="field-hint">
            Each machine was logged in to and looked at; nothing was changed. A step that already matches is skipped by the install.
          </p>
          {plan.isError ? <ErrorNotice title="The plan could not be made" error={plan.error} onRetry={() => void plan.refetch()} /> : null}
          {!data && plan.isFetching ? <LoadingState label="Looking at each machine…" /> : null}
          {data ? data.hosts.map((host) => <HostPlanView key={host.host} plan={host} />) : null}
        </div>
      </Card>
      {start.state.status === 'error' ? (
        <ErrorNotice title="The install did not start" error={start.state.error} onRetry={() => void install()} />
      ) : null}
      <WizardNav
        onBack={() => void wizard.go('configuration')}
        nextLabel={data?.upToDate ? 'Install (nothing to change)' : 'Install'}
        onNext={() => void install()}
        pending={start.pending}
        problem={
          installing.reason ??
          (!data
            ? plan.isError
              ? 'The plan must be made first.'
              : 'Wait for the plan.'
            : blocked.length > 0
              ? `Resolve what blocks ${blocked.map((h) => h.host).join(', ')}, then plan again.`
              : null)
        }
      />
    </>
  );
}

/** Which machines get their own override layer, by the file name its errors and origins carry. */
function HostOverridesSummary({ hosts }: { hosts: InstallDefinition['hosts'] }) {
  const overridden = hosts.flatMap((h) => (h.config && 'text' in h.config ? [{ host: h.name, file: h.config.name }] : []));
  if (overridden.length === 0) return <>none: every machine takes the install’s values</>;
  return (
    <>
      {overridden.map(({ host, file }, index) => (
        <span key={host} data-testid="wizard-summary-override" data-host-name={host}>
          {index > 0 ? ', ' : ''}
          {host} <span className="mono muted">({file})</span>
        </span>
      ))}
    </>
  );
}

/** Step 6: the install file the wizard built, and what applying it would do on each machine. */
export function ReviewStep({ wizard }: { wizard: WizardDraftHandle }) {
  const { draft } = wizard;
  const bundles = useBundles();
  const hosts = useHostList();
  const definition =
    bundles.data && hosts.data
      ? definitionOf(
          draft,
          bundles.data.find((b) => b.id === draft.bundleId),
          hosts.data,
        )
      : null;
  return (
    <div className="stack" data-testid="wizard-review-step">
      {definition ? (
        <Card title="What will be installed">
          <dl className="facts facts-wide" data-testid="wizard-summary">
            <dt>Install</dt>
            <dd className="mono">{definition.name}</dd>
            <dt>Bundle</dt>
            <dd className="mono">{definition.bundle}</dd>
            <dt>Environment</dt>
            <dd>{definition.environment ?? 'from the values, else production'}</dd>
            <dt>Machines</dt>
            <dd>
              {definition.hosts.map((h) => `${h.name} (${ROLE_LABELS[h.role].toLowerCase()}${h.gpu ? ', GPU agents' : ''})`).join(', ')}
            </dd>
            <dt>Host overrides</dt>
            <dd data-testid="wizard-summary-overrides">
              <HostOverridesSummary hosts={definition.hosts} />
            </dd>
          </dl>
        </Card>
      ) : null}
      {definition ? (
        <Plan key={JSON.stringify(definition)} definition={definition} wizard={wizard} />
      ) : bundles.isPending || hosts.isPending ? (
        <LoadingState label="Loading…" />
      ) : (
        <>
          <EmptyState title="The install is not complete">
            The bundle or a machine chosen earlier is gone (removed since?), a machine has no role, or the name is not valid. Go back and
            choose again.
          </EmptyState>
          <WizardNav onBack={() => void wizard.go('configuration')} />
        </>
      )}
    </div>
  );
}
