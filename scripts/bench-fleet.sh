#!/usr/bin/env bash
# `npm run bench:fleet`: the control center's fleet metrics against a real Prometheus, in one
# run (tests/bench/fleet.bench.ts): BENCH_HOSTS test hosts (default 20) with SutazAI installed
# (the runtime, a core and 4 agents each) stream into a backend with links for BENCH_SECONDS
# (default 300) while Debian's `prometheus` scrapes the same runtimes' /metrics every second
# (with the shipped alert rules as PromQL, and `prometheus-node-exporter` for this machine, as
# ours samples it: like for like);
# then one host's interface is cut for BENCH_CUT_S (default 60) and the 1 s tier is checked
# for gaps and duplicates. Installs the Debian packages it needs when they are missing and it
# runs as root. Removes everything it made (lab, runtimes, Prometheus, temp dirs), on Ctrl-C
# too. Prints figures; exits 0 whatever they are.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/bench-prerequisites.sh
. scripts/lib/bench-prerequisites.sh

declare -A need_cmd=(
  [openssh-server]=/usr/sbin/sshd
  [dropbear-bin]=/usr/sbin/dropbear
  [busybox]=/usr/bin/busybox
  [sudo]=/usr/bin/sudo
  [iproute2]=/usr/sbin/ip
  [prometheus]=/usr/bin/prometheus
  [prometheus-node-exporter]=/usr/bin/prometheus-node-exporter
)
require_root_and_packages bench:fleet "the fleet benchmark"
require_tsx
# One process (no tsx CLI wrapper, which SIGKILLs a child that is slow to acknowledge a
# signal): the benchmark's own SIGINT/SIGTERM cleanup must run to its end.
exec node --import tsx tests/bench/fleet.bench.ts
