import { ApiError } from '../../../contract';
import { describeEndpoint } from '../../hosts/ssh/ssh-endpoint';
import type { ExecResult, SshSession } from '../../hosts/ssh/ssh-session';
import type { HostRow } from '../../store/hosts-repo';
import type { InstallMode, ServiceKind } from '../../store/installs-repo';
import type { InstallLayout } from '../definition/install-layout';
import type { RemoteShell } from './remote-shell';
import { keyedScript, readRecords, SCRIPT_PRELUDE, scriptOutput, withinPlan } from './script-prelude';
import { sh, type ShellScript } from './shell-script';

/**
 * A logged-in host of an install and where the install lives on it: what every step that
 * changes the host needs (apply's prepared host is one; so are the hosts of a rollback
 * and an uninstall, which come from the store's record instead of a fresh plan).
 */
export interface HostLink {
  row: Pick<HostRow, 'name' | 'user'>;
  session: SshSession;
  shell: RemoteShell;
  mode: InstallMode;
  service: ServiceKind;
  layout: InstallLayout;
}

export interface ChangingRun {
  result: ExecResult;
  /** What the script said, without its records. */
  output: string;
  /** The paths it made where nothing was, those its plan names (or directories above them). */
  created: string[];
  /** The paths it removed. */
  removed: string[];
}

/**
 * Runs a changing script (as root where the install is system-wide); a non-zero exit is the
 * step's failure, with what the script said. `makes` is what the step may create: a
 * reported path that is neither one of them nor a directory above one is not recorded.
 */
export async function runChangingScript(
  host: HostLink,
  step: string,
  script: ShellScript,
  options: { timeoutMs?: number; remedy: string; makes?: readonly string[] },
): Promise<ChangingRun> {
  const keyed = keyedScript(script);
  const result = await host.shell.run(keyed.script, { asRoot: host.mode === 'system', step, timeoutMs: options.timeoutMs ?? 300_000 });
  const records = readRecords(result.stdout, keyed.key);
  const { kept, refused } = withinPlan(records.created, options.makes ?? []);
  const notes = refused.map((p) => `not recorded: ${JSON.stringify(p)}, which this step does not make`);
  const output = [scriptOutput(records.stdout, result.stderr), ...notes].filter(Boolean).join('\n');
  if (result.code !== 0) {
    const said = output.split('\n').filter(Boolean).slice(-3).join(' | ') || `exit ${result.code ?? result.signal}`;
    throw new ApiError(
      'INSTALL_STEP_FAILED',
      `The ${step} step failed on ${describeEndpoint(host.session.endpoint)}: ${said}`,
      options.remedy,
      { cause: new Error(output) },
    );
  }
  return { result, output, created: kept, removed: records.removed };
}

/**
 * The staging directory belongs to the login user, who writes to it over SFTP; root
 * (where the install is system-wide) takes files from it.
 */
export async function prepareStaging(host: HostLink, step: string): Promise<{ output: string; created: string[] }> {
  const { layout } = host;
  const chown = host.mode === 'system' ? sh`chown ${host.row.user} ${layout.staging}` : sh`:`;
  const run = await runChangingScript(
    host,
    step,
    sh`${SCRIPT_PRELUDE}mkd ${layout.root} ${layout.staging}
${chown}
chmod 0700 ${layout.staging}`,
    {
      timeoutMs: 60_000,
      remedy: 'Check that the install directory is writable on the host, then try again.',
      makes: [layout.root, layout.staging],
    },
  );
  return { output: run.output, created: run.created };
}
