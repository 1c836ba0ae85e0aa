import { rawShell } from '../remote/shell-script';

/**
 * How a script on a host tells the install's own runtime daemon from any other process.
 * Never by what a process says of itself (its command line, its name): a pid in a stale
 * lock file may belong to anyone's process by now. The daemon is the process that
 *   - the lock file names by pid AND start time (`<boot id>:<start ticks>`, as the daemon
 *     writes it: daemon-lock.ts), so a reused pid does not match;
 *   - runs as the user the install runs as (root for a system-wide install), whom the
 *     lock file belongs to as well;
 *   - executes a Node binary inside the install's own releases directory (the kernel's
 *     /proc/PID/exe, not argv).
 * Only then is it stopped, and only through a release's own binaries in that directory.
 *
 * `runtime_pid LOCK RELEASES_DIR` prints that pid, or nothing. `lock_owner LOCK` prints the
 * pid of the live process the lock names (pid and start time), or nothing.
 */
export const RUNTIME_IDENTITY = rawShell(`lock_owner() {
  [ -f "$1" ] && [ ! -L "$1" ] || return 0
  lo_pid=$(sed -n 's/.*"pid":[ ]*\\([0-9][0-9]*\\).*/\\1/p' "$1" 2>/dev/null | head -n 1)
  lo_start=$(sed -n 's/.*"startTime":[ ]*"\\([^"]*\\)".*/\\1/p' "$1" 2>/dev/null | head -n 1)
  [ -n "$lo_pid" ] && [ -n "$lo_start" ] || return 0
  lo_stat=$(sed 's/.*) //' "/proc/$lo_pid/stat" 2>/dev/null | awk '{ print $1, $20 }')
  case $lo_stat in ''|Z*|X*|x*) return 0 ;; esac
  lo_boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown-boot)
  [ "$lo_start" = "$lo_boot:\${lo_stat#* }" ] || return 0
  printf '%s\\n' "$lo_pid"
}
runtime_pid() {
  rt_pid=$(lock_owner "$1")
  [ -n "$rt_pid" ] || return 0
  rt_me=$(id -u)
  [ "$(stat -c %u "$1" 2>/dev/null)" = "$rt_me" ] && [ "$(stat -c %u "/proc/$rt_pid" 2>/dev/null)" = "$rt_me" ] || return 0
  rt_releases=$(cd "$2" 2>/dev/null && pwd -P) || return 0
  rt_exe=$(readlink "/proc/$rt_pid/exe" 2>/dev/null) || return 0
  case $rt_exe in "$rt_releases"/*/node/*/node) printf '%s\\n' "$rt_pid" ;; esac
}
`);

/** The version in the real path of a daemon's Node binary, `<releases>/<version>/node/<arch>/node`; null when it is not one. */
export function releaseOfExe(exe: string, releasesReal: string): string | null {
  if (!releasesReal.startsWith('/') || !exe.startsWith(`${releasesReal}/`)) return null;
  const match = /^([0-9A-Za-z][0-9A-Za-z.+-]*)\/node\/(linux-x64|linux-arm64)\/node$/.exec(exe.slice(releasesReal.length + 1));
  return match ? match[1]! : null;
}
