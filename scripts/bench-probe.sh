#!/usr/bin/env bash
# `npm run bench:probe`: our SSH probe against Ansible's fact gathering over 1, 10 and 50
# real sshd test hosts (tests/bench/probe.bench.ts), ours as fresh `sutazai hosts probe`
# processes like Ansible's, and inside a warm process as a second line. Installs the Debian
# packages it needs when they are missing and it runs as root: the test-host harness's
# (network namespaces, sshd, ...) and ansible-core, which carries `ansible` and its builtin
# `setup` module (the `ansible` package only adds some 250 MB of community collections that
# `-m setup` does not use; an installed `ansible` is used as it is). Prints figures; exits 0
# whatever they are.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/bench-prerequisites.sh
. scripts/lib/bench-prerequisites.sh

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
require_root_and_packages bench:probe "the probe benchmark"
require_tsx
exec node_modules/.bin/tsx tests/bench/probe.bench.ts
