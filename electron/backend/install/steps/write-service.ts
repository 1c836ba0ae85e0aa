import type { HostLink } from '../remote/host-link';
import { runChangingScript } from '../remote/host-link';
import { SYSTEMD_UNIT_PATH } from '../definition/install-layout';
import { detachedStartScriptPath, detachedStopScriptPath, systemdInstallCommands } from '../render/render-service';
import { SCRIPT_PRELUDE } from '../remote/script-prelude';
import { sh } from '../remote/shell-script';
import { stageFiles } from '../remote/stage-files';

/** The service definition of one release: the systemd unit, or detached mode's two scripts. */
export type ServiceFiles = { kind: 'systemd'; unit: string } | { kind: 'detached'; start: string; stop: string };

/**
 * Puts a release's service definition in place (each file staged over SFTP, then moved over
 * the old one in one rename), so the service names that release: the systemd unit
 * (enabled, not started) or `<root>/bin/sutazai-runtime-start` and `-stop`. The staging
 * directory must exist (prepareStaging).
 */
export async function writeServiceFiles(
  host: HostLink,
  files: ServiceFiles,
  step: string,
): Promise<{ detail: string; output: string; created: string[] }> {
  const remedy = 'The service definition was left as it was; fix the cause named above, then try again.';
  if (files.kind === 'systemd') {
    const staged = await stageFiles(host.session, host.layout.staging, 'unit', [
      { name: 'sutazai-runtime.service', content: files.unit, mode: 0o644 },
    ]);
    const run = await runChangingScript(
      host,
      step,
      sh`${SCRIPT_PRELUDE}${systemdInstallCommands(`${staged}/sutazai-runtime.service`)}\nrm -rf ${staged}`,
      { timeoutMs: 120_000, remedy, makes: [SYSTEMD_UNIT_PATH] },
    );
    return { detail: 'systemd unit sutazai-runtime.service installed and enabled', output: run.output, created: run.created };
  }
  const staged = await stageFiles(host.session, host.layout.staging, 'service', [
    { name: 'start', content: files.start, mode: 0o755 },
    { name: 'stop', content: files.stop, mode: 0o755 },
  ]);
  const place = (from: string, to: string) =>
    sh`cp ${from} ${`${to}.sutazai-new`} && chmod 0755 ${`${to}.sutazai-new`} && mv -f ${`${to}.sutazai-new`} ${to}`;
  const start = detachedStartScriptPath(host.layout);
  const run = await runChangingScript(
    host,
    step,
    sh`${SCRIPT_PRELUDE}mkd ${host.layout.bin}
${place(`${staged}/start`, start)}
${place(`${staged}/stop`, detachedStopScriptPath(host.layout))}
rm -rf ${staged}
echo "detached mode: ${start} and -stop"`,
    { timeoutMs: 60_000, remedy, makes: [host.layout.bin] },
  );
  const why = host.mode === 'user' ? 'a per-user install' : 'systemd does not run this host';
  return { detail: `detached mode (${why}): ${start}`, output: run.output, created: run.created };
}
