import { ApiError, type HostFacts, type PreflightReport } from '../../contract';
import type { HostRow } from '../store/hosts-repo';
import type { createPreflightRepo } from '../store/preflight-repo';
import { analyzeHost, worst } from './analyzers';
import { analyzeAcrossHosts } from './cross-host';
import type { RequirementProfile } from './profile-schema';

export interface PreflightDeps {
  profiles: () => Map<string, RequirementProfile>;
  host: (hostId: number) => HostRow;
  latestFacts: (hostId: number) => HostFacts | null;
  results: ReturnType<typeof createPreflightRepo>;
  now?: () => number;
}

/** Runs a profile over hosts' newest facts, stores each host's result, returns the report. */
export function createPreflightService(deps: PreflightDeps) {
  const now = deps.now ?? Date.now;

  function profile(name: string): RequirementProfile {
    const found = deps.profiles().get(name);
    if (!found) {
      throw new ApiError('NOT_FOUND', `There is no requirement profile named ${name}.`, `Use one of: ${[...deps.profiles().keys()].join(', ')} (config/profiles/).`);
    }
    return found;
  }

  return {
    profiles: () => [...deps.profiles().values()].map((p) => ({ name: p.name, description: p.description })),
    run(hostIds: number[], profileName: string): PreflightReport {
      const chosen = profile(profileName);
      const ranAt = now();
      const rows = [...new Set(hostIds)].map((id) => deps.host(id));
      const hosts = rows.map((row) => {
        const facts = deps.latestFacts(row.id);
        const checks = facts
          ? analyzeHost(facts, chosen)
          : [{ id: 'facts', title: 'Facts', outcome: 'fail' as const, message: `${row.name} has never been probed.`, remedy: `Probe it first: sutazai hosts probe ${row.name}` }];
        const result = { hostId: row.id, hostName: row.name, profile: chosen.name, outcome: worst(checks.map((c) => c.outcome)), ranAt, factsProbedAt: facts?.probedAt ?? null, checks };
        deps.results.save(result);
        return result;
      });
      const crossHost = analyzeAcrossHosts(rows.map((row) => ({ hostId: row.id, hostName: row.name, address: row.address, facts: deps.latestFacts(row.id) })));
      const outcome = worst([...hosts.map((h) => h.outcome), ...crossHost.map((c) => c.outcome)]);
      return { profile: chosen.name, ranAt, outcome, hosts, crossHost };
    },
    history: (hostId: number, limit: number) => deps.results.history(deps.host(hostId).id, limit),
    latestPerHost: () => deps.results.latestPerHost(),
  };
}

export type PreflightService = ReturnType<typeof createPreflightService>;
