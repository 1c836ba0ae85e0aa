import { ApiError } from '../../contract';
import { describeEndpoint } from '../hosts/ssh/ssh-endpoint';
import type { ExecResult, SshSession } from '../hosts/ssh/ssh-session';
import type { HostRow } from '../store/hosts-repo';
import type { InstallMode, ServiceKind } from '../store/installs-repo';
import type { InstallLayout } from './install-layout';
import type { RemoteShell } from './remote-shell';
import { createdPaths, SCRIPT_PRELUDE, scriptOutput } from './script-prelude';
import { shellQuote } from './shell-quote';

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

/** Runs a changing script (as root where the install is system-wide); a non-zero exit is the step's failure, with what the script said. */
export async function runChangingScript(
  host: HostLink,
  step: string,
  script: string,
  options: { timeoutMs?: number; remedy: string },
): Promise<{ result: ExecResult; output: string; created: string[] }> {
  const result = await host.shell.run(script, { asRoot: host.mode === 'system', step, timeoutMs: options.timeoutMs ?? 300_000 });
  const output = scriptOutput(result.stdout, result.stderr);
  if (result.code !== 0) {
    const said = output.split('\n').filter(Boolean).slice(-3).join(' | ') || `exit ${result.code ?? result.signal}`;
    throw new ApiError('INSTALL_STEP_FAILED', `The ${step} step failed on ${describeEndpoint(host.session.endpoint)}: ${said}`, options.remedy, { cause: new Error(output) });
  }
  return { result, output, created: createdPaths(result.stdout) };
}

/**
 * The staging directory belongs to the login user, who writes to it over SFTP; root
 * (where the install is system-wide) takes files from it.
 */
export async function prepareStaging(host: HostLink, step: string): Promise<{ output: string; created: string[] }> {
  const { layout } = host;
  const run = await runChangingScript(
    host,
    step,
    `${SCRIPT_PRELUDE}mkd ${shellQuote(layout.root)} ${shellQuote(layout.staging)}
${host.mode === 'system' ? `chown ${shellQuote(host.row.user)} ${shellQuote(layout.staging)}\n` : ''}chmod 0700 ${shellQuote(layout.staging)}`,
    { timeoutMs: 60_000, remedy: 'Check that the install directory is writable on the host, then try again.' },
  );
  return { output: run.output, created: run.created };
}
