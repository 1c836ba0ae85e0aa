import { ApiError, type HostFacts, type InstallRecord, type UpgradeCandidate, type UpgradeOffer } from '../../../contract';
import { describeKeptReleases, rollbackTarget } from '../../../contract/rollback-target';
import { architecturesOf, BundleManifestSchema } from '../../bundles/bundle-manifest';
import type { BundlesRepo } from '../../store/bundles-repo';
import type { InstallRecordsRepo } from '../../store/install-records-repo';
import type { InstallsRepo } from '../../store/installs-repo';
import { compareReleases, downgradeRefusedError, releasesNewerThan } from '../engine/downgrade';
import type { InstallEngine } from '../engine/install-engine';
import type { InstallFile } from '../definition/install-file';
import type { HostEnding, InstallJobs } from './install-jobs';
import { installFileOfRecord, readRecordedDefinition } from '../definition/recorded-definition';
import type { HostRollbackResult, InstallPlan } from '../engine/install-steps';

export interface InstallOperationsDeps {
  engine: Pick<InstallEngine, 'plan' | 'apply' | 'rollback' | 'uninstall'>;
  jobs: Pick<InstallJobs, 'run'>;
  installs: Pick<InstallsRepo, 'findByName'>;
  records: Pick<InstallRecordsRepo, 'get'>;
  bundles: Pick<BundlesRepo, 'list'>;
  /** A host's newest stored facts (its architecture), by id. */
  latestFacts(hostId: number): HostFacts | null;
}

/**
 * Upgrade, roll back and uninstall a recorded install by its name, from the app: what the
 * store keeps of it (its hosts with their roles, places and releases, and the hosts and
 * layers it was last applied with) instead of an install file. Each runs as a job with
 * progress events; what is wrong with the request is refused before any host is touched.
 */
/** Upgrade, roll back and uninstall a recorded install by its name; each runs as an install job. */
export interface InstallOperations {
  /** The imported bundles an install can move to, and why the others cannot. */
  upgradeOffer(name: string): UpgradeOffer;
  /** Planning changes nothing, so a downgrade is planned too: the plan's downgradeFrom names it for the confirmation. */
  upgradePlan(name: string, bundle: string): Promise<InstallPlan>;
  upgrade(name: string, bundle: string, options?: { concurrency?: number; allowDowngrade?: boolean }): Promise<{ jobId: string }>;
  rollback(name: string, options?: { host?: string; to?: string }): Promise<{ jobId: string }>;
  uninstall(name: string, options?: { host?: string }): Promise<{ jobId: string }>;
}

export function createInstallOperations(deps: InstallOperationsDeps): InstallOperations {
  function recordOf(name: string): InstallRecord {
    const record = deps.records.get(name);
    if (!record)
      throw new ApiError(
        'NOT_FOUND',
        `There is no install named ${name}.`,
        'Install it first (the Install page, or sutazai apply); the Installs page lists the recorded installs.',
      );
    return record;
  }

  /** The releases current on the hosts of the install. */
  function currentReleases(record: InstallRecord): string[] {
    return record.hosts.flatMap((h) => h.releases.filter((r) => r.state === 'current').map((r) => r.version));
  }

  /** The oldest release current on a host of the install: an upgrade goes from there. */
  function baseRelease(record: InstallRecord): string | null {
    return currentReleases(record).sort(compareReleases)[0] ?? null;
  }

  /** The imported bundles of the install's product whose version `keep` admits, newest first, each with what it means for the hosts. */
  function candidatesFor(record: InstallRecord, keep: (version: string) => boolean): UpgradeCandidate[] {
    const product = record.bundle?.name ?? null;
    const running = currentReleases(record);
    const arches = new Map<string, string>();
    for (const host of record.hosts) {
      const arch = bundleArchOf(deps.latestFacts(host.hostId));
      if (arch !== null) arches.set(host.hostName, arch);
    }
    return deps.bundles
      .list()
      .filter((b) => (product === null || b.name === product) && keep(b.version))
      .sort((a, b) => compareReleases(b.version, a.version) || b.importedAt - a.importedAt)
      .map((b) => {
        const carried = new Set<string>(architecturesOf(BundleManifestSchema.parse(JSON.parse(b.manifest))));
        const missing = [...arches].filter(([, arch]) => !carried.has(arch));
        return {
          bundleId: b.id,
          bundle: `${b.name}@${b.version}`,
          version: b.version,
          importedAt: b.importedAt,
          compatible: missing.length === 0,
          problem:
            missing.length === 0 ? null : `it carries no Node binary for ${missing.map(([host, arch]) => `${host} (${arch})`).join(', ')}`,
          downgradeFrom: releasesNewerThan(running, b.version),
        };
      });
  }

  function upgradeOffer(name: string): UpgradeOffer {
    const record = recordOf(name);
    const from = baseRelease(record);
    const newer = (version: string) => from === null || compareReleases(version, from) > 0;
    const candidates = candidatesFor(record, newer);
    const downgrades = candidatesFor(
      record,
      (version) => !newer(version) && releasesNewerThan(currentReleases(record), version).length > 0,
    );
    return {
      install: name,
      from,
      candidates,
      offer: candidates.find((c) => c.compatible && c.downgradeFrom.length === 0) ?? null,
      downgrades,
    };
  }

  /**
   * The engine's install file for upgrading `name` to `bundle`: refused with the reason when it is not an upgrade the app can run.
   * A bundle older than a release a host runs is a downgrade, refused unless `allowDowngrade`.
   */
  function upgradeFile(name: string, bundle: string, options: { allowDowngrade: boolean }): InstallFile {
    const record = recordOf(name);
    const install = deps.installs.findByName(name)!;
    const definition = readRecordedDefinition(install.definition);
    if (!definition) {
      throw new ApiError(
        'INSTALL_UPGRADE_REFUSED',
        `The install ${name} was applied before the app kept what it was applied with, so it cannot be upgraded by its name.`,
        `Apply its install file with the new bundle (sutazai apply --install FILE, bundle: ${bundle}) once; after that, the app can upgrade it.`,
      );
    }
    const from = baseRelease(record);
    const candidate = candidatesFor(record, () => true).find((c) => c.bundle === bundle);
    if (!candidate) {
      const product = record.bundle?.name ?? 'its product';
      throw new ApiError(
        'NOT_FOUND',
        `No imported bundle of ${product} is ${bundle}.`,
        'Import it on the Bundles page first; installs.upgradeOffer lists the imported bundles newer than the install.',
      );
    }
    if (candidate.downgradeFrom.length > 0) {
      if (!options.allowDowngrade) throw downgradeRefusedError(name, bundle, candidate.downgradeFrom);
    } else if (from !== null && compareReleases(candidate.version, from) <= 0) {
      throw new ApiError(
        'INSTALL_UPGRADE_REFUSED',
        `${bundle} is not newer than ${from}, the oldest release ${name} runs.`,
        'To go back to a release a host keeps, roll back instead; to go forward, import a newer bundle.',
      );
    }
    if (!candidate.compatible) {
      throw new ApiError(
        'INSTALL_ARCH_UNSUPPORTED',
        `${name} cannot be upgraded to ${bundle}: ${candidate.problem}.`,
        'Build the bundle with a Node binary for those architectures (npm run bundle -- --node-arm64 ...), import it, and upgrade to that.',
      );
    }
    const [productName, version] = splitReference(bundle);
    return installFileOfRecord(name, definition, { name: productName, version });
  }

  /** The hosts of the install a rollback or uninstall acts on, in the order they were applied; `host` narrows to one. */
  function hostsOf(record: InstallRecord, host: string | undefined, orderFrom: InstallFile | null): string[] {
    const names = record.hosts.map((h) => h.hostName);
    if (host !== undefined && !names.includes(host)) {
      throw new ApiError(
        'HOST_NOT_FOUND',
        `${host} is not a host of the install ${record.name}.`,
        `Its hosts: ${names.join(', ') || 'none'}.`,
      );
    }
    const order = (n: string) => {
      const at = orderFrom?.hosts.findIndex((h) => h.name === n) ?? -1;
      return at < 0 ? Number.MAX_SAFE_INTEGER : at;
    };
    return (host !== undefined ? [host] : names).sort((a, b) => order(a) - order(b));
  }

  /** The install as the engine's rollback and uninstall read it: its name and the order of its hosts. */
  function recordedFile(record: InstallRecord): InstallFile {
    const install = deps.installs.findByName(record.name)!;
    const definition = readRecordedDefinition(install.definition);
    const bundle = record.bundle ?? { name: 'sutazai', version: '0.0.0' };
    if (definition) return installFileOfRecord(record.name, definition, bundle);
    return {
      file: `install ${record.name}`,
      text: '',
      name: record.name,
      bundle,
      environment: undefined,
      layers: [],
      hosts: record.hosts.map((h) => ({ name: h.hostName, role: h.role, gpu: h.gpu, config: undefined })),
    };
  }

  /**
   * A rollback every chosen host has a release for, or a refusal before any job starts, in
   * the words of the app (its Roll back dialog offers the releases kept), not a job that
   * fails on the first host.
   */
  function refuseWithoutTarget(record: InstallRecord, hosts: readonly string[], to: string | undefined): void {
    const lacking = record.hosts.filter((h) => hosts.includes(h.hostName) && rollbackTarget(h.releases, to) === null);
    if (lacking.length === 0) return;
    const kept = (h: InstallRecord['hosts'][number]) => describeKeptReleases(h.releases);
    if (to !== undefined) {
      throw new ApiError(
        'NOT_FOUND',
        `${lacking.map((h) => `${h.hostName} keeps no release ${to} (it keeps ${kept(h)})`).join('; ')}.`,
        'Choose a release every chosen host keeps, or roll back one host at a time.',
      );
    }
    throw new ApiError(
      'NOT_FOUND',
      `Nothing to roll back to: ${lacking.map((h) => `${h.hostName} keeps no earlier release (it keeps ${kept(h)})`).join('; ')}.`,
      `A rollback returns a host to a release it ran before and still keeps. To run another version on ${record.name}, upgrade or downgrade it to an imported bundle.`,
    );
  }

  return {
    upgradeOffer,
    /** Planning changes nothing, so a downgrade is planned too: the plan's downgradeFrom names it for the confirmation. */
    upgradePlan: (name: string, bundle: string) => deps.engine.plan(upgradeFile(name, bundle, { allowDowngrade: true })),

    upgrade(name: string, bundle: string, options: { concurrency?: number; allowDowngrade?: boolean } = {}): Promise<{ jobId: string }> {
      const allowDowngrade = options.allowDowngrade === true;
      const file = upgradeFile(name, bundle, { allowDowngrade });
      return deps.jobs.run({
        kind: 'upgrade',
        install: name,
        bundle,
        hosts: file.hosts.map((h) => h.name),
        execute: async ({ onEvent, signal }) => {
          await deps.engine.apply(file, {
            ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
            allowDowngrade,
            onEvent,
            signal,
          });
          return {};
        },
      });
    },

    rollback(name: string, options: { host?: string; to?: string } = {}): Promise<{ jobId: string }> {
      const record = recordOf(name);
      const file = recordedFile(record);
      const hosts = hostsOf(record, options.host, file);
      refuseWithoutTarget(record, hosts, options.to);
      return deps.jobs.run({
        kind: 'rollback',
        install: name,
        bundle: options.to ?? '',
        hosts,
        execute: async ({ onEvent, signal }) => {
          const result = await deps.engine.rollback(file, {
            ...(options.host !== undefined ? { host: options.host } : {}),
            ...(options.to !== undefined ? { to: options.to } : {}),
            onEvent,
            signal,
          });
          return { hosts: result.hosts.map(rollbackEnding) };
        },
      });
    },

    uninstall(name: string, options: { host?: string } = {}): Promise<{ jobId: string }> {
      const record = recordOf(name);
      const file = recordedFile(record);
      const hosts = hostsOf(record, options.host, file);
      return deps.jobs.run({
        kind: 'uninstall',
        install: name,
        bundle: '',
        hosts,
        execute: async ({ onEvent }) => {
          const result = await deps.engine.uninstall(file, { ...(options.host !== undefined ? { host: options.host } : {}), onEvent });
          return {
            hosts: result.hosts.map((h): HostEnding => ({
              host: h.host,
              outcome: h.outcome === 'removed' ? 'removed' : 'failed',
              error: h.error,
            })),
          };
        },
      });
    },
  };
}

/** A rollback's host result as a job's host outcome: a host handed back to where it was did not get the release asked for. */
function rollbackEnding(h: HostRollbackResult): HostEnding {
  const outcome =
    h.outcome === 'rolled-back' ? 'rolled-back' : h.outcome === 'unchanged' ? 'unchanged' : h.outcome === 'stopped' ? 'stopped' : 'failed';
  return { host: h.host, outcome, error: h.error };
}

/** The bundle architecture of a host's facts (Node's arch names), or null when unknown. */
function bundleArchOf(facts: HostFacts | null): string | null {
  const arch = facts?.os.arch;
  if (arch === 'x64') return 'linux-x64';
  if (arch === 'arm64') return 'linux-arm64';
  return null;
}

function splitReference(reference: string): [string, string] {
  const at = reference.lastIndexOf('@');
  return [reference.slice(0, at), reference.slice(at + 1)];
}
