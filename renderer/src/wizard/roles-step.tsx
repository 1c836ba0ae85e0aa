import type { HostRole, HostRoleChoice } from '../../../electron/contract';
import { useApiQuery, useHostList } from '../api/queries';
import { Card } from '../ui/card';
import { ErrorNotice } from '../ui/query-state';
import { formatBytes } from '../format/bytes';
import { ROLE_LABELS } from '../hosts/host-form';
import type { WizardDraftHandle } from './use-wizard-draft';
import { rolesProblem } from './wizard-draft';
import { WizardNav } from './wizard-nav';

const ROLES: HostRole[] = ['both', 'core', 'agent'];

/**
 * Step 4: what runs where. The suggestion comes from the hardware (the engine's own
 * placement: exactly one core, GPU agents on machines with NVIDIA GPUs); the operator
 * changes any of it.
 */
export function RolesStep({ wizard }: { wizard: WizardDraftHandle }) {
  const { draft } = wizard;
  const hosts = useHostList();
  const suggestion = useApiQuery('installs.suggestPlacement', { hostIds: draft.hostIds }, { enabled: draft.hostIds.length > 0 });
  const byId = new Map((hosts.data ?? []).map((h) => [h.id, h]));
  const reasons = new Map((suggestion.data ?? []).map((p) => [p.hostId, p]));
  const problem = rolesProblem(draft.roles);

  const change = (hostId: number, patch: Partial<HostRoleChoice>) =>
    wizard.update({
      roles: draft.roles.map((r) => (r.hostId === hostId ? { ...r, ...patch, ...(patch.role === 'core' ? { gpu: false } : {}) } : r)),
    });
  const takeSuggestion = () => {
    const placements = new Map((suggestion.data ?? []).map((p) => [p.hostId, p]));
    const roles = draft.roles.map((r) => {
      const p = placements.get(r.hostId);
      return p ? { hostId: r.hostId, role: p.role, gpu: p.gpu } : r;
    });
    wizard.update({ roles });
  };
  const differs = (suggestion.data ?? []).some((p) => {
    const r = draft.roles.find((x) => x.hostId === p.hostId);
    return r !== undefined && (r.role !== p.role || r.gpu !== p.gpu);
  });

  return (
    <div className="stack" data-testid="wizard-roles-step">
      <Card
        title="Roles and placement"
        actions={
          <button type="button" className="button" onClick={takeSuggestion} disabled={!suggestion.data || !differs}>
            Use the suggestion
          </button>
        }
      >
        <div className="stack">
          {suggestion.isError ? (
            <ErrorNotice title="No placement could be suggested" error={suggestion.error} onRetry={() => void suggestion.refetch()} />
          ) : null}
          <div className="table-scroll-flat">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Host</th>
                  <th scope="col" className="num">
                    Threads
                  </th>
                  <th scope="col" className="num">
                    Memory
                  </th>
                  <th scope="col" className="num">
                    NVIDIA GPUs
                  </th>
                  <th scope="col">Role</th>
                  <th scope="col">GPU agents</th>
                  <th scope="col">Suggested</th>
                </tr>
              </thead>
              <tbody>
                {draft.roles.map((choice) => {
                  const host = byId.get(choice.hostId);
                  const placement = reasons.get(choice.hostId);
                  const name = host?.name ?? `#${choice.hostId}`;
                  return (
                    <tr
                      key={choice.hostId}
                      data-testid="wizard-role-row"
                      data-host-name={name}
                      data-role={choice.role}
                      data-gpu={String(choice.gpu)}
                    >
                      <td className="host-name">{name}</td>
                      <td className="num">{host?.cpuThreads ?? '—'}</td>
                      <td className="num">{host?.memoryBytes == null ? '—' : formatBytes(host.memoryBytes)}</td>
                      <td className="num">{placement?.gpuCount ?? '—'}</td>
                      <td>
                        <select
                          className="input input-inline"
                          value={choice.role}
                          onChange={(event) => change(choice.hostId, { role: event.target.value as HostRole })}
                          aria-label={`Role of ${name}`}
                          data-testid="wizard-role-select"
                        >
                          {ROLES.map((role) => (
                            <option key={role} value={role}>
                              {ROLE_LABELS[role]}
                            </option>
                          ))}
                        </select>
                      </td>
                      <td>
                        <label className="check">
                          <input
                            type="checkbox"
                            checked={choice.gpu}
                            disabled={choice.role === 'core'}
                            onChange={(event) => change(choice.hostId, { gpu: event.target.checked })}
                            aria-label={`GPU agents on ${name}`}
                          />
                          {choice.role === 'core' ? <span className="muted">no agents</span> : choice.gpu ? 'Yes' : 'No'}
                        </label>
                      </td>
                      <td className="cell-sub">{placement ? `${ROLE_LABELS[placement.role]}: ${placement.reason}` : '—'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <p className="field-hint">
            Exactly one machine runs the core; agents on the other machines report to it over the network. GPU agents are for machines with
            NVIDIA GPUs (agents.gpu_replicas_per_host in the configuration sets how many).
          </p>
        </div>
      </Card>
      <WizardNav
        onBack={() => void wizard.go('preflight')}
        nextLabel="Next: configuration"
        onNext={() => void wizard.go('configuration')}
        problem={problem}
      />
    </div>
  );
}
