import { ApiError, type HostFacts } from '../../../contract';
import { parseProbeOutput } from '../../probe/parse-probe-output';
import { loadProbeScript, probeCommand, probeStdin } from '../../probe/probe-script';
import { describeEndpoint } from './ssh-endpoint';
import type { SshSession } from './ssh-session';

export interface RemoteProbeOptions {
  /** Where SutazAI would be installed; the probe reports its filesystem and whether it is writable. */
  installPath?: string;
  /** Sent as the first line of stdin (never argv or environment) for sudo to check. */
  sudoPassword?: string;
  timeoutMs: number;
  /** The probe script's directory, when not the app's own resources/. */
  resourcesDir?: string;
  /** The POSIX shell that runs the script on the host; `sh` from its PATH by default. */
  shell?: string;
}

/**
 * The hardware facts of a logged-in host, in one round trip: one exec channel whose
 * stdin carries the sudo password line (when given) and the probe script, whose stdout
 * is the probe's record format (resources/probe/probe.sh, parsed by
 * probe/parse-probe-output.ts).
 */
export async function probeOverSsh(session: SshSession, options: RemoteProbeOptions): Promise<HostFacts> {
  const where = describeEndpoint(session.endpoint);
  const { command } = probeCommand({
    ...(options.installPath !== undefined ? { installPath: options.installPath } : {}),
    sudoPassword: options.sudoPassword !== undefined,
    ...(options.shell !== undefined ? { shell: options.shell } : {}),
  });
  const stdin = probeStdin(
    loadProbeScript(options.resourcesDir !== undefined ? { resourcesDir: options.resourcesDir } : {}),
    options.sudoPassword,
  );
  let result;
  try {
    result = await session.exec(command, { stdin, timeoutMs: options.timeoutMs });
  } catch (error) {
    const detail = error instanceof ApiError ? error.message : String(error);
    throw new ApiError(
      'PROBE_FAILED',
      `Probing ${where} failed: ${detail}`,
      /did not finish/.test(detail)
        ? 'A tool on the machine may hang (a stale network mount, a wedged GPU driver): check it, then probe again.'
        : 'Check that the machine is up and reachable, then probe again.',
      { cause: error },
    );
  }

  // The probe reads the host's clock just before its last line, so the skew is measured
  // against this clock when the output has arrived: not against the start of the exec,
  // which would count the channel's set-up (and the probe's own run) as skew.
  const probedAt = Date.now();
  try {
    return parseProbeOutput(result.stdout, { host: where, probedAt });
  } catch (error) {
    if (error instanceof ApiError && error.code !== 'PROBE_OUTPUT_INVALID') throw error;
    // What the shell said helps when the login shell is not a shell (nologin) or the
    // output was cut; the sudo password never appears in it, even by accident.
    const said = firstLine(redact(result.stderr, options.sudoPassword));
    const exit = result.code === null ? `killed by signal ${result.signal ?? 'unknown'}` : `exit code ${result.code}`;
    const context = result.code === 0 && said === '' ? '' : ` The command ended with ${exit}${said === '' ? '' : ` and said: ${said}`}.`;
    throw error instanceof ApiError
      ? new ApiError(error.code, `${error.message}${context}`, error.remedy, { cause: error })
      : new ApiError(
          'PROBE_OUTPUT_INVALID',
          `The probe output from ${where} is unusable: ${(error as Error).message}.${context}`,
          'Probe again; if it keeps failing, send the app log with your report.',
          { cause: error },
        );
  }
}

function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
