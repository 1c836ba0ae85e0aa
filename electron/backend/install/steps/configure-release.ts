import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { HostRow } from '../../store/hosts-repo';
import type { InstallLayout, ReleaseLayout } from '../definition/install-layout';
import { SCRIPT_PRELUDE } from '../remote/script-prelude';
import { sh, type ShellScript } from '../remote/shell-script';

/**
 * What the configure step puts into a release's etc/: the runtime's config, the process
 * manifest, the install's CA certificate and this host's server certificate and key.
 *
 * The digest names what was decided, not the bytes of a fresh certificate: the config, the
 * manifest, the CA and the names the server certificate carries. It is written last as
 * etc/.digest; a later plan that computes the same digest (and finds the three TLS files)
 * knows there is nothing to write, so applying twice does not issue a new certificate.
 */
export interface ReleaseConfigFiles {
  runtimeYaml: string;
  manifestYaml: string;
  caCertPem: string;
  /** The names and addresses the server certificate is issued for. */
  serverNames: readonly string[];
}

export function configDigest(files: ReleaseConfigFiles): string {
  const all = digestOf([files.runtimeYaml, files.manifestYaml, files.caCertPem, [...files.serverNames].sort().join(',')]);
  return `${all} ${RUNTIME_DIGEST_PREFIX}${runtimeDigest(files)}`;
}

/**
 * The digest's second word names what the runtime itself reads only when it starts (its
 * config, the CA it trusts, the names its certificate carries), not the manifest: while
 * it stays the same a new manifest is pushed to the running runtime (UpdateManifest),
 * which restarts only the processes whose settings changed. A digest written before this
 * word existed has none, and its host is restarted as before.
 */
const RUNTIME_DIGEST_PREFIX = 'runtime:';

function runtimeDigest(files: ReleaseConfigFiles): string {
  return digestOf([files.runtimeYaml, files.caCertPem, [...files.serverNames].sort().join(',')]);
}

function digestOf(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}\n`).update(part);
  return hash.digest('hex');
}

/** The two words of a digest file: the whole configuration's, and the runtime's own part (null in an older digest). */
export function splitDigest(value: string): { all: string; runtime: string | null } {
  const [all = '', second] = value.trim().split(/\s+/);
  return { all, runtime: second?.startsWith(RUNTIME_DIGEST_PREFIX) ? second.slice(RUNTIME_DIGEST_PREFIX.length) : null };
}

/** Where a running release's replaced etc/ is kept, inside the release directory. */
/** The names this host's server certificate carries: its inventory name, and its address as an IP address or a DNS name. */
export function serverCertificateNames(row: Pick<HostRow, 'name' | 'address'>): {
  hostName: string;
  ipAddresses?: string[];
  dnsNames?: string[];
} {
  return isIP(row.address) !== 0 ? { hostName: row.name, ipAddresses: [row.address] } : { hostName: row.name, dnsNames: [row.address] };
}

export const PREVIOUS_ETC = '.etc-previous';

/** The staged files' names, as the upload of the configure step writes them. */
export const STAGED_CONFIG_FILES = ['runtime.yaml', 'manifest.yaml', 'ca.pem', 'runtime.pem', 'runtime.key', 'digest'] as const;

/**
 * Moves the staged files (uploaded by the login user into a 0700 directory, the key 0600)
 * into a new etc/ beside the old one, then swaps them: keys 0600 and the tls/ directory
 * 0700, owned by whoever runs the script (root for a system-wide install, the login user
 * for a per-user one), which is the user the runtime runs as. It also makes config_dir,
 * state_dir and log_dir, and points <config_dir>/runtime.yaml at the current release.
 *
 * When the release is the one `current` points at (a change of configuration only), the
 * etc/ it replaces is kept as PREVIOUS_ETC: a new configuration that fails its health
 * gate is undone from it (restorePreviousEtcScript). Another release's old etc/ is not
 * kept: returning from a new release goes back to the previous release's own etc/.
 */
export function configureReleaseScript(layout: InstallLayout, release: ReleaseLayout, stagedDir: string): ShellScript {
  const currentConfig = `${layout.current}/etc/runtime.yaml`;
  return sh`${SCRIPT_PRELUDE}src=${stagedDir}
release=${release.dir}
etc=${release.etc}
link=${layout.configLink}
want=${currentConfig}
[ -f "$release/.sutazai-release" ] || fail "release ${release.version} is not unpacked in $release"
mkd ${layout.configDir} ${layout.stateDir} ${layout.logDir}
for old in "$release"/.etc-new-* "$release"/.etc-old-*; do if [ -e "$old" ]; then rm -rf "$old"; fi; done
new="$release/.etc-new-$$"
mkdir -m 0755 "$new"
mkdir -m 0700 "$new/tls"
cp "$src/runtime.yaml" "$src/manifest.yaml" "$new/"
chmod 0644 "$new/runtime.yaml" "$new/manifest.yaml"
cp "$src/ca.pem" "$new/tls/ca.pem"
cp "$src/runtime.pem" "$new/tls/runtime.pem"
chmod 0644 "$new/tls/ca.pem" "$new/tls/runtime.pem"
(umask 077 && cp "$src/runtime.key" "$new/tls/runtime.key")
chmod 0600 "$new/tls/runtime.key"
cp "$src/digest" "$new/.digest"
chmod 0644 "$new/.digest"
running=no
if [ -d ${layout.current} ] && [ "$(cd ${layout.current} && pwd -P)" = "$(cd "$release" && pwd -P)" ]; then running=yes; fi
# The digest's time says when the runtime's own part last changed: kept while only the manifest changes.
if [ -f "$etc/.digest" ] && [ "$(cut -d' ' -f2 "$etc/.digest")" = "$(cut -d' ' -f2 "$new/.digest")" ] && grep -q ' runtime:' "$new/.digest"; then
  touch -r "$etc/.digest" "$new/.digest"
fi
if [ -e "$etc" ]; then mv "$etc" "$release/.etc-old-$$"; fi
mv "$new" "$etc"
if [ "$running" = yes ] && [ -d "$release/.etc-old-$$" ]; then
  rm -rf "$release/${PREVIOUS_ETC}"
  mv "$release/.etc-old-$$" "$release/${PREVIOUS_ETC}"
  echo "kept the configuration it replaced as $release/${PREVIOUS_ETC} (this release runs now)"
fi
rm -rf "$release/.etc-old-$$" "$src"
if [ "$(readlink "$link" 2>/dev/null || :)" != "$want" ]; then
  if [ -e "$link" ] && [ ! -L "$link" ]; then fail "$link exists and is not a link; move it away, then apply again"; fi
  [ -L "$link" ] || created "$link"
  ln -sf "$want" "$link.sutazai-new"
  mv -f "$link.sutazai-new" "$link"
fi
echo "wrote $etc (runtime.yaml, manifest.yaml, tls/ with the key 0600)"
`;
}

/**
 * Puts the etc/ that the last configure step replaced in a running release back in place
 * (the new one is removed): the first half of undoing a configuration that failed its
 * health gate; the runtime is restarted on it afterwards.
 */
export function restorePreviousEtcScript(release: ReleaseLayout): ShellScript {
  return sh`${SCRIPT_PRELUDE}release=${release.dir}
etc=${release.etc}
[ -d "$release/${PREVIOUS_ETC}" ] || fail "no earlier configuration is kept in $release/${PREVIOUS_ETC}"
[ ! -e "$etc" ] || mv "$etc" "$release/.etc-old-$$"
mv "$release/${PREVIOUS_ETC}" "$etc"
rm -rf "$release/.etc-old-$$"
echo "restored $etc from the configuration it had before"
`;
}
