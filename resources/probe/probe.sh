# SutazAI remote probe: learns a machine's hardware in one SSH exec channel.
#
# POSIX sh only: it runs under dash, bash and BusyBox ash, and needs nothing but sh,
# awk, cat, uname, id, date and df (all on a minimal Debian, Ubuntu, RHEL-family or
# Alpine host). Optional tools (lsblk, nvidia-smi, lspci, ip, ss,
# systemd-detect-virt, sudo, timeout, readlink, tr) are used only after `command -v`
# finds them; a missing one gives an `unknown` record with the reason, never a failed
# probe.
#
# How it is sent (electron/backend/probe/probe-script.ts): the exec command is
#   sh -c '<bootstrap>' sutazai-probe <install-path> [--sudo-stdin]
# and this text arrives on stdin. The bootstrap reads the sudo password as the first
# line of stdin when --sudo-stdin is given, then reads the rest (this script) and
# evals it. `sh -s` cannot carry the password: dash and BusyBox read the script ahead
# in blocks, so a line after the script is swallowed or run as a command.
#
# Output format, version 1 (read by electron/backend/probe/parse-probe-output.ts):
#   line 1        SUTAZAI-PROBE 1
#   then records  TYPE<TAB>FIELD<TAB>FIELD...   one per line, a fixed field count per TYPE
#   then          done
#   last line     END <n>      n = number of lines before this one, header included
# In every field, backslash, tab, newline and carriage return are written as
# \\ \t \n \r, so no value can break a line or a record. A missing `done` or END, or
# a count that does not match, means the output was cut short.
#
# Records (fields after the TYPE):
#   clock         epoch-seconds  nanoseconds|""  utc-offset(+hhmm)  zone-abbrev  zone-name|""
#   host          hostname
#   machine-id    id
#   os-release    KEY  raw-value                  (ID, ID_LIKE, NAME, VERSION_ID, ...)
#   uname         kernel-name  kernel-release  machine
#   cpuinfo       key  value                      (first processor block of /proc/cpuinfo)
#   cpu-count     threads|sockets|cores  n        (from /proc/cpuinfo)
#   cpu-topology  threads|sockets|cores  n        (from /sys/devices/system/cpu)
#   cpu-freq      max-khz  n
#   meminfo       key  kB                         (MemTotal, MemAvailable, SwapTotal)
#   virt-tool     container-result  vm-result     (systemd-detect-virt -c / -v)
#   virt-hint     key  value                      (dockerenv, containerenv, container-env,
#                                                  cgroup, sys-vendor, product-name,
#                                                  hypervisor-type, proc-vz, osrelease)
#   init          pid1-comm  run-systemd(0|1)  run-openrc(0|1)
#   lsblk         raw `lsblk -d -b -n -P -o NAME,SIZE,ROTA,TYPE,MODEL` line
#   sys-block     name  512-byte-sectors  rotational  model
#   fs            device  type  size-kB  used-kB  avail-kB  mount
#   install       requested-path  existing-path  writable(0|1)
#   install-fs    device  type  size-kB  used-kB  avail-kB  mount
#   nvidia-gpu    raw `nvidia-smi --query-gpu=index,name,memory.total,driver_version,pci.bus_id
#                 --format=csv,noheader,nounits` line
#   nvidia-header the `nvidia-smi` banner line naming the driver and CUDA version
#   pci-gpu       slot  class  vendor-id  device-id  driver  vram-bytes   (/sys/bus/pci)
#   lspci         raw `lspci -mm -nn -D` line of a display controller (class 03xx)
#   nic           name  mac  arphrd-type  operstate  speed-mbps
#   addr          interface  inet|inet6  address/prefix                 (ip -o addr)
#   inet6-raw     hex-address  hex-prefix  interface                    (/proc/net/if_inet6)
#   inet4-local   address                                              (/proc/net/fib_trie)
#   route4        interface  hex-destination  hex-mask                  (/proc/net/route)
#   listen-raw    4|6  hex-address:hex-port                             (/proc/net/tcp*, LISTEN)
#   ss-listen     local-address:port                                    (ss -ltn)
#   priv          root|sudo-nopasswd|sudo-password|none|unknown  uid  user  verified(1|0|"")
#   unknown       field  reason
#   fatal         reason                          (a core tool is missing: no facts)

set -u
LC_ALL=C
export LC_ALL

sp_T=$(printf '\t')
sp_R=$(printf '\r')
sp_N='
'
sp_install=${1:-/opt/sutazai}
sp_sudo_stdin=0
[ "${2:-}" = --sudo-stdin ] && sp_sudo_stdin=1

has() { command -v "$1" >/dev/null 2>&1; }

# esc VALUE: sets sp_e to VALUE with \ TAB LF CR escaped. Pure shell: no fork per value.
esc() {
  sp_in=$1
  case $sp_in in
  *\\* | *"$sp_T"* | *"$sp_N"* | *"$sp_R"*) ;;
  *) sp_e=$sp_in; return 0 ;;
  esac
  sp_e=
  while [ -n "$sp_in" ]; do
    sp_rest=${sp_in#?}
    sp_c=${sp_in%"$sp_rest"}
    sp_in=$sp_rest
    case $sp_c in
    \\) sp_e="$sp_e\\\\" ;;
    "$sp_T") sp_e="$sp_e\\t" ;;
    "$sp_N") sp_e="$sp_e\\n" ;;
    "$sp_R") sp_e="$sp_e\\r" ;;
    *) sp_e=$sp_e$sp_c ;;
    esac
  done
}

# rec TYPE FIELD...: one record line.
rec() {
  sp_line=$1
  shift
  for sp_f in "$@"; do
    esc "$sp_f"
    sp_line=$sp_line$sp_T$sp_e
  done
  printf '%s\n' "$sp_line"
}

unknown() { rec unknown "$1" "$2"; }

# lines TYPE TEXT: one record per non-empty line of TEXT.
# (A pipe, not a here-document: bash before 5.1 writes those to $TMPDIR, which may
# be read-only.)
lines() {
  printf '%s\n' "$2" | while IFS= read -r sp_l; do
    [ -n "$sp_l" ] && rec "$1" "$sp_l"
  done
}

# first FILE: sets sp_v to the first line of FILE, or empty.
first() {
  sp_v=
  [ -r "$1" ] || return 1
  { IFS= read -r sp_v <"$1"; } 2>/dev/null
  [ -n "$sp_v" ]
}

# An awk function that escapes a field the same way as esc.
SP_AWK_ESC='function esc(s,  o, i, c) {
  if (!index(s, "\\") && !index(s, "\t") && !index(s, "\r") && !index(s, "\n")) return s
  o = ""
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c == "\\") o = o "\\\\"; else if (c == "\t") o = o "\\t"
    else if (c == "\r") o = o "\\r"; else if (c == "\n") o = o "\\n"; else o = o c
  }
  return o
}'

# Commands that can hang (a wedged GPU, a stale NFS mount, sudo resolving the host
# name) run under timeout when the host has it; BusyBox before 1.30 spells it -t.
# (Tried on `id`, which the probe needs anyway: `true` may exist only as a builtin.)
sp_to=
if has timeout; then
  if timeout 5 id -u >/dev/null 2>&1; then
    sp_to=timeout
  elif timeout -t 5 id -u >/dev/null 2>&1; then
    sp_to='timeout -t'
  fi
fi
# timeout's own exit statuses: 124 (coreutils), 143 or 137 (killed; BusyBox).
timed_out() { [ "$1" -eq 124 ] || [ "$1" -eq 137 ] || [ "$1" -eq 143 ]; }
bounded() {
  sp_s=$1
  shift
  if [ -n "$sp_to" ]; then $sp_to "$sp_s" "$@"; else "$@"; fi
}

# The clock is read last, just before `done`: the app compares it with its own clock
# when the output has arrived, so nothing but the end of the output lies between the two.
probe_clock() {
  sp_clock=$(date '+%s %N %z %Z' 2>/dev/null) || sp_clock=
  # shellcheck disable=SC2086 # split "s ns offset abbrev" into fields
  set -- $sp_clock
  if [ $# -lt 3 ]; then
    unknown clock 'date printed nothing usable'
    return
  fi
  sp_ns=$2
  case $sp_ns in *[!0-9]* | '') sp_ns= ;; esac # BusyBox date has no %N
  sp_zone=${TZ:-}
  sp_zone=${sp_zone#:}
  if [ -z "$sp_zone" ] && first /etc/timezone; then sp_zone=$sp_v; fi
  if [ -z "$sp_zone" ] && [ -L /etc/localtime ] && has readlink; then
    sp_zone=$(readlink /etc/localtime 2>/dev/null) || sp_zone=
    case $sp_zone in *zoneinfo/*) sp_zone=${sp_zone#*zoneinfo/} ;; *) sp_zone= ;; esac
  fi
  rec clock "$1" "$sp_ns" "$3" "${4:-}" "$sp_zone"
}

probe_system() {
  if first /proc/sys/kernel/hostname; then rec host "$sp_v"; else rec host "$(uname -n 2>/dev/null)"; fi

  if first /etc/machine-id; then
    rec machine-id "$sp_v"
  elif first /var/lib/dbus/machine-id; then
    rec machine-id "$sp_v"
  else
    unknown machineId 'no /etc/machine-id or /var/lib/dbus/machine-id (systemd or D-Bus writes one)'
  fi

  sp_osr=
  for sp_f in /etc/os-release /usr/lib/os-release; do
    if [ -r "$sp_f" ]; then sp_osr=$sp_f; break; fi
  done
  if [ -n "$sp_osr" ]; then
    while IFS= read -r sp_l || [ -n "$sp_l" ]; do
      case $sp_l in
      ID=* | ID_LIKE=* | NAME=* | PRETTY_NAME=* | VERSION_ID=* | VERSION_CODENAME=* | VERSION=*)
        rec os-release "${sp_l%%=*}" "${sp_l#*=}"
        ;;
      esac
    done 2>/dev/null <"$sp_osr"
  else
    unknown os.distro 'no /etc/os-release or /usr/lib/os-release'
  fi

  sp_u=$(uname -s -r -m 2>/dev/null) || sp_u=
  sp_s=${sp_u%% *}
  sp_u=${sp_u#* }
  rec uname "$sp_s" "${sp_u%% *}" "${sp_u#* }"
}

probe_cpu() {
  if [ -r /proc/cpuinfo ]; then
    awk -v T="$sp_T" "$SP_AWK_ESC"'
      BEGIN {
        # The keys that name the CPU on x86, ARM, POWER, s390x and RISC-V.
        n = split("model name|vendor_id|vendor|cpu MHz|flags|Features|CPU implementer|CPU part|CPU architecture|Hardware|cpu model|cpu|uarch|isa|machine", w, "|")
        for (j = 1; j <= n; j++) want[w[j]] = 1
      }
      {
        i = index($0, ":"); if (i == 0) { if ($0 == "") block++; next }
        k = substr($0, 1, i - 1); sub(/[ \t]+$/, "", k)
        v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
      }
      k == "processor" { threads++ }
      k == "physical id" { pkg = v; if (!(v in pkgs)) { pkgs[v] = 1; sockets++ } }
      k == "core id" { c = pkg "/" v; if (!(c in cores)) { cores[c] = 1; ncores++ } }
      block == 0 && !(k in seen) && k in want {
        seen[k] = 1; print "cpuinfo" T esc(k) T esc(v)
      }
      END {
        print "cpu-count" T "threads" T (threads + 0)
        print "cpu-count" T "sockets" T (sockets + 0)
        print "cpu-count" T "cores" T (ncores + 0)
      }' /proc/cpuinfo 2>/dev/null
  else
    unknown cpu 'no /proc/cpuinfo'
  fi
  # Topology from sysfs: the only source on ARM, where /proc/cpuinfo has no physical id.
  set -- /sys/devices/system/cpu/cpu[0-9]*/topology/physical_package_id
  if [ -r "$1" ]; then
    awk -v T="$sp_T" '
      { n = split(FILENAME, p, "/"); cpu = p[n - 2] }
      p[n] == "physical_package_id" { pkg[cpu] = $1; if (!($1 in pkgs)) { pkgs[$1] = 1; sockets++ } threads++ }
      p[n] == "core_id" { c = pkg[cpu] "/" $1; if (!(c in cores)) { cores[c] = 1; ncores++ } }
      END {
        print "cpu-topology" T "threads" T (threads + 0)
        print "cpu-topology" T "sockets" T (sockets + 0)
        print "cpu-topology" T "cores" T (ncores + 0)
      }' "$@" /sys/devices/system/cpu/cpu[0-9]*/topology/core_id 2>/dev/null
  fi
  if first /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq; then rec cpu-freq max-khz "$sp_v"; fi
}

probe_memory() {
  if [ -r /proc/meminfo ]; then
    awk -v T="$sp_T" '$1 == "MemTotal:" || $1 == "MemAvailable:" || $1 == "SwapTotal:" {
      k = $1; sub(/:$/, "", k); print "meminfo" T k T $2 }' /proc/meminfo 2>/dev/null
  else
    unknown memory 'no /proc/meminfo'
  fi
}

probe_virt_init() {
  if has systemd-detect-virt; then
    sp_c=$(bounded 10 systemd-detect-virt -c </dev/null 2>/dev/null) || :
    sp_m=$(bounded 10 systemd-detect-virt -v </dev/null 2>/dev/null) || :
    rec virt-tool "${sp_c:-none}" "${sp_m:-none}"
  else
    # The same evidence systemd-detect-virt weighs; parse-probe-output.ts decides.
    [ -e /.dockerenv ] && rec virt-hint dockerenv 1
    [ -e /run/.containerenv ] && rec virt-hint containerenv 1
    if [ -r /proc/1/environ ] && has tr; then
      # NUL-separated; BusyBox awk cannot split on NUL, tr can.
      sp_c=$(tr '\0' '\n' 2>/dev/null </proc/1/environ | awk '/^container=/ { sub(/^container=/, ""); print; exit }') || sp_c=
      [ -n "$sp_c" ] && rec virt-hint container-env "$sp_c"
    fi
    if first /run/systemd/container; then rec virt-hint container-env "$sp_v"; fi
    if [ -r /proc/1/cgroup ]; then
      sp_c=$(awk '/docker|kubepods|lxc|libpod|containerd/ { print; exit }' /proc/1/cgroup 2>/dev/null) || sp_c=
      [ -n "$sp_c" ] && rec virt-hint cgroup "$sp_c"
    fi
    if first /sys/class/dmi/id/sys_vendor; then rec virt-hint sys-vendor "$sp_v"; fi
    if first /sys/class/dmi/id/product_name; then rec virt-hint product-name "$sp_v"; fi
    if first /sys/hypervisor/type; then rec virt-hint hypervisor-type "$sp_v"; fi
    [ -d /proc/vz ] && [ ! -d /proc/bc ] && rec virt-hint proc-vz 1
    if first /proc/sys/kernel/osrelease; then rec virt-hint osrelease "$sp_v"; fi
    unknown virtualization.tool 'systemd-detect-virt not installed; judged from /proc, /sys and the CPU flags'
  fi

  first /proc/1/comm || :
  sp_c=$sp_v
  sp_s=0
  sp_m=0
  [ -d /run/systemd/system ] && sp_s=1
  [ -d /run/openrc ] && sp_m=1
  rec init "$sp_c" "$sp_s" "$sp_m"
}

# Every block device is sent, loops and device-mapper included: which are not disks is
# decided by one list the control center shares with the runtime (linux/block-devices.ts).
probe_disks() {
  sp_note=
  if has lsblk; then
    sp_out=$(bounded 10 lsblk -d -b -n -P -o NAME,SIZE,ROTA,TYPE,MODEL </dev/null 2>/dev/null) || sp_out=
    if [ -n "$sp_out" ]; then
      lines lsblk "$sp_out"
      return
    fi
    sp_note='lsblk printed no disks; disks read from /sys/block'
  else
    sp_note='lsblk not installed; disks read from /sys/block'
  fi
  if [ ! -d /sys/block ]; then
    unknown disks 'lsblk gave nothing and there is no /sys/block'
    return
  fi
  for sp_d in /sys/block/*; do
    first "$sp_d/size" || continue
    sp_s=$sp_v
    first "$sp_d/queue/rotational" || :
    sp_r=$sp_v
    first "$sp_d/device/model" || :
    rec sys-block "${sp_d##*/}" "$sp_s" "$sp_r" "$sp_v"
  done
  unknown disks.model "$sp_note"
}

# df_records TYPE [PATH]: df -P -k lines joined with the types from /proc/mounts.
df_records() {
  sp_type=$1
  shift
  sp_mounts=/proc/mounts
  [ -r "$sp_mounts" ] || sp_mounts=/dev/null
  { bounded 15 df -P -k "$@" </dev/null 2>/dev/null; echo "rc=$?"; } | awk -v T="$sp_T" -v R="$sp_type" -v M="$sp_mounts" "$SP_AWK_ESC"'
    FILENAME == M {
      m = $2; gsub(/\\040/, " ", m); gsub(/\\011/, "\t", m); gsub(/\\012/, "\n", m); gsub(/\\134/, "\\", m)
      type[m] = $3; next
    }
    /^rc=[0-9]+$/ { rc = substr($0, 4); next }
    FNR == 1 { next }
    NF >= 6 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ {
      m = $0
      for (i = 1; i <= 5; i++) sub(/^[ \t]*[^ \t]+[ \t]+/, "", m)
      t = (m in type) ? type[m] : ""
      print R T esc($1) T esc(t) T $2 T $3 T $4 T esc(m); n++
    }
    END { if (n == 0) print "unknown" T (R == "fs" ? "filesystems" : "installPath") T "df printed nothing usable (exit status " rc ")" }
  ' "$sp_mounts" - 2>/dev/null
}

probe_filesystems() {
  df_records fs
  # The install path's own filesystem: the deepest part of the path that exists.
  sp_p=$sp_install
  case $sp_p in /*) ;; *) sp_p=${PWD:-/}/$sp_p ;; esac
  while [ ! -e "$sp_p" ]; do
    sp_p=${sp_p%/*}
    [ -n "$sp_p" ] || sp_p=/
  done
  sp_w=0
  [ -w "$sp_p" ] && sp_w=1
  rec install "$sp_install" "$sp_p" "$sp_w"
  df_records install-fs "$sp_p"
}

probe_gpus() {
  if has nvidia-smi; then
    sp_out=$(bounded 20 nvidia-smi --query-gpu=index,name,memory.total,driver_version,pci.bus_id --format=csv,noheader,nounits </dev/null 2>&1)
    sp_rc=$?
    if [ $sp_rc -eq 0 ]; then
      lines nvidia-gpu "$sp_out"
      sp_out=$(bounded 20 nvidia-smi </dev/null 2>/dev/null) || :
      printf '%s\n' "$sp_out" | while IFS= read -r sp_l; do
        case $sp_l in *'CUDA Version'* | *'Driver Version'*) rec nvidia-header "$sp_l"; break ;; esac
      done
    else
      timed_out $sp_rc && sp_out="no answer within 20 s"
      unknown gpus.nvidia "nvidia-smi failed (exit status $sp_rc): ${sp_out%%"$sp_N"*}"
    fi
  else
    unknown gpus.nvidia 'nvidia-smi not installed'
  fi

  if [ -d /sys/bus/pci/devices ]; then
    for sp_d in /sys/bus/pci/devices/*; do
      first "$sp_d/class" || continue
      case $sp_v in 0x03*) ;; *) continue ;; esac
      sp_c=$sp_v
      first "$sp_d/vendor" || :
      sp_ven=$sp_v
      first "$sp_d/device" || :
      sp_dev=$sp_v
      sp_drv=
      [ -e "$sp_d/driver" ] && sp_drv=$(cd -P "$sp_d/driver" 2>/dev/null && pwd) && sp_drv=${sp_drv##*/}
      first "$sp_d/mem_info_vram_total" || :
      rec pci-gpu "${sp_d##*/}" "$sp_c" "$sp_ven" "$sp_dev" "$sp_drv" "$sp_v"
    done
  else
    unknown gpus.pci 'no /sys/bus/pci on this host'
  fi

  if has lspci; then
    if sp_out=$(bounded 10 lspci -mm -nn -D </dev/null 2>/dev/null); then
      printf '%s\n' "$sp_out" | while IFS= read -r sp_l; do
        case $sp_l in *'[03'[0-9a-fA-F][0-9a-fA-F]']"'*) rec lspci "$sp_l" ;; esac
      done
    else
      unknown gpus.model 'lspci does not take -mm -nn -D (BusyBox lspci?); GPUs named by PCI id only'
    fi
  else
    unknown gpus.model 'lspci not installed; GPUs named by PCI id only'
  fi
}

probe_network() {
  if [ -d /sys/class/net ]; then
    for sp_d in /sys/class/net/*; do
      [ -e "$sp_d" ] || continue
      first "$sp_d/address" || :
      sp_mac=$sp_v
      first "$sp_d/type" || :
      sp_t=$sp_v
      first "$sp_d/operstate" || :
      sp_s=$sp_v
      first "$sp_d/speed" || :
      rec nic "${sp_d##*/}" "$sp_mac" "$sp_t" "$sp_s" "$sp_v"
    done
  else
    unknown network 'no /sys/class/net'
  fi

  sp_out=
  if has ip; then sp_out=$(bounded 10 ip -o addr show </dev/null 2>/dev/null) || sp_out=; fi
  if [ -n "$sp_out" ]; then
    printf '%s\n' "$sp_out" | awk -v T="$sp_T" "$SP_AWK_ESC"'
      ($3 == "inet" || $3 == "inet6") { n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print "addr" T esc(n) T $3 T esc($4) }'
    return
  fi
  # Without ip: IPv6 from /proc/net/if_inet6, IPv4 from the kernel's local routing table.
  if [ -r /proc/net/if_inet6 ]; then
    awk -v T="$sp_T" 'NF >= 6 { print "inet6-raw" T $1 T $3 T $6 }' /proc/net/if_inet6 2>/dev/null
  fi
  if [ -r /proc/net/fib_trie ]; then
    awk -v T="$sp_T" '/\|--/ { a = $2 } /\/32 host LOCAL/ { if (!(a in seen)) { seen[a] = 1; print "inet4-local" T a } }' /proc/net/fib_trie 2>/dev/null
    awk -v T="$sp_T" 'NR > 1 && NF >= 8 { print "route4" T $1 T $2 T $8 }' /proc/net/route 2>/dev/null
  fi
  if has ip; then
    unknown network.addresses 'ip printed no addresses; addresses read from /proc/net'
  else
    unknown network.addresses 'ip not installed; addresses read from /proc/net'
  fi
}

probe_listening() {
  sp_n=0
  for sp_f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$sp_f" ] || continue
    sp_n=$((sp_n + 1))
    sp_fam=4
    [ "$sp_f" = /proc/net/tcp6 ] && sp_fam=6
    awk -v T="$sp_T" -v F="$sp_fam" '$4 == "0A" { print "listen-raw" T F T $2 }' "$sp_f" 2>/dev/null
  done
  [ $sp_n -gt 0 ] && return
  if has ss; then
    sp_out=$(bounded 10 ss -ltn </dev/null 2>/dev/null) || sp_out=
    if [ -n "$sp_out" ]; then
      printf '%s\n' "$sp_out" | awk -v T="$sp_T" "$SP_AWK_ESC"'$1 == "LISTEN" { print "ss-listen" T esc($4) }'
      return
    fi
  fi
  unknown listeningPorts 'no /proc/net/tcp and ss gave nothing'
}

probe_privilege() {
  sp_uid=$(id -u 2>/dev/null) || sp_uid=
  sp_user=$(id -un 2>/dev/null) || sp_user=
  sp_pw=${sutazai_pw-}
  unset sutazai_pw
  sp_ver=
  # Why the level is unknown: one `unknown privilege` record at the end.
  sp_why=
  if [ "$sp_uid" = 0 ]; then
    sp_lvl=root
  elif ! has sudo; then
    sp_lvl=none
    unknown privilege.sudo 'sudo not installed'
  else
    # -n everywhere: a check that needs a terminal fails at once instead of waiting.
    sp_out=$(bounded 10 sudo -n true </dev/null 2>&1)
    sp_rc=$?
    if [ $sp_rc -eq 0 ]; then
      sp_lvl=sudo-nopasswd
    elif timed_out $sp_rc; then
      sp_lvl=unknown
      sp_why='sudo gave no answer within 10 s'
    else
      case $sp_out in
      *tty* | *terminal*)
        sp_lvl=unknown
        sp_why='sudo insists on a terminal (Defaults requiretty)'
        ;;
      *)
        # `sudo -n true` and `sudo -n -l` say "a password is required" to every user,
        # allowed or not. `sudo -n -v` asks the policy first: a login with no sudo rule
        # hears "may not run sudo" at once, one with rules that want a password hears
        # "a password is required".
        sp_out=$(bounded 10 sudo -n -v </dev/null 2>&1)
        sp_rc=$?
        case $sp_out in
        *'may not run sudo'* | *'not allowed'* | *'not in the sudoers'*) sp_lvl=none ;;
        *'password is required'*) sp_lvl=sudo-password ;;
        *)
          sp_lvl=unknown
          if timed_out $sp_rc; then
            sp_why='sudo gave no answer within 10 s'
          else
            sp_why="sudo -n -v said: ${sp_out%%"$sp_N"*}"
          fi
          ;;
        esac
        ;;
      esac
    fi
  fi
  if [ "$sp_lvl" = sudo-password ] && [ $sp_sudo_stdin -eq 1 ]; then
    # The password reaches sudo through a pipe from the printf builtin: never argv,
    # environment, a file or this output. sudo's own messages never contain it.
    sp_out=$({ printf '%s\n' "$sp_pw" | bounded 15 sudo -S -p '' -v >/dev/null; } 2>&1)
    sp_rc=$?
    # The check must not leave a cached credential that the next probe would take
    # for passwordless sudo.
    sudo -k >/dev/null 2>&1 </dev/null
    if [ $sp_rc -eq 0 ]; then
      sp_ver=1
    elif timed_out $sp_rc; then
      unknown privilege.password 'sudo gave no answer to the password within 15 s'
    else
      case $sp_out in
      *'may not run sudo'* | *'not in the sudoers'* | *'not allowed'*) sp_lvl=none ;;
      *) sp_ver=0 ;;
      esac
    fi
  fi
  [ "$sp_lvl" = unknown ] && [ -n "$sp_why" ] && unknown privilege "$sp_why"
  sp_pw=
  unset sp_pw
  rec priv "$sp_lvl" "$sp_uid" "$sp_user" "$sp_ver"
}

probe_main() {
  printf 'SUTAZAI-PROBE 1\n'
  probe_system
  probe_cpu
  probe_memory
  probe_virt_init
  probe_disks
  probe_filesystems
  probe_gpus
  probe_network
  probe_listening
  probe_privilege
  probe_clock
  printf 'done\n'
}

if ! has awk; then
  printf 'SUTAZAI-PROBE 1\n'
  rec fatal "awk not found in PATH (${PATH-})"
  printf 'END 2\n'
  exit 3
fi
# The trailer counts what went through, so a cut anywhere shows.
probe_main "$@" | awk '{ print; n++ } END { print "END " n }'
