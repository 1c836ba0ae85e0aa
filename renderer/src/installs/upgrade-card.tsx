import { useId, useState } from 'react';
import type { UpgradeCandidate } from '../../../electron/contract';
import { useApiQuery } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { Card } from '../ui/card';
import { ErrorNotice, LoadingState } from '../ui/query-state';
import { formatBytes } from '../format/bytes';
import { HostPlanView } from '../wizard/review-step';
import { DeniedNote } from '../operators/denied-note';
import { useAllowed } from '../operators/use-session';

/**
 * The upgrade an imported bundle offers: "Upgrade to vX", then the plan (each host looked
 * at, nothing changed), then the rolling apply as a job: hosts switch one at a time, each
 * health-gated, and one that fails returns to its release by itself.
 *
 * An older bundle is never offered: reached by its link ("Downgrade ..." after its import),
 * it is named "Downgrade to vX", says which newer release it replaces, and starts only after
 * the operator types its version.
 */
export function UpgradeCard({
  name,
  preferred,
  busy,
  onStarted,
}: {
  name: string;
  preferred?: string;
  busy: boolean;
  onStarted: (jobId: string) => void;
}) {
  // Read anew on each visit: a bundle imported elsewhere (another window, the CLI) sends no event here.
  const offer = useApiQuery('installs.upgradeOffer', { name }, { staleTime: 0 });
  const [planning, setPlanning] = useState<string | null>(null);
  if (offer.isError) return <ErrorNotice title="Could not look for upgrades" error={offer.error} onRetry={() => void offer.refetch()} />;
  if (!offer.data) return null;
  const { candidates, downgrades, from } = offer.data;
  const wanted = preferred !== undefined ? [...candidates, ...downgrades].find((c) => c.version === preferred) : undefined;
  const chosen = wanted?.compatible ? wanted : offer.data.offer;
  if (!chosen && !wanted) return null;
  const downgrade = chosen !== null && chosen.downgradeFrom.length > 0;
  const title = !chosen
    ? `${wanted!.bundle} cannot be installed here`
    : downgrade
      ? `Downgrade to ${chosen.version}`
      : `Upgrade to ${chosen.version}`;
  const aside = chosen && downgrade ? `from ${chosen.downgradeFrom.join(', ')}` : from ? `from ${from}` : undefined;
  return (
    <Card title={title} aside={aside} testId="upgrade-card">
      <div className="stack" data-testid="upgrade-offer" data-version={chosen?.version ?? ''} data-downgrade={String(downgrade)}>
        {wanted && !wanted.compatible ? <p className="key-panel">{`${wanted.bundle} is not offered: ${wanted.problem}.`}</p> : null}
        {chosen && planning !== chosen.bundle ? (
          <div className="actions">
            {downgrade ? (
              <p className="key-panel" role="note" data-testid="downgrade-warning">
                {chosen.bundle} is older than {chosen.downgradeFrom.join(' and ')}, which hosts of {name} run: this is a downgrade, not an
                upgrade. It may bring back problems the newer release fixed. To return to a release the hosts keep, roll back instead.
              </p>
            ) : (
              <p className="muted">
                {chosen.bundle} was imported; every host runs {from ?? 'nothing yet'}. Upgrading plans first, then switches one host at a
                time, each checked healthy.
              </p>
            )}
            <button
              type="button"
              className={downgrade ? 'button button-danger' : 'button button-primary'}
              onClick={() => setPlanning(chosen.bundle)}
              disabled={busy}
              data-testid="upgrade-plan"
            >
              {downgrade ? `Plan the downgrade to ${chosen.version}` : `Upgrade to ${chosen.version}`}
            </button>
          </div>
        ) : null}
        {chosen && planning === chosen.bundle ? (
          <UpgradePlan
            name={name}
            candidate={chosen}
            busy={busy}
            onCancel={() => setPlanning(null)}
            onStarted={(jobId) => {
              setPlanning(null);
              onStarted(jobId);
            }}
          />
        ) : null}
      </div>
    </Card>
  );
}

function UpgradePlan({
  name,
  candidate,
  busy,
  onCancel,
  onStarted,
}: {
  name: string;
  candidate: UpgradeCandidate;
  busy: boolean;
  onCancel: () => void;
  onStarted: (jobId: string) => void;
}) {
  // Each look at the hosts is fresh: what matches changes as hosts do.
  const plan = useApiQuery('installs.upgradePlan', { name, bundle: candidate.bundle }, { staleTime: 0, gcTime: 0 });
  const upgrade = useApiAction('installs.upgrade');
  // Anyone may look at the plan; starting the upgrade (or downgrade) is an admin's.
  const upgrading = useAllowed('upgrade', { install: name });
  const confirmId = useId();
  const [typed, setTyped] = useState('');
  const blocked = plan.data?.hosts.filter((h) => h.error !== null) ?? [];
  // The plan has the last word: a host may have moved past this bundle since the offer.
  const newer = plan.data?.downgradeFrom ?? candidate.downgradeFrom;
  const downgrade = newer.length > 0;
  const confirmed = !downgrade || typed === candidate.version;
  const start = async () => {
    const started = await upgrade.run({ name, bundle: candidate.bundle, ...(downgrade ? { allowDowngrade: true } : {}) });
    if (started) onStarted(started.jobId);
  };
  return (
    <div className="stack" data-testid="upgrade-plan-view">
      {plan.isError ? (
        <ErrorNotice
          title={downgrade ? 'The downgrade could not be planned' : 'The upgrade could not be planned'}
          error={plan.error}
          onRetry={() => void plan.refetch()}
        />
      ) : null}
      {!plan.data && plan.isFetching ? <LoadingState label="Looking at each host…" /> : null}
      {plan.data ? (
        <>
          <p className="field-hint">
            {plan.data.bundle.name} {plan.data.bundle.version}, {formatBytes(plan.data.bundle.sizeBytes)}. Each host was logged in to and
            looked at; nothing was changed.
          </p>
          {plan.data.hosts.map((host) => (
            <HostPlanView key={host.host} plan={host} />
          ))}
        </>
      ) : null}
      {downgrade ? (
        <div className="field confirm-name">
          <label className="field-label" htmlFor={confirmId}>
            This replaces {newer.join(' and ')} with the older {candidate.version}. Type <span className="mono">{candidate.version}</span>{' '}
            to confirm the downgrade
          </label>
          <input
            id={confirmId}
            className="input mono"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
            autoComplete="off"
            spellCheck={false}
            data-testid="downgrade-confirm-version"
          />
        </div>
      ) : null}
      {upgrade.state.status === 'error' ? (
        <ErrorNotice title={downgrade ? 'The downgrade did not start' : 'The upgrade did not start'} error={upgrade.state.error} />
      ) : null}
      <div className="actions">
        <button type="button" className="button" onClick={onCancel}>
          Not now
        </button>
        <button
          type="button"
          className={downgrade ? 'button button-danger' : 'button button-primary'}
          onClick={() => void start()}
          disabled={!plan.data || blocked.length > 0 || !confirmed || upgrade.pending || busy || !upgrading.allowed}
          title={upgrading.reason ?? undefined}
          data-testid="upgrade-start"
        >
          {upgrade.pending ? 'Starting…' : downgrade ? `Downgrade to ${candidate.version}` : `Start the upgrade to ${candidate.version}`}
        </button>
      </div>
      <DeniedNote allowed={upgrading} testId="upgrade-denied" />
    </div>
  );
}
