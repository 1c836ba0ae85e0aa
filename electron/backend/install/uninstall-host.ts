import path from 'node:path';
import type { ServiceKind } from '../store/installs-repo';
import { SYSTEMD_UNIT_NAME, SYSTEMD_UNIT_PATH, type InstallLayout } from './install-layout';
import { SCRIPT_PRELUDE } from './script-prelude';
import { shellQuote } from './shell-quote';

/**
 * The paths uninstall may remove: those the install recorded as made by it (each directory,
 * link and unit file it created where nothing was) and its release directories, once each,
 * a parent before what lies in it. Anything that is not a clean absolute path is left out:
 * uninstall removes what the record names, never more.
 */
export function pathsToRemove(created: readonly string[], releaseDirs: readonly string[]): string[] {
  const clean = [...new Set([...created, ...releaseDirs])].filter((p) => p.startsWith('/') && p !== '/' && path.posix.normalize(p) === p.replace(/\/+$/, '') && !p.split('/').includes('..'));
  return clean.sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

export interface UninstallScriptInput {
  layout: InstallLayout;
  service: ServiceKind | null;
  paths: readonly string[];
}

/**
 * Uninstalls one host in one script, so nothing is removed while something of the install
 * still runs: the service is stopped and disabled (systemd), every process of the runtime
 * stopped through `stop-all` of a release that is still there (which stops the daemon and
 * all it supervises, and fails when anything is left), and only then the recorded paths are
 * removed (`removed<TAB>path` for each that was there). A daemon that runs with no release
 * left to stop it stops the script before anything is removed.
 */
export function uninstallScript(input: UninstallScriptInput): string {
  const { layout } = input;
  const systemd = input.service === 'systemd';
  return `${SCRIPT_PRELUDE}current=${shellQuote(layout.current)}
releases=${shellQuote(layout.releases)}
lock=${shellQuote(`${layout.stateDir}/sutazai-runtime.lock`)}
${systemd ? `if [ -f ${shellQuote(SYSTEMD_UNIT_PATH)} ]; then systemctl disable --now ${SYSTEMD_UNIT_NAME} 2>&1 || :; fi\n` : ''}stopped=
for cfg in "$current/etc/runtime.yaml" "$releases"/*/etc/runtime.yaml; do
  [ -f "$cfg" ] || continue
  rel=\${cfg%/etc/runtime.yaml}
  [ -x "$rel/runtime/node" ] && [ -f "$rel/runtime/sutazai-runtime.cjs" ] || continue
  echo "stop-all with $cfg"
  if "$rel/runtime/node" "$rel/runtime/sutazai-runtime.cjs" stop-all --config "$cfg"; then stopped=1; break; fi
  fail "stop-all left processes of the runtime running; nothing was removed"
done
if [ -z "$stopped" ]; then
  pid=$(sed -n 's/.*"pid":[ ]*\\([0-9][0-9]*\\).*/\\1/p' "$lock" 2>/dev/null || :)
  if [ -n "$pid" ] && grep -q sutazai-runtime "/proc/$pid/cmdline" 2>/dev/null; then
    fail "sutazai-runtime (pid $pid) runs and no release is left to stop it; nothing was removed"
  fi
  echo "no runtime of this install runs"
fi
${input.paths.length === 0 ? '' : `for p in ${input.paths.map(shellQuote).join(' ')}; do
  case $p in /|'') continue ;; esac
  if [ -e "$p" ] || [ -L "$p" ]; then rm -rf "$p"; printf 'removed\\t%s\\n' "$p"; fi
done
`}${systemd ? `systemctl daemon-reload 2>&1 || :\nsystemctl reset-failed ${SYSTEMD_UNIT_NAME} 2>/dev/null || :\n` : ''}echo "uninstalled"
`;
}
