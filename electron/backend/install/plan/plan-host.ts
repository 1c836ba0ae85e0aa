import { ApiError } from '../../../contract';
import type { Architecture } from '../../bundles/bundle-manifest';
import type { ServiceKind } from '../../store/installs-repo';
import type { BusyPort, HostCheck } from './host-check';
import type { InstallLayout, ReleaseLayout } from '../definition/install-layout';
import type { PlannedStep, StepName } from '../engine/install-steps';
import type { HealthVerdict } from '../health/wait-healthy';
import { manifestVersionOf } from '../../../../agents-runtime/src/wire';
import { splitDigest } from '../steps/configure-release';
import { manifestReloadOf, type ManifestReload } from './manifest-reload';

export interface PlanHostInput {
  hostName: string;
  connectDetail: string;
  check: HostCheck;
  layout: InstallLayout;
  release: ReleaseLayout;
  bundleSha256: string;
  bundleSize: number;
  /** The host's architecture as bundles name it; null when `uname -m` is not one of them. */
  arch: Architecture | null;
  bundleArchitectures: readonly Architecture[];
  configDigest: string;
  /** The manifest apply writes: sent to a running runtime whose own configuration stays (manifest-reload.ts). */
  manifestYaml: string;
  service: ServiceKind;
  /** SHA-256 of the unit (systemd) or of the start and stop scripts (detached) apply would write. */
  serviceSha256: { unit: string } | { start: string; stop: string };
  /** What the store says is current on this host. */
  recorded: { version: string; bundleSha256: string } | null;
  /** The runtime's own report when it answered during the plan; null otherwise. */
  runtime: HealthVerdict | null;
  healthTimeoutSeconds: number;
  freeSpaceMarginBytes: number;
  /** The ports the release will listen on, each with the key that sets it. */
  ports: ReadonlyArray<{ port: number; key: string }>;
}

export interface HostStepsPlan {
  steps: PlannedStep[];
  /** Why apply would stop before changing anything; null when it would not. */
  blocked: ApiError | null;
  /** Set when the start step sends the new manifest to the running runtime instead of restarting it. */
  reload: ManifestReload | null;
}

const MiB = 1024 * 1024;
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(bytes < 10 * MiB ? 1 : 0)} MiB`;

/**
 * What apply would do on one host, from the host's check and what the install wants
 * there. Pure: the same look at the host gives the same plan. A step is `done` when the
 * host already shows its result, so a second apply of the same plan finds every step
 * done and changes nothing.
 */
export function planHostSteps(input: PlanHostInput): HostStepsPlan {
  const { check, release, layout } = input;
  const steps: PlannedStep[] = [];
  let blocked: ApiError | null = null;
  const add = (step: StepName, state: PlannedStep['state'], detail: string) => steps.push({ step, state, detail });
  const block = (step: StepName, error: ApiError) => {
    add(step, 'blocked', error.message);
    blocked ??= error;
  };

  add('connect', 'done', input.connectDetail);

  const releaseDone = check.release.present && check.release.marker === input.bundleSha256;
  const staged = check.stagedBundle;
  const uploadDone = releaseDone || (staged !== null && staged.size === input.bundleSize && staged.verifiedSha256 === input.bundleSha256);
  const partial = check.partialSize !== null && check.partialSize > 0 && check.partialSize <= input.bundleSize ? check.partialSize : 0;

  // Space: what the upload still sends, the unpacked release (about the bundle's size), and a margin.
  const toStore = (uploadDone ? 0 : input.bundleSize - partial) + (releaseDone ? 0 : input.bundleSize);
  if (toStore === 0) add('check-space', 'done', 'nothing left to store');
  else if (check.availableBytes === null)
    add('check-space', 'check', `free space on ${check.spacePath || layout.root} unknown; checked again before the upload`);
  else {
    const needed = toStore + input.freeSpaceMarginBytes;
    const detail = `${mib(check.availableBytes)} free on ${check.spacePath}; needs ${mib(needed)} (${mib(toStore)} to store and a ${mib(input.freeSpaceMarginBytes)} margin)`;
    if (check.availableBytes >= needed) add('check-space', 'check', detail);
    else
      block(
        'check-space',
        new ApiError(
          'INSTALL_NO_SPACE',
          `${input.hostName} has ${mib(check.availableBytes)} free on ${check.spacePath} and the install needs ${mib(needed)} there; nothing was changed.`,
          `Free space on ${check.spacePath} (or choose another install.root_dir for this host), then apply again.`,
        ),
      );
  }

  if (releaseDone) add('upload', 'done', 'the release is already unpacked; no upload needed');
  else if (uploadDone) add('upload', 'done', `already uploaded and verified (${mib(input.bundleSize)})`);
  else if (partial > 0) add('upload', 'todo', `resumes at ${mib(partial)} of ${mib(input.bundleSize)} once the bytes there are verified`);
  else add('upload', 'todo', `uploads ${mib(input.bundleSize)} to ${layout.staging}`);

  const currentTarget = `releases/${release.version}`;
  if (input.arch === null || !input.bundleArchitectures.includes(input.arch)) {
    block(
      'unpack',
      new ApiError(
        'INSTALL_ARCH_UNSUPPORTED',
        `${input.hostName} is ${check.machine || 'of an unknown architecture'}, and the bundle carries Node only for ${input.bundleArchitectures.join(', ')}; nothing was changed.`,
        'Build the bundle with a Node binary for that architecture (npm run bundle -- --node-arm64 PATH), import it, then apply again.',
      ),
    );
  } else if (releaseDone) add('unpack', 'done', `${release.dir} is complete`);
  else if (check.release.present && check.current === currentTarget) {
    block(
      'unpack',
      new ApiError(
        'INSTALL_CONFLICT',
        `${release.dir} on ${input.hostName} is the current release but holds another bundle than ${input.bundleSha256.slice(0, 12)}; nothing was changed.`,
        'Give the new bundle its own version, or roll back to another release first.',
      ),
    );
  } else if (check.release.present) add('unpack', 'todo', `replaces the incomplete ${release.dir}`);
  else add('unpack', 'todo', `into ${release.dir}`);

  const configDone =
    releaseDone &&
    check.configDigest !== null &&
    splitDigest(check.configDigest.value).all === splitDigest(input.configDigest).all &&
    check.tlsFiles.size === 3 &&
    check.configLink === `${layout.current}/etc/runtime.yaml` &&
    check.dirs.has('state') &&
    check.dirs.has('log');
  add(
    'configure',
    configDone ? 'done' : 'todo',
    configDone
      ? 'configuration and certificates are as planned'
      : check.configDigest
        ? 'the configuration changed: writes it again'
        : `writes ${release.etc}`,
  );

  const serviceDone =
    'unit' in input.serviceSha256
      ? check.unit?.sha256 === input.serviceSha256.unit && check.unit.enabled === 'enabled'
      : check.startScriptSha256 === input.serviceSha256.start && check.stopScriptSha256 === input.serviceSha256.stop;
  const serviceWhat =
    input.service === 'systemd' ? 'systemd unit sutazai-runtime.service' : `detached mode (${layout.bin}/sutazai-runtime-start)`;
  add('service', serviceDone ? 'done' : 'todo', serviceDone ? `${serviceWhat} is in place` : `installs the ${serviceWhat}`);

  const runsRelease = check.daemon?.release === release.version;
  const startedAfterConfig =
    check.daemon?.since !== null &&
    check.daemon?.since !== undefined &&
    check.configDigest !== null &&
    check.daemon.since >= check.configDigest.mtime;
  // A runtime that answered tells which manifest it runs: one written but never sent (a cut apply) is still to send.
  const manifestApplied =
    input.runtime?.manifestVersion === undefined || input.runtime.manifestVersion === manifestVersionOf(input.manifestYaml);
  const startDone = configDone && serviceDone && runsRelease && startedAfterConfig && manifestApplied;
  const reload = startDone
    ? null
    : manifestReloadOf({
        check,
        configDigest: input.configDigest,
        manifestYaml: input.manifestYaml,
        runsRelease,
        serviceDone,
        releaseDone,
        runtimeAnswered: input.runtime !== null,
      });
  // Something else listening on a port the release needs: refused before anything is written.
  const foreign = startDone || reload !== null ? [] : check.busyPorts.filter((busy) => !busy.ours);
  if (foreign.length > 0) block('start', portInUse(input.hostName, foreign, input.ports));
  else
    add(
      'start',
      startDone ? 'done' : 'todo',
      startDone
        ? `runs (pid ${check.daemon!.pid})`
        : reload !== null
          ? reload.detail
          : check.daemon === null
            ? 'starts the runtime'
            : runsRelease
              ? `restarts the runtime (pid ${check.daemon.pid}) for its new configuration${whyRestart(check, input.configDigest)}`
              : `stops the runtime of release ${check.daemon.release} (pid ${check.daemon.pid}), starts this release`,
    );

  const healthDone = startDone && input.runtime?.healthy === true;
  const previous = previousRelease(check, release.version);
  const fallback = previous === null ? '' : `; if they do not, the host returns to ${previous}`;
  add(
    'health',
    healthDone ? 'done' : 'check',
    healthDone
      ? input.runtime!.summary
      : `waits up to ${input.healthTimeoutSeconds} s for the core and agents to report healthy${input.runtime ? ` (now: ${input.runtime.summary})` : ''}${fallback}`,
  );

  if (check.currentExists && check.current === null) {
    block(
      'switch',
      new ApiError(
        'INSTALL_CONFLICT',
        `${layout.current} on ${input.hostName} exists and is not a link; nothing was changed.`,
        `Move ${layout.current} away, then apply again.`,
      ),
    );
  } else if (check.current === currentTarget) add('switch', 'done', `current -> ${currentTarget}`);
  else add('switch', 'todo', check.current ? `current -> ${currentTarget} (was ${check.current})` : `current -> ${currentTarget}`);

  const recordDone =
    input.recorded?.version === release.version && input.recorded.bundleSha256 === input.bundleSha256 && check.current === currentTarget;
  add(
    'record',
    recordDone ? 'done' : 'todo',
    recordDone ? `${release.version} is recorded as current` : `records ${release.version} as current`,
  );

  return { steps, blocked, reload };
}

/** Why a running runtime of this release restarts rather than take the manifest in place; '' when it is not known. */
function whyRestart(check: HostCheck, configDigest: string): string {
  const before = check.configDigest === null ? null : splitDigest(check.configDigest.value).runtime;
  const after = splitDigest(configDigest).runtime;
  if (before !== null && after !== null && before !== after)
    return ": the runtime's own configuration (runtime.yaml, its CA or certificate names) changed, so every process restarts";
  return '';
}

/** The release `current` points at, from its link target (`releases/<version>`); null when none. */
export function currentReleaseOf(check: HostCheck): string | null {
  const match = /^releases\/([^/]+)$/.exec(check.current ?? '');
  return match ? match[1]! : null;
}

/** The release an upgrade to `version` returns to when the new one fails: the current one, if another. */
export function previousRelease(check: HostCheck, version: string): string | null {
  const current = currentReleaseOf(check);
  return current !== null && current !== version ? current : null;
}

function portInUse(hostName: string, foreign: readonly BusyPort[], ports: PlanHostInput['ports']): ApiError {
  const described = foreign.map((busy) => {
    const key = ports.find((p) => p.port === busy.port)?.key;
    const who =
      busy.pid === null
        ? "a process this login cannot see (another user's)"
        : `pid ${busy.pid}${busy.command ? ` (${busy.command.length > 80 ? `${busy.command.slice(0, 77)}...` : busy.command})` : ''}`;
    return `port ${busy.port}${key ? ` (${key})` : ''} is taken by ${who}`;
  });
  const keys = [
    ...new Set(foreign.map((busy) => ports.find((p) => p.port === busy.port)?.key).filter((k): k is string => k !== undefined)),
  ];
  return new ApiError(
    'INSTALL_PORT_IN_USE',
    `On ${hostName}, ${described.join('; ')}, which is not this install's runtime; nothing was changed.`,
    `Stop that process on ${hostName}, or give this install other ports${keys.length > 0 ? ` (${keys.join(', ')})` : ''} in its configuration, then apply again.`,
  );
}
