import type { HostFacts, HostPreflight, HostRole, HostRoleChoice, RolePreflight } from '../../contract';
import type { HostRow } from '../store/hosts-repo';
import { worst } from './analyzers';
import { analyzeAcrossHosts } from './cross-host';
import type { PreflightService } from './preflight-service';

/** The requirement profiles a role must meet: a host running both meets the core's and the agents'. */
export function profilesForRole(role: HostRole, gpu: boolean): string[] {
  const agent = gpu ? 'agent-gpu' : 'agent';
  switch (role) {
    case 'core':
      return ['core'];
    case 'agent':
      return [agent];
    case 'both':
      return ['core', agent];
  }
}

export interface RolePreflightDeps {
  preflight: Pick<PreflightService, 'run'>;
  host(hostId: number): HostRow;
  latestFacts(hostId: number): HostFacts | null;
  now: () => number;
}

/**
 * Each host against the profiles of the role it is about to get (what the install
 * wizard shows before roles are final), one preflight run per profile so each result is
 * stored in the host's history as any other, and the checks across all the hosts at once.
 */
export function runRolePreflight(deps: RolePreflightDeps, choices: readonly HostRoleChoice[]): RolePreflight {
  const unique = [...new Map(choices.map((c) => [c.hostId, c])).values()];
  const byProfile = new Map<string, number[]>();
  for (const choice of unique) {
    for (const profile of profilesForRole(choice.role, choice.gpu))
      byProfile.set(profile, [...(byProfile.get(profile) ?? []), choice.hostId]);
  }
  const results = new Map<number, HostPreflight[]>();
  for (const [profile, hostIds] of byProfile) {
    for (const result of deps.preflight.run(hostIds, profile).hosts)
      results.set(result.hostId, [...(results.get(result.hostId) ?? []), result]);
  }
  const rows = unique.map((choice) => deps.host(choice.hostId));
  const hosts = unique.map((choice, index) => {
    const own = results.get(choice.hostId) ?? [];
    return {
      hostId: choice.hostId,
      hostName: rows[index]!.name,
      role: choice.role,
      gpu: choice.gpu,
      outcome: worst(own.map((r) => r.outcome)),
      results: own,
    };
  });
  const crossHost = analyzeAcrossHosts(
    rows.map((row) => ({ hostId: row.id, hostName: row.name, address: row.address, facts: deps.latestFacts(row.id) })),
  );
  return { ranAt: deps.now(), outcome: worst([...hosts.map((h) => h.outcome), ...crossHost.map((c) => c.outcome)]), hosts, crossHost };
}
