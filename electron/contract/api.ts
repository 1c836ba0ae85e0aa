import { z } from 'zod';
import { HostFactsSchema } from './host-facts';
import { HostDetailSchema, HostIdSchema, HostsPageParamsSchema, HostSummarySchema } from './hosts';
import {
  HostChangesSchema,
  HostInputSchema,
  HostKeyFingerprintSchema,
  HostNameSchema,
  ImportErrorSchema,
  PinnedKeySchema,
  ProbeProgressSchema,
} from './inventory';
import { HostPreflightSchema, LatestPreflightPageSchema, PreflightReportSchema, ProfileSummarySchema } from './preflight';
import {
  LiveSampleSchema,
  MetricsQueryParamsSchema,
  MetricsQueryResultSchema,
  MetricsSeriesKeysParamsSchema,
  MetricsSeriesKeysResultSchema,
} from './metrics';
import {
  BundleFilePathSchema,
  BundleUploadIdSchema,
  BundleImportResultSchema,
  BundleKeyFingerprintSchema,
  BundleSummarySchema,
  BundleVerificationSchema,
  TrustedBundleKeySchema,
} from './bundles';
import {
  ConfigCheckResultSchema,
  ConfigDiffInputSchema,
  ConfigDiffResultSchema,
  ConfigExplainInputSchema,
  ConfigExplanationSchema,
  ConfigLayersInputSchema,
} from './config';
import {
  BundleReferenceSchema,
  HostRoleChoiceSchema,
  InstallDefinitionSchema,
  InstallHealthSchema,
  InstallJobKindSchema,
  InstallJobStatusSchema,
  InstallJobSummarySchema,
  InstallNameSchema,
  InstallPlanSchema,
  InstallProgressSchema,
  InstallRecordSchema,
  PlacementSchema,
  RolePreflightSchema,
  UpgradeOfferSchema,
} from './installs';
import {
  ApplyResultSchema,
  InstallFileRefSchema,
  InstallRunProgressSchema,
  ProgressIdSchema,
  RollbackResultSchema,
  UninstallResultSchema,
} from './install-runs';
import { WizardDraftInputSchema, WizardDraftSchema } from './wizard';
import { VaultPassphraseSchema, VaultStatusSchema } from './secrets';
import { alertEvents, alertMethods } from './alerts';
import { fleetEventEvents, fleetEventMethods } from './fleet-events';
import { fleetProcessEvents, fleetProcessMethods } from './fleet-processes';
import { prometheusTargetMethods } from './prometheus-targets';
import { fleetLinkEvents, fleetLinkMethods } from './fleet-links';
import { auditMethods } from './audit';
import { operatorMethods } from './operators';
import { accessMethods } from './access';
import { runtimeCredentialMethods } from './runtime-credentials';
import { configBundleMethods } from './config-bundles';
import { backupMethods } from './backup';
import { supportMethods } from './support';

/**
 * Every method the renderer (or any other client) may call, defined once. The
 * dispatcher parses params against these schemas on arrival; the client parses results.
 */
export const methods = {
  'app.info': {
    params: z.object({}).strict(),
    result: z.object({
      version: z.string(),
      mode: z.enum(['desktop', 'web', 'cli', 'test']),
      dataDir: z.string(),
      platform: z.string(),
      startedAt: z.number().int(),
    }),
  },
  /** One page of the inventory in id order (see HostsPageParamsSchema); listAllHosts follows the pages. */
  'hosts.list': {
    params: HostsPageParamsSchema,
    result: z.array(HostSummarySchema),
  },
  'hosts.get': {
    params: z.object({ hostId: HostIdSchema }).strict(),
    result: HostDetailSchema,
  },
  /** A host by its name, or by its id written as digits (how the CLI names hosts); HOST_NOT_FOUND when there is none. */
  'hosts.find': {
    params: z.object({ host: z.string().min(1).max(256) }).strict(),
    result: HostDetailSchema,
  },
  'hosts.probe': {
    params: z.object({ hostId: HostIdSchema }).strict(),
    result: HostFactsSchema,
  },
  /**
   * Stores a new host. With `trust` (the fingerprint the operator confirmed from
   * hosts.scanNew) it reads the host key again and stores the host trusted only when the
   * key is that one; without, untrusted and unchecked (imports, scripts, hosts offline now).
   */
  'hosts.add': {
    params: HostInputSchema.extend({ trust: HostKeyFingerprintSchema.optional() }),
    result: HostSummarySchema,
  },
  /** Reads the host key of a host not yet in the inventory (checking address, port and jump host); stores nothing. */
  'hosts.scanNew': {
    params: HostInputSchema,
    result: z.object({ keyType: z.string(), fingerprint: z.string() }),
  },
  'hosts.update': {
    params: z.object({ hostId: HostIdSchema, changes: HostChangesSchema }).strict(),
    result: HostSummarySchema,
  },
  'hosts.remove': {
    params: z.object({ hostId: HostIdSchema }).strict(),
    result: z.object({ removed: HostIdSchema }),
  },
  'hosts.import': {
    params: z.object({ text: z.string().max(512 * 1024), fileName: z.string().max(4096).default('hosts.yaml') }).strict(),
    result: z.object({ added: z.array(HostSummarySchema), errors: z.array(ImportErrorSchema) }),
  },
  /** The same from a YAML host list on the backend's machine, read up to the host list limit (4 MiB, over one message's). */
  'hosts.importFile': {
    params: z.object({ path: z.string().min(1).max(4096) }).strict(),
    result: z.object({ added: z.array(HostSummarySchema), errors: z.array(ImportErrorSchema) }),
  },
  /** Connects without credentials, reads the host key, and says how it compares with the pinned one. */
  'hosts.scanKey': {
    params: z.object({ hostId: HostIdSchema }).strict(),
    result: z.object({
      keyType: z.string(),
      fingerprint: z.string(),
      status: z.enum(['new', 'trusted', 'changed']),
      pinned: PinnedKeySchema.nullable(),
    }),
  },
  /** Pins the key the host presents now, if it is the one the operator confirmed. */
  'hosts.trust': {
    params: z.object({ hostId: HostIdSchema, fingerprint: HostKeyFingerprintSchema }).strict(),
    result: HostSummarySchema,
  },
  /** Pins keys from an OpenSSH known_hosts file for hosts that have none pinned yet. */
  'hosts.importKnownHosts': {
    params: z.object({ text: z.string().max(4 * 1024 * 1024) }).strict(),
    result: z.object({
      pinned: z.array(z.object({ hostId: HostIdSchema, name: z.string(), keyType: z.string(), fingerprint: z.string() })),
      conflicts: z.array(z.object({ hostId: HostIdSchema, name: z.string(), pinned: z.string(), known: z.string() })),
      keysRead: z.number().int(),
      linesSkipped: z.number().int(),
    }),
  },
  'hosts.factsHistory': {
    params: z.object({ hostId: HostIdSchema, limit: z.number().int().min(1).max(100).default(20) }).strict(),
    result: z.array(z.object({ probedAt: z.number().int(), facts: HostFactsSchema })),
  },
  /** Probes many hosts in parallel; progress arrives as probes.progress events. */
  'probes.start': {
    params: z
      .object({
        hostIds: z.array(HostIdSchema).min(1).max(500),
        concurrency: z.number().int().min(1).max(64).default(8),
        timeoutMs: z.number().int().min(1000).max(300_000).default(20_000),
      })
      .strict(),
    result: z.object({ jobId: z.string(), total: z.number().int() }),
  },
  /** Where a recent bulk probe stands, host by host (for a window that reloaded while it ran). */
  'probes.status': {
    params: z.object({ jobId: z.string().min(1).max(64) }).strict(),
    result: z.object({ jobId: z.string(), total: z.number().int(), finished: z.boolean(), hosts: z.array(ProbeProgressSchema) }),
  },
  'probes.cancel': {
    params: z.object({ jobId: z.string().min(1).max(64) }).strict(),
    result: z.object({ cancelled: z.number().int() }),
  },
  'preflight.profiles': {
    params: z.object({}).strict(),
    result: z.array(ProfileSummarySchema),
  },
  /** Judges the newest facts of each host against a profile, plus checks across the hosts. */
  'preflight.run': {
    params: z.object({ hostIds: z.array(HostIdSchema).min(1).max(500), profile: z.string().min(1).max(64) }).strict(),
    result: PreflightReportSchema,
  },
  'preflight.history': {
    params: z.object({ hostId: HostIdSchema, limit: z.number().int().min(1).max(100).default(20) }).strict(),
    result: z.array(HostPreflightSchema),
  },
  /** Every host's newest preflight result, in one call (the hosts list's preflight column). */
  /** The newest preflight of each host in one page of the inventory (LatestPreflightPageSchema). */
  'preflight.latest': {
    params: HostsPageParamsSchema,
    result: LatestPreflightPageSchema,
  },
  'metrics.query': {
    params: MetricsQueryParamsSchema,
    result: MetricsQueryResultSchema,
  },
  /** Which cores, filesystems, GPUs or instances a host has series of: what a page draws a line or a panel for. */
  'metrics.seriesKeys': {
    params: MetricsSeriesKeysParamsSchema,
    result: MetricsSeriesKeysResultSchema,
  },
  /** The imported release bundles, newest first. */
  'bundles.list': {
    params: z.object({}).strict(),
    result: z.array(BundleSummarySchema),
  },
  /** Checks a bundle file (archive, checksums, signature, compatibility) and stores nothing; says whether its signer is trusted. */
  'bundles.verify': {
    params: z.object({ path: BundleFilePathSchema }).strict(),
    result: BundleVerificationSchema,
  },
  /** Verifies, then copies the bundle into the data directory; trustKey confirms a signer not trusted yet. */
  'bundles.import': {
    params: z.object({ path: BundleFilePathSchema, trustKey: BundleKeyFingerprintSchema.optional() }).strict(),
    result: BundleImportResultSchema,
  },
  /**
   * Web mode's verify of a bundle uploaded by this session (POST /upload?kind=bundle; no path
   * from a browser): as bundles.verify, `path` being the file's name on the uploader's computer.
   * The upload stays held for this session's import.
   */
  'bundles.verifyUpload': {
    params: z.object({ uploadId: BundleUploadIdSchema }).strict(),
    result: BundleVerificationSchema,
  },
  /** Web mode's import of an upload of this session; the upload is moved into the data directory (or removed) once imported. */
  'bundles.importUpload': {
    params: z.object({ uploadId: BundleUploadIdSchema, trustKey: BundleKeyFingerprintSchema.optional() }).strict(),
    result: BundleImportResultSchema,
  },
  /**
   * Loopback web mode's leave for one upload (POST /upload takes it there in the header
   * X-SutazAI-Upload-Permit): it names this pipe's signed-in operator, and the upload is taken
   * only when that operator may call the method it is for (bundles.importUpload,
   * configBundles.importUpload, support.analyzeUpload: role and access policy). Single use,
   * for that kind, for a minute.
   */
  'uploads.permit': {
    params: z.object({ kind: z.enum(['support', 'config', 'bundle']) }).strict(),
    result: z.object({ permit: z.string(), expiresAt: z.number().int() }),
  },
  'bundles.trustedKeys': {
    params: z.object({}).strict(),
    result: z.array(TrustedBundleKeySchema),
  },
  /** Loads the install's texts over the shipped defaults and environment: valid with the merged values, or the problem with file:line:column. */
  'config.check': {
    params: ConfigLayersInputSchema,
    result: ConfigCheckResultSchema,
  },
  /** A key's (or section's) merged value, the layer that set it and what it overrode; an invalid configuration fails with its CONFIG_* error. */
  'config.explain': {
    params: ConfigExplainInputSchema,
    result: ConfigExplanationSchema,
  },
  /** What changes from one version of the install's values to another, key by key, over the same defaults, environment and host text. */
  'config.diff': {
    params: ConfigDiffInputSchema,
    result: ConfigDiffResultSchema,
  },
  /** A first placement from the hosts' stored facts: exactly one core, GPU agents where there are NVIDIA GPUs. */
  'installs.suggestPlacement': {
    params: z.object({ hostIds: z.array(HostIdSchema).min(1).max(500) }).strict(),
    result: z.array(PlacementSchema),
  },
  /** Each host against the requirement profiles of its role, plus the checks across the hosts. */
  'installs.preflight': {
    params: z.object({ hosts: z.array(HostRoleChoiceSchema).min(1).max(500) }).strict(),
    result: RolePreflightSchema,
  },
  /** What applying the install would do, host by host (done, todo, check, blocked); changes nothing. */
  'installs.plan': {
    params: z.object({ install: InstallDefinitionSchema }).strict(),
    result: InstallPlanSchema,
  },
  /** Starts applying the install; progress arrives as installs.progress events. Refused before any host is touched when the install cannot start. */
  'installs.start': {
    params: z.object({ install: InstallDefinitionSchema, concurrency: z.number().int().min(1).max(64).optional() }).strict(),
    result: z.object({ jobId: z.string() }),
  },
  /** Where a job stands, host by host and step by step; kept in the store, so it answers after a restart of the backend too. */
  'installs.status': {
    params: z.object({ jobId: z.string().min(1).max(64) }).strict(),
    result: InstallJobStatusSchema,
  },
  /** Stops a running job: every host's SSH connection is cut as a dropped link would be; running the same again resumes. */
  'installs.cancel': {
    params: z.object({ jobId: z.string().min(1).max(64) }).strict(),
    result: z.object({
      jobId: z.string(),
      cancelled: z.boolean(),
      state: z.enum(['running', 'succeeded', 'failed', 'cancelled', 'interrupted']),
    }),
  },
  /** The recent jobs, newest first: of one install, or of all. */
  'installs.jobs': {
    params: z
      .object({
        name: InstallNameSchema.optional(),
        kind: InstallJobKindSchema.optional(),
        limit: z.number().int().min(1).max(200).default(20),
      })
      .strict(),
    result: z.array(InstallJobSummarySchema),
  },
  /** Imported bundles newer than the release a recorded install runs, and the one the app offers; the older ones as downgrades. */
  'installs.upgradeOffer': {
    params: z.object({ name: InstallNameSchema }).strict(),
    result: UpgradeOfferSchema,
  },
  /** What upgrading (or downgrading: see the plan's downgradeFrom) the recorded install to an imported bundle would do, host by host; changes nothing. */
  'installs.upgradePlan': {
    params: z.object({ name: InstallNameSchema, bundle: BundleReferenceSchema }).strict(),
    result: InstallPlanSchema,
  },
  /**
   * Upgrades the recorded install (its recorded hosts, roles and configuration) to an imported bundle: a rolling, health-gated apply as a job.
   * A bundle older than a release a host runs is a downgrade: refused (INSTALL_DOWNGRADE_REFUSED) unless allowDowngrade is true.
   */
  'installs.upgrade': {
    params: z
      .object({
        name: InstallNameSchema,
        bundle: BundleReferenceSchema,
        concurrency: z.number().int().min(1).max(64).optional(),
        allowDowngrade: z.boolean().optional(),
      })
      .strict(),
    result: z.object({ jobId: z.string() }),
  },
  /** Brings each host of the install (or one) back to a kept release, by default its previous one, as a job. */
  'installs.rollback': {
    params: z
      .object({
        name: InstallNameSchema,
        host: HostNameSchema.optional(),
        to: z
          .string()
          .regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/, 'a release version, e.g. 0.1.0')
          .optional(),
      })
      .strict(),
    result: z.object({ jobId: z.string() }),
  },
  /** Removes what the install placed on each host (or one) and nothing else, as a job; with no host left the install's record goes too. */
  'installs.uninstall': {
    params: z.object({ name: InstallNameSchema, host: HostNameSchema.optional() }).strict(),
    result: z.object({ jobId: z.string() }),
  },
  /** installs.plan from an install file (path or text). */
  'installs.planFile': {
    params: z.object({ file: InstallFileRefSchema }).strict(),
    result: InstallPlanSchema,
  },
  /**
   * Applies an install file and answers when every host has ended (not as a job); each step
   * arrives as an installs.runProgress event with `progressId`. A newer bundle is a rolling
   * upgrade; an older one is refused (INSTALL_DOWNGRADE_REFUSED) unless allowDowngrade is true.
   */
  'installs.applyFile': {
    params: z
      .object({
        file: InstallFileRefSchema,
        concurrency: z.number().int().min(1).max(64).optional(),
        allowDowngrade: z.boolean().optional(),
        progressId: ProgressIdSchema.optional(),
      })
      .strict(),
    result: ApplyResultSchema,
  },
  /** Brings the install file's hosts (or one) back to a kept release, by default the previous one, and answers when done. */
  'installs.rollbackFile': {
    params: z
      .object({
        file: InstallFileRefSchema,
        // Judged by the install (a host of it, a release its hosts keep), as the file is.
        host: z.string().min(1).max(256).optional(),
        to: z.string().min(1).max(256).optional(),
        progressId: ProgressIdSchema.optional(),
      })
      .strict(),
    result: RollbackResultSchema,
  },
  /**
   * Stops an installs.applyFile or rollbackFile run by its progress id: every host's SSH
   * connection is cut, as a dropped link would cut it; running the same again resumes. An
   * uninstallFile run is never cut halfway (a host would be left with some of its paths
   * removed): its cancel answers cancelled: false, as an unknown or finished run's does.
   */
  'installs.cancelRun': {
    params: z.object({ progressId: ProgressIdSchema }).strict(),
    result: z.object({ cancelled: z.boolean() }),
  },
  /** Removes what the install file's install placed on its hosts (or one), and answers when done. */
  'installs.uninstallFile': {
    params: z
      .object({ file: InstallFileRefSchema, host: z.string().min(1).max(256).optional(), progressId: ProgressIdSchema.optional() })
      .strict(),
    result: UninstallResultSchema,
  },
  /** The recorded installs, each host's role, place and releases. */
  'installs.list': {
    params: z.object({}).strict(),
    result: z.array(InstallRecordSchema),
  },
  'installs.get': {
    params: z.object({ name: InstallNameSchema }).strict(),
    result: InstallRecordSchema,
  },
  /** Asks each host's runtime now whether its processes are running and healthy. */
  'installs.health': {
    params: z.object({ name: InstallNameSchema }).strict(),
    result: InstallHealthSchema,
  },
  /** The install wizard's draft: the one asked for, else the newest; null when there is none. */
  'wizard.get': {
    params: z.object({ draftId: z.string().min(1).max(64).optional() }).strict(),
    result: z.object({ draft: WizardDraftSchema.nullable() }),
  },
  /** Stores the wizard's draft (a new one when it has no id yet). */
  'wizard.save': {
    params: z.object({ draft: WizardDraftInputSchema }).strict(),
    result: WizardDraftSchema,
  },
  'wizard.discard': {
    params: z.object({ draftId: z.string().min(1).max(64) }).strict(),
    result: z.object({ discarded: z.boolean() }),
  },
  /** Whether the vault of sealed secrets is open, and how it can be opened. */
  'secrets.status': {
    params: z.object({}).strict(),
    result: VaultStatusSchema,
  },
  /**
   * Opens the vault with the operator's passphrase (on a data directory with nothing
   * sealed yet, it becomes the passphrase). SECRETS_PASSPHRASE_WRONG when it does not open it.
   */
  'secrets.unlock': {
    params: z.object({ passphrase: VaultPassphraseSchema }).strict(),
    result: VaultStatusSchema,
  },
  /**
   * Re-seals every stored secret under a new passphrase (12 characters or more), in one
   * transaction: afterwards only the new one opens the data directory. SECRETS_PASSPHRASE_WRONG
   * for a wrong current one, SECRETS_PASSPHRASE_WEAK for a short new one.
   */
  'secrets.changePassphrase': {
    params: z.object({ passphrase: VaultPassphraseSchema, newPassphrase: VaultPassphraseSchema }).strict(),
    result: z.object({ resealed: z.number().int().nonnegative(), unreadable: z.number().int().nonnegative() }),
  },
  ...alertMethods,
  ...fleetEventMethods,
  ...fleetProcessMethods,
  ...prometheusTargetMethods,
  ...fleetLinkMethods,
  ...auditMethods,
  ...operatorMethods,
  ...accessMethods,
  ...runtimeCredentialMethods,
  ...configBundleMethods,
  ...backupMethods,
  ...supportMethods,
} as const;

/** Every event a client may subscribe to, with the params that narrow it. */
export const events = {
  'metrics.live': {
    params: z.object({ hostId: HostIdSchema }).strict(),
    payload: LiveSampleSchema,
  },
  'probes.progress': {
    params: z.object({ jobId: z.string().min(1).max(64).optional() }).strict(),
    payload: ProbeProgressSchema,
  },
  'hosts.changed': {
    params: z.object({}).strict(),
    payload: z.object({ hostId: HostIdSchema }),
  },
  'installs.progress': {
    params: z.object({ jobId: z.string().min(1).max(64).optional() }).strict(),
    payload: InstallProgressSchema,
  },
  /** What happens during an installs.applyFile, rollbackFile or uninstallFile called with this progress id. */
  'installs.runProgress': {
    params: z.object({ progressId: ProgressIdSchema }).strict(),
    payload: InstallRunProgressSchema,
  },
  ...fleetLinkEvents,
  ...alertEvents,
  ...fleetEventEvents,
  ...fleetProcessEvents,
} as const;

export type Methods = typeof methods;
export type Events = typeof events;
export type MethodName = keyof Methods;
export type EventName = keyof Events;
export type MethodParams<M extends MethodName> = z.input<Methods[M]['params']>;
export type ParsedParams<M extends MethodName> = z.output<Methods[M]['params']>;
export type MethodResult<M extends MethodName> = z.output<Methods[M]['result']>;
export type EventParams<E extends EventName> = z.output<Events[E]['params']>;
export type EventPayload<E extends EventName> = z.output<Events[E]['payload']>;

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name);
}
