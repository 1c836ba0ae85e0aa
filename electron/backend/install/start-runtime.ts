import type { InstallLayout, ReleaseLayout } from './install-layout';
import { detachedDaemonLog, detachedStartScriptPath, systemdStartCommands } from './render-service';
import { SCRIPT_PRELUDE } from './script-prelude';
import { shellQuote } from './shell-quote';

export interface StartInput {
  layout: InstallLayout;
  release: ReleaseLayout;
  service: 'systemd' | 'detached';
  /** The runtime config of a daemon that runs now and must make way (another release or configuration); null when none runs. */
  running: { config: string } | null;
}

// The daemon takes its lock within a second of starting; this leaves room for a slow disk.
const LOCK_WAIT_TENTHS = 150;

/**
 * Starts the runtime of `release`. A daemon that runs from another release or an older
 * configuration is stopped first with its own release's stop-all (which stops every
 * process it supervises, then the daemon), or restarted by systemd, whose ExecStop does
 * the same. The script then waits for the new daemon's lock in state_dir and fails with
 * the end of the daemon's output when it does not come.
 */
export function startRuntimeScript(input: StartInput): string {
  const { layout, release } = input;
  const lock = `${layout.stateDir}/sutazai-runtime.lock`;
  const lines: string[] = [SCRIPT_PRELUDE, `lock=${shellQuote(lock)}`];
  if (input.service === 'systemd') {
    lines.push(systemdStartCommands(input.running !== null));
  } else {
    if (input.running !== null) {
      const oldRelease = input.running.config.replace(/\/etc\/runtime\.yaml$/, '');
      lines.push(
        `old=${shellQuote(oldRelease)}`,
        `echo "stopping the runtime that runs with ${input.running.config}"`,
        `"$old/runtime/node" "$old/runtime/sutazai-runtime.cjs" stop-all --config ${shellQuote(input.running.config)} || fail "stop-all could not stop the old runtime"`,
      );
    }
    lines.push(`sh ${shellQuote(detachedStartScriptPath(layout))}`);
  }
  lines.push(
    'i=0',
    `while [ $i -lt ${LOCK_WAIT_TENTHS} ]; do`,
    '  pid=$(sed -n \'s/.*"pid":[ ]*\\([0-9][0-9]*\\).*/\\1/p\' "$lock" 2>/dev/null || :)',
    `  if [ -n "$pid" ] && grep -qF ${shellQuote(release.runtimeConfig)} "/proc/$pid/cmdline" 2>/dev/null; then echo "sutazai-runtime runs (pid $pid)"; exit 0; fi`,
    '  sleep 0.1',
    '  i=$((i + 1))',
    'done',
    `echo "sutazai-runtime did not start within ${LOCK_WAIT_TENTHS / 10} s" >&2`,
    input.service === 'systemd' ? 'systemctl status --no-pager sutazai-runtime.service >&2 || :' : `tail -n 20 ${shellQuote(detachedDaemonLog(layout))} >&2 || :`,
    'exit 1',
  );
  return lines.join('\n');
}
