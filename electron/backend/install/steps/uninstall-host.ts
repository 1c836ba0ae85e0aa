import type { ServiceKind } from '../../store/installs-repo';
import { SYSTEMD_UNIT_NAME, SYSTEMD_UNIT_PATH, type InstallLayout } from '../definition/install-layout';
import { RUNTIME_IDENTITY } from './runtime-identity';
import { isPlainAbsolute, SCRIPT_PRELUDE, withinPlan } from '../remote/script-prelude';
import { sh, type ShellScript } from '../remote/shell-script';

/**
 * The paths uninstall may remove: those the install recorded as made by it (each directory,
 * link and unit file it created where nothing was) and its release directories, once each,
 * a parent before what lies in it. Only paths of the install's own layout, inside its root,
 * or directories above one of them (which making it created) are taken, written plainly: a record from
 * anywhere else, or from an older version that parsed a script's output line by line, is
 * left out. Uninstall removes what the record names, never more.
 */
export function pathsToRemove(created: readonly string[], releaseDirs: readonly string[], layout: InstallLayout): string[] {
  const planned = [layout.root, layout.configDir, layout.stateDir, layout.logDir, layout.configLink, SYSTEMD_UNIT_PATH];
  const candidates = [...new Set([...created, ...releaseDirs])].filter(isPlainAbsolute);
  const clean = candidates.filter((p) => p.startsWith(`${layout.root}/`) || withinPlan([p], planned).kept.length === 1);
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
 * removed (a `removed` record for each that was there). A daemon of the install
 * (runtime-identity.ts) that runs with no release left to stop it stops the script before
 * anything is removed.
 */
export function uninstallScript(input: UninstallScriptInput): ShellScript {
  const { layout } = input;
  const systemd = input.service === 'systemd';
  const disable = systemd ? sh`if [ -f ${SYSTEMD_UNIT_PATH} ]; then systemctl disable --now ${SYSTEMD_UNIT_NAME} 2>&1 || :; fi` : sh`:`;
  const remove =
    input.paths.length === 0
      ? sh`:`
      : sh`for p in ${input.paths}; do
  case $p in /|'') continue ;; esac
  if [ -e "$p" ] || [ -L "$p" ]; then rm -rf "$p"; record removed "$p"; fi
done`;
  const reload = systemd
    ? sh`systemctl daemon-reload 2>&1 || :
systemctl reset-failed ${SYSTEMD_UNIT_NAME} 2>/dev/null || :`
    : sh`:`;
  return sh`${SCRIPT_PRELUDE}${RUNTIME_IDENTITY}current=${layout.current}
releases=${layout.releases}
lock=${`${layout.stateDir}/sutazai-runtime.lock`}
${disable}
stopped=
for cfg in "$current/etc/runtime.yaml" "$releases"/*/etc/runtime.yaml; do
  [ -f "$cfg" ] || continue
  rel=\${cfg%/etc/runtime.yaml}
  [ -x "$rel/runtime/node" ] && [ -f "$rel/runtime/sutazai-runtime.cjs" ] || continue
  echo "stop-all with $cfg"
  if "$rel/runtime/node" "$rel/runtime/sutazai-runtime.cjs" stop-all --config "$cfg"; then stopped=1; break; fi
  fail "stop-all left processes of the runtime running; nothing was removed"
done
if [ -z "$stopped" ]; then
  pid=$(runtime_pid "$lock" "$releases")
  if [ -n "$pid" ]; then
    fail "sutazai-runtime (pid $pid) runs and no release is left to stop it; nothing was removed"
  fi
  echo "no runtime of this install runs"
fi
${remove}
${reload}
echo "uninstalled"
`;
}
