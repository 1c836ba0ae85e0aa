import { createHash } from 'node:crypto';
import type { HostFacts } from '../../../contract';
import type { InstallConfig } from '../../config/install-config-schema';
import type { RuntimeTls } from '../../fleet/runtime-connection';
import type { TargetDeps } from '../../hosts/build-ssh-target';
import type { SshSession } from '../../hosts/ssh/ssh-session';
import type { HostRow } from '../../store/hosts-repo';
import type { InstallHostRow, InstallMode, ServiceKind } from '../../store/installs-repo';
import { nvidiaGpuCount } from '../../wizard/suggest-placement';
import type { Architecture } from '../../bundles/bundle-manifest';
import type { InstallHostEntry } from '../definition/install-file';
import { bundleArchitecture, installLayout, type InstallLayout, type ReleaseLayout } from '../definition/install-layout';
import { hostConfigOf, type ConfigSources, type InstallLayers } from '../definition/merged-config';
import type { ResolvedBundle } from '../engine/bundle-resolution';
import type { HostPlan } from '../engine/install-steps';
import { messageOf, type RouteLinks, type RuntimeRoute } from '../health/runtime-route';
import { checkRuntimeOnce, HEALTH_CALL_TIMEOUT_MS, type HealthVerdict } from '../health/wait-healthy';
import { hostCheckFailedError, systemdUnitMissingError } from '../install-errors';
import { openHostShell } from '../remote/open-host-shell';
import type { Privilege, RemoteShell } from '../remote/remote-shell';
import { coreListenAddress, portsOf } from '../render/listen-addresses';
import { renderManifest, type RenderedManifest } from '../render/render-manifest';
import { renderRuntimeConfig } from '../render/render-runtime-config';
import {
  detachedStartScriptPath,
  detachedStopScriptPath,
  renderDetachedStartScript,
  renderDetachedStopScript,
  renderSystemdUnit,
} from '../render/render-service';
import { configDigest } from '../steps/configure-release';
import { hostCheckScript, parseHostCheck, type HostCheck } from './host-check';
import { currentReleaseOf, planHostSteps, type HostStepsPlan } from './plan-host';

/** The install's configuration layers and environment (from the install file) and the layers below them. */
export interface PrepareContext extends ConfigSources, InstallLayers {
  installName: string;
  bundle: ResolvedBundle;
  /** The install's CA certificate; null before the first apply made one. */
  caCertPem: string | null;
  /** A client certificate of the install's CA, to ask the runtime how it is; null when there is none yet (or the vault is locked). */
  operatorTls: RuntimeTls | null;
  /** A serving backend's fleet links: the runtime is asked through the host's while it is up; null in a process without. */
  links: RouteLinks | null;
  /** What the store keeps of this host in this install, from an earlier apply. */
  recordedHost: InstallHostRow | null;
  /** Replicas scaled through the runtime since an apply, by process (the recorded definition's); they win over the configuration. */
  scaledReplicas: Readonly<Record<string, number>>;
  recordedRelease: { version: string; bundleSha256: string } | null;
  /** host:port of the install's core, which agents on hosts without a core report to. */
  coreEndpoint: string | null;
  /** Some host of the install runs agents without a core: the core must listen where they reach it. */
  agentsElsewhere: boolean;
  connectTimeoutMs: number;
  freeSpaceMarginBytes: number;
}

export interface PrepareDeps extends TargetDeps {
  /** The host's stored facts, probing it first when it never was. */
  factsOf(row: HostRow): Promise<HostFacts>;
}

/** Everything apply needs about one host: a logged-in session, where things go, what to write. */
export interface PreparedHost {
  row: HostRow;
  entry: InstallHostEntry;
  gpu: boolean;
  config: InstallConfig;
  session: SshSession;
  shell: RemoteShell;
  mode: InstallMode;
  service: ServiceKind;
  layout: InstallLayout;
  release: ReleaseLayout;
  arch: Architecture | null;
  check: HostCheck;
  stagedBundle: string;
  partialBundle: string;
  runtimeYaml: string;
  manifest: RenderedManifest;
  serverNames: string[];
  configDigest: string;
  serviceFiles: { kind: 'systemd'; unit: string } | { kind: 'detached'; start: string; stop: string };
  steps: HostStepsPlan;
  plan: HostPlan;
  /** How the look at the host asked its runtime (the host's fleet link or this session, and why), for the job's log; null when it was not asked. */
  runtimeLook: string | null;
}

export const DEFAULT_FREE_SPACE_MARGIN_BYTES = 64 * 1024 * 1024;

/**
 * Connects to one host and looks at it (one read-only exec), then works out what the
 * install wants there and which steps are already done. The session stays open for
 * apply; the caller closes it.
 */
export async function prepareHost(
  deps: PrepareDeps,
  context: PrepareContext,
  row: HostRow,
  entry: InstallHostEntry,
): Promise<PreparedHost> {
  // The configuration first: a bad value stops here, before the host is probed or reached.
  const config = hostConfigOf(context, entry);
  const facts = await deps.factsOf(row);
  const gpu = entry.gpu ?? nvidiaGpuCount(facts) > 0;
  const { session, shell, privilege } = await openHostShell(deps, row, facts, context.recordedHost?.mode ?? null, context.connectTimeoutMs);
  const mode: InstallMode = context.recordedHost?.mode ?? (privilege === 'none' ? 'user' : 'system');
  try {
    const version = context.bundle.version;
    const stagedName = `${context.bundle.name}-${version}-${context.bundle.sha256.slice(0, 12)}.sutazai-bundle`;
    // A per-user layout starts at ~/ until the check says where $HOME is.
    const provisional = installLayout(config, mode, '~');
    const provisionalRelease = provisional.release(version);
    const ports = portsOf(config, entry.role, gpu);
    const checkRun = await shell.run(
      hostCheckScript({
        layout: provisional,
        release: provisionalRelease,
        stagedBundle: `${provisional.staging}/${stagedName}`,
        partialBundle: `${provisional.staging}/${stagedName}.partial`,
        startScript: detachedStartScriptPath(provisional),
        stopScript: detachedStopScriptPath(provisional),
        ports: ports.map((p) => p.port),
      }),
      { asRoot: mode === 'system', step: 'check', timeoutMs: 60_000 },
    );
    if (checkRun.code !== 0 || !checkRun.stdout.includes('home\t')) {
      throw hostCheckFailedError(row.name, checkRun.code ?? checkRun.signal, checkRun.stderr || checkRun.stdout);
    }
    const check = parseHostCheck(checkRun.stdout);

    const layout = installLayout(config, mode, check.home);
    const release = layout.release(version);
    const service: ServiceKind =
      context.recordedHost?.service ?? (mode === 'system' && check.pid1 === 'systemd' && check.systemdRunning ? 'systemd' : 'detached');
    if (service === 'systemd' && context.bundle.systemdUnit === null) {
      throw systemdUnitMissingError(row.name, context.bundle);
    }
    const manifest = renderManifest({
      template: context.bundle.manifestTemplate,
      config,
      role: entry.role,
      gpu,
      runtimeDir: release.runtimeDir,
      remoteCore: context.coreEndpoint,
      coreListenAddress: coreListenAddress(config, context.agentsElsewhere),
      scaledReplicas: context.scaledReplicas,
    });
    const runtimeYaml = renderRuntimeConfig(config, layout, release, context.installName);
    const serverNames = [row.name, row.address];
    const digest = configDigest({ runtimeYaml, manifestYaml: manifest.text, caCertPem: context.caCertPem ?? '', serverNames });
    const serviceFiles: PreparedHost['serviceFiles'] =
      service === 'systemd'
        ? { kind: 'systemd', unit: renderSystemdUnit(context.bundle.systemdUnit!, release, context.installName) }
        : {
            kind: 'detached',
            start: renderDetachedStartScript(layout, release, context.installName),
            stop: renderDetachedStopScript(release, context.installName),
          };

    let runtime: HealthVerdict | null = null;
    let runtimeLook: string | null = null;
    if (check.daemon !== null && context.operatorTls !== null) {
      const route: RuntimeRoute = {
        links: context.links,
        hostId: row.id,
        installName: context.installName,
        job: 'apply',
        hostName: row.name,
        session,
        channel: {
          runtimeAddress: config.runtime.listen_address,
          runtimePort: config.runtime.grpc_port,
          tls: context.operatorTls,
          callTimeoutMs: HEALTH_CALL_TIMEOUT_MS,
        },
      };
      runtime = await checkRuntimeOnce(route, manifest.processes).catch((error: unknown) => {
        runtimeLook = `the runtime did not answer the look at the host (${messageOf(error)})`;
        return null;
      });
      if (runtime !== null) runtimeLook = `the look at the host asked the runtime ${runtime.via}`;
    }
    const arch = bundleArchitecture(check.machine);
    const steps = planHostSteps({
      hostName: row.name,
      connectDetail: describeLogin(row, privilege, mode, layout.root, facts),
      check,
      layout,
      release,
      bundleSha256: context.bundle.sha256,
      bundleSize: context.bundle.sizeBytes,
      arch,
      bundleArchitectures: context.bundle.architectures,
      configDigest: digest,
      manifestYaml: manifest.text,
      service,
      serviceSha256:
        serviceFiles.kind === 'systemd'
          ? { unit: sha256(serviceFiles.unit) }
          : { start: sha256(serviceFiles.start), stop: sha256(serviceFiles.stop) },
      recorded: context.recordedRelease,
      runtime,
      healthTimeoutSeconds: config.install.health_timeout_seconds,
      freeSpaceMarginBytes: context.freeSpaceMarginBytes,
      ports,
    });
    return {
      row,
      entry,
      gpu,
      config,
      session,
      shell,
      mode,
      service,
      layout,
      release,
      arch,
      check,
      stagedBundle: `${layout.staging}/${stagedName}`,
      partialBundle: `${layout.staging}/${stagedName}.partial`,
      runtimeYaml,
      manifest,
      serverNames,
      configDigest: digest,
      serviceFiles,
      steps,
      plan: {
        host: row.name,
        role: entry.role,
        gpu,
        mode,
        root: layout.root,
        service,
        privilege,
        currentRelease: currentReleaseOf(check),
        steps: steps.steps,
        error: steps.blocked?.toBody() ?? null,
      },
      runtimeLook,
    };
  } catch (error) {
    session.close();
    throw error;
  }
}

function describeLogin(row: HostRow, privilege: Privilege, mode: InstallMode, root: string, facts: HostFacts): string {
  const how = { root: 'as root', 'sudo-nopasswd': 'through sudo', 'sudo-password': 'through sudo (password fed on stdin)', none: '' }[
    privilege
  ];
  if (mode === 'system') return `logged in as ${row.user}; system-wide under ${root} ${how}`;
  const why = facts.privilege?.level === 'sudo-password' ? 'sudo asks for a password that is not stored' : 'no root or sudo';
  return `logged in as ${row.user}; per-user under ${root} (${why})`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
