import { SYSTEMD_UNIT_PATH, type InstallLayout, type ReleaseLayout } from '../definition/install-layout';
import { releaseOfExe, RUNTIME_IDENTITY } from '../steps/runtime-identity';
import { joinShell, rawShell, sh, type ShellScript } from '../remote/shell-script';

/**
 * The read-only look at a host that a plan is made from, in one exec: what the host is
 * (user, architecture, PID 1, free space), what of the release is already there (the
 * staged bundle and its verified marker, a partial upload, the release directory and
 * its marker, the configuration's digest and certificate files, `current`, the service
 * definition), which of the paths the install makes are not there yet (and the top-most
 * directory that would be made for each), and whether the install's own runtime daemon
 * runs (runtime-identity.ts), from which release and since when. It writes nothing.
 * Output: one `key<TAB>value` line per fact.
 */
export interface CheckPaths {
  layout: InstallLayout;
  release: ReleaseLayout;
  /** The staged bundle's final name and its partial upload. */
  stagedBundle: string;
  partialBundle: string;
  startScript: string;
  stopScript: string;
  /** TCP ports the install's runtime and processes will listen on: the check says who holds them now. */
  ports: readonly number[];
}

/** A wanted port something listens on already; `ours` when that is this install's runtime or one of its processes. */
export interface BusyPort {
  port: number;
  /** Null when the socket's owner is not visible to the login (another user's process, without root). */
  pid: number | null;
  ours: boolean;
  /** The owner's command line (cut), empty when not visible. */
  command: string;
}

export interface HostCheck {
  home: string;
  uid: number | null;
  /** `uname -m`. */
  machine: string;
  /** PID 1's name, and whether systemd says it runs the host (/run/systemd/system). */
  pid1: string;
  systemdRunning: boolean;
  /** Free bytes on the filesystem that holds (or would hold) the install root, and where that is. */
  availableBytes: number | null;
  spacePath: string;
  stagedBundle: { size: number; verifiedSha256: string | null } | null;
  partialSize: number | null;
  release: { present: boolean; marker: string | null };
  configDigest: { value: string; mtime: number } | null;
  /** The release's etc/manifest.yaml as it is now (what the runtime runs, unless it was never started on it); null when absent. */
  manifestText: string | null;
  tlsFiles: Set<'ca' | 'cert' | 'key'>;
  /** The target of `<root>/current`; `currentIsLink` false when something else has that name. */
  current: string | null;
  currentExists: boolean;
  configLink: string | null;
  dirs: Set<'config' | 'state' | 'log' | 'staging' | 'bin'>;
  unit: { sha256: string; enabled: string } | null;
  startScriptSha256: string | null;
  stopScriptSha256: string | null;
  /** The install's own daemon (by lock, start time, user and /proc/PID/exe), the release it runs from, and when it took its lock. */
  daemon: { pid: number; release: string; since: number | null } | null;
  /** For each path the install makes (by name, see ABSENT_PATHS) that is not there: the top-most directory that making it would create. */
  absent: Map<AbsentName, string>;
  /** The wanted ports that something listens on now. */
  busyPorts: BusyPort[];
}

/**
 * The script; a per-user layout may hold `~/` paths, which it expands with the login's
 * $HOME (reported as `home`, so the caller can make them absolute afterwards).
 */
export function hostCheckScript(paths: CheckPaths): ShellScript {
  const { layout, release } = paths;
  const vars: Array<[string, string]> = [
    ['root', layout.root],
    ['release', release.dir],
    ['marker', release.marker],
    ['digest', release.configDigest],
    ['manifest', release.manifest],
    ['ca', release.caCert],
    ['cert', release.serverCert],
    ['key', release.serverKey],
    ['current', layout.current],
    ['link', layout.configLink],
    ['configdir', layout.configDir],
    ['statedir', layout.stateDir],
    ['logdir', layout.logDir],
    ['staging', layout.staging],
    ['bin', layout.bin],
    ['releases', layout.releases],
    ['bundle', paths.stagedBundle],
    ['partial', paths.partialBundle],
    ['startscript', paths.startScript],
    ['stopscript', paths.stopScript],
  ];
  const absent = joinShell(ABSENT_PATHS.map(([name, variable]) => rawShell(`absent ${name} "$${variable}"`)));
  return sh`set -u
x() { case $1 in '~') printf '%s' "$HOME" ;; '~/'*) printf '%s/%s' "$HOME" "\${1#??}" ;; *) printf '%s' "$1" ;; esac; }
out() { printf '%s\t%s\n' "$1" "$2"; }
size() { stat -c %s "$1" 2>/dev/null || wc -c <"$1"; }
sha() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
absent() {
  if [ -e "$2" ] || [ -L "$2" ]; then return 0; fi
  top=$2
  while p=$(dirname "$top"); [ ! -e "$p" ]; do top=$p; done
  out absent "$1 $top"
}
${RUNTIME_IDENTITY}${joinShell(vars.map(([name, value]) => sh`${rawShell(name)}=$(x ${value})`))}
unit=${SYSTEMD_UNIT_PATH}
out home "$HOME"
out uid "$(id -u)"
out machine "$(uname -m)"
out pid1 "$(cat /proc/1/comm 2>/dev/null || :)"
[ -d /run/systemd/system ] && out systemd 1
d=$root
while [ ! -d "$d" ]; do d=$(dirname "$d"); done
out space_path "$d"
out avail_kb "$(df -Pk "$d" 2>/dev/null | awk 'NR == 2 { print $4 }')"
[ -f "$bundle" ] && out bundle_size "$(size "$bundle")"
[ -f "$bundle.sha256" ] && out bundle_verified "$(cat "$bundle.sha256")"
[ -f "$partial" ] && out partial_size "$(size "$partial")"
[ -d "$release" ] && out release present
[ -f "$marker" ] && out release_marker "$(cat "$marker")"
[ -f "$manifest" ] && out manifest_b64 "$(base64 <"$manifest" | tr -d '\\n')"
if [ -f "$digest" ]; then out config_digest "$(cat "$digest")"; out config_mtime "$(stat -c %Y "$digest" 2>/dev/null || echo 0)"; fi
[ -f "$ca" ] && out tls ca
[ -f "$cert" ] && out tls cert
[ -f "$key" ] && out tls key
if [ -L "$current" ]; then out current "$(readlink "$current")"; elif [ -e "$current" ]; then out current_other 1; fi
[ -L "$link" ] && out config_link "$(readlink "$link")"
[ -d "$configdir" ] && out dir config
[ -d "$statedir" ] && out dir state
[ -d "$logdir" ] && out dir log
[ -d "$staging" ] && out dir staging
[ -d "$bin" ] && out dir bin
if [ -f "$unit" ]; then
  out unit_sha "$(sha "$unit")"
  out unit_enabled "$(systemctl is-enabled sutazai-runtime.service 2>/dev/null || :)"
fi
[ -f "$startscript" ] && out start_sha "$(sha "$startscript")"
[ -f "$stopscript" ] && out stop_sha "$(sha "$stopscript")"
${absent}
lock="$statedir/sutazai-runtime.lock"
pid=$(runtime_pid "$lock" "$releases")
if [ -n "$pid" ]; then
  out daemon_pid "$pid"
  out daemon_exe "$(readlink "/proc/$pid/exe" 2>/dev/null)"
  out releases_real "$(cd "$releases" && pwd -P)"
  out daemon_since "$(stat -c %Y "$lock" 2>/dev/null || echo 0)"
fi
${portCheck(paths.ports)}exit 0
`;
}

/** The paths the install makes whose absence the check reports, by name, with the check's variable holding each. */
export const ABSENT_PATHS = [
  ['root', 'root'],
  ['staging', 'staging'],
  ['releases', 'releases'],
  ['release', 'release'],
  ['config', 'configdir'],
  ['state', 'statedir'],
  ['log', 'logdir'],
  ['link', 'link'],
  ['current', 'current'],
  ['bin', 'bin'],
  ['unit', 'unit'],
] as const;

export type AbsentName = (typeof ABSENT_PATHS)[number][0];

/** The facts that come in several lines; `absent` once per name. */
const MANY_TIMES = new Set(['tls', 'dir', 'port', 'absent']);

/**
 * Which wanted ports something listens on (TCP state 0A in /proc/net/tcp and tcp6, which
 * every user may read), and who: the socket's inode is looked up among the processes'
 * descriptors (all of them as root, the login's own otherwise). A listener is ours when
 * its process runs as the install's user a binary inside this install's releases (the
 * kernel's /proc/PID/exe, never its command line or working directory, which anyone may
 * choose): the runtime daemon and the core and agents it supervises.
 */
function portCheck(ports: readonly number[]): ShellScript {
  if (ports.length === 0) return sh``;
  const wanted = [...new Set(ports)].map((port) => `${port.toString(16).toUpperCase().padStart(4, '0')}:${port}`).join(' ');
  return sh`listening=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v want=${wanted} 'BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) { split(w[i], kv, ":"); m[kv[1]] = kv[2] } } $4 == "0A" { k = $2; sub(/.*:/, "", k); if (k in m) print m[k], $10 }')
if [ -n "$listening" ]; then
  releases_real=$(cd "$releases" 2>/dev/null && pwd -P || :)
  inodes=$(printf '%s\\n' "$listening" | awk '{ print $2 }' | tr '\\n' ' ')
  owners=$(ls -l /proc/[0-9]*/fd 2>/dev/null | awk -v inodes="$inodes" 'BEGIN { n = split(inodes, a, " "); for (i = 1; i <= n; i++) want["socket:[" a[i] "]"] = a[i] } /^\\/proc\\/[0-9]+\\/fd:$/ { pid = $0; sub(/^\\/proc\\//, "", pid); sub(/\\/fd:$/, "", pid); next } ($NF in want) { print want[$NF], pid }')
  printf '%s\\n' "$listening" | while read -r port inode; do
    pid=$(printf '%s\\n' "$owners" | awk -v i="$inode" '$1 == i { print $2; exit }')
    ours=0
    cmd=
    if [ -n "$pid" ]; then
      # Another user's command line is theirs to write: no control character of it reaches this output's lines.
      cmd=$(tr '\\000-\\037\\177' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-200)
      exe=$(readlink "/proc/$pid/exe" 2>/dev/null || :)
      if [ -n "$releases_real" ] && [ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = "$(id -u)" ]; then
        case $exe in "$releases_real"/*) ours=1 ;; esac
      fi
    fi
    out port "$port \${pid:--} $ours $cmd"
  done
fi
`;
}

export function parseHostCheck(stdout: string): HostCheck {
  const check: HostCheck = {
    home: '',
    uid: null,
    machine: '',
    pid1: '',
    systemdRunning: false,
    availableBytes: null,
    spacePath: '',
    stagedBundle: null,
    partialSize: null,
    release: { present: false, marker: null },
    configDigest: null,
    manifestText: null,
    tlsFiles: new Set(),
    current: null,
    currentExists: false,
    configLink: null,
    dirs: new Set(),
    unit: null,
    startScriptSha256: null,
    stopScriptSha256: null,
    daemon: null,
    absent: new Map(),
    busyPorts: [],
  };
  let bundleSize: number | null = null;
  let bundleVerified: string | null = null;
  let configDigest: string | null = null;
  let configMtime = 0;
  let unitSha: string | null = null;
  let unitEnabled = '';
  let daemonPid: number | null = null;
  let daemonExe = '';
  let releasesReal = '';
  let daemonSince: number | null = null;
  const absentNames = new Set<string>(ABSENT_PATHS.map(([name]) => name));
  const number = (value: string): number | null => (/^\d+$/.test(value) ? Number(value) : null);
  // A fact said once is said by the script, before any text a host's process could shape
  // (the ports' command lines come last): a later line never overrides it.
  const seen = new Set<string>();
  for (const line of stdout.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const key = line.slice(0, tab);
    const value = line.slice(tab + 1);
    const once = MANY_TIMES.has(key) ? (key === 'absent' ? `absent ${value.split(' ')[0]}` : null) : key;
    if (once !== null) {
      if (seen.has(once)) continue;
      seen.add(once);
    }
    switch (key) {
      case 'home':
        check.home = value;
        break;
      case 'uid':
        check.uid = number(value);
        break;
      case 'machine':
        check.machine = value;
        break;
      case 'pid1':
        check.pid1 = value;
        break;
      case 'systemd':
        check.systemdRunning = value === '1';
        break;
      case 'space_path':
        check.spacePath = value;
        break;
      case 'avail_kb': {
        const kb = number(value);
        check.availableBytes = kb === null ? null : kb * 1024;
        break;
      }
      case 'bundle_size':
        bundleSize = number(value);
        break;
      case 'bundle_verified':
        bundleVerified = value.trim() || null;
        break;
      case 'partial_size':
        check.partialSize = number(value);
        break;
      case 'release':
        check.release.present = true;
        break;
      case 'release_marker':
        check.release.marker = value.trim() || null;
        break;
      case 'manifest_b64':
        check.manifestText = Buffer.from(value.trim(), 'base64').toString('utf8');
        break;
      case 'config_digest':
        configDigest = value.trim();
        break;
      case 'config_mtime':
        configMtime = number(value) ?? 0;
        break;
      case 'tls':
        if (value === 'ca' || value === 'cert' || value === 'key') check.tlsFiles.add(value);
        break;
      case 'current':
        check.current = value;
        check.currentExists = true;
        break;
      case 'current_other':
        check.currentExists = true;
        break;
      case 'config_link':
        check.configLink = value;
        break;
      case 'dir':
        if (['config', 'state', 'log', 'staging', 'bin'].includes(value)) check.dirs.add(value as 'config');
        break;
      case 'unit_sha':
        unitSha = value;
        break;
      case 'unit_enabled':
        unitEnabled = value;
        break;
      case 'start_sha':
        check.startScriptSha256 = value || null;
        break;
      case 'stop_sha':
        check.stopScriptSha256 = value || null;
        break;
      case 'daemon_pid':
        daemonPid = number(value);
        break;
      case 'daemon_exe':
        daemonExe = value;
        break;
      case 'releases_real':
        releasesReal = value;
        break;
      case 'absent': {
        const space = value.indexOf(' ');
        const name = value.slice(0, space);
        if (space > 0 && absentNames.has(name)) check.absent.set(name as AbsentName, value.slice(space + 1));
        break;
      }
      case 'daemon_since':
        daemonSince = number(value);
        break;
      case 'port': {
        const match = /^(\d+) (\d+|-) ([01]) ?(.*)$/.exec(value);
        if (match && !check.busyPorts.some((p) => p.port === Number(match[1]) && p.pid === (match[2] === '-' ? null : Number(match[2])))) {
          check.busyPorts.push({
            port: Number(match[1]),
            pid: match[2] === '-' ? null : Number(match[2]),
            ours: match[3] === '1',
            command: match[4]!.trim(),
          });
        }
        break;
      }
    }
  }
  if (bundleSize !== null) check.stagedBundle = { size: bundleSize, verifiedSha256: bundleVerified };
  if (configDigest !== null) check.configDigest = { value: configDigest, mtime: configMtime };
  if (unitSha !== null) check.unit = { sha256: unitSha, enabled: unitEnabled };
  // The release is read from the kernel's path of the daemon's binary, never from its command line.
  const release = releaseOfExe(daemonExe, releasesReal);
  if (daemonPid !== null && release !== null) check.daemon = { pid: daemonPid, release, since: daemonSince };
  return check;
}
