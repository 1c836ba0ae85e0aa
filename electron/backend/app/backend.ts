import type { Logger } from 'pino';
import { createApiClient, type ApiClient, type HostFacts, type ProbeProgress } from '../../contract';
import { createBundleService, type BundleService } from '../bundles/bundle-service';
import { createConfigService } from '../config/config-service';
import { EventHub } from '../events/event-hub';
import { createHostService, type HostService } from '../hosts/host-service';
import { createInstallEngine, type InstallEngine } from '../install/engine/install-engine';
import { createInstallJobs, type InstallJobs } from '../install/jobs/install-jobs';
import { createInstallOperations, type InstallOperations } from '../install/jobs/install-operations';
import { checkInstalledHealth } from '../fleet/installed-health';
import { createWizardDrafts } from '../wizard/wizard-drafts';
import { createProbeJobs } from '../hosts/probe-jobs';
import { createSecretVault, type SecretVault, type VaultKeySource } from '../secrets/secret-vault';
import { createVaultAccess } from '../secrets/vault-unlock';
import { createBundleKeysRepo } from '../store/bundle-keys-repo';
import { createBundlesRepo } from '../store/bundles-repo';
import { createHostKeysRepo } from '../store/host-keys-repo';
import { createHostReleasesRepo } from '../store/host-releases-repo';
import { createInstallJobsRepo } from '../store/install-jobs-repo';
import { createInstallLocks } from '../store/install-locks-repo';
import { claimDataDir } from '../store/data-dir-owner-repo';
import { createInstallStepsRepo } from '../store/install-steps-repo';
import { createInstallsRepo } from '../store/installs-repo';
import { createInstallRecordsRepo } from '../store/install-records-repo';
import { createWizardDraftsRepo } from '../store/wizard-drafts-repo';
import { createProbeOutcomesRepo } from '../store/probe-outcomes-repo';
import { createPreflightRepo } from '../store/preflight-repo';
import { defaultConfigDir, loadProfiles } from '../preflight/load-profiles';
import { createPreflightService, installedReleaseOf, type PreflightService } from '../preflight/preflight-service';
import type { RequirementProfile } from '../preflight/profile-schema';
import { createAppLogger, type LogLevel } from '../logging/logger';
import { defaultCounterReader, type CounterReader } from '../metrics/host-counters';
import { startHostSampler, type HostSampler } from '../metrics/host-sampler';
import { createMetricStore } from '../metrics/metric-store';
import { probeLocalHost } from '../probe/local-probe';
import { createDispatcher, type Dispatcher } from '../server/dispatcher';
import { connectInProcess } from '../server/in-process-transport';
import { createFactsRepo } from '../store/facts-repo';
import { createHostsRepo } from '../store/hosts-repo';
import { openStore, type Store } from '../store/open-store';
import { createEventSources, createMethodHandlers } from './api-handlers';
import { appVersion, type AppInfo, type AppMode } from './app-info';

export interface BackendConfig {
  dataDir: string;
  logLevel: LogLevel;
  mode: AppMode;
  /** Echo logs to stderr as well as the log file. */
  logToConsole: boolean;
  /** Run the 1 Hz sampler of the local machine (off for one-shot CLI commands). */
  sampleLocalHost: boolean;
  /** Probe the local machine at start so its page is current (off for the CLI). */
  probeAtStart: boolean;
  counterReader?: CounterReader;
  probeLocal?: () => Promise<HostFacts>;
  now?: () => number;
  /**
   * Have the data directory to itself: a second backend that asks for it too is refused
   * with DATA_DIR_IN_USE. Default: web mode and the desktop app do (serving backends),
   * commands and tests do not (a command that must not run beside one sets it).
   */
  claimDataDir?: boolean;
  /** Unlocks sealed secrets at start (web mode and CLI: the operator's passphrase). */
  vaultKey?: VaultKeySource;
  /** Who acts through this backend, for the record of trust decisions. */
  actor?: string;
  /** Where config/ lives (profiles); found beside the app when not given. */
  configDir?: string;
  /** SUTAZAI_* variables, the top layer of an install's configuration (the CLI passes its environment). */
  configEnv?: Readonly<Record<string, string | undefined>>;
}

export interface StartupWarning {
  message: string;
  remedy: string;
}

export interface Backend {
  readonly dispatcher: Dispatcher;
  /** A client of the contract on an in-process pipe to the dispatcher (the CLI's), parsed and checked like any other. */
  openClient(peer?: string): ApiClient;
  readonly hosts: HostService;
  readonly vault: SecretVault;
  readonly preflight: PreflightService;
  readonly bundles: BundleService;
  /** Plan and apply installs (install files: bundle, hosts, roles, configuration). */
  readonly installs: InstallEngine;
  /** Jobs started through the API (apply, upgrade, rollback, uninstall), kept in the store with their progress. */
  readonly installJobs: InstallJobs;
  /** Upgrade, roll back and uninstall a recorded install by its name, as jobs. */
  readonly installOperations: InstallOperations;
  readonly logger: Logger;
  readonly logFile: string;
  /** What the operator should hear about at start (also in the log): the entry prints them. */
  readonly startupWarnings: readonly StartupWarning[];
  readonly info: AppInfo;
  readonly localHostId: number;
  /** Probes hosts in parallel, reporting each state change; resolves with the final states. */
  probeMany(
    hostIds: number[],
    options: { concurrency: number; timeoutMs: number; onProgress?: (p: ProbeProgress) => void },
  ): Promise<ProbeProgress[]>;
  /** Resolves when the start-up probe of the local machine has finished (or failed). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * The composition root: opens the store, wires capabilities to the contract, starts
 * the local machine's sampler. Every entry (desktop utility process, web mode, CLI,
 * tests) builds exactly this and differs only in the pipe it serves.
 */
export async function startBackend(config: BackendConfig): Promise<Backend> {
  const now = config.now ?? Date.now;
  // The store first: it is what checks that the data directory is usable at all.
  const store: Store = openStore({ dataDir: config.dataDir });
  // The log lives in the data directory, so it can only start once the store proved it usable.
  const {
    logger,
    file: logFile,
    close: closeLog,
  } = createAppLogger({
    dataDir: config.dataDir,
    level: config.logLevel,
    console: config.logToConsole,
  });
  if (store.modesTightened.changed.length > 0)
    logger.warn({ changed: store.modesTightened.changed }, 'data directory permissions tightened at open: other local users could read it');
  if (store.modesTightened.failed.length > 0)
    logger.error(
      { failed: store.modesTightened.failed },
      'data directory entries that other local users can read could not be made private (owned by another user?)',
    );
  let releaseDataDir = () => {};
  if (config.claimDataDir ?? (config.mode === 'web' || config.mode === 'desktop')) {
    try {
      releaseDataDir = claimDataDir(store.db, { holder: config.mode, dataDir: config.dataDir, now, logger });
    } catch (error) {
      logger.error({ err: error }, 'backend refused: the data directory is in use');
      store.close();
      closeLog();
      throw error;
    }
  }
  const installLocks = createInstallLocks(store.db, { holder: config.mode, now, logger });
  const hub = new EventHub((event, error) => logger.error({ event, err: error }, 'event listener failed'));
  const hostsRepo = createHostsRepo(store.db);
  const factsRepo = createFactsRepo(store.db, logger);
  const metrics = createMetricStore(store.db, { clock: now, logger });
  const local = hostsRepo.ensureLocal(now());
  const vault = createSecretVault(store.db);
  const startupWarnings: StartupWarning[] = [];
  if (config.vaultKey) {
    let unlocked;
    try {
      unlocked = vault.unlock(config.vaultKey);
    } catch (error) {
      // A wrong passphrase ends the start: nothing stays open behind it (nor claimed).
      releaseDataDir();
      store.close();
      closeLog();
      throw error;
    }
    if (unlocked.upgraded) logger.info({}, 'vault re-sealed with stronger key stretching (scrypt parameters raised)');
    if (unlocked.warning) {
      logger.warn({ remedy: unlocked.warning.remedy }, unlocked.warning.message);
      startupWarnings.push(unlocked.warning);
    }
  }
  const hosts = createHostService({
    hosts: hostsRepo,
    facts: factsRepo,
    hostKeys: createHostKeysRepo(store.db),
    probeOutcomes: createProbeOutcomesRepo(store.db),
    vault,
    probeLocal: config.probeLocal ?? (() => probeLocalHost(now)),
    onHostChanged: (hostId) => hub.emit('hosts.changed', { hostId }),
    now,
    actor: config.actor ?? config.mode,
  });
  const probeJobs = createProbeJobs({
    probe: (hostId, options) => hosts.probe(hostId, options),
    hostName: (hostId) => hosts.require(hostId).name,
    onProgress: (progress) => hub.emit('probes.progress', progress),
    now,
  });
  const info: AppInfo = {
    version: appVersion(),
    mode: config.mode,
    dataDir: config.dataDir,
    platform: `${process.platform}-${process.arch}`,
    startedAt: now(),
  };
  // Profiles are read on first use, so a broken profile file fails preflight with its
  // file:line:column, not the whole app at start.
  let profiles: Map<string, RequirementProfile> | null = null;
  const preflight = createPreflightService({
    profiles: () => (profiles ??= loadProfiles(config.configDir ?? defaultConfigDir())),
    host: (hostId) => hosts.require(hostId),
    latestFacts: (hostId) => factsRepo.latest(hostId),
    installedRelease: installedReleaseOf(createHostReleasesRepo(store.db), createInstallsRepo(store.db)),
    results: createPreflightRepo(store.db),
    now,
  });
  const bundles = createBundleService({
    dataDir: config.dataDir,
    keys: createBundleKeysRepo(store.db),
    bundles: createBundlesRepo(store.db),
    transaction: (fn) => store.db.transaction(fn)(),
    controlCenterVersion: info.version,
    now,
    actor: config.actor ?? config.mode,
    logger,
  });
  const installs = createInstallEngine({
    dataDir: config.dataDir,
    hosts: hostsRepo,
    hostKeys: createHostKeysRepo(store.db),
    vault,
    bundles,
    bundlesRepo: createBundlesRepo(store.db),
    installs: createInstallsRepo(store.db),
    steps: createInstallStepsRepo(store.db),
    releases: createHostReleasesRepo(store.db),
    locks: installLocks,
    transaction: (fn) => store.db.transaction(fn)(),
    factsOf: (row) => hosts.factsOrProbe(row.id),
    now,
    ...(config.configDir !== undefined ? { configDir: config.configDir } : {}),
    ...(config.configEnv !== undefined ? { env: config.configEnv } : {}),
    logger,
  });
  const configService = createConfigService({ configDir: config.configDir });
  const installRecords = createInstallRecordsRepo(store.db);
  const installJobs = createInstallJobs({
    engine: installs,
    records: installRecords,
    hosts: hostsRepo,
    store: createInstallJobsRepo(store.db),
    onProgress: (progress) => hub.emit('installs.progress', progress),
    now,
    logger,
  });
  const installOperations = createInstallOperations({
    engine: installs,
    jobs: installJobs,
    installs: createInstallsRepo(store.db),
    records: installRecords,
    bundles: createBundlesRepo(store.db),
    latestFacts: (hostId) => factsRepo.latest(hostId),
  });
  const installApi = {
    installs,
    installJobs,
    installOperations,
    installRecords,
    installHealth: (name: string) =>
      checkInstalledHealth(
        { hosts: hostsRepo, hostKeys: createHostKeysRepo(store.db), vault, installs: createInstallsRepo(store.db), now },
        name,
      ),
    wizard: createWizardDrafts({ drafts: createWizardDraftsRepo(store.db), bundles: createBundlesRepo(store.db), hosts: hostsRepo, now }),
    now,
  };
  // The desktop shell opens the vault with the OS secret store; every other entry takes a passphrase.
  const secrets = createVaultAccess(store.db, vault, { acceptsPassphrase: config.mode !== 'desktop', logger });
  const deps = { info, hosts, metrics, hub, probeJobs, preflight, bundles, config: configService, secrets, ...installApi };
  const dispatcher = createDispatcher({
    handlers: createMethodHandlers(deps),
    sources: createEventSources(deps),
    logger,
  });

  let sampler: HostSampler | null = null;
  if (config.sampleLocalHost) {
    let lastError = '';
    sampler = startHostSampler({
      hostId: local.id,
      read: config.counterReader ?? defaultCounterReader(),
      sink: metrics,
      now,
      onSample: (sample) => hub.emit('metrics.live', sample),
      onError: (error) => {
        // One line per distinct failure, not one a second.
        const text = String(error);
        if (text !== lastError) logger.warn({ err: error }, 'local sampler failed a tick');
        lastError = text;
      },
    });
  }

  const ready = config.probeAtStart
    ? hosts.probe(local.id).then(
        () => logger.info({ hostId: local.id }, 'local machine probed'),
        (error) => logger.error({ err: error }, 'probing the local machine failed'),
      )
    : Promise.resolve();

  logger.info({ mode: config.mode, dataDir: config.dataDir, version: info.version, store: store.path }, 'backend started');

  let closed = false;
  return {
    dispatcher,
    openClient: (peer = 'in-process') => createApiClient(connectInProcess(dispatcher, peer)),
    hosts,
    vault,
    preflight,
    bundles,
    installs,
    installJobs,
    installOperations,
    logger,
    logFile,
    startupWarnings,
    info,
    localHostId: local.id,
    ready,
    async probeMany(hostIds, options) {
      // start() reports 'queued' before it returns the job id: hold those until it does.
      let jobId: string | null = null;
      const early: ProbeProgress[] = [];
      const off = hub.on('probes.progress', (progress) => {
        if (jobId === null) early.push(progress);
        else if (progress.jobId === jobId) options.onProgress?.(progress);
      });
      try {
        const job = probeJobs.start(hostIds, options);
        jobId = job.jobId;
        for (const progress of early) if (progress.jobId === jobId) options.onProgress?.(progress);
        return await job.done;
      } finally {
        off();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      sampler?.stop();
      // Before the store closes: a job cut off by the stop is recorded as interrupted.
      installJobs.close();
      // A job cut off by the stop winds down on its own; its install is free for the next run now.
      installLocks.releaseAll();
      releaseDataDir();
      await ready;
      metrics.close();
      store.close();
      logger.info({}, 'backend stopped');
      logger.flush?.();
      closeLog();
    },
  };
}
