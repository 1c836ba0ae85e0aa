import { ApiError, type HostFacts, type HostPreflight, type LatestPreflightPage, type PreflightReport } from '../../contract';
import type { HostReleasesRepo } from '../store/host-releases-repo';
import type { HostRow } from '../store/hosts-repo';
import type { InstallsRepo } from '../store/installs-repo';
import type { PreflightRepo } from '../store/preflight-repo';
import { analyzeHost, worst, type HostContext } from './analyzers';
import { analyzeAcrossHosts } from './cross-host';
import type { RequirementProfile } from './profile-schema';

export interface PreflightDeps {
  profiles: () => Map<string, RequirementProfile>;
  host: (hostId: number) => HostRow;
  latestFacts: (hostId: number) => HostFacts | null;
  /** The release an install of this app made current on the host (its runtime holds the install's ports). */
  installedRelease?: (hostId: number) => HostContext['installed'];
  results: PreflightRepo;
  now?: () => number;
}

/** Runs a profile over hosts' newest facts, stores each host's result, returns the report. */
export interface PreflightService {
  profiles(): Array<{ name: string; description: string }>;
  run(hostIds: number[], profileName: string): PreflightReport;
  history(hostId: number, limit: number): HostPreflight[];
  latestPage(page: { after?: number; limit: number }): LatestPreflightPage;
}

export function createPreflightService(deps: PreflightDeps): PreflightService {
  const now = deps.now ?? Date.now;

  function profile(name: string): RequirementProfile {
    const found = deps.profiles().get(name);
    if (!found) {
      throw new ApiError(
        'NOT_FOUND',
        `There is no requirement profile named ${name}.`,
        `Use one of: ${[...deps.profiles().keys()].join(', ')} (config/profiles/).`,
      );
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
          ? analyzeHost(facts, chosen, { installed: deps.installedRelease?.(row.id) ?? null })
          : [
              {
                id: 'facts',
                title: 'Facts',
                outcome: 'fail' as const,
                message: `${row.name} has never been probed.`,
                remedy: `Probe ${row.name} first (Probe again on its page, or hosts probe from the command line), then run the preflight again.`,
              },
            ];
        const result = {
          hostId: row.id,
          hostName: row.name,
          profile: chosen.name,
          outcome: worst(checks.map((c) => c.outcome)),
          ranAt,
          factsProbedAt: facts?.probedAt ?? null,
          checks,
        };
        deps.results.save(result);
        return result;
      });
      const crossHost = analyzeAcrossHosts(
        rows.map((row) => ({ hostId: row.id, hostName: row.name, address: row.address, facts: deps.latestFacts(row.id) })),
      );
      const outcome = worst([...hosts.map((h) => h.outcome), ...crossHost.map((c) => c.outcome)]);
      return { profile: chosen.name, ranAt, outcome, hosts, crossHost };
    },
    history: (hostId: number, limit: number) => deps.results.history(deps.host(hostId).id, limit),
    latestPage: (page: { after?: number; limit: number }) => deps.results.latestPage(page.after ?? 0, page.limit),
  };
}

/** The host's current release and the install that made it, from the store. */
export function installedReleaseOf(
  releases: Pick<HostReleasesRepo, 'current'>,
  installs: Pick<InstallsRepo, 'get'>,
): (hostId: number) => HostContext['installed'] {
  return (hostId) => {
    const release = releases.current(hostId);
    const install = release ? installs.get(release.installId) : null;
    return release && install ? { version: release.version, install: install.name } : null;
  };
}
