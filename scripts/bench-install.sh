#!/usr/bin/env bash
# `npm run bench:install`: our apply against `scp` over real sshd test hosts, in one run
# (tests/bench/install.bench.ts): upload of a ~100 MB bundle (ours vs scp to the same host and
# user, both timed from before the SSH login), re-apply of an unchanged install, a fresh
# install to 1 and to 10 hosts. Installs the
# Debian packages the test-host harness and scp need when they are missing and it runs as root.
# Removes everything it made (lab, runtimes, temp dirs), on Ctrl-C too. Prints figures; exits
# 0 whatever they are.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/bench-prerequisites.sh
. scripts/lib/bench-prerequisites.sh

declare -A need_cmd=(
  [openssh-server]=/usr/sbin/sshd
  [openssh-client]=/usr/bin/scp
  [dropbear-bin]=/usr/sbin/dropbear
  [busybox]=/usr/bin/busybox
  [sudo]=/usr/bin/sudo
  [iproute2]=/usr/sbin/ip
)
require_root_and_packages bench:install "the install benchmark"
require_tsx
# One process (no tsx CLI wrapper, which SIGKILLs a child that is slow to acknowledge a
# signal): the benchmark's own SIGINT/SIGTERM cleanup must run to its end.
exec node --import tsx tests/bench/install.bench.ts
