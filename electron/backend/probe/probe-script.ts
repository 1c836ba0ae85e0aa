import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract';
import { packagedPath } from '../app/packaged-resources';

/**
 * The remote probe (resources/probe/probe.sh) and the one exec command that runs it.
 *
 * The exec command is `sh -c '<bootstrap>' sutazai-probe <installPath> [--sudo-stdin]`
 * and the channel's stdin carries, in order, the sudo password line (only with
 * --sudo-stdin) and the script; the caller then closes stdin (EOF). The bootstrap reads
 * the password with `read` (which takes exactly one line), reads the rest with `cat`
 * and evals it, so the password stays a shell variable: never argv, environment, a
 * file or output. Plain `sh -s` cannot do this: dash and BusyBox ash read a script on
 * stdin ahead in blocks, so a line after it is swallowed or even run as a command.
 * The script is not put in the command line either: that string goes through the
 * user's login shell, and csh or fish would mangle a multi-line script.
 */
export const PROBE_BOOTSTRAP = 'if [ "${2-}" = --sudo-stdin ]; then IFS= read -r sutazai_pw || :; fi; eval "$(cat)"';

export const DEFAULT_INSTALL_PATH = '/opt/sutazai';
const SCRIPT_IN_RESOURCES = path.join('probe', 'probe.sh');

export interface ProbeCommand {
  /** The string for the SSH exec request; any login shell (sh, bash, zsh, fish, csh) reads it the same. */
  command: string;
  /** The same as an argv for a local spawn, shell first (tests swap in dash, bash or busybox sh). */
  argv: string[];
}

/** Paths stay plain so that one quoting works in every login shell. */
const SAFE_PATH = /^\/[A-Za-z0-9._+\-/]*$/;

export function probeCommand(options: { installPath?: string; sudoPassword?: boolean; shell?: string } = {}): ProbeCommand {
  const installPath = options.installPath ?? DEFAULT_INSTALL_PATH;
  if (!SAFE_PATH.test(installPath) || installPath.length > 1024) {
    throw new ApiError(
      'BAD_PARAMS',
      `The install path "${installPath}" is not a plain absolute path.`,
      'Use an absolute path of letters, digits and . _ + - / only, such as /opt/sutazai.',
    );
  }
  const args = ['sutazai-probe', installPath, ...(options.sudoPassword ? ['--sudo-stdin'] : [])];
  const shell = options.shell ?? 'sh';
  return {
    command: [shell, '-c', `'${PROBE_BOOTSTRAP}'`, ...args.map((a) => `'${a}'`)].join(' '),
    argv: [shell, '-c', PROBE_BOOTSTRAP, ...args],
  };
}

/**
 * What to write to the channel's stdin before closing it. Holds the password when one
 * is given: write it, never log it.
 */
export function probeStdin(script: string, sudoPassword?: string | null): string {
  if (sudoPassword === undefined || sudoPassword === null) return script;
  if (/[\r\n\0]/.test(sudoPassword)) {
    throw new ApiError(
      'BAD_PARAMS',
      'The sudo password contains a line break or NUL, which sudo cannot read from standard input.',
      'Give the password as one line, or set up passwordless sudo for this user.',
    );
  }
  return `${sudoPassword}\n${script}`;
}

/**
 * Where the script is: in `resourcesDir` when given; in the packaged app, only where the
 * package puts it (app/packaged-resources.ts); from a checkout, its resources/ found by
 * walking up from this module (dist/backend/*.cjs or the source tree) or the working directory.
 */
export function findProbeScript(options: { resourcesDir?: string } = {}): string {
  const candidates: string[] = [];
  if (options.resourcesDir) candidates.push(path.join(options.resourcesDir, SCRIPT_IN_RESOURCES));
  const packaged = packagedPath('probeScript');
  if (packaged !== undefined) candidates.push(packaged);
  else {
    const starts = [typeof __dirname === 'string' ? __dirname : null, process.cwd()].filter((d): d is string => d !== null);
    for (const start of starts) {
      for (let dir = start, depth = 0; depth < 8; depth++) {
        candidates.push(path.join(dir, 'resources', SCRIPT_IN_RESOURCES));
        const parent = path.dirname(dir);
        if (parent === dir) break;
        dir = parent;
      }
    }
  }
  const found = candidates.find((file) => fs.existsSync(file));
  if (!found) {
    throw new ApiError(
      'INTERNAL',
      `The probe script ${packaged ?? 'resources/probe/probe.sh'} is missing from this installation.`,
      'Reinstall the app; from a checkout, run it from the repository so resources/ is found.',
    );
  }
  return found;
}

const cache = new Map<string, string>();

/** The script text, read once per path. */
export function loadProbeScript(options: { resourcesDir?: string } = {}): string {
  const file = findProbeScript(options);
  let text = cache.get(file);
  if (text === undefined) {
    text = fs.readFileSync(file, 'utf8');
    cache.set(file, text);
  }
  return text;
}
