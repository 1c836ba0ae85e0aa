import { ApiError } from '../../../contract';
import { hasControlCharacter } from '../../config/install-config-schema';
import { SYSTEMD_UNIT_NAME, SYSTEMD_UNIT_PATH, type InstallLayout, type ReleaseLayout } from '../definition/install-layout';
import { RUNTIME_IDENTITY } from '../steps/runtime-identity';
import { joinShell, rawShell, sh, type ShellScript } from '../remote/shell-script';
import { RUNTIME_LAUNCH_ENV, RUNTIME_NODE_FLAGS } from '../../../../agents-runtime/src/wire';

/**
 * How the runtime runs as a service. With systemd as PID 1 and root (or sudo): the
 * bundle's own unit (systemd/sutazai-runtime.service, KillMode=process, ExecStop running
 * stop-all while the daemon runs) with its paths pointed at the release. Otherwise (no systemd, or a per-user
 * install): detached mode, two scripts in <root>/bin that start the daemon in its own
 * session (setsid, nohup, stdin from /dev/null, output to <log_dir>) and stop it with
 * stop-all. Detached mode is not started at boot; README.md ("Installing") says how.
 */

/**
 * ExecStop's guard. systemd runs ExecStop not only on `systemctl stop` and `restart` but
 * also after the daemon exited by itself with a clean status (as it does on SIGTERM, leaving
 * its processes running), right before Restart=always starts it again: stop-all would then
 * stop every core and agent for the next daemon to start afresh. $EXIT_CODE is set for
 * ExecStop only once the main process has exited, so then there is no daemon to ask and the
 * processes stay for the next daemon to re-adopt. ($$ is systemd's escape for a literal $.)
 */
export const EXEC_STOP_GUARD = `[ -z "$$EXIT_CODE" ] || { echo "sutazai-runtime exited ($$EXIT_CODE $$EXIT_STATUS): its processes keep running for the next daemon to re-adopt"; exit 0; }; exec "$$@"`;

/** The unit for `release`: the bundle's unit with ExecStart/ExecStop naming the release. */
export function renderSystemdUnit(bundleUnit: string, release: ReleaseLayout, installName: string): string {
  const start = [release.node, ...RUNTIME_NODE_FLAGS, release.daemon, 'run', '--config', release.runtimeConfig].map(quoteArg).join(' ');
  const stop = `/bin/sh -c '${EXEC_STOP_GUARD}' sutazai-runtime-stop ${quoteArg(release.node)} ${quoteArg(release.daemon)} stop-all --config ${quoteArg(release.runtimeConfig)}`;
  const lines = bundleUnit.split('\n').flatMap((line) => {
    if (line.startsWith('ExecStart=')) return [`ExecStart=${start}`];
    if (line.startsWith('ExecStop=')) return [`ExecStop=${stop}`];
    // The install makes (and records) state_dir and log_dir itself, wherever they are.
    if (line.startsWith('StateDirectory=') || line.startsWith('LogsDirectory=')) return [];
    return [line];
  });
  return [`# Installed by the SutazAI control center for install ${installName}, release ${release.version}.`, ...lines].join('\n');
}

/** Writes the unit (staged file moved into place) and enables it; does not start it. */
export function systemdInstallCommands(stagedUnit: string): ShellScript {
  return sh`tmp=${`${SYSTEMD_UNIT_PATH}.sutazai-new`}
[ -f ${SYSTEMD_UNIT_PATH} ] || created ${SYSTEMD_UNIT_PATH}
cp ${stagedUnit} "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" ${SYSTEMD_UNIT_PATH}
rm -f ${stagedUnit}
systemctl daemon-reload && systemctl enable ${SYSTEMD_UNIT_NAME}`;
}

/** Starts the unit, or restarts it when a daemon of another release or configuration runs. */
export function systemdStartCommands(restart: boolean): ShellScript {
  return restart
    ? sh`systemctl daemon-reload && systemctl restart ${SYSTEMD_UNIT_NAME}`
    : sh`systemctl daemon-reload && systemctl enable --now ${SYSTEMD_UNIT_NAME}`;
}

export function detachedStartScriptPath(layout: InstallLayout): string {
  return `${layout.bin}/sutazai-runtime-start`;
}

export function detachedStopScriptPath(layout: InstallLayout): string {
  return `${layout.bin}/sutazai-runtime-stop`;
}

/** The daemon's own stdout and stderr in detached mode (its processes log under log_dir/). */
export function detachedDaemonLog(layout: InstallLayout): string {
  return `${layout.logDir}/sutazai-runtime.out`;
}

export function renderDetachedStartScript(layout: InstallLayout, release: ReleaseLayout, installName: string): string {
  const env = joinShell(Object.entries(RUNTIME_LAUNCH_ENV).map(([k, v]) => sh`export ${rawShell(envName(k))}=${v}`));
  return sh`#!/bin/sh
# Starts sutazai-runtime in detached mode: in its own session, so it outlives the SSH login
# that started it. Written by the SutazAI control center; it is not run at boot (see
# README.md, "Installing").
set -eu
# The install and release this script belongs to:
sutazai_install=${installName}
sutazai_release=${release.version}
${RUNTIME_IDENTITY}lock=${`${layout.stateDir}/sutazai-runtime.lock`}
pid=$(runtime_pid "$lock" ${layout.releases})
if [ -n "$pid" ]; then
  echo "sutazai-runtime already runs (pid $pid)"
  exit 0
fi
mkdir -p ${layout.stateDir} ${layout.logDir}
cd ${release.runtimeDir}
detach=
if command -v setsid >/dev/null 2>&1; then detach=setsid; fi
${env}
$detach nohup ${release.node} ${RUNTIME_NODE_FLAGS} ${release.daemon} run --config ${release.runtimeConfig} >>${detachedDaemonLog(layout)} 2>&1 </dev/null &
echo "sutazai-runtime started (pid $!)"
`.text;
}

export function renderDetachedStopScript(release: ReleaseLayout, installName: string): string {
  return sh`#!/bin/sh
# Stops sutazai-runtime and every process it supervises, in reverse dependency order
# (sutazai-runtime stop-all). Written by the SutazAI control center.
# The install and release this script belongs to:
sutazai_install=${installName}
sutazai_release=${release.version}
exec ${release.node} ${release.daemon} stop-all --config ${release.runtimeConfig}
`.text;
}

/** An environment variable's name, which the script takes as it is: checked, since it is code. */
function envName(name: string): string {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`not an environment variable name: ${name}`);
  return name;
}

/**
 * One argument of ExecStart/ExecStop as systemd reads it: split on spaces, double quotes
 * honoured, `%` a specifier and `$` a variable (so both are doubled), and a line break the
 * start of another directive, which no value may carry into the unit.
 */
export function quoteArg(value: string): string {
  if (hasControlCharacter(value)) {
    throw new ApiError(
      'CONFIG_INVALID',
      `A path of the install holds a control character, which a systemd unit cannot carry: ${JSON.stringify(value)}.`,
      'Give install.root_dir a plain path (config check names the problem), then apply again.',
    );
  }
  const escaped = value.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9._+\-/]+$/.test(escaped) ? escaped : `"${escaped.replace(/(["\\])/g, '\\$1')}"`;
}
