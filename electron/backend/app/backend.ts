import path from 'node:path';
import type { Logger } from 'pino';
import { createApiClient, HOST_SERIES, METHOD_ACTIONS, type ApiClient, type HostFacts } from '../../contract';
import { createBundleService } from '../bundles/bundle-service';
import { createConfigService } from '../config/config-service';
import { EventHub } from '../events/event-hub';
import { createHostService } from '../hosts/host-service';
import { createInstallEngine } from '../install/engine/install-engine';
import { createInstallJobs } from '../install/jobs/install-jobs';
import { createInstallOperations } from '../install/jobs/install-operations';
import { checkInstalledHealth } from '../fleet/installed-health';
import { createFleetProcesses } from '../fleet/processes/fleet-processes';
import { createOperatorCertificates } from '../fleet/credentials/operator-certificates';
import { createAccessStateConsumer, pushAccessStateOnce, linkAdminChannels } from '../fleet/credentials/access-state-consumer';
import { createRuntimeCredentials } from '../fleet/credentials/runtime-credentials';
import { createRuntimeCredentialsRepo } from '../fleet/credentials/runtime-credentials-repo';
import { createOidcKeySource, startOidcKeyRefresh } from '../oidc/oidc-key-source';
import { createOidcKeySetsRepo } from '../oidc/oidc-key-sets-repo';
import { oauth2ConfigOf, oidcVerificationOf, type OAuth2Config } from '../oidc/oidc-settings';
import { actionEvents } from '../fleet/processes/action-events';
import { directConnections, linkConnections } from '../fleet/processes/connection-source';
import { recordScale } from '../install/definition/recorded-definition';
import { createFleetLinks } from '../fleet/link/fleet-links';
import { followInstalls } from '../fleet/link/follow-installs';
import type { LinkTiming } from '../fleet/link/host-link';
import type { LinkConsumer } from '../fleet/link/link-types';
import { ALERT_EVALUATION_INTERVAL_MS, createFleetAlerts } from '../fleet/alerts/fleet-alerts';
import { recordedCertificates } from '../fleet/alerts/recorded-certificates';
import { eventRetentionFromEnv, type EventRetention } from '../fleet/events/event-retention';
import { createFleetEventLog } from '../fleet/events/fleet-event-log';
import { createEventsConsumer } from '../fleet/events/events-consumer';
import { recordLinkEvents } from '../fleet/events/link-events';
import { prometheusTargetsOf } from '../fleet/prometheus-targets';
import { createWizardDrafts } from '../wizard/wizard-drafts';
import { createProbeJobs } from '../hosts/probe-jobs';
import { setKeyWorkerWarning } from '../hosts/ssh/key-decrypt-pool';
import { createSecretVault, type VaultKeySource } from '../secrets/secret-vault';
import { createVaultAccess } from '../secrets/vault-unlock';
import { createInstallLocks } from '../store/install-locks-repo';
import { claimDataDir } from '../store/data-dir-owner-repo';
import { defaultConfigDir, loadProfiles } from '../preflight/load-profiles';
import { createPreflightService, installedReleaseOf } from '../preflight/preflight-service';
import type { RequirementProfile } from '../preflight/profile-schema';
import { createAppLogger, type LogLevel } from '../logging/logger';
import { defaultCounterReader, type CounterReader } from '../metrics/host-counters';
import { startHostSampler, type HostSampler } from '../metrics/host-sampler';
import { createMetricStore } from '../metrics/metric-store';
import { createSeriesKeys } from '../metrics/series-keys';
import { metricRetentionFromEnv } from '../metrics/metric-retention';
import { createMetricsIngest } from '../fleet/metrics/metrics-ingest';
import type { RetentionMs } from '../metrics/metric-tiers';
import { probeLocalHost } from '../probe/local-probe';
import { createDispatcher, type Dispatcher } from '../server/dispatcher';
import { createAuditLog } from '../audit/audit-log';
import { watchForeignCommits } from '../store/foreign-commits';
import { createProviderSignIn, type ProviderSignIn } from '../oidc/oidc-sign-in';
import { readSignInProvider } from '../oidc/sign-in-provider-settings';
import { createHostAuditLogs } from '../audit/host-audit-logs';
import { createHostAuditHeadsRepo } from '../store/host-audit-heads-repo';
import { withAudit, withEventAudit, recordDispatcherRefusal } from '../audit/with-audit';
import { startSubscriptionRechecks } from '../access/recheck-subscriptions';
import { checkAccess, checkEventAccess, checkPolicy, withAccess, withEventAccess } from '../access/with-access';
import { createAccessPolicy, policyFolders } from '../access/access-policy';
import { storePolicyFacts } from '../access/policy-facts';
import { createPolicyGate } from '../access/policy-gate';
import { createOperatorsRepo } from '../operators/operators-repo';
import { createOperatorService } from '../operators/operator-service';
import { createOperatorMfaRepo } from '../operators/operator-mfa-repo';
import { createOperatorMfa } from '../operators/operator-mfa';
import { createWebEnrolments } from './web-enrolment';
import { createStepUps, withStepUp } from '../operators/step-up';
import { createSignInLimiter } from '../operators/sign-in-limiter';
import { createWebSessions, type WebSessions } from '../operators/web-sessions';
import { connectInProcess } from '../server/in-process-transport';
import { createSupportService } from '../bundles/support-bundles/support-service';
import { createOneTimeFiles, type OneTimeFiles } from '../server/one-time-files';
import { appLogFilesOf } from '../bundles/support-bundles/support-collect';
import { vaultSecrets } from '../bundles/support-bundles/vault-secrets';
import { createRepositories } from '../store/repositories';
import { openStore, type Store } from '../store/open-store';
import { writeBackup } from '../store/backup';
import { createConfigBundleService } from '../bundles/config-bundles/config-bundle-service';
import { createExporterKeysRepo } from '../store/exporter-keys-repo';
import { createEventSources, createMethodHandlers } from './api-handlers';
import { describeLinkChange } from './fleet-link-handlers';
import { appVersion, type AppInfo, type AppMode } from './app-info';

/** A support bundle carries the alerts resolved in the last week besides those pending and firing. */
const SUPPORT_RESOLVED_ALERTS_MS = 7 * 24 * 3600 * 1000;

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
  /** Evaluate the alert rules on a timer. Default: serving backends (web mode, the desktop app) do, commands do not. */
  evaluateAlerts?: boolean;
  /** How long each metric tier is kept; default from SUTAZAI_METRICS_KEEP_1S_HOURS, SUTAZAI_METRICS_KEEP_1M_DAYS and SUTAZAI_METRICS_KEEP_1H_DAYS. */
  metricRetention?: RetentionMs;
  /** How long and how many fleet events are kept; default from SUTAZAI_EVENTS_MAX_AGE_DAYS and SUTAZAI_EVENTS_MAX_COUNT. */
  eventRetention?: EventRetention;
  /**
   * Keep a link to the runtime of every installed host (fleet/link), from the start and
   * following applies and uninstalls. Default: serving backends (web mode, the desktop
   * app) do, commands do not (a one-shot command must not log in to the whole fleet).
   */
  fleetLinks?: boolean;
  /** The links' timeouts, keepalive and backoff (tests shorten them); fleet/link/host-link.ts has the defaults. */
  linkTiming?: Partial<LinkTiming>;
  /** Unlocks sealed secrets at start (web mode and CLI: the operator's passphrase). */
  vaultKey?: VaultKeySource;
  /** Who acts through this backend, for the record of trust decisions. */
  actor?: string;
  /** Where config/ lives (profiles); found beside the app when not given. */
  configDir?: string;
  /**
   * How often each link looks again for a change of who may call its runtime that nothing
   * announced (a policy file edited on disk); 20 s by default. Commits of another process are
   * seen within a second whatever this is (store/foreign-commits.ts).
   */
  accessRecheckMs?: number;
  /** SUTAZAI_* variables, the top layer of an install's configuration (the CLI passes its environment). */
  configEnv?: Readonly<Record<string, string | undefined>>;
  /** Hands a URL to the system browser (the desktop app's shell.openExternal): the provider sign-in's loopback flow. */
  openExternal?: (url: string) => void;
}

export interface StartupWarning {
  message: string;
  remedy: string;
}

/**
 * What an entry holds of a running backend: the dispatcher it serves over its pipe (or a
 * client on the in-process one), the log, what to say at start, and the way to stop.
 * Capabilities are reached only through the contract, whatever the entry.
 */
export interface Backend {
  readonly dispatcher: Dispatcher;
  /** A client of the contract on an in-process pipe to the dispatcher (the CLI's), parsed and checked like any other. */
  openClient(peer?: string): ApiClient;
  /** Opens the sealed secrets with a key from outside the contract: the desktop shell's, from the OS secret store. */
  unlockVault(source: VaultKeySource): void;
  readonly logger: Logger;
  readonly logFile: string;
  /** What the operator should hear about at start (also in the log): the entry prints them. */
  readonly startupWarnings: readonly StartupWarning[];
  readonly info: AppInfo;
  /** Resolves when the start-up probe of the local machine has finished (or failed). */
  readonly ready: Promise<void>;
  /** Sign-in through the site's OpenID Connect provider (web mode for a team serves its routes), or null when it is off. */
  readonly signInProvider: ProviderSignIn | null;
  /** Browser sign-ins of web mode for a team (server/web-server.ts makes and checks them). */
  readonly webSessions: WebSessions;
  /** Whether the control center has operators: web mode for a team needs at least one to sign in as. */
  operatorsExist(): boolean;
  /** Files offered to one browser session, served once by the web server (a support bundle in web mode). */
  readonly downloads: OneTimeFiles;
  close(): Promise<void>;
}

/**
 * The composition root: opens the store, wires capabilities to the contract, starts
 * the local machine's sampler. Every entry (desktop utility process, web mode, CLI,
 * tests) builds exactly this and differs only in the pipe it serves.
 */
export async function startBackend(config: BackendConfig): Promise<Backend> {
  const now = config.now ?? Date.now;
  const metricRetention = config.metricRetention ?? metricRetentionFromEnv(process.env);
  // A retention out of range stops the start before anything is opened.
  const eventRetention = config.eventRetention ?? eventRetentionFromEnv(process.env);
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
  // The key worker's pool is the process's one; a worker that cannot start is said in this log, where an operator looks (not only on stderr).
  setKeyWorkerWarning((message, cause) => logger.warn({ err: cause }, message));
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
  const repos = createRepositories(store.db, logger);
  // A one-shot command does not prune, nor seal the journal it finds: the backend serving the app owns the metrics' retention and journal.
  const metrics = createMetricStore(store.db, {
    clock: now,
    logger,
    retention: metricRetention,
    enforceRetention: config.mode !== 'cli',
    ownsJournal: config.mode !== 'cli',
  });
  const seriesKeys = createSeriesKeys(store.db);
  // The same for the events: a command run with other SUTAZAI_EVENTS_* settings, or none, cannot prune what the app keeps.
  const fleetEvents = createFleetEventLog(store.db, { now, retention: eventRetention, enforceRetention: config.mode !== 'cli', logger });
  const local = repos.hosts.ensureLocal(now());
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
    hosts: repos.hosts,
    facts: repos.facts,
    hostKeys: repos.hostKeys,
    probeOutcomes: repos.probeOutcomes,
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
    latestFacts: (hostId) => repos.facts.latest(hostId),
    installedRelease: installedReleaseOf(repos.hostReleases, repos.installs),
    results: repos.preflight,
    now,
  });
  const bundles = createBundleService({
    dataDir: config.dataDir,
    keys: repos.bundleKeys,
    bundles: repos.bundles,
    transaction: (fn) => store.db.transaction(fn)(),
    controlCenterVersion: info.version,
    now,
    actor: config.actor ?? config.mode,
    logger,
  });
  // What runs on every link while it is up: the fleet's readers (metric ingest, event ingest) add theirs here.
  const linkConsumers: LinkConsumer[] = [
    createMetricsIngest({ store: metrics, onSample: (sample) => hub.emit('metrics.live', sample), logger }),
    createEventsConsumer(fleetEvents),
  ];
  const linksOn = config.fleetLinks ?? (config.mode === 'web' || config.mode === 'desktop');
  const fleetLinks = createFleetLinks({
    hosts: repos.hosts,
    hostKeys: repos.hostKeys,
    vault,
    installs: repos.installs,
    installRecords: repos.installRecords,
    consumers: linkConsumers,
    now,
    logger,
    ...(config.linkTiming !== undefined ? { timing: config.linkTiming } : {}),
  });
  fleetLinks.onChange((state, previous) => hub.emit('fleet.linkChanged', describeLinkChange(state, previous)));
  // Each link going up, degraded and down is a fleet event (not the app's own stop: see close).
  const stopLinkEvents = recordLinkEvents(fleetLinks, fleetEvents);
  const engine = createInstallEngine({
    dataDir: config.dataDir,
    hosts: repos.hosts,
    hostKeys: repos.hostKeys,
    vault,
    bundles,
    bundlesRepo: repos.bundles,
    installs: repos.installs,
    steps: repos.installSteps,
    releases: repos.hostReleases,
    locks: installLocks,
    transaction: (fn) => store.db.transaction(fn)(),
    factsOf: (row) => hosts.factsOrProbe(row.id),
    now,
    ...(config.configDir !== undefined ? { configDir: config.configDir } : {}),
    ...(config.configEnv !== undefined ? { env: config.configEnv } : {}),
    // A manifest sent to a running runtime goes through the host's link when it is up.
    ...(linksOn ? { links: fleetLinks } : {}),
    runtimeCertificates: recordedCertificates(store.db),
    logger,
  });
  // After every apply, rollback and uninstall (files, jobs, operations alike) the links follow the record.
  const installs = linksOn ? followInstalls(engine, fleetLinks) : engine;
  const configService = createConfigService({ configDir: config.configDir });
  const installJobs = createInstallJobs({
    engine: installs,
    records: repos.installRecords,
    hosts: repos.hosts,
    store: repos.installJobs,
    onProgress: (progress) => hub.emit('installs.progress', progress),
    now,
    logger,
  });
  const installOperations = createInstallOperations({
    engine: installs,
    jobs: installJobs,
    installs: repos.installs,
    records: repos.installRecords,
    bundles: repos.bundles,
    latestFacts: (hostId) => repos.facts.latest(hostId),
  });
  const installApi = {
    installs,
    installJobs,
    installOperations,
    installRecords: repos.installRecords,
    installHealth: (name: string) =>
      checkInstalledHealth(
        { hosts: repos.hosts, hostKeys: repos.hostKeys, vault, installs: repos.installs, links: linksOn ? fleetLinks : null, now },
        name,
      ),
    prometheusTargets: (name: string) => prometheusTargetsOf({ hosts: repos.hosts, installs: repos.installs }, name),
    wizard: createWizardDrafts({ drafts: repos.wizardDrafts, bundles: repos.bundles, hosts: repos.hosts, now }),
    now,
  };
  // The desktop shell opens the vault with the OS secret store; every other entry takes a passphrase.
  const secrets = createVaultAccess(store.db, vault, { acceptsPassphrase: config.mode !== 'desktop', logger });
  const alerts = createFleetAlerts({
    db: store.db,
    hub,
    links: fleetLinks,
    events: fleetEvents,
    storedRestarts: { metrics, seriesKeys, hostIds: () => repos.hosts.list().map((host) => host.id) },
    configDir: () => config.configDir ?? defaultConfigDir(),
    dataDir: config.dataDir,
    describeHost: (hostId) => {
      const host = repos.hosts.get(hostId);
      return host && { hostName: host.name, installName: repos.installs.installOfHost(hostId)?.name ?? null };
    },
    clock: now,
    logger,
  });
  // Before any link starts (refresh, below): each runtime's own account of its instances and certificate, for the rules.
  linkConsumers.push(alerts.linkConsumer);
  // Who may call the runtimes (issue 14 item 2): each link pushes its runtime the access state; operators' calls carry their tokens.
  const runtimeCredentialsRepo = createRuntimeCredentialsRepo(store.db);
  const runtimeCredentials = createRuntimeCredentials({
    repo: runtimeCredentialsRepo,
    vault,
    installs: repos.installs,
    operators: createOperatorsRepo(store.db),
    now,
    // Read when a link pushes, once the backend has started (policyGate is made below, with the operators).
    abacPolicy: (hostId) => policyGate.pushedPolicy(hostId),
    // authentication_method: oauth2: the provider's settings with the keys last read (oidc/), for the runtimes to check its tokens.
    oidc: (host) => {
      const oauth2 = oauth2ConfigOf(host.config);
      const keys = oauth2 && oidcKeys.keysFor(oauth2);
      return oauth2 && keys ? oidcVerificationOf(oauth2, keys) : null;
    },
    // A one-shot command keeps no links: it pushes the runtime it acts on before an operator's call (fail closed, never as the control center).
    ...(linksOn
      ? {}
      : {
          pushNow: pushAccessStateOnce(
            () => runtimeCredentials,
            directConnections({ hosts: repos.hosts, hostKeys: repos.hostKeys, vault, installs: repos.installs, role: 'admin' }),
          ),
        }),
  });
  linkConsumers.push(
    createAccessStateConsumer({
      credentials: runtimeCredentials,
      openAdminChannel: linkAdminChannels({ links: () => fleetLinks, installs: repos.installs, vault }),
      ...(config.accessRecheckMs !== undefined ? { recheckMs: config.accessRecheckMs } : {}),
    }),
  );
  // A revoke, key rotation or removal committed by another process (the CLI beside this app) is pushed within a second.
  const stopForeignCommits = linksOn ? watchForeignCommits(store.db, () => runtimeCredentials.changed()) : () => {};
  const oidcKeys = createOidcKeySource({
    changed: () => runtimeCredentials.changed(),
    log: (line) => logger.warn(line),
    repo: createOidcKeySetsRepo(store.db),
    now,
  });
  const oauth2Configs = (): OAuth2Config[] =>
    repos.installs
      .names()
      .flatMap((name) => {
        const install = repos.installs.findByName(name);
        return install ? repos.installs.hosts(install.id) : [];
      })
      .map((host) => oauth2ConfigOf(host.config))
      .filter((oauth2): oauth2 is OAuth2Config => oauth2 !== null);
  // A one-shot command reads no provider (it would wait on an unreachable one): it pushes the keys kept in the store.
  const oidcRefresh = startOidcKeyRefresh(oidcKeys, () => (linksOn ? oauth2Configs() : []));
  const actor = config.actor ?? config.mode;
  // A one-shot command keeps no links: it opens a connection to the one host it acts on.
  const runtimeConnections = linksOn
    ? linkConnections(fleetLinks)
    : directConnections({ hosts: repos.hosts, hostKeys: repos.hostKeys, vault, installs: repos.installs });
  const fleetProcesses = createFleetProcesses({
    connections: runtimeConnections,
    actions: actionEvents(fleetEvents),
    scales: {
      recordScale: (target, process, replicas) => recordScale(repos.installs, target.installName, target.hostName, process, replicas),
    },
    tokenFor: (target, operatorName) => runtimeCredentials.tokenFor(target, operatorName),
    now,
  });
  // Support bundles for a browser to download once (web mode names no path on this machine).
  const downloads = createOneTimeFiles({ root: path.join(config.dataDir, 'downloads'), now });
  const support = createSupportService({
    tokenFor: (target, operatorName) => runtimeCredentials.tokenFor(target, operatorName),
    hosts: repos.hosts,
    installs: repos.installs,
    bundleVersion: (bundleId) => repos.bundles.get(bundleId)?.version ?? null,
    latestFacts: (hostId) => repos.facts.latest(hostId),
    preflightHistory: (hostId, limit) => repos.preflight.history(hostId, limit),
    events: (params) => fleetEvents.list(params),
    alerts: (hostId) => alerts.service.list({ hostId, resolvedWithinMs: SUPPORT_RESOLVED_ALERTS_MS, limit: 1000 }),
    connections: runtimeConnections,
    memoryReadings: (hostId, fromMs, toMs) =>
      metrics.query({ hostId, metrics: [HOST_SERIES.memoryUsedPercent], fromMs, toMs, maxPoints: 1440 }).series[0]?.points ?? [],
    certificates: () => recordedCertificates(store.db).list(),
    appLogFiles: () => appLogFilesOf(logFile),
    appVersion: info.version,
    configDir: config.configDir,
    configEnv: config.configEnv,
    vaultSecrets: () => vaultSecrets(store.db, vault),
    now,
  });
  const mfa = createOperatorMfa({ repo: createOperatorMfaRepo(store.db), vault, now });
  const webSessions = createWebSessions({ db: store.db, now });
  const signInLimiter = createSignInLimiter({ db: store.db, now });
  // Sign-ins to web mode for a team that wait for the operator's two-factor enrolment (web-enrolment.ts).
  const webEnrolments = createWebEnrolments({ now });
  // A removed operator's sealed TOTP secret goes with it; its browser sign-ins end (web-sessions.ts).
  const operators = createOperatorService({
    repo: createOperatorsRepo(store.db),
    now,
    onRemove: (id) => mfa.reset(id),
    endSignIns: (id, reason) => {
      webSessions.endAllOf(id, reason);
      // A set-up waiting from a sign-in with the old password (or of an operator disabled or removed) goes too.
      webEnrolments.endAllOf(id);
    },
    // Each linked runtime is pushed the new list at once: a removed operator is refused there now, not at the next check.
    changed: () => runtimeCredentials.changed(),
    // A removed or disabled operator's certificates are revoked with them (pushed by the change above).
    revokeCredentials: (name) => runtimeCredentialsRepo.revokeCertificatesOf(name, now()),
  });
  const stepUps = createStepUps({ mfa, now });
  // Sign-in through the site's OpenID Connect provider (sign-in-provider.yaml): a broken file turns it off with the reason.
  const signInProviderConfig = readSignInProvider(config.dataDir);
  if (signInProviderConfig.kind === 'invalid') {
    logger.warn({ remedy: signInProviderConfig.problem.remedy }, signInProviderConfig.problem.message);
    startupWarnings.push({ message: signInProviderConfig.problem.message, remedy: signInProviderConfig.problem.remedy });
  }
  const signInProvider = {
    config: signInProviderConfig,
    flow: signInProviderConfig.kind === 'ok' ? createProviderSignIn(signInProviderConfig.settings, { now }) : null,
  };
  // access_control: abac (issue 14, item 3): after the role, calls naming a host, process or install of an abac install meet its policy.
  const policyFacts = storePolicyFacts({ hosts: repos.hosts, installs: repos.installs, operators });
  const accessPolicy = createAccessPolicy({
    folders: () => policyFolders(() => config.configDir ?? defaultConfigDir(), config.dataDir),
    inventory: () => policyFacts.inventory(),
    logger,
  });
  const policyGate = createPolicyGate({
    policy: accessPolicy,
    facts: policyFacts,
    now,
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  });
  // Role checks (and, while operators exist, sign-in) before every handler and feed.
  const access = { operatorsExist: () => operators.exist(), policy: policyGate };
  // Every state-changing call ends with an entry in the audit log (audit/with-audit.ts).
  const audit = createAuditLog(store.db);
  const auditing = {
    log: audit,
    names: {
      hostName: (hostId: number) => repos.hosts.get(hostId)?.name ?? null,
      upload: (uploadId: string) => downloads.describe(uploadId),
    },
    now,
    logger,
  };
  const configBundles = createConfigBundleService({
    store: { ...repos, operators: createOperatorsRepo(store.db) },
    exporterKeys: createExporterKeysRepo(store.db),
    vault,
    transaction: (fn) => store.db.transaction(fn).immediate(),
    now,
    actor,
    dataDir: config.dataDir,
    // As the operator service does: a disabled operator's browser sign-ins end and certificates
    // are revoked; the runtimes hear at once.
    operatorDisabled: ({ id, name }, reason) => {
      webSessions.endAllOf(id, reason);
      runtimeCredentialsRepo.revokeCertificatesOf(name, now());
    },
    operatorsChanged: () => runtimeCredentials.changed(),
  });
  const hostAudit = createHostAuditLogs({
    heads: createHostAuditHeadsRepo(store.db),
    now,
    hosts: repos.hosts,
    hostKeys: repos.hostKeys,
    vault,
    installs: repos.installs,
    factsOf: (row) => hosts.factsOrProbe(row.id),
    ...(config.configDir !== undefined ? { configDir: config.configDir } : {}),
  });
  const deps = {
    audit,
    hostAudit,
    runtimeCredentials,
    operatorCertificates: createOperatorCertificates({
      repo: runtimeCredentialsRepo,
      vault,
      installs: repos.installs,
      operator: (name) => operators.named(name),
      credentials: runtimeCredentials,
      now,
    }),
    configBundles,
    backup: (out: string) => writeBackup({ db: store.db, dataDir: config.dataDir, out, appVersion: info.version, now }),
    support,
    downloads,
    operators,
    accessPolicy,
    policyGate,
    // The install files' runs judge the install inside the file (install-run-handlers.ts).
    installPolicy: policyGate,
    mfa,
    stepUps,
    signInLimiter,
    webSessions,
    webEnrolments,
    signInProvider,
    openExternal: config.openExternal,
    links: fleetLinks,
    fleetProcesses,
    fleetEvents,
    info,
    hosts,
    metrics,
    seriesKeys,
    hub,
    probeJobs,
    preflight,
    bundles,
    config: configService,
    secrets,
    alerts: alerts.service,
    actor,
    ...installApi,
  };
  const dispatcher = createDispatcher({
    // The audit log outside the role checks: a refused call is recorded too.
    // Step-up (a fresh two-factor code before admin actions, when on) inside the role checks.
    handlers: withAudit(withAccess(withStepUp(createMethodHandlers(deps), stepUps), access), auditing),
    sources: withEventAudit(withEventAccess(createEventSources(deps), access), auditing),
    signedIn: (operatorId) => operators.current(operatorId),
    // With the feed's parameters: an open log follow ends once the policy or a host's labels no longer allow it.
    mayReceive: (event, caller, params) => checkEventAccess(access, caller, event, params),
    // An upload beside the pipe (web mode) is taken only from whoever may call the method it is for.
    mayCall: (method, caller) => {
      checkAccess(access, caller, METHOD_ACTIONS[method], method);
      checkPolicy(access, caller, METHOD_ACTIONS[method], method, {});
    },
    // A file method over a pipe that may not name files never reaches withAudit: recorded here.
    refused: (method, params, caller, error) => recordDispatcherRefusal(auditing, method, params, caller, error.code),
    logger,
  });
  const stopRechecks = startSubscriptionRechecks(dispatcher, logger);

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

  if (config.evaluateAlerts ?? (config.mode === 'web' || config.mode === 'desktop')) alerts.start(ALERT_EVALUATION_INTERVAL_MS);

  if (linksOn) {
    fleetLinks.refresh().catch((error: unknown) => logger.error({ err: error }, 'starting the fleet links failed'));
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
    unlockVault: (source) => void vault.unlock(source),
    logger,
    logFile,
    startupWarnings,
    info,
    ready,
    webSessions,
    signInProvider: signInProvider.flow,
    operatorsExist: () => operators.exist(),
    downloads,
    async close() {
      if (closed) return;
      closed = true;
      sampler?.stop();
      oidcRefresh.stop();
      stopRechecks();
      stopForeignCommits();
      // The links going down because the app stops are not the fleet's events.
      stopLinkEvents();
      // Before the store closes: the links read the installs and the vault while they stop.
      await fleetLinks.close();
      alerts.close();
      // Before the store closes: a job cut off by the stop is recorded as interrupted.
      installJobs.close();
      // A job cut off by the stop winds down on its own; its install is free for the next run now.
      installLocks.releaseAll();
      releaseDataDir();
      await ready;
      fleetEvents.close();
      metrics.close();
      downloads.close();
      store.close();
      logger.info({}, 'backend stopped');
      logger.flush?.();
      closeLog();
    },
  };
}
