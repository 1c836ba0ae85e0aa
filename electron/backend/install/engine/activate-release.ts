import { parse } from 'yaml';
import type { RuntimeTls } from '../../fleet/runtime-connection';
import { restorePreviousEtcScript } from '../steps/configure-release';
import { prepareStaging, runChangingScript, type HostLink } from '../remote/host-link';
import type { ActivateStep, StepOutcome } from './install-steps';
import { releaseFileChangedError, releaseNotOnHostError, releaseReadIncompleteError, releaseUnitMissingError } from '../install-errors';
import type { ReleaseLayout } from '../definition/install-layout';
import type { ExpectedProcess } from '../render/render-manifest';
import { renderDetachedStartScript, renderDetachedStopScript, renderSystemdUnit } from '../render/render-service';
import { releaseOfExe, RUNTIME_IDENTITY } from '../steps/runtime-identity';
import { sh } from '../remote/shell-script';
import { startRuntimeScript } from '../steps/start-runtime';
import { switchCurrentScript } from '../steps/switch-current';
import type { FleetLinkRef } from '../health/runtime-route';
import { waitHealthyWithLogs } from '../health/wait-healthy-with-logs';
import { writeServiceFiles, type ServiceFiles } from '../steps/write-service';
import { recordServedCertificate, type CertificateRecording } from './record-served-certificate';

export interface ActivateInput {
  host: HostLink;
  installName: string;
  /** The kept release to run: its directory holds its binaries and its own configuration (etc/). */
  version: string;
  tls: RuntimeTls;
  /** The host's fleet link: the health gate asks through it while it is up; its hostId names the host whose certificate is recorded. */
  fleetLink: FleetLinkRef;
  /** Where the certificate the release's runtime serves is recorded once it passed its health gate (record-served-certificate.ts). */
  servedCertificate: CertificateRecording;
  healthTimeoutMs: number;
  /**
   * Undo a change of configuration in the release that runs: its kept earlier etc/ goes
   * back (with the service definition) and its runtime is restarted even though it runs.
   */
  restorePreviousConfig?: boolean;
  signal?: AbortSignal;
  onStep(step: ActivateStep, status: Exclude<StepOutcome, 'skipped'>, detail: string): void;
}

export interface Activated {
  version: string;
  /** The SHA-256 of the bundle the release was unpacked from (its marker). */
  bundleSha256: string;
  releaseDir: string;
  /** What the runtime reported once healthy: `core running 1/1, agent running 2/2`. */
  health: string;
  created: string[];
}

/** What a kept release says of itself, read from its directory on the host. */
export interface ReleaseOnHost {
  bundleSha256: string;
  runtime: { address: string; port: number; stateDir: string; logDir: string };
  expected: ExpectedProcess[];
  unitTemplate: string | null;
  /** The release whose daemon (the install's own: runtime-identity.ts) runs now; null when none does. */
  runningRelease: string | null;
}

const SECTION = '@@sutazai-section';

/**
 * A release that ran healthy before gets at least this long to come back after a failed
 * upgrade or rollback, whatever shorter install.health_timeout_seconds the failed one set.
 */
export const RETURN_HEALTH_FLOOR_SECONDS = 60;

/**
 * Makes a kept release the running one on a host, health-gated: its service definition
 * back in place (rendered from the release's own unit or for its own paths), the runtime
 * that runs now stopped with everything it supervises, the release's runtime started with
 * the release's own configuration (etc/ inside its directory, which no later release
 * touched), the wait until its core and agents report healthy, then `current` switched to
 * it in one rename. What an automatic rollback and `sutazai rollback` both do; the caller
 * records the result.
 */
export async function activateRelease(input: ActivateInput): Promise<Activated> {
  const { host, version } = input;
  const release = host.layout.release(version);
  const step = async <T>(
    name: ActivateStep,
    running: string,
    work: () => Promise<{ value: T; detail: string; status?: 'done' | 'already-done' }>,
  ): Promise<T> => {
    input.onStep(name, 'running', running);
    try {
      const { value, detail, status } = await work();
      input.onStep(name, status ?? 'done', detail);
      return value;
    } catch (error) {
      input.onStep(name, 'failed', (error as Error).message.split('\n')[0]!);
      throw error;
    }
  };

  const found = await step(
    'read',
    `${input.restorePreviousConfig ? 'puts the earlier configuration back and ' : ''}reads ${release.dir}`,
    async () => {
      // First the etc/ it had, so that what is read (ports, directories, processes) is what it will run with.
      const restored = input.restorePreviousConfig
        ? `${(await runChangingScript(host, 'read', restorePreviousEtcScript(release), { timeoutMs: 60_000, remedy: "The release's etc/ was left as it was; apply again once the cause is fixed." })).output.split('\n').filter(Boolean).at(-1) ?? 'configuration restored'}; `
        : '';
      const value = await readReleaseOnHost(host, release);
      return {
        value,
        detail: `${restored}release ${version}: runtime on ${value.runtime.address}:${value.runtime.port}, ${value.expected.map((p) => `${p.name} x${p.replicas}`).join(', ')}`,
      };
    },
  );
  // The release's own state and log directories: those it ran with before.
  const layout = { ...host.layout, stateDir: found.runtime.stateDir, logDir: found.runtime.logDir };
  const link: HostLink = { ...host, layout };
  const created: string[] = [];

  await step('service', `puts the service definition of ${version} back`, async () => {
    const files: ServiceFiles =
      host.service === 'systemd'
        ? { kind: 'systemd', unit: renderSystemdUnit(requireUnit(found, release), release, input.installName) }
        : {
            kind: 'detached',
            start: renderDetachedStartScript(layout, release, input.installName),
            stop: renderDetachedStopScript(release, input.installName),
          };
    const staging = await prepareStaging(link, 'service');
    const written = await writeServiceFiles(link, files, 'service');
    created.push(...staging.created, ...written.created);
    return { value: null, detail: written.detail };
  });

  await step('start', `starts the runtime of ${version}`, async () => {
    if (found.runningRelease === version && !input.restorePreviousConfig)
      return { value: null, detail: `the runtime of ${version} runs already`, status: 'already-done' };
    const run = await runChangingScript(
      link,
      'start',
      startRuntimeScript({
        layout,
        release,
        service: host.service,
        running: found.runningRelease === null ? null : layout.release(found.runningRelease),
      }),
      {
        timeoutMs: 180_000,
        remedy: `Read the end of the daemon's output above (and the log_dir on the host), then roll back again.`,
      },
    );
    created.push(...run.created);
    return { value: null, detail: run.output.split('\n').filter(Boolean).at(-1) ?? 'started' };
  });

  const health = await step(
    'health',
    `waits up to ${Math.round(input.healthTimeoutMs / 1000)} s for the core and agents of ${version}`,
    async () => {
      const { summary, via } = await waitHealthyWithLogs(link, {
        runtimeAddress: found.runtime.address,
        runtimePort: found.runtime.port,
        tls: input.tls,
        fleetLink: input.fleetLink,
        expected: found.expected,
        timeoutMs: input.healthTimeoutMs,
        logDir: layout.logDir,
        ...(input.signal ? { signal: input.signal } : {}),
      });
      // The release may serve another certificate than the one it replaced (each configure issues its own).
      const served = await recordServedCertificate(
        { hostId: input.fleetLink.hostId, session: link.session, runtimeAddress: found.runtime.address, runtimePort: found.runtime.port },
        input.tls,
        input.servedCertificate,
      );
      return { value: summary, detail: `${summary} (asked the runtime ${via}); ${served}` };
    },
  );

  await step('switch', `current -> releases/${version}`, async () => {
    const run = await runChangingScript(link, 'switch', switchCurrentScript(host.layout, version), {
      timeoutMs: 60_000,
      remedy: 'current was left as it was; fix the cause named above, then try again.',
      makes: [host.layout.current],
    });
    created.push(...run.created);
    return { value: null, detail: run.output.split('\n').filter(Boolean).at(-1) ?? `current -> releases/${version}` };
  });

  return { version, bundleSha256: found.bundleSha256, releaseDir: release.dir, health, created };
}

/** One read-only exec: the release's marker, runtime.yaml, manifest.yaml and unit, and the daemon that runs now. */
export async function readReleaseOnHost(host: HostLink, release: ReleaseLayout): Promise<ReleaseOnHost> {
  const lock = `${host.layout.stateDir}/sutazai-runtime.lock`;
  const script = sh`set -u
rel=${release.dir}
sec() { printf '%s\\t%s\\n' ${SECTION} "$1"; }
[ -f "$rel/.sutazai-release" ] || { echo "release ${release.version} is not on this host (no complete $rel)" >&2; exit 3; }
for f in etc/runtime.yaml etc/manifest.yaml runtime/sutazai-runtime.cjs runtime/node; do
  [ -e "$rel/$f" ] || { echo "release ${release.version} in $rel has no $f" >&2; exit 3; }
done
sec marker; cat "$rel/.sutazai-release"
sec runtime; cat "$rel/etc/runtime.yaml"; echo
sec manifest; cat "$rel/etc/manifest.yaml"; echo
if [ -f "$rel/systemd/sutazai-runtime.service" ]; then sec unit; cat "$rel/systemd/sutazai-runtime.service"; echo; fi
${RUNTIME_IDENTITY}releases=${host.layout.releases}
pid=$(runtime_pid ${lock} "$releases")
if [ -n "$pid" ]; then sec daemon; readlink "/proc/$pid/exe"; (cd "$releases" && pwd -P); fi
sec end
`;
  const result = await host.shell.run(script, { asRoot: host.mode === 'system', step: 'read', timeoutMs: 60_000 });
  if (result.code !== 0) {
    const said = (result.stderr || result.stdout).trim().split('\n').at(-1) ?? `exit ${result.code}`;
    throw releaseNotOnHostError(host.row.name, said);
  }
  const sections = new Map<string, string>();
  let name: string | null = null;
  let lines: string[] = [];
  for (const line of result.stdout.split('\n')) {
    if (line.startsWith(`${SECTION}\t`)) {
      if (name !== null) sections.set(name, lines.join('\n'));
      name = line.slice(SECTION.length + 1);
      lines = [];
    } else lines.push(line);
  }
  if (!sections.has('marker') || !sections.has('runtime') || !sections.has('manifest')) {
    throw releaseReadIncompleteError(release.version, host.row.name);
  }
  return {
    bundleSha256: sections.get('marker')!.trim(),
    runtime: parseRuntimeYaml(sections.get('runtime')!, release, host.row.name),
    expected: parseExpected(sections.get('manifest')!, release, host.row.name),
    unitTemplate: sections.get('unit') ?? null,
    runningRelease: runningReleaseOf(sections.get('daemon')),
  };
}

/** The release of the install's daemon, from the kernel's path of its binary (`exe`, then the real releases directory). */
function runningReleaseOf(section: string | undefined): string | null {
  if (section === undefined) return null;
  const [exe = '', releasesReal = ''] = section.split('\n');
  return releaseOfExe(exe, releasesReal);
}

function parseRuntimeYaml(text: string, release: ReleaseLayout, hostName: string): ReleaseOnHost['runtime'] {
  const doc = parseOrThrow(text, release.runtimeConfig, hostName) as { listen?: unknown; state_dir?: unknown; log_dir?: unknown } | null;
  const listen = typeof doc?.listen === 'string' ? doc.listen : '127.0.0.1:7600';
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(listen);
  if (!match || typeof doc?.state_dir !== 'string' || typeof doc.log_dir !== 'string') {
    throw releaseFileChangedError(`${release.runtimeConfig} on ${hostName} has no usable listen, state_dir or log_dir`, 'configuration');
  }
  return { address: match[1]!, port: Number(match[2]), stateDir: doc.state_dir, logDir: doc.log_dir };
}

function parseExpected(text: string, release: ReleaseLayout, hostName: string): ExpectedProcess[] {
  const doc = parseOrThrow(text, release.manifest, hostName) as { processes?: Array<{ name?: unknown; replicas?: unknown }> } | null;
  const processes = Array.isArray(doc?.processes) ? doc.processes : [];
  const expected = processes
    .filter((p) => typeof p.name === 'string')
    .map((p) => ({ name: p.name as string, replicas: typeof p.replicas === 'number' ? p.replicas : 1 }));
  if (expected.length === 0) throw releaseFileChangedError(`${release.manifest} on ${hostName} names no process`, 'manifest');
  return expected;
}

function parseOrThrow(text: string, file: string, hostName: string): unknown {
  try {
    return parse(text);
  } catch (error) {
    throw releaseFileChangedError(
      `${file} on ${hostName} is not valid YAML (${(error as Error).message.split('\n')[0]})`,
      'configuration',
      error,
    );
  }
}

function requireUnit(found: ReleaseOnHost, release: ReleaseLayout): string {
  if (found.unitTemplate === null) {
    throw releaseUnitMissingError(release.version, release.dir);
  }
  return found.unitTemplate;
}
