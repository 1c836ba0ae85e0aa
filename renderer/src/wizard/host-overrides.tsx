import type { HostSummary } from '../../../electron/contract';
import { useHostList } from '../api/queries';
import { Card } from '../ui/card';
import { HostConfigOverride } from '../config/host-config-override';
import { ErrorNotice, LoadingState } from '../ui/query-state';
import type { ConfigCheckState } from '../config/use-config-check';
import type { WizardDraftHandle } from './use-wizard-draft';
import { hostCheckParams, hostConfigName, hostConfigOf, withHostConfig } from './wizard-draft';

/**
 * The per-host override layer of each chosen machine, between the install's values and
 * the SUTAZAI_* variables: what one machine needs different (a port taken there, its own
 * log retention). Each is checked over the install's values as the install would load it.
 */
export function HostOverrides({
  wizard,
  onState,
}: {
  wizard: WizardDraftHandle;
  onState: (hostId: number, state: ConfigCheckState | null) => void;
}) {
  const { draft } = wizard;
  const hosts = useHostList();
  const byId = new Map((hosts.data ?? []).map((h) => [h.id, h]));
  const chosen = draft.hostIds.map((id) => byId.get(id)).filter((h): h is HostSummary => h !== undefined);
  return (
    <Card title="Per-host overrides" aside="Above the install’s values, below SUTAZAI_* variables" testId="wizard-host-configs">
      <div className="stack">
        {hosts.isError ? (
          <ErrorNotice title="The machines could not be listed" error={hosts.error} onRetry={() => void hosts.refetch()} />
        ) : null}
        {hosts.isPending ? <LoadingState label="Loading the machines…" /> : null}
        {chosen.map((host) => {
          const override = hostConfigOf(draft, host.id);
          return (
            <HostConfigOverride
              key={host.id}
              hostId={host.id}
              hostName={host.name}
              override={override}
              params={override ? hostCheckParams(draft, override) : null}
              onAdd={() => wizard.update(withHostConfig(draft, host.id, { name: hostConfigName(draft, host.name), text: '' }))}
              onChange={(text) => override && wizard.update(withHostConfig(draft, host.id, { name: override.name, text }))}
              onRemove={() => wizard.update(withHostConfig(draft, host.id, null))}
              onState={onState}
            />
          );
        })}
      </div>
    </Card>
  );
}
