import { ApiError } from '../../contract';
import { describeEndpoint } from '../hosts/ssh/ssh-endpoint';
import type { ExecResult } from '../hosts/ssh/ssh-session';
import type { RuntimeTls } from '../fleet/runtime-connection';
import type { InstallCa } from '../pki/install-ca';
import { issueServerCertificate } from '../pki/issue-certificate';
import { configureReleaseScript } from './configure-release';
import { daemonConfigPath } from './host-check';
import type { StepName } from './install-steps';
import type { PreparedHost, ResolvedBundle } from './prepare-host';
import { serverCertificateNames } from './prepare-host';
import { detachedStartScriptPath, detachedStopScriptPath, systemdInstallCommands } from './render-service';
import { createdPaths, SCRIPT_PRELUDE, scriptOutput } from './script-prelude';
import { shellQuote } from './shell-quote';
import { stageFiles } from './stage-files';
import { startRuntimeScript } from './start-runtime';
import { switchCurrentScript } from './switch-current';
import { unpackReleaseScript } from './unpack-release';
import { uploadBundle, type UploadProgress, type UploadResult } from './upload-bundle';
import { waitHealthy } from './wait-healthy';

export interface StepContext {
  host: PreparedHost;
  installName: string;
  bundle: ResolvedBundle;
  /** The install's CA with its key, for this host's server certificate. */
  ca: InstallCa;
  /** The control center's client certificate, for the health check. */
  operatorTls: RuntimeTls;
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

const asRootFor = (host: PreparedHost): boolean => host.mode === 'system';

/** Runs a changing script; a non-zero exit is the step's failure, with what the script said. */
async function runScript(context: StepContext, step: HostStepName, script: string, timeoutMs = 300_000): Promise<{ result: ExecResult; output: string; created: string[] }> {
  const { host } = context;
  const result = await host.shell.run(script, { asRoot: asRootFor(host), step, timeoutMs });
  const output = scriptOutput(result.stdout, result.stderr);
  if (result.code !== 0) {
    const said = output.split('\n').filter(Boolean).slice(-3).join(' | ') || `exit ${result.code ?? result.signal}`;
    throw new ApiError('INSTALL_STEP_FAILED', `The ${step} step failed on ${describeEndpoint(host.session.endpoint)}: ${said}`, remedyFor(step), { cause: new Error(output) });
  }
  return { result, output, created: createdPaths(result.stdout) };
}

function remedyFor(step: HostStepName): string {
  switch (step) {
    case 'unpack':
      return 'The release directory was left as it was; check the disk of the host, then apply again.';
    case 'start':
      return 'Read the end of the daemon\'s output above (and the log_dir on the host), fix the cause, then apply again.';
    case 'switch':
      return 'current was left as it was; fix the cause named above, then apply again.';
    default:
      return 'Fix the cause named above, then apply again: steps already done are not repeated.';
  }
}

// Hosts whose staging directory is known to exist (and belong to the login user) in this apply.
const stagingReady = new WeakSet<PreparedHost>();

/**
 * The staging directory belongs to the login user, who writes to it over SFTP; root
 * (where the install is system-wide) takes files from it.
 */
async function ensureStaging(context: StepContext, step: HostStepName): Promise<{ output: string; created: string[] }> {
  const { host } = context;
  if (stagingReady.has(host) || host.check.dirs.has('staging')) return { output: '', created: [] };
  const { layout } = host;
  const run = await runScript(
    context,
    step,
    `${SCRIPT_PRELUDE}mkd ${shellQuote(layout.root)} ${shellQuote(layout.staging)}
${host.mode === 'system' ? `chown ${shellQuote(host.row.user)} ${shellQuote(layout.staging)}\n` : ''}chmod 0700 ${shellQuote(layout.staging)}`,
    60_000,
  );
  stagingReady.add(host);
  return { output: run.output, created: run.created };
}

async function runUpload(context: StepContext): Promise<StepRun> {
  const { host, bundle } = context;
  const prepare = await ensureStaging(context, 'upload');
  const upload = await uploadBundle({
    session: host.session,
    shell: host.shell,
    localFile: bundle.file,
    sha256: bundle.sha256,
    size: bundle.sizeBytes,
    stagedPath: host.stagedBundle,
    partialPath: host.partialBundle,
    onProgress: context.onUpload,
  });
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  const detail = upload.resumedFrom > 0 ? `resumed at ${mib(upload.resumedFrom)}, sent ${mib(upload.bytesSent)}; SHA-256 verified on the host` : `sent ${mib(upload.bytesSent)}; SHA-256 verified on the host`;
  return { detail, output: `${prepare.output}\n${detail}`.trim(), created: prepare.created, upload };
}

async function runUnpack(context: StepContext): Promise<StepRun> {
  const { host } = context;
  if (host.arch === null) throw new ApiError('INSTALL_ARCH_UNSUPPORTED', `${host.row.name} is of an architecture bundles do not carry (${host.check.machine}).`, 'Install on linux-x64 or linux-arm64 hosts.');
  const run = await runScript(context, 'unpack', unpackReleaseScript({ layout: host.layout, release: host.release, stagedBundle: host.stagedBundle, bundleSha256: context.bundle.sha256, arch: host.arch }), 600_000);
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
  return { detail: `${host.release.etc}: runtime.yaml, manifest.yaml, tls/ (key 0600)`, output: run.output, created: [...prepare.created, ...run.created] };
}

async function runService(context: StepContext): Promise<StepRun> {
  const { host } = context;
  const files = host.serviceFiles;
  const prepare = await ensureStaging(context, 'service');
  if (files.kind === 'systemd') {
    const staged = await stageFiles(host.session, host.layout.staging, 'unit', [{ name: 'sutazai-runtime.service', content: files.unit, mode: 0o644 }]);
    const run = await runScript(context, 'service', `${SCRIPT_PRELUDE}${systemdInstallCommands(`${staged}/sutazai-runtime.service`)}\nrm -rf ${shellQuote(staged)}`, 120_000);
    return { detail: 'systemd unit sutazai-runtime.service installed and enabled', output: run.output, created: [...prepare.created, ...run.created] };
  }
  const staged = await stageFiles(host.session, host.layout.staging, 'service', [
    { name: 'start', content: files.start, mode: 0o755 },
    { name: 'stop', content: files.stop, mode: 0o755 },
  ]);
  const place = (from: string, to: string) => `cp ${shellQuote(from)} ${shellQuote(`${to}.sutazai-new`)} && chmod 0755 ${shellQuote(`${to}.sutazai-new`)} && mv -f ${shellQuote(`${to}.sutazai-new`)} ${shellQuote(to)}`;
  const run = await runScript(
    context,
    'service',
    `${SCRIPT_PRELUDE}mkd ${shellQuote(host.layout.bin)}
${place(`${staged}/start`, detachedStartScriptPath(host.layout))}
${place(`${staged}/stop`, detachedStopScriptPath(host.layout))}
rm -rf ${shellQuote(staged)}
echo "detached mode: ${host.layout.bin}/sutazai-runtime-start and -stop"`,
    60_000,
  );
  const why = host.mode === 'user' ? 'a per-user install' : 'systemd does not run this host';
  return { detail: `detached mode (${why}): ${host.layout.bin}/sutazai-runtime-start`, output: run.output, created: [...prepare.created, ...run.created] };
}

async function runStart(context: StepContext): Promise<StepRun> {
  const { host } = context;
  const runningConfig = host.check.daemon ? daemonConfigPath(host.check.daemon.command) : null;
  const run = await runScript(context, 'start', startRuntimeScript({ layout: host.layout, release: host.release, service: host.service, running: runningConfig ? { config: runningConfig } : null }), 180_000);
  const line = run.output.split('\n').filter(Boolean).at(-1) ?? 'started';
  return { detail: line, output: run.output, created: run.created };
}

async function runHealth(context: StepContext): Promise<StepRun> {
  const { host } = context;
  const summary = await waitHealthy({
    session: host.session,
    runtimeAddress: host.config.runtime.listen_address,
    runtimePort: host.config.runtime.grpc_port,
    tls: context.operatorTls,
    expected: host.manifest.processes,
    timeoutMs: host.config.install.health_timeout_seconds * 1000,
    ...(context.signal ? { signal: context.signal } : {}),
  });
  return { detail: summary, output: summary, created: [] };
}

async function runSwitch(context: StepContext): Promise<StepRun> {
  const { host } = context;
  const run = await runScript(context, 'switch', switchCurrentScript(host.layout, host.release.version), 60_000);
  return { detail: `current -> releases/${host.release.version}`, output: run.output, created: run.created };
}
