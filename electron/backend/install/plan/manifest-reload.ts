import { diffManifests, parseManifest, type ManifestDiff } from '../../../../agents-runtime/src/wire';
import { splitDigest } from '../steps/configure-release';
import type { HostCheck } from './host-check';

/**
 * A configuration change the running runtime takes without a restart: the new manifest
 * is sent with UpdateManifest, and the runtime restarts only the processes whose settings
 * differ (the same diff, agents-runtime/src/manifest/manifest-diff.ts), scales those whose
 * replica count alone changed, and leaves the others running with their pids.
 */
export interface ManifestReload {
  diff: ManifestDiff;
  /** The start step's line in the plan: which processes restart and why, which keep running. */
  detail: string;
}

export interface ReloadInput {
  check: HostCheck;
  /** The digest apply writes (configDigest): its runtime word tells whether the runtime's own configuration changes. */
  configDigest: string;
  manifestYaml: string;
  /** The host already runs this release's daemon, on the service apply would write, from an unpacked release. */
  runsRelease: boolean;
  serviceDone: boolean;
  releaseDone: boolean;
  /** The runtime answered during the plan: the new manifest can be sent to it. */
  runtimeAnswered: boolean;
}

/**
 * Null when the runtime must restart (or start): it does not run this release, its own
 * configuration (runtime.yaml, the CA, its certificate's names) changes or is not known
 * to be the one it started with, it did not answer, or the manifest on the host cannot be
 * read to compare with.
 */
export function manifestReloadOf(input: ReloadInput): ManifestReload | null {
  const { check } = input;
  if (!input.runsRelease || !input.serviceDone || !input.releaseDone || !input.runtimeAnswered) return null;
  if (check.daemon === null || check.configDigest === null || check.manifestText === null) return null;
  const before = splitDigest(check.configDigest.value).runtime;
  if (before === null || before !== splitDigest(input.configDigest).runtime) return null;
  // The digest's time is when the runtime's part last changed (configure keeps it otherwise): the daemon must have started after it.
  if (check.daemon.since === null || check.daemon.since < check.configDigest.mtime) return null;
  let diff: ManifestDiff;
  try {
    diff = diffManifests(parseManifest(check.manifestText, 'manifest.yaml'), parseManifest(input.manifestYaml, 'manifest.yaml'));
  } catch {
    return null;
  }
  return { diff, detail: describeReload(diff, check.daemon.pid) };
}

/** `the runtime (pid 42) keeps running and takes the new manifest: restarts agent (env); scales web 1 -> 2; keeps core running`. */
export function describeReload(diff: ManifestDiff, pid: number): string {
  const parts: string[] = [];
  if (diff.changed.length > 0) parts.push(`restarts ${diff.changed.map((c) => `${c.name} (${c.fields.join(', ')} changed)`).join(', ')}`);
  if (diff.scaled.length > 0) parts.push(`scales ${diff.scaled.map((s) => `${s.name} ${s.from} -> ${s.to}`).join(', ')}`);
  if (diff.added.length > 0) parts.push(`starts ${diff.added.join(', ')}`);
  if (diff.removed.length > 0) parts.push(`stops and removes ${diff.removed.join(', ')}`);
  if (parts.length === 0) parts.push('restarts no process');
  const kept = [...diff.unchanged, ...diff.scaled.map((s) => s.name)];
  if (kept.length > 0) parts.push(`keeps ${kept.join(', ')} running`);
  return `the runtime (pid ${pid}) keeps running and takes the new manifest: ${parts.join('; ')}`;
}
