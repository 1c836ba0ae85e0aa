import { ApiError } from '../../../contract';
import { PROBE_BOOTSTRAP, probeStdin } from '../../probe/probe-script';
import type { ExecResult, SshSession } from '../../hosts/ssh/ssh-session';
import { describeEndpoint } from '../../hosts/ssh/ssh-endpoint';
import { sh, type ShellScript } from './shell-script';

/** How this login reaches root: as the probe found it. */
export type Privilege = 'root' | 'sudo-nopasswd' | 'sudo-password' | 'none';

export interface RunOptions {
  /** Run as root (a system-wide install); the login user's own rights otherwise. */
  asRoot: boolean;
  /** For messages and for the host's process list (`sutazai-install <step>`). */
  step: string;
  timeoutMs?: number;
  /**
   * Hand stdout back exactly as the host wrote it, without the sudo password masked: for a
   * read whose bytes are checked (the runtime's audit log, hash-chained), where a short password
   * that happens to appear in a hash or a time would make intact entries look edited. stderr is
   * still masked, and nothing here logs either.
   */
  exactStdout?: boolean;
}

export interface RemoteShell {
  readonly privilege: Privilege;
  /** Runs a POSIX sh script (built by `sh`, so every value in it is quoted) on the host in one exec channel; any exit code resolves. */
  run(script: ShellScript, options: RunOptions): Promise<ExecResult>;
}

/** The first line the payload reads under sudo: proves sudo consumed the password line. */
const PAYLOAD_MARK = 'SUTAZAI-PAYLOAD';
const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Scripts run the way the probe runs (probe/probe-script.ts): the exec command is only
 * the probe's bootstrap, and stdin carries the sudo password line (when there is one)
 * and then the script, so neither the password nor the script is in an argv, the
 * environment or sudo's log. As root through sudo, the script travels on sudo's stdin
 * after the password, which `sudo -S` reads byte by byte up to the newline; the payload's
 * own first line must then be the mark, so a password sudo did not read is never run or
 * printed. `-k` makes sudo ask every time, never trusting a cached timestamp.
 */
export function createRemoteShell(session: SshSession, privilege: Privilege, sudoPassword?: string): RemoteShell {
  const where = describeEndpoint(session.endpoint);
  return {
    privilege,
    async run(script, options) {
      const viaSudo = options.asRoot && (privilege === 'sudo-nopasswd' || privilege === 'sudo-password');
      if (options.asRoot && privilege === 'none') {
        throw new ApiError(
          'INSTALL_PRIVILEGE_MISSING',
          `The ${options.step} step needs root on ${where}, and this login has neither root nor sudo.`,
          'Install per user (no root needed), or give the login sudo rights and probe the host again.',
        );
      }
      const withPassword = viaSudo && privilege === 'sudo-password';
      if (withPassword && sudoPassword === undefined) {
        throw new ApiError(
          'INSTALL_PRIVILEGE_MISSING',
          `sudo on ${where} asks for a password, and none is stored.`,
          'Store the login’s sudo password with the host (Edit on its page; from the command line, when adding the host), then install again.',
        );
      }
      const outer = viaSudo ? sudoWrapper(script, withPassword) : script;
      const command = sh`sh -c ${PROBE_BOOTSTRAP} ${`sutazai-install-${options.step}`} ${options.step} ${withPassword ? ['--sudo-stdin'] : []}`;
      const stdin = probeStdin(outer.text, withPassword ? sudoPassword : undefined);
      const result = await session.exec(command.text, { stdin, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
      if (withPassword && result.code !== 0 && /incorrect password|Sorry, try again|password attempts/i.test(result.stderr)) {
        throw new ApiError(
          'INSTALL_PRIVILEGE_MISSING',
          `sudo on ${where} refused the stored sudo password.`,
          'Set the right sudo password in the host settings, probe the host to check it, then apply again.',
        );
      }
      if (withPassword && sudoPassword)
        return {
          ...result,
          stdout: options.exactStdout === true ? result.stdout : redact(result.stdout, sudoPassword),
          stderr: redact(result.stderr, sudoPassword),
        };
      return result;
    },
  };
}

/** The outer script, run as the login user: hands the payload to sudo on stdin. */
function sudoWrapper(payload: ShellScript, withPassword: boolean): ShellScript {
  const inner = sh`IFS= read -r sutazai_mark || :; if [ "$sutazai_mark" != ${PAYLOAD_MARK} ]; then echo 'sudo did not read the password line; refusing to run' >&2; exit 97; fi; eval "$(cat)"`;
  const sudo = withPassword ? sh`sudo -k -S -p '' sh -c ${inner.text} sutazai-install` : sh`sudo -n sh -c ${inner.text} sutazai-install`;
  const feed = withPassword
    ? sh`{ printf '%s\\n' "$sutazai_pw"; printf '%s\\n%s\\n' ${PAYLOAD_MARK} "$sutazai_payload"; } | ${sudo}`
    : sh`printf '%s\\n%s\\n' ${PAYLOAD_MARK} "$sutazai_payload" | ${sudo}`;
  return sh`sutazai_payload=${payload.text}\n${feed}`;
}

function redact(text: string, secret: string): string {
  return text.split(secret).join('***');
}
