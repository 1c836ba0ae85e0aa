import type { HostFacts } from '../../../contract';
import { describeKeptReleases, rollbackTarget } from '../../../contract/rollback-target';
import { loadInstallConfig } from '../../config/load-install-config';
import type { InstallConfig } from '../../config/install-config-schema';
import type { RuntimeTls } from '../../fleet/runtime-connection';
import type { TargetDeps } from '../../hosts/build-ssh-target';
import type { InstallCa } from '../../pki/install-ca';
import { caKeyMissingError } from '../../pki/pki-errors';
import type { HostReleaseRow, HostReleasesRepo } from '../../store/host-releases-repo';
import type { HostRow } from '../../store/hosts-repo';
import type { InstallStepsRepo } from '../../store/install-steps-repo';
import type { InstallHostRow, InstallRow, InstallsRepo } from '../../store/installs-repo';
import type { RouteLinks } from '../health/runtime-route';
import { activateRelease, RETURN_HEALTH_FLOOR_SECONDS } from './activate-release';
import type { ServedCertificates } from './record-served-certificate';
import { runChangingScript, type HostLink } from '../remote/host-link';
import { readInstallFile, type InstallFile } from '../definition/install-file';
import { recordedLayout } from '../definition/install-layout';
import type {
  HostRollbackResult,
  HostUninstallResult,
  InstallEvent,
  RollbackResult,
  UninstallResult,
  UninstallStep,
} from './install-steps';
import {
  asInstallError,
  hostNeverInstalledError,
  hostNotInInstallError,
  installNotFoundError,
  installSecretsLockedError,
  noPreviousReleaseError,
  releaseNotKeptError,
  rollbackReturnedError,
  rollbackReturnFailedError,
  rollbackStoppedError,
} from '../install-errors';
import { openHostShell } from '../remote/open-host-shell';
import { pathsToRemove, uninstallScript } from '../steps/uninstall-host';

/**
 * What is done to the hosts of an install from its record rather than from a fresh plan:
 * a rollback to a kept release and an uninstall. Both find each host where the first apply
 * placed it (install_hosts: mode, root, service, configuration) and go host by host in the
 * install file's order, stopping at the first host that fails.
 */
export interface RecordedOpsDeps extends TargetDeps {
  installs: InstallsRepo;
  steps: InstallStepsRepo;
  releases: HostReleasesRepo;
  transaction<T>(fn: () => T): T;
  factsOf(row: HostRow): Promise<HostFacts>;
  now: () => number;
  connectTimeoutMs: number;
  configDir?: string;
  operatorOf(install: InstallRow): Promise<{ ca: InstallCa; tls: RuntimeTls } | null>;
  /** A serving backend's fleet links: a rollback's health gate asks through the host's while it is up. */
  links?: RouteLinks;
  /** Where the certificate a rolled-back release serves is recorded, for the certificate-expiry alert. */
  runtimeCertificates: ServedCertificates;
  logger?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

export interface RollbackOptions {
  /** Only this host of the install (its inventory name); default every host. */
  host?: string;
  /** The kept release to return to; default each host's previous one. */
  to?: string;
  onEvent?: (event: InstallEvent) => void;
  signal?: AbortSignal;
}

export interface UninstallOptions {
  host?: string;
  onEvent?: (event: InstallEvent) => void;
}

interface RecordedHost {
  record: InstallHostRow;
  row: HostRow;
}

/** Rollback and uninstall of an install's recorded hosts (see RecordedOpsDeps). */
export interface RecordedHostOps {
  rollback(installFile: string | InstallFile, options?: RollbackOptions): Promise<RollbackResult>;
  uninstall(installFile: string | InstallFile, options?: UninstallOptions): Promise<UninstallResult>;
}

/** The configuration the first apply placed the host with (an apply before it was kept: the control center's current one). */
export function recordedHostConfig(record: InstallHostRow, configDir: string | undefined): InstallConfig {
  return record.config === '{}'
    ? loadInstallConfig(configDir !== undefined ? { configDir } : {}).config
    : (JSON.parse(record.config) as InstallConfig);
}

export function createRecordedHostOps(deps: RecordedOpsDeps): RecordedHostOps {
  function installOf(file: InstallFile): InstallRow {
    const install = deps.installs.findByName(file.name);
    if (!install) throw installNotFoundError(file);
    return install;
  }

  function requireVault(doing: string): void {
    if (!deps.vault.unlocked) throw installSecretsLockedError(doing, 'try again');
  }

  /** The install's recorded hosts in the install file's order (hosts no longer in the file last), or the one asked for. */
  function recordedHosts(install: InstallRow, file: InstallFile, only: string | undefined): RecordedHost[] {
    const all = deps.installs.hosts(install.id).flatMap((record) => {
      const row = deps.hosts.get(record.hostId);
      return row ? [{ record, row }] : [];
    });
    const order = (name: string) => {
      const at = file.hosts.findIndex((h) => h.name === name);
      return at < 0 ? Number.MAX_SAFE_INTEGER : at;
    };
    all.sort((a, b) => order(a.row.name) - order(b.row.name) || a.row.id - b.row.id);
    if (only === undefined) return all;
    const found = all.filter((h) => h.row.name === only);
    if (found.length === 0)
      throw hostNotInInstallError(
        only,
        install.name,
        all.map((h) => h.row.name),
      );
    return found;
  }

  /** Logs in to a recorded host; its layout is where the first apply placed it. */
  async function linkFor(host: RecordedHost): Promise<HostLink & { config: InstallConfig }> {
    const { record, row } = host;
    if (record.mode === null || record.rootDir === null || record.service === null) throw hostNeverInstalledError(row.name);
    const config = recordedHostConfig(record, deps.configDir);
    const facts = await deps.factsOf(row);
    const { session, shell } = await openHostShell(deps, row, facts, record.mode, deps.connectTimeoutMs);
    return {
      row,
      session,
      shell,
      mode: record.mode,
      service: record.service,
      layout: recordedLayout(config, record.mode, record.rootDir),
      config,
    };
  }

  function releasesOf(install: InstallRow, hostId: number): HostReleaseRow[] {
    return deps.releases.ofHost(hostId).filter((r) => r.installId === install.id);
  }

  /**
   * `sutazai rollback`: each host (or the one named) back to a kept release (default its
   * previous one), health-gated like an upgrade: when the release does not become healthy,
   * the host returns to the release it ran. Host by host; the first failure stops the rest.
   */
  async function rollback(installFile: string | InstallFile, options: RollbackOptions = {}): Promise<RollbackResult> {
    const file = typeof installFile === 'string' ? readInstallFile(installFile) : installFile;
    const install = installOf(file);
    const hosts = recordedHosts(install, file, options.host);
    requireVault('A rollback');
    const operator = await deps.operatorOf(install);
    if (!operator) throw caKeyMissingError(install.name);
    const emit = (event: InstallEvent) => options.onEvent?.(event);
    const results: HostRollbackResult[] = [];
    let stoppedBy: string | null = null;
    for (const host of hosts) {
      if (stoppedBy !== null) {
        results.push({
          host: host.row.name,
          from: null,
          to: null,
          outcome: 'stopped',
          health: null,
          error: rollbackStoppedError(host.row.name, stoppedBy).toBody(),
        });
        continue;
      }
      const result = await rollbackHost(install, host, operator.tls, options, emit);
      results.push(result);
      if (result.outcome === 'failed' || result.outcome === 'returned') stoppedBy = host.row.name;
    }
    return { install: install.name, hosts: results };
  }

  async function rollbackHost(
    install: InstallRow,
    host: RecordedHost,
    tls: RuntimeTls,
    options: RollbackOptions,
    emit: (event: InstallEvent) => void,
  ): Promise<HostRollbackResult> {
    const name = host.row.name;
    let from: string | null = null;
    let to: string | null = null;
    try {
      ({ from, to } = chooseRollbackTarget(name, releasesOf(install, host.row.id), options.to));
      if (from === to) return { host: name, from, to, outcome: 'unchanged', health: null, error: null };
    } catch (error) {
      return { host: name, from, to, outcome: 'failed', health: null, error: asInstallError(error, 'Try again').toBody() };
    }
    const target = to;
    let link: (HostLink & { config: InstallConfig }) | null = null;
    const activate = (version: string, returning = false) =>
      activateRelease({
        host: link!,
        installName: install.name,
        version,
        tls,
        fleetLink: { links: deps.links ?? null, hostId: host.row.id, installName: install.name, job: 'rollback' },
        servedCertificate: { certificates: deps.runtimeCertificates, now: deps.now },
        healthTimeoutMs:
          (returning
            ? Math.max(link!.config.install.health_timeout_seconds, RETURN_HEALTH_FLOOR_SECONDS)
            : link!.config.install.health_timeout_seconds) * 1000,
        ...(options.signal ? { signal: options.signal } : {}),
        onStep: (step, status, detail) => emit({ kind: 'activate', host: name, purpose: 'rollback', version, step, status, detail }),
      });
    const markCurrent = (version: string, activated: { bundleSha256: string; releaseDir: string; created: string[] }) => {
      deps.transaction(() => {
        deps.releases.markCurrent({
          hostId: host.row.id,
          installId: install.id,
          version,
          bundleSha256: activated.bundleSha256,
          path: activated.releaseDir,
          installedAt: deps.now(),
        });
        deps.installs.addCreatedPaths(install.id, host.row.id, activated.created, deps.now());
        deps.installs.setHostState(install.id, host.row.id, 'installed', deps.now());
      });
      emit({
        kind: 'activate',
        host: name,
        purpose: 'rollback',
        version,
        step: 'record',
        status: 'done',
        detail: `${version} is current on ${name}`,
      });
    };
    try {
      link = await linkFor(host);
      const activated = await activate(target);
      markCurrent(target, activated);
      deps.logger?.info({ install: install.name, host: name, from, to: target }, 'rolled back');
      return { host: name, from, to: target, outcome: 'rolled-back', health: activated.health, error: null };
    } catch (error) {
      const failure = asInstallError(error, 'Try again');
      // Health-gated: a release that does not come up hands the host back to the one it ran.
      if (link === null || from === null || link.session.closed || link.session.lost !== null)
        return { host: name, from, to: target, outcome: 'failed', health: null, error: failure.toBody() };
      try {
        const back = await activate(from, true);
        deps.transaction(() => {
          const recorded = releasesOf(install, host.row.id).find((r) => r.version === target);
          if (recorded) deps.releases.markFailed({ ...recorded, installedAt: deps.now() });
        });
        markCurrent(from, back);
        const returned = rollbackReturnedError(name, target, from, back.health, failure);
        return { host: name, from, to: target, outcome: 'returned', health: back.health, error: returned.toBody() };
      } catch (backError) {
        const why = asInstallError(backError, 'Try again');
        const failed = rollbackReturnFailedError(name, target, from, why, failure);
        return { host: name, from, to: target, outcome: 'failed', health: null, error: failed.toBody() };
      }
    } finally {
      link?.session.close();
    }
  }

  /**
   * `sutazai uninstall`: each host (or the one named) stops its runtime and everything it
   * supervises, loses its service (unit or detached scripts), and has exactly the paths the
   * install recorded as made by it removed, releases included; then the store forgets it.
   * With no host left, the install's record and its sealed CA key go too.
   */
  async function uninstall(installFile: string | InstallFile, options: UninstallOptions = {}): Promise<UninstallResult> {
    const file = typeof installFile === 'string' ? readInstallFile(installFile) : installFile;
    const install = installOf(file);
    const hosts = recordedHosts(install, file, options.host);
    requireVault('Uninstalling');
    const emit = (event: InstallEvent) => options.onEvent?.(event);
    const results: HostUninstallResult[] = [];
    for (const host of hosts) results.push(await uninstallHost(install, host, emit));
    let installRemoved = false;
    if (deps.installs.hosts(install.id).length === 0) {
      deps.transaction(() => {
        deps.installs.remove(install.id);
        if (install.caKeySecretId !== null) deps.vault.remove(install.caKeySecretId);
      });
      installRemoved = true;
      deps.logger?.info({ install: install.name }, 'install removed with its CA key: no host is left');
    }
    return { install: install.name, hosts: results, installRemoved };
  }

  async function uninstallHost(install: InstallRow, host: RecordedHost, emit: (event: InstallEvent) => void): Promise<HostUninstallResult> {
    const name = host.row.name;
    let current: UninstallStep = 'connect';
    const report = (step: UninstallStep, status: 'running' | 'done' | 'already-done' | 'failed', detail: string) => {
      current = step;
      emit({ kind: 'uninstall', host: name, step, status, detail });
    };
    const releases = releasesOf(install, host.row.id);
    let removed: string[] = [];
    try {
      if (host.record.rootDir === null || host.record.mode === null) {
        report('connect', 'already-done', 'nothing was ever placed on the host');
      } else {
        report('connect', 'running', `${host.row.user}@${host.row.address}:${host.row.port}`);
        const link = await linkFor(host);
        try {
          report(
            'connect',
            'done',
            `${link.mode === 'system' ? 'system-wide' : 'per-user'} install under ${link.layout.root}, ${link.service === 'systemd' ? 'systemd unit' : 'detached mode'}`,
          );
          report('stop', 'running', 'stops the runtime and every process it supervises, then removes the service');
          // Fixed from the record before the script runs: nothing the host says can add to it.
          const paths = pathsToRemove(
            host.record.createdPaths,
            releases.map((r) => r.path),
            link.layout,
          );
          const run = await runChangingScript(link, 'uninstall', uninstallScript({ layout: link.layout, service: link.service, paths }), {
            timeoutMs: 300_000,
            remedy: `Nothing was removed if the runtime could not be stopped; stop it on ${name} (sutazai-runtime stop-all --config FILE), then uninstall again.`,
          });
          removed = run.removed.filter((p) => paths.includes(p));
          const said = run.output.split('\n');
          report('stop', 'done', said.find((l) => /stopped|nothing of this runtime|no runtime/.test(l)) ?? 'the runtime is stopped');
          report(
            'remove',
            'done',
            removed.length === 0
              ? 'nothing recorded was left on the host'
              : `removed ${removed.length} recorded path${removed.length === 1 ? '' : 's'}: ${removed.join(', ')}`,
          );
        } finally {
          link.session.close();
        }
      }
      deps.transaction(() => {
        deps.steps.removeHost(install.id, host.row.id);
        deps.releases.removeHost(host.row.id, install.id);
        deps.installs.removeHost(install.id, host.row.id);
      });
      report('forget', 'done', `${name} is no longer part of ${install.name}`);
      deps.logger?.info({ install: install.name, host: name, removed }, 'host uninstalled');
      return { host: name, outcome: 'removed', removed, error: null };
    } catch (error) {
      const failure = asInstallError(error, 'Try again');
      report(current, 'failed', failure.message.split('\n')[0]!);
      return { host: name, outcome: 'failed', removed, error: failure.toBody() };
    }
  }

  return { rollback, uninstall };
}

/**
 * Which release a rollback goes to: the one asked for, which the host must keep, or its
 * previous one (the release most recently current before the current one).
 */
export function chooseRollbackTarget(
  hostName: string,
  releases: readonly HostReleaseRow[],
  to?: string,
): { from: string | null; to: string } {
  const current = releases.find((r) => r.state === 'current')?.version ?? null;
  const target = rollbackTarget(releases, to);
  if (target !== null) return { from: current, to: target };
  // The app refuses these before a job starts (installs.rollback), in its own words; only the command line gets here.
  const kept = describeKeptReleases(releases);
  throw to !== undefined ? releaseNotKeptError(hostName, to, kept) : noPreviousReleaseError(hostName, kept);
}
