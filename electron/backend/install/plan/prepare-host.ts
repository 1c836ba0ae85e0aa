import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { ApiError, type HostFacts } from '../../../contract';
import type { Architecture } from '../../bundles/bundle-manifest';
import { loadInstallConfig, type YamlSource } from '../../config/load-install-config';
import type { InstallConfig } from '../../config/install-config-schema';
import type { RuntimeTls } from '../../fleet/runtime-connection';
import { buildSshTarget, sudoPasswordOf, type TargetDeps } from '../../hosts/build-ssh-target';
import { connectSsh } from '../../hosts/ssh/connect-ssh';
import type { SshSession } from '../../hosts/ssh/ssh-session';
import type { HostRow } from '../../store/hosts-repo';
import type { InstallHostRow, InstallMode, ServiceKind } from '../../store/installs-repo';
import { configDigest } from '../steps/configure-release';
import { hostCheckScript, parseHostCheck, type HostCheck } from './host-check';
import type { InstallHostEntry } from '../definition/install-file';
import { bundleArchitecture, installLayout, type InstallLayout, type ReleaseLayout } from '../definition/install-layout';
import type { HostPlan } from '../engine/install-steps';
import { currentReleaseOf, planHostSteps, type HostStepsPlan } from './plan-host';
import { createRemoteShell, type Privilege, type RemoteShell } from '../remote/remote-shell';
import { renderManifest, type RenderedManifest } from '../render/render-manifest';
import { renderRuntimeConfig } from '../render/render-runtime-config';
import {
  detachedStartScriptPath,
  detachedStopScriptPath,
  renderDetachedStartScript,
  renderDetachedStopScript,
  renderSystemdUnit,
} from '../render/render-service';
import { nvidiaGpuCount } from '../../wizard/suggest-placement';
import { checkRuntimeOnce, type HealthVerdict } from '../health/wait-healthy';

/** The bundle an install uses, as the plan and apply need it. */
export interface ResolvedBundle {
  id: number;
  name: string;
  version: string;
  sha256: string;
  sizeBytes: number;
  /** The imported copy in the data directory. */
  file: string;
  architectures: Architecture[];
  manifestTemplate: string;
  systemdUnit: string | null;
}

export interface PrepareContext {
  installName: string;
  bundle: ResolvedBundle;
  /** The install's configuration layers and environment, from the install file. */
  layers: readonly YamlSource[];
  environment: string | undefined;
  configDir: string | undefined;
  env: Readonly<Record<string, string | undefined>> | undefined;
  /** The install's CA certificate; null before the first apply made one. */
  caCertPem: string | null;
  /** A client certificate of the install's CA, to ask the runtime how it is; null when there is none yet (or the vault is locked). */
  operatorTls: RuntimeTls | null;
  /** What the store keeps of this host in this install, from an earlier apply. */
  recordedHost: InstallHostRow | null;
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
      throw new ApiError(
        'INSTALL_STEP_FAILED',
        `Checking ${row.name} failed (exit ${checkRun.code ?? checkRun.signal}): ${(checkRun.stderr || checkRun.stdout).trim().slice(0, 300)}`,
        'Check that the login works and that sh, df, stat and sha256sum exist on the host, then plan again.',
      );
    }
    const check = parseHostCheck(checkRun.stdout);

    const layout = installLayout(config, mode, check.home);
    const release = layout.release(version);
    const service: ServiceKind =
      context.recordedHost?.service ?? (mode === 'system' && check.pid1 === 'systemd' && check.systemdRunning ? 'systemd' : 'detached');
    if (service === 'systemd' && context.bundle.systemdUnit === null) {
      throw new ApiError(
        'BUNDLE_FILE_MISSING',
        `${row.name} runs systemd, and the bundle ${context.bundle.name}@${version} carries no systemd unit.`,
        'Use a bundle built from a SutazAI checkout (npm run bundle), which carries systemd/sutazai-runtime.service.',
      );
    }
    const manifest = renderManifest({
      template: context.bundle.manifestTemplate,
      config,
      role: entry.role,
      gpu,
      runtimeDir: release.runtimeDir,
      remoteCore: context.coreEndpoint,
      coreListenAddress: coreListenAddress(config, context.agentsElsewhere),
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
    if (check.daemon !== null && context.operatorTls !== null) {
      runtime = await checkRuntimeOnce({
        session,
        runtimeAddress: config.runtime.listen_address,
        runtimePort: config.runtime.grpc_port,
        tls: context.operatorTls,
        expected: manifest.processes,
      }).catch(() => null);
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
    };
  } catch (error) {
    session.close();
    throw error;
  }
}

/** The host's merged configuration: the install's layers, the host's own layer, SUTAZAI_* variables. */
export function hostConfigOf(
  context: Pick<PrepareContext, 'configDir' | 'environment' | 'layers' | 'env'>,
  entry: Pick<InstallHostEntry, 'config'>,
): InstallConfig {
  return loadInstallConfig({
    ...(context.configDir !== undefined ? { configDir: context.configDir } : {}),
    ...(context.environment !== undefined ? { environment: context.environment } : {}),
    install: context.layers,
    ...(entry.config ? { host: entry.config } : {}),
    ...(context.env ? { env: context.env } : {}),
  }).config;
}

/**
 * Logs in to the host (its pinned key) with the privilege the probe found: root, sudo (the
 * stored password fed on stdin), or none. A host installed system-wide that lost its
 * privilege is refused before connecting.
 */
export async function openHostShell(
  deps: TargetDeps,
  row: HostRow,
  facts: HostFacts,
  recordedMode: InstallMode | null,
  timeoutMs: number,
): Promise<{ session: SshSession; shell: RemoteShell; privilege: Privilege }> {
  const sudoPassword = sudoPasswordOf(deps.vault, row);
  const privilege = privilegeOf(facts, sudoPassword);
  if (recordedMode === 'system' && privilege === 'none') {
    throw new ApiError(
      'INSTALL_PRIVILEGE_MISSING',
      `${row.name} was installed system-wide, and its login (${row.user}) has neither root nor sudo now${facts.privilege?.level === 'sudo-password' ? ' (sudo asks for a password that is not stored)' : ''}.`,
      "Restore the login's sudo rights (or store its sudo password) and probe the host again, then try again.",
    );
  }
  const session = await connectSsh(buildSshTarget(deps, row), { timeoutMs });
  return { session, shell: createRemoteShell(session, privilege, sudoPassword), privilege };
}

/** The TCP ports a host of this role will listen on, each with the key that sets it. */
export function portsOf(config: InstallConfig, role: InstallHostEntry['role'], gpu: boolean): Array<{ port: number; key: string }> {
  const ports = [{ port: config.runtime.grpc_port, key: 'runtime.grpc_port' }];
  if (config.system_integration.monitoring.metrics_collection === 'prometheus')
    ports.push({ port: config.runtime.metrics_port, key: 'runtime.metrics_port' });
  if (role !== 'agent') ports.push({ port: config.core.port, key: 'core.port' });
  if (role !== 'core') {
    const agents = config.agents.replicas_per_host + (gpu ? config.agents.gpu_replicas_per_host : 0);
    for (let n = 0; n < agents; n += 1) ports.push({ port: config.agents.base_port + n, key: 'agents.base_port' });
  }
  return ports;
}

/**
 * Where the core listens: core.listen_address, where `auto` is loopback unless agents run on
 * hosts without a core (they dial the core host's address), then every interface.
 */
export function coreListenAddress(config: InstallConfig, agentsElsewhere: boolean): string {
  if (config.core.listen_address !== 'auto') return config.core.listen_address;
  return agentsElsewhere ? '0.0.0.0' : '127.0.0.1';
}

/** host:port that agents on other hosts dial: the core host's own listen address, or the address the inventory reaches it at. */
export function coreEndpointFor(config: InstallConfig, hostAddress: string, agentsElsewhere: boolean): string {
  const listen = coreListenAddress(config, agentsElsewhere);
  const address = isWildcard(listen) || isLoopback(listen) ? hostAddress : listen;
  return isIP(address) === 6 ? `[${address}]:${config.core.port}` : `${address}:${config.core.port}`;
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

/** How the login reaches root, from the probe's facts and whether a sudo password is stored. */
export function privilegeOf(facts: HostFacts, sudoPassword: string | undefined): Privilege {
  switch (facts.privilege?.level) {
    case 'root':
      return 'root';
    case 'sudo-nopasswd':
      return 'sudo-nopasswd';
    case 'sudo-password':
      return sudoPassword !== undefined && facts.privilege.sudoPasswordVerified !== false ? 'sudo-password' : 'none';
    default:
      return 'none';
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

export function serverCertificateNames(row: HostRow): { hostName: string; ipAddresses?: string[]; dnsNames?: string[] } {
  return isIP(row.address) !== 0 ? { hostName: row.name, ipAddresses: [row.address] } : { hostName: row.name, dnsNames: [row.address] };
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
