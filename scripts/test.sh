#!/usr/bin/env bash
# `npm test`: everything, from a fresh Debian machine. Installs the Debian packages and
# npm dependencies the tests need, then type-checks, lints, builds and runs the unit,
# integration and end-to-end tests. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1

step() { printf '\n==> %s\n' "$*"; }

# Debian packages: the browser for end-to-end tests, and what the SSH test hosts run
# (OpenSSH and Dropbear servers in network namespaces, BusyBox as a login shell, sudo), and the
# C compiler and the static C libraries the runtime's native log collector is built with (musl
# where musl-tools is installed: agents-runtime/native/build-native.mjs says why).
declare -A need_cmd=(
  [gcc]=/usr/bin/gcc
  [libc6-dev]=/usr/include/stdio.h
  [musl-tools]=/usr/bin/musl-gcc
  [chromium]=/usr/bin/chromium
  [openssh-server]=/usr/sbin/sshd
  [openssh-client]=/usr/bin/ssh-keygen
  [dropbear-bin]=/usr/sbin/dropbear
  [busybox]=/usr/bin/busybox
  [sudo]=/usr/bin/sudo
  [iproute2]=/usr/sbin/ip
  [systemd]=/lib/systemd/systemd
  [prometheus]=/usr/bin/promtool
)
missing=()
for pkg in "${!need_cmd[@]}"; do
  [ -e "${need_cmd[$pkg]}" ] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  step "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages ${missing[*]} and not root. Remedy: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

step "npm dependencies"
node scripts/ensure-deps.mjs

step "generated code is up to date (gRPC types, API descriptor)"
node scripts/gen-proto.mjs --check

# The type check, the lint and the build read the sources and write nothing the others read
# (the build writes only dist/, which neither looks at), and none keeps both cores busy all the
# time: side by side (their output kept apart and printed in order) they took 102 s here against
# 117 s one after another, with the build cached; a fresh clone's uncached build gains more.
step "typecheck, lint (eslint, layering, electronegativity) and build, side by side"
checks_dir=$(mktemp -d)
trap 'rm -rf "$checks_dir"' EXIT
node scripts/typecheck.mjs >"$checks_dir/typecheck" 2>&1 & typecheck_pid=$!
node scripts/lint.mjs >"$checks_dir/lint" 2>&1 & lint_pid=$!
node scripts/build.mjs >"$checks_dir/build" 2>&1 & build_pid=$!
checks_failed=()
for check in typecheck lint build; do
  pid_var="${check}_pid"
  check_status=0
  wait "${!pid_var}" || check_status=$?
  step "$check"
  cat "$checks_dir/$check"
  [ "$check_status" -eq 0 ] || checks_failed+=("$check (exit $check_status)")
done
if [ "${#checks_failed[@]}" -gt 0 ]; then
  echo "failed: ${checks_failed[*]}" >&2
  exit 1
fi

step "tests: unit, integration, end-to-end"
mkdir -p artifacts
status=0
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json=artifacts/vitest-results.json || status=$?
node -e '
  const r = require("./artifacts/vitest-results.json");
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || true
exit "$status"
