import type { Architecture } from '../../bundles/bundle-manifest';
import type { InstallLayout, ReleaseLayout } from '../definition/install-layout';
import { SCRIPT_PRELUDE } from '../remote/script-prelude';
import { sh, type ShellScript } from '../remote/shell-script';

export interface UnpackInput {
  layout: InstallLayout;
  release: ReleaseLayout;
  stagedBundle: string;
  bundleSha256: string;
  arch: Architecture;
}

/**
 * Unpacks the uploaded bundle into <root>/releases/<version>, never leaving a half-unpacked
 * release there: tar extracts into a temporary directory beside it (`-o`, tar's portable
 * spelling of --no-same-owner, so files belong to whoever unpacks), every file is checked
 * against checksums.sha256, runtime/node is linked to the architecture's Node binary, the
 * marker (the bundle's SHA-256) is written last, and only then is the directory renamed
 * into place. Leftovers of an interrupted unpack are removed first. The staged bundle is
 * deleted once the release is in place: the release directory is what later plans look for.
 * A new release directory is reported as created, so uninstall (and pruning) removes exactly it.
 */
export function unpackReleaseScript(input: UnpackInput): ShellScript {
  const { layout, release } = input;
  return sh`${SCRIPT_PRELUDE}bundle=${input.stagedBundle}
releases=${layout.releases}
release=${release.dir}
version=${release.version}
sha=${input.bundleSha256}
arch=${input.arch}
current=${layout.current}
if [ -f "$release/.sutazai-release" ] && [ "$(cat "$release/.sutazai-release")" = "$sha" ]; then
  echo "release $version is already unpacked in $release"
  exit 0
fi
[ -f "$bundle" ] || fail "the uploaded bundle $bundle is not on the host; apply again to upload it"
if [ -e "$release" ] && [ "$(readlink "$current" 2>/dev/null || :)" = "releases/$version" ]; then
  fail "$release is the current release but holds another bundle; it is left as it is"
fi
mkd "$releases"
for old in "$releases"/.unpack-*; do if [ -e "$old" ]; then rm -rf "$old"; fi; done
tmp="$releases/.unpack-$version-$$"
mkdir "$tmp"
if ! tar -x -o -f "$bundle" -C "$tmp"; then rm -rf "$tmp"; fail "tar could not unpack $bundle"; fi
if ! (cd "$tmp" && sha256sum -c checksums.sha256 >/dev/null 2>&1); then
  (cd "$tmp" && sha256sum -c checksums.sha256 2>&1 | grep -v ': OK$' | head -n 5) >&2 || :
  rm -rf "$tmp"
  fail "the unpacked files do not match checksums.sha256"
fi
if [ ! -f "$tmp/node/$arch/node" ]; then rm -rf "$tmp"; fail "the bundle has no Node binary for $arch"; fi
ln -s "../node/$arch/node" "$tmp/runtime/node"
printf '%s\\n' "$sha" >"$tmp/.sutazai-release"
if [ -e "$release" ]; then mv "$release" "$releases/.unpack-replaced-$version-$$"; else created "$release"; fi
mv "$tmp" "$release"
rm -rf "$releases/.unpack-replaced-$version-$$"
rm -f "$bundle" "$bundle.sha256"
echo "unpacked release $version into $release"
`;
}
