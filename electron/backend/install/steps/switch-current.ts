import type { InstallLayout } from '../definition/install-layout';
import { SCRIPT_PRELUDE } from '../remote/script-prelude';
import { sh, type ShellScript } from '../remote/shell-script';

/**
 * Points <root>/current at releases/<version> in one rename: a new link is made under a
 * temporary name and moved over the old one with `mv -T` (rename(2)), so `current` is at
 * every moment either the old release or the new one, never missing or half-made. The
 * link is relative, so the tree can be moved as a whole.
 */
export function switchCurrentScript(layout: InstallLayout, version: string): ShellScript {
  return sh`${SCRIPT_PRELUDE}current=${layout.current}
target=${`releases/${version}`}
[ -d ${`${layout.releases}/${version}`} ] || fail "release ${version} is not unpacked"
if [ -e "$current" ] && [ ! -L "$current" ]; then fail "$current exists and is not a link; move it away, then apply again"; fi
if [ "$(readlink "$current" 2>/dev/null || :)" = "$target" ]; then echo "current already points at $target"; exit 0; fi
[ -L "$current" ] || created "$current"
tmp=${`${layout.root}/.current-`}$$
rm -f "$tmp"
ln -s "$target" "$tmp"
mv -T "$tmp" "$current"
echo "current -> $target"
`;
}
