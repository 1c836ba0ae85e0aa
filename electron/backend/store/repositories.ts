import type Database from 'better-sqlite3';
import { createBundleKeysRepo, type BundleKeysRepo } from './bundle-keys-repo';
import { createBundlesRepo, type BundlesRepo } from './bundles-repo';
import { createFactsRepo, type FactsRepo } from './facts-repo';
import { createHostKeysRepo, type HostKeysRepo } from './host-keys-repo';
import { createHostReleasesRepo, type HostReleasesRepo } from './host-releases-repo';
import { createHostsRepo, type HostsRepo } from './hosts-repo';
import { createInstallJobsRepo, type InstallJobsRepo } from './install-jobs-repo';
import { createInstallRecordsRepo, type InstallRecordsRepo } from './install-records-repo';
import { createInstallStepsRepo, type InstallStepsRepo } from './install-steps-repo';
import { createInstallsRepo, type InstallsRepo } from './installs-repo';
import type { StoreLogger } from './open-store';
import { createPreflightRepo, type PreflightRepo } from './preflight-repo';
import { createProbeOutcomesRepo, type ProbeOutcomesRepo } from './probe-outcomes-repo';
import { createWizardDraftsRepo, type WizardDraftsRepo } from './wizard-drafts-repo';

/** Every table group's repository over one open database. */
export interface Repositories {
  hosts: HostsRepo;
  facts: FactsRepo;
  hostKeys: HostKeysRepo;
  probeOutcomes: ProbeOutcomesRepo;
  preflight: PreflightRepo;
  bundleKeys: BundleKeysRepo;
  bundles: BundlesRepo;
  installs: InstallsRepo;
  installSteps: InstallStepsRepo;
  hostReleases: HostReleasesRepo;
  installJobs: InstallJobsRepo;
  installRecords: InstallRecordsRepo;
  wizardDrafts: WizardDraftsRepo;
}

/**
 * Builds each repository once, preparing its statements once, for the composition root to
 * hand to every capability that needs it (rather than each capability, or each call,
 * preparing its own).
 */
export function createRepositories(db: Database.Database, logger?: StoreLogger): Repositories {
  return {
    hosts: createHostsRepo(db),
    facts: createFactsRepo(db, logger),
    hostKeys: createHostKeysRepo(db),
    probeOutcomes: createProbeOutcomesRepo(db),
    preflight: createPreflightRepo(db),
    bundleKeys: createBundleKeysRepo(db),
    bundles: createBundlesRepo(db),
    installs: createInstallsRepo(db),
    installSteps: createInstallStepsRepo(db),
    hostReleases: createHostReleasesRepo(db),
    installJobs: createInstallJobsRepo(db),
    installRecords: createInstallRecordsRepo(db),
    wizardDrafts: createWizardDraftsRepo(db),
  };
}
