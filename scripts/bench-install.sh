#!/usr/bin/env bash
# `npm run bench:install`: our apply against `scp` over real sshd test hosts, in one run
# (tests/bench/install.bench.ts): upload of a ~100 MB bundle (ours vs scp to the same host and
# user), re-apply of an unchanged install, a fresh install to 1 and to 10 hosts. Installs the
# Debian packages the test-host harness and scp need when they are missing and it runs as root.
# Removes everything it made (lab, runtimes, temp dirs), on Ctrl-C too. Prints figures; exits
# 0 whatever they are.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A need_cmd=(
  [openssh-server]=/usr/sbin/sshd
  [openssh-client]=/usr/bin/scp
  [dropbear-bin]=/usr/sbin/dropbear
  [busybox]=/usr/bin/busybox
  [sudo]=/usr/bin/sudo
  [iproute2]=/usr/sbin/ip
)
missing=()
for pkg in "${!need_cmd[@]}"; do
  [ -x "${need_cmd[$pkg]}" ] || missing+=("$pkg")
done
if [ "$(id -u)" -ne 0 ]; then
  echo "error: the install benchmark builds test hosts in network namespaces and needs root." >&2
  if ((${#missing[@]})); then
    echo "       Missing Debian packages: ${missing[*]}." >&2
    echo "Remedy: sudo apt-get install -y --no-install-recommends ${missing[*]} && sudo -E npm run bench:install" >&2
  else
    echo "Remedy: sudo -E npm run bench:install" >&2
  fi
  exit 1
fi
if ((${#missing[@]})); then
  echo "==> installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x node_modules/.bin/tsx ]; then
  echo "error: node_modules/.bin/tsx is missing. Remedy: npm ci (or npm test, which installs the dependencies)" >&2
  exit 1
fi
# One process (no tsx CLI wrapper, which SIGKILLs a child that is slow to acknowledge a
# signal): the benchmark's own SIGINT/SIGTERM cleanup must run to its end.
exec node --import tsx tests/bench/install.bench.ts
