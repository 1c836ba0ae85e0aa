import type { HostReleaseRow } from '../../store/host-releases-repo';
import type { InstallLayout } from '../definition/install-layout';
import { SCRIPT_PRELUDE } from '../remote/script-prelude';
import { sh, type ShellScript } from '../remote/shell-script';

/**
 * Which recorded releases of a host go once `kept` is exceeded (install.releases_kept, the
 * current one included): the least recently active first, never the current one nor the
 * previous one (the most recently active after it, what a rollback returns to), whatever
 * `kept` says. Pure: the same rows, the same answer.
 */
export function releasesToPrune(rows: readonly HostReleaseRow[], kept: number): HostReleaseRow[] {
  const newestFirst = [...rows].sort((a, b) => b.installedAt - a.installedAt);
  const current = newestFirst.find((r) => r.state === 'current');
  const previous = newestFirst.find((r) => r.state === 'previous');
  const protectedVersions = new Set([current?.version, previous?.version].filter((v): v is string => v !== undefined));
  let room = Math.max(kept, protectedVersions.size) - protectedVersions.size;
  const prune: HostReleaseRow[] = [];
  for (const row of newestFirst) {
    if (protectedVersions.has(row.version)) continue;
    if (room > 0) room -= 1;
    else prune.push(row);
  }
  return prune;
}

/**
 * Removes release directories, each only if `current` does not point at it (checked on the
 * host again, whatever the record says) and it lies in <root>/releases.
 */
export function pruneReleasesScript(layout: InstallLayout, versions: readonly string[]): ShellScript {
  return sh`${SCRIPT_PRELUDE}current=${layout.current}
releases=${layout.releases}
for v in ${versions}; do
  case $v in ''|.|..|*/*) fail "refusing to remove release $v" ;; esac
  if [ "$(readlink "$current" 2>/dev/null || :)" = "releases/$v" ]; then fail "release $v is current; it is kept"; fi
  if [ -e "$releases/$v" ]; then rm -rf "$releases/$v"; record removed "$releases/$v"; fi
done
`;
}
