import fs from 'node:fs';
import path from 'node:path';
import { ApiError, isApiError, type HostFacts } from '../../../contract';
import type { BundleService } from '../../bundles/bundle-service';
import { architecturesOf, BundleManifestSchema } from '../../bundles/bundle-manifest';
import type { RuntimeTls } from '../../fleet/runtime-connection';
import type { TargetDeps } from '../../hosts/build-ssh-target';
import { createInstallCa, type InstallCa } from '../../pki/install-ca';
import { issueClientCertificate } from '../../pki/issue-certificate';
import { sealCaKey, unsealCaKey } from '../../pki/seal-ca-key';
import type { BundlesRepo } from '../../store/bundles-repo';
import type { HostReleasesRepo } from '../../store/host-releases-repo';
import type { HostRow } from '../../store/hosts-repo';
import type { InstallLocks } from '../../store/install-locks-repo';
import type { InstallStepsRepo } from '../../store/install-steps-repo';
import type { InstallRow, InstallsRepo } from '../../store/installs-repo';
import { loadInstallConfig } from '../../config/load-install-config';
import type { InstallConfig } from '../../config/install-config-schema';
import { activateRelease, RETURN_HEALTH_FLOOR_SECONDS } from './activate-release';
import { runChangingScript } from '../remote/host-link';
import { readInstallFile, type InstallFile, type InstallHostEntry } from '../definition/install-file';
import { currentJob } from '../jobs/job-context';
import {
  STEPS,
  SWITCH_STEPS,
  type ApplyResult,
  type HostApplyResult,
  type HostPlan,
  type InstallEvent,
  type InstallPlan,
  type StepName,
  type StepOutcome,
} from './install-steps';
import { currentReleaseOf, previousRelease } from '../plan/plan-host';
import {
  coreEndpointFor,
  DEFAULT_FREE_SPACE_MARGIN_BYTES,
  hostConfigOf,
  prepareHost,
  type PrepareContext,
  type PreparedHost,
  type ResolvedBundle,
} from '../plan/prepare-host';
import { pruneReleasesScript, releasesToPrune } from '../steps/prune-releases';
import { downgradeRefusedError, releasesNewerThan } from './downgrade';
import { readBundleFiles } from './read-bundle-files';
import { recordDefinition } from '../definition/recorded-definition';
import { createRecordedHostOps } from './recorded-host-ops';
import { createLimiter, createRollout, type Limiter, type Rollout } from './rollout';
import { HOST_STEPS, type HostStepName, type StepRun } from './run-host-steps';
import { pathsBeforeStep } from './step-paths';
import { localPrefixSha256 } from '../steps/upload-bundle';
import { UNLOCK_VAULT_REMEDY } from '../../secrets/secret-vault';

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
 * Upload progress arrives for every acknowledged 64 KiB write (1,600 times for 100 MB):
 * listeners hear at most one per UPLOAD_EVENT_MS and the store keeps one per
 * UPLOAD_STORE_MS, the last always, so reporting does not slow the upload it reports.
 */
const UPLOAD_EVENT_MS = 100;
const UPLOAD_STORE_MS = 500;

/** Steps that look rather than change: they never count as a change to the host. */
const CHECK_STEPS = new Set<StepName>(['connect', 'check-space', 'health']);
/** Once any of these changes the host, the runtime must (re)start and prove itself healthy again. */
const RESTART_CAUSES = new Set<StepName>(['unpack', 'configure', 'service']);

/**
 * Plan and apply an install file: the bundle, the hosts with their roles, the
 * configuration layers. A plan connects to every host and looks (one read-only exec per
 * host), changing nothing anywhere, and says for each host which steps are already done
 * and what the others will do. Apply does the same look, then runs the steps that are not
 * done, host by host with a concurrency limit, recording every step in the store, so a
 * second apply finds everything done and an interrupted one resumes where it stopped.
 */
export function createInstallEngine(deps: InstallEngineDeps) {
  const connectTimeoutMs = deps.connectTimeoutMs ?? 20_000;
  const freeSpaceMarginBytes = deps.freeSpaceMarginBytes ?? DEFAULT_FREE_SPACE_MARGIN_BYTES;
  const templates = new Map<string, { manifest: string; unit: string | null }>();
  const verified = new Map<string, Promise<void>>();

  async function resolveBundle(file: InstallFile): Promise<ResolvedBundle> {
    let row;
    if ('path' in file.bundle) {
      // Importing verifies it and is a no-op for a bundle imported before; an untrusted signer is refused.
      const imported = await deps.bundles.import(file.bundle.path);
      row = deps.bundlesRepo.get(imported.bundle.id);
    } else {
      const { name, version } = file.bundle;
      row = deps.bundlesRepo.list().find((b) => b.name === name && b.version === version) ?? null;
      if (!row) {
        throw new ApiError(
          'NOT_FOUND',
          `${file.file}: no imported bundle is ${name}@${version}.`,
          "Import it first (sutazai bundle import FILE), or give the bundle file's path in the install file; `sutazai bundle list` shows the imported ones.",
        );
      }
    }
    if (!row) throw new ApiError('INTERNAL', 'The imported bundle has no record.', 'Import the bundle again.');
    const bundleFile = path.resolve(deps.dataDir, row.path);
    const stat = fs.statSync(bundleFile, { throwIfNoEntry: false });
    if (!stat || stat.size !== row.size) {
      throw new ApiError(
        'BUNDLE_UNREADABLE',
        `The imported copy of ${row.name}@${row.version} (${bundleFile}) is missing or damaged.`,
        'Import the bundle file again (sutazai bundle import FILE): it restores the copy.',
      );
    }
    const manifest = BundleManifestSchema.parse(JSON.parse(row.manifest));
    let files = templates.get(row.fileSha256);
    if (!files) {
      const names = [manifest.processManifest, ...(manifest.systemdUnit ? [manifest.systemdUnit] : [])];
      const read = await readBundleFiles(bundleFile, names);
      files = { manifest: read.get(manifest.processManifest)!, unit: manifest.systemdUnit ? read.get(manifest.systemdUnit)! : null };
      templates.set(row.fileSha256, files);
    }
    return {
      id: row.id,
      name: row.name,
      version: row.version,
      sha256: row.fileSha256,
      sizeBytes: row.size,
      file: bundleFile,
      architectures: architecturesOf(manifest),
      manifestTemplate: files.manifest,
      systemdUnit: files.unit,
    };
  }

  function hostRows(file: InstallFile, install: InstallRow | null): Array<{ entry: InstallHostEntry; row: HostRow }> {
    return file.hosts.map((entry) => {
      const row = deps.hosts.findByName(entry.name);
      if (!row) {
        throw new ApiError(
          'HOST_NOT_FOUND',
          `${file.file}: host ${entry.name} is not in the inventory.`,
          `Add ${entry.name} to the inventory first (the Hosts page, or hosts add from the command line), or correct the name.`,
        );
      }
      if (row.kind !== 'ssh')
        throw new ApiError(
          'INSTALL_FILE_INVALID',
          `${file.file}: ${entry.name} is the machine this app runs on; installs go to SSH hosts.`,
          'Add this machine as an SSH host (its address and a login) if it should run SutazAI.',
        );
      const other = deps.installs.installOfHost(row.id);
      if (other && other.installId !== install?.id) {
        throw new ApiError(
          'INSTALL_CONFLICT',
          `${entry.name} already belongs to the install ${other.name}; a host runs one runtime.`,
          `Remove ${entry.name} from this install file, or uninstall ${other.name} from it first.`,
        );
      }
      return { entry, row };
    });
  }

  /**
   * Where agents on hosts without a core find it (the first core host of the file, at its
   * core.port and the address it listens on or the inventory reaches it at), and whether
   * there are such agents: then the core must listen beyond loopback.
   */
  function coreOf(rows: Array<{ entry: InstallHostEntry; row: HostRow }>, configs: Map<string, InstallConfig>): CoreSetting {
    const agentsElsewhere = rows.some(({ entry }) => entry.role === 'agent');
    const core = rows.find(({ entry }) => entry.role !== 'agent');
    if (!core) return { endpoint: null, agentsElsewhere };
    return { endpoint: coreEndpointFor(configs.get(core.entry.name)!, core.row.address, agentsElsewhere), agentsElsewhere };
  }

  /** Each host's merged configuration (the install's layers, its own, SUTAZAI_* variables): a bad value throws, naming file:line:column. */
  function hostConfigsOf(file: InstallFile): Map<string, InstallConfig> {
    const context = { configDir: deps.configDir, environment: file.environment, layers: file.layers, env: deps.env };
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

  /**
   * The imported copy hashed again before its first upload in this engine's life (and again
   * whenever the file changes): a copy damaged on the disk since the import is refused here,
   * before a byte of it reaches a host.
   */
  function verifyBundleCopy(bundle: ResolvedBundle): Promise<void> {
    const stat = fs.statSync(bundle.file, { throwIfNoEntry: false });
    const id = stat ? `${bundle.file}:${stat.ino}:${stat.size}:${stat.mtimeMs}` : bundle.file;
    let check = verified.get(id);
    if (!check) {
      check = (async () => {
        if (!stat || stat.size !== bundle.sizeBytes) {
          throw new ApiError(
            'BUNDLE_CORRUPT',
            `The imported copy of ${bundle.name}@${bundle.version} (${bundle.file}) is ${stat ? `${stat.size} bytes, not ${bundle.sizeBytes}` : 'missing'}; nothing was uploaded.`,
            'Import the bundle file again (sutazai bundle import FILE): it restores the copy.',
          );
        }
        const actual = await localPrefixSha256(bundle.file, stat.size);
        if (actual !== bundle.sha256) {
          throw new ApiError(
            'BUNDLE_CORRUPT',
            `The imported copy of ${bundle.name}@${bundle.version} (${bundle.file}) was damaged since it was imported: its SHA-256 is ${actual}, not ${bundle.sha256}; nothing was uploaded.`,
            'Import the bundle file again (sutazai bundle import FILE) from a good copy: it restores the imported one.',
          );
        }
      })();
      // A refusal is not remembered: the operator may restore the copy and apply again.
      check.catch(() => verified.delete(id));
      verified.set(id, check);
    }
    return check;
  }

  /** The install's CA with its key, and a short-lived admin certificate for this control center's own calls (never stored). */
  async function operatorOf(install: InstallRow | null): Promise<{ ca: InstallCa; tls: RuntimeTls } | null> {
    if (!install || install.caKeySecretId === null || !deps.vault.unlocked) return null;
    const ca = unsealCaKey(deps.vault, install.caKeySecretId, install.name, install.caCert);
    const client = await issueClientCertificate(ca, { operatorName: 'sutazai-control-center', role: 'admin', validityDays: 1 });
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
      configDir: deps.configDir,
      env: deps.env,
      caCertPem: install?.caCert ?? null,
      operatorTls: operator?.tls ?? null,
      recordedHost,
      recordedRelease: current ? { version: current.version, bundleSha256: current.bundleSha256 } : null,
      coreEndpoint: core.endpoint,
      agentsElsewhere: core.agentsElsewhere,
      connectTimeoutMs,
      freeSpaceMarginBytes,
    };
  }

  /** The install's own layers merged, before any host's: a bad layer stops here, before any host is contacted. */
  function installConfigOf(file: InstallFile) {
    return loadInstallConfig({
      ...(deps.configDir !== undefined ? { configDir: deps.configDir } : {}),
      ...(file.environment !== undefined ? { environment: file.environment } : {}),
      install: file.layers,
      ...(deps.env ? { env: deps.env } : {}),
    }).config;
  }

  async function plan(installFile: string | InstallFile, options: { concurrency?: number } = {}): Promise<InstallPlan> {
    const file = typeof installFile === 'string' ? readInstallFile(installFile) : installFile;
    const configs = hostConfigsOf(file);
    const concurrency = options.concurrency ?? installConfigOf(file).install.upload_concurrency;
    const bundle = await resolveBundle(file);
    const install = deps.installs.findByName(file.name);
    const rows = hostRows(file, install);
    // Without the vault (locked) the plan still looks at the hosts; it only cannot ask the runtimes.
    const operator = await operatorOf(install).catch(() => null);
    const core = coreOf(rows, configs);
    const hosts = await mapLimit(rows, concurrency, async ({ entry, row }): Promise<HostPlan> => {
      try {
        const prepared = await prepareHost(prepareDeps(), contextFor(file, bundle, install, operator, row, core), row, entry);
        prepared.session.close();
        return prepared.plan;
      } catch (error) {
        return unreachablePlan(entry, toApiError(error));
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

  function prepareDeps() {
    return { hosts: deps.hosts, hostKeys: deps.hostKeys, vault: deps.vault, factsOf: deps.factsOf };
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

  async function apply(installFile: string | InstallFile, options: ApplyOptions = {}): Promise<ApplyResult> {
    const file = typeof installFile === 'string' ? readInstallFile(installFile) : installFile;
    // Every host's configuration first: a wrong value stops the apply before any host is reached.
    const configs = hostConfigsOf(file);
    const concurrency = options.concurrency ?? installConfigOf(file).install.upload_concurrency;
    const bundle = await resolveBundle(file);
    const known = deps.installs.findByName(file.name);
    const rows = hostRows(file, known);
    const newer = downgradeFrom(rows, bundle);
    if (newer.length > 0 && options.allowDowngrade !== true)
      throw downgradeRefusedError(file.name, `${bundle.name}@${bundle.version}`, newer);
    if (!deps.vault.unlocked) {
      throw new ApiError(
        'SECRETS_LOCKED',
        "Applying an install needs the sealed secrets (the install's CA key, sudo passwords), and they are locked.",
        `${UNLOCK_VAULT_REMEDY} Then apply again.`,
      );
    }
    const install = await ensureInstall(file, bundle);
    // What the app needs to upgrade, roll back or uninstall this install by its name alone.
    deps.installs.setDefinition(install.id, recordDefinition(file));
    const operator = await operatorOf(install);
    if (!operator) {
      throw new ApiError(
        'PKI_KEY_MISMATCH',
        `The CA key of the install ${install.name} is no longer in the vault.`,
        'The install cannot issue certificates without it: restore the data directory from a backup, or install under a new name.',
      );
    }
    const core = coreOf(rows, configs);
    const emit = (event: InstallEvent) => options.onEvent?.(event);
    const snapshot: Record<string, unknown> = JSON.parse(install.configSnapshot) as Record<string, unknown>;
    const slots = createLimiter(concurrency);
    const rollout = isRolling(rows, bundle) ? createRollout(rows.length) : null;

    const results = await Promise.all(
      rows.map(async ({ entry, row }, index) => {
        const result = await applyHost(
          { file, bundle, install, operator, core, emit, signal: options.signal, snapshot, slots, rollout, index },
          entry,
          row,
        );
        emit({ kind: 'host', host: row.name, outcome: result.outcome, error: result.error });
        return result;
      }),
    );
    deps.installs.update(install.id, { bundleId: bundle.id, installFile: file.file, configSnapshot: JSON.stringify(snapshot) }, deps.now());
    return {
      install: file.name,
      bundle: { name: bundle.name, version: bundle.version },
      unchanged: results.every((r) => r.outcome === 'unchanged'),
      hosts: results,
    };
  }

  interface ApplyRun {
    file: InstallFile;
    bundle: ResolvedBundle;
    install: InstallRow;
    operator: { ca: InstallCa; tls: RuntimeTls };
    core: CoreSetting;
    emit: (event: InstallEvent) => void;
    signal: AbortSignal | undefined;
    snapshot: Record<string, unknown>;
    slots: Limiter;
    /** Set in a rolling upgrade: the switch steps wait for the host's turn. */
    rollout: Rollout | null;
    index: number;
  }

  async function applyHost(run: ApplyRun, entry: InstallHostEntry, row: HostRow): Promise<HostApplyResult> {
    const { file, bundle, install, operator, emit, signal, rollout, index } = run;
    const giveSlot = await run.slots.acquire();
    // Settled exactly once, on every path: a host after this one waits for it in a rollout.
    let stopsRollout: string | null = null;
    try {
      return await applyHostSteps();
    } finally {
      giveSlot();
      rollout?.settle(index, stopsRollout);
    }

    async function applyHostSteps(): Promise<HostApplyResult> {
      const version = bundle.version;
      const key = (step: StepName) => ({ installId: install.id, hostId: row.id, releaseVersion: version, step });
      const steps: HostApplyResult['steps'] = [];
      const report = (step: StepName, status: StepOutcome, detail: string) => {
        emit({ kind: 'step', host: row.name, step, status, detail });
        if (status !== 'running') steps.push({ step, status, detail });
      };
      const recordFailure = (step: StepName, error: ApiError) => {
        deps.steps.finish(
          key(step),
          { status: 'failed', changed: false, output: `${error.message}\n${outputOf(error)}`, errorCode: error.code },
          deps.now(),
        );
        report(step, 'failed', firstLine(error.message));
        for (const later of STEPS.slice(STEPS.indexOf(step) + 1)) report(later, 'skipped', 'not reached');
      };
      const fail = (step: StepName, error: ApiError): HostApplyResult => {
        recordFailure(step, error);
        deps.installs.setHostState(install.id, row.id, 'failed', deps.now());
        return { host: row.name, outcome: 'failed', steps, upload: null, error: error.toBody() };
      };

      // The host's record keeps its last configuration until this apply has a new one (uninstall and rollback read it).
      const recordedConfig = deps.installs.host(install.id, row.id)?.config ?? '{}';
      deps.installs.upsertHost(
        { installId: install.id, hostId: row.id, role: entry.role, gpu: entry.gpu ?? false, config: recordedConfig },
        deps.now(),
      );
      report('connect', 'running', `${row.user}@${row.address}:${row.port}`);
      deps.steps.start(key('connect'), deps.now());
      // A host not on this bundle yet will likely need it uploaded: the local copy's check
      // (once per engine, shared by the hosts) runs while this one connects and looks.
      const current = deps.releases.current(row.id);
      if (current === null || current.bundleSha256 !== bundle.sha256) verifyBundleCopy(bundle).catch(() => undefined);
      let host: PreparedHost;
      try {
        host = await prepareHost(prepareDeps(), contextFor(file, bundle, install, operator, row, run.core), row, entry);
      } catch (error) {
        return fail('connect', toApiError(error));
      }
      const cut = () => host.session.close();
      signal?.addEventListener('abort', cut, { once: true });
      if (signal?.aborted) cut();
      try {
        deps.installs.upsertHost(
          { installId: install.id, hostId: row.id, role: entry.role, gpu: host.gpu, config: JSON.stringify(host.config) },
          deps.now(),
        );
        deps.installs.setPlacement(install.id, row.id, { mode: host.mode, rootDir: host.layout.root, service: host.service }, deps.now());
        deps.installs.setHostState(install.id, row.id, 'installing', deps.now());
        run.snapshot[row.name] = host.config;

        const connect = host.steps.steps[0]!;
        deps.steps.finish(key('connect'), { status: 'done', changed: false, output: connect.detail }, deps.now());
        report('connect', 'done', connect.detail);
        // Something the plan found stops the host before anything is written to it.
        const blocked = host.steps.steps.find((s) => s.state === 'blocked');
        if (blocked)
          return refuse(blocked.step, host.steps.blocked ?? new ApiError('INSTALL_STEP_FAILED', blocked.detail, 'See the plan.'));

        // What the host returns to when the new release fails once it touched the running one.
        const previous = previousRelease(host.check, version);
        let changed = false;
        let mustRestart = false;
        let reconfiguredRunning = false;
        let upload: HostApplyResult['upload'] = null;
        let turnTaken = false;
        const uploadReport = { emitted: 0, stored: 0 };
        for (const planned of host.steps.steps.slice(1)) {
          const { step } = planned;
          if (rollout && SWITCH_STEPS.has(step) && !turnTaken) {
            // Upload, unpack and configure may run ahead; the switch waits for this host's turn.
            turnTaken = true;
            giveSlot();
            const stopper = await rollout.turn(index);
            if (stopper !== null) return stopped(stopper, step, host);
          }
          deps.steps.start(key(step), deps.now());
          const forced = (step === 'start' && mustRestart) || (step === 'health' && mustRestart);
          if (planned.state === 'done' && !forced) {
            deps.steps.finish(key(step), { status: 'done', changed: false, output: planned.detail }, deps.now());
            report(step, 'already-done', planned.detail);
            continue;
          }
          if (step === 'check-space') {
            // Done by the look at the host this apply began with.
            deps.steps.finish(key(step), { status: 'done', changed: false, output: planned.detail }, deps.now());
            report(step, 'done', planned.detail);
            continue;
          }
          report(step, 'running', planned.detail);
          let done: StepRun;
          // What the step may make is recorded before it runs: cut off in the middle, the apply leaves nothing uninstall does not know.
          deps.installs.addCreatedPaths(install.id, row.id, pathsBeforeStep(step, host), deps.now());
          try {
            if (step === 'upload') await verifyBundleCopy(bundle);
            if (step === 'record') done = await record(install, row, host, bundle);
            else {
              done = await HOST_STEPS[step as HostStepName]({
                host,
                installName: file.name,
                bundle,
                ca: operator.ca,
                operatorTls: operator.tls,
                signal,
                onUpload: (progress) => {
                  const now = Date.now();
                  const last = progress.bytesOnHost === progress.totalBytes;
                  if (last || now - uploadReport.emitted >= UPLOAD_EVENT_MS) {
                    uploadReport.emitted = now;
                    emit({ kind: 'upload', host: row.name, ...progress });
                  }
                  if (last || now - uploadReport.stored >= UPLOAD_STORE_MS) {
                    uploadReport.stored = now;
                    deps.steps.progress(
                      key('upload'),
                      `${progress.bytesOnHost} of ${progress.totalBytes} bytes on the host (resumed from ${progress.resumedFrom})`,
                    );
                  }
                },
              });
            }
          } catch (error) {
            const failure = toApiError(error);
            if (!SWITCH_STEPS.has(step)) return fail(step, failure);
            // The running release was touched: in a rollout nothing after this host moves.
            if (rollout) stopsRollout = row.name;
            // A link cut (the app closed, the network gone) leaves the host as it is: the next apply resumes.
            if (host.session.closed || host.session.lost !== null) return fail(step, failure);
            if (previous === null) return reconfiguredRunning ? await rollBackConfig(step, failure, host) : fail(step, failure);
            return await rollBack(step, failure, previous, host);
          }
          if (done.upload) upload = { resumedFrom: done.upload.resumedFrom, bytesSent: done.upload.bytesSent };
          deps.installs.addCreatedPaths(install.id, row.id, done.created, deps.now());
          const isChange = !CHECK_STEPS.has(step);
          changed ||= isChange;
          if (RESTART_CAUSES.has(step) || step === 'start') mustRestart = true;
          // The release that runs got a new configuration; configure kept the one it replaced.
          if (step === 'configure' && currentReleaseOf(host.check) === version) reconfiguredRunning = true;
          deps.steps.finish(key(step), { status: 'done', changed: isChange, output: done.output }, deps.now());
          report(step, 'done', done.detail);
        }
        deps.installs.setHostState(install.id, row.id, 'installed', deps.now());
        return { host: row.name, outcome: changed ? 'installed' : 'unchanged', steps, upload, error: null };
      } finally {
        signal?.removeEventListener('abort', cut);
        host.session.close();
      }

      /** The plan found a reason to stop: nothing is done on the host, the reason is the blocked step's. */
      function refuse(step: StepName, error: ApiError): HostApplyResult {
        for (const other of STEPS.slice(1)) {
          if (other === step) {
            deps.steps.start(key(step), deps.now());
            deps.steps.finish(key(step), { status: 'failed', changed: false, output: error.message, errorCode: error.code }, deps.now());
            report(step, 'failed', firstLine(error.message));
          } else report(other, 'skipped', `not run: ${row.name} is refused at ${step}`);
        }
        deps.installs.setHostState(install.id, row.id, deps.releases.current(row.id) ? 'installed' : 'failed', deps.now());
        return { host: row.name, outcome: 'failed', steps, upload: null, error: error.toBody() };
      }

      /** An earlier host stopped the rollout: this one keeps running what it ran. */
      function stopped(stopper: string, from: StepName, host: PreparedHost): HostApplyResult {
        for (const later of STEPS.slice(STEPS.indexOf(from))) report(later, 'skipped', `the rollout stopped at ${stopper}`);
        const current = currentReleaseOf(host.check);
        deps.installs.setHostState(install.id, row.id, current !== null ? 'installed' : 'planned', deps.now());
        const error = new ApiError(
          'INSTALL_ROLLOUT_STOPPED',
          `${row.name} was not switched to ${version}: the rolling upgrade stopped at ${stopper}, which failed (see it above)${current !== null ? `; ${row.name} still runs ${current}` : ''}.`,
          `Fix the cause on ${stopper}, then apply again: ${row.name} has ${version} uploaded and unpacked already, so only its switch is left.`,
        );
        return { host: row.name, outcome: 'failed', steps, upload: null, error: error.toBody() };
      }

      /**
       * A new configuration of the release that runs failed its start or health gate: the
       * release's earlier etc/ (kept by configure) goes back and its runtime restarts on it,
       * health-gated like any return. The host's recorded configuration stays the earlier one.
       */
      async function rollBackConfig(step: StepName, failure: ApiError, host: PreparedHost): Promise<HostApplyResult> {
        recordFailure(step, failure);
        run.snapshot[row.name] = JSON.parse(recordedConfig) as unknown;
        deps.installs.upsertHost(
          { installId: install.id, hostId: row.id, role: entry.role, gpu: host.gpu, config: recordedConfig },
          deps.now(),
        );
        try {
          const activated = await activateRelease({
            host,
            installName: file.name,
            version,
            tls: operator.tls,
            restorePreviousConfig: true,
            healthTimeoutMs: Math.max(host.config.install.health_timeout_seconds, RETURN_HEALTH_FLOOR_SECONDS) * 1000,
            ...(signal ? { signal } : {}),
            onStep: (activateStep, status, detail) =>
              emit({ kind: 'activate', host: row.name, purpose: 'auto-rollback', version, step: activateStep, status, detail }),
          });
          deps.installs.addCreatedPaths(install.id, row.id, activated.created, deps.now());
          emit({
            kind: 'activate',
            host: row.name,
            purpose: 'auto-rollback',
            version,
            step: 'record',
            status: 'done',
            detail: `${version} runs with its earlier configuration again`,
          });
          deps.installs.setHostState(install.id, row.id, 'failed', deps.now());
          const error = new ApiError(
            'INSTALL_ROLLED_BACK',
            `The new configuration of ${version} failed on ${row.name} at ${step}, and ${row.name} was returned to its earlier configuration, which is healthy again (${activated.health})${rollout ? '; the rollout stopped' : ''}. Why it failed: ${failure.message}`,
            `Fix the configuration (the lines above say what the failing process wrote), then apply again${rollout ? `; hosts after ${row.name} were left as they were` : ''}.`,
          );
          return { host: row.name, outcome: 'failed', steps, upload: null, error: error.toBody() };
        } catch (rollbackError) {
          const why = toApiError(rollbackError);
          deps.installs.setHostState(install.id, row.id, 'failed', deps.now());
          const error = new ApiError(
            'INSTALL_ROLLBACK_FAILED',
            `The new configuration of ${version} failed on ${row.name} at ${step}, and returning to the earlier configuration failed too: ${why.message} Why it failed: ${failure.message}`,
            `${why.remedy} Then fix the configuration and apply again.`,
          );
          return { host: row.name, outcome: 'failed', steps, upload: null, error: error.toBody() };
        }
      }

      /** A switch step failed: the host returns to the release it ran, binaries, configuration and service. */
      async function rollBack(step: StepName, failure: ApiError, previous: string, host: PreparedHost): Promise<HostApplyResult> {
        recordFailure(step, failure);
        const failedRelease = {
          hostId: row.id,
          installId: install.id,
          version,
          bundleSha256: bundle.sha256,
          path: host.release.dir,
          installedAt: deps.now(),
        };
        try {
          const activated = await activateRelease({
            host,
            installName: file.name,
            version: previous,
            tls: operator.tls,
            healthTimeoutMs: Math.max(host.config.install.health_timeout_seconds, RETURN_HEALTH_FLOOR_SECONDS) * 1000,
            ...(signal ? { signal } : {}),
            onStep: (activateStep, status, detail) =>
              emit({ kind: 'activate', host: row.name, purpose: 'auto-rollback', version: previous, step: activateStep, status, detail }),
          });
          deps.installs.addCreatedPaths(install.id, row.id, activated.created, deps.now());
          deps.transaction(() => {
            deps.releases.markFailed(failedRelease);
            const recorded = deps.releases.current(row.id);
            if (recorded?.version !== previous) {
              deps.releases.markCurrent({
                hostId: row.id,
                installId: install.id,
                version: previous,
                bundleSha256: activated.bundleSha256,
                path: activated.releaseDir,
                installedAt: deps.now(),
              });
            }
          });
          emit({
            kind: 'activate',
            host: row.name,
            purpose: 'auto-rollback',
            version: previous,
            step: 'record',
            status: 'done',
            detail: `${previous} is current again; ${version} is recorded as failed`,
          });
          deps.installs.setHostState(install.id, row.id, 'failed', deps.now());
          const error = new ApiError(
            'INSTALL_ROLLED_BACK',
            `Release ${version} failed on ${row.name} at ${step}, and ${row.name} was returned to ${previous} (its binaries, configuration and service), which is healthy again (${activated.health}); the rollout stopped. Why ${version} failed: ${failure.message}`,
            `Fix the cause in ${version} or in its configuration (the lines above say what the failing process wrote), then apply again; hosts after ${row.name} were left on their release.`,
          );
          return { host: row.name, outcome: 'failed', steps, upload: null, error: error.toBody() };
        } catch (rollbackError) {
          const why = toApiError(rollbackError);
          deps.releases.markFailed(failedRelease);
          deps.installs.setHostState(install.id, row.id, 'failed', deps.now());
          const error = new ApiError(
            'INSTALL_ROLLBACK_FAILED',
            `Release ${version} failed on ${row.name} at ${step}, and returning to ${previous} failed too: ${why.message} Why ${version} failed: ${failure.message}`,
            `${why.remedy} Then roll ${row.name} back to ${previous}.`,
          );
          return { host: row.name, outcome: 'failed', steps, upload: null, error: error.toBody() };
        }
      }
    }
  }

  async function record(install: InstallRow, row: HostRow, host: PreparedHost, bundle: ResolvedBundle): Promise<StepRun> {
    deps.releases.markCurrent({
      hostId: row.id,
      installId: install.id,
      version: bundle.version,
      bundleSha256: bundle.sha256,
      path: host.release.dir,
      installedAt: deps.now(),
    });
    const detail = `${bundle.version} is current on ${row.name}`;
    const pruned = await pruneHost(install, row, host).catch((error: unknown) => {
      deps.logger?.warn({ err: error, host: row.name }, 'pruning old releases failed');
      return `; removing old releases failed (${firstLine(toApiError(error).message)}), they stay on disk`;
    });
    return { detail: `${detail}${pruned}`, output: `recorded ${host.release.dir} as the current release${pruned}`, created: [] };
  }

  /**
   * Removes the releases beyond install.releases_kept (never the current or the previous
   * one): those recorded for the host, and release directories the install made but never
   * recorded (an upgrade stopped before its switch), the oldest first.
   */
  async function pruneHost(install: InstallRow, row: HostRow, host: PreparedHost): Promise<string> {
    const recorded = deps.releases.ofHost(row.id).filter((r) => r.installId === install.id);
    const known = new Set(recorded.map((r) => r.path));
    const created = deps.installs.host(install.id, row.id)?.createdPaths ?? [];
    const unrecorded = created
      .filter((p) => path.posix.dirname(p) === host.layout.releases && !known.has(p) && p !== host.release.dir)
      .map((p) => ({
        hostId: row.id,
        installId: install.id,
        version: path.posix.basename(p),
        bundleSha256: '',
        path: p,
        state: 'failed' as const,
        installedAt: 0,
      }));
    const prune = releasesToPrune([...recorded, ...unrecorded], host.config.install.releases_kept);
    if (prune.length === 0) return '';
    const versions = prune.map((r) => r.version).sort(byVersion);
    const run = await runChangingScript(host, 'record', pruneReleasesScript(host.layout, versions), {
      timeoutMs: 300_000,
      remedy: 'Remove the old release directories by hand, or apply again.',
    });
    const removed = run.removed;
    deps.transaction(() => {
      for (const r of prune) deps.releases.remove(row.id, r.version);
      deps.installs.removeCreatedPaths(
        install.id,
        row.id,
        prune.map((r) => r.path),
        deps.now(),
      );
    });
    return `; removed ${versions.length === 1 ? 'release' : 'releases'} ${versions.join(', ')} (install.releases_kept ${host.config.install.releases_kept})${removed.length === 0 ? ', already gone from the host' : ''}`;
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

/** Where the core is for agents elsewhere, and whether any agent host lacks a core. */
interface CoreSetting {
  endpoint: string | null;
  agentsElsewhere: boolean;
}

/** Versions in their natural order: 0.9.0 before 0.10.0. */
export function byVersion(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}

export type InstallEngine = ReturnType<typeof createInstallEngine>;

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

function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  return new ApiError(
    'INSTALL_STEP_FAILED',
    `Unexpected failure: ${(error as Error)?.message ?? String(error)}`,
    'Apply again; if it keeps failing, send the app log with your report.',
    { cause: error },
  );
}

/** The script output an ApiError carries as its cause, for the step's record. */
function outputOf(error: ApiError): string {
  const cause = error.cause;
  return cause instanceof Error && !isApiError(cause) ? cause.message : '';
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
