#!/usr/bin/env bash
# `npm run bench:probe`: our SSH probe against Ansible's fact gathering over 1, 10 and 50
# real sshd test hosts (tests/bench/probe.bench.ts). Installs the Debian packages it needs
# when they are missing and it runs as root: the test-host harness's (network namespaces,
# sshd, ...) and ansible-core, which carries `ansible` and its builtin `setup` module (the
# `ansible` package only adds some 250 MB of community collections that `-m setup` does not
# use; an installed `ansible` is used as it is). Prints figures; exits 0 whatever they are.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A need_cmd=(
  [openssh-server]=/usr/sbin/sshd
  [openssh-client]=/usr/bin/ssh
  [dropbear-bin]=/usr/sbin/dropbear
  [busybox]=/usr/bin/busybox
  [sudo]=/usr/bin/sudo
  [iproute2]=/usr/sbin/ip
  [ansible-core]=/usr/bin/ansible
  [python3]=/usr/bin/python3
)
missing=()
for pkg in "${!need_cmd[@]}"; do
  [ -x "${need_cmd[$pkg]}" ] || missing+=("$pkg")
done
if [ "$(id -u)" -ne 0 ]; then
  echo "error: the probe benchmark builds test hosts in network namespaces and needs root." >&2
  if ((${#missing[@]})); then
    echo "       Missing Debian packages: ${missing[*]}." >&2
    echo "Remedy: sudo apt-get install -y --no-install-recommends ${missing[*]} && sudo -E npm run bench:probe" >&2
  else
    echo "Remedy: sudo -E npm run bench:probe" >&2
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
exec node_modules/.bin/tsx tests/bench/probe.bench.ts
