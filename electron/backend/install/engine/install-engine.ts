import type { ApiError, HostFacts } from '../../../contract';
import type { BundleService } from '../../bundles/bundle-service';
import type { RuntimeTls } from '../../fleet/runtime-connection';
import type { TargetDeps } from '../../hosts/build-ssh-target';
import { createInstallCa, type InstallCa } from '../../pki/install-ca';
import { issueControlCenterCertificate } from '../../pki/issue-certificate';
import { caKeyMissingError } from '../../pki/pki-errors';
import { sealCaKey, unsealCaKey } from '../../pki/seal-ca-key';
import type { BundlesRepo } from '../../store/bundles-repo';
import type { HostReleasesRepo } from '../../store/host-releases-repo';
import type { HostRow } from '../../store/hosts-repo';
import type { InstallLocks } from '../../store/install-locks-repo';
import type { InstallStepsRepo } from '../../store/install-steps-repo';
import type { InstallRow, InstallsRepo } from '../../store/installs-repo';
import type { InstallConfig } from '../../config/install-config-schema';
import { readInstallFile, type InstallFile, type InstallHostEntry } from '../definition/install-file';
import { hostConfigOf, installConfigOf, type ConfigSources } from '../definition/merged-config';
import { readRecordedDefinition, recordDefinition, scaledReplicasOf } from '../definition/recorded-definition';
import {
  asInstallError,
  hostInOtherInstallError,
  hostNotInInventoryError,
  installSecretsLockedError,
  localHostTargetError,
} from '../install-errors';
import { currentJob } from '../jobs/job-context';
import { DEFAULT_FREE_SPACE_MARGIN_BYTES, prepareHost, type PrepareContext } from '../plan/prepare-host';
import { coreEndpointFor } from '../render/listen-addresses';
import { applyHost, type ApplyRun } from './apply-host';
import type { RuntimeLinks } from './run-host-steps';
import type { ServedCertificates } from './record-served-certificate';
import { createBundleResolver, type ResolvedBundle } from './bundle-resolution';
import { downgradeRefusedError, releasesNewerThan } from './downgrade';
import type { ApplyResult, HostPlan, InstallEvent, InstallPlan, RollbackResult, UninstallResult } from './install-steps';
import { createRecordedHostOps, type RollbackOptions, type UninstallOptions } from './recorded-host-ops';
import { createLimiter, createRollout } from './rollout';

export interface InstallEngineDeps extends TargetDeps {
  dataDir: string;
  bundles: BundleService;
  bundlesRepo: BundlesRepo;
  installs: InstallsRepo;
  steps: InstallStepsRepo;
  releases: HostReleasesRepo;
  /** One writer per install across processes (apply, upgrade, rollback, uninstall). */
  locks: InstallLocks;
  transaction<T>(fn: () => T): T;
  /** The host's stored facts, probing it first when it never was. */
  factsOf(row: HostRow): Promise<HostFacts>;
  now: () => number;
  /** Where defaults.yaml and environments/ are; the app's config/ when absent. */
  configDir?: string;
  /** SUTAZAI_* variables, the configuration's top layer (process.env in the CLI). */
  env?: Readonly<Record<string, string | undefined>>;
  connectTimeoutMs?: number;
  freeSpaceMarginBytes?: number;
  /** A serving backend's fleet links: a manifest sent to a running runtime goes through the host's when it is up. */
  links?: RuntimeLinks;
  /** Where an apply records the certificate each runtime serves once healthy (record-served-certificate.ts). */
  runtimeCertificates: ServedCertificates;
  logger?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

export interface ApplyOptions {
  /** Hosts worked on at once; default the install's install.upload_concurrency (its layers without the per-host ones). */
  concurrency?: number;
  onEvent?: (event: InstallEvent) => void;
  /** Aborting cuts every host's SSH connection, as a dropped link would: apply again to resume. */
  signal?: AbortSignal;
  /** Applies a bundle older than a host runs; without it that is refused (INSTALL_DOWNGRADE_REFUSED). */
  allowDowngrade?: boolean;
}

/**
 * Plan and apply an install file: the bundle, the hosts with their roles, the
 * configuration layers. A plan connects to every host and looks (one read-only exec per
 * host), changing nothing anywhere, and says for each host which steps are already done
 * and what the others will do. Apply does the same look, then runs the steps that are not
 * done, host by host with a concurrency limit, recording every step in the store, so a
 * second apply finds everything done and an interrupted one resumes where it stopped.
 * Rollback and uninstall work from the install's record. Everything but a plan holds the
 * install's lock from the moment the install file is read.
 */
export interface InstallEngine {
  plan(installFile: string | InstallFile, options?: { concurrency?: number }): Promise<InstallPlan>;
  apply(installFile: string | InstallFile, options?: ApplyOptions): Promise<ApplyResult>;
  rollback(installFile: string | InstallFile, options?: RollbackOptions): Promise<RollbackResult>;
  uninstall(installFile: string | InstallFile, options?: UninstallOptions): Promise<UninstallResult>;
}

/** Where the core is for agents elsewhere, and whether any agent host lacks a core. */
interface CoreSetting {
  endpoint: string | null;
  agentsElsewhere: boolean;
}

type HostOfFile = { entry: InstallHostEntry; row: HostRow };

export function createInstallEngine(deps: InstallEngineDeps): InstallEngine {
  const connectTimeoutMs = deps.connectTimeoutMs ?? 20_000;
  const freeSpaceMarginBytes = deps.freeSpaceMarginBytes ?? DEFAULT_FREE_SPACE_MARGIN_BYTES;
  const sources: ConfigSources = { configDir: deps.configDir, env: deps.env };
  const bundles = createBundleResolver(deps);
  const prepareDeps = { hosts: deps.hosts, hostKeys: deps.hostKeys, vault: deps.vault, factsOf: deps.factsOf };

  function hostRows(file: InstallFile, install: InstallRow | null): HostOfFile[] {
    return file.hosts.map((entry) => {
      const row = deps.hosts.findByName(entry.name);
      if (!row) throw hostNotInInventoryError(file.file, entry.name);
      if (row.kind !== 'ssh') throw localHostTargetError(file.file, entry.name);
      const other = deps.installs.installOfHost(row.id);
      if (other && other.installId !== install?.id) throw hostInOtherInstallError(entry.name, other.name);
      return { entry, row };
    });
  }

  /**
   * Where agents on hosts without a core find it (the first core host of the file, at its
   * core.port and the address it listens on or the inventory reaches it at), and whether
   * there are such agents: then the core must listen beyond loopback.
   */
  function coreOf(rows: HostOfFile[], configs: Map<string, InstallConfig>): CoreSetting {
    const agentsElsewhere = rows.some(({ entry }) => entry.role === 'agent');
    const core = rows.find(({ entry }) => entry.role !== 'agent');
    if (!core) return { endpoint: null, agentsElsewhere };
    return { endpoint: coreEndpointFor(configs.get(core.entry.name)!, core.row.address, agentsElsewhere), agentsElsewhere };
  }

  /** Each host's merged configuration (the install's layers, its own, SUTAZAI_* variables): a bad value throws, naming file:line:column. */
  function hostConfigsOf(file: InstallFile): Map<string, InstallConfig> {
    const context = { ...sources, environment: file.environment, layers: file.layers };
    return new Map(file.hosts.map((entry) => [entry.name, hostConfigOf(context, entry)]));
  }

  /** An upgrade: some host of the file runs (as recorded) another release than the bundle's. */
  function isRolling(rows: Array<{ row: HostRow }>, bundle: ResolvedBundle): boolean {
    return rows.some(({ row }) => {
      const current = deps.releases.current(row.id);
      return current !== null && (current.version !== bundle.version || current.bundleSha256 !== bundle.sha256);
    });
  }

  /** The releases newer than the bundle that hosts of the file run (as recorded): applying it is then a downgrade. */
  function downgradeFrom(rows: Array<{ row: HostRow }>, bundle: ResolvedBundle): string[] {
    return releasesNewerThan(
      rows.map(({ row }) => deps.releases.current(row.id)?.version),
      bundle.version,
    );
  }

  /** The install's CA with its key, and a short-lived admin certificate for this control center's own calls (never stored). */
  async function operatorOf(install: InstallRow | null): Promise<{ ca: InstallCa; tls: RuntimeTls } | null> {
    if (!install || install.caKeySecretId === null || !deps.vault.unlocked) return null;
    const ca = unsealCaKey(deps.vault, install.caKeySecretId, install.name, install.caCert);
    const client = await issueControlCenterCertificate(ca, { role: 'admin', validityDays: 1 });
    return { ca, tls: { caCertPem: ca.certPem, certPem: client.certPem, keyPem: client.keyPem } };
  }

  function contextFor(
    file: InstallFile,
    bundle: ResolvedBundle,
    install: InstallRow | null,
    operator: { tls: RuntimeTls } | null,
    row: HostRow,
    core: CoreSetting,
  ): PrepareContext {
    const recordedHost = install ? deps.installs.host(install.id, row.id) : null;
    const current = deps.releases.current(row.id);
    return {
      installName: file.name,
      bundle,
      layers: file.layers,
      environment: file.environment,
      ...sources,
      caCertPem: install?.caCert ?? null,
      operatorTls: operator?.tls ?? null,
      links: deps.links ?? null,
      recordedHost,
      scaledReplicas: install ? scaledReplicasOf(install.definition, row.name) : {},
      recordedRelease: current ? { version: current.version, bundleSha256: current.bundleSha256 } : null,
      coreEndpoint: core.endpoint,
      agentsElsewhere: core.agentsElsewhere,
      connectTimeoutMs,
      freeSpaceMarginBytes,
    };
  }

  async function plan(installFile: string | InstallFile, options: { concurrency?: number } = {}): Promise<InstallPlan> {
    const file = typeof installFile === 'string' ? readInstallFile(installFile) : installFile;
    const configs = hostConfigsOf(file);
    const concurrency = options.concurrency ?? installConfigOf(sources, file).install.upload_concurrency;
    const bundle = await bundles.resolve(file);
    const install = deps.installs.findByName(file.name);
    const rows = hostRows(file, install);
    // Without the vault (locked) the plan still looks at the hosts; it only cannot ask the runtimes.
    const operator = await operatorOf(install).catch(() => null);
    const core = coreOf(rows, configs);
    const hosts = await mapLimit(rows, concurrency, async ({ entry, row }): Promise<HostPlan> => {
      try {
        const prepared = await prepareHost(prepareDeps, contextFor(file, bundle, install, operator, row, core), row, entry);
        prepared.session.close();
        return prepared.plan;
      } catch (error) {
        return unreachablePlan(entry, asInstallError(error, 'Apply again'));
      }
    });
    const upToDate = hosts.every((h) => h.error === null && h.steps.every((s) => s.state === 'done'));
    return {
      install: file.name,
      bundle: { name: bundle.name, version: bundle.version, sha256: bundle.sha256, sizeBytes: bundle.sizeBytes },
      upToDate,
      rolling: isRolling(rows, bundle),
      downgradeFrom: downgradeFrom(rows, bundle),
      hosts,
    };
  }

  /** The install's row, with its CA made and its key sealed on the first apply. */
  async function ensureInstall(file: InstallFile, bundle: ResolvedBundle): Promise<InstallRow> {
    const existing = deps.installs.findByName(file.name);
    if (existing) return existing;
    const ca = await createInstallCa({ installName: file.name });
    const id = deps.transaction(() => {
      const secretId = sealCaKey(deps.vault, file.name, ca, deps.now());
      return deps.installs.insert(
        { name: file.name, bundleId: bundle.id, installFile: file.file, configSnapshot: '{}', caCert: ca.certPem, caKeySecretId: secretId },
        deps.now(),
      );
    });
    deps.logger?.info({ install: file.name, bundle: `${bundle.name}@${bundle.version}` }, 'install created with its own CA');
    return deps.installs.get(id)!;
  }

  async function apply(file: InstallFile, options: ApplyOptions = {}): Promise<ApplyResult> {
    // Every host's configuration first: a wrong value stops the apply before any host is reached.
    const configs = hostConfigsOf(file);
    const concurrency = options.concurrency ?? installConfigOf(sources, file).install.upload_concurrency;
    const bundle = await bundles.resolve(file);
    const known = deps.installs.findByName(file.name);
    const rows = hostRows(file, known);
    const newer = downgradeFrom(rows, bundle);
    if (newer.length > 0 && options.allowDowngrade !== true)
      throw downgradeRefusedError(file.name, `${bundle.name}@${bundle.version}`, newer);
    if (!deps.vault.unlocked) throw installSecretsLockedError('Applying an install', 'apply again');
    const install = await ensureInstall(file, bundle);
    // What the app needs to upgrade, roll back or uninstall this install by its name alone.
    // A scale done through the runtime since the last apply stays (recordScale).
    deps.installs.setDefinition(install.id, recordDefinition(file, readRecordedDefinition(install.definition)));
    const operator = await operatorOf(install);
    if (!operator) throw caKeyMissingError(install.name);
    const core = coreOf(rows, configs);
    const emit = (event: InstallEvent) => options.onEvent?.(event);
    const run: ApplyRun = {
      file,
      bundle,
      install,
      operator,
      emit,
      signal: options.signal,
      snapshot: JSON.parse(install.configSnapshot) as Record<string, unknown>,
      slots: createLimiter(concurrency),
      rollout: isRolling(rows, bundle) ? createRollout(rows.length) : null,
      links: deps.links ?? null,
      prepare: (entry, row) => prepareHost(prepareDeps, contextFor(file, bundle, install, operator, row, core), row, entry),
    };
    const stepDeps = { ...deps, bundles };
    const results = await Promise.all(
      rows.map(async ({ entry, row }, index) => {
        const result = await applyHost(stepDeps, run, entry, row, index);
        emit({ kind: 'host', host: row.name, outcome: result.outcome, error: result.error });
        return result;
      }),
    );
    deps.installs.update(
      install.id,
      { bundleId: bundle.id, installFile: file.file, configSnapshot: JSON.stringify(run.snapshot) },
      deps.now(),
    );
    return {
      install: file.name,
      bundle: { name: bundle.name, version: bundle.version },
      unchanged: results.every((r) => r.outcome === 'unchanged'),
      hosts: results,
    };
  }

  const recorded = createRecordedHostOps({ ...deps, connectTimeoutMs, operatorOf });
  /**
   * What changes hosts runs alone on its install, whichever process starts it: the lock is
   * claimed once the install file is read, before any host is touched, and held to the end.
   */
  function exclusive<O, R>(operation: string, run: (file: InstallFile, options?: O) => Promise<R>) {
    return async (installFile: string | InstallFile, options?: O): Promise<R> => {
      const file = typeof installFile === 'string' ? readInstallFile(installFile) : installFile;
      const job = currentJob.getStore();
      const release = deps.locks.claim(file.name, { operation: job?.kind ?? operation, jobId: job?.id ?? null });
      try {
        return await run(file, options);
      } finally {
        release();
      }
    };
  }

  return {
    plan,
    apply: exclusive('apply', apply),
    rollback: exclusive('rollback', recorded.rollback),
    uninstall: exclusive('uninstall', recorded.uninstall),
  };
}

function unreachablePlan(entry: InstallHostEntry, error: ApiError): HostPlan {
  return {
    host: entry.name,
    role: entry.role,
    gpu: entry.gpu ?? false,
    mode: null,
    root: null,
    service: null,
    privilege: null,
    currentRelease: null,
    steps: [{ step: 'connect', state: 'blocked', detail: error.message }],
    error: error.toBody(),
  };
}

/** Runs `fn` over `items`, at most `limit` at once, keeping the order of the results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) results[index] = await fn(items[index]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
