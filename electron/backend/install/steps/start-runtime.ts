import type { InstallLayout, ReleaseLayout } from '../definition/install-layout';
import { detachedDaemonLog, detachedStartScriptPath, systemdStartCommands } from '../render/render-service';
import { RUNTIME_IDENTITY } from './runtime-identity';
import { SCRIPT_PRELUDE } from '../remote/script-prelude';
import { sh, type ShellScript } from '../remote/shell-script';

export interface StartInput {
  layout: InstallLayout;
  release: ReleaseLayout;
  service: 'systemd' | 'detached';
  /**
   * The release whose daemon runs now and must make way (another release, or this one with
   * an older configuration), as the host check identified it (runtime-identity.ts); null
   * when none of the install's runs.
   */
  running: ReleaseLayout | null;
}

// The daemon takes its lock within a second of starting; this leaves room for a slow disk.
const LOCK_WAIT_TENTHS = 150;

/**
 * Starts the runtime of `release`. A daemon of the install that runs from another release
 * or an older configuration is stopped first with its own release's stop-all (which stops
 * every process it supervises, then the daemon), or restarted by systemd, whose ExecStop
 * does the same. The script then waits until the lock in state_dir names a daemon of this
 * release (its Node binary, by the kernel's /proc/PID/exe) and fails with the end of the
 * daemon's output when none comes.
 */
export function startRuntimeScript(input: StartInput): ShellScript {
  const { layout, release, running } = input;
  let begin: ShellScript;
  if (input.service === 'systemd') begin = systemdStartCommands(running !== null);
  else {
    const stop =
      running === null
        ? sh`:`
        : sh`old=${running.dir}
echo "stopping the runtime of release ${running.version}"
"$old/runtime/node" "$old/runtime/sutazai-runtime.cjs" stop-all --config "$old/etc/runtime.yaml" || fail "stop-all could not stop the old runtime"`;
    begin = sh`${stop}
sh ${detachedStartScriptPath(layout)}`;
  }
  const explain =
    input.service === 'systemd'
      ? sh`systemctl status --no-pager sutazai-runtime.service >&2 || :`
      : sh`tail -n 20 ${detachedDaemonLog(layout)} >&2 || :`;
  return sh`${SCRIPT_PRELUDE}${RUNTIME_IDENTITY}lock=${`${layout.stateDir}/sutazai-runtime.lock`}
releases=${layout.releases}
${begin}
want=$(readlink -f ${release.node})
i=0
while [ $i -lt ${LOCK_WAIT_TENTHS} ]; do
  pid=$(runtime_pid "$lock" "$releases")
  if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$want" ]; then echo "sutazai-runtime runs (pid $pid)"; exit 0; fi
  sleep 0.1
  i=$((i + 1))
done
echo "sutazai-runtime did not start within ${LOCK_WAIT_TENTHS / 10} s" >&2
${explain}
exit 1`;
}
