import { ApiError, type Action, type HostFacts, type InstallJobKind, type InstallHealth, type PrometheusTargets } from '../../contract';
import type { EventHub } from '../events/event-hub';
import type { HostService } from '../hosts/host-service';
import { installFileOf } from '../install/definition/install-definition';
import type { InstallEngine } from '../install/engine/install-engine';
import type { InstallJobs } from '../install/jobs/install-jobs';
import type { InstallOperations } from '../install/jobs/install-operations';
import { nvidiaGpuCount, suggestPlacement } from '../wizard/suggest-placement';
import type { WizardDrafts } from '../wizard/wizard-drafts';
import { runRolePreflight } from '../preflight/role-preflight';
import type { PreflightService } from '../preflight/preflight-service';
import type { EventSources, MethodHandlers } from '../server/dispatcher';
import { createInstallRunHandlers, type InstallRunDeps } from './install-run-handlers';
import type { InstallRecordsRepo } from '../store/install-records-repo';

export interface InstallApiDeps {
  hosts: HostService;
  hub: EventHub;
  preflight: PreflightService;
  installs: InstallEngine;
  installJobs: InstallJobs;
  installOperations: InstallOperations;
  installRecords: InstallRecordsRepo;
  installHealth: (installName: string) => Promise<InstallHealth>;
  prometheusTargets: (installName: string) => PrometheusTargets;
  wizard: WizardDrafts;
  now: () => number;
  /** access_control: abac for the install files' runs (install-run-handlers.ts). */
  installPolicy?: InstallRunDeps['installPolicy'];
}

/** The action a job of each kind takes, in the policy's words: cancelling it is judged as that action. */
const JOB_KIND_ACTIONS: Readonly<Record<InstallJobKind, Action>> = {
  apply: 'install',
  upgrade: 'upgrade',
  rollback: 'rollback',
  uninstall: 'uninstall',
};

type InstallMethod = Extract<keyof MethodHandlers, `installs.${string}` | `wizard.${string}`>;

/** The install and wizard methods of the contract, as thin calls into install/ and preflight/. */
export function createInstallHandlers(deps: InstallApiDeps): Pick<MethodHandlers, InstallMethod> {
  const { hosts, installs, installJobs, installOperations: operations, installRecords, wizard } = deps;
  return {
    'installs.suggestPlacement': ({ hostIds }) => {
      const inputs = [...new Set(hostIds)].map((hostId) => {
        const detail = hosts.get(hostId);
        return { hostId, name: detail.host.name, facts: detail.facts };
      });
      const facts = new Map<string, HostFacts | null>(inputs.map((i) => [i.name, i.facts]));
      const ids = new Map(inputs.map((i) => [i.name, i.hostId]));
      return suggestPlacement(inputs).map((p) => ({ ...p, hostId: ids.get(p.name)!, gpuCount: nvidiaGpuCount(facts.get(p.name) ?? null) }));
    },
    'installs.preflight': ({ hosts: choices }) =>
      runRolePreflight(
        {
          preflight: deps.preflight,
          host: (hostId) => hosts.require(hostId),
          latestFacts: (hostId) => hosts.get(hostId).facts,
          now: deps.now,
        },
        choices,
      ),
    'installs.plan': ({ install }) => installs.plan(installFileOf(install)),
    'installs.start': ({ install, concurrency }) => installJobs.start(install, concurrency === undefined ? {} : { concurrency }),
    'installs.status': ({ jobId }) => installJobs.status(jobId),
    'installs.cancel': ({ jobId }, caller) => {
      // The job id names no install: the job's own install and kind are judged, as starting it was.
      if (deps.installPolicy !== undefined && caller.operator !== undefined) {
        const job = installJobs.status(jobId);
        deps.installPolicy.check(caller.operator, JOB_KIND_ACTIONS[job.kind], { install: job.install });
      }
      return installJobs.cancel(jobId);
    },
    'installs.jobs': ({ name, kind, limit }) =>
      installJobs.recent({ ...(name !== undefined ? { install: name } : {}), ...(kind !== undefined ? { kind } : {}), limit }),
    'installs.upgradeOffer': ({ name }) => operations.upgradeOffer(name),
    'installs.upgradePlan': ({ name, bundle }) => operations.upgradePlan(name, bundle),
    'installs.upgrade': ({ name, bundle, concurrency, allowDowngrade }) =>
      operations.upgrade(name, bundle, {
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(allowDowngrade !== undefined ? { allowDowngrade } : {}),
      }),
    'installs.rollback': ({ name, host, to }) =>
      operations.rollback(name, { ...(host !== undefined ? { host } : {}), ...(to !== undefined ? { to } : {}) }),
    'installs.uninstall': ({ name, host }) => operations.uninstall(name, host === undefined ? {} : { host }),
    'installs.list': () => installRecords.list(),
    'installs.get': ({ name }) => {
      const record = installRecords.get(name);
      if (!record)
        throw new ApiError(
          'NOT_FOUND',
          `There is no install named ${name}.`,
          'Install it first; installs.list names the recorded installs.',
        );
      return record;
    },
    'installs.health': ({ name }) => deps.installHealth(name),
    'installs.prometheusTargets': ({ name }) => deps.prometheusTargets(name),
    'wizard.get': ({ draftId }) => ({ draft: wizard.get(draftId) }),
    'wizard.save': ({ draft }) => wizard.save(draft),
    'wizard.discard': ({ draftId }) => wizard.discard(draftId),
    ...createInstallRunHandlers(deps),
  };
}

export function createInstallEventSources({ hub }: Pick<InstallApiDeps, 'hub'>): Pick<EventSources, 'installs.progress'> {
  return {
    'installs.progress': ({ jobId }, emit) =>
      hub.on('installs.progress', (progress) => {
        if (jobId === undefined || progress.jobId === jobId) emit(progress);
      }),
  };
}
