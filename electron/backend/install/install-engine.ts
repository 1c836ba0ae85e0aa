import fs from 'node:fs';
import path from 'node:path';
import { ApiError, isApiError, type HostFacts } from '../../contract';
import type { BundleService } from '../bundles/bundle-service';
import { architecturesOf, BundleManifestSchema } from '../bundles/bundle-manifest';
import type { RuntimeTls } from '../fleet/runtime-connection';
import type { TargetDeps } from '../hosts/build-ssh-target';
import { createInstallCa, type InstallCa } from '../pki/install-ca';
import { issueClientCertificate } from '../pki/issue-certificate';
import { sealCaKey, unsealCaKey } from '../pki/seal-ca-key';
import type { BundlesRepo } from '../store/bundles-repo';
import type { HostReleasesRepo } from '../store/host-releases-repo';
import type { HostRow } from '../store/hosts-repo';
import type { InstallStepsRepo } from '../store/install-steps-repo';
import type { InstallRow, InstallsRepo } from '../store/installs-repo';
import { loadInstallConfig } from '../config/load-install-config';
import { readInstallFile, type InstallFile, type InstallHostEntry } from './install-file';
import { STEPS, type ApplyResult, type HostApplyResult, type HostPlan, type InstallEvent, type InstallPlan, type StepName, type StepOutcome } from './install-steps';
import { DEFAULT_FREE_SPACE_MARGIN_BYTES, prepareHost, type PrepareContext, type PreparedHost, type ResolvedBundle } from './prepare-host';
import { readBundleFiles } from './read-bundle-files';
import { HOST_STEPS, type HostStepName, type StepRun } from './run-host-steps';

export interface InstallEngineDeps extends TargetDeps {
  dataDir: string;
  bundles: BundleService;
  bundlesRepo: BundlesRepo;
  installs: InstallsRepo;
  steps: InstallStepsRepo;
  releases: HostReleasesRepo;
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
}

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
        throw new ApiError('NOT_FOUND', `${file.file}: no imported bundle is ${name}@${version}.`, 'Import it first (sutazai bundle import FILE), or give the bundle file\'s path in the install file; `sutazai bundle list` shows the imported ones.');
      }
    }
    if (!row) throw new ApiError('INTERNAL', 'The imported bundle has no record.', 'Import the bundle again.');
    const bundleFile = path.resolve(deps.dataDir, row.path);
    const stat = fs.statSync(bundleFile, { throwIfNoEntry: false });
    if (!stat || stat.size !== row.size) {
      throw new ApiError('BUNDLE_UNREADABLE', `The imported copy of ${row.name}@${row.version} (${bundleFile}) is missing or damaged.`, 'Import the bundle file again (sutazai bundle import FILE): it restores the copy.');
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
        throw new ApiError('HOST_NOT_FOUND', `${file.file}: host ${entry.name} is not in the inventory.`, `Add it first (sutazai hosts add ${entry.name} --address ...), or correct the name; \`sutazai hosts list\` shows the inventory.`);
      }
      if (row.kind !== 'ssh') throw new ApiError('INSTALL_FILE_INVALID', `${file.file}: ${entry.name} is the machine this app runs on; installs go to SSH hosts.`, 'Add this machine as an SSH host (its address and a login) if it should run SutazAI.');
      const other = deps.installs.installOfHost(row.id);
      if (other && other.installId !== install?.id) {
        throw new ApiError('INSTALL_CONFLICT', `${entry.name} already belongs to the install ${other.name}; a host runs one runtime.`, `Remove ${entry.name} from this install file, or uninstall ${other.name} from it first.`);
      }
      return { entry, row };
    });
  }

  /** Where agents on hosts without a core find it: the first core host of the file. */
  function coreAddressOf(rows: Array<{ entry: InstallHostEntry; row: HostRow }>): string | null {
    return rows.find(({ entry }) => entry.role !== 'agent')?.row.address ?? null;
  }

  /** The install's CA with its key, and a short-lived admin certificate for this control center's own calls (never stored). */
  async function operatorOf(install: InstallRow | null): Promise<{ ca: InstallCa; tls: RuntimeTls } | null> {
    if (!install || install.caKeySecretId === null || !deps.vault.unlocked) return null;
    const ca = unsealCaKey(deps.vault, install.caKeySecretId, install.name, install.caCert);
    const client = await issueClientCertificate(ca, { operatorName: 'sutazai-control-center', role: 'admin', validityDays: 1 });
    return { ca, tls: { caCertPem: ca.certPem, certPem: client.certPem, keyPem: client.keyPem } };
  }

  function contextFor(file: InstallFile, bundle: ResolvedBundle, install: InstallRow | null, operator: { tls: RuntimeTls } | null, row: HostRow, coreAddress: string | null): PrepareContext {
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
      coreAddress,
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
    const concurrency = options.concurrency ?? installConfigOf(file).install.upload_concurrency;
    const bundle = await resolveBundle(file);
    const install = deps.installs.findByName(file.name);
    const rows = hostRows(file, install);
    // Without the vault (locked) the plan still looks at the hosts; it only cannot ask the runtimes.
    const operator = await operatorOf(install).catch(() => null);
    const coreAddress = coreAddressOf(rows);
    const hosts = await mapLimit(rows, concurrency, async ({ entry, row }): Promise<HostPlan> => {
      try {
        const prepared = await prepareHost(prepareDeps(), contextFor(file, bundle, install, operator, row, coreAddress), row, entry);
        prepared.session.close();
        return prepared.plan;
      } catch (error) {
        return unreachablePlan(entry, toApiError(error));
      }
    });
    const upToDate = hosts.every((h) => h.error === null && h.steps.every((s) => s.state === 'done'));
    return { install: file.name, bundle: { name: bundle.name, version: bundle.version, sha256: bundle.sha256, sizeBytes: bundle.sizeBytes }, upToDate, hosts };
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
      return deps.installs.insert({ name: file.name, bundleId: bundle.id, installFile: file.file, configSnapshot: '{}', caCert: ca.certPem, caKeySecretId: secretId }, deps.now());
    });
    deps.logger?.info({ install: file.name, bundle: `${bundle.name}@${bundle.version}` }, 'install created with its own CA');
    return deps.installs.get(id)!;
  }

  async function apply(installFile: string | InstallFile, options: ApplyOptions = {}): Promise<ApplyResult> {
    const file = typeof installFile === 'string' ? readInstallFile(installFile) : installFile;
    const concurrency = options.concurrency ?? installConfigOf(file).install.upload_concurrency;
    const bundle = await resolveBundle(file);
    const known = deps.installs.findByName(file.name);
    const rows = hostRows(file, known);
    if (!deps.vault.unlocked) {
      throw new ApiError('SECRETS_LOCKED', 'Applying an install needs the sealed secrets (the install\'s CA key, sudo passwords), and they are locked.', 'Give the vault passphrase (SUTAZAI_PASSPHRASE or --passphrase-file), then apply again.');
    }
    const install = await ensureInstall(file, bundle);
    const operator = await operatorOf(install);
    if (!operator) {
      throw new ApiError('PKI_KEY_MISMATCH', `The CA key of the install ${install.name} is no longer in the vault.`, 'The install cannot issue certificates without it: restore the data directory from a backup, or install under a new name.');
    }
    const coreAddress = coreAddressOf(rows);
    const emit = (event: InstallEvent) => options.onEvent?.(event);
    const snapshot: Record<string, unknown> = JSON.parse(install.configSnapshot) as Record<string, unknown>;

    const results = await mapLimit(rows, concurrency, async ({ entry, row }) => {
      const result = await applyHost(file, bundle, install, operator, entry, row, coreAddress, emit, options.signal, snapshot);
      emit({ kind: 'host', host: row.name, outcome: result.outcome, error: result.error });
      return result;
    });
    deps.installs.update(install.id, { bundleId: bundle.id, installFile: file.file, configSnapshot: JSON.stringify(snapshot) }, deps.now());
    return { install: file.name, bundle: { name: bundle.name, version: bundle.version }, unchanged: results.every((r) => r.outcome === 'unchanged'), hosts: results };
  }

  async function applyHost(
    file: InstallFile,
    bundle: ResolvedBundle,
    install: InstallRow,
    operator: { ca: InstallCa; tls: RuntimeTls },
    entry: InstallHostEntry,
    row: HostRow,
    coreAddress: string | null,
    emit: (event: InstallEvent) => void,
    signal: AbortSignal | undefined,
    snapshot: Record<string, unknown>,
  ): Promise<HostApplyResult> {
    const version = bundle.version;
    const key = (step: StepName) => ({ installId: install.id, hostId: row.id, releaseVersion: version, step });
    const steps: HostApplyResult['steps'] = [];
    const report = (step: StepName, status: StepOutcome, detail: string) => {
      emit({ kind: 'step', host: row.name, step, status, detail });
      if (status !== 'running') steps.push({ step, status, detail });
    };
    const fail = (step: StepName, error: ApiError): HostApplyResult => {
      deps.steps.finish(key(step), { status: 'failed', changed: false, output: `${error.message}\n${outputOf(error)}`, errorCode: error.code }, deps.now());
      report(step, 'failed', error.message);
      for (const later of STEPS.slice(STEPS.indexOf(step) + 1)) report(later, 'skipped', 'not reached');
      deps.installs.setHostState(install.id, row.id, 'failed', deps.now());
      return { host: row.name, outcome: 'failed', steps, upload: null, error: error.toBody() };
    };

    deps.installs.upsertHost({ installId: install.id, hostId: row.id, role: entry.role, gpu: entry.gpu ?? false, config: '{}' }, deps.now());
    report('connect', 'running', `${row.user}@${row.address}:${row.port}`);
    deps.steps.start(key('connect'), deps.now());
    let host: PreparedHost;
    try {
      host = await prepareHost(prepareDeps(), contextFor(file, bundle, install, operator, row, coreAddress), row, entry);
    } catch (error) {
      return fail('connect', toApiError(error));
    }
    const cut = () => host.session.close();
    signal?.addEventListener('abort', cut, { once: true });
    if (signal?.aborted) cut();
    try {
      deps.installs.upsertHost({ installId: install.id, hostId: row.id, role: entry.role, gpu: host.gpu, config: JSON.stringify(host.config) }, deps.now());
      deps.installs.setPlacement(install.id, row.id, { mode: host.mode, rootDir: host.layout.root, service: host.service }, deps.now());
      deps.installs.setHostState(install.id, row.id, 'installing', deps.now());
      snapshot[row.name] = host.config;

      let changed = false;
      let mustRestart = false;
      let upload: HostApplyResult['upload'] = null;
      for (const planned of host.steps.steps) {
        const { step } = planned;
        if (step !== 'connect') deps.steps.start(key(step), deps.now());
        if (planned.state === 'blocked') return fail(step, host.steps.blocked ?? new ApiError('INSTALL_STEP_FAILED', planned.detail, 'See the plan.'));
        const forced = (step === 'start' && mustRestart) || (step === 'health' && mustRestart);
        if (step === 'connect') {
          // Logging in is done anew by every apply; it changes nothing on the host.
          deps.steps.finish(key(step), { status: 'done', changed: false, output: planned.detail }, deps.now());
          report(step, 'done', planned.detail);
          continue;
        }
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
        let run: StepRun;
        try {
          if (step === 'record') run = record(install, row, host, bundle);
          else {
            run = await HOST_STEPS[step as HostStepName]({
              host,
              installName: file.name,
              bundle,
              ca: operator.ca,
              operatorTls: operator.tls,
              signal,
              onUpload: (progress) => {
                emit({ kind: 'upload', host: row.name, ...progress });
                deps.steps.progress(key('upload'), `${progress.bytesOnHost} of ${progress.totalBytes} bytes on the host (resumed from ${progress.resumedFrom})`);
              },
            });
          }
        } catch (error) {
          return fail(step, toApiError(error));
        }
        if (run.upload) upload = { resumedFrom: run.upload.resumedFrom, bytesSent: run.upload.bytesSent };
        deps.installs.addCreatedPaths(install.id, row.id, run.created, deps.now());
        const isChange = !CHECK_STEPS.has(step);
        changed ||= isChange;
        if (RESTART_CAUSES.has(step) || step === 'start') mustRestart = true;
        deps.steps.finish(key(step), { status: 'done', changed: isChange, output: run.output }, deps.now());
        report(step, 'done', run.detail);
      }
      deps.installs.setHostState(install.id, row.id, 'installed', deps.now());
      return { host: row.name, outcome: changed ? 'installed' : 'unchanged', steps, upload, error: null };
    } finally {
      signal?.removeEventListener('abort', cut);
      host.session.close();
    }
  }

  function record(install: InstallRow, row: HostRow, host: PreparedHost, bundle: ResolvedBundle): StepRun {
    deps.releases.markCurrent({ hostId: row.id, installId: install.id, version: bundle.version, bundleSha256: bundle.sha256, path: host.release.dir, installedAt: deps.now() });
    return { detail: `${bundle.version} is current on ${row.name}`, output: `recorded ${host.release.dir} as the current release`, created: [] };
  }

  return { plan, apply };
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
    steps: [{ step: 'connect', state: 'blocked', detail: error.message }],
    error: error.toBody(),
  };
}

function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  return new ApiError('INSTALL_STEP_FAILED', `Unexpected failure: ${(error as Error)?.message ?? String(error)}`, 'Apply again; if it keeps failing, send the app log with your report.', { cause: error });
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

