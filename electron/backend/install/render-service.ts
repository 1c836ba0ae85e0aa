import { SYSTEMD_UNIT_NAME, SYSTEMD_UNIT_PATH, type InstallLayout, type ReleaseLayout } from './install-layout';
import { shellQuote } from './shell-quote';
import { RUNTIME_LAUNCH_ENV } from '../../../agents-runtime/src/daemon/launch-env';

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
  const start = `${quoteArg(release.node)} ${quoteArg(release.daemon)} run --config ${quoteArg(release.runtimeConfig)}`;
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
export function systemdInstallCommands(stagedUnit: string): string {
  return [
    `tmp=${shellQuote(`${SYSTEMD_UNIT_PATH}.sutazai-new`)}`,
    `[ -f ${shellQuote(SYSTEMD_UNIT_PATH)} ] || printf 'created\\t%s\\n' ${shellQuote(SYSTEMD_UNIT_PATH)}`,
    `cp ${shellQuote(stagedUnit)} "$tmp"`,
    'chmod 0644 "$tmp"',
    `mv -f "$tmp" ${shellQuote(SYSTEMD_UNIT_PATH)}`,
    `rm -f ${shellQuote(stagedUnit)}`,
    `systemctl daemon-reload && systemctl enable ${SYSTEMD_UNIT_NAME}`,
  ].join('\n');
}

/** Starts the unit, or restarts it when a daemon of another release or configuration runs. */
export function systemdStartCommands(restart: boolean): string {
  return restart ? `systemctl daemon-reload && systemctl restart ${SYSTEMD_UNIT_NAME}` : `systemctl daemon-reload && systemctl enable --now ${SYSTEMD_UNIT_NAME}`;
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
  return `#!/bin/sh
# Starts sutazai-runtime (install ${installName}, release ${release.version}) in detached mode:
# in its own session, so it outlives the SSH login that started it. Written by the SutazAI
# control center; it is not run at boot (see README.md, "Installing").
set -eu
lock=${shellQuote(`${layout.stateDir}/sutazai-runtime.lock`)}
if [ -f "$lock" ]; then
  pid=$(sed -n 's/.*"pid":[ ]*\\([0-9][0-9]*\\).*/\\1/p' "$lock")
  if [ -n "$pid" ] && grep -q sutazai-runtime "/proc/$pid/cmdline" 2>/dev/null; then
    echo "sutazai-runtime already runs (pid $pid)"
    exit 0
  fi
fi
mkdir -p ${shellQuote(layout.stateDir)} ${shellQuote(layout.logDir)}
cd ${shellQuote(release.runtimeDir)}
detach=
if command -v setsid >/dev/null 2>&1; then detach=setsid; fi
${Object.entries(RUNTIME_LAUNCH_ENV).map(([k, v]) => `export ${k}=${shellQuote(v)}`).join('\n')}
$detach nohup ${shellQuote(release.node)} ${shellQuote(release.daemon)} run --config ${shellQuote(release.runtimeConfig)} >>${shellQuote(detachedDaemonLog(layout))} 2>&1 </dev/null &
echo "sutazai-runtime started (pid $!)"
`;
}

export function renderDetachedStopScript(release: ReleaseLayout, installName: string): string {
  return `#!/bin/sh
# Stops sutazai-runtime (install ${installName}, release ${release.version}) and every process
# it supervises, in reverse dependency order (sutazai-runtime stop-all). Written by the
# SutazAI control center.
exec ${shellQuote(release.node)} ${shellQuote(release.daemon)} stop-all --config ${shellQuote(release.runtimeConfig)}
`;
}

/** systemd splits ExecStart on spaces and honours double quotes; paths with neither stay bare. */
function quoteArg(value: string): string {
  return /^[A-Za-z0-9._+\-/]+$/.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`;
}
