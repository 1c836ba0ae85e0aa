import { ApiError, isApiError } from '../../../contract';
import type { RuntimeTls } from '../../fleet/runtime-connection';
import { openRuntimeRoute, type FleetLinkRef, type RouteLinks, type RoutedConnection, type RuntimeRoute } from '../health/runtime-route';
import type { ManifestReload } from '../plan/manifest-reload';
import type { InstallCa } from '../../pki/install-ca';
import { issueServerCertificate } from '../../pki/issue-certificate';
import { configureReleaseScript, serverCertificateNames } from '../steps/configure-release';
import type { StepName } from './install-steps';
import type { PreparedHost } from '../plan/prepare-host';
import type { ResolvedBundle } from './bundle-resolution';
import { prepareStaging, runChangingScript, type ChangingRun } from '../remote/host-link';
import type { ShellScript } from '../remote/shell-script';
import { namesMadeBy, pathOfName } from './step-paths';
import { stageFiles } from '../remote/stage-files';
import { startRuntimeScript } from '../steps/start-runtime';
import { switchCurrentScript } from '../steps/switch-current';
import { unpackReleaseScript } from '../steps/unpack-release';
import { sftpIfOffered, transportNote } from '../remote/offered-sftp';
import { canStageOverSftp, stageOverSftp } from '../remote/stage-over-sftp';
import { uploadBundle, type UploadProgress, type UploadResult } from '../steps/upload-bundle';
import { waitHealthyWithLogs } from '../health/wait-healthy-with-logs';
import { writeServiceFiles } from '../steps/write-service';

export interface StepContext {
  host: PreparedHost;
  installName: string;
  bundle: ResolvedBundle;
  /** The install's CA with its key, for this host's server certificate. */
  ca: InstallCa;
  /** The control center's client certificate, for the health check. */
  operatorTls: RuntimeTls;
  /** The fleet's links in a serving backend, whose SSH connection to the host a reload goes through; null in a process without links. */
  links: RuntimeLinks | null;
  onUpload(progress: UploadProgress): void;
  signal?: AbortSignal;
}

export interface StepRun {
  /** One line for the progress display. */
  detail: string;
  /** What the step printed, kept (as an excerpt) with the step's record. */
  output: string;
  /** Paths the step made on the host (for uninstall). */
  created: string[];
  upload?: UploadResult;
}

/** What the steps ask of the fleet's links. */
export type RuntimeLinks = RouteLinks;

/** The steps that act on the host; connect, check-space and record are the engine's own. */
export type HostStepName = Exclude<StepName, 'connect' | 'check-space' | 'record'>;

export const HOST_STEPS: Record<HostStepName, (context: StepContext) => Promise<StepRun>> = {
  upload: runUpload,
  unpack: runUnpack,
  configure: runConfigure,
  service: runService,
  start: runStart,
  health: runHealth,
  switch: runSwitch,
};

/** Runs a changing script; a non-zero exit is the step's failure, with what the script said. */
function runScript(context: StepContext, step: HostStepName, script: ShellScript, timeoutMs = 300_000): Promise<ChangingRun> {
  const { host } = context;
  const makes = namesMadeBy(step, host.service).map((name) => pathOfName(name, host.layout, host.release));
  return runChangingScript(host, step, script, { timeoutMs, remedy: remedyFor(step), makes });
}

function remedyFor(step: HostStepName): string {
  switch (step) {
    case 'unpack':
      return 'The release directory was left as it was; check the disk of the host, then apply again.';
    case 'start':
      return "Read the end of the daemon's output above (and the log_dir on the host), fix the cause, then apply again.";
    case 'switch':
      return 'current was left as it was; fix the cause named above, then apply again.';
    default:
      return 'Fix the cause named above, then apply again: steps already done are not repeated.';
  }
}

// Hosts whose staging directory is known to exist (and belong to the login user) in this apply.
const stagingReady = new WeakSet<PreparedHost>();

async function ensureStaging(context: StepContext, step: HostStepName): Promise<{ output: string; created: string[] }> {
  const { host } = context;
  if (stagingReady.has(host) || host.check.dirs.has('staging')) return { output: '', created: [] };
  const run = await prepareStaging(host, step);
  stagingReady.add(host);
  return run;
}

async function runUpload(context: StepContext): Promise<StepRun> {
  const { host, bundle } = context;
  // The staging directory is made while the upload looks for a partial file it could
  // resume: over the upload's own SFTP channel where the login user owns it anyway (by the
  // script where the host offers no SFTP).
  const sftp = host.session.sftp();
  const preparing =
    stagingReady.has(host) || host.check.dirs.has('staging') || !canStageOverSftp(host)
      ? ensureStaging(context, 'upload')
      : sftpIfOffered(host.session, sftp).then((channel) =>
          channel === null
            ? ensureStaging(context, 'upload')
            : stageOverSftp(channel, host.layout.root, host.layout.staging).then(({ created }) => {
                stagingReady.add(host);
                return { output: created.map((dir) => `created ${dir}`).join('\n'), created };
              }),
        );
  preparing.catch(() => undefined);
  const upload = await uploadBundle({
    session: host.session,
    sftp,
    directoryReady: preparing,
    localFile: bundle.file,
    sha256: bundle.sha256,
    size: bundle.sizeBytes,
    stagedPath: host.stagedBundle,
    partialPath: host.partialBundle,
    onProgress: context.onUpload,
  });
  const prepare = await preparing;
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  const sent =
    upload.resumedFrom > 0 ? `resumed at ${mib(upload.resumedFrom)}, sent ${mib(upload.bytesSent)}` : `sent ${mib(upload.bytesSent)}`;
  const detail = `${sent} ${transportNote(upload.transport)}; SHA-256 verified on the host`;
  return { detail, output: `${prepare.output}\n${detail}`.trim(), created: prepare.created, upload };
}

async function runUnpack(context: StepContext): Promise<StepRun> {
  const { host } = context;
  if (host.arch === null)
    throw new ApiError(
      'INSTALL_ARCH_UNSUPPORTED',
      `${host.row.name} is of an architecture bundles do not carry (${host.check.machine}).`,
      'Install on linux-x64 or linux-arm64 hosts.',
    );
  const run = await runScript(
    context,
    'unpack',
    unpackReleaseScript({
      layout: host.layout,
      release: host.release,
      stagedBundle: host.stagedBundle,
      bundleSha256: context.bundle.sha256,
      arch: host.arch,
    }),
    600_000,
  );
  return { detail: `release ${host.release.version} in ${host.release.dir}`, output: run.output, created: run.created };
}

async function runConfigure(context: StepContext): Promise<StepRun> {
  const { host } = context;
  // A fresh server certificate whenever the configuration is written: its key never leaves this step but to the host.
  const server = await issueServerCertificate(context.ca, serverCertificateNames(host.row));
  const prepare = await ensureStaging(context, 'configure');
  const staged = await stageFiles(host.session, host.layout.staging, `config-${host.release.version}`, [
    { name: 'runtime.yaml', content: host.runtimeYaml, mode: 0o600 },
    { name: 'manifest.yaml', content: host.manifest.text, mode: 0o600 },
    { name: 'ca.pem', content: context.ca.certPem, mode: 0o600 },
    { name: 'runtime.pem', content: server.certPem, mode: 0o600 },
    { name: 'runtime.key', content: server.keyPem, mode: 0o600 },
    { name: 'digest', content: `${host.configDigest}\n`, mode: 0o600 },
  ]);
  const run = await runScript(context, 'configure', configureReleaseScript(host.layout, host.release, staged), 60_000);
  return {
    detail: `${host.release.etc}: runtime.yaml, manifest.yaml, tls/ (key 0600)`,
    output: run.output,
    created: [...prepare.created, ...run.created],
  };
}

async function runService(context: StepContext): Promise<StepRun> {
  const prepare = await ensureStaging(context, 'service');
  const run = await writeServiceFiles(context.host, context.host.serviceFiles, 'service');
  return { detail: run.detail, output: run.output, created: [...prepare.created, ...run.created] };
}

async function runStart(context: StepContext): Promise<StepRun> {
  const { host } = context;
  if (host.steps.reload !== null) return runReload(context, host.steps.reload);
  const running = host.check.daemon ? host.layout.release(host.check.daemon.release) : null;
  const run = await runScript(
    context,
    'start',
    startRuntimeScript({ layout: host.layout, release: host.release, service: host.service, running }),
    180_000,
  );
  const line = run.output.split('\n').filter(Boolean).at(-1) ?? 'started';
  return { detail: line, output: run.output, created: run.created };
}

// The runtime stops each changed process (its stop grace) before it answers.
const UPDATE_MANIFEST_TIMEOUT_MS = 180_000;

/**
 * The runtime keeps running: it gets the new manifest and restarts only the processes whose
 * settings changed. Sent through the host's fleet link when it is up (its SSH connection,
 * with this apply's admin certificate: the link's own channel is the operator's, and
 * UpdateManifest is an admin call), else through this apply's own SSH connection; the
 * step's output says which. A link lost in the middle is no failure of the runtime's: the
 * manifest goes again over the apply's connection, and the runtime, comparing it with
 * what it runs by then, does only what is left.
 */
async function runReload(context: StepContext, reload: ManifestReload): Promise<StepRun> {
  const send = async ({ connection, via }: RoutedConnection): Promise<StepRun> => {
    try {
      await connection.updateManifest(context.host.manifest.text);
    } finally {
      await connection.close();
    }
    return { detail: reload.detail, output: `${reload.detail}\nUpdateManifest sent ${via}`, created: [] };
  };
  const route = routeOf(context, UPDATE_MANIFEST_TIMEOUT_MS);
  const first = await openRuntimeRoute(route);
  try {
    return await send(first);
  } catch (error) {
    // The runtime's own answer (a refusal, a bad manifest) is the step's; only a lost line is tried again.
    if (!first.overLink || !isApiError(error) || error.code !== 'RUNTIME_UNREACHABLE') throw error;
    return send(await openRuntimeRoute(route, `the fleet link failed while sending (${error.message})`));
  }
}

/** This apply's way to the host's runtime: its fleet link when it is up, else the apply's own SSH session. */
function routeOf(context: StepContext, callTimeoutMs: number): RuntimeRoute {
  const { host } = context;
  return {
    ...fleetLinkOf(context),
    hostName: host.row.name,
    session: host.session,
    channel: {
      runtimeAddress: host.config.runtime.listen_address,
      runtimePort: host.config.runtime.grpc_port,
      tls: context.operatorTls,
      callTimeoutMs,
    },
  };
}

function fleetLinkOf(context: StepContext): FleetLinkRef {
  return { links: context.links, hostId: context.host.row.id, installName: context.installName, job: 'apply' };
}

async function runHealth(context: StepContext): Promise<StepRun> {
  const { host } = context;
  const { summary, via } = await waitHealthyWithLogs(host, {
    runtimeAddress: host.config.runtime.listen_address,
    runtimePort: host.config.runtime.grpc_port,
    tls: context.operatorTls,
    fleetLink: fleetLinkOf(context),
    expected: host.manifest.processes,
    timeoutMs: host.config.install.health_timeout_seconds * 1000,
    logDir: host.layout.logDir,
    ...(context.signal ? { signal: context.signal } : {}),
  });
  return { detail: summary, output: `${summary}\nasked the runtime ${via}`, created: [] };
}

async function runSwitch(context: StepContext): Promise<StepRun> {
  const { host } = context;
  const run = await runScript(context, 'switch', switchCurrentScript(host.layout, host.release.version), 60_000);
  return { detail: `current -> releases/${host.release.version}`, output: run.output, created: run.created };
}
